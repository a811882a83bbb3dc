#pragma once

#include <cstddef>
#include <vector>

#include "isoscope/features.h"

namespace isoscope {

/// The plain rule a forest has to beat, replayed beside every verdict: per input, the z-score
/// of the row against the rows of the window (t - window, t) before it, |x - mean| / std; the
/// largest over the inputs. NaN where no input has `min_rows` earlier rows in its window, a
/// standard deviation of 0, or a value (a missing input is skipped).
std::vector<double> RollingZScoreBaseline(const std::vector<TimeMs>& times,
                                          const std::vector<const double*>& series,
                                          TimeMs window_ms, size_t min_rows = 12);

/// The baseline rule replay reports: a day's window, pages at |z| > 4, warnings at |z| > 3
/// (the rule the SRE compared isoscope with: 0 to 9 pages a week, 6 of 8 incidents).
constexpr TimeMs kBaselineWindowMs = kDayMs;
constexpr double kBaselineCriticalZ = 4.0;
constexpr double kBaselineWarningZ = 3.0;

}  // namespace isoscope
