#include "metrics.h"

#include <prometheus/text_serializer.h>

#include <sstream>

#include "isoscope/version.h"

namespace isoscope::native {
namespace {

prometheus::Family<prometheus::Gauge>& GaugeFamily(prometheus::Registry& registry, const char* name,
                                                   const char* help) {
  return prometheus::BuildGauge().Name(name).Help(help).Register(registry);
}

}  // namespace

ExporterMetrics::ExporterMetrics(std::shared_ptr<prometheus::Registry> reg)
    : registry(std::move(reg)),
      score(prometheus::BuildGauge()
                .Name("anomaly_score")
                .Help("Isolation Forest anomaly score in (0, 1] of the group's latest feature "
                      "vector (sklearn -score_samples; higher is more anomalous). Absent when "
                      "the group is stale")
                .Register(*registry)),
      is_anomaly(prometheus::BuildGauge()
                     .Name("anomaly_is_anomaly")
                     .Help("1 when anomaly_score exceeds anomaly_threshold (sklearn predict == "
                           "-1), else 0. Absent when the group is stale")
                     .Register(*registry)),
      surprise(prometheus::BuildGauge()
                   .Name("anomaly_surprise")
                   .Help("Calibrated score of the group's latest row: -log10 of the probability "
                         "that a normal row of this model scores at least this high (training "
                         "scores, then the group's earlier scores); the same meaning on every "
                         "model and group, so one threshold serves a fleet. Absent when the "
                         "group is stale or the bundle predates format 1.3")
                   .Register(*registry)),
      onset(GaugeFamily(*registry, "anomaly_onset",
                        "Onset of the group's latest row (the same stream as anomaly_surprise): "
                        "-log10 of the share of the group's earlier scores (training scores "
                        "first) at least as high, plus 0.1 x its surprise, when that tops every "
                        "level of the previous 144 rows, else 0: non-zero once at the start of "
                        "an episode. Absent when anomaly_surprise is")),
      threshold(prometheus::BuildGauge()
                    .Name("anomaly_threshold")
                    .Help("Anomaly-score threshold of the active model (-offset_, set by its "
                          "contamination)")
                    .Register(*registry)),
      score_p95(prometheus::BuildGauge()
                    .Name("anomaly_model_score_p95")
                    .Help("95th percentile of the detector's anomaly scores over the last 5 "
                          "minutes (all groups)")
                    .Register(*registry)),
      rate_5m(prometheus::BuildGauge()
                  .Name("anomaly_rate_5m")
                  .Help("Share of the detector's scores over the last 5 minutes that were "
                        "anomalies (all groups)")
                  .Register(*registry)),
      version_timestamp(prometheus::BuildGauge()
                            .Name("model_version_timestamp")
                            .Help("Creation time (Unix seconds) of the active model; its "
                                  "model_version label names it")
                            .Register(*registry)),
      canary_ok(prometheus::BuildGauge()
                    .Name("anomaly_model_canary_ok")
                    .Help("1 when the active model reproduces its canary scores; 0 when it does "
                          "not or when the bundle at latest failed its canary check")
                    .Register(*registry)),
      state(prometheus::BuildGauge()
                .Name("anomaly_model_state")
                .Help("Detector state: 1 for the current one of warming (no model loaded), "
                      "scored (every group scored in the last cycle), stale (a query failed "
                      "or a group had no usable feature vector)")
                .Register(*registry)),
      build_info(GaugeFamily(*registry, "isoscope_build_info",
                             "Always 1; the version label is the isoscope engine version")),
      alert_state(prometheus::BuildGauge()
                      .Name("anomaly_alert_state")
                      .Help("The daemon's own evaluation of the detector's alert rule for the "
                            "group and severity: 1 pending, 2 firing (smoothed score, or "
                            "surprise for a surprise:N threshold, > threshold, held for for:); "
                            "no series while inactive")
                      .Register(*registry)),
      alert_pending_seconds(prometheus::BuildGauge()
                                .Name("anomaly_alert_pending_seconds")
                                .Help("Seconds since the group's current pending or firing "
                                      "episode of the severity began; no series while inactive")
                                .Register(*registry)),
      alert_for_seconds(GaugeFamily(*registry, "anomaly_alert_for_seconds",
                                    "The for: duration of the detector's alert rule of the "
                                    "severity, in seconds")),
      alert_threshold(prometheus::BuildGauge()
                          .Name("anomaly_alert_threshold")
                          .Help("The smoothed-score threshold of the detector's alert rule of "
                                "the severity, resolved for the active model (a share of its "
                                "training rows, or a fixed score); the generated rules compare "
                                "with it. None for a surprise:N threshold (not a score)")
                          .Register(*registry)),
      input_contribution(
          prometheus::BuildGauge()
              .Name("anomaly_input_contribution")
              .Help("Per input series: its features' summed contribution to log2 of the "
                    "group's anomaly score in the last cycle (exact TreeSHAP; positive pushes "
                    "towards anomalous). Only for groups whose alert is pending or firing")
              .Register(*registry)),
      shard_index(GaugeFamily(*registry, "isoscope_shard_index",
                              "This replica's shard I of --shard I/N (0 when not sharded)")),
      shard_count(GaugeFamily(*registry, "isoscope_shards",
                              "N of --shard I/N: replicas that split the groups between them "
                              "(1 when not sharded)")),
      query_errors(prometheus::BuildCounter()
                       .Name("isoscope_query_errors_total")
                       .Help("Prometheus instant queries that failed")
                       .Register(*registry)),
      scoring_errors(prometheus::BuildCounter()
                         .Name("isoscope_scoring_errors_total")
                         .Help("Scoring cycles that could not score (model and queries do not "
                               "fit, feature building failed)")
                         .Register(*registry)),
      reload_errors(prometheus::BuildCounter()
                        .Name("isoscope_reload_errors_total")
                        .Help("Bundles at latest that were refused (unreadable, corrupt, "
                              "canary mismatch); the previous model kept serving")
                        .Register(*registry)),
      nonfinite_samples(prometheus::BuildCounter()
                            .Name("isoscope_nonfinite_samples_total")
                            .Help("Samples Prometheus answered as NaN or +-Inf (the group goes "
                                  "stale for that cycle)")
                            .Register(*registry)),
      reloads(prometheus::BuildCounter()
                  .Name("isoscope_reloads_total")
                  .Help("Models loaded and activated, the first one included")
                  .Register(*registry)),
      query_duration(prometheus::BuildHistogram()
                         .Name("isoscope_query_duration_seconds")
                         .Help("Duration of one Prometheus instant query")
                         .Register(*registry)),
      scoring_duration(prometheus::BuildHistogram()
                           .Name("isoscope_scoring_duration_seconds")
                           .Help("Duration of building and scoring a detector's feature vectors "
                                 "in one cycle")
                           .Register(*registry)) {
  build_info.Add({{"version", kEngineVersion}}).Set(1);
}

prometheus::Histogram::BucketBoundaries ExporterMetrics::DurationBuckets() {
  return {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

std::string SerializeMetrics(prometheus::Registry& registry) {
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, registry.Collect());
  return out.str();
}

}  // namespace isoscope::native
