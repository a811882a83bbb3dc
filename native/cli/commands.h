#pragma once

#include <cstdint>
#include <cstdio>
#include <string>

#include "alert_threshold.h"
#include "bundle_file.h"
#include "clock.h"
#include "config.h"
#include "isoscope/iforest.h"
#include "isoscope/model.h"
#include "model_params.h"

namespace isoscope::native {

/// Exit codes shared by every command (documented in the README and --help). Every command's
/// Run… returns a Status and prints no error of its own: main() is the one error edge, which
/// prints `isoscope <command>: <message>` and exits with ExitCodeFor(status).
enum ExitCode : int {
  kExitOk = 0,
  kExitFailure = 1,   ///< the work could not be done (bad data, I/O, training failed)
  kExitUsage = 2,     ///< the command line is wrong
  kExitBadModel = 3,  ///< a bundle or model file is damaged, foreign, too new or fails its canaries
};

int ExitCodeFor(const Status& status);

/// A write to standard output that did not get through (errno, when set, says why).
Status StdoutWriteError();

struct TrainArgs {
  std::string config;  ///< with detector: train from Prometheus instead of a CSV
  std::string detector;
  std::string end;             ///< end of the training window (default now)
  std::string chunk = "auto";  ///< with config: the time range pulled (and fed) at a time
  std::string shard;           ///< with config: "I/N" of a training Job (pooled: shard 0 trains)
  /// With per: group: MiB pass 2's group batches may hold (1 GiB: 10,000 groups of 90 days
  /// in about five batches, train_groups.h).
  double group_memory_mib = 1024;
  std::string csv;
  std::string out;
  std::string time_column;
  bool no_time = false;
  std::string features;          ///< comma list; empty = all columns but time
  std::string derived = "auto";  ///< comma list, "none", or "auto" (time features if time)
  std::string deploy_windows;    ///< empty = default weekdays 10:00-12:00 UTC
  std::string scaler = "standard";
  int n_estimators = 100;
  std::string max_samples = "auto";
  std::string contamination;  ///< empty = not given (auto, with a warning)
  std::string max_features = "1.0";
  bool bootstrap = false;
  uint32_t random_state = 0;
  bool quiet = false;
  std::string exclude;  ///< name,start,end[,description] windows left out of training
};
Status RunTrain(const TrainArgs& args);
struct CsvData;
/// The feature spec and training options that `train` builds from its flags (shared by
/// `backtest`); the spec's step comes from the data.
/// The feature spec of --derived etc.; `auto` is chosen from rows [0, end) of `data` (what
/// a model trained on them has seen).
Result<FeatureSpec> SpecFromArgs(const TrainArgs& args, const CsvData& data, size_t end = SIZE_MAX);
/// The contamination train and backtest use when none is given (README.md, "train").
constexpr double kDefaultContamination = 0.01;
/// `score` warns when it flags more than this many times the model's expected share.
constexpr double kOverscoringRatio = 3.0;
Result<TrainOptions> OptionsFromArgs(const TrainArgs& args);
/// What `auto` read in rows [0, end): the step, the span and each input's daily and weekly
/// autocorrelation, for train's and backtest's output.
std::string DescribeAuto(const CsvData& data, size_t end);

/// `isoscope backtest`: walk forward through a CSV as the deployed system would.
struct BacktestArgs {
  TrainArgs train;            ///< csv, features, derived and model options as for train
  std::string initial;        ///< DURATION or ROWS trained on before the first score
  std::string retrain_every;  ///< DURATION or ROWS between retrains
  std::string train_window;   ///< DURATION or ROWS of trailing history per training
  /// Directory (created if missing) to keep every trained bundle in, as
  /// DIR/<model_version>.bundle, for `replay --bundles DIR`; empty = keep none.
  std::string save_bundles;
  /// OpenMetrics file of the per-row scores, for promtool tsdb create-blocks-from openmetrics;
  /// empty = none.
  std::string openmetrics;
  std::string detector = "backtest";  ///< the detector label of the OpenMetrics series
};
Status RunBacktest(const BacktestArgs& args);
Status RunTrainFromPrometheus(const TrainArgs& args);

struct RollbackArgs {
  std::string config;
  std::string detector;
  std::string to;     ///< empty = the version before the current latest
  std::string group;  ///< model: per: group: the group's hash (16 hex); empty = the pooled model
};
Status RunRollback(const RollbackArgs& args);

struct CandidatesArgs {
  std::string config;
  std::string detector;  ///< empty: every detector of the file
  bool json = false;
};
/// Each detector's candidate and, when the daemon has compared it, the comparison it wrote
/// beside `candidate` in the store (models_dir/<detector>/candidate-comparison.json).
Status RunCandidates(const CandidatesArgs& args);

struct PromoteArgs {
  std::string config;
  std::string detector;
  std::string version;  ///< empty: whatever the candidate is; else refuse another one
};
/// Makes the detector's candidate `latest` (checksum and canaries first) and removes `candidate`.
Status RunPromote(const PromoteArgs& args);

struct ScoreArgs {
  std::string bundle;
  std::string csv;
  std::string out;  ///< empty = stdout
  std::string time_column;
  bool quiet = false;
  bool explain = false;  ///< contribution:<feature> columns and top_input
};
Status RunScore(const ScoreArgs& args);

struct ReplayArgs {
  std::string bundle;  ///< scores a CSV of inputs; with a CSV of scores, the model of every row
  /// With a CSV of scores (backtest's): the bundles by model version, DIR/<version>.bundle
  /// (backtest --save-bundles DIR, or a detector's store), for thresholds relative to each
  /// row's model.
  std::string bundles;
  std::string csv;
  std::string time_column;
  std::string warning = "contamination";  ///< see ResolveAlertThreshold
  std::string critical = "contamination/2";
  std::string for_duration = "3m";
  std::string smooth = "5m";
  std::string eval_interval = "1m";
  std::string contamination;  ///< empty = the bundle's own threshold
  std::string incidents;      ///< name,start,end,description CSV (isoscope demo's)
  bool json = false;
};
/// `isoscope replay`: scores a CSV (or takes the scores of score's or backtest's output as
/// given) and replays the alert rules over it (core/alert.h).
Status RunReplay(const ReplayArgs& args);

struct TuneArgs {
  std::string bundle;  ///< scores a CSV of inputs; unused with a CSV of scores
  std::string csv;
  std::string time_column;
  std::string budget = "1/week";  ///< pages per week (or N/day)
  std::string warning_budget = "5/week";
  std::string incidents;                   ///< name,start,end[,description] CSV
  std::string max_delay;                   ///< "" = no limit
  std::string for_grid = "3m,5m,10m,15m";  ///< values under 3 steps are dropped
  std::string smooth_grid = "5m,10m,15m,30m";
  std::string eval_interval = "1m";
  std::string out;  ///< write the chosen `alerts:` block here too
  bool json = false;
};
/// `isoscope tune`: alert settings for an alert budget (core/tune.h).
Status RunTune(const TuneArgs& args);

struct InspectArgs {
  std::string bundle;
  bool json = false;
};
Status RunInspect(const InspectArgs& args);

struct ImportArgs {
  std::string model;
  std::string out;
  std::string training_csv;  ///< optional: training rows for the quantile table
};
Status RunImportSklearn(const ImportArgs& args);

struct DemoArgs {
  std::string out_dir = "build/demo";
  int days = 90;
  uint32_t seed = 7;
};
Status RunDemo(const DemoArgs& args);

struct CheckConfigArgs {
  std::string config;
};
Status RunCheckConfig(const CheckConfigArgs& args);

/// An alert threshold (alert_threshold.h) resolved for `model`, with "contamination" meaning
/// `share` (replay's --contamination may differ from the trained one).
Result<double> ResolveAlertThreshold(const std::string& text, const Model& model, double share);

/// The detector `name` of `config` (read from `path`), or a usage error that lists its names.
Result<const DetectorConfig*> FindDetector(const Config& config, const std::string& name,
                                           const std::string& path);

struct RulesArgs {
  std::string config;
  std::string out;       ///< directory; empty = standard output
  std::string detector;  ///< empty = every detector
  // Overrides of the detector's alerts: settings; empty = as configured.
  std::string warning;
  std::string critical;
  std::string for_duration;
  std::string smooth;
  std::string keep_firing_for;
  std::string eval_interval;
  std::string record;
  std::string grafana_datasource_uid = "prometheus";
  std::string grafana_folder = "isoscope";
};
/// `isoscope rules`: Prometheus recording/alerting/model-health rules and Grafana alert
/// provisioning YAML per detector (rules_gen.h).
Status RunRules(const RulesArgs& args);

struct DashboardArgs {
  std::string config;
  std::string detector;  ///< empty = every detector
  std::string out;       ///< empty = stdout
  std::string title = "isoscope";
  std::string uid = "isoscope";
  std::string daemon_url;  ///< empty = http://<web.listen_address>
};
/// `isoscope dashboard`: a provisionable Grafana dashboard JSON for the detectors
/// (dashboard_gen.h).
Status RunDashboard(const DashboardArgs& args);

struct InstallArgs {
  std::string config;
  std::string detector;
  std::string bundle;
};
/// `isoscope install`: puts a bundle file (trained from a CSV, imported from scikit-learn) into
/// a detector's store as its latest version, after the checks a daemon makes at reload.
Status RunInstall(const InstallArgs& args);

struct ServeArgs {
  std::string config;
  std::string listen_address;  ///< empty = web.listen_address of the config
  /// Exporter-toolkit web config (TLS, basic auth) for every endpoint; empty = plain HTTP.
  std::string web_config_file;
  /// Tests and replays: the daemon's clock starts at this time (epoch s or ISO 8601) and runs
  /// at real speed from there; empty = the system clock.
  std::string start_time;
  /// Demo and replays: answer the instant queries from this CSV of history (a time column,
  /// one column per query, optionally group_by label columns) instead of Prometheus.
  std::string replay_csv;
  /// The daemon's clock runs this many times as fast as the wall clock (intervals too).
  double replay_speed = 1.0;
  /// "I/N": score only this replica's share of the groups (shard.h); empty = the config's
  /// `shard:`, or every group.
  std::string shard;
  /// The standalone what-if page's files (wasm/panel's dist), served at /; empty = the built
  /// or installed one next to the binary if there is one.
  std::string ui_dir;
  /// Known incident windows (name,start,end,description CSV) marked on the what-if page.
  std::string incidents;
};
/// `isoscope serve`: the exporter daemon, until SIGTERM or SIGINT.
Status RunServe(const ServeArgs& args);

/// The human training report (train and inspect print it).
void PrintReport(std::FILE* out, const Model& model);

}  // namespace isoscope::native
