#include "isoscope/model.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstddef>
#include <map>

#include "detail/radix_sort.h"
#include "detail/train_steps.h"
#include "isoscope/bundle.h"
#include "isoscope/text.h"
#include "isoscope/version.h"

namespace isoscope {
namespace {

constexpr double kCanaryTolerance = 1e-12;

std::string Percent(double f) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f%%", 100.0 * f);
  return buf;
}

// Canaries from the training rows: the most and least anomalous, the median one, the column
// means and a far outlier, so the check walks deep and shallow paths and the scaler.
// The row a stable sort by anomaly score (ties in row order) puts at `rank`, found from the
// training scores negated and sorted (sklearn's score_samples, ascending): the rank's score,
// the rows scoring below it, then one pass for the row among its ties. A sort of the rows
// themselves would cost more than the rest of the canaries together.
size_t RowAtRank(const std::vector<double>& anomaly, const std::vector<double>& sorted_samples,
                 size_t rank) {
  const size_t n = anomaly.size();
  const double score = -sorted_samples[n - 1 - rank];
  // A row scores below `score` when its sample is above -score.
  const auto above = std::upper_bound(sorted_samples.begin(), sorted_samples.end(), -score);
  size_t tie = rank - static_cast<size_t>(sorted_samples.end() - above);
  for (size_t i = 0; i < n; ++i) {
    if (anomaly[i] == score && tie-- == 0) return i;
  }
  return n - 1;  // not reached: `sorted_samples` holds the scores of `anomaly`
}

std::vector<Canary> TrainingRowCanaries(const std::vector<double>& train_rows,
                                        const std::vector<double>& anomaly,
                                        const std::vector<double>& sorted_samples, size_t width) {
  const size_t n = anomaly.size();
  std::vector<Canary> out;
  // The rows a stable sort by score would put first, in the middle and last.
  const size_t least = RowAtRank(anomaly, sorted_samples, 0);
  const size_t median_row = RowAtRank(anomaly, sorted_samples, n / 2);
  const size_t most = RowAtRank(anomaly, sorted_samples, n - 1);
  auto row = [&](size_t i) {
    return std::vector<double>(train_rows.begin() + static_cast<std::ptrdiff_t>(i * width),
                               train_rows.begin() + static_cast<std::ptrdiff_t>((i + 1) * width));
  };
  std::vector<double> mean(width, 0.0), lo(width, DBL_MAX), hi(width, -DBL_MAX);
  for (size_t i = 0; i < n; ++i) {
    for (size_t j = 0; j < width; ++j) {
      const double v = train_rows[i * width + j];
      mean[j] += v / static_cast<double>(n);
      lo[j] = std::min(lo[j], v);
      hi[j] = std::max(hi[j], v);
    }
  }
  std::vector<double> far(width);
  for (size_t j = 0; j < width; ++j) {
    far[j] = hi[j] + (hi[j] - lo[j]) + 1.0;
  }
  out.push_back({"most_normal_training_row", row(least), 0});
  out.push_back({"median_training_row", row(median_row), 0});
  out.push_back({"most_anomalous_training_row", row(most), 0});
  out.push_back({"column_means", mean, 0});
  out.push_back({"beyond_training_range", far, 0});
  return out;
}

// No data (an import without training rows): canaries that probe the range the splits cover.
std::vector<Canary> SplitRangeCanaries(const Model& model, size_t width) {
  std::vector<Canary> out;
  std::vector<double> lo(width, 0.0), hi(width, 0.0);
  std::vector<bool> seen(width, false);
  for (const Tree& t : model.forest.trees) {
    for (size_t i = 0; i < t.node_count(); ++i) {
      if (t.children_left[i] == -1) {
        continue;
      }
      const auto col = static_cast<size_t>(t.features[static_cast<size_t>(t.feature[i])]);
      double v = t.threshold[i];
      if (model.scaler.kind == Scaler::Kind::kStandard) {
        v = v * model.scaler.scale[col] + model.scaler.mean[col];
      }
      lo[col] = seen[col] ? std::min(lo[col], v) : v;
      hi[col] = seen[col] ? std::max(hi[col], v) : v;
      seen[col] = true;
    }
  }
  for (double f : {0.0, 0.25, 0.5, 0.75, 2.0}) {
    std::vector<double> x(width);
    for (size_t j = 0; j < width; ++j) {
      x[j] = lo[j] + f * (hi[j] - lo[j]) + (f > 1.0 ? 1.0 : 0.0);
    }
    out.push_back({"split_range_" + FormatShortest(f), x, 0});
  }
  return out;
}

}  // namespace

Result<double> Model::ThresholdFor(double contamination) const {
  if (!params.contamination.is_auto && contamination == params.contamination.value) {
    return threshold();
  }
  return InterpolateThreshold(quantiles, contamination);
}

Status FinishModel(Model& model, const std::vector<double>& train_rows, bool keep_offset,
                   const DenseScoreFn& score_dense) {
  const size_t width = model.spec.width();
  const size_t n = width == 0 ? 0 : train_rows.size() / width;
  const double given_offset = model.offset;
  // Score with the default offset first; the offset does not change path sums.
  model.offset = -0.5;
  auto scorer = ModelScorer::Create(model);
  if (!scorer.ok()) {
    return scorer.status();
  }
  std::vector<double> score_samples(n);
  std::vector<double> anomaly(n);
  const std::vector<RowScore> scores = score_dense
                                           ? score_dense(*scorer, train_rows.data(), n)
                                           : scorer->ScoreDense(train_rows.data(), nullptr, n);
  if (scores.size() != n) {
    return Status(ErrorCode::kInternal, "the training-score pass returned the wrong row count");
  }
  for (size_t i = 0; i < n; ++i) {
    if (!scores[i].ok()) {
      return Status(ErrorCode::kInternal, "a training row could not be scored");
    }
    anomaly[i] = scores[i].anomaly_score;
    score_samples[i] = -scores[i].anomaly_score;
  }
  std::vector<double> sorted = score_samples;
  detail::SortDoubles(sorted);
  if (keep_offset) {
    model.offset = given_offset;
  } else if (!model.params.contamination.is_auto) {
    model.offset = PercentileLinear(sorted, 100.0 * model.params.contamination.value);
  }
  model.quantiles = n > 0 ? BuildQuantileTable(sorted) : QuantileTable{};
  model.calibration = CalibrateScores(anomaly);
  const double threshold = model.threshold();
  size_t flagged = 0;
  for (double a : anomaly) {
    flagged += a > threshold ? 1 : 0;
  }
  model.info.flagged_fraction = n ? static_cast<double>(flagged) / static_cast<double>(n) : 0.0;

  // Canaries: deep and shallow paths and the scaler, checked at every load.
  model.canaries = n > 0 ? TrainingRowCanaries(train_rows, anomaly, sorted, width)
                         : SplitRangeCanaries(model, width);
  for (Canary& c : model.canaries) {
    const RowScore s = scorer->ScoreFeatures(c.features.data());
    if (!s.ok()) {
      return Status(ErrorCode::kInternal, "canary '" + c.label + "' could not be scored");
    }
    c.anomaly_score = s.anomaly_score;
  }
  model.model_version = ComputeModelVersion(model);
  return Status::Ok();
}

namespace {

Status CheckExclusions(const TrainOptions& o, size_t n) {
  if (o.exclusion_of_row.empty()) return Status::Ok();
  if (o.exclusion_of_row.size() != n) {
    return Status(ErrorCode::kInvalidArgument, "exclusion_of_row must have one entry per row");
  }
  for (int32_t e : o.exclusion_of_row) {
    if (e < -1 || e >= static_cast<int32_t>(o.exclusion_reasons.size())) {
      return Status(ErrorCode::kInvalidArgument, "exclusion_of_row names an unknown reason");
    }
  }
  return Status::Ok();
}

// Masks excluded rows as missing values, into `storage`; returns the series to build from.
std::vector<const double*> MaskExcluded(const TrainOptions& o,
                                        const std::vector<const double*>& series, size_t n,
                                        std::vector<std::vector<double>>& storage) {
  if (o.exclusion_of_row.empty()) return series;
  std::vector<const double*> out;
  for (const double* s : series) {
    storage.emplace_back(s, s + n);
    for (size_t i = 0; i < n; ++i) {
      if (o.exclusion_of_row[i] >= 0) storage.back()[i] = std::nan("");
    }
    out.push_back(storage.back().data());
  }
  return out;
}

}  // namespace

namespace {

// The training rows: the ones no exclusion drops and whose features are all usable (finite,
// within float32 as scikit-learn casts), row-major, with their times and the reasons for the
// rest.
struct UsableRows {
  std::vector<double> dense;
  std::vector<TimeMs> times;
  std::map<std::string, int64_t> dropped;  // reason -> rows
  size_t excluded = 0;                     // rows an exclusion dropped
};

// True when no row of `rows` has a problem for training.
bool AllUsable(const FeatureRows& rows, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    const double* row = rows.values.data() + i * rows.width;
    if (detail::TrainingRowProblem(rows.problems[i], row, rows.width).issue != RowIssue::kNone) {
      return false;
    }
  }
  return true;
}

// The rows training uses. `rows.values` is taken, not copied, when every row is usable and
// none is excluded (the common case: a 5 MB copy and its page faults saved).
UsableRows SelectUsableRows(const FeatureSpec& spec, const TimeMs* times, FeatureRows& rows,
                            const TrainOptions& options, size_t n) {
  const size_t width = rows.width;
  UsableRows out;
  if (options.exclusion_of_row.empty() && AllUsable(rows, n)) {
    out.dense = std::move(rows.values);
    if (times != nullptr) out.times.assign(times, times + n);
    return out;
  }
  out.dense.reserve(rows.usable * width);
  const TimeMs span = detail::RollingSpan(spec);
  std::map<int32_t, detail::ExclusionState> exclusion_state;
  RowProblem last;
  int64_t* last_count = nullptr;  // out.dropped's count for `last` (a map's entries stay put)
  for (size_t i = 0; i < n; ++i) {
    if (!options.exclusion_of_row.empty()) {
      const int32_t group = options.group_of_row.empty() ? 0 : options.group_of_row[i];
      const int32_t e = options.exclusion_of_row[i];
      const std::string exclusion = detail::ExclusionDrop(
          e, options.exclusion_reasons, times ? times + i : nullptr, span, exclusion_state[group]);
      if (!exclusion.empty()) {
        ++out.dropped[exclusion];
        out.excluded += e >= 0 ? 1 : 0;
        continue;
      }
    }
    const double* row = rows.values.data() + i * width;
    const RowProblem p = detail::TrainingRowProblem(rows.problems[i], row, width);
    if (p.issue != RowIssue::kNone) {
      // A run of rows with one problem (a week of warm-up) counts under one reason, made once.
      if (p.issue != last.issue || p.column != last.column || last_count == nullptr) {
        last = p;
        last_count = &out.dropped[FeatureRows::Describe(p, spec)];
      }
      ++*last_count;
      continue;
    }
    out.dense.insert(out.dense.end(), row, row + width);
    if (times != nullptr) {
      out.times.push_back(times[i]);
    }
  }
  return out;
}

}  // namespace

namespace detail {

TimeMs RollingSpan(const FeatureSpec& spec) {
  TimeMs span = 0;
  for (const DerivedFeature& d : spec.derived) span = std::max(span, d.in_memory_ms());
  return span;
}

void WeekCells::Add(TimeMs t) {
  // Weeks counted from a Monday (1970-01-05), floor division for earlier times.
  const TimeMs since = t - 4 * kDayMs;
  int64_t week = since / kWeekMs;
  if (since % kWeekMs != 0 && since < 0) {
    --week;
  }
  cells_.emplace(HourOfWeek(t), week);
}

int32_t WeekCells::FullWeeks() const {
  std::vector<int32_t> per_hour(168, 0);
  for (const auto& c : cells_) {
    ++per_hour[static_cast<size_t>(c.first)];
  }
  return *std::min_element(per_hour.begin(), per_hour.end());
}

std::string ExclusionDrop(int32_t e, const std::vector<std::string>& reasons, const TimeMs* t,
                          TimeMs span, ExclusionState& state) {
  if (e >= 0) {
    if (t != nullptr) {
      state.has_last = true;
      state.last = *t;
    }
    return "excluded: " + reasons[static_cast<size_t>(e)];
  }
  if (t != nullptr && span > 0 && state.has_last && *t - state.last < span) {
    return "re-warming after an excluded window";
  }
  return "";
}

RowProblem TrainingRowProblem(RowProblem p, const double* row, size_t width) {
  if (p.issue == RowIssue::kNone) {
    for (size_t j = 0; j < width; ++j) {
      if (std::fabs(row[j]) > FLT_MAX) {
        return {RowIssue::kOutOfRange, static_cast<int32_t>(j)};
      }
    }
  }
  return p;
}

Status CheckEnoughLeft(bool has_exclusions, size_t n, size_t used, size_t excluded) {
  if (!has_exclusions) return Status::Ok();
  if (2 * excluded > n || used < kMinRowsAfterExclusion) {
    return Status(ErrorCode::kBadInput,
                  "too little training data after exclusions: " + std::to_string(excluded) +
                      " of " + std::to_string(n) + " rows excluded, " + std::to_string(used) +
                      " usable rows left (need at least " + std::to_string(kMinRowsAfterExclusion) +
                      " and at most half of the rows excluded)");
  }
  return Status::Ok();
}

// The training rows scaled and cast to float32, as scikit-learn fits; a scaled value beyond
// float32's range is refused.
Result<std::vector<float>> ScaledFloat32(const Scaler& scaler, const FeatureSpec& spec,
                                         const std::vector<double>& dense, size_t used) {
  const size_t width = spec.width();
  std::vector<float> x32(used * width);
  std::vector<double> buf(width);
  for (size_t i = 0; i < used; ++i) {
    std::copy_n(dense.data() + i * width, width, buf.data());
    scaler.TransformRow(buf.data());
    for (size_t j = 0; j < width; ++j) {
      if (std::fabs(buf[j]) > FLT_MAX) {
        return Status(ErrorCode::kBadInput,
                      "scaled value of " + spec.ColumnNames()[j] + " exceeds float32 range");
      }
      x32[i * width + j] = static_cast<float>(buf[j]);
    }
  }
  return x32;
}

std::vector<std::string> TrainingWarnings(const Model& model, size_t used,
                                          bool contamination_explicit) {
  std::vector<std::string> w;
  const IForestParams& p = model.params;
  if (p.max_samples.kind == MaxSamples::Kind::kCount && p.max_samples.count > int64_t(used)) {
    w.push_back("max_samples " + std::to_string(p.max_samples.count) + " is more than the " +
                std::to_string(used) + " usable rows; used " + std::to_string(used) +
                " (as scikit-learn does)");
  }
  if (model.info.has_time) {
    const double days =
        static_cast<double>(model.info.window_end_ms - model.info.window_start_ms) / kDayMs;
    if (days < 14.0) {
      char buf[64];
      std::snprintf(buf, sizeof buf, "%.1f", days);
      w.push_back("only " + std::string(buf) +
                  " days of history: train on at least two full weeks (better 90 days), or "
                  "hour-of-week patterns and weekly events look anomalous");
    } else if (model.info.full_weeks < 2) {
      w.push_back(
          "some hours of the week are covered by fewer than two weeks of data: "
          "gaps in history make those hours look anomalous");
    }
  }
  if (!contamination_explicit) {
    w.push_back("contamination was not given: using '" + p.contamination.ToString() +
                "', which flags " + Percent(model.info.flagged_fraction) +
                " of the training rows; choose it explicitly (e.g. --contamination 0.02)");
  }
  return w;
}

}  // namespace detail

Result<Model> TrainModel(const FeatureSpec& spec, const TimeMs* times,
                         const std::vector<const double*>& series, size_t n,
                         const TrainOptions& options) {
  if (!options.group_of_row.empty() && options.group_of_row.size() != n) {
    return Status(ErrorCode::kInvalidArgument, "group_of_row must have one entry per row");
  }
  if (Status s = CheckExclusions(options, n); !s.ok()) return s;
  std::vector<std::vector<double>> masked;
  auto rows_or =
      BuildFeatureRows(spec, times, MaskExcluded(options, series, n, masked), n,
                       options.group_of_row.empty() ? nullptr : options.group_of_row.data());
  if (!rows_or.ok()) {
    return rows_or.status();
  }
  FeatureRows& rows = *rows_or;  // its values become the training rows when all are usable
  const size_t width = rows.width;

  Model model;
  model.spec = spec;
  model.params = options.params;
  model.info.engine_version = kEngineVersion;
  model.info.created_ms = options.created_ms;
  model.info.contamination_explicit = options.contamination_explicit;
  model.info.source = options.source;
  model.info.rows_total = static_cast<int64_t>(n);

  UsableRows kept = SelectUsableRows(spec, times, rows, options, n);
  const std::vector<double>& dense = kept.dense;
  const std::map<std::string, int64_t>& dropped = kept.dropped;
  const size_t excluded = kept.excluded;
  const size_t used = width ? dense.size() / width : 0;
  model.info.rows_used = static_cast<int64_t>(used);
  model.info.rows_dropped = static_cast<int64_t>(n - used);
  for (const auto& [reason, count] : dropped) {
    model.info.dropped_by_reason.emplace_back(reason, count);
  }
  if (Status s = detail::CheckEnoughLeft(!options.exclusion_of_row.empty(), n, used, excluded);
      !s.ok())
    return s;
  if (used == 0) {
    return Status(ErrorCode::kBadInput,
                  "no usable training rows: all " + std::to_string(n) +
                      " rows have missing or invalid values" +
                      (dropped.empty() ? std::string() : " (" + dropped.begin()->first + ")"));
  }

  auto scaler = FitScaler(options.scaler, dense.data(), used, width);
  if (!scaler.ok()) {
    return scaler.status();
  }
  model.scaler = std::move(scaler).value();
  auto x32 = detail::ScaledFloat32(model.scaler, spec, dense, used);
  if (!x32.ok()) return x32.status();
  auto forest = FitForest(x32->data(), used, width, options.params, options.for_ranges);
  if (!forest.ok()) {
    return forest.status();
  }
  model.forest = std::move(forest).value();

  if (!kept.times.empty()) {
    model.info.has_time = true;
    auto [lo, hi] = std::minmax_element(kept.times.begin(), kept.times.end());
    model.info.window_start_ms = *lo;
    model.info.window_end_ms = *hi;
    detail::WeekCells cells;
    for (TimeMs t : kept.times) cells.Add(t);
    model.info.full_weeks = cells.FullWeeks();
  }
  Status finished = FinishModel(model, dense, false, options.score_dense);
  if (!finished.ok()) {
    return finished;
  }

  // The origin team's mistakes, said out loud at training time.
  model.info.warnings = detail::TrainingWarnings(model, used, options.contamination_explicit);
  return model;
}

Result<ModelScorer> ModelScorer::Create(const Model& model, ForestScorer::Walk walk) {
  const size_t width = model.spec.width();
  if (static_cast<size_t>(model.forest.n_features) != width) {
    return Status(ErrorCode::kCorrupt,
                  "the forest expects " + std::to_string(model.forest.n_features) +
                      " features but the feature spec builds " + std::to_string(width));
  }
  if (model.scaler.kind == Scaler::Kind::kStandard &&
      (model.scaler.mean.size() != width || model.scaler.scale.size() != width)) {
    return Status(ErrorCode::kCorrupt, "the scaler does not match the feature count");
  }
  for (double s : model.scaler.scale) {
    if (!std::isfinite(s) || s == 0.0) {
      return Status(ErrorCode::kCorrupt, "the scaler has a zero or non-finite scale");
    }
  }
  auto forest = ForestScorer::Compile(model.forest, walk);
  if (!forest.ok()) {
    return forest.status();
  }
  ModelScorer s;
  s.scaler_ = model.scaler;
  s.forest_ = std::move(forest).value();
  s.offset_ = model.offset;
  s.width_ = width;
  return s;
}

bool ModelScorer::Prepare(const double* features, float* out, int32_t* bad_column) const {
  double buf[256];
  std::vector<double> big;
  double* row = buf;
  if (width_ > 256) {
    big.resize(width_);
    row = big.data();
  }
  std::copy_n(features, width_, row);
  scaler_.TransformRow(row);
  for (size_t j = 0; j < width_; ++j) {
    if (!(std::fabs(row[j]) <= FLT_MAX)) {
      *bad_column = static_cast<int32_t>(j);
      return false;
    }
    out[j] = static_cast<float>(row[j]);
  }
  return true;
}

RowScore ModelScorer::FromPathSum(double path_sum) const {
  RowScore s;
  s.anomaly_score = forest_.AnomalyScore(path_sum);
  s.decision = -s.anomaly_score - offset_;
  s.is_anomaly = s.decision < 0.0;
  return s;
}

RowScore ModelScorer::ScoreFeatures(const double* features) const {
  RowProblem p = CheckRow(features, width_);
  if (p.issue != RowIssue::kNone) {
    return {p.issue, p.column, 0, 0, false};
  }
  float x32[256];
  std::vector<float> big;
  float* row = x32;
  if (width_ > 256) {
    big.resize(width_);
    row = big.data();
  }
  int32_t bad = -1;
  if (!Prepare(features, row, &bad)) {
    return {RowIssue::kOutOfRange, bad, 0, 0, false};
  }
  return FromPathSum(forest_.PathSum(row));
}

std::vector<RowScore> ModelScorer::ScoreDense(const double* values, const RowProblem* problems,
                                              size_t n) const {
  std::vector<RowScore> out(n);
  // The scoreable rows as float32, each prepared in place (a row that fails is overwritten).
  std::vector<float> x32(n * width_);
  std::vector<size_t> index;
  index.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    const double* row = values + i * width_;
    RowProblem p = problems != nullptr ? problems[i] : CheckRow(row, width_);
    if (p.issue != RowIssue::kNone) {
      out[i] = {p.issue, p.column, 0, 0, false};
      continue;
    }
    int32_t bad = -1;
    if (!Prepare(row, x32.data() + index.size() * width_, &bad)) {
      out[i] = {RowIssue::kOutOfRange, bad, 0, 0, false};
      continue;
    }
    index.push_back(i);
  }
  std::vector<double> sums(index.size());
  forest_.PathSums(x32.data(), index.size(), sums.data());
  for (size_t k = 0; k < index.size(); ++k) {
    out[index[k]] = FromPathSum(sums[k]);
  }
  return out;
}

std::vector<RowScore> ModelScorer::ScoreRows(const FeatureRows& rows) const {
  return ScoreDense(rows.values.data(), rows.problems.data(), rows.rows);
}

Status ModelScorer::CheckCanaries(const std::vector<Canary>& canaries) const {
  for (const Canary& c : canaries) {
    if (c.features.size() != width_) {
      return Status(ErrorCode::kCorrupt, "canary '" + c.label + "' has the wrong width");
    }
    const RowScore s = ScoreFeatures(c.features.data());
    if (!s.ok() || !(std::fabs(s.anomaly_score - c.anomaly_score) <= kCanaryTolerance)) {
      return Status(ErrorCode::kCanaryMismatch,
                    "canary '" + c.label + "' scores " +
                        (s.ok() ? FormatShortest(s.anomaly_score) : std::string("nothing")) +
                        " but the model was trained to give " + FormatShortest(c.anomaly_score) +
                        ": this engine or this file no longer reproduces the model; do not "
                        "serve it (retrain, or roll back to the engine that wrote it)");
    }
  }
  return Status::Ok();
}

}  // namespace isoscope
