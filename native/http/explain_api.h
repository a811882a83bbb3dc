#pragma once

// The JSON answer of GET /api/v1/detectors/{name}/explain: one group's per-feature attribution
// of the row the daemon last scored it on (Daemon::Explain).

#include <string>

#include "daemon.h"

namespace isoscope::native {

/// {"detector", "group", "model_version", "time" (ms), "time_text", "anomaly_score",
/// "baseline_score", "unit", "features": [{"name", "input", "value", "contribution"}],
/// "inputs": [{"name", "contribution"}], "top_input"}. Contributions are log2 units of the
/// score: anomaly_score = baseline_score * 2^(sum of contributions).
std::string GroupExplanationJson(const std::string& detector, const GroupExplanation& e);

}  // namespace isoscope::native
