#pragma once

#include <vector>

#include "isoscope/status.h"

namespace isoscope {

/// numpy.percentile(values, q) with the default "linear" method, bit for bit, over values
/// sorted ascending; q in [0, 100]. This is how sklearn turns contamination into offset_.
double PercentileLinear(const std::vector<double>& sorted, double q);

/// Anomaly-score thresholds of the training scores on a fixed contamination grid, so that a
/// threshold for another contamination can be chosen later (in the panel) without the data.
struct QuantileTable {
  std::vector<double> contamination;  ///< ascending, kMinContamination .. kMaxContamination
  std::vector<double> threshold;      ///< anomaly-score threshold at each grid point
};

constexpr double kMinContamination = 0.0005;
constexpr double kMaxContamination = 0.5;

/// Builds the table from sklearn score_samples of the training rows, sorted ascending.
QuantileTable BuildQuantileTable(const std::vector<double>& sorted_score_samples);

/// The anomaly-score threshold for contamination c in [0.0005, 0.5]: exact on grid points,
/// linear in c between them.
Result<double> InterpolateThreshold(const QuantileTable& table, double c);

}  // namespace isoscope
