#include "isoscope/scaler.h"

#include <cfloat>
#include <cmath>
#include <string>

namespace isoscope {

void Scaler::TransformRow(double* row) const {
  if (kind == Kind::kNone) {
    return;
  }
  for (size_t j = 0; j < mean.size(); ++j) {
    row[j] = (row[j] - mean[j]) / scale[j];
  }
}

ScalerAccumulator::ScalerAccumulator(Scaler::Kind kind, size_t d)
    : kind_(kind), d_(d), sum_(d, 0.0), mean_(d, 0.0), correction_(d, 0.0), sq_(d, 0.0) {}

void ScalerAccumulator::Add(const double* row) {
  if (kind_ == Scaler::Kind::kNone) {
    ++(pass_ == 1 ? n_ : n_second_);
    return;
  }
  if (pass_ == 1) {
    // numpy reduces axis 0 of a C-ordered array row by row, so these plain running sums add
    // in the same order as sklearn's np.sum(X, axis=0).
    for (size_t j = 0; j < d_; ++j) {
      sum_[j] += row[j];
    }
    ++n_;
    return;
  }
  for (size_t j = 0; j < d_; ++j) {
    const double diff = row[j] - mean_[j];
    correction_[j] += diff;
    sq_[j] += diff * diff;
  }
  ++n_second_;
}

void ScalerAccumulator::StartSecondPass() {
  const auto count = static_cast<double>(n_);
  for (size_t j = 0; j < d_; ++j) {
    mean_[j] = sum_[j] / count;
  }
  pass_ = 2;
}

Result<Scaler> ScalerAccumulator::Finish() const {
  Scaler s;
  s.kind = kind_;
  s.mean.assign(d_, 0.0);
  s.scale.assign(d_, 1.0);
  if (kind_ == Scaler::Kind::kNone) {
    return s;
  }
  if (n_ == 0) {
    return Status(ErrorCode::kBadInput, "cannot fit a scaler on zero rows");
  }
  if (pass_ != 2 || n_second_ != n_) {
    return Status(ErrorCode::kInvalidArgument, "the scaler's second pass saw " +
                                                   std::to_string(n_second_) + " rows, not " +
                                                   std::to_string(n_));
  }
  const auto count = static_cast<double>(n_);
  for (size_t j = 0; j < d_; ++j) {
    s.mean[j] = mean_[j];
    const double unnormalized = sq_[j] - correction_[j] * correction_[j] / count;
    const double var = unnormalized / count;
    // sklearn's _is_constant_feature: variance within rounding noise of zero keeps scale 1.
    const double eps = DBL_EPSILON;
    const double upper = count * eps * var + (count * s.mean[j] * eps) * (count * s.mean[j] * eps);
    s.scale[j] = var <= upper ? 1.0 : std::sqrt(var);
  }
  return s;
}

Result<Scaler> FitScaler(Scaler::Kind kind, const double* x, size_t n, size_t d) {
  if (kind == Scaler::Kind::kNone) {
    return ScalerAccumulator(kind, d).Finish();
  }
  if (n == 0) {
    return Status(ErrorCode::kBadInput, "cannot fit a scaler on zero rows");
  }
  ScalerAccumulator acc(kind, d);
  for (size_t i = 0; i < n; ++i) {
    acc.Add(x + i * d);
  }
  acc.StartSecondPass();
  for (size_t i = 0; i < n; ++i) {
    acc.Add(x + i * d);
  }
  return acc.Finish();
}

}  // namespace isoscope
