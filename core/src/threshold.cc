#include "isoscope/threshold.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "isoscope/text.h"

namespace isoscope {
namespace {

// 2001 points, log-spaced: neighbours are 0.35 % apart in contamination.
constexpr int kGridIntervals = 2000;

}  // namespace

double PercentileLinear(const std::vector<double>& sorted, double q) {
  const size_t n = sorted.size();
  if (n == 0) {
    return 0.0;
  }
  const double quantile = q / 100.0;
  const double virtual_index = static_cast<double>(n - 1) * quantile;
  if (virtual_index >= static_cast<double>(n - 1)) {
    return sorted[n - 1];
  }
  if (virtual_index < 0) {
    return sorted[0];
  }
  const double previous_index = std::floor(virtual_index);
  const auto lo = static_cast<size_t>(previous_index);
  const double gamma = virtual_index - previous_index;
  const double a = sorted[lo];
  const double b = sorted[lo + 1];
  const double diff = b - a;
  // numpy's _lerp: from the nearer end, so that t = 1 returns b exactly.
  return gamma >= 0.5 ? b - diff * (1.0 - gamma) : a + diff * gamma;
}

QuantileTable BuildQuantileTable(const std::vector<double>& sorted_score_samples) {
  QuantileTable t;
  const double ratio = kMaxContamination / kMinContamination;
  for (int i = 0; i <= kGridIntervals; ++i) {
    double c = kMinContamination * std::pow(ratio, static_cast<double>(i) / kGridIntervals);
    if (i == kGridIntervals) {
      c = kMaxContamination;
    }
    t.contamination.push_back(c);
    t.threshold.push_back(-PercentileLinear(sorted_score_samples, 100.0 * c));
  }
  return t;
}

Result<double> InterpolateThreshold(const QuantileTable& table, double c) {
  if (!(c >= kMinContamination && c <= kMaxContamination)) {
    return Status(ErrorCode::kInvalidArgument,
                  "contamination " + FormatShortest(c) + " is outside [0.0005, 0.5]");
  }
  const auto& g = table.contamination;
  if (g.size() < 2 || g.size() != table.threshold.size()) {
    return Status(ErrorCode::kCorrupt, "the model's quantile table is empty or inconsistent");
  }
  auto it = std::lower_bound(g.begin(), g.end(), c);
  if (it == g.end()) {
    return table.threshold.back();
  }
  const auto hi = static_cast<size_t>(it - g.begin());
  if (*it == c || hi == 0) {
    return table.threshold[hi];
  }
  const size_t lo = hi - 1;
  const double t = (c - g[lo]) / (g[hi] - g[lo]);
  return table.threshold[lo] + (table.threshold[hi] - table.threshold[lo]) * t;
}

}  // namespace isoscope
