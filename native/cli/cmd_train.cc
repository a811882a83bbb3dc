#include <algorithm>
#include <chrono>

#include "commands.h"
#include "csv.h"
#include "exclusions.h"
#include "file_io.h"
#include "incidents.h"
#include "isoscope/bundle.h"
#include "parallel_score.h"
#include "time_rules.h"

namespace isoscope::native {
namespace {

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

// The rows the time rules dropped are reported with the other dropped rows, and the zone
// assumption as a warning, in the bundle's report (the model version does not depend on it).
void AddTimeNotes(const TimeRules& rules, TrainingInfo& info) {
  const auto repeated = static_cast<int64_t>(rules.repeated());
  if (repeated > 0) {
    info.rows_total += repeated;
    info.rows_dropped += repeated;
    info.dropped_by_reason.emplace_back("time repeated by the next row (the later row kept)",
                                        repeated);
  }
  if (!rules.zoneless_example.empty()) {
    info.warnings.push_back("times without a zone (such as '" + rules.zoneless_example +
                            "') were read as UTC");
  }
}

}  // namespace

Result<FeatureSpec> SpecFromArgs(const TrainArgs& args, const CsvData& data, size_t end) {
  FeatureSpec spec;
  spec.inputs = data.feature_names;
  std::string derived = args.derived;
  end = std::min(end, data.rows);
  std::vector<const double*> series;
  for (const auto& s : data.series) series.push_back(s.data());
  const AutoContext context = MeasureAutoContext(data.times.empty() ? nullptr : data.times.data(),
                                                 series, end, !args.deploy_windows.empty());
  if (derived == "auto" && data.time_column.empty()) {
    derived.clear();  // every automatic feature needs time
  }
  auto list = ParseDerivedList(derived, spec.inputs, context, &spec.raw_inputs);
  if (!list.ok()) {
    return list.status();
  }
  if (derived.find("auto") != std::string::npos) {
    // A CSV that already carries a column of that name keeps its own values.
    list->erase(std::remove_if(list->begin(), list->end(),
                               [&spec](const DerivedFeature& f) {
                                 const std::string name = f.Name(spec.inputs);
                                 return std::find(spec.inputs.begin(), spec.inputs.end(), name) !=
                                        spec.inputs.end();
                               }),
                list->end());
  }
  spec.derived = *list;
  if (spec.has_temporal()) {
    if (context.step_ms <= 0) {
      return Status(ErrorCode::kInvalidArgument,
                    "temporal features need at least two rows with distinct times");
    }
    spec.step_ms = context.step_ms;
  }
  if (!args.deploy_windows.empty()) {
    auto windows = ParseDeployWindows(args.deploy_windows);
    if (!windows.ok()) {
      return windows.status();
    }
    spec.deploy_windows = *windows;
  }
  if (spec.needs_time() && data.time_column.empty()) {
    return Status(ErrorCode::kInvalidArgument,
                  "--derived " + derived +
                      " needs a time column, and the CSV has none (name it with "
                      "--time-column, or use --derived none)");
  }
  Status valid = spec.Validate();
  if (!valid.ok()) {
    return Status(valid.code(), valid.message() +
                                    " (a CSV column and a derived feature share a "
                                    "name? drop one with --features/--derived)");
  }
  return spec;
}

Result<TrainOptions> OptionsFromArgs(const TrainArgs& args) {
  TrainOptions options;
  auto ms = ParseMaxSamples(args.max_samples);
  if (!ms.ok()) return ms.status();
  auto mf = ParseMaxFeatures(args.max_features);
  if (!mf.ok()) return mf.status();
  options.params.n_estimators = args.n_estimators;
  options.params.max_samples = *ms;
  options.params.max_features = *mf;
  options.params.bootstrap = args.bootstrap;
  options.params.random_state = args.random_state;
  options.contamination_explicit = !args.contamination.empty();
  // Not scikit-learn's 'auto' (a fixed threshold of 0.5, which flagged 17-71 % of the rows of
  // real 5-minute series) but a share a pager can live with; 'auto' stays available.
  options.params.contamination = Contamination::Fraction(kDefaultContamination);
  if (options.contamination_explicit) {
    auto c = ParseContamination(args.contamination);
    if (!c.ok()) return c.status();
    options.params.contamination = *c;
  }
  if (args.scaler == "standard") {
    options.scaler = Scaler::Kind::kStandard;
  } else if (args.scaler == "none") {
    options.scaler = Scaler::Kind::kNone;
  } else {
    return Status(ErrorCode::kInvalidArgument,
                  "--scaler '" + args.scaler + "': use standard or none");
  }
  if (args.n_estimators < 1 || args.n_estimators > 100000) {
    // The bundle reader refuses more than 100,000 trees, so a bigger model could not load.
    return Status(ErrorCode::kInvalidArgument, "--n-estimators must be between 1 and 100000");
  }
  return options;
}

std::string DescribeAuto(const CsvData& data, size_t end) {
  end = std::min(end, data.rows);
  if (data.times.empty() || end < 2) return "no time column: no automatic features";
  const TimeMs step = MedianStep(data.times.data(), end);
  char buf[160];
  std::snprintf(buf, sizeof buf, "step %s over %.1f days", FormatDurationMs(step).c_str(),
                static_cast<double>(data.times[end - 1] - data.times[0]) / kDayMs);
  std::string out = buf;
  for (size_t k = 0; k < data.series.size(); ++k) {
    for (const auto& [name, period] : {std::pair<const char*, TimeMs>{"daily", kDayMs},
                                       std::pair<const char*, TimeMs>{"weekly", kWeekMs}}) {
      const CycleEvidence e =
          MeasureCycle(data.times.data(), data.series[k].data(), end, step, period);
      std::snprintf(buf, sizeof buf, "; %s %s: r %.2f (half period %.2f) over %.1f cycles: %s",
                    data.feature_names[k].c_str(), name, e.autocorrelation, e.half_period, e.cycles,
                    e.shown ? "shown" : "not shown");
      out += buf;
    }
  }
  return out;
}

Status RunTrain(const TrainArgs& args) {
  auto parsed_options = OptionsFromArgs(args);
  if (!parsed_options.ok()) return parsed_options.status();
  TrainOptions options = *parsed_options;

  const auto t0 = std::chrono::steady_clock::now();
  auto content = ReadFile(args.csv);
  if (!content.ok()) return content.status();
  CsvOptions csv_options;
  csv_options.time_column = args.time_column;
  csv_options.no_time = args.no_time;
  csv_options.features = SplitList(args.features);
  auto data = ParseCsv(*content, csv_options, args.csv);
  if (!data.ok()) return data.status();
  // The text goes before training, on a core that is idle while this one builds the rows.
  auto text_released = ReleaseAside(std::move(*content));
  if (!args.quiet) {
    std::fprintf(stderr, "read %zu rows x %zu features from %s%s in %.2f s\n", data->rows,
                 data->feature_names.size(), args.csv.c_str(),
                 data->time_column.empty() ? " (no time column)"
                                           : (" (time column '" + data->time_column + "')").c_str(),
                 Seconds(t0));
  }
  // Temporal features need the rows in time order (repeats dropped); point features score
  // each row alone, so rows of several hosts may share a time and stay as they are.
  auto ordered = SpecFromArgs(args, *data);
  if (!ordered.ok()) return ordered.status();
  auto time_rules = ApplyTimeRules(*data, args.csv, ordered->has_temporal());
  if (!time_rules.ok()) return time_rules.status();
  auto spec = time_rules->repeated() > 0 ? SpecFromArgs(args, *data) : ordered;
  if (!spec.ok()) return spec.status();
  if (!args.quiet && args.derived.find("auto") != std::string::npos) {
    std::fprintf(stderr, "auto read %s\n", DescribeAuto(*data, data->rows).c_str());
  }

  std::vector<const double*> series;
  for (const auto& s : data->series) {
    series.push_back(s.data());
  }
  options.created_ms = NowMs();
  options.source = "csv:" + args.csv;
  options.score_dense = ParallelDenseScorer();  // the training-score pass on every core
  options.for_ranges = ParallelRanges();        // the fit's trees
  if (!args.exclude.empty()) {
    auto windows = ReadIncidents(args.exclude);
    if (!windows.ok()) return windows.status();
    if (data->times.empty()) {
      return Status(ErrorCode::kInvalidArgument, "--exclude needs a time column in " + args.csv);
    }
    ExcludeWindows(data->times, *windows, "--exclude", options);
  }
  const auto t1 = std::chrono::steady_clock::now();
  auto model = TrainModel(*spec, data->times.empty() ? nullptr : data->times.data(), series,
                          data->rows, options);
  if (!model.ok()) return model.status();
  AddTimeNotes(*time_rules, model->info);
  if (!args.quiet) {
    std::fprintf(stderr, "trained %d trees and scored %lld training rows in %.3f s\n",
                 args.n_estimators, static_cast<long long>(model->info.rows_used), Seconds(t1));
  }
  // The columns go back to the kernel while this core encodes and writes the bundle.
  series.clear();
  auto columns_released = ReleaseAside(std::move(*data));
  const std::string bytes = EncodeBundle(*model);
  Status written = WriteFileAtomic(args.out, bytes);
  columns_released.get();
  text_released.get();
  if (!written.ok()) return written;
  if (!args.quiet) {
    std::fflush(stderr);
    PrintReport(stdout, *model);
    std::printf("wrote             %s (%zu bytes)\n", args.out.c_str(), bytes.size());
  }
  return Status::Ok();
}

}  // namespace isoscope::native
