#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "isoscope/features.h"

namespace isoscope::native {

/// An injected incident with ground truth.
struct Incident {
  std::string name;
  std::string description;
  TimeMs start_ms = 0;
  TimeMs end_ms = 0;  ///< exclusive
};

/// Built-in synthetic history in the shape of the origin pipeline's metrics: latency p95,
/// error rate and CPU throttling at 60 s, with daily and weekly seasonality, Monday-morning
/// ramps, deploy-window bumps, a short gap, and injected incidents (a slow drift over hours,
/// a short sharp spike, an error burst). Deterministic for a given seed.
struct DemoData {
  std::vector<TimeMs> times;
  std::vector<std::string> names;           ///< latency_p95, error_rate, cpu_throttle
  std::vector<std::vector<double>> series;  ///< per name, NaN where the gap is
  std::vector<Incident> incidents;
};

DemoData GenerateDemoData(int days, uint32_t seed);

/// CSV text: timestamp (ISO 8601 UTC) then the series, empty cells in the gap.
std::string DemoDataCsv(const DemoData& data);
/// CSV text: name,start,end,description.
std::string IncidentsCsv(const std::vector<Incident>& incidents);

}  // namespace isoscope::native
