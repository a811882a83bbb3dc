// What `--derived auto` reads from the data: the step, the span, and whether the history
// shows a daily or weekly cycle (docs/features.md gives the rules and the measurements).
#include <cmath>
#include <limits>
#include <unordered_map>

#include "isoscope/features.h"

namespace isoscope {
namespace {

// Pearson r of the pairs (x at grid slot k, x at slot k - lag) present in `grid`.
double LagCorrelation(const std::unordered_map<int64_t, double>& grid, int64_t lag) {
  double n = 0, sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
  for (const auto& [slot, x] : grid) {
    const auto it = grid.find(slot - lag);
    if (it == grid.end()) continue;
    const double y = it->second;
    n += 1;
    sx += x;
    sy += y;
    sxx += x * x;
    syy += y * y;
    sxy += x * y;
  }
  if (n < 3) return std::nan("");
  const double vx = sxx - sx * sx / n, vy = syy - sy * sy / n;
  if (!(vx > 0 && vy > 0)) return std::nan("");
  return (sxy - sx * sy / n) / std::sqrt(vx * vy);
}

}  // namespace

CycleEvidence MeasureCycle(const TimeMs* times, const double* values, size_t n, TimeMs step_ms,
                           TimeMs period_ms) {
  CycleEvidence e;
  e.autocorrelation = e.half_period = std::nan("");
  if (n < 2 || step_ms <= 0 || period_ms < 2 * step_ms) return e;
  e.cycles = static_cast<double>(times[n - 1] - times[0]) / static_cast<double>(period_ms);
  // Rows on the step grid (the nearest slot; a later row in the same slot wins), so gaps and
  // jitter do not shift the pairs.
  std::unordered_map<int64_t, double> grid;
  grid.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    if (std::isnan(values[i])) continue;
    const TimeMs d = times[i] - times[0];
    grid[(d + step_ms / 2) / step_ms] = values[i];
  }
  const int64_t lag = (period_ms + step_ms / 2) / step_ms;
  e.autocorrelation = LagCorrelation(grid, lag);
  e.half_period = LagCorrelation(grid, lag / 2);
  e.shown = e.cycles >= kMinCycles && e.autocorrelation >= kMinCycleAutocorrelation &&
            !(e.half_period > e.autocorrelation - kMinCycleMargin);
  return e;
}

AutoContext MeasureAutoContext(const TimeMs* times, const std::vector<const double*>& series,
                               size_t n, bool deploy_windows) {
  AutoContext c;
  c.deploy_windows = deploy_windows;
  if (times == nullptr || n < 2) return c;
  c.step_ms = MedianStep(times, n);
  c.span_ms = times[n - 1] - times[0];
  c.measured = true;
  for (const double* x : series) {
    c.daily = c.daily || MeasureCycle(times, x, n, c.step_ms, kDayMs).shown;
    c.weekly = c.weekly || MeasureCycle(times, x, n, c.step_ms, kWeekMs).shown;
  }
  return c;
}

}  // namespace isoscope
