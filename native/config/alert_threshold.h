#pragma once

// Warning and critical thresholds as users write them: a fixed anomaly score ("0.53"), or a
// share of the model's training rows ("1%", "contamination", "contamination/2"). Shares follow
// the model: a retrain, a new contamination or a library that shifts every score moves the
// boundary with it, which fixed scores (the origin team's 0.65 and 0.85, which these models
// rarely reach) do not. `isoscope replay`, the config's `alerts:`, `isoscope rules` and the
// daemon all parse and resolve them here.

#include <string>

#include "isoscope/model.h"
#include "isoscope/status.h"

namespace isoscope::native {

struct AlertThreshold {
  enum class Kind {
    kScore,          ///< value: the anomaly score itself, in (0, 1)
    kShare,          ///< value: a share of training rows in (0, 0.5], written "1%"
    kContamination,  ///< value: N of "contamination/N" (1 for "contamination")
  };
  Kind kind = Kind::kContamination;
  double value = 1;
  std::string text = "contamination";  ///< as written

  /// A fixed score, as "0.6" parses.
  static AlertThreshold Score(double score);
  bool relative() const { return kind != Kind::kScore; }
  /// The anomaly-score threshold for `model`: the score itself, or the threshold of the
  /// model's quantile table at the share of training rows.
  Result<double> Resolve(const Model& model) const;
  /// Whether `other` is at least as strict for every model (the critical threshold must be,
  /// against the warning one); unknown (true) when they mix scores, shares and contamination.
  bool AtLeastAsStrictAs(const AlertThreshold& other) const;
};

/// Parses a threshold; the error says what was wrong and shows every form.
Result<AlertThreshold> ParseAlertThreshold(const std::string& text);

/// The share of training rows behind the model's anomaly threshold: its explicit contamination,
/// or for "auto" the share it flagged in training.
double TrainedShare(const Model& model);

}  // namespace isoscope::native
