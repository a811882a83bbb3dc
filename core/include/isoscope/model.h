#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "isoscope/calibration.h"
#include "isoscope/detail/forest_scorer.h"
#include "isoscope/features.h"
#include "isoscope/iforest.h"
#include "isoscope/scaler.h"
#include "isoscope/status.h"
#include "isoscope/threshold.h"

namespace isoscope {

/// A fixed input (a feature vector, before scaling) and the anomaly score the model gave it
/// when it was trained. Every load re-scores these: a mismatch means the engine or the file
/// changed what the model says, which is the failure that silenced the origin team's alerts.
struct Canary {
  std::string label;
  std::vector<double> features;
  double anomaly_score = 0;
};

/// Facts about the training run, kept in the bundle and printed by train and inspect.
struct TrainingInfo {
  std::string engine_version;
  TimeMs created_ms = 0;
  bool has_time = false;
  TimeMs window_start_ms = 0;
  TimeMs window_end_ms = 0;
  int64_t rows_total = 0;
  int64_t rows_used = 0;
  int64_t rows_dropped = 0;
  std::vector<std::pair<std::string, int64_t>> dropped_by_reason;
  int32_t full_weeks = 0;       ///< weeks in which every hour of the week has data (min over hours)
  double flagged_fraction = 0;  ///< training rows with anomaly_score > threshold
  bool contamination_explicit = false;
  std::string source;  ///< "csv:FILE", "prometheus", "sklearn-import", ...
  std::vector<std::string> warnings;
};

/// The group a per-group model was trained for (`model: per: group`, format 1.5): its label
/// set -- the detector and group_by labels, sorted by name -- and its group hash as 16 lowercase
/// hex digits (the store's directory name; the native side computes it). Empty for a pooled
/// model and for every bundle written before 1.5.
struct ModelGroup {
  std::vector<std::pair<std::string, std::string>> labels;
  std::string hash;
  bool empty() const { return hash.empty(); }
};

/// Everything a bundle holds. Scoring needs spec + scaler + forest + offset; the rest makes
/// the model explainable and checkable.
struct Model {
  std::string model_version;  ///< YYYYMMDD-<content hash>
  IForestParams params;
  FeatureSpec spec;
  Scaler scaler;
  Forest forest;
  double offset = -0.5;  ///< sklearn offset_; the anomaly-score threshold is -offset
  QuantileTable quantiles;
  /// The training rows' anomaly scores summarised, for the calibrated surprise (format 1.3;
  /// count 0 in older bundles and imports without training rows: no surprise then).
  ScoreCalibration calibration;
  std::vector<Canary> canaries;
  TrainingInfo info;
  ModelGroup group;  ///< per-group models only (format 1.5)

  double threshold() const { return -offset; }
  /// Anomaly-score threshold for another contamination (exact at the trained one).
  Result<double> ThresholdFor(double contamination) const;
};

/// One row's outcome: a score, or the reason there is none.
struct RowScore {
  RowIssue issue = RowIssue::kNone;
  int32_t column = -1;
  double anomaly_score = 0;  ///< s(x) in (0, 1]; sklearn's -score_samples
  double decision = 0;       ///< sklearn decision_function: score_samples - offset_
  bool is_anomaly = false;   ///< anomaly_score > threshold (sklearn predict == -1)
  bool ok() const { return issue == RowIssue::kNone; }
};

class ModelScorer;

/// Scores n row-major training rows (all usable) as ModelScorer::ScoreDense does. The core
/// runs on one thread; a caller with threads passes one that splits the rows (the results
/// must be ScoreDense's, bit for bit).
using DenseScoreFn =
    std::function<std::vector<RowScore>(const ModelScorer&, const double* values, size_t n)>;

struct TrainOptions {
  IForestParams params;
  Scaler::Kind scaler = Scaler::Kind::kStandard;
  bool contamination_explicit = false;
  TimeMs created_ms = 0;  ///< the caller's clock: the core has none
  std::string source;
  /// Rows of several groups (Prometheus's jobs): each row's group, so temporal features
  /// are computed per group (BuildFeatureRows). Empty: one series.
  std::vector<int32_t> group_of_row;
  /// The training-score pass behind offset, quantiles and calibration; empty: ScoreDense.
  DenseScoreFn score_dense;
  /// Splits the fit's trees over the caller's threads; empty: one thread. The model is the
  /// same either way.
  ForRangesFn for_ranges;
  /// Rows left out of training (maintenance, incidents, the detector's own alerts): per row
  /// -1 (kept) or an index into `exclusion_reasons`; empty: none. Excluded rows enter the
  /// feature streams as missing values, so a look-up (lag, seasonal) that reads one warms up;
  /// and a kept row whose rolling window or smoothing (FeatureSpec in_memory_ms) reaches into an
  /// excluded row is dropped too ("re-warming after an excluded window"): no feature averages
  /// across an excluded window as if the data were contiguous. Training refuses
  /// (kBadInput) when exclusions leave fewer than kMinRowsAfterExclusion usable rows
  /// or take more than half of the rows.
  std::vector<int32_t> exclusion_of_row;
  std::vector<std::string> exclusion_reasons;
};

/// The fewest usable rows training accepts after exclusions: one default tree sample.
constexpr size_t kMinRowsAfterExclusion = 256;

/// Builds features, drops (and counts) unusable rows, fits scaler and forest, sets offset,
/// quantile table, canaries, report and model version.
Result<Model> TrainModel(const FeatureSpec& spec, const TimeMs* times,
                         const std::vector<const double*>& series, size_t n,
                         const TrainOptions& options);

/// Fills offset, quantiles, flagged fraction, canaries and model version of a model whose
/// spec, scaler and forest are set, given the training feature rows (usable rows only,
/// row-major, unscaled; may be empty: then there is no quantile table and the canaries probe
/// the range of the splits). `keep_offset` keeps model.offset (an imported sklearn offset_).
/// `score_dense` (optional) as TrainOptions's.
Status FinishModel(Model& model, const std::vector<double>& train_rows, bool keep_offset = false,
                   const DenseScoreFn& score_dense = {});

/// A model compiled for scoring. Cheap to copy around by reference; immutable.
class ModelScorer {
 public:
  /// `walk`: ForestScorer::Walk; the default takes the fastest walk this CPU has (same bits).
  static Result<ModelScorer> Create(const Model& model,
                                    ForestScorer::Walk walk = ForestScorer::Walk::kFastest);

  /// Scores one feature vector (spec width, unscaled).
  RowScore ScoreFeatures(const double* features) const;
  /// Scores n row-major feature vectors; `problems` (optional) marks rows known to be bad.
  std::vector<RowScore> ScoreDense(const double* values, const RowProblem* problems,
                                   size_t n) const;
  /// Scores every usable row of `rows`; rows with a problem get it back, not a number.
  std::vector<RowScore> ScoreRows(const FeatureRows& rows) const;
  /// Re-scores the canaries; kCanaryMismatch names the first that differs by more than 1e-12.
  Status CheckCanaries(const std::vector<Canary>& canaries) const;

  double threshold() const { return -offset_; }
  size_t width() const { return width_; }
  const ForestScorer& forest() const { return forest_; }
  /// Scales one row and casts it to float32 (the forest's input); false (with the column) if
  /// it leaves float range. The explainer routes the very values the forest scores.
  bool Prepare(const double* features, float* out, int32_t* bad_column) const;

 private:
  RowScore FromPathSum(double path_sum) const;

  Scaler scaler_;
  ForestScorer forest_;
  double offset_ = -0.5;
  size_t width_ = 0;
};

}  // namespace isoscope
