// `isoscope train --config C --detector D`: pull the lookback from Prometheus, join the
// feature queries per group and timestamp, fit, and install a new version in the store.
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <map>

#include "bundle_store.h"
#include "commands.h"
#include "config.h"
#include "exclusions.h"
#include "file_io.h"
#include "isoscope/bundle.h"
#include "model_json.h"
#include "parallel_score.h"
#include "prom_client.h"
#include "prom_config.h"
#include "prom_join.h"
#include "time_parse.h"

namespace isoscope::native {
namespace {

constexpr int64_t kMinTrainingRows = 100;
constexpr TimeMs kMinTrainingSpan = kDayMs;

}  // namespace

namespace {

// The detector's exclude:, exclude_when: and exclude_alerts: as rows left out of training.
// exclude_when is time-based (a time it excludes is excluded for every group); an alert
// excludes the rows of its own group (its group_by labels).
Status AddConfigExclusions(const DetectorConfig& det, PromClient& client, TimeMs start, TimeMs end,
                           const JoinedRows& joined, TrainOptions& options) {
  const std::vector<TimeMs>& times = joined.times;
  const ExcludeConfig& x = det.exclude;
  ExcludeWindows(times, x.windows, "exclude", options);
  for (size_t k = 0; k < x.weekly_text.size(); ++k) {
    auto weekly = ParseDeployWindows(x.weekly_text[k]);
    if (weekly.ok()) ExcludeWeekly(times, *weekly, "exclude " + x.weekly_text[k], options);
  }
  if (!x.when.empty()) {
    auto series = client.QueryRange(x.when, start, end, det.step_ms);
    if (!series.ok()) {
      return Status(series.status().code(), "exclude_when: " + series.status().message());
    }
    ExcludeWindows(times, WindowsWhere(*series, det.step_ms, 0, x.when), "exclude_when", options);
  }
  if (x.alerts) {
    const std::string query = "ALERTS{alertname=\"AnomalyScoreCritical\",detector=\"" + det.name +
                              "\",alertstate=\"firing\"}";
    auto series = client.QueryRange(query, start, end, det.step_ms);
    if (!series.ok()) {
      return Status(series.status().code(), "exclude_alerts: " + series.status().message());
    }
    const std::string name =
        "AnomalyScoreCritical firing, margin " + FormatDurationMs(x.alerts_margin_ms);
    std::map<std::string, std::vector<PromSeries>> by_group;
    for (PromSeries& s : *series) by_group[GroupKey(s.labels, det.group_by)].push_back(s);
    for (const auto& [key, group_series] : by_group) {
      std::vector<char> only(times.size(), 0);
      for (size_t i = 0; i < times.size(); ++i) {
        only[i] = joined.groups[static_cast<size_t>(joined.group_of_row[i])] == key ? 1 : 0;
      }
      ExcludeWindows(times, WindowsWhere(group_series, det.step_ms, x.alerts_margin_ms, name),
                     "exclude_alerts", options, only);
    }
  }
  return Status::Ok();
}

// Every query of the detector over [start, end] at its step (a progress bar on a terminal),
// joined into rows per group.
Result<JoinedRows> PullHistory(const TrainArgs& args, const DetectorConfig& det, PromClient& client,
                               TimeMs start, TimeMs end) {
  const bool tty = ::isatty(STDERR_FILENO) != 0;
  std::vector<std::pair<std::string, std::vector<PromSeries>>> results;
  const auto t0 = std::chrono::steady_clock::now();
  for (const auto& [name, query] : det.queries) {
    auto progress = [&, name = name](int done, int total) {
      if (args.quiet) return;
      if (tty) {
        const int width = 30, filled = total ? done * width / total : width;
        std::fprintf(stderr, "\r%-16s [%s%s] %d/%d", name.c_str(), std::string(filled, '#').c_str(),
                     std::string(width - filled, '.').c_str(), done, total);
        if (done == total) std::fprintf(stderr, "\n");
      } else if (done == total) {
        std::fprintf(stderr, "pulled %s: %d requests\n", name.c_str(), total);
      }
    };
    auto series = client.QueryRange(query, start, end, det.step_ms, progress);
    if (!series.ok()) {
      return Status(series.status().code(), "feature '" + name + "': " + series.status().message());
    }
    if (series->empty()) {
      return Status(ErrorCode::kBadInput, "feature '" + name +
                                              "': the query returned no series between " +
                                              FormatTime(start) + " and " + FormatTime(end) +
                                              "; check it in Prometheus's expression browser");
    }
    results.emplace_back(name, std::move(series).value());
  }
  auto joined = JoinByGroup(results, det.group_by);
  if (!joined.ok()) return joined.status();
  results.clear();
  if (!args.quiet) {
    std::fprintf(stderr, "joined %zu rows over %zu groups from %s to %s in %.1f s\n",
                 joined->rows(), joined->groups.size(), FormatTime(start).c_str(),
                 FormatTime(end).c_str(),
                 std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  return joined;
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

Status RunTrainFromPrometheus(const TrainArgs& args) {
  auto config = LoadConfig(args.config);
  if (!config.ok()) return config.status();
  auto found = FindDetector(*config, args.detector, args.config);
  if (!found.ok()) return found.status();
  const DetectorConfig* det = *found;
  TimeMs end = NowMs();
  if (!args.end.empty()) {
    auto t = ParseTime(args.end);
    if (!t) {
      return Status(ErrorCode::kInvalidArgument,
                    "--end '" + args.end + "': use epoch seconds or ISO 8601 UTC");
    }
    end = *t;
  }
  end -= ((end % det->step_ms) + det->step_ms) % det->step_ms;  // align to the step grid
  const TimeMs start = end - det->lookback_ms;

  PromClient client(ClientOptionsFor(config->prometheus));
  auto joined = PullHistory(args, *det, client, start, end);
  if (!joined.ok()) return joined.status();

  TrainOptions options;
  options.params = det->params;
  options.scaler = det->scaler;
  options.contamination_explicit = true;  // the config requires it
  options.created_ms = NowMs();
  options.source = "prometheus:" + config->prometheus.url + " detector " + det->name;
  options.group_of_row = joined->group_of_row;  // temporal features per group, as served
  if (Status s = AddConfigExclusions(*det, client, start, end, *joined, options); !s.ok()) {
    return s;
  }
  options.score_dense = ParallelDenseScorer();  // the training-score pass on every core
  std::vector<const double*> series;
  for (const auto& s : joined->series) {
    series.push_back(s.data());
  }
  auto model = TrainModel(det->spec, joined->times.data(), series, joined->rows(), options);
  if (!model.ok()) return model.status();
  const TimeMs span = model->info.window_end_ms - model->info.window_start_ms;
  if (model->info.rows_used < kMinTrainingRows || span < kMinTrainingSpan) {
    return Status(ErrorCode::kBadInput,
                  "too little data to train: " + std::to_string(model->info.rows_used) +
                      " complete rows over " + std::to_string(span / kHourMs) +
                      " h; need at least " + std::to_string(kMinTrainingRows) +
                      " rows over a day (better 90 days). The previous model is untouched.");
  }
  return InstallModel(args, *det, config->models_dir, *model, joined->groups.size());
}

}  // namespace isoscope::native
