#pragma once

// Training exclusions (issue 17): rows inside known windows (incidents, maintenance) are left
// out of training (TrainOptions::exclusion_of_row).

#include <string>
#include <vector>

#include "isoscope/alert.h"
#include "isoscope/model.h"
#include "prom_json.h"

namespace isoscope::native {

/// Marks the rows whose time falls in a window [start, end) as excluded: each window is one
/// reason, "<label> <name>" (e.g. "--exclude outage-1"); a row in several windows counts for
/// the first. Rows without a time (INT64_MIN) are never excluded.
/// `only` (optional, one flag per row): only the rows flagged may be excluded (one group's).
void ExcludeWindows(const std::vector<TimeMs>& times, const std::vector<IncidentWindow>& windows,
                    const std::string& label, TrainOptions& options,
                    const std::vector<char>& only = {});

/// Marks the rows whose minute of the week falls in one of `weekly` as excluded, for `reason`.
void ExcludeWeekly(const std::vector<TimeMs>& times, const std::vector<WeeklyWindow>& weekly,
                   const std::string& reason, TrainOptions& options);

/// The windows [t - margin, t + step + margin) around every sample of `series` whose value is
/// > 0, merged where they touch: the times a PromQL condition held (exclude_when:, ALERTS).
std::vector<IncidentWindow> WindowsWhere(const std::vector<PromSeries>& series, TimeMs step_ms,
                                         TimeMs margin_ms, const std::string& name);

}  // namespace isoscope::native
