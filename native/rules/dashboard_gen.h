#pragma once

// `isoscope dashboard`: a provisionable Grafana dashboard (JSON model, schemaVersion 39) for
// the detectors of a config. Pure JSON building (no I/O), beside rules_gen: the same metric
// names and alert settings, so the lines on the dashboard are the lines the rules compare with.

#include <string>
#include <vector>

#include "config.h"
#include "nlohmann/json.hpp"

namespace isoscope::native {

struct DashboardOptions {
  std::string title = "isoscope";
  std::string uid = "isoscope";
  /// Base URL the isoscope panel fetches bundles from (in the viewer's browser); empty means
  /// http://<web.listen_address>.
  std::string daemon_url;
};

/// The Grafana panel's plugin id (wasm/panel/src/plugin.json).
inline constexpr const char* kPanelPluginId = "isoscope-whatif-panel";

/// PromQL label matcher of a detector's series: {detector="NAME"}.
std::string DetectorSelector(const DetectorConfig& d);

/// The dashboard: a `datasource` variable (type prometheus), then per detector a row with the
/// isoscope panel (its queries, legends = input names), the raw and smoothed score with the
/// warning and critical lines, the alert state per group, and model-health stats (version,
/// canary, anomaly rate, stale groups). Panels have ids 1.. in order and a 24-column grid.
nlohmann::ordered_json GenerateDashboard(const Config& config,
                                         const std::vector<DetectorConfig>& detectors,
                                         const DashboardOptions& options);

}  // namespace isoscope::native
