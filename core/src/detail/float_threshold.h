// The forest compares float32 features with float64 thresholds, as scikit-learn does; the
// scorer and the explainer store each threshold as the float32 that makes the same decision.
#pragma once

#include <cmath>
#include <limits>

namespace isoscope::detail {

/// For every float32 x: x <= t  <=>  x <= FloorToFloat(t). So a 4-byte threshold makes exactly
/// scikit-learn's float32-vs-float64 decision.
inline float FloorToFloat(double t) {
  float f = static_cast<float>(t);
  if (static_cast<double>(f) > t) {
    f = std::nextafter(f, -std::numeric_limits<float>::infinity());
  }
  return f;
}

}  // namespace isoscope::detail
