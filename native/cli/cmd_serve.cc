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
#include <functional>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include "commands.h"
#include "config.h"
#include "daemon.h"
#include "file_io.h"
#include "http_server.h"
#include "incidents.h"
#include "isoscope/text.h"
#include "isoscope/version.h"
#include "listen_address.h"
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

// --replay-csv: the recorded history and the column that answers each query's PromQL.
struct ReplayInput {
  std::optional<ReplaySource> source;
  std::map<std::string, std::string> column;  // PromQL -> CSV column
};

Result<ReplayInput> LoadReplay(const ServeArgs& args, const Config& config) {
  ReplayInput in;
  auto text = ReadFile(args.replay_csv);
  if (!text.ok()) {
    return text.status();
  }
  std::vector<std::string> labels;  // every detector's group_by label is a label column
  for (const DetectorConfig& d : config.detectors) {
    for (const std::string& l : d.group_by) {
      if (std::find(labels.begin(), labels.end(), l) == labels.end()) labels.push_back(l);
    }
  }
  auto source = ReplaySource::FromCsv(*text, args.replay_csv, labels);
  if (!source.ok()) {
    return Status(source.status().code(), "--replay-csv: " + source.status().message());
  }
  // A query is answered by the column named like its PromQL text, else like the query.
  for (const DetectorConfig& d : config.detectors) {
    for (const auto& [name, promql] : d.queries) {
      const std::string column = source->HasColumn(promql) ? promql : name;
      if (!source->HasColumn(column)) {
        return Status(ErrorCode::kBadInput, "--replay-csv " + args.replay_csv + " has no column '" +
                                                name + "' for query " + name + " of detector " +
                                                d.name +
                                                "; its columns: " + ListNames(source->columns()));
      }
      auto [it, inserted] = in.column.emplace(promql, column);
      if (!inserted && it->second != column) {
        return Status(ErrorCode::kBadInput, "--replay-csv: the PromQL '" + promql +
                                                "' is used for the queries '" + it->second +
                                                "' and '" + column +
                                                "'; name the column like the PromQL text");
      }
    }
  }
  in.source = std::move(*source);
  return in;
}

// Where the daemon's instant queries, its range queries (none for a replay) and the what-if
// page's history come from: Prometheus, or the replay's recorded history.
struct Sources {
  QueryFunction query;
  RangeQueryFunction range_query;
  HistoryFunction history;
};

Result<Sources> MakeSources(const Config& config, std::shared_ptr<const ReplaySource> replay,
                            const std::map<std::string, std::string>& replay_column) {
  Sources out;
  if (replay) {
    out.query = [replay, replay_column](const std::string& q, TimeMs t) {
      return replay->Query(replay_column.at(q), t);
    };
  } else {
    auto client = std::make_shared<PromClient>(ServeClientOptions(config.prometheus));
    if (!client->status().ok()) {
      return client->status();
    }
    out.query = [client](const std::string& q, TimeMs t) { return client->Query(q, t); };
    out.range_query = [client](const std::string& q, TimeMs start, TimeMs end, TimeMs step) {
      return client->QueryRange(q, start, end, step);
    };
  }
  if (replay) {
    out.history = [replay, replay_column](const DetectorConfig& det, TimeMs start, TimeMs end) {
      return ReplayHistory(*replay, replay_column, det, start, end);
    };
  } else {
    const PromClientOptions options = ServeClientOptions(config.prometheus);
    out.history = [options](const DetectorConfig& det, TimeMs start,
                            TimeMs end) -> Result<JoinedRows> {
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
  return out;
}

// What the signal loop, the reload thread and the cycle thread share.
struct LoopState {
  std::mutex mu;
  std::condition_variable cv;
  bool stop = false;
  bool reload = false;
  bool prepared = false;  // the reload thread has prepared models; the cycle thread switches
};

// Reloads (reading, decoding, canary checks) run on their own thread: a large or odd bundle
// never delays the cycles of the other detectors; the cycle thread only switches models.
void ReloadModels(Daemon& daemon, LoopState* loop, std::promise<void>* done) {
  auto last_forced = std::chrono::steady_clock::now() - kMinForcedReloadGap;
  for (;;) {
    bool force = false;
    {
      std::unique_lock<std::mutex> lock(loop->mu);
      // SIGHUPs coalesce: those that arrive while one is pending, or within
      // kMinForcedReloadGap of the last forced reload, make one reload together.
      const auto hup_due = [&] {
        return loop->reload &&
               std::chrono::steady_clock::now() - last_forced >= kMinForcedReloadGap;
      };
      loop->cv.wait_for(lock, std::chrono::milliseconds(kReloadPollMs),
                        [&] { return loop->stop || hup_due(); });
      if (loop->stop) break;
      force = hup_due();
      if (force) {
        loop->reload = false;
        last_forced = std::chrono::steady_clock::now();
      }
    }
    daemon.PrepareReloads(force);
    std::lock_guard<std::mutex> lock(loop->mu);
    loop->prepared = true;
    loop->cv.notify_all();
  }
  done->set_value();
}

void RunCycles(Daemon& daemon, LoopState* loop, std::function<TimeMs()> now, double speed,
               std::promise<void>* done) {
  for (;;) {
    daemon.ApplyReloads();
    const TimeMs next_cycle = daemon.RunDue(now());
    std::unique_lock<std::mutex> lock(loop->mu);
    // Waits are in wall time; the daemon's clock may run faster.
    const TimeMs wait = std::max<TimeMs>(
        0, static_cast<TimeMs>(std::ceil(static_cast<double>(next_cycle - now()) / speed)));
    loop->cv.wait_for(lock, std::chrono::milliseconds(wait),
                      [&] { return loop->stop || loop->prepared; });
    if (loop->stop) break;
    loop->prepared = false;
  }
  done->set_value();
}

// Until SIGTERM or SIGINT (SIGHUP forces a reload), then a shutdown within kShutdownBudget.
void WaitForSignals(Daemon& daemon, HttpServer& server, std::thread& http, Logger& log,
                    const std::function<TimeMs()>& now, double speed, const sigset_t& signals) {
  LoopState loop;
  // The first models load before the first cycle, so that a replay scores its first interval.
  daemon.PollReloads(true);
  std::promise<void> reloads_done;
  auto reloads_done_future = reloads_done.get_future();
  std::thread reloads(ReloadModels, std::ref(daemon), &loop, &reloads_done);
  std::promise<void> cycles_done;
  auto cycles_done_future = cycles_done.get_future();
  std::thread cycles(RunCycles, std::ref(daemon), &loop, now, speed, &cycles_done);

  for (;;) {
    int sig = 0;
    if (sigwait(&signals, &sig) != 0) continue;
    if (sig == SIGHUP) {
      log.Info("SIGHUP: reloading models");
      std::lock_guard<std::mutex> lock(loop.mu);
      loop.reload = true;
      loop.cv.notify_all();
      continue;
    }
    log.Info("shutting down", {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
    break;
  }
  const auto deadline = std::chrono::steady_clock::now() + kShutdownBudget;
  {
    std::lock_guard<std::mutex> lock(loop.mu);
    loop.stop = true;
    loop.cv.notify_all();
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
}

// --config, with --shard over the file's shard:.
Result<Config> LoadServeConfig(const ServeArgs& args) {
  auto config = LoadConfig(args.config);
  if (!config.ok()) {
    return config.status();
  }
  if (!args.shard.empty()) {
    auto shard = ParseShard(args.shard);
    if (!shard.ok()) {
      return Status(ErrorCode::kInvalidArgument, "--shard: " + shard.status().message());
    }
    config->shard = *shard;
    const std::string clash = ShardLabelClash(*config);
    if (!clash.empty()) {
      return Status(ErrorCode::kInvalidArgument, "--shard: " + clash);
    }
  }
  return config;
}

// --web.config.file, or the defaults (plain HTTP, no users) without it.
Result<ExporterWebConfig> LoadServeWebConfig(const ServeArgs& args) {
  ExporterWebConfig web;
  if (!args.web_config_file.empty()) {
    auto loaded = LoadWebConfig(args.web_config_file);
    if (!loaded.ok()) {
      return Status(ErrorCode::kInvalidArgument, loaded.status().message());
    }
    web = std::move(*loaded);
  }
  return web;
}

// The daemon's clock: the system clock, or one that starts at --start-time (or at the
// replay's first row) and runs --replay-speed times as fast as the wall clock.
struct ServeClock {
  double speed = 1;
  TimeMs start_ms = 0;
  bool custom = false;  ///< not the system clock
};

Result<ServeClock> ClockFromArgs(const ServeArgs& args) {
  ServeClock clock;
  clock.speed = args.replay_speed;
  if (!(clock.speed > 0) || !std::isfinite(clock.speed) || clock.speed > 1e6) {
    return Status(ErrorCode::kInvalidArgument, "--replay-speed must be a number in (0, 1000000]");
  }
  if (!args.start_time.empty()) {
    auto t = ParseTime(args.start_time);
    if (!t) {
      return Status(ErrorCode::kInvalidArgument,
                    "--start-time '" + args.start_time + "': use epoch seconds or ISO 8601");
    }
    clock.start_ms = *t;
    clock.custom = true;
  }
  return clock;
}

// Temp files of an install killed mid-write (kill -9, power loss): nothing else removes them.
void RemoveOrphans(const Config& config, Logger& log) {
  for (const DetectorConfig& d : config.detectors) {
    const int removed = BundleStore(config.models_dir, d.name).RemoveOrphans();
    if (removed > 0) {
      log.Info("removed temp files of an interrupted install",
               {{"detector", d.name}, {"files", std::to_string(removed)}});
    }
  }
}

// The server's history (--incidents marked on it), web config watch and what-if page.
Status SetUpServer(const ServeArgs& args, HistoryFunction history, std::function<TimeMs()> now,
                   const std::string& ui_dir, HttpServer& server) {
  std::vector<IncidentWindow> incidents;
  if (!args.incidents.empty()) {
    auto read = ReadIncidents(args.incidents);
    if (!read.ok()) {
      return Status(read.status().code(), "--incidents: " + read.status().message());
    }
    incidents = std::move(*read);
  }
  server.SetHistory(std::move(history), std::move(now), std::move(incidents));
  if (!args.web_config_file.empty()) server.WatchWebConfig(args.web_config_file);
  if (!ui_dir.empty()) {
    Status ui = server.ServeUi(ui_dir);
    if (!ui.ok()) {
      return Status(ErrorCode::kInvalidArgument, "--web.ui-dir: " + ui.message());
    }
  }
  return Status::Ok();
}

// The "starting" lines: version, config, detectors, clock, shard, replay and what-if page.
void LogStart(const ServeArgs& args, const Daemon& daemon, const ServeClock& clock, TimeMs now,
              const ReplaySource* replay, const std::string& ui_dir, Logger& log) {
  std::string names;
  for (const DetectorConfig& d : daemon.config().detectors) {
    names += (names.empty() ? "" : ",") + d.name;
  }
  LogFields start = {{"version", kEngineVersion}, {"config", args.config}, {"detectors", names}};
  if (clock.custom) start.emplace_back("start_time", FormatTime(now));
  if (clock.speed != 1) start.emplace_back("speed", FormatShortest(clock.speed));
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
}

}  // namespace

Status RunServe(const ServeArgs& args) {
  ReturnBigBlocksToTheSystem();
  Logger log;
  auto config = LoadServeConfig(args);
  if (!config.ok()) return config.status();
  auto web = LoadServeWebConfig(args);
  if (!web.ok()) return web.status();
  auto clock = ClockFromArgs(args);
  if (!clock.ok()) return clock.status();
  // --replay-csv: answer the instant queries from recorded history instead of Prometheus.
  std::shared_ptr<const ReplaySource> replay;
  std::map<std::string, std::string> replay_column;  // PromQL -> CSV column
  if (!args.replay_csv.empty()) {
    auto loaded = LoadReplay(args, *config);
    if (!loaded.ok()) return loaded.status();
    replay_column = std::move(loaded->column);
    auto& source = loaded->source;
    replay = std::make_shared<const ReplaySource>(std::move(*source));
    if (!clock->custom) {
      clock->start_ms = replay->first_time();
      clock->custom = true;
    }
  }
  // Starts now, after the replay is loaded: its first interval is scored at start_ms exactly.
  const TimeMs wall0 = NowMs();
  const TimeMs start_ms = clock->custom ? clock->start_ms : wall0;
  const double speed = clock->speed;
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

  auto sources = MakeSources(*config, replay, replay_column);
  if (!sources.ok()) return sources.status();
  auto registry = std::make_shared<prometheus::Registry>();
  auto metrics = std::make_shared<ExporterMetrics>(registry);
  const std::string cors = config->web.cors_origin;
  RemoveOrphans(*config, log);
  Daemon daemon(std::move(*config), std::move(sources->query), metrics, log);
  daemon.SetRangeQuery(std::move(sources->range_query));

  if (web->auth() && !web->tls()) {
    log.Warn(
        "basic_auth_users without tls_server_config: passwords cross the network in clear "
        "text",
        {{"web_config", args.web_config_file}});
  }
  HttpServer server(daemon, registry, cors, log, *web);
  const std::string ui_dir = args.ui_dir.empty() ? DefaultUiDir() : args.ui_dir;
  Status set_up = SetUpServer(args, std::move(sources->history), now, ui_dir, server);
  if (!set_up.ok()) return set_up;
  auto port = server.Bind(listen);
  if (!port.ok()) {
    log.Error("cannot listen", {{"address", listen}, {"reason", port.status().message()}});
    // Logged for the log collector; main prints it too. A usage error exits 2, any other 1.
    const bool usage = port.status().code() == ErrorCode::kInvalidArgument;
    return usage ? port.status() : Status(ErrorCode::kBadInput, port.status().message());
  }
  const auto addr = ParseListenAddress(listen);
  LogStart(args, daemon, *clock, now(), replay.get(), ui_dir, log);
  std::thread http([&server] { server.Run(); });
  log.Info("listening on " + addr->first + ":" + std::to_string(*port),
           {{"address", addr->first + ":" + std::to_string(*port)},
            {"tls", web->tls() ? "true" : "false"},
            {"basic_auth", web->auth() ? "true" : "false"}});

  WaitForSignals(daemon, server, http, log, now, speed, signals);
  log.Info("stopped");
  return Status::Ok();
}

}  // namespace isoscope::native
