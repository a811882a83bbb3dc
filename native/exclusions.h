#pragma once

// Training exclusions (issue 17): rows inside known windows (incidents, maintenance) are left
// out of training (TrainOptions::exclusion_of_row).

#include <string>
#include <vector>

#include "isoscope/alert.h"
#include "isoscope/model.h"

namespace isoscope::native {

/// Marks the rows whose time falls in a window [start, end) as excluded: each window is one
/// reason, "<label> <name>" (e.g. "--exclude outage-1"); a row in several windows counts for
/// the first. Rows without a time (INT64_MIN) are never excluded.
void ExcludeWindows(const std::vector<TimeMs>& times, const std::vector<IncidentWindow>& windows,
                    const std::string& label, TrainOptions& options);

}  // namespace isoscope::native
