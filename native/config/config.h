#pragma once

// The daemon's configuration file, isoscope.yml (README "Configuration" has a full example).
// Every key is listed below with its default. Relative paths in the file (models_dir,
// bearer_token_file, password_file) are relative to the directory of the file, as in
// Prometheus's own configuration.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "alert_threshold.h"
#include "isoscope/alert.h"
#include "isoscope/features.h"
#include "isoscope/iforest.h"
#include "isoscope/scaler.h"
#include "isoscope/status.h"
#include "shard.h"

namespace isoscope::native {

/// `prometheus:` where the metrics come from.
struct PrometheusConfig {
  /// `url:` (required) base URL of the Prometheus server, http:// or https://, optionally with
  /// a path prefix under which /api/v1/... lives; stored without a trailing '/'.
  std::string url;
  /// `timeout:` (default 30s) per request deadline, a duration like 30s or 2m.
  TimeMs timeout_ms = 30'000;
  /// `bearer_token:` or `bearer_token_file:` (optional, not both) sent as
  /// `Authorization: Bearer <token>`. A file is read when the configuration is loaded and its
  /// trailing blanks and newline are dropped; this holds the token itself either way.
  std::string bearer_token;
  /// `bearer_token_file:` as resolved, or empty when the token was written inline or not given.
  std::string bearer_token_file;
  /// `basic_auth: {username: U, password: P}` (optional; not together with a bearer token);
  /// `password_file: PATH` instead of `password:` reads the password at load time.
  std::string username;
  std::string password;
  std::string password_file;  ///< as resolved, or empty
  bool has_basic_auth = false;

  int line = 0;  ///< line of `prometheus:` in the file
};

/// `web:` the daemon's HTTP server (/metrics, /healthz, /readyz, /api/v1/detectors...).
struct WebConfig {
  /// `listen_address:` (default 127.0.0.1:8080, loopback only) host:port; ":8080" or
  /// "0.0.0.0:8080" listen on every interface, "[::1]:8080" on IPv6.
  std::string listen_address = "127.0.0.1:8080";
  /// `cors_origin:` (default "", no CORS header) the origin allowed to fetch bundles from a
  /// browser, e.g. "https://grafana.example.com", or "*".
  std::string cors_origin;
};

/// `alerts.drift:` the drift canary: a model that suddenly flags almost nothing while traffic
/// is normal (a library upgrade that shifted every score, a feature that went flat) is as
/// dangerous as one that flags everything, so a low anomaly_rate_5m during peak hours alerts.
struct DriftConfig {
  /// `min_rate:` (default 0.005) alert when anomaly_rate_5m < min_rate; in (0, 1).
  double min_rate = 0.005;
  /// `for:` (default 30m) how long the rate must stay below min_rate.
  TimeMs for_ms = 30 * kMinuteMs;
  /// `peak_hours:` (default "Mon-Fri 09:00-18:00") weekly UTC windows, the grammar of
  /// deploy_windows; the canary only looks inside them (quiet nights have few anomalies).
  std::vector<WeeklyWindow> peak_hours = DefaultPeakHours();
  std::string peak_hours_text = "Mon-Fri 09:00-18:00";

  static std::vector<WeeklyWindow> DefaultPeakHours();
};

/// `alerts:` of a detector: the settings `isoscope rules` writes into the Prometheus and
/// Grafana rules and with which `isoscope serve` computes anomaly_alert_state. Every key is
/// optional; the defaults are the origin team's rules (docs/design.md) except the thresholds.
struct AlertsConfig {
  /// `warning:` (default contamination) and `critical:` (default contamination/2) thresholds
  /// on the smoothed score: a score like 0.65, or relative to the model (alert_threshold.h),
  /// which the daemon resolves at every model load and exports as anomaly_alert_threshold.
  /// The fixed 0.65 and 0.85 (docs/design.md) are never reached by these forests on seasonal data
  /// (docs/tuning.md), so they are no longer the defaults. `>` is strict, as in the rules.
  AlertThreshold warning = DefaultWarning();
  AlertThreshold critical = DefaultCritical();
  /// `for:` (default 3m) how long the smoothed score must stay above a threshold to fire.
  TimeMs for_ms = 3 * kMinuteMs;
  /// `smooth:` (default 5m) the avg_over_time window of the recording rule.
  TimeMs smooth_ms = 5 * kMinuteMs;
  /// `keep_firing_for:` (default 0s) Prometheus's keep_firing_for (damps flapping).
  TimeMs keep_firing_for_ms = 0;
  /// `eval_interval:` (default 1m) the rule groups' evaluation interval.
  TimeMs eval_interval_ms = kMinuteMs;
  /// `record:` (default job:anomaly_score:avg<smooth>, e.g. job:anomaly_score:avg5m) the
  /// recording rule's metric name; empty when not given (RecordName() derives it).
  std::string record;
  /// `drift:` the drift canary.
  DriftConfig drift;
  /// `stale_after:` (default the longer of 15m and 3 intervals) how long the detector may be
  /// stale, or without a model, before the model-health alert fires.
  TimeMs stale_after_ms = 15 * kMinuteMs;
  /// `max_model_age:` (default 15d: two missed weekly retrains) a model older than this alerts.
  TimeMs max_model_age_ms = 15 * kDayMs;

  /// job:anomaly_score:avg<smooth> (FormatDurationMs of smooth_ms).
  static std::string DefaultRecord(TimeMs smooth_ms);
  static AlertThreshold DefaultWarning();
  static AlertThreshold DefaultCritical();
  /// `record`, or the default for `smooth_ms` when it was not given.
  std::string RecordName() const;
};

/// What `isoscope train` leaves out of a detector's training window (docs/lifecycle.md).
struct ExcludeConfig {
  /// `exclude:` items "START/END" (ISO 8601 or epoch seconds, [start, end)): absolute windows.
  std::vector<IncidentWindow> windows;
  /// `exclude:` items in the deploy_windows grammar ("Sat-Sun 00:00-24:00"): weekly UTC windows.
  std::vector<WeeklyWindow> weekly;
  std::vector<std::string> weekly_text;  ///< as written, one per weekly item
  /// `exclude_when:` PromQL run over the training range (query_range at the step); rows at
  /// whose time any of its series is > 0 are left out.
  std::string when;
  /// `exclude_alerts:` (default false) leave out the rows while the detector's own critical alert
  /// (ALERTS{alertname="AnomalyScoreCritical",detector=NAME,alertstate="firing"}) fired.
  bool alerts = false;
  /// `exclude_alerts_margin:` (default 30m) also before and after each firing.
  TimeMs alerts_margin_ms = 30 * kMinuteMs;
  bool any() const { return !windows.empty() || !weekly.empty() || !when.empty() || alerts; }
};

/// `promotion:` and `gate:` of a detector: how a retrained model goes live (docs/lifecycle.md).
struct PromotionConfig {
  enum class Mode {
    kImmediate,  ///< `immediate` (default): train points `latest` at the new bundle
    kManual,     ///< `manual`: train installs a `candidate`; `isoscope promote` makes it latest
    kGate,       ///< `gate`: as manual, and the daemon promotes it once it passes the gate
  };
  Mode mode = Mode::kImmediate;
  /// `gate.after:` (default 3d, at least 1s) how long the daemon compares the candidate with
  /// the active model before it decides.
  TimeMs after_ms = 3 * kDayMs;
  /// `gate.rate_band:` (default [0.5, 2.0]) the candidate's anomaly rate must lie within
  /// [low, high] times the active model's on the same rows (give or take one row).
  double rate_low = 0.5;
  double rate_high = 2.0;
  /// `gate.pages_factor:` (default 1.5) the candidate may page at most max(1, factor x the
  /// active model's pages) per week.
  double pages_factor = 1.5;
  bool candidate() const { return mode != Mode::kImmediate; }
};

/// "immediate", "manual" or "gate".
const char* PromotionModeName(PromotionConfig::Mode mode);

/// One entry of `detectors:`: a set of PromQL feature queries, scored together by one model.
struct DetectorConfig {
  /// `name:` (required) 1 to 64 of [a-z0-9_-]. It names the detector in metrics labels and is
  /// the directory models_dir/<name>, so '/', '.' and '..' are impossible by construction.
  std::string name;
  /// `queries:` (required, at least one) feature name -> PromQL, in the file's order. Names
  /// are [A-Za-z_][A-Za-z0-9_]* and become the model's input column names.
  std::vector<std::pair<std::string, std::string>> queries;
  /// `group_by:` (default []) label names: one feature vector, and one score, per distinct
  /// set of values of these labels (e.g. [job] scores each job on its own). Empty = the
  /// queries must each return one series.
  std::vector<std::string> group_by;
  /// The feature vector, ready to train and score: inputs = the query names in order; derived
  /// from `derived:` (default [hour_of_week, is_deploy_window], [] for none; `auto` for the
  /// recommended set of step and lookback; any feature of `isoscope train --derived`, the
  /// temporal ones on the step's grid, spec.step_ms = step); deploy windows
  /// from `deploy_windows:` (default "Mon-Fri 10:00-12:00", weekly UTC windows separated by ';').
  FeatureSpec spec;
  /// `step:` (default 60s, at least 1s) the resolution of the training history (query_range
  /// step).
  TimeMs step_ms = kMinuteMs;
  /// `lookback:` (default 90d) how much history `isoscope train` pulls; at least 1d and longer
  /// than step.
  TimeMs lookback_ms = 90 * kDayMs;
  /// `interval:` (default 60s, at least 1s) how often `isoscope serve` runs the queries and
  /// scores.
  TimeMs interval_ms = kMinuteMs;
  /// `keep_versions:` (default 5, 1 to 1000) bundle versions kept in models_dir/<name>.
  int keep_versions = 5;
  /// `model:` (required, for contamination) scikit-learn IsolationForest parameters:
  /// - `n_estimators:` default 200, 1 to 100000;
  /// - `contamination:` REQUIRED, a share of anomalies in (0, 0.5] such as 0.02, or auto;
  /// - `random_state:` default 42, 0 to 2^32-1;
  /// - `max_samples:` default auto (min(256, rows)), a row count or a fraction in (0, 1];
  /// - `max_features:` default 1.0, a column count (at most spec.width()) or a fraction;
  /// - `bootstrap:` default false.
  IForestParams params = DefaultParams();
  /// `model.scaler:` (default standard) standard (sklearn StandardScaler) or none.
  Scaler::Kind scaler = Scaler::Kind::kStandard;
  /// `model.per:` (default detector) detector: one pooled model scores every group; group:
  /// the pooled model AND one model per group with at least `min_rows` usable rows, in
  /// models_dir/<name>/groups/<group hash>/ (shard.h's GroupHash); a group without one is
  /// scored by the pooled model.
  bool per_group = false;
  /// Per-group models are sized for one group's history (`model.group_n_estimators`,
  /// `model.group_max_samples`, `model.min_rows`; only with per: group). 50 trees of 128 rows:
  /// a quarter of the pooled model's trees and half its rows per tree, since one group's
  /// levels vary less than a fleet's; the bundle is about a quarter of the pooled one (82-95 KB
  /// against 366 KB with five features) and the daemon holds one per group. The other
  /// `model:` parameters are the pooled model's.
  int32_t group_n_estimators = 50;
  MaxSamples group_max_samples = MaxSamples::Count(128);
  /// At least this many usable rows (default 1000, about 17 h at 60 s) before a group gets its
  /// own model: fewer rows say too little about the group's own pattern, and the pooled model
  /// (trained on every group) scores it instead.
  int64_t min_rows = 1000;
  /// `alerts:` (optional) thresholds, for:, smoothing and model-health alert settings.
  AlertsConfig alerts;
  /// `exclude:`, `exclude_when:`, `exclude_alerts:`, `exclude_alerts_margin:` (optional).
  ExcludeConfig exclude;
  /// `promotion:` (default immediate) and `gate:` (only with promotion: gate).
  PromotionConfig promotion;

  int line = 0;  ///< line of the detector's entry in the file

  /// The defaults of `model:` (the origin pipeline's: 200 trees, random_state 42).
  static IForestParams DefaultParams() {
    IForestParams p;
    p.n_estimators = 200;
    p.random_state = 42;
    return p;
  }
};

/// The whole file.
struct Config {
  /// `prometheus:` (required).
  PrometheusConfig prometheus;
  /// `models_dir:` (required) where bundles live: models_dir/<detector>/<version>.bundle and
  /// models_dir/<detector>/latest. Relative paths are resolved against the file's directory.
  std::string models_dir;
  /// `web:` (optional).
  WebConfig web;
  /// `detectors:` (required, at least one, names unique), in the file's order.
  std::vector<DetectorConfig> detectors;
  /// `shard:` (default: none, every group is scored) "I/N": score only the groups whose label
  /// set hashes to I mod N (shard.h); `isoscope serve --shard` overrides it.
  Shard shard;

  /// The detector called `name`, or nullptr.
  const DetectorConfig* Find(const std::string& name) const;
};

/// One problem in a configuration file: its 1-based line and what is wrong, with what to
/// write instead, e.g. "detectors[0].model.contamination: missing — set the expected share of
/// anomalies explicitly, e.g. contamination: 0.02".
struct ConfigProblem {
  int line = 0;
  std::string message;
};

/// Checks a configuration text and reports every problem it finds (not only the first), in
/// line order: YAML syntax (with line and column), unknown keys (with a "did you mean"),
/// duplicate keys, wrong types, missing required keys and invalid values. Token and password
/// files are read here. `file_name` is used to resolve relative paths (against its
/// directory). When there is no problem and `out` is not null, *out receives the result.
/// Warnings (not errors) about a detector's alert rules: a smoothing window or `for:` that
/// holds fewer than three scores (one per max(step, interval)) pages on a single outlier.
std::vector<std::string> AlertSampleWarnings(const DetectorConfig& d);

std::vector<ConfigProblem> CheckConfigText(std::string_view yaml_text, const std::string& file_name,
                                           Config* out);

/// "" when no detector groups by a label named `shard` (the label a sharded daemon adds),
/// else the problem and what to do.
std::string ShardLabelClash(const Config& config);

/// Reads and checks `path`. Errors: the read error of the file, or kInvalidArgument with every
/// problem as "path:line: message", one per line.
Result<Config> LoadConfig(const std::string& path);

}  // namespace isoscope::native
