// `isoscope train --config C --detector D`: stream the lookback from Prometheus in chunks of
// time (twice: StreamTrainer's two passes), join the feature queries per group and timestamp,
// fit, and install a new version in the store. Memory: one chunk plus the rows the forest draws.
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <map>
#include <optional>
#include <tuple>

#include "bundle_store.h"
#include "commands.h"
#include "config.h"
#include "exclusions.h"
#include "file_io.h"
#include "isoscope/bundle.h"
#include "isoscope/stream_train.h"
#include "model_json.h"
#include "parallel_score.h"
#include "prom_client.h"
#include "prom_config.h"
#include "prom_join.h"
#include "shard.h"
#include "time_parse.h"
#include "train_groups.h"

namespace isoscope::native {
namespace {

constexpr int64_t kMinTrainingRows = 100;
constexpr TimeMs kMinTrainingSpan = kDayMs;

}  // namespace

namespace {

// The detector's exclude:, exclude_when: and exclude_alerts:, queried once for the whole
// window and applied to each chunk's rows (they depend on a row's time and group only).
struct ConfigExclusions {
  std::vector<std::pair<std::string, std::vector<WeeklyWindow>>> weekly;
  std::vector<IncidentWindow> when;
  std::string alerts_name;
  std::map<std::string, std::vector<IncidentWindow>> alerts;  // by group key
};

Result<ConfigExclusions> LoadConfigExclusions(const DetectorConfig& det, PromClient& client,
                                              TimeMs start, TimeMs end) {
  ConfigExclusions out;
  const ExcludeConfig& x = det.exclude;
  for (const std::string& text : x.weekly_text) {
    auto weekly = ParseDeployWindows(text);
    if (weekly.ok()) out.weekly.emplace_back("exclude " + text, *weekly);
  }
  if (!x.when.empty()) {
    auto series = client.QueryRange(x.when, start, end, det.step_ms);
    if (!series.ok()) {
      return Status(series.status().code(), "exclude_when: " + series.status().message());
    }
    out.when = WindowsWhere(*series, det.step_ms, 0, x.when);
  }
  if (x.alerts) {
    const std::string query = "ALERTS{alertname=\"AnomalyScoreCritical\",detector=\"" + det.name +
                              "\",alertstate=\"firing\"}";
    auto series = client.QueryRange(query, start, end, det.step_ms);
    if (!series.ok()) {
      return Status(series.status().code(), "exclude_alerts: " + series.status().message());
    }
    out.alerts_name = "AnomalyScoreCritical firing, margin " + FormatDurationMs(x.alerts_margin_ms);
    std::map<std::string, std::vector<PromSeries>> by_group;
    for (PromSeries& s : *series) by_group[GroupKey(s.labels, det.group_by)].push_back(s);
    for (const auto& [key, group_series] : by_group) {
      out.alerts[key] =
          WindowsWhere(group_series, det.step_ms, x.alerts_margin_ms, out.alerts_name);
    }
  }
  return out;
}

// The exclusions of `joined`'s rows into `options`, in the same order (and so with the same
// reasons) for every chunk: an alert excludes the rows of its own group (its group_by labels).
void ApplyConfigExclusions(const DetectorConfig& det, const ConfigExclusions& x,
                           const JoinedRows& joined, TrainOptions& options) {
  const std::vector<TimeMs>& times = joined.times;
  ExcludeWindows(times, det.exclude.windows, "exclude", options);
  for (const auto& [reason, weekly] : x.weekly) ExcludeWeekly(times, weekly, reason, options);
  ExcludeWindows(times, x.when, "exclude_when", options);
  for (const auto& [key, windows] : x.alerts) {
    std::vector<char> only(times.size(), 0);
    for (size_t i = 0; i < times.size(); ++i) {
      only[i] = joined.groups[static_cast<size_t>(joined.group_of_row[i])] == key ? 1 : 0;
    }
    ExcludeWindows(times, windows, "exclude_alerts", options, only);
  }
}

// Every query of the detector over [start, end] at its step, joined into rows per group.
// A chunk where a query has no series yet is empty (nullopt), not an error.
Result<std::optional<JoinedRows>> PullChunk(const DetectorConfig& det, PromClient& client,
                                            TimeMs start, TimeMs end) {
  std::vector<std::pair<std::string, std::vector<PromSeries>>> results;
  for (const auto& [name, query] : det.queries) {
    auto series = client.QueryRange(query, start, end, det.step_ms);
    if (!series.ok()) {
      return Status(series.status().code(), "feature '" + name + "': " + series.status().message());
    }
    if (series->empty()) return std::optional<JoinedRows>();
    results.emplace_back(name, std::move(series).value());
  }
  auto joined = JoinByGroup(results, det.group_by);
  if (!joined.ok()) return joined.status();
  return std::optional<JoinedRows>(std::move(joined).value());
}

// The model into the detector's store: as its latest version, or under promotion: manual or
// gate as its candidate (latest stays; unless there is no latest yet); older versions pruned.
Status InstallModel(const TrainArgs& args, const DetectorConfig& det, const std::string& models_dir,
                    const Model& model, size_t groups) {
  const std::string bytes = EncodeBundle(model);
  const std::string report =
      ModelToJson(model, false).dump(1, ' ', false, nlohmann::json::error_handler_t::replace);
  BundleStore store(models_dir, det.name);
  std::vector<std::string> pruned;
  // The first model of a detector has nothing to be compared with: it goes live at once.
  const bool candidate = det.promotion.candidate() && store.Latest().ok();
  Status installed = candidate ? store.InstallCandidate(model.model_version, bytes, report,
                                                        det.keep_versions, &pruned)
                               : store.Install(model.model_version, model.info.created_ms, bytes,
                                               report, det.keep_versions, &pruned);
  if (!installed.ok()) return installed;
  if (!args.quiet) {
    PrintReport(stdout, model);
    std::printf("groups            %zu\n", groups);
    std::printf("installed         %s (%s)\n", store.BundlePath(model.model_version).c_str(),
                candidate ? (std::string("candidate, promotion: ") +
                             PromotionModeName(det.promotion.mode) + "; latest unchanged")
                                .c_str()
                          : "latest");
    for (const std::string& v : pruned) {
      std::printf("pruned            %s (keeping %d versions)\n", v.c_str(), det.keep_versions);
    }
  }
  return Status::Ok();
}

}  // namespace

namespace {

// What one training run streams: the window cut into chunks and the group ids (stable across
// chunks and passes, in order of first appearance).
struct StreamRun {
  const DetectorConfig* det = nullptr;
  Shard shard;                      // --shard (not configured: the whole detector)
  StreamTrainer* pooled = nullptr;  // null: another shard trains the pooled model
  GroupTrainers* groups = nullptr;  // model: per: group
  TimeMs start = 0, end = 0;
  TimeMs chunk_ms = 0;                            // --chunk; 0: auto (NextChunkMs)
  std::vector<std::pair<TimeMs, TimeMs>> bounds;  // pass 1's chunks, which pass 2 replays
  std::map<std::string, int32_t> group_ids;
  size_t rows_fed = 0;
  size_t peak_chunk_rows = 0;
  int chunks = 0;  // this pass's chunks (each one query_range request per query)
};

// The rows an automatic chunk aims at: a few hundred MB of JSON and joined rows at most.
constexpr size_t kAutoChunkRows = 250000;

// --chunk auto: the first chunk is one hour; each next one as long as puts about
// kAutoChunkRows rows in it at the previous chunk's group count, in whole steps, at most a day.
TimeMs NextChunkMs(const StreamRun& run, size_t last_groups) {
  const TimeMs step = run.det->step_ms;
  if (run.chunk_ms > 0) return run.chunk_ms;
  const TimeMs wanted =
      last_groups == 0 ? kHourMs : static_cast<TimeMs>(kAutoChunkRows / last_groups) * step;
  const TimeMs ms = std::min<TimeMs>(wanted, kDayMs);
  return std::max(step, ms - ms % step);
}

// One pass: every chunk pulled, joined, excluded and fed. Rows are numbered chunk by chunk,
// and within a chunk by group key, then time (JoinByGroup's order). Pass 1 sizes the chunks
// and records them; pass 2 pulls exactly the same ones.
Status StreamPass(StreamRun& run, PromClient& client, const ConfigExclusions& x) {
  const TimeMs step = run.det->step_ms;
  const bool first_pass = run.bounds.empty();
  size_t last_groups = 0;
  for (size_t k = 0;; ++k) {
    TimeMs cs = 0, ce = 0;
    if (first_pass) {
      cs = run.bounds.empty() ? run.start : run.bounds.back().second + step;
      if (cs > run.end) break;
      ce = std::min(run.end, cs + NextChunkMs(run, last_groups) - step);
      run.bounds.emplace_back(cs, ce);
    } else {
      if (k >= run.bounds.size()) break;
      std::tie(cs, ce) = run.bounds[k];
    }
    ++run.chunks;
    auto pulled = PullChunk(*run.det, client, cs, ce);
    if (!pulled.ok()) return pulled.status();
    if (!pulled->has_value()) continue;
    const JoinedRows& joined = **pulled;
    last_groups = joined.groups.size();
    TrainOptions ex;
    ApplyConfigExclusions(*run.det, x, joined, ex);
    std::vector<int32_t> ids(joined.rows());
    for (size_t i = 0; i < ids.size(); ++i) {
      const std::string& key = joined.groups[static_cast<size_t>(joined.group_of_row[i])];
      ids[i] = run.group_ids.emplace(key, static_cast<int32_t>(run.group_ids.size())).first->second;
    }
    TrainChunk c;
    c.times = joined.times.data();
    for (const auto& s : joined.series) c.series.push_back(s.data());
    c.n = joined.rows();
    c.group_of_row = ids.data();
    c.exclusion_of_row = ex.exclusion_of_row.empty() ? nullptr : ex.exclusion_of_row.data();
    c.exclusion_reasons = &ex.exclusion_reasons;
    if (run.pooled != nullptr) {
      if (Status s = run.pooled->Feed(c); !s.ok()) return s;
    }
    if (run.groups != nullptr) {
      if (Status s = run.groups->Feed(joined, ex); !s.ok()) return s;
    }
    run.rows_fed += c.n;
    run.peak_chunk_rows = std::max(run.peak_chunk_rows, c.n);
  }
  if (run.rows_fed == 0) {
    return Status(ErrorCode::kBadInput, "the detector's queries returned no series between " +
                                            FormatTime(run.start) + " and " + FormatTime(run.end) +
                                            "; check them in Prometheus's expression browser");
  }
  if (run.groups != nullptr) run.groups->EndPass();
  return run.pooled != nullptr ? run.pooled->EndPass() : Status::Ok();
}

// The pooled model's options (a group's start from them, train_groups.h).
TrainOptions PooledOptions(const Config& config, const DetectorConfig& det) {
  TrainOptions options;
  options.params = det.params;
  options.scaler = det.scaler;
  options.contamination_explicit = true;  // the config requires it
  options.created_ms = NowMs();
  options.source = "prometheus:" + config.prometheus.url + " detector " + det.name;
  options.score_dense = ParallelDenseScorer();  // the training-score pass on every core
  options.for_ranges = ParallelRanges();        // the fit and the sort behind the offset
  return options;
}

// Fits the pooled model after both passes and installs it, unless it saw too little data.
Status FinishPooled(const TrainArgs& args, const Config& config, const StreamRun& run) {
  auto model = run.pooled->Finish();
  if (!model.ok()) return model.status();
  const TimeMs span = model->info.window_end_ms - model->info.window_start_ms;
  if (model->info.rows_used < kMinTrainingRows || span < kMinTrainingSpan) {
    return Status(ErrorCode::kBadInput,
                  "too little data to train: " + std::to_string(model->info.rows_used) +
                      " complete rows over " + std::to_string(span / kHourMs) +
                      " h; need at least " + std::to_string(kMinTrainingRows) +
                      " rows over a day (better 90 days). The previous model is untouched.");
  }
  return InstallModel(args, *run.det, config.models_dir, *model, run.group_ids.size());
}

// One StreamPass, then its progress line on stderr (rows, time, memory held).
Status TimedPass(const TrainArgs& args, StreamRun& run, PromClient& client,
                 const ConfigExclusions& x, std::chrono::steady_clock::time_point t0,
                 const std::string& what) {
  run.rows_fed = 0;
  run.chunks = 0;
  if (Status s = StreamPass(run, client, x); !s.ok()) return s;
  if (args.quiet) return Status::Ok();
  const size_t held =
      (run.pooled ? run.pooled->MemoryBytes() : 0) + (run.groups ? run.groups->MemoryBytes() : 0);
  const std::string trainers =
      run.groups ? ", " + std::to_string(run.groups->size()) + " group trainers" : "";
  std::fprintf(stderr,
               "%s: joined %zu rows over %zu groups from %s to %s in %.1f s (%d chunks, "
               "largest %zu rows, trainer %.1f MiB%s)\n",
               what.c_str(), run.rows_fed, run.group_ids.size(), FormatTime(run.start).c_str(),
               FormatTime(run.end).c_str(),
               std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(),
               run.chunks, run.peak_chunk_rows, static_cast<double>(held) / 1048576.0,
               trainers.c_str());
  return Status::Ok();
}

// Pulls the window twice (StreamTrainer's two passes), fits and installs the pooled model
// (shard 0 or unsharded) and, under per: group, the models of this shard's groups (pass 2
// pulled once more for each group batch after the first: train_groups.h).
Status TrainStreamed(const TrainArgs& args, const Config& config, StreamRun& run) {
  const DetectorConfig& det = *run.det;
  PromClient client(ClientOptionsFor(config.prometheus));
  auto exclusions = LoadConfigExclusions(det, client, run.start, run.end);
  if (!exclusions.ok()) return exclusions.status();
  const TrainOptions options = PooledOptions(config, det);
  std::optional<StreamTrainer> pooled;
  if (run.shard.TrainsPooledModel()) {
    auto trainer = StreamTrainer::Create(det.spec, options);
    if (!trainer.ok()) return trainer.status();
    pooled.emplace(std::move(*trainer));
    run.pooled = &*pooled;
  }
  std::optional<GroupTrainers> groups;
  if (det.per_group) {
    run.groups = &groups.emplace(det, options, run.shard, args.quiet,
                                 static_cast<size_t>(args.group_memory_mib * 1048576.0));
  }
  const auto t0 = std::chrono::steady_clock::now();
  for (int pass = 1; pass <= 2; ++pass) {
    if (Status s = TimedPass(args, run, client, *exclusions, t0, "pass " + std::to_string(pass));
        !s.ok())
      return s;
  }
  if (pooled) {
    if (Status s = FinishPooled(args, config, run); !s.ok()) return s;
  } else if (!args.quiet) {
    std::printf("shard %s: the pooled model of detector %s is trained by shard 0/%d\n",
                run.shard.Label().c_str(), det.name.c_str(), run.shard.count);
  }
  if (!groups) return Status::Ok();
  groups->InstallBatch(config.models_dir);
  run.pooled = nullptr;  // done: further batches pull pass 2 for their groups only
  while (groups->NextBatch()) {
    const std::string what = "pass 2, group batch " + std::to_string(groups->batch() + 1) + " of " +
                             std::to_string(groups->batches());
    if (Status s = TimedPass(args, run, client, *exclusions, t0, what); !s.ok()) return s;
    groups->InstallBatch(config.models_dir);
  }
  groups->Summary(config.models_dir);
  return Status::Ok();
}

}  // namespace

Status RunTrainFromPrometheus(const TrainArgs& args) {
  auto config = LoadConfig(args.config);
  if (!config.ok()) return config.status();
  auto found = FindDetector(*config, args.detector, args.config);
  if (!found.ok()) return found.status();
  StreamRun run;
  run.det = *found;
  const DetectorConfig* det = run.det;
  run.end = NowMs();
  if (!args.end.empty()) {
    auto t = ParseTime(args.end);
    if (!t) {
      return Status(ErrorCode::kInvalidArgument,
                    "--end '" + args.end + "': use epoch seconds or ISO 8601 UTC");
    }
    run.end = *t;
  }
  run.end -= ((run.end % det->step_ms) + det->step_ms) % det->step_ms;  // align to the step grid
  run.start = run.end - det->lookback_ms;
  if (args.chunk != "auto") {
    auto chunk = ParseDurationMs(args.chunk);
    if (!chunk.ok() || *chunk < det->step_ms) {
      return Status(ErrorCode::kInvalidArgument,
                    "--chunk '" + args.chunk + "': auto, or a duration of at least the step (" +
                        FormatDurationMs(det->step_ms) + "), e.g. 1h");
    }
    run.chunk_ms = *chunk - *chunk % det->step_ms;
  }
  if (!args.shard.empty()) {
    auto shard = ParseShard(args.shard);
    if (!shard.ok())
      return Status(ErrorCode::kInvalidArgument, "--shard: " + shard.status().message());
    run.shard = *shard;
    // Without per: group a shard other than 0 has nothing to train.
    if (!shard->TrainsPooledModel() && !det->per_group) {
      if (!args.quiet) {
        std::printf(
            "shard %s: detector %s has one pooled model, which shard 0/%d trains; "
            "nothing to do\n",
            shard->Label().c_str(), det->name.c_str(), shard->count);
      }
      return Status::Ok();
    }
  }
  return TrainStreamed(args, *config, run);
}

}  // namespace isoscope::native
