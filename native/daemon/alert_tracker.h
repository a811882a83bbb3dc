#pragma once

// The daemon's own view of a detector's alert rules (anomaly_alert_state,
// anomaly_alert_pending_seconds, anomaly_alert_for_seconds), computed per group with the same
// core functions as isoscope replay and the generated rules: AvgOverTime over the group's
// scores of the smoothing window, then Step per severity, once per scoring cycle. So the
// panel and on-call see "critical pending for 2m of 3m" without querying ALERTS. A severity
// given as surprise:N follows the group's anomaly_surprise instead, smoothed the same way.

#include <limits>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "config.h"
#include "isoscope/alert.h"
#include "metrics.h"

namespace isoscope::native {

class AlertTracker {
 public:
  /// Registers anomaly_alert_for_seconds{detector, severity} for `detector`, and
  /// anomaly_alert_threshold{detector, severity} for the thresholds given as scores (relative
  /// ones are known once a model is: SetThresholds). Surprise thresholds are not exported
  /// there: that series is on the score's scale (dashboards draw it over anomaly_score).
  AlertTracker(const DetectorConfig& detector, ExporterMetrics* metrics);
  /// Removes every series it added.
  ~AlertTracker();
  AlertTracker(const AlertTracker&) = delete;
  AlertTracker& operator=(const AlertTracker&) = delete;

  /// The score and the surprise (NaN: none, as for a bundle without calibration) of group
  /// `key` (labels: detector + group_by labels) in the cycle at `now`.
  void Observe(const std::string& key, const prometheus::Labels& labels, TimeMs now, double score,
               double surprise = std::numeric_limits<double>::quiet_NaN()) {
    Observe(key, std::make_shared<const prometheus::Labels>(labels), now, score, surprise);
  }
  /// The same with the caller's labels shared, not copied (the daemon's, per group).
  void Observe(const std::string& key, const std::shared_ptr<const prometheus::Labels>& labels,
               TimeMs now, double score,
               double surprise = std::numeric_limits<double>::quiet_NaN());

  /// One rule evaluation at `now` for every group seen within the smoothing window, after the
  /// cycle's Observe calls. A group without a score in the window has no smoothed value (its
  /// alerts end, as in Prometheus); once it is inactive too, its series are removed.
  void Evaluate(TimeMs now);

  /// The detector's thresholds, as resolved for a newly loaded model (ResolveThresholds).
  /// Pending and firing states carry on: a retrain moves the line, not the history.
  void SetThresholds(double warning, double critical);
  /// The threshold of a severity (0 warning, 1 critical); NaN before any is known.
  double Threshold(int severity) const { return severities_[severity].threshold; }

  /// The keys of the groups with a severity pending or firing (usually none or few).
  std::set<std::string> Alerting() const;

  /// The state of `key`'s severity (0 warning, 1 critical), for tests; inactive if unknown.
  AlertState State(const std::string& key, int severity) const;

 private:
  struct Group {
    std::shared_ptr<const prometheus::Labels> labels;
    // The scores of the smoothing window: vectors, as AvgOverTime takes them (a std::deque
    // would allocate over half a kilobyte per group even for five scores).
    std::vector<TimeMs> times;
    std::vector<double> scores;
    std::vector<double> surprises;  // parallel to scores
    AlertState state[2];
    prometheus::Gauge* state_gauge[2] = {nullptr, nullptr};
    prometheus::Gauge* pending_gauge[2] = {nullptr, nullptr};
  };

  void RemoveSeries(Group& g);

  ExporterMetrics* metrics_;
  AlertConfig severities_[2];
  bool on_surprise_[2] = {false, false};  // the severity follows anomaly_surprise
  TimeMs smooth_ms_;
  prometheus::Gauge* for_gauge_[2] = {nullptr, nullptr};
  prometheus::Gauge* threshold_gauge_[2] = {nullptr, nullptr};
  prometheus::Labels detector_labels_;
  std::map<std::string, Group> groups_;
  // Where Observe looks first: the daemon observes its groups in key order, so the group after
  // the last one observed is usually the next (one comparison instead of a search).
  std::map<std::string, Group>::iterator cursor_ = groups_.end();
};

/// The detector's warning and critical thresholds for `model`; an error names the threshold
/// that cannot be resolved (the daemon then refuses the model).
Result<std::pair<double, double>> ResolveThresholds(const AlertsConfig& alerts, const Model& model);

}  // namespace isoscope::native
