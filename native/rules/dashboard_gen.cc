#include "dashboard_gen.h"

namespace isoscope::native {
namespace {

using Json = nlohmann::ordered_json;

// Every panel queries the data source chosen in the dashboard's variable.
Json Datasource() { return {{"type", "prometheus"}, {"uid", "${datasource}"}}; }

Json Target(const std::string& ref, const std::string& expr, const std::string& legend) {
  return {{"datasource", Datasource()},
          {"refId", ref},
          {"expr", expr},
          {"legendFormat", legend},
          {"range", true}};
}

// "{{job}} {{instance}}": which group a series is about ("__auto" when there are no groups).
std::string GroupLegend(const DetectorConfig& d, const std::string& prefix) {
  std::string out = prefix;
  for (const std::string& l : d.group_by) out += (out.empty() ? "" : " ") + ("{{" + l + "}}");
  return out.empty() ? d.name : out;
}

Json Panel(int* id, const std::string& type, const std::string& title, int x, int y, int w, int h) {
  return {{"id", (*id)++},
          {"type", type},
          {"title", title},
          {"datasource", Datasource()},
          {"gridPos", {{"h", h}, {"w", w}, {"x", x}, {"y", y}}}};
}

// The isoscope panel: the detector's own queries, each legend the model input it feeds.
Json IsoscopePanel(int* id, const DetectorConfig& d, const std::string& daemon_url, int y) {
  Json p = Panel(id, kPanelPluginId, d.name + ": overlay and what-if", 0, y, 24, 12);
  Json targets = Json::array();
  for (const auto& [name, expr] : d.queries) targets.push_back(Target(name, expr, name));
  p["targets"] = targets;
  const AlertsConfig& a = d.alerts;
  Json options = {{"daemonUrl", daemon_url},
                  {"detector", d.name},
                  {"forMinutes", static_cast<double>(a.for_ms) / 60000.0},
                  {"smoothMinutes", static_cast<double>(a.smooth_ms) / 60000.0},
                  {"evalIntervalSeconds", static_cast<double>(a.eval_interval_ms) / 1000.0}};
  // Fixed scores go in as is; relative thresholds are left empty so the panel follows the model,
  // and surprises too: they are not on the score's scale.
  if (a.warning.kind == AlertThreshold::Kind::kScore) options["warning"] = a.warning.value;
  if (a.critical.kind == AlertThreshold::Kind::kScore) options["critical"] = a.critical.value;
  p["options"] = options;
  return p;
}

// Threshold series drawn dashed: they are lines to compare with, not data.
Json DashedOverride(const std::string& ref, const std::string& color) {
  return {
      {"matcher", {{"id", "byFrameRefID"}, {"options", ref}}},
      {"properties",
       Json::array({{{"id", "custom.lineStyle"},
                     {"value", {{"fill", "dash"}, {"dash", Json::array({10, 10})}}}},
                    {{"id", "color"}, {"value", {{"mode", "fixed"}, {"fixedColor", color}}}}})}};
}

// Raw score, smoothed score (the recording rule) and the resolved warning and critical
// thresholds the daemon exports (anomaly_alert_threshold), so relative thresholds follow each
// model.
Json ScorePanel(int* id, const DetectorConfig& d, int y) {
  const std::string sel = DetectorSelector(d);
  Json p = Panel(id, "timeseries", d.name + ": anomaly score", 0, y, 16, 9);
  p["targets"] = Json::array(
      {Target("A", "anomaly_score" + sel, GroupLegend(d, "")),
       Target("B", d.alerts.RecordName() + sel, GroupLegend(d, "smoothed")),
       Target("W", "anomaly_alert_threshold{detector=\"" + d.name + "\",severity=\"warning\"}",
              "warning"),
       Target("C", "anomaly_alert_threshold{detector=\"" + d.name + "\",severity=\"critical\"}",
              "critical")});
  Json steps = Json::array({{{"color", "green"}, {"value", nullptr}}});
  // Only fixed scores are lines on this panel's scale (a surprise is not a score).
  if (d.alerts.warning.kind == AlertThreshold::Kind::kScore)
    steps.push_back({{"color", "orange"}, {"value", d.alerts.warning.value}});
  if (d.alerts.critical.kind == AlertThreshold::Kind::kScore)
    steps.push_back({{"color", "red"}, {"value", d.alerts.critical.value}});
  p["fieldConfig"] = {
      {"defaults",
       {{"min", 0},
        {"max", 1},
        {"custom", {{"thresholdsStyle", {{"mode", steps.size() > 1 ? "line" : "off"}}}}},
        {"thresholds", {{"mode", "absolute"}, {"steps", steps}}}}},
      {"overrides", Json::array({DashedOverride("W", "orange"), DashedOverride("C", "red")})}};
  p["options"] = {
      {"legend", {{"displayMode", "list"}, {"placement", "bottom"}, {"showLegend", true}}},
      {"tooltip", {{"mode", "multi"}, {"sort", "desc"}}}};
  return p;
}

// The daemon's own alert evaluation per group and severity: 1 pending, 2 firing.
Json AlertStatePanel(int* id, const DetectorConfig& d, int y) {
  Json p = Panel(id, "state-timeline", d.name + ": alert state per group", 16, y, 8, 9);
  p["targets"] = Json::array(
      {Target("A", "anomaly_alert_state" + DetectorSelector(d), GroupLegend(d, "{{severity}}"))});
  Json mapping = {{"type", "value"},
                  {"options",
                   {{"1", {{"text", "pending"}, {"color", "orange"}, {"index", 0}}},
                    {"2", {{"text", "firing"}, {"color", "red"}, {"index", 1}}}}}};
  p["fieldConfig"] = {{"defaults", {{"mappings", Json::array({mapping})}}},
                      {"overrides", Json::array()}};
  p["options"] = {{"showValue", "auto"}, {"mergeValues", true}, {"rowHeight", 0.9}};
  return p;
}

Json Stat(int* id, const std::string& title, int x, int y, const Json& target, const Json& defaults,
          const std::string& text_mode) {
  Json p = Panel(id, "stat", title, x, y, 6, 4);
  p["targets"] = Json::array({target});
  p["fieldConfig"] = {{"defaults", defaults}, {"overrides", Json::array()}};
  p["options"] = {{"reduceOptions",
                   {{"calcs", Json::array({"lastNotNull"})}, {"fields", ""}, {"values", false}}},
                  {"textMode", text_mode},
                  {"colorMode", "background"},
                  {"graphMode", "none"}};
  return p;
}

Json Thresholds(const Json& steps) { return {{"mode", "absolute"}, {"steps", steps}}; }

// Model health: the active version, its canary, the anomaly rate against contamination, and
// the groups seen in the last hour that have no score now (stale).
Json HealthStats(int* id, const DetectorConfig& d, int y) {
  const std::string sel = DetectorSelector(d);
  Json out = Json::array();
  out.push_back(Stat(id, d.name + ": model version", 0, y,
                     Target("A", "model_version_timestamp" + sel, "{{model_version}}"),
                     {{"color", {{"mode", "fixed"}, {"fixedColor", "blue"}}}}, "name"));
  Json canary_map = {{"type", "value"},
                     {"options",
                      {{"0", {{"text", "FAILED"}, {"color", "red"}, {"index", 0}}},
                       {"1", {{"text", "OK"}, {"color", "green"}, {"index", 1}}}}}};
  out.push_back(Stat(id, d.name + ": canary", 6, y,
                     Target("A", "anomaly_model_canary_ok" + sel, "canary"),
                     {{"mappings", Json::array({canary_map})}}, "value"));
  // Orange at twice the expected share of anomalies (contamination), when there is one.
  Json rate_steps = Json::array({{{"color", "green"}, {"value", nullptr}}});
  const Contamination& c = d.params.contamination;
  if (!c.is_auto) rate_steps.push_back({{"color", "orange"}, {"value", 2 * c.value}});
  out.push_back(Stat(
      id, d.name + ": anomaly rate (5m)", 12, y, Target("A", "anomaly_rate_5m" + sel, "rate"),
      {{"unit", "percentunit"}, {"decimals", 2}, {"thresholds", Thresholds(rate_steps)}}, "value"));
  const std::string stale = "count(present_over_time(anomaly_score" + sel +
                            "[1h]) unless anomaly_score" + sel + ") or vector(0)";
  out.push_back(
      Stat(id, d.name + ": stale groups", 18, y, Target("A", stale, "stale"),
           {{"decimals", 0},
            {"thresholds", Thresholds(Json::array({{{"color", "green"}, {"value", nullptr}},
                                                   {{"color", "red"}, {"value", 1}}}))}},
           "value"));
  return out;
}

Json DatasourceVariable() {
  return {{"type", "datasource"},
          {"name", "datasource"},
          {"label", "Prometheus"},
          {"query", "prometheus"},
          {"hide", 0},
          {"refresh", 1},
          {"regex", ""},
          {"options", Json::array()}};
}

}  // namespace

std::string DetectorSelector(const DetectorConfig& d) { return "{detector=\"" + d.name + "\"}"; }

nlohmann::ordered_json GenerateDashboard(const Config& config,
                                         const std::vector<DetectorConfig>& detectors,
                                         const DashboardOptions& options) {
  const std::string daemon_url =
      options.daemon_url.empty() ? "http://" + config.web.listen_address : options.daemon_url;
  Json panels = Json::array();
  int id = 1;
  int y = 0;
  for (const DetectorConfig& d : detectors) {
    Json row = {{"id", id++},
                {"type", "row"},
                {"title", "detector " + d.name},
                {"collapsed", false},
                {"gridPos", {{"h", 1}, {"w", 24}, {"x", 0}, {"y", y}}},
                {"panels", Json::array()}};
    panels.push_back(row);
    y += 1;
    panels.push_back(IsoscopePanel(&id, d, daemon_url, y));
    y += 12;
    panels.push_back(ScorePanel(&id, d, y));
    panels.push_back(AlertStatePanel(&id, d, y));
    y += 9;
    for (Json& s : HealthStats(&id, d, y)) panels.push_back(std::move(s));
    y += 4;
  }
  return {{"title", options.title},
          {"uid", options.uid},
          {"tags", Json::array({"isoscope", "anomaly"})},
          {"timezone", "utc"},
          {"editable", true},
          {"graphTooltip", 1},
          {"schemaVersion", 39},
          {"version", 1},
          {"refresh", "1m"},
          {"time", {{"from", "now-6h"}, {"to", "now"}}},
          {"templating", {{"list", Json::array({DatasourceVariable()})}}},
          {"annotations", {{"list", Json::array()}}},
          {"links", Json::array()},
          {"panels", panels}};
}

}  // namespace isoscope::native
