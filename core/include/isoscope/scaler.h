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

/// A scaler fitted over rows that arrive in pieces, with FitScaler's arithmetic bit for bit:
/// sklearn's StandardScaler sums the columns, then sums (x - mean) and (x - mean)^2 in a second
/// pass (the corrected two-pass variance), so this needs the same rows twice, in the same
/// order: Add(row) for every row, StartSecondPass(), Add(row) again for every row, Finish().
/// Memory: three numbers per column, whatever the row count.
class ScalerAccumulator {
 public:
  ScalerAccumulator(Scaler::Kind kind, size_t d);
  void Add(const double* row);
  /// Fixes the mean from the first pass's sums; the rows then run again.
  void StartSecondPass();
  /// The scaler; kBadInput for zero rows, kInvalidArgument if a pass is incomplete.
  Result<Scaler> Finish() const;
  size_t rows() const { return n_; }

 private:
  Scaler::Kind kind_;
  size_t d_;
  int pass_ = 1;
  size_t n_ = 0, n_second_ = 0;
  std::vector<double> sum_, mean_, correction_, sq_;
};

/// Fits a scaler of `kind` on row-major data (n rows, d columns), following scikit-learn
/// 1.2's StandardScaler.fit arithmetic (sum, corrected two-pass variance, constant check).
Result<Scaler> FitScaler(Scaler::Kind kind, const double* x, size_t n, size_t d);

}  // namespace isoscope
