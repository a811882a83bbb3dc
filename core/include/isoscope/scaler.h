#pragma once

#include <cstddef>
#include <vector>

#include "isoscope/status.h"

namespace isoscope {

/// Column scaling applied before the forest. kStandard has sklearn StandardScaler semantics:
/// population std, and a column whose variance is (numerically) zero keeps scale 1.
struct Scaler {
  enum class Kind { kNone, kStandard };
  Kind kind = Kind::kNone;
  std::vector<double> mean;   ///< per column (0 for kNone)
  std::vector<double> scale;  ///< per column (1 for kNone)

  /// (x - mean) / scale, in place, for one row of mean.size() values.
  void TransformRow(double* row) const;
};

/// Fits a scaler of `kind` on row-major data (n rows, d columns), following scikit-learn
/// 1.2's StandardScaler.fit arithmetic (sum, corrected two-pass variance, constant check).
Result<Scaler> FitScaler(Scaler::Kind kind, const double* x, size_t n, size_t d);

}  // namespace isoscope
