// Known incident windows (isoscope demo's incidents.csv, a user's list of outages): replay
// scores alerts against them and the what-if page marks them.
#pragma once

#include <string>
#include <vector>

#include "isoscope/alert.h"
#include "isoscope/status.h"

namespace isoscope::native {

/// Reads `name,start,end,description` rows after a header line (the description may hold
/// commas; times ISO 8601 or epoch seconds). kBadInput names the file and line of a bad row.
Result<std::vector<IncidentWindow>> ReadIncidents(const std::string& path);

}  // namespace isoscope::native
