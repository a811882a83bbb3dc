#pragma once

// `isoscope rules`: the text of the Prometheus rule files and the Grafana alert provisioning
// file of one detector, from its alerts: settings. Pure string building (no I/O), so tests
// compare the output with hand-written YAML and promtool/Prometheus check it end to end.

#include <string>
#include <vector>

#include "config.h"
#include "isoscope/status.h"

namespace isoscope::native {

/// Settings of the Grafana file that are not in isoscope.yml.
struct GrafanaRuleOptions {
  std::string datasource_uid = "prometheus";  ///< the Prometheus data source's uid in Grafana
  std::string folder = "isoscope";            ///< the folder the rule group goes into
  int org_id = 1;
};

/// The files of one detector: name -> content, in the order they are listed.
struct RuleFile {
  std::string name;  ///< e.g. checkout.recording.rules.yml
  std::string content;
};

/// kInvalidArgument when the settings cannot make valid rules (a threshold outside (0, 1],
/// critical < warning, a negative duration, smooth or eval_interval under 1s, a bad record
/// name, no peak hours); the message names the setting and what to use.
Status ValidateAlerts(const AlertsConfig& alerts);

/// PromQL that has a (label-less) value exactly while the time of evaluation is inside one of
/// `windows` (weekly, UTC, minutes from Monday 00:00): the minute of the week computed with
/// day_of_week(), hour() and minute(), filtered per window and joined with `or`.
std::string PeakHoursPromQL(const std::vector<WeeklyWindow>& windows);

/// The recording rule of the smoothed anomaly_surprise, for severities given as a surprise
/// (surprise:N): job:anomaly_surprise:avg<smooth> by default; with a `record:` of its own,
/// that name with anomaly_score replaced by anomaly_surprise, or with :surprise appended.
std::string SurpriseRecordName(const AlertsConfig& alerts);

/// `record: <alerts.RecordName()>` = avg_over_time(anomaly_score{detector="NAME"}[smooth]),
/// and when a severity is a surprise `record: <SurpriseRecordName()>` =
/// avg_over_time(anomaly_surprise{detector="NAME"}[smooth]).
std::string RecordingRulesYaml(const DetectorConfig& detector);
/// Warning and critical alerting rules on the recorded series (each severity on the smoothed
/// score or, given as surprise:N, the smoothed surprise), for Alertmanager users.
std::string AlertingRulesYaml(const DetectorConfig& detector);
/// Drift canary, canary mismatch, stale detector, missing model, model too old.
std::string ModelHealthRulesYaml(const DetectorConfig& detector);
/// Grafana 10.2+ alert provisioning file (apiVersion 1) with the warning and critical rules.
std::string GrafanaAlertsYaml(const DetectorConfig& detector, const GrafanaRuleOptions& options);

/// The four files above, named <detector>.recording.rules.yml,
/// <detector>.alerting.rules.yml, <detector>.model-health.rules.yml and
/// <detector>.grafana-alerting.yml.
std::vector<RuleFile> GenerateRuleFiles(const DetectorConfig& detector,
                                        const GrafanaRuleOptions& options);

}  // namespace isoscope::native
