#include "metrics.h"

#include <prometheus/text_serializer.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <sstream>
#include <utility>

#include "isoscope/version.h"

namespace isoscope::native {

namespace {

// A metric family registered under `name` with its HELP text (docs/design.md lists them all).
prometheus::Family<prometheus::Gauge>& Gauge(prometheus::Registry& r, const char* name,
                                             const char* help) {
  return prometheus::BuildGauge().Name(name).Help(help).Register(r);
}
prometheus::Family<prometheus::Counter>& Counter(prometheus::Registry& r, const char* name,
                                                 const char* help) {
  return prometheus::BuildCounter().Name(name).Help(help).Register(r);
}
prometheus::Family<prometheus::Histogram>& Histogram(prometheus::Registry& r, const char* name,
                                                     const char* help) {
  return prometheus::BuildHistogram().Name(name).Help(help).Register(r);
}

// The longer HELP texts, apart so that the constructor reads as the list of families.
constexpr const char* kScoreHelp =
    "Isolation Forest anomaly score in (0, 1] of the group's latest feature vector (sklearn "
    "-score_samples; higher is more anomalous). Absent when the group is stale";

constexpr const char* kIsAnomalyHelp =
    "1 when anomaly_score exceeds anomaly_threshold (sklearn predict == -1), "
    "else 0. Absent when the group is stale";

constexpr const char* kSurpriseHelp =
    "Calibrated score of the group's latest row: -log10 of the probability that a normal row "
    "of this model scores at least this high (training scores, then the group's earlier "
    "scores); the same meaning on every model and group, so one threshold serves a fleet. "
    "Absent when the group is stale or the bundle predates format 1.3";

constexpr const char* kOnsetHelp =
    "Onset of the group's latest row (the same stream as anomaly_surprise): -log10 "
    "of the share of the group's earlier scores (training scores first) at least as "
    "high, plus 0.1 x its surprise, when that tops every level of the previous 144 "
    "rows, else 0: non-zero once at the start of an episode. Absent when "
    "anomaly_surprise is";

constexpr const char* kAlertStateHelp =
    "The daemon's own evaluation of the detector's alert rule for the group "
    "and severity: 1 pending, 2 firing (smoothed score, or surprise for a "
    "surprise:N threshold, > threshold, held for for:); no series while "
    "inactive";

constexpr const char* kAlertThresholdHelp =
    "The smoothed-score threshold of the detector's alert rule of the "
    "severity, resolved for the active model (a share of its training "
    "rows, or a fixed score); the generated rules compare with it. None for a "
    "surprise:N threshold (not a score)";

constexpr const char* kInputContributionHelp =
    "Per input series: its features' summed contribution to log2 of the group's "
    "anomaly score in the last cycle (exact TreeSHAP; positive pushes towards "
    "anomalous). Only for groups whose alert is pending or firing";

constexpr const char* kCandidateScoreHelp =
    "Anomaly score of the group's latest feature vector under the detector's candidate model "
    "(role=\"candidate\"; promotion: manual or gate): the same rows as anomaly_score. Its own "
    "family, so that rules over anomaly_score never alert on a candidate";

// Both models (role active or candidate), since the candidate arrived, on the same rows.
constexpr const char* kCandidateRowsHelp =
    "Rows scored by both the active and the candidate model since the candidate arrived";
constexpr const char* kCandidatePagesHelp =
    "Critical alerts the model (role active or candidate) would have started since the "
    "candidate arrived, by the detector's alerts:";
constexpr const char* kCandidateRateHelp =
    "Share of the rows since the candidate arrived that the model (role active or candidate) "
    "flags as anomalies";
constexpr const char* kCandidateP50Help =
    "Median of the model's scores (role active or candidate) since the candidate arrived, "
    "within 1/8192 (a 4096-bin histogram)";
constexpr const char* kCandidateP99Help =
    "99th percentile of the model's scores (role active or candidate) since the candidate "
    "arrived, within 1/8192 (a 4096-bin histogram)";

constexpr const char* kCandidateGateHelp =
    "The promotion gate's current word on the candidate: 1 for the reason (waiting, no_rows, "
    "passed, canary, pages, anomaly_rate), 0 for the others; absent without a candidate";

}  // namespace

ExporterMetrics::ExporterMetrics(std::shared_ptr<prometheus::Registry> reg)
    : registry(std::move(reg)),
      threshold(Gauge(
          *registry, "anomaly_threshold",
          "Anomaly-score threshold of the active model (-offset_, set by its contamination)")),
      score_p95(Gauge(
          *registry, "anomaly_model_score_p95",
          "95th percentile of the detector's anomaly scores over the last 5 minutes (all groups)")),
      rate_5m(Gauge(*registry, "anomaly_rate_5m",
                    "Share of the detector's scores over the last 5 minutes that were anomalies "
                    "(all groups)")),
      version_timestamp(Gauge(
          *registry, "model_version_timestamp",
          "Creation time (Unix seconds) of the active model; its model_version label names it")),
      canary_ok(Gauge(*registry, "anomaly_model_canary_ok",
                      "1 when the active model reproduces its canary scores; 0 when it does not or "
                      "when the bundle at latest failed its canary check")),
      state(Gauge(*registry, "anomaly_model_state",
                  "Detector state: 1 for the current one of warming (no model loaded), scored "
                  "(every group scored in the last cycle), stale (a query failed or a group had no "
                  "usable feature vector)")),
      build_info(Gauge(*registry, "isoscope_build_info",
                       "Always 1; the version label is the isoscope engine version")),
      alert_state(Gauge(*registry, "anomaly_alert_state", kAlertStateHelp)),
      alert_pending_seconds(Gauge(*registry, "anomaly_alert_pending_seconds",
                                  "Seconds since the group's current pending or firing episode of "
                                  "the severity began; no series while inactive")),
      alert_for_seconds(
          Gauge(*registry, "anomaly_alert_for_seconds",
                "The for: duration of the detector's alert rule of the severity, in seconds")),
      alert_threshold(Gauge(*registry, "anomaly_alert_threshold", kAlertThresholdHelp)),
      input_contribution(Gauge(*registry, "anomaly_input_contribution", kInputContributionHelp)),
      candidate_score(Gauge(*registry, "anomaly_candidate_score", kCandidateScoreHelp)),
      candidate_rows(Gauge(*registry, "anomaly_candidate_rows", kCandidateRowsHelp)),
      candidate_pages(Gauge(*registry, "anomaly_candidate_pages", kCandidatePagesHelp)),
      candidate_rate(Gauge(*registry, "anomaly_candidate_anomaly_rate", kCandidateRateHelp)),
      candidate_p50(Gauge(*registry, "anomaly_candidate_score_p50", kCandidateP50Help)),
      candidate_p99(Gauge(*registry, "anomaly_candidate_score_p99", kCandidateP99Help)),
      candidate_gate(Gauge(*registry, "isoscope_candidate_gate", kCandidateGateHelp)),
      shard_index(Gauge(*registry, "isoscope_shard_index",
                        "This replica's shard I of --shard I/N (0 when not sharded)")),
      shard_count(Gauge(
          *registry, "isoscope_shards",
          "N of --shard I/N: replicas that split the groups between them (1 when not sharded)")),
      query_errors(Counter(*registry, "isoscope_query_errors_total",
                           "Prometheus instant queries that failed")),
      scoring_errors(Counter(*registry, "isoscope_scoring_errors_total",
                             "Scoring cycles that could not score (model and queries do not fit, "
                             "feature building failed)")),
      reload_errors(Counter(*registry, "isoscope_reload_errors_total",
                            "Bundles at latest that were refused (unreadable, corrupt, canary "
                            "mismatch); the previous model kept serving")),
      nonfinite_samples(Counter(
          *registry, "isoscope_nonfinite_samples_total",
          "Samples Prometheus answered as NaN or +-Inf (the group goes stale for that cycle)")),
      reloads(Counter(*registry, "isoscope_reloads_total",
                      "Models loaded and activated, the first one included")),
      http_listener_failures(Counter(*registry, "isoscope_http_listener_failures_total",
                                     "Times the listening socket failed (an accept() error) "
                                     "and was opened again on the same address")),
      query_duration(Histogram(*registry, "isoscope_query_duration_seconds",
                               "Duration of one Prometheus instant query")),
      scoring_duration(
          Histogram(*registry, "isoscope_scoring_duration_seconds",
                    "Duration of building and scoring a detector's feature vectors in one cycle")) {
  build_info.Add({{"version", kEngineVersion}}).Set(1);
  http_listener_failures.Add({});  // 0 from the start: an alert can use increase()
}

prometheus::Histogram::BucketBoundaries ExporterMetrics::DurationBuckets() {
  return {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

// ---- The group families -------------------------------------------------------------------

const char* GroupFamilies::Name(Family f) {
  static constexpr const char* kNames[kFamilies] = {"anomaly_score", "anomaly_is_anomaly",
                                                    "anomaly_surprise", "anomaly_onset"};
  return kNames[f];
}

const char* GroupFamilies::Help(Family f) {
  static constexpr const char* kHelps[kFamilies] = {kScoreHelp, kIsAnomalyHelp, kSurpriseHelp,
                                                    kOnsetHelp};
  return kHelps[f];
}

std::string RenderLabels(const prometheus::Labels& labels) {
  if (labels.empty()) return "";
  std::string out = "{";
  for (const auto& [name, value] : labels) {  // a std::map: sorted by name, as prometheus-cpp
    if (out.size() > 1) out += ',';
    out += name;
    out += "=\"";
    for (const char ch : value) {
      if (ch == '\\' || ch == '"') {
        out += '\\';
        out += ch;
      } else if (ch == '\n') {
        out += "\\n";
      } else {
        out += ch;
      }
    }
    out += '"';
  }
  out += '}';
  return out;
}

void AppendMetricValue(std::string& out, double value) {
  if (std::isnan(value)) {
    out += "Nan";
  } else if (std::isinf(value)) {
    out += value < 0 ? "-Inf" : "+Inf";
  } else {
    // TextSerializer: `out << value` at precision max_digits10 - 1 = 16, i.e. %.16g, which
    // to_chars's general format with that precision is defined to equal.
    char buf[32];
    const auto r = std::to_chars(buf, buf + sizeof buf, value, std::chars_format::general, 16);
    out.append(buf, r.ptr);
  }
}

GroupFamilies::Slot GroupFamilies::Add(const prometheus::Labels& labels) {
  auto text = std::make_shared<const std::string>(RenderLabels(labels));
  std::lock_guard<std::mutex> lock(mu_);
  Slot slot;
  if (!free_.empty()) {
    slot = free_.back();
    free_.pop_back();
  } else {
    slot = static_cast<Slot>(series_.size());
    series_.emplace_back();
  }
  series_[slot] = Series{};
  series_[slot].labels = std::move(text);
  return slot;
}

void GroupFamilies::Remove(Slot slot) {
  if (slot == kNoSlot) return;
  std::shared_ptr<const std::string> gone;  // freed outside the lock
  std::lock_guard<std::mutex> lock(mu_);
  gone = std::move(series_[slot].labels);
  series_[slot] = Series{};
  free_.push_back(slot);
}

void GroupFamilies::Set(Slot slot, Family f, double value) {
  std::lock_guard<std::mutex> lock(mu_);
  series_[slot].value[f] = value;
  series_[slot].present |= static_cast<uint8_t>(1u << f);
}

void GroupFamilies::Set(Slot slot, Family f1, double v1, Family f2, double v2) {
  std::lock_guard<std::mutex> lock(mu_);
  Series& s = series_[slot];
  s.value[f1] = v1;
  s.value[f2] = v2;
  s.present |= static_cast<uint8_t>((1u << f1) | (1u << f2));
}

void GroupFamilies::Clear(Slot slot, Family f1, Family f2) {
  if (slot == kNoSlot) return;
  std::lock_guard<std::mutex> lock(mu_);
  series_[slot].present &= static_cast<uint8_t>(~((1u << f1) | (1u << f2)));
}

std::optional<double> GroupFamilies::Get(Family f, const prometheus::Labels& labels) const {
  const std::string text = RenderLabels(labels);
  std::lock_guard<std::mutex> lock(mu_);
  for (const Series& s : series_) {
    if (s.labels && *s.labels == text && (s.present & (1u << f)) != 0) return s.value[f];
  }
  return std::nullopt;
}

size_t GroupFamilies::Count(Family f) const {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<size_t>(std::count_if(series_.begin(), series_.end(), [f](const Series& s) {
    return s.labels && (s.present & (1u << f)) != 0;
  }));
}

namespace {

// Chunks of the page for a MetricsSink: one call per ~64 KB, not per line.
constexpr size_t kChunkBytes = 64 * 1024;

}  // namespace

void GroupFamilies::Write(const std::function<void(std::string_view)>& sink) const {
  std::vector<Series> snapshot;  // the labels are shared, not copied; written outside the lock
  {
    std::lock_guard<std::mutex> lock(mu_);
    snapshot = series_;
  }
  std::string buf;
  buf.reserve(kChunkBytes + 4096);
  for (int f = 0; f < kFamilies; ++f) {
    const unsigned bit = 1u << f;
    const bool any = std::any_of(snapshot.begin(), snapshot.end(), [bit](const Series& s) {
      return s.labels && (s.present & bit) != 0;
    });
    if (!any) continue;  // as prometheus-cpp: a family without series is not listed
    const std::string_view name = Name(static_cast<Family>(f));
    buf += "# HELP ";
    buf += name;
    buf += ' ';
    buf += Help(static_cast<Family>(f));
    buf += "\n# TYPE ";
    buf += name;
    buf += " gauge\n";
    for (const Series& s : snapshot) {
      if (!s.labels || (s.present & bit) == 0) continue;
      buf += name;
      buf += *s.labels;
      buf += ' ';
      AppendMetricValue(buf, s.value[f]);
      buf += '\n';
      if (buf.size() >= kChunkBytes) {
        sink(buf);
        buf.clear();
      }
    }
  }
  if (!buf.empty()) sink(buf);
}

namespace {

void WriteFamilies(std::vector<prometheus::MetricFamily> families, const MetricsSink& sink) {
  if (families.empty()) return;
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, families);
  sink(out.str());
}

}  // namespace

void WriteMetrics(const ExporterMetrics& metrics, const MetricsSink& sink) {
  std::vector<prometheus::MetricFamily> all = metrics.registry->Collect();
  // prometheus-cpp lists counters, then gauges in registration order (the group families were
  // the first gauges registered), then histograms.
  const auto first_other = std::find_if(
      all.begin(), all.end(),
      [](const prometheus::MetricFamily& f) { return f.type != prometheus::MetricType::Counter; });
  WriteFamilies({std::make_move_iterator(all.begin()), std::make_move_iterator(first_other)}, sink);
  metrics.groups.Write(sink);
  WriteFamilies({std::make_move_iterator(first_other), std::make_move_iterator(all.end())}, sink);
}

std::string SerializeMetrics(const ExporterMetrics& metrics) {
  std::string out;
  WriteMetrics(metrics, [&out](std::string_view chunk) { out.append(chunk); });
  return out;
}

}  // namespace isoscope::native
