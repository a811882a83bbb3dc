#include "rules_gen.h"

#include <gtest/gtest.h>

namespace isoscope::native {
namespace {

DetectorConfig Checkout() {
  DetectorConfig d;
  d.name = "checkout";
  d.group_by = {"job"};
  // Scores 0.65 and 0.85 (the origin team's), then the defaults: 3m, 5m, 1m, drift 0.005 30m
  // Mon-Fri 9-18.
  d.alerts.warning = AlertThreshold::Score(0.65);
  d.alerts.critical = AlertThreshold::Score(0.85);
  return d;
}

// The defaults: contamination and contamination/2, resolved by the daemon.
DetectorConfig RelativeCheckout() {
  DetectorConfig d = Checkout();
  d.alerts = AlertsConfig();
  return d;
}

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

std::vector<WeeklyWindow> Windows(const char* text) {
  auto w = ParseDeployWindows(text);
  EXPECT_TRUE(w.ok()) << w.status().ToString();
  return w.ok() ? *w : std::vector<WeeklyWindow>{};
}

TEST(RulesGen, RecordingRuleIsAvgOverTimeOfTheDetectorsScore) {
  const std::string yaml = RecordingRulesYaml(Checkout());
  const std::string expected =
      "groups:\n"
      "  - name: isoscope-checkout-recording\n"
      "    interval: 1m\n"
      "    rules:\n"
      "      - record: job:anomaly_score:avg5m\n"
      "        expr: 'avg_over_time(anomaly_score{detector=\"checkout\"}[5m])'\n";
  ASSERT_TRUE(Contains(yaml, expected)) << yaml;
  EXPECT_EQ(yaml.substr(yaml.size() - expected.size()), expected);  // nothing after it
}

TEST(RulesGen, RecordNameFollowsSmoothUnlessGiven) {
  DetectorConfig d = Checkout();
  d.alerts.smooth_ms = 10 * kMinuteMs;
  EXPECT_TRUE(
      Contains(RecordingRulesYaml(d),
               "      - record: job:anomaly_score:avg10m\n"
               "        expr: 'avg_over_time(anomaly_score{detector=\"checkout\"}[10m])'\n"));
  d.alerts.record = "checkout:score:smooth";
  EXPECT_TRUE(Contains(RecordingRulesYaml(d), "      - record: checkout:score:smooth\n"));
  EXPECT_TRUE(Contains(AlertingRulesYaml(d),
                       "expr: 'checkout:score:smooth{detector=\"checkout\"} > 0.65'"));
}

TEST(RulesGen, AlertingRulesWarningAndCritical) {
  const std::string yaml = AlertingRulesYaml(Checkout());
  EXPECT_TRUE(Contains(yaml,
                       "      - alert: AnomalyScoreWarning\n"
                       "        expr: 'job:anomaly_score:avg5m{detector=\"checkout\"} > 0.65'\n"
                       "        for: 3m\n"
                       "        labels:\n"
                       "          severity: warning\n"
                       "        annotations:\n"
                       "          summary: '{{ $labels.detector }} job={{ $labels.job }}: anomaly "
                       "score (5m average) {{ $value | printf \"%.3f\" }} > 0.65 for 3m'\n"))
      << yaml;
  EXPECT_TRUE(Contains(yaml,
                       "      - alert: AnomalyScoreCritical\n"
                       "        expr: 'job:anomaly_score:avg5m{detector=\"checkout\"} > 0.85'\n"
                       "        for: 3m\n"
                       "        labels:\n"
                       "          severity: critical\n"));
  EXPECT_TRUE(
      Contains(yaml,
               "Model version: {{ with query `model_version_timestamp{detector=\"checkout\"}` "
               "}}{{ . | first | label \"model_version\" }}{{ else }}none{{ end }}. Top input: "
               "{{ with printf `topk(1, anomaly_input_contribution{detector=\"checkout\","
               "job=\"%s\"})` $labels.job | query }}{{ . | first | label \"input\" }}{{ else "
               "}}unknown{{ end }}.'"));
  EXPECT_FALSE(Contains(yaml, "keep_firing_for"));
}

TEST(RulesGen, ForZeroAndKeepFiringFor) {
  DetectorConfig d = Checkout();
  d.alerts.for_ms = 0;
  d.alerts.keep_firing_for_ms = 5 * kMinuteMs;
  const std::string yaml = AlertingRulesYaml(d);
  EXPECT_FALSE(Contains(yaml, "        for:"));  // for: 0 fires at once: no for: at all
  EXPECT_TRUE(Contains(yaml,
                       "        expr: 'job:anomaly_score:avg5m{detector=\"checkout\"} > 0.85'\n"
                       "        keep_firing_for: 5m\n"));
}

TEST(RulesGen, PeakHoursInPromQL) {
  EXPECT_EQ(PeakHoursPromQL(Windows("Mon-Fri 09:00-18:00")),
            "(day_of_week() >= 1 <= 5 and on() hour() >= 9 < 18)");
  EXPECT_EQ(PeakHoursPromQL(Windows("Sat-Sun 10:30-12:00")),
            "((day_of_week() == 0 or day_of_week() == 6) and on() hour() * 60 + minute() >= "
            "630 < 720)");
  EXPECT_EQ(PeakHoursPromQL(Windows("Mon 08:00-10:00; Wed 08:00-10:00; Tue 12:00-13:00")),
            "(((day_of_week() == 1 or day_of_week() == 3) and on() hour() >= 8 < 10) or "
            "(day_of_week() == 2 and on() hour() >= 12 < 13))");
  // Across midnight: split into two days by the parser, each its own time range.
  EXPECT_EQ(PeakHoursPromQL(Windows("Fri 22:00-02:00")),
            "((day_of_week() == 5 and on() hour() >= 22 < 24) or (day_of_week() == 6 and on() "
            "hour() >= 0 < 2))");
}

TEST(RulesGen, ModelHealthRules) {
  const std::string yaml = ModelHealthRulesYaml(Checkout());
  EXPECT_TRUE(Contains(yaml,
                       "      - alert: AnomalyModelDrift\n"
                       "        expr: 'anomaly_rate_5m{detector=\"checkout\"} < 0.005 and on() "
                       "(day_of_week() >= 1 <= 5 and on() hour() >= 9 < 18)'\n"
                       "        for: 30m\n"))
      << yaml;
  EXPECT_TRUE(Contains(yaml, "model may be silently underscoring"));
  EXPECT_TRUE(
      Contains(yaml, "        expr: 'anomaly_model_canary_ok{detector=\"checkout\"} == 0'\n"));
  EXPECT_TRUE(Contains(yaml,
                       "        expr: 'anomaly_model_state{detector=\"checkout\",state=\"stale\"} "
                       "== 1'\n"
                       "        for: 15m\n"));
  EXPECT_TRUE(Contains(yaml,
                       "        expr: 'absent(model_version_timestamp{detector=\"checkout\"})'\n"
                       "        for: 15m\n"
                       "        labels:\n"
                       "          severity: critical\n"));
  // 15 days in seconds.
  EXPECT_TRUE(Contains(
      yaml, "        expr: 'time() - model_version_timestamp{detector=\"checkout\"} > 1296000'\n"));
}

TEST(RulesGen, GrafanaProvisioning) {
  GrafanaRuleOptions o;
  o.datasource_uid = "prom-main";
  DetectorConfig d = Checkout();
  d.alerts.critical = AlertThreshold::Score(0.9);
  const std::string yaml = GrafanaAlertsYaml(d, o);
  EXPECT_TRUE(Contains(yaml,
                       "apiVersion: 1\n"
                       "groups:\n"
                       "  - orgId: 1\n"
                       "    name: isoscope-checkout\n"
                       "    folder: 'isoscope'\n"
                       "    interval: 1m\n"
                       "    rules:\n"
                       "      - uid: isoscope-checkout-warning\n"
                       "        title: 'checkout anomaly score warning'\n"
                       "        condition: C\n"
                       "        data:\n"
                       "          - refId: A\n"
                       "            relativeTimeRange:\n"
                       "              from: 600\n"
                       "              to: 0\n"
                       "            datasourceUid: 'prom-main'\n"))
      << yaml;
  EXPECT_TRUE(Contains(yaml,
                       "                - evaluator:\n"
                       "                    params: [0.9]\n"
                       "                    type: gt\n"));
  EXPECT_TRUE(Contains(yaml,
                       "        noDataState: OK\n"
                       "        execErrState: Error\n"
                       "        for: 3m\n"));
  EXPECT_TRUE(Contains(yaml,
                       "{{ $values.A.Value | printf \"%.3f\" }} > 0.9 for 3m (model {{ "
                       "$labels.model_version }})'\n"));
  EXPECT_TRUE(Contains(yaml, "      - uid: isoscope-checkout-critical\n"));
}

// Relative thresholds compare with the daemon's anomaly_alert_threshold (one series per
// detector, whatever the replicas), so the rules follow every retrain.
TEST(RulesGen, RelativeThresholdsCompareWithTheDaemonsResolution) {
  const std::string yaml = AlertingRulesYaml(RelativeCheckout());
  EXPECT_TRUE(
      Contains(yaml,
               "        expr: 'job:anomaly_score:avg5m{detector=\"checkout\"} > on(detector) "
               "group_left() max by (detector) "
               "(anomaly_alert_threshold{detector=\"checkout\",severity=\"critical\"})'\n"))
      << yaml;
  EXPECT_TRUE(Contains(yaml, "scrape it in the same Prometheus"));
  EXPECT_TRUE(Contains(yaml,
                       "> contamination/2 ({{ with query `max by (detector) "
                       "(anomaly_alert_threshold{detector=\"checkout\",severity="
                       "\"critical\"})` }}{{ . | first | value | printf \"%.3f\" }}"));
  const std::string grafana = GrafanaAlertsYaml(RelativeCheckout(), GrafanaRuleOptions());
  EXPECT_TRUE(Contains(grafana,
                       "              expr: '(job:anomaly_score:avg5m{detector=\"checkout\"} > "
                       "on(detector) group_left() max by (detector) "
                       "(anomaly_alert_threshold{detector=\"checkout\",severity=\"warning\"})) "
                       "* on(detector) group_left(model_version)"))
      << grafana;
  EXPECT_TRUE(Contains(grafana,
                       "                - evaluator:\n"
                       "                    params: [0]\n"
                       "                    type: gt\n"));
  EXPECT_TRUE(Contains(grafana, "> contamination/2 for 3m (model"));
}

TEST(RulesGen, GrafanaUidsStayWithin40Characters) {
  DetectorConfig d = Checkout();
  d.name = std::string(64, 'a');
  const std::string yaml = GrafanaAlertsYaml(d, GrafanaRuleOptions());
  size_t pos = 0;
  int uids = 0;
  while ((pos = yaml.find("- uid: ", pos)) != std::string::npos) {
    pos += 7;
    const std::string uid = yaml.substr(pos, yaml.find('\n', pos) - pos);
    EXPECT_LE(uid.size(), 40u) << uid;
    ++uids;
  }
  EXPECT_EQ(uids, 2);
}

TEST(RulesGen, ValidateAlerts) {
  AlertsConfig a;
  EXPECT_TRUE(ValidateAlerts(a).ok());
  a.warning = AlertThreshold::Score(0.65);
  a.critical = AlertThreshold::Score(0.6);
  EXPECT_NE(ValidateAlerts(a).message().find("critical (0.6) is less strict than warning (0.65)"),
            std::string::npos);
  a.critical = AlertThreshold::Score(1);  // > 1 never happens: allowed, it never pages
  EXPECT_TRUE(ValidateAlerts(a).ok());
  a = AlertsConfig();
  a.critical = std::move(ParseAlertThreshold("contamination")).value();
  EXPECT_TRUE(ValidateAlerts(a).ok()) << "equal is allowed: one alert pages at the warning";
  a.warning = std::move(ParseAlertThreshold("contamination/4")).value();
  EXPECT_FALSE(ValidateAlerts(a).ok());
  a.warning = AlertThreshold::Score(0.9);  // a score against a share: known only per model
  EXPECT_TRUE(ValidateAlerts(a).ok());
  a = AlertsConfig();
  a.record = "bad name";
  EXPECT_FALSE(ValidateAlerts(a).ok());
  a = AlertsConfig();
  a.smooth_ms = 0;
  EXPECT_FALSE(ValidateAlerts(a).ok());
}

// warning: surprise:3, critical: surprise:4 (tail probabilities 1e-3 and 1e-4 on any model).
DetectorConfig SurpriseCheckout() {
  DetectorConfig d = Checkout();
  d.alerts.warning = std::move(ParseAlertThreshold("surprise:3")).value();
  d.alerts.critical = std::move(ParseAlertThreshold("surprise:4")).value();
  return d;
}

TEST(RulesGen, SurpriseThresholdsRecordTheSmoothedSurprise) {
  const std::string yaml = RecordingRulesYaml(SurpriseCheckout());
  const std::string expected =
      "groups:\n"
      "  - name: isoscope-checkout-recording\n"
      "    interval: 1m\n"
      "    rules:\n"
      "      - record: job:anomaly_score:avg5m\n"
      "        expr: 'avg_over_time(anomaly_score{detector=\"checkout\"}[5m])'\n"
      "      - record: job:anomaly_surprise:avg5m\n"
      "        expr: 'avg_over_time(anomaly_surprise{detector=\"checkout\"}[5m])'\n";
  ASSERT_TRUE(Contains(yaml, expected)) << yaml;
  EXPECT_EQ(yaml.substr(yaml.size() - expected.size()), expected);
  // Score thresholds alone record no surprise.
  EXPECT_FALSE(Contains(RecordingRulesYaml(Checkout()), "anomaly_surprise"));
}

TEST(RulesGen, SurpriseRecordNameFollowsSmoothAndRecord) {
  AlertsConfig a;
  EXPECT_EQ(SurpriseRecordName(a), "job:anomaly_surprise:avg5m");
  a.smooth_ms = 15 * kMinuteMs;
  EXPECT_EQ(SurpriseRecordName(a), "job:anomaly_surprise:avg15m");
  a.record = "team:anomaly_score:smooth";
  EXPECT_EQ(SurpriseRecordName(a), "team:anomaly_surprise:smooth");
  a.record = "checkout:score:smooth";
  EXPECT_EQ(SurpriseRecordName(a), "checkout:score:smooth:surprise");
}

TEST(RulesGen, SurpriseAlertsCompareTheSmoothedSurprise) {
  const std::string yaml = AlertingRulesYaml(SurpriseCheckout());
  EXPECT_TRUE(Contains(yaml,
                       "      - alert: AnomalyScoreWarning\n"
                       "        expr: 'job:anomaly_surprise:avg5m{detector=\"checkout\"} > 3'\n"
                       "        for: 3m\n"
                       "        labels:\n"
                       "          severity: warning\n"
                       "        annotations:\n"
                       "          summary: '{{ $labels.detector }} job={{ $labels.job }}: anomaly "
                       "surprise (5m average) {{ $value | printf \"%.3f\" }} > 3 (tail "
                       "probability 1e-03) for 3m'\n"
                       "          description: 'The calibrated surprise (-log10 of the tail "
                       "probability under the model''s training scores) of checkout, averaged "
                       "over 5m, has stayed above the warning threshold 3 (tail probability "
                       "1e-03) for 3m."))
      << yaml;
  EXPECT_TRUE(Contains(yaml,
                       "      - alert: AnomalyScoreCritical\n"
                       "        expr: 'job:anomaly_surprise:avg5m{detector=\"checkout\"} > 4'\n"));
  EXPECT_TRUE(Contains(yaml,
                       "# Needs the recording rule job:anomaly_score:avg5m and "
                       "job:anomaly_surprise:avg5m (checkout.recording.rules.yml)"));
  // A surprise needs nothing from the daemon but anomaly_surprise itself.
  EXPECT_FALSE(Contains(yaml, "anomaly_alert_threshold"));
}

// A score warning and a surprise page: each severity on its own recorded series.
TEST(RulesGen, MixedSeveritiesEachOnTheirSeries) {
  DetectorConfig d = SurpriseCheckout();
  d.alerts.warning = AlertThreshold::Score(0.6);
  EXPECT_TRUE(ValidateAlerts(d.alerts).ok());
  const std::string yaml = AlertingRulesYaml(d);
  EXPECT_TRUE(Contains(yaml, "expr: 'job:anomaly_score:avg5m{detector=\"checkout\"} > 0.6'"));
  EXPECT_TRUE(Contains(yaml, "expr: 'job:anomaly_surprise:avg5m{detector=\"checkout\"} > 4'"));
  EXPECT_TRUE(Contains(RecordingRulesYaml(d), "record: job:anomaly_surprise:avg5m"));
}

TEST(RulesGen, SurpriseInGrafanaProvisioning) {
  const std::string yaml = GrafanaAlertsYaml(SurpriseCheckout(), GrafanaRuleOptions());
  EXPECT_TRUE(Contains(yaml, "        title: 'checkout anomaly surprise critical'\n")) << yaml;
  EXPECT_TRUE(Contains(yaml,
                       "              expr: 'job:anomaly_surprise:avg5m{detector=\"checkout\"} "
                       "* on(detector) group_left(model_version)"));
  EXPECT_TRUE(Contains(yaml,
                       "                - evaluator:\n"
                       "                    params: [4]\n"
                       "                    type: gt\n"));
  EXPECT_TRUE(Contains(yaml,
                       "anomaly surprise (5m average) {{ $values.A.Value | printf "
                       "\"%.3f\" }} > 4 for 3m"));
}

TEST(RulesGen, ValidateAlertsWithSurprises) {
  AlertsConfig a;
  a.warning = std::move(ParseAlertThreshold("surprise:4")).value();
  a.critical = std::move(ParseAlertThreshold("surprise:3")).value();
  EXPECT_NE(ValidateAlerts(a).message().find(
                "critical (surprise:3) is less strict than warning (surprise:4)"),
            std::string::npos);
  a.critical = std::move(ParseAlertThreshold("surprise:6")).value();
  EXPECT_TRUE(ValidateAlerts(a).ok());
  a.record = "checkout:score";  // its surprise twin, checkout:score:surprise, is valid too
  EXPECT_TRUE(ValidateAlerts(a).ok());
}

TEST(RulesGen, FourFilesPerDetector) {
  const auto files = GenerateRuleFiles(Checkout(), GrafanaRuleOptions());
  ASSERT_EQ(files.size(), 4u);
  EXPECT_EQ(files[0].name, "checkout.recording.rules.yml");
  EXPECT_EQ(files[1].name, "checkout.alerting.rules.yml");
  EXPECT_EQ(files[2].name, "checkout.model-health.rules.yml");
  EXPECT_EQ(files[3].name, "checkout.grafana-alerting.yml");
}

}  // namespace
}  // namespace isoscope::native
