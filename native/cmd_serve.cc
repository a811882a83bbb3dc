// `isoscope serve --config C`: the exporter daemon. The clock, the threads and the signals live
// here; the scoring cycle is Daemon (daemon.h), the port is HttpServer (http_server.h).
//
// Threads: main waits for signals (SIGTERM/SIGINT stop, SIGHUP reloads); a cycle thread polls
// the bundle store every second and runs the detectors' cycles when due; httplib serves.
#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>

#include "commands.h"
#include "config.h"
#include "daemon.h"
#include "http_server.h"
#include "isoscope/version.h"
#include "logfmt.h"
#include "metrics.h"
#include "prom_client.h"
#include "time_parse.h"

namespace isoscope::native {
namespace {

constexpr TimeMs kReloadPollMs = 1000;
constexpr auto kShutdownBudget = std::chrono::milliseconds(4500);

PromClientOptions ServeClientOptions(const PrometheusConfig& p) {
  PromClientOptions o;
  o.url = p.url;
  o.timeout_ms = p.timeout_ms;
  o.auth.bearer_token = p.bearer_token;
  if (p.has_basic_auth) {
    o.auth.username = p.username;
    o.auth.password = p.password;
  }
  // The next interval is the retry: one quick extra attempt for a blip, no long backoff.
  o.retries = 1;
  o.backoff_ms = 200;
  return o;
}

}  // namespace

int RunServe(const ServeArgs& args) {
  Logger log;
  auto config = LoadConfig(args.config);
  if (!config.ok()) {
    std::fprintf(stderr, "isoscope serve: %s\n", config.status().message().c_str());
    return ExitCodeFor(config.status());
  }
  // The daemon's clock: the system clock, or one that starts at --start-time.
  TimeMs clock_offset = 0;
  if (!args.start_time.empty()) {
    auto t = ParseTime(args.start_time);
    if (!t) {
      std::fprintf(stderr, "isoscope serve: --start-time '%s': use epoch seconds or ISO 8601\n",
                   args.start_time.c_str());
      return kExitUsage;
    }
    clock_offset = *t - NowMs();
  }
  auto now = [clock_offset] { return NowMs() + clock_offset; };
  const std::string listen =
      args.listen_address.empty() ? config->web.listen_address : args.listen_address;

  // Block the signals in every thread; main takes them with sigwait.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto client = std::make_shared<PromClient>(ServeClientOptions(config->prometheus));
  if (!client->status().ok()) {
    std::fprintf(stderr, "isoscope serve: %s\n", client->status().message().c_str());
    return ExitCodeFor(client->status());
  }
  auto registry = std::make_shared<prometheus::Registry>();
  auto metrics = std::make_shared<ExporterMetrics>(registry);
  const std::string cors = config->web.cors_origin;
  Daemon daemon(
      std::move(*config), [client](const std::string& q, TimeMs t) { return client->Query(q, t); },
      metrics, log);

  HttpServer server(daemon, registry, cors, log);
  auto port = server.Bind(listen);
  if (!port.ok()) {
    log.Error("cannot listen", {{"address", listen}, {"reason", port.status().message()}});
    return kExitFailure;
  }
  const auto addr = ParseListenAddress(listen);
  std::string names;
  for (const DetectorConfig& d : daemon.config().detectors) {
    names += (names.empty() ? "" : ",") + d.name;
  }
  LogFields start = {{"version", kEngineVersion}, {"config", args.config}, {"detectors", names}};
  if (clock_offset != 0) start.emplace_back("start_time", FormatTime(now()));
  log.Info("starting", start);

  std::thread http([&server] { server.Run(); });
  log.Info("listening on " + addr->first + ":" + std::to_string(*port),
           {{"address", addr->first + ":" + std::to_string(*port)}});

  std::mutex mu;
  std::condition_variable cv;
  bool stop = false;
  bool reload = false;
  std::promise<void> cycles_done;
  auto cycles_done_future = cycles_done.get_future();
  std::thread cycles([&] {
    daemon.PollReloads(true);
    TimeMs next_poll = now() + kReloadPollMs;
    for (;;) {
      const TimeMs next_cycle = daemon.RunDue(now());
      bool force = false;
      {
        std::unique_lock<std::mutex> lock(mu);
        const TimeMs wake = std::min(next_cycle, next_poll);
        const TimeMs wait = std::max<TimeMs>(0, wake - now());
        cv.wait_for(lock, std::chrono::milliseconds(wait), [&] { return stop || reload; });
        if (stop) break;
        force = reload;
        reload = false;
      }
      if (force || now() >= next_poll) {
        daemon.PollReloads(force);
        next_poll = now() + kReloadPollMs;
      }
    }
    cycles_done.set_value();
  });

  for (;;) {
    int sig = 0;
    if (sigwait(&signals, &sig) != 0) continue;
    if (sig == SIGHUP) {
      log.Info("SIGHUP: reloading models");
      std::lock_guard<std::mutex> lock(mu);
      reload = true;
      cv.notify_all();
      continue;
    }
    log.Info("shutting down", {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
    break;
  }
  const auto deadline = std::chrono::steady_clock::now() + kShutdownBudget;
  {
    std::lock_guard<std::mutex> lock(mu);
    stop = true;
    cv.notify_all();
  }
  server.Stop();
  // A cycle may be waiting on Prometheus (up to its timeout): do not wait past the budget.
  if (cycles_done_future.wait_until(deadline) != std::future_status::ready) {
    log.Warn("a scoring cycle is still running; exiting without waiting for it");
    std::fflush(stderr);
    std::_Exit(kExitOk);
  }
  cycles.join();
  // Stop() may have raced with the server's start: repeat until it has returned.
  auto http_done = std::async(std::launch::async, [&http] { http.join(); });
  while (http_done.wait_for(std::chrono::milliseconds(100)) != std::future_status::ready) {
    if (std::chrono::steady_clock::now() > deadline) {
      std::_Exit(kExitOk);
    }
    server.Stop();
  }
  log.Info("stopped");
  return kExitOk;
}

}  // namespace isoscope::native
