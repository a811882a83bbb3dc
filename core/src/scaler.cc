#include "isoscope/scaler.h"

#include <cfloat>
#include <cmath>

namespace isoscope {

void Scaler::TransformRow(double* row) const {
  if (kind == Kind::kNone) {
    return;
  }
  for (size_t j = 0; j < mean.size(); ++j) {
    row[j] = (row[j] - mean[j]) / scale[j];
  }
}

Result<Scaler> FitScaler(Scaler::Kind kind, const double* x, size_t n, size_t d) {
  Scaler s;
  s.kind = kind;
  s.mean.assign(d, 0.0);
  s.scale.assign(d, 1.0);
  if (kind == Scaler::Kind::kNone) {
    return s;
  }
  if (n == 0) {
    return Status(ErrorCode::kBadInput, "cannot fit a scaler on zero rows");
  }
  // numpy reduces axis 0 of a C-ordered array row by row, so these plain running sums add
  // in the same order as sklearn's np.sum(X, axis=0).
  std::vector<double> sum(d, 0.0);
  for (size_t i = 0; i < n; ++i) {
    for (size_t j = 0; j < d; ++j) {
      sum[j] += x[i * d + j];
    }
  }
  const auto count = static_cast<double>(n);
  std::vector<double> t(d), correction(d, 0.0), sq(d, 0.0);
  for (size_t j = 0; j < d; ++j) {
    s.mean[j] = sum[j] / count;
    t[j] = sum[j] / count;
  }
  for (size_t i = 0; i < n; ++i) {
    for (size_t j = 0; j < d; ++j) {
      const double diff = x[i * d + j] - t[j];
      correction[j] += diff;
      sq[j] += diff * diff;
    }
  }
  for (size_t j = 0; j < d; ++j) {
    const double unnormalized = sq[j] - correction[j] * correction[j] / count;
    const double var = unnormalized / count;
    // sklearn's _is_constant_feature: variance within rounding noise of zero keeps scale 1.
    const double eps = DBL_EPSILON;
    const double upper = count * eps * var + (count * s.mean[j] * eps) * (count * s.mean[j] * eps);
    s.scale[j] = var <= upper ? 1.0 : std::sqrt(var);
  }
  return s;
}

}  // namespace isoscope
