#pragma once

// The alert pipeline's pure part: smoothing of the anomaly score as Prometheus's
// avg_over_time computes it, the per-severity alert state machine of Prometheus/Grafana
// alerting rules, and a replay of both over a whole history ("would it have paged?").
// The CLI replay, the daemon's alert-state metrics and the panel's what-if all call these, so
// the answer is the same everywhere. Time is always an argument (ms since the epoch).

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "isoscope/features.h"
#include "isoscope/status.h"

namespace isoscope {

/// avg_over_time(x[window]) evaluated at `t`: the mean of the samples whose time is in the
/// left-open window (t - window, t] (Prometheus 3.x range-selector semantics; Prometheus 2.x
/// also included a sample exactly at t - window). Samples whose value is NaN are absent (a
/// row without a score exports no anomaly_score sample). No sample in the window: no value.
/// `times` must be sorted ascending and as long as `values`; `window` > 0.
std::optional<double> AvgOverTime(const std::vector<TimeMs>& times,
                                  const std::vector<double>& values, TimeMs t, TimeMs window);

/// AvgOverTime at evaluation times that never go back, as a replay asks for them: the window's
/// edges only move forward, so a whole history costs one pass over the samples instead of two
/// binary searches an evaluation. The same samples are summed in the same order, so every
/// value is AvgOverTime's, bit for bit. Holds references to `times` and `values`.
class WindowAverage {
 public:
  WindowAverage(const std::vector<TimeMs>& times, const std::vector<double>& values, TimeMs window)
      : times_(times), values_(values), window_(window) {}
  /// AvgOverTime(times, values, t, window); t must not be below the last call's.
  std::optional<double> At(TimeMs t);

 private:
  const std::vector<TimeMs>& times_;
  const std::vector<double>& values_;
  TimeMs window_;
  size_t lo_ = 0;  // the first sample after the window's open left edge
  size_t hi_ = 0;  // the first sample after t
};

/// One severity's alerting rule: `smoothed > threshold` for `for_ms`.
struct AlertConfig {
  double threshold = 0;
  TimeMs for_ms = 0;
  TimeMs keep_firing_for_ms = 0;
};

enum class AlertPhase { kInactive, kPending, kFiring };

/// Stable lower-case name: "inactive", "pending", "firing".
const char* AlertPhaseName(AlertPhase phase);

struct AlertState {
  AlertPhase phase = AlertPhase::kInactive;
  TimeMs active_since = 0;  ///< when the current pending/firing episode started (ActiveAt)
  TimeMs last_true = 0;     ///< last evaluation at which the condition held
  /// While firing: the first evaluation at which the condition stopped holding (Prometheus's
  /// KeepFiringSince); -1 while it holds. Only keep_firing_for uses it.
  TimeMs keep_firing_since = -1;
};

/// One rule evaluation at `now`, with Prometheus semantics (rules/alerting.go):
/// - the condition holds iff `smoothed` has a value and it is > threshold (strict);
/// - inactive + condition: pending with active_since = now, and at once firing when for = 0;
/// - pending + condition: firing once now - active_since >= for;
/// - condition not holding (a value <= threshold or no value at all): pending ends
///   (inactive); firing ends too, unless keep_firing_for > 0 and
///   now - keep_firing_since < keep_firing_for, keep_firing_since being the first evaluation
///   at which it stopped holding. A condition holding again resets keep_firing_since.
AlertState Step(const AlertConfig& config, AlertState state, std::optional<double> smoothed,
                TimeMs now);

/// A ground-truth incident window [start_ms, end_ms).
struct IncidentWindow {
  std::string name;
  TimeMs start_ms = 0;
  TimeMs end_ms = 0;
};

/// A model change during a replay (a backtest's retrain, a daemon's reload): the evaluations at
/// or after `from_ms` compare the smoothed score with these thresholds (each model's relative
/// thresholds resolve to its own scores). The alert states carry over unchanged, as a daemon's
/// do across a reload: a pending alert stays pending and is judged by the new threshold.
struct ThresholdChange {
  TimeMs from_ms = 0;
  double warning = 0;
  double critical = 0;
};

struct ReplayConfig {
  AlertConfig warning{0.65, 3 * kMinuteMs, 0};
  AlertConfig critical{0.85, 3 * kMinuteMs, 0};
  TimeMs smooth_ms = 5 * kMinuteMs;         ///< avg_over_time window
  TimeMs eval_interval_ms = 1 * kMinuteMs;  ///< rule evaluation interval
  /// Strictly ascending by from_ms; before the first change (or with none) the thresholds of
  /// `warning` and `critical` apply.
  std::vector<ThresholdChange> threshold_changes;
};

/// [start_ms, end_ms): from the evaluation that entered the phase to the evaluation that left
/// it; an interval still open at the end of the replay ends at ReplayResult::end_ms.
struct AlertInterval {
  TimeMs start_ms = 0;
  TimeMs end_ms = 0;
  bool open = false;
};

struct SeverityReplay {
  std::vector<AlertInterval> pending;  ///< every pending episode (also those that went firing)
  std::vector<AlertInterval> firing;
  TimeMs firing_ms = 0;         ///< time in alert: total length of the firing intervals
  double firings_per_week = 0;  ///< firing.size() per 7 days of scored time (NaN: none)
};

struct IncidentOutcome {
  std::string name;
  TimeMs start_ms = 0;
  TimeMs end_ms = 0;
  /// A critical firing interval (a page) started within [start, end + critical.for + smooth].
  bool caught = false;
  std::optional<TimeMs> warning_delay_ms;  ///< first warning firing start in that window - start
  std::optional<TimeMs> page_delay_ms;     ///< first critical firing start in that window - start
};

struct ReplayResult {
  TimeMs start_ms = 0;  ///< first evaluation instant (the first sample's time)
  TimeMs end_ms = 0;    ///< last evaluation instant + the evaluation interval
  size_t evaluations = 0;
  /// The time the rules had a score to judge: the evaluations whose smoothing window holds a
  /// score, times the interval. Rates are per week of it, not of the whole replay: a week in
  /// which a model warms up or the data has a gap cannot page, and counting it would make a
  /// noisy model look quiet.
  TimeMs scored_ms = 0;
  SeverityReplay warning;
  SeverityReplay critical;
  size_t pages = 0;           ///< critical firing starts
  double pages_per_week = 0;  ///< per week of scored time (NaN when nothing was scored)
  std::vector<IncidentOutcome> incidents;
  size_t false_pages = 0;  ///< pages starting in no incident's window (with incidents only)
  double false_pages_per_week = 0;
};

/// Replays both severities over a history of scores (`times` strictly ascending, NaN = no
/// score). Rules are evaluated at times[0] + k * eval_interval for every such instant up to
/// the last sample's time; each evaluation smooths with AvgOverTime and calls Step with the
/// thresholds in force at that instant (config.threshold_changes).
/// kInvalidArgument for inconsistent inputs or settings (more than 20 million evaluations,
/// threshold changes out of order or not finite).
Result<ReplayResult> Replay(const std::vector<TimeMs>& times, const std::vector<double>& scores,
                            const ReplayConfig& config,
                            const std::vector<IncidentWindow>& incidents = {});

}  // namespace isoscope
