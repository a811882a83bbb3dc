#pragma once

// Warning and critical thresholds as users write them: a fixed anomaly score ("0.53"), a
// share of the model's training rows ("1%", "contamination", "contamination/2"), or a
// calibrated surprise ("surprise:4": anomaly_surprise >= 4, a tail probability of at most 1e-4
// under the model's own training scores, core/calibration.h). Shares follow
// the model: a retrain, a new contamination or a library that shifts every score moves the
// boundary with it, which fixed scores (the origin team's 0.65 and 0.85, which these models
// rarely reach) do not. `isoscope replay`, the config's `alerts:`, `isoscope rules` and the
// daemon all parse and resolve them here. A surprise means the same on every model, stream and
// group, so one surprise threshold serves a fleet of detectors where a score would need one
// value per model; a severity given as a surprise is compared with the smoothed
// anomaly_surprise instead of the smoothed anomaly_score.

#include <string>

#include "isoscope/model.h"
#include "isoscope/status.h"

namespace isoscope::native {

struct AlertThreshold {
  enum class Kind {
    kScore,          ///< value: the anomaly score itself, in (0, 1)
    kShare,          ///< value: a share of training rows in (0, 0.5], written "1%"
    kContamination,  ///< value: N of "contamination/N" (1 for "contamination")
    kSurprise,       ///< value: the anomaly_surprise (-log10 tail probability), > 0
  };
  Kind kind = Kind::kContamination;
  double value = 1;
  std::string text = "contamination";  ///< as written

  /// A fixed score, as "0.6" parses.
  static AlertThreshold Score(double score);
  /// Resolved per model (a share or contamination), as opposed to a fixed score or surprise.
  bool relative() const { return kind == Kind::kShare || kind == Kind::kContamination; }
  /// Compared with the (smoothed) anomaly_surprise rather than the anomaly_score.
  bool on_surprise() const { return kind == Kind::kSurprise; }
  /// The threshold for `model`: the score itself, the threshold of the model's quantile
  /// table at the share of training rows, or the surprise itself (an error when the model
  /// carries no score calibration: a bundle older than format 1.3 has no surprise).
  Result<double> Resolve(const Model& model) const;
  /// Whether `other` is at least as strict for every model (the critical threshold must be,
  /// against the warning one); unknown (true) when they mix scores, shares, contamination and
  /// surprises.
  bool AtLeastAsStrictAs(const AlertThreshold& other) const;
};

/// Parses a threshold; the error says what was wrong and shows every form.
Result<AlertThreshold> ParseAlertThreshold(const std::string& text);

/// The share of training rows behind the model's anomaly threshold: its explicit contamination,
/// or for "auto" the share it flagged in training.
double TrainedShare(const Model& model);

}  // namespace isoscope::native
