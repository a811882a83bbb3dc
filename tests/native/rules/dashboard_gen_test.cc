#include "dashboard_gen.h"

#include <gtest/gtest.h>

#include <set>

namespace isoscope::native {
namespace {

using Json = nlohmann::ordered_json;

// Checkout as in tests/fixtures/isoscope.yml, alert settings at their defaults (relative).
DetectorConfig Checkout() {
  DetectorConfig d;
  d.name = "checkout";
  d.queries = {{"latency_p95", "histogram_quantile(0.95, sum by (job, le) (rate(x_bucket[5m])))"},
               {"error_rate", "sum by (job) (rate(http_requests_total{code=~\"5..\"}[5m]))"}};
  d.group_by = {"job"};
  d.params.contamination = Contamination::Fraction(0.02);
  return d;
}

// Fixed scores, for: 5m, smooth 10m, eval every 30s, no group, contamination auto.
DetectorConfig Queue() {
  DetectorConfig d;
  d.name = "queue";
  d.queries = {{"depth", "sum(rabbitmq_queue_messages_ready)"}};
  d.alerts.warning = AlertThreshold::Score(0.6);
  d.alerts.critical = AlertThreshold::Score(0.8);
  d.alerts.for_ms = 5 * 60000;
  d.alerts.smooth_ms = 10 * 60000;
  d.alerts.eval_interval_ms = 30000;
  d.params.contamination = Contamination::Auto();
  return d;
}

Json Generate(const std::vector<DetectorConfig>& detectors, const DashboardOptions& o = {}) {
  Config c;
  c.web.listen_address = "127.0.0.1:8080";
  c.detectors = detectors;
  return GenerateDashboard(c, detectors, o);
}

const Json* FindPanel(const Json& dash, const std::string& title) {
  for (const Json& p : dash["panels"])
    if (p["title"] == title) return &p;
  return nullptr;
}

TEST(DashboardGen, DataSourceIsAVariableUsedByEveryPanelAndQuery) {
  const Json dash = Generate({Checkout(), Queue()});
  const Json& var = dash["templating"]["list"][0];
  EXPECT_EQ(var["type"], "datasource");
  EXPECT_EQ(var["name"], "datasource");
  EXPECT_EQ(var["query"], "prometheus");
  int targets = 0;
  for (const Json& p : dash["panels"]) {
    if (p["type"] == "row") continue;
    EXPECT_EQ(p["datasource"]["uid"], "${datasource}") << p["title"];
    for (const Json& t : p["targets"]) {
      EXPECT_EQ(t["datasource"]["uid"], "${datasource}") << p["title"];
      ++targets;
    }
  }
  // checkout: 2 panel queries + 4 score + 1 state + 4 stats; queue: 1 + 4 + 1 + 4.
  EXPECT_EQ(targets, 11 + 10);
}

TEST(DashboardGen, PanelIdsAreUniqueAndTheGridHasNoOverlap) {
  const Json dash = Generate({Checkout(), Queue()});
  std::set<int> ids;
  std::set<std::pair<int, int>> cells;  // every (x, y) cell a panel covers, checked one by one
  for (const Json& p : dash["panels"]) {
    EXPECT_TRUE(ids.insert(p["id"].get<int>()).second) << "duplicate id " << p["id"];
    const Json& g = p["gridPos"];
    const int x = g["x"], y = g["y"], w = g["w"], h = g["h"];
    EXPECT_GE(x, 0);
    EXPECT_LE(x + w, 24) << p["title"];
    for (int i = x; i < x + w; ++i)
      for (int j = y; j < y + h; ++j)
        EXPECT_TRUE(cells.insert({i, j}).second) << p["title"] << " overlaps at " << i << "," << j;
  }
  // 2 detectors x (row, isoscope panel, score, alert state, 4 stats).
  EXPECT_EQ(ids.size(), 16u);
  EXPECT_EQ(*ids.begin(), 1);
  EXPECT_EQ(*ids.rbegin(), 16);
}

TEST(DashboardGen, IsoscopePanelQueriesAreTheDetectorsWithInputNamesAsLegends) {
  const Json dash = Generate({Checkout()});
  const Json* p = FindPanel(dash, "checkout: overlay and what-if");
  ASSERT_NE(p, nullptr);
  EXPECT_EQ((*p)["type"], "isoscope-whatif-panel");
  ASSERT_EQ((*p)["targets"].size(), 2u);
  EXPECT_EQ((*p)["targets"][0]["refId"], "latency_p95");
  EXPECT_EQ((*p)["targets"][0]["legendFormat"], "latency_p95");
  EXPECT_EQ((*p)["targets"][0]["expr"],
            "histogram_quantile(0.95, sum by (job, le) (rate(x_bucket[5m])))");
  EXPECT_EQ((*p)["targets"][1]["refId"], "error_rate");
  EXPECT_EQ((*p)["targets"][1]["expr"],
            "sum by (job) (rate(http_requests_total{code=~\"5..\"}[5m]))");
  const Json& o = (*p)["options"];
  EXPECT_EQ(o["daemonUrl"], "http://127.0.0.1:8080");
  EXPECT_EQ(o["detector"], "checkout");
  EXPECT_EQ(o["forMinutes"], 3.0);  // the defaults: for 3m, smooth 5m, eval 1m
  EXPECT_EQ(o["smoothMinutes"], 5.0);
  EXPECT_EQ(o["evalIntervalSeconds"], 60.0);
  // Relative thresholds: left out, so the panel follows the model.
  EXPECT_FALSE(o.contains("warning"));
  EXPECT_FALSE(o.contains("critical"));
}

TEST(DashboardGen, FixedThresholdsGoIntoThePanelAndTheScoreLines) {
  DashboardOptions opt;
  opt.daemon_url = "https://isoscope.example.org";
  const Json dash = Generate({Queue()}, opt);
  const Json& o = (*FindPanel(dash, "queue: overlay and what-if"))["options"];
  EXPECT_EQ(o["daemonUrl"], "https://isoscope.example.org");
  EXPECT_EQ(o["warning"], 0.6);
  EXPECT_EQ(o["critical"], 0.8);
  EXPECT_EQ(o["forMinutes"], 5.0);
  EXPECT_EQ(o["smoothMinutes"], 10.0);
  EXPECT_EQ(o["evalIntervalSeconds"], 30.0);
  const Json& score = *FindPanel(dash, "queue: anomaly score");
  const Json& steps = score["fieldConfig"]["defaults"]["thresholds"]["steps"];
  ASSERT_EQ(steps.size(), 3u);
  EXPECT_EQ(steps[1]["value"], 0.6);
  EXPECT_EQ(steps[1]["color"], "orange");
  EXPECT_EQ(steps[2]["value"], 0.8);
  EXPECT_EQ(steps[2]["color"], "red");
  EXPECT_EQ(score["fieldConfig"]["defaults"]["custom"]["thresholdsStyle"]["mode"], "line");
}

TEST(DashboardGen, ScorePanelShowsRawSmoothedAndTheResolvedAlertThresholds) {
  const Json dash = Generate({Checkout(), Queue()});
  const Json& t = (*FindPanel(dash, "checkout: anomaly score"))["targets"];
  EXPECT_EQ(t[0]["expr"], "anomaly_score{detector=\"checkout\"}");
  EXPECT_EQ(t[0]["legendFormat"], "{{job}}");
  EXPECT_EQ(t[1]["expr"], "job:anomaly_score:avg5m{detector=\"checkout\"}");
  EXPECT_EQ(t[1]["legendFormat"], "smoothed {{job}}");
  EXPECT_EQ(t[2]["expr"], "anomaly_alert_threshold{detector=\"checkout\",severity=\"warning\"}");
  EXPECT_EQ(t[3]["expr"], "anomaly_alert_threshold{detector=\"checkout\",severity=\"critical\"}");
  // Relative thresholds: no fixed lines; the threshold series draw them.
  const Json& d = (*FindPanel(dash, "checkout: anomaly score"))["fieldConfig"]["defaults"];
  EXPECT_EQ(d["thresholds"]["steps"].size(), 1u);
  EXPECT_EQ(d["custom"]["thresholdsStyle"]["mode"], "off");
  // queue's smoothing is 10m: its recording rule is avg10m; no group: the detector's name.
  const Json& q = (*FindPanel(dash, "queue: anomaly score"))["targets"];
  EXPECT_EQ(q[1]["expr"], "job:anomaly_score:avg10m{detector=\"queue\"}");
  EXPECT_EQ(q[0]["legendFormat"], "queue");
  EXPECT_EQ(q[1]["legendFormat"], "smoothed");
}

TEST(DashboardGen, AlertStateAndModelHealth) {
  const Json dash = Generate({Checkout(), Queue()});
  const Json& s = *FindPanel(dash, "checkout: alert state per group");
  EXPECT_EQ(s["type"], "state-timeline");
  EXPECT_EQ(s["targets"][0]["expr"], "anomaly_alert_state{detector=\"checkout\"}");
  EXPECT_EQ(s["targets"][0]["legendFormat"], "{{severity}} {{job}}");
  const Json& m = s["fieldConfig"]["defaults"]["mappings"][0]["options"];
  EXPECT_EQ(m["1"]["text"], "pending");
  EXPECT_EQ(m["2"]["text"], "firing");

  const Json& v = *FindPanel(dash, "checkout: model version");
  EXPECT_EQ(v["targets"][0]["expr"], "model_version_timestamp{detector=\"checkout\"}");
  EXPECT_EQ(v["targets"][0]["legendFormat"], "{{model_version}}");
  EXPECT_EQ(v["options"]["textMode"], "name");
  const Json& c = *FindPanel(dash, "checkout: canary");
  EXPECT_EQ(c["targets"][0]["expr"], "anomaly_model_canary_ok{detector=\"checkout\"}");
  EXPECT_EQ(c["fieldConfig"]["defaults"]["mappings"][0]["options"]["0"]["text"], "FAILED");
  const Json& r = *FindPanel(dash, "checkout: anomaly rate (5m)");
  EXPECT_EQ(r["targets"][0]["expr"], "anomaly_rate_5m{detector=\"checkout\"}");
  EXPECT_EQ(r["fieldConfig"]["defaults"]["thresholds"]["steps"][1]["value"], 0.04);  // 2 x 0.02
  // contamination auto: no expected rate, no orange step.
  EXPECT_EQ((*FindPanel(
                dash, "queue: anomaly rate (5m)"))["fieldConfig"]["defaults"]["thresholds"]["steps"]
                .size(),
            1u);
  const Json& st = *FindPanel(dash, "checkout: stale groups");
  EXPECT_EQ(st["targets"][0]["expr"],
            "count(present_over_time(anomaly_score{detector=\"checkout\"}[1h]) unless "
            "anomaly_score{detector=\"checkout\"}) or vector(0)");
}

}  // namespace
}  // namespace isoscope::native
