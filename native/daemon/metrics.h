#pragma once

// The exporter's metric families (names are part of the product: docs/design.md, README "Metrics"),
// registered in one prometheus-cpp Registry, and its text exposition for /metrics.

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace isoscope::native {

/// The families with one series per group and value (anomaly_score, anomaly_is_anomaly,
/// anomaly_surprise, anomaly_onset), held flat: per group one slot with its label text, escaped
/// and rendered once when the group appears, and its four values. As prometheus-cpp gauges,
/// 100,000 groups cost four label maps each and a collected copy of every series per scrape
/// (hundreds of MB); here a slot is about 200 bytes and a scrape writes straight from it
/// (WriteMetrics). The text is what prometheus-cpp's TextSerializer writes for the same
/// values (tests/native/daemon/metrics_test.cc compares them). Thread-safe.
class GroupFamilies {
 public:
  enum Family { kScore, kIsAnomaly, kSurprise, kOnset, kFamilies };
  using Slot = uint32_t;
  static constexpr Slot kNoSlot = UINT32_MAX;

  static const char* Name(Family f);
  static const char* Help(Family f);

  /// A new group's slot, with no series until Set.
  Slot Add(const prometheus::Labels& labels);
  /// Withdraws every series of the slot and frees it; kNoSlot is ignored.
  void Remove(Slot slot);
  /// The group's series of family `f` (added if absent).
  void Set(Slot slot, Family f, double value);
  /// Two families of a slot at once (one lock): the cycle publishes pairs.
  void Set(Slot slot, Family f1, double v1, Family f2, double v2);
  /// Withdraws the group's series of families `f1` and `f2`.
  void Clear(Slot slot, Family f1, Family f2);

  /// The value of family `f` for the series with exactly `labels`, for tests (a linear scan).
  std::optional<double> Get(Family f, const prometheus::Labels& labels) const;
  /// How many series family `f` has.
  size_t Count(Family f) const;

  /// Writes the families that have series, each as HELP, TYPE and one line per series, in
  /// chunks to `sink`.
  void Write(const std::function<void(std::string_view)>& sink) const;

 private:
  struct Series {
    std::shared_ptr<const std::string> labels;  // `{a="x",b="y"}`; null: a free slot
    double value[kFamilies] = {0, 0, 0, 0};
    uint8_t present = 0;  // bit f: family f has the series
  };
  mutable std::mutex mu_;
  std::vector<Series> series_;
  std::vector<Slot> free_;
};

/// `{a="x",b="y"}`: labels as the text exposition writes them (sorted by name, values escaped
/// as prometheus-cpp does: backslash, double quote, newline); "" for no labels.
std::string RenderLabels(const prometheus::Labels& labels);

/// Appends `value` as prometheus-cpp's TextSerializer prints it (%.16g; Nan, +Inf, -Inf).
void AppendMetricValue(std::string& out, double value);

struct ExporterMetrics {
  explicit ExporterMetrics(std::shared_ptr<prometheus::Registry> registry);

  std::shared_ptr<prometheus::Registry> registry;
  // anomaly_score, anomaly_is_anomaly, anomaly_surprise, anomaly_onset.
  GroupFamilies groups;
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
  prometheus::Family<prometheus::Counter>& http_listener_failures;
  prometheus::Family<prometheus::Histogram>& query_duration;
  prometheus::Family<prometheus::Histogram>& scoring_duration;

  /// Bucket bounds of both duration histograms, in seconds (1 ms .. 10 s).
  static prometheus::Histogram::BucketBoundaries DurationBuckets();
};

/// Receives the page in chunks of about 64 KB (a string, a gzip stream).
using MetricsSink = std::function<void(std::string_view)>;

/// The Prometheus text exposition format (0.0.4) of the registry's families and the group
/// families, written in chunks: a gzip stream never holds the whole text. The group families
/// go where prometheus-cpp listed them when they were registry gauges: first of the gauges.
void WriteMetrics(const ExporterMetrics& metrics, const MetricsSink& sink);
/// WriteMetrics into one string.
std::string SerializeMetrics(const ExporterMetrics& metrics);

}  // namespace isoscope::native
