#pragma once

// Alert rates per week of scored time, for `isoscope replay` and the demo's table: a week in
// which the rules had no score to judge (a seasonal model warming up for three weeks, a gap in
// the data) cannot page, so counting it would make a noisy model look quiet.

#include <vector>

#include "isoscope/alert.h"

namespace isoscope::native {

/// The time the rules had a score to judge: the evaluations of `r` (Replay's instants) whose
/// smoothing window holds a score, times the evaluation interval.
TimeMs ScoredTime(const std::vector<TimeMs>& times, const std::vector<double>& scores,
                  const ReplayConfig& config, const ReplayResult& r);

/// Sets every rate of `r` (firings, pages and false pages per week) per week of `scored_ms`
/// instead of per week of the whole replay; NaN when nothing was scored.
void RatesPerScoredWeek(ReplayResult& r, TimeMs scored_ms);

}  // namespace isoscope::native
