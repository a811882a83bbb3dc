// The schema of isoscope.yml: the key tables of config_schema.h and the defaults of config.h
// that are computed rather than written in the struct.
#include "config_schema.h"

#include <utility>

#include "config.h"
#include "time_parse.h"

namespace isoscope::native {
namespace config_detail {

const Section kRootSection{"at the top level",
                           {"prometheus", "models_dir", "web", "detectors", "shard"}};
const Section kPrometheusSection{
    "under prometheus:", {"url", "timeout", "bearer_token", "bearer_token_file", "basic_auth"}};
const Section kBasicAuthSection{"under prometheus.basic_auth:",
                                {"username", "password", "password_file"}};
const Section kWebSection{"under web:", {"listen_address", "cors_origin"}};
const Section kDetectorSection{
    "in a detector",
    {"name", "queries", "group_by", "derived", "deploy_windows", "step", "lookback", "interval",
     "keep_versions", "model", "alerts", "exclude", "exclude_when", "exclude_alerts",
     "exclude_alerts_margin", "promotion", "gate"}};
const Section kModelSection{
    "under a detector's model:",
    {"n_estimators", "contamination", "random_state", "max_samples", "max_features", "bootstrap",
     "scaler", "per", "group_n_estimators", "group_max_samples", "min_rows"}};
const Section kAlertsSection{"under a detector's alerts:",
                             {"warning", "critical", "for", "smooth", "keep_firing_for",
                              "eval_interval", "record", "drift", "stale_after", "max_model_age"}};
const Section kDriftSection{"under a detector's alerts.drift:", {"min_rate", "for", "peak_hours"}};

const Section kGateSection{"under a detector's gate:", {"after", "rate_band", "pages_factor"}};

const std::array<const Section*, 9> kAllSections = {
    &kRootSection,  &kPrometheusSection, &kBasicAuthSection, &kWebSection, &kDetectorSection,
    &kModelSection, &kAlertsSection,     &kDriftSection,     &kGateSection};

}  // namespace config_detail

AlertThreshold AlertsConfig::DefaultWarning() {
  return std::move(ParseAlertThreshold("contamination")).value();
}
AlertThreshold AlertsConfig::DefaultCritical() {
  return std::move(ParseAlertThreshold("contamination/2")).value();
}

std::string AlertsConfig::DefaultRecord(TimeMs smooth_ms) {
  return "job:anomaly_score:avg" + FormatDurationMs(smooth_ms);
}

std::string AlertsConfig::RecordName() const {
  return record.empty() ? DefaultRecord(smooth_ms) : record;
}

std::vector<WeeklyWindow> DriftConfig::DefaultPeakHours() {
  auto windows = ParseDeployWindows("Mon-Fri 09:00-18:00");
  return windows.ok() ? std::move(windows).value() : std::vector<WeeklyWindow>{};
}

const char* PromotionModeName(PromotionConfig::Mode mode) {
  switch (mode) {
    case PromotionConfig::Mode::kManual:
      return "manual";
    case PromotionConfig::Mode::kGate:
      return "gate";
    case PromotionConfig::Mode::kImmediate:
      break;
  }
  return "immediate";
}

const DetectorConfig* Config::Find(const std::string& name) const {
  for (const DetectorConfig& d : detectors) {
    if (d.name == name) return &d;
  }
  return nullptr;
}

}  // namespace isoscope::native
