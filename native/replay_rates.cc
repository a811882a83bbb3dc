#include "replay_rates.h"

#include <cmath>

namespace isoscope::native {

TimeMs ScoredTime(const std::vector<TimeMs>& times, const std::vector<double>& scores,
                  const ReplayConfig& config, const ReplayResult& r) {
  TimeMs scored = 0;
  for (TimeMs now = r.start_ms; now < r.end_ms; now += config.eval_interval_ms) {
    if (AvgOverTime(times, scores, now, config.smooth_ms)) scored += config.eval_interval_ms;
  }
  return scored;
}

void RatesPerScoredWeek(ReplayResult& r, TimeMs scored_ms) {
  const double weeks = static_cast<double>(scored_ms) / static_cast<double>(kWeekMs);
  auto per_week = [&](size_t count) {
    return scored_ms > 0 ? static_cast<double>(count) / weeks : std::nan("");
  };
  r.warning.firings_per_week = per_week(r.warning.firing.size());
  r.critical.firings_per_week = per_week(r.critical.firing.size());
  r.pages_per_week = per_week(r.pages);
  r.false_pages_per_week = per_week(r.false_pages);
}

}  // namespace isoscope::native
