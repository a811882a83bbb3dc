#include "isoscope/baseline.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

namespace isoscope {
namespace {

// The largest |z| so far is kept as the bits of a double: |z| >= 0, and non-negative doubles
// order as their bits do as integers, so the running maximum is an integer one. A maximum of
// two doubles is a branch in WebAssembly engines, and it mispredicts on noisy inputs (the
// panel's baseline took twice as long as natively that way).
constexpr int64_t kNoZ = std::numeric_limits<int64_t>::min();

int64_t Bits(double v) {
  int64_t b;
  std::memcpy(&b, &v, sizeof b);
  return b;
}

// One input's |z| per row: a window of earlier rows slides forward with running sums of
// deviations from a fixed shift (the first value), which keeps the variance accurate for
// levels far from zero.
void InputZ(const std::vector<TimeMs>& times, const double* x, TimeMs window_ms, size_t min_rows,
            std::vector<int64_t>& best) {
  const size_t n = times.size();
  double shift = 0;
  for (size_t i = 0; i < n; ++i) {
    if (!std::isnan(x[i])) {
      shift = x[i];
      break;
    }
  }
  double sum = 0, sum2 = 0;
  size_t count = 0, lo = 0;
  for (size_t i = 0; i < n; ++i) {
    // The window holds rows lo..i-1 with times in (t_i - window, t_i).
    while (lo < i && times[lo] <= times[i] - window_ms) {
      if (!std::isnan(x[lo])) {
        const double d = x[lo] - shift;
        sum -= d;
        sum2 -= d * d;
        --count;
      }
      ++lo;
    }
    if (!std::isnan(x[i]) && count >= min_rows) {
      const double c = static_cast<double>(count);
      const double mean = sum / c;
      const double var = std::max(0.0, sum2 / c - mean * mean);
      if (var > 0) {
        const double z = std::fabs(x[i] - shift - mean) / std::sqrt(var);
        if (!std::isnan(z)) best[i] = std::max(best[i], Bits(z));  // as std::max ignored it
      }
    }
    if (!std::isnan(x[i])) {
      const double d = x[i] - shift;
      sum += d;
      sum2 += d * d;
      ++count;
    }
  }
}

}  // namespace

std::vector<double> RollingZScoreBaseline(const std::vector<TimeMs>& times,
                                          const std::vector<const double*>& series,
                                          TimeMs window_ms, size_t min_rows) {
  std::vector<int64_t> best(times.size(), kNoZ);
  for (const double* x : series) InputZ(times, x, window_ms, std::max<size_t>(min_rows, 2), best);
  std::vector<double> out(best.size());
  for (size_t i = 0; i < best.size(); ++i) {
    if (best[i] == kNoZ) {
      out[i] = std::nan("");
    } else {
      std::memcpy(&out[i], &best[i], sizeof out[i]);
    }
  }
  return out;
}

}  // namespace isoscope
