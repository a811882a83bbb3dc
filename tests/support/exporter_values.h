#pragma once

// Reading the daemon's exported series in tests: the per-group families from GroupFamilies,
// the rest from the prometheus-cpp registry (daemon and group-model tests).

#include <optional>
#include <string>

#include "metrics.h"

namespace isoscope::native {

// The group families' index by name, or -1 for a family of the registry.
inline int GroupFamily(const std::string& name) {
  for (int f = 0; f < GroupFamilies::kFamilies; ++f) {
    if (name == GroupFamilies::Name(static_cast<GroupFamilies::Family>(f))) return f;
  }
  return -1;
}

// The value of `name`{labels} among the exported metrics, or nullopt when there is no such
// series.
inline std::optional<double> Value(const ExporterMetrics& metrics, const std::string& name,
                                   const prometheus::Labels& labels) {
  if (const int f = GroupFamily(name); f >= 0) {
    return metrics.groups.Get(static_cast<GroupFamilies::Family>(f), labels);
  }
  for (const auto& family : metrics.registry->Collect()) {
    if (family.name != name) continue;
    for (const auto& m : family.metric) {
      prometheus::Labels l;
      for (const auto& p : m.label) l[p.name] = p.value;
      if (l != labels) continue;
      switch (family.type) {
        case prometheus::MetricType::Gauge:
          return m.gauge.value;
        case prometheus::MetricType::Counter:
          return m.counter.value;
        case prometheus::MetricType::Histogram:
          return static_cast<double>(m.histogram.sample_count);
        default:
          return std::nullopt;
      }
    }
  }
  return std::nullopt;
}

inline size_t SeriesCount(const ExporterMetrics& metrics, const std::string& name) {
  if (const int f = GroupFamily(name); f >= 0) {
    return metrics.groups.Count(static_cast<GroupFamilies::Family>(f));
  }
  for (const auto& family : metrics.registry->Collect()) {
    if (family.name == name) return family.metric.size();
  }
  return 0;
}

}  // namespace isoscope::native
