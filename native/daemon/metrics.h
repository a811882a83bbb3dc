#pragma once

// The exporter's metric families (names are part of the product: docs/design.md, README "Metrics"),
// registered in one prometheus-cpp Registry, and its text exposition for /metrics.

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <memory>
#include <string>

namespace isoscope::native {

struct ExporterMetrics {
  explicit ExporterMetrics(std::shared_ptr<prometheus::Registry> registry);

  std::shared_ptr<prometheus::Registry> registry;
  prometheus::Family<prometheus::Gauge>& score;
  prometheus::Family<prometheus::Gauge>& is_anomaly;
  prometheus::Family<prometheus::Gauge>& surprise;
  prometheus::Family<prometheus::Gauge>& onset;
  prometheus::Family<prometheus::Gauge>& threshold;
  prometheus::Family<prometheus::Gauge>& score_p95;
  prometheus::Family<prometheus::Gauge>& rate_5m;
  prometheus::Family<prometheus::Gauge>& version_timestamp;
  prometheus::Family<prometheus::Gauge>& canary_ok;
  prometheus::Family<prometheus::Gauge>& state;
  prometheus::Family<prometheus::Gauge>& build_info;
  prometheus::Family<prometheus::Gauge>& alert_state;
  prometheus::Family<prometheus::Gauge>& alert_pending_seconds;
  prometheus::Family<prometheus::Gauge>& alert_for_seconds;
  prometheus::Family<prometheus::Gauge>& alert_threshold;
  prometheus::Family<prometheus::Gauge>& input_contribution;
  // Champion and challenger (promotion: manual or gate): the candidate's scores and what both
  // models would have done since the candidate arrived.
  prometheus::Family<prometheus::Gauge>& candidate_score;
  prometheus::Family<prometheus::Gauge>& candidate_rows;
  prometheus::Family<prometheus::Gauge>& candidate_pages;
  prometheus::Family<prometheus::Gauge>& candidate_rate;
  prometheus::Family<prometheus::Gauge>& candidate_p50;
  prometheus::Family<prometheus::Gauge>& candidate_p99;
  prometheus::Family<prometheus::Gauge>& candidate_gate;
  prometheus::Family<prometheus::Gauge>& shard_index;
  prometheus::Family<prometheus::Gauge>& shard_count;
  prometheus::Family<prometheus::Counter>& query_errors;
  prometheus::Family<prometheus::Counter>& scoring_errors;
  prometheus::Family<prometheus::Counter>& reload_errors;
  prometheus::Family<prometheus::Counter>& nonfinite_samples;
  prometheus::Family<prometheus::Counter>& reloads;
  prometheus::Family<prometheus::Histogram>& query_duration;
  prometheus::Family<prometheus::Histogram>& scoring_duration;

  /// Bucket bounds of both duration histograms, in seconds (1 ms .. 10 s).
  static prometheus::Histogram::BucketBoundaries DurationBuckets();
};

/// The Prometheus text exposition format (0.0.4) of everything in `registry`.
std::string SerializeMetrics(prometheus::Registry& registry);

}  // namespace isoscope::native
