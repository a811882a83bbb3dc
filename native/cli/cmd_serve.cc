// `isoscope serve --config C`: the exporter daemon. The clock, the threads and the signals live
// here; the scoring cycle is Daemon (daemon.h), the port is HttpServer (http_server.h).
//
// Threads: main waits for signals (SIGTERM/SIGINT stop, SIGHUP reloads); a reload thread polls
// the bundle store every second (and on SIGHUP) and prepares new models; a cycle thread
// switches to them and runs the detectors' cycles when due; httplib serves.
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <future>
#include <map>
#include <mutex>
#include <thread>

#include "commands.h"
#include "config.h"
#include "daemon.h"
#include "file_io.h"
#include "http_server.h"
#include "incidents.h"
#include "isoscope/text.h"
#include "isoscope/version.h"
#include "logfmt.h"
#include "metrics.h"
#include "prom_client.h"
#include "prom_config.h"
#include "replay_source.h"
#include "time_parse.h"
#include "web_config.h"

namespace isoscope::native {
namespace {

constexpr TimeMs kReloadPollMs = 1000;
constexpr auto kShutdownBudget = std::chrono::milliseconds(4500);
constexpr auto kMinForcedReloadGap = std::chrono::seconds(1);

PromClientOptions ServeClientOptions(const PrometheusConfig& p) {
  PromClientOptions o = ClientOptionsFor(p);
  // The next interval is the retry: one quick extra attempt for a blip, no long backoff.
  o.retries = 1;
  o.backoff_ms = 200;
  return o;
}

std::string ListNames(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

bool IsDirectory(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// The what-if page built next to the binary (build/native/isoscope -> build/panel/dist) or
// installed beside it (bin/isoscope -> share/isoscope/ui); empty if neither exists.
std::string DefaultUiDir() {
  char buf[4096];
  const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  if (n <= 0) return "";
  std::string exe(buf, static_cast<size_t>(n));
  const std::string dir = exe.substr(0, exe.rfind('/'));
  for (const std::string& candidate : {dir + "/../panel/dist", dir + "/../share/isoscope/ui"}) {
    if (IsDirectory(candidate)) return candidate;
  }
  return "";
}

// The what-if page's history from --replay-csv: the instant query the daemon would have made
// at each step, so the page sees exactly what the daemon scored.
Result<JoinedRows> ReplayHistory(const ReplaySource& replay,
                                 const std::map<std::string, std::string>& column_of,
                                 const DetectorConfig& det, TimeMs start, TimeMs end) {
  std::vector<std::pair<std::string, std::vector<PromSeries>>> per_query;
  for (const auto& [name, promql] : det.queries) {
    std::map<std::map<std::string, std::string>, PromSeries> by_labels;
    for (TimeMs t = start; t <= end; t += det.step_ms) {
      auto samples = replay.Query(column_of.at(promql), t);
      if (!samples.ok()) continue;  // outside the recorded history: no sample, as a gap
      for (const PromSample& s : *samples) {
        PromSeries& series = by_labels[s.labels];
        series.labels = s.labels;
        series.times.push_back(t);
        series.values.push_back(s.value);
      }
    }
    std::vector<PromSeries> list;
    for (auto& [labels, series] : by_labels) list.push_back(std::move(series));
    per_query.emplace_back(name, std::move(list));
  }
  return JoinByGroup(per_query, det.group_by);
}

}  // namespace

int RunServe(const ServeArgs& args) {
  Logger log;
  auto config = LoadConfig(args.config);
  if (!config.ok()) {
    std::fprintf(stderr, "isoscope serve: %s\n", config.status().message().c_str());
    return ExitCodeFor(config.status());
  }
  if (!args.shard.empty()) {
    auto shard = ParseShard(args.shard);
    if (!shard.ok()) {
      std::fprintf(stderr, "isoscope serve: --shard: %s\n", shard.status().message().c_str());
      return kExitUsage;
    }
    config->shard = *shard;
    const std::string clash = ShardLabelClash(*config);
    if (!clash.empty()) {
      std::fprintf(stderr, "isoscope serve: --shard: %s\n", clash.c_str());
      return kExitUsage;
    }
  }
  ExporterWebConfig web;
  if (!args.web_config_file.empty()) {
    auto loaded = LoadWebConfig(args.web_config_file);
    if (!loaded.ok()) {
      std::fprintf(stderr, "isoscope serve: %s\n", loaded.status().message().c_str());
      return kExitUsage;
    }
    web = std::move(*loaded);
  }
  // The daemon's clock: the system clock, or one that starts at --start-time (or at the
  // replay's first row) and runs --replay-speed times as fast as the wall clock.
  const double speed = args.replay_speed;
  if (!(speed > 0) || !std::isfinite(speed) || speed > 1e6) {
    std::fprintf(stderr, "isoscope serve: --replay-speed must be a number in (0, 1000000]\n");
    return kExitUsage;
  }
  TimeMs start_ms = 0;
  bool custom_clock = false;
  if (!args.start_time.empty()) {
    auto t = ParseTime(args.start_time);
    if (!t) {
      std::fprintf(stderr, "isoscope serve: --start-time '%s': use epoch seconds or ISO 8601\n",
                   args.start_time.c_str());
      return kExitUsage;
    }
    start_ms = *t;
    custom_clock = true;
  }
  // --replay-csv: answer the instant queries from recorded history instead of Prometheus.
  std::shared_ptr<const ReplaySource> replay;
  std::map<std::string, std::string> replay_column;  // PromQL -> CSV column
  if (!args.replay_csv.empty()) {
    auto text = ReadFile(args.replay_csv);
    if (!text.ok()) {
      std::fprintf(stderr, "isoscope serve: %s\n", text.status().message().c_str());
      return ExitCodeFor(text.status());
    }
    std::vector<std::string> labels;  // every detector's group_by label is a label column
    for (const DetectorConfig& d : config->detectors) {
      for (const std::string& l : d.group_by) {
        if (std::find(labels.begin(), labels.end(), l) == labels.end()) labels.push_back(l);
      }
    }
    auto source = ReplaySource::FromCsv(*text, args.replay_csv, labels);
    if (!source.ok()) {
      std::fprintf(stderr, "isoscope serve: --replay-csv: %s\n", source.status().message().c_str());
      return ExitCodeFor(source.status());
    }
    // A query is answered by the column named like its PromQL text, else like the query.
    for (const DetectorConfig& d : config->detectors) {
      for (const auto& [name, promql] : d.queries) {
        const std::string column = source->HasColumn(promql) ? promql : name;
        if (!source->HasColumn(column)) {
          std::fprintf(stderr,
                       "isoscope serve: --replay-csv %s has no column '%s' for query %s of "
                       "detector %s; its columns: %s\n",
                       args.replay_csv.c_str(), name.c_str(), name.c_str(), d.name.c_str(),
                       ListNames(source->columns()).c_str());
          return kExitFailure;
        }
        auto [it, inserted] = replay_column.emplace(promql, column);
        if (!inserted && it->second != column) {
          std::fprintf(stderr,
                       "isoscope serve: --replay-csv: the PromQL '%s' is used for the queries "
                       "'%s' and '%s'; name the column like the PromQL text\n",
                       promql.c_str(), it->second.c_str(), column.c_str());
          return kExitFailure;
        }
      }
    }
    replay = std::make_shared<const ReplaySource>(std::move(*source));
    if (!custom_clock) {
      start_ms = replay->first_time();
      custom_clock = true;
    }
  }
  // Starts now, after the replay is loaded: its first interval is scored at start_ms exactly.
  const TimeMs wall0 = NowMs();
  if (!custom_clock) start_ms = wall0;
  auto now = [=] {
    return start_ms +
           static_cast<TimeMs>(std::llround(static_cast<double>(NowMs() - wall0) * speed));
  };
  const std::string listen =
      args.listen_address.empty() ? config->web.listen_address : args.listen_address;

  // Block the signals in every thread; main takes them with sigwait.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  QueryFunction query;
  RangeQueryFunction range_query;  // none for a replay: the daemon asks instant queries
  if (replay) {
    query = [replay, replay_column](const std::string& q, TimeMs t) {
      return replay->Query(replay_column.at(q), t);
    };
  } else {
    auto client = std::make_shared<PromClient>(ServeClientOptions(config->prometheus));
    if (!client->status().ok()) {
      std::fprintf(stderr, "isoscope serve: %s\n", client->status().message().c_str());
      return ExitCodeFor(client->status());
    }
    query = [client](const std::string& q, TimeMs t) { return client->Query(q, t); };
    range_query = [client](const std::string& q, TimeMs start, TimeMs end, TimeMs step) {
      return client->QueryRange(q, start, end, step);
    };
  }
  auto registry = std::make_shared<prometheus::Registry>();
  auto metrics = std::make_shared<ExporterMetrics>(registry);
  const std::string cors = config->web.cors_origin;
  HistoryFunction history;
  if (replay) {
    history = [replay, replay_column](const DetectorConfig& det, TimeMs start, TimeMs end) {
      return ReplayHistory(*replay, replay_column, det, start, end);
    };
  } else {
    const PromClientOptions options = ServeClientOptions(config->prometheus);
    history = [options](const DetectorConfig& det, TimeMs start, TimeMs end) -> Result<JoinedRows> {
      PromClient client(options);  // one per request: HTTP threads run in parallel
      std::vector<std::pair<std::string, std::vector<PromSeries>>> per_query;
      for (const auto& [name, promql] : det.queries) {
        auto series = client.QueryRange(promql, start, end, det.step_ms);
        if (!series.ok()) {
          return Status(series.status().code(), name + ": " + series.status().message());
        }
        per_query.emplace_back(name, std::move(series).value());
      }
      return JoinByGroup(per_query, det.group_by);
    };
  }
  // Temp files of an install killed mid-write (kill -9, power loss): nothing else removes them.
  for (const DetectorConfig& d : config->detectors) {
    const int removed = BundleStore(config->models_dir, d.name).RemoveOrphans();
    if (removed > 0) {
      log.Info("removed temp files of an interrupted install",
               {{"detector", d.name}, {"files", std::to_string(removed)}});
    }
  }
  Daemon daemon(std::move(*config), std::move(query), metrics, log);
  daemon.SetRangeQuery(std::move(range_query));

  if (web.auth() && !web.tls()) {
    log.Warn(
        "basic_auth_users without tls_server_config: passwords cross the network in clear "
        "text",
        {{"web_config", args.web_config_file}});
  }
  std::vector<IncidentWindow> incidents;
  if (!args.incidents.empty()) {
    auto read = ReadIncidents(args.incidents);
    if (!read.ok()) {
      std::fprintf(stderr, "isoscope serve: --incidents: %s\n", read.status().message().c_str());
      return ExitCodeFor(read.status());
    }
    incidents = std::move(*read);
  }
  HttpServer server(daemon, registry, cors, log, web);
  server.SetHistory(std::move(history), now, std::move(incidents));
  if (!args.web_config_file.empty()) server.WatchWebConfig(args.web_config_file);
  const std::string ui_dir = args.ui_dir.empty() ? DefaultUiDir() : args.ui_dir;
  if (!ui_dir.empty()) {
    Status ui = server.ServeUi(ui_dir);
    if (!ui.ok()) {
      std::fprintf(stderr, "isoscope serve: --web.ui-dir: %s\n", ui.message().c_str());
      return kExitUsage;
    }
  }
  auto port = server.Bind(listen);
  if (!port.ok()) {
    log.Error("cannot listen", {{"address", listen}, {"reason", port.status().message()}});
    return port.status().code() == ErrorCode::kInvalidArgument ? kExitUsage : kExitFailure;
  }
  const auto addr = ParseListenAddress(listen);
  std::string names;
  for (const DetectorConfig& d : daemon.config().detectors) {
    names += (names.empty() ? "" : ",") + d.name;
  }
  LogFields start = {{"version", kEngineVersion}, {"config", args.config}, {"detectors", names}};
  if (custom_clock) start.emplace_back("start_time", FormatTime(now()));
  if (speed != 1) start.emplace_back("speed", FormatShortest(speed));
  if (daemon.config().shard.configured) start.emplace_back("shard", daemon.config().shard.Label());
  log.Info("starting", start);
  if (replay) {
    log.Info("replaying history instead of querying Prometheus",
             {{"csv", args.replay_csv},
              {"rows", std::to_string(replay->rows())},
              {"groups", std::to_string(replay->groups())},
              {"from", FormatTime(replay->first_time())},
              {"to", FormatTime(replay->last_time())}});
  }

  if (ui_dir.empty()) {
    log.Info("no what-if page to serve at / (build it with make test, or pass --web.ui-dir)");
  } else {
    log.Info("serving the what-if page at /", {{"dir", ui_dir}});
  }
  std::thread http([&server] { server.Run(); });
  log.Info("listening on " + addr->first + ":" + std::to_string(*port),
           {{"address", addr->first + ":" + std::to_string(*port)},
            {"tls", web.tls() ? "true" : "false"},
            {"basic_auth", web.auth() ? "true" : "false"}});

  std::mutex mu;
  std::condition_variable cv;
  bool stop = false;
  bool reload = false;
  bool prepared = false;  // the reload thread has prepared models; the cycle thread switches
  // The first models load before the first cycle, so that a replay scores its first interval.
  daemon.PollReloads(true);
  // Reloads (reading, decoding, canary checks) run on their own thread: a large or odd bundle
  // never delays the cycles of the other detectors; the cycle thread only switches models.
  std::promise<void> reloads_done;
  auto reloads_done_future = reloads_done.get_future();
  std::thread reloads([&] {
    auto last_forced = std::chrono::steady_clock::now() - kMinForcedReloadGap;
    for (;;) {
      bool force = false;
      {
        std::unique_lock<std::mutex> lock(mu);
        // SIGHUPs coalesce: those that arrive while one is pending, or within
        // kMinForcedReloadGap of the last forced reload, make one reload together.
        const auto hup_due = [&] {
          return reload && std::chrono::steady_clock::now() - last_forced >= kMinForcedReloadGap;
        };
        cv.wait_for(lock, std::chrono::milliseconds(kReloadPollMs),
                    [&] { return stop || hup_due(); });
        if (stop) break;
        force = hup_due();
        if (force) {
          reload = false;
          last_forced = std::chrono::steady_clock::now();
        }
      }
      daemon.PrepareReloads(force);
      std::lock_guard<std::mutex> lock(mu);
      prepared = true;
      cv.notify_all();
    }
    reloads_done.set_value();
  });
  std::promise<void> cycles_done;
  auto cycles_done_future = cycles_done.get_future();
  std::thread cycles([&] {
    for (;;) {
      daemon.ApplyReloads();
      const TimeMs next_cycle = daemon.RunDue(now());
      std::unique_lock<std::mutex> lock(mu);
      // Waits are in wall time; the daemon's clock may run faster.
      const TimeMs wait = std::max<TimeMs>(
          0, static_cast<TimeMs>(std::ceil(static_cast<double>(next_cycle - now()) / speed)));
      cv.wait_for(lock, std::chrono::milliseconds(wait), [&] { return stop || prepared; });
      if (stop) break;
      prepared = false;
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
  if (cycles_done_future.wait_until(deadline) != std::future_status::ready ||
      reloads_done_future.wait_until(deadline) != std::future_status::ready) {
    log.Warn("a scoring cycle or a reload is still running; exiting without waiting for it");
    std::fflush(stderr);
    std::_Exit(kExitOk);
  }
  cycles.join();
  reloads.join();
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
