// The isoscope command line: flags and wiring only; each command lives in cmd_*.cc.
#include <CLI/CLI.hpp>

#include <cerrno>
#include <cstdio>
#include <functional>
#include <string>
#include <utility>

#include "commands.h"
#include "isoscope/version.h"

using isoscope::ErrorCode;
using isoscope::Status;
using namespace isoscope::native;

namespace {

constexpr const char* kFooter =
    "\nExit codes: 0 ok, 1 the work failed (bad data, I/O), 2 wrong usage, 3 a model file is\n"
    "damaged, foreign, too new or fails its canary check.";

constexpr const char* kDerivedHelp =
    "Derived features, a comma list of: hour_of_week (Monday 00:00 UTC = 0), "
    "is_deploy_window, lag(x,D), lag(x,k), lag(x,1..k), delta(x,D), rate(x,D), zscore(x,D), "
    "range(x,D), mean(x,D), seasonal_diff(x,P), seasonal_median_diff(x,P,K[,S]), and raw=off "
    "(leave the raw values out of the vector) or raw=on; or 'auto' (a set picked from the "
    "data's step and length, docs/features.md) or 'none'. x is an input column; D, P and S are "
    "durations like 30s, 5m, 1h, 1d, 1w; k and K are counts. Example: "
    "'raw=off,seasonal_median_diff(latency_p95,1w,3),zscore(cpu,1h)'";

// The model flags train and backtest share (backtest trains with the same choices).
void AddModelFlags(CLI::App* cmd, TrainArgs& train) {
  cmd->add_option("--exclude", train.exclude,
                  "CSV name,start,end[,description] of windows to leave out of training "
                  "(incidents, maintenance; the incidents.csv form); rows whose rolling features "
                  "reach into a window re-warm")
      ->check(CLI::ExistingFile);
  cmd->add_option("--features", train.features, "Comma list of columns to use (default: all)");
  cmd->add_option("--derived", train.derived, kDerivedHelp)->capture_default_str();
  cmd->add_option("--deploy-windows", train.deploy_windows,
                  "Weekly deploy windows in UTC, e.g. 'Mon-Fri 10:00-12:00; Sat 09:00-10:00' "
                  "(default Mon-Fri 10:00-12:00)");
  cmd->add_option("--scaler", train.scaler, "standard (sklearn StandardScaler) or none")
      ->capture_default_str();
  cmd->add_option("--n-estimators", train.n_estimators, "Number of trees")->capture_default_str();
  cmd->add_option("--max-samples", train.max_samples,
                  "Rows per tree: auto (min(256, rows)), a count, or a fraction like 0.5")
      ->capture_default_str();
  cmd->add_option("--contamination", train.contamination,
                  "Expected share of anomalies in (0, 0.5], e.g. 0.02, or auto (threshold 0.5). "
                  "Say it explicitly: the default 'auto' flags far too much on seasonal data");
  cmd->add_option("--max-features", train.max_features,
                  "Columns per tree: a count, or a fraction like 0.6")
      ->capture_default_str();
  cmd->add_flag("--bootstrap", train.bootstrap, "Draw rows with replacement");
  cmd->add_option("--random-state", train.random_state, "Seed (same seed, same model)")
      ->capture_default_str();
}

constexpr const char* kTimeColumnHelp =
    "Time column (epoch s, epoch ms or ISO 8601; a time without a zone is read as UTC); "
    "default: a column named timestamp, time, ts, datetime or date. Rows must not go back in "
    "time; of rows with the same time the later one is used";

// `train` from a CSV or from Prometheus: which flags go together.
Status Train(const TrainArgs& train) {
  if (!train.config.empty() || !train.detector.empty()) {
    if (!train.exclude.empty()) {
      return Status(ErrorCode::kInvalidArgument,
                    "--exclude goes with --csv; with --config give the detector exclude: "
                    "windows in the config");
    }
    if (train.config.empty() || train.detector.empty() || !train.csv.empty()) {
      return Status(ErrorCode::kInvalidArgument,
                    "use --config with --detector (from Prometheus), or --csv with --out");
    }
    return RunTrainFromPrometheus(train);
  }
  if (!train.shard.empty()) {
    return Status(ErrorCode::kInvalidArgument, "--shard goes with --config and --detector");
  }
  if (train.csv.empty() || train.out.empty()) {
    return Status(ErrorCode::kInvalidArgument,
                  "--csv and --out are required (or --config with --detector to train from "
                  "Prometheus); see --help");
  }
  return RunTrain(train);
}

int Finish(const std::string& command, Status status) {
  // What a command printed must reach its reader: a full disk or a broken file behind standard
  // output is a failure (exit 1), not a 0 whose output is cut short at exit's own flush.
  // ferror as well: a write that failed earlier empties the buffer, and the flush then has
  // nothing left to fail on.
  errno = 0;
  if (status.ok() && (std::fflush(stdout) != 0 || std::ferror(stdout) != 0)) {
    status = StdoutWriteError();
  }
  if (!status.ok()) {
    std::fprintf(stderr, "isoscope %s: %s\n", command.c_str(), status.message().c_str());
  }
  return ExitCodeFor(status);
}

// Each command registers its own options and returns its subcommand.

CLI::App* AddTrain(CLI::App& app, TrainArgs& train) {
  auto* t = app.add_subcommand("train", "Train a model on a CSV of metrics and write a bundle");
  t->footer(
      "\nFrom Prometheus (the weekly CronJob):\n"
      "  isoscope train --config isoscope.yml --detector checkout\n"
      "From a CSV (the origin pipeline):\n"
      "  isoscope train --csv history.csv --out model.bundle --n-estimators 200 \\\n"
      "      --contamination 0.02 --random-state 42\n"
      "Same data and parameters give the same trees and scores as scikit-learn's\n"
      "IsolationForest (with --scaler none; the default standard scaler matches\n"
      "StandardScaler + IsolationForest)." +
      std::string(kFooter));
  t->add_option("--csv", train.csv, "CSV with a header row; one column per metric")
      ->check(CLI::ExistingFile);
  t->add_option("--out", train.out, "Bundle file to write (atomically), with --csv");
  t->add_option("--config", train.config,
                "isoscope.yml: train DETECTOR from Prometheus instead of a CSV, and install the "
                "bundle as the detector's latest version")
      ->check(CLI::ExistingFile);
  t->add_option("--detector", train.detector, "Detector of --config to train");
  t->add_option("--end", train.end,
                "With --config: end of the training window (epoch s or ISO 8601; default now)");
  t->add_option("--chunk", train.chunk,
                "With --config: time range pulled from Prometheus at a time (auto: about "
                "250,000 rows, at most 1d); memory is one chunk's rows plus the rows the trees "
                "draw (rows are numbered chunk by chunk)")
      ->capture_default_str();
  t->add_option("--shard", train.shard,
                "With --config: I/N, this pod's part of a training Job; a pooled model is "
                "trained by shard 0, the others exit 0");
  t->add_option("--group-memory", train.group_memory_mib,
                "With --config and model: per: group: MiB the group trainers may hold in "
                "pass 2 (the rows each group's trees draw, ~0.47 MiB a group at 90 days); "
                "more groups than fit are trained in batches, each pulling the window once "
                "more")
      ->check(CLI::Range(0.01, 1048576.0))
      ->capture_default_str();
  t->add_option("--time-column", train.time_column, kTimeColumnHelp);
  t->add_flag("--no-time", train.no_time, "Ignore any time column");
  AddModelFlags(t, train);
  t->add_flag("-q,--quiet", train.quiet, "Print nothing but errors");
  return t;
}

CLI::App* AddScore(CLI::App& app, ScoreArgs& score) {
  auto* s = app.add_subcommand("score", "Score the rows of a CSV with a bundle");
  s->footer(
      "\nWrites CSV: row,timestamp,anomaly_score,decision,is_anomaly,reason.\n"
      "anomaly_score is in (0, 1], higher is more anomalous (sklearn's -score_samples);\n"
      "decision is sklearn's decision_function; is_anomaly is anomaly_score > threshold.\n"
      "A row with a missing or invalid value gets no score and a reason, never a number." +
      std::string(kFooter));
  s->add_option("--bundle", score.bundle, "Model bundle")->required()->check(CLI::ExistingFile);
  s->add_option("--csv", score.csv, "CSV with the model's input columns (by name)")
      ->required()
      ->check(CLI::ExistingFile);
  s->add_option("--out", score.out, "Output CSV (default: standard output)");
  s->add_option("--time-column", score.time_column, kTimeColumnHelp);
  s->add_flag("-q,--quiet", score.quiet, "No summary on standard error");
  s->add_flag("--explain", score.explain,
              "Add contribution:<feature> columns (each feature's exact share of log2 of the "
              "anomaly score; positive pushes towards anomalous) and top_input");
  return s;
}

CLI::App* AddBacktest(CLI::App& app, BacktestArgs& backtest) {
  auto* bt = app.add_subcommand(
      "backtest", "Walk forward through a CSV: train, score ahead, retrain on schedule");
  bt->footer(
      "\nTrains on --initial, scores the rows after it, and every --retrain-every retrains on\n"
      "the trailing --train-window of rows before the retrain (past rows only), as a weekly\n"
      "CronJob would. Writes score's columns plus model_version (empty before the first\n"
      "model). Spans are durations (90d, 1w) or row counts (20000).\n"
      "The output is replay's input: isoscope replay --csv OUT takes its scores as given, and\n"
      "with --bundles DIR (the bundles --save-bundles DIR kept) resolves relative thresholds\n"
      "per model version. --openmetrics FILE writes the scores as the daemon exports them, to\n"
      "backfill with promtool tsdb create-blocks-from openmetrics FILE DATA_DIR.\n"
      "Example: isoscope backtest --csv build/demo/history.csv --out build/demo/backtest.csv \\\n"
      "    --initial 28d --retrain-every 7d --train-window 90d --contamination 0.02 \\\n"
      "    --save-bundles build/demo/backtest-models\n" +
      std::string(kFooter));
  bt->add_option("--csv", backtest.train.csv, "History CSV with a time column")
      ->required()
      ->check(CLI::ExistingFile);
  bt->add_option("--out", backtest.train.out, "Output CSV (written atomically)")->required();
  bt->add_option("--initial", backtest.initial, "History trained on before the first score")
      ->required();
  bt->add_option("--retrain-every", backtest.retrain_every, "Time or rows between retrains")
      ->required();
  bt->add_option("--train-window", backtest.train_window,
                 "Trailing history each training uses (e.g. 90d)")
      ->required();
  bt->add_option("--time-column", backtest.train.time_column, kTimeColumnHelp);
  AddModelFlags(bt, backtest.train);
  bt->add_option("--save-bundles", backtest.save_bundles,
                 "Keep every bundle trained, as DIR/<model_version>.bundle (DIR created if "
                 "missing; each written atomically), for replay --bundles DIR");
  bt->add_option("--openmetrics", backtest.openmetrics,
                 "Also write the scores as OpenMetrics text (anomaly_score, anomaly_is_anomaly, "
                 "anomaly_threshold, model_version_timestamp{model_version}, timestamped, "
                 "# EOF) for promtool tsdb create-blocks-from openmetrics");
  bt->add_option("--detector", backtest.detector, "detector label of the --openmetrics series")
      ->capture_default_str();
  bt->add_flag("-q,--quiet", backtest.train.quiet, "No progress on standard error");
  return bt;
}

CLI::App* AddReplay(CLI::App& app, ReplayArgs& replay) {
  auto* y = app.add_subcommand("replay",
                               "Replay the alert rules over a scored history: would it have "
                               "paged, and when?");
  y->footer(
      "\nScores the CSV with the bundle, smooths the score as "
      "avg_over_time(anomaly_score[SMOOTH])\n"
      "at every rule evaluation, and runs the warning and critical rules (> threshold for FOR)\n"
      "with Prometheus semantics. Prints pending and firing counts, pages per week, time in\n"
      "alert and, with --incidents, each incident's delay to the first warning and page.\n"
      "A CSV with an anomaly_score column (the output of isoscope score or backtest) is not\n"
      "scored again: its scores are used as given (an empty one is no score). Score thresholds\n"
      "(0.6) need nothing more; relative ones (1%, contamination, contamination/N) need the\n"
      "model of each row: --bundles DIR (backtest --save-bundles DIR, or a detector's store)\n"
      "finds it by the row's model_version, and at each model change the thresholds become\n"
      "the new model's while the alert states carry on, as in a daemon after a reload.\n"
      "Surprise thresholds (surprise:4: the calibrated surprise, -log10 of the tail probability\n"
      "under the model's training scores, the same on every model) replay the surprise instead\n"
      "of the score (score's surprise column, or computed here); give both as surprise:N.\n"
      "Examples: isoscope replay --bundle build/demo/model.bundle --csv build/demo/history.csv \\\n"
      "    --incidents build/demo/incidents.csv\n"
      "  isoscope replay --csv backtest.csv --bundles backtest-models --incidents incidents.csv" +
      std::string(kFooter));
  y->add_option("--bundle", replay.bundle,
                "Model bundle that scores the CSV's inputs; with a CSV of scores, the model "
                "every row was scored with")
      ->check(CLI::ExistingFile);
  y->add_option("--bundles", replay.bundles,
                "With a CSV of scores: directory of DIR/<model_version>.bundle (backtest "
                "--save-bundles), for thresholds relative to each row's model")
      ->check(CLI::ExistingDirectory);
  y->add_option("--csv", replay.csv,
                "History CSV with a time column and the model's inputs, or with the scores of "
                "isoscope score or backtest (anomaly_score, model_version)")
      ->required()
      ->check(CLI::ExistingFile);
  y->add_option("--time-column", replay.time_column, kTimeColumnHelp);
  y->add_option("--warning", replay.warning,
                "Warning threshold on the smoothed score: a score (0.6), the score exceeded by a "
                "share of training rows (1%), contamination (the model's anomaly threshold) or "
                "contamination/N; or on the smoothed surprise: surprise:N (tail probability "
                "10^-N)")
      ->capture_default_str();
  y->add_option("--critical", replay.critical, "Critical (paging) threshold, as --warning")
      ->capture_default_str();
  y->add_option("--for", replay.for_duration, "How long the condition must hold (for:)")
      ->capture_default_str();
  y->add_option("--smooth", replay.smooth, "avg_over_time window")->capture_default_str();
  y->add_option("--eval-interval", replay.eval_interval, "Rule evaluation interval")
      ->capture_default_str();
  y->add_option("--contamination", replay.contamination,
                "Re-choose the is_anomaly threshold for this share and report the flagged share");
  y->add_option("--incidents", replay.incidents,
                "CSV name,start,end,description of known incidents (isoscope demo writes one)")
      ->check(CLI::ExistingFile);
  y->add_flag("--json", replay.json, "Print the result as JSON");
  return y;
}

CLI::App* AddTune(CLI::App& app, TuneArgs& tune) {
  auto* tn = app.add_subcommand("tune",
                                "Choose alert thresholds, for: and smoothing for an alert "
                                "budget (pages per week)");
  tn->footer(
      "\nScores the CSV with the bundle (or takes score's or backtest's scores as given) and\n"
      "replays every combination of smoothing window, for: and critical threshold (upper-tail\n"
      "order statistics of the smoothed score). Prints the frontier (pages per week against\n"
      "incidents caught and their delay) and the chosen settings, within the budget: most\n"
      "incidents caught, least delay, fewest pages; without incidents, the most pages the\n"
      "budget allows. The warning threshold is the lowest that stays within --warning-budget.\n"
      "The choice is printed as the alerts: block of isoscope.yml and as isoscope rules flags.\n"
      "Example: isoscope tune --bundle build/demo/model.bundle --csv build/demo/history.csv \\\n"
      "    --budget 1/week --incidents build/demo/incidents.csv --max-delay 15m" +
      std::string(kFooter));
  tn->add_option("--bundle", tune.bundle, "Model bundle that scores the CSV's inputs")
      ->check(CLI::ExistingFile);
  tn->add_option("--csv", tune.csv,
                 "History CSV with a time column and the model's inputs, or the scores of "
                 "isoscope score or backtest (anomaly_score)")
      ->required()
      ->check(CLI::ExistingFile);
  tn->add_option("--time-column", tune.time_column, kTimeColumnHelp);
  tn->add_option("--budget", tune.budget, "Pages allowed per week of scored time: 1/week, 2/day")
      ->capture_default_str();
  tn->add_option("--warning-budget", tune.warning_budget, "Warning firings allowed per week")
      ->capture_default_str();
  tn->add_option("--incidents", tune.incidents,
                 "CSV name,start,end[,description] of known incidents (isoscope demo writes one)")
      ->check(CLI::ExistingFile);
  tn->add_option("--max-delay", tune.max_delay,
                 "An incident counts as caught only when paged within this time of its start");
  tn->add_option("--for", tune.for_grid,
                 "for: values to try (a list); those under 3 steps are skipped")
      ->capture_default_str();
  tn->add_option("--smooth", tune.smooth_grid,
                 "Smoothing windows to try (a list); those under 3 steps are skipped")
      ->capture_default_str();
  tn->add_option("--eval-interval", tune.eval_interval, "Rule evaluation interval")
      ->capture_default_str();
  tn->add_option("--out", tune.out, "Also write the chosen alerts: block to this file");
  tn->add_flag("--json", tune.json, "Print the result as JSON");
  return tn;
}

CLI::App* AddInspect(CLI::App& app, InspectArgs& inspect) {
  auto* i = app.add_subcommand("inspect", "Show a bundle's metadata and training report");
  i->footer(std::string("\nThe canary check runs first: a model that no longer reproduces its "
                        "own scores is refused.") +
            kFooter);
  i->add_option("--bundle", inspect.bundle, "Model bundle")->required()->check(CLI::ExistingFile);
  i->add_flag("--json", inspect.json,
              "Everything as JSON, including every tree as scikit-learn-shaped arrays");
  return i;
}

CLI::App* AddImportSklearn(CLI::App& app, ImportArgs& import) {
  auto* m = app.add_subcommand("import-sklearn",
                               "Convert a scikit-learn IsolationForest (and StandardScaler) "
                               "into a bundle with identical scores");
  m->footer(
      "\nFirst export the joblib files of a Python pipeline:\n"
      "  python3 tools/sklearn_export.py --model iforest.joblib [--scaler scaler.joblib] "
      "--out model.json\n"
      "then: isoscope import-sklearn --model model.json --out model.bundle "
      "[--training-csv train.csv]" +
      std::string(kFooter));
  m->add_option("--model", import.model, "JSON written by tools/sklearn_export.py")
      ->required()
      ->check(CLI::ExistingFile);
  m->add_option("--out", import.out, "Bundle file to write")->required();
  m->add_option("--training-csv", import.training_csv,
                "Training rows (same columns), to store training-score quantiles so the "
                "threshold can be re-chosen for another contamination")
      ->check(CLI::ExistingFile);
  return m;
}

CLI::App* AddRollback(CLI::App& app, RollbackArgs& rollback) {
  auto* r = app.add_subcommand("rollback",
                               "Point a detector's latest model at the previous (or a named) "
                               "version; a running daemon follows it");
  r->footer(std::string("\nThe target is checked (checksum, canaries) before latest moves.") +
            kFooter);
  r->add_option("--config", rollback.config, "isoscope.yml")->required()->check(CLI::ExistingFile);
  r->add_option("--detector", rollback.detector, "Detector to roll back")->required();
  r->add_option("--to", rollback.to, "Version to point at (default: the one before latest)");
  r->add_option("--group", rollback.group,
                "model: per: group: roll back this group's model instead of the pooled one (its "
                "hash, the directory name under models_dir/<detector>/groups/)");
  return r;
}

CLI::App* AddCandidates(CLI::App& app, CandidatesArgs& candidates) {
  auto* c = app.add_subcommand("candidates",
                               "Show each detector's candidate model and how it compares with "
                               "the active one (promotion: manual or gate)");
  c->footer(std::string("\nThe comparison is the daemon's, written beside the candidate in the "
                        "store at every cycle: would-be pages, anomaly rate and score "
                        "quantiles of both models on the same rows.") +
            kFooter);
  c->add_option("--config", candidates.config, "isoscope.yml")
      ->required()
      ->check(CLI::ExistingFile);
  c->add_option("--detector", candidates.detector, "Only this detector");
  c->add_flag("--json", candidates.json, "One JSON array instead of the table");
  return c;
}

CLI::App* AddPromote(CLI::App& app, PromoteArgs& promote) {
  auto* p = app.add_subcommand("promote",
                               "Make a detector's candidate model its latest; a running daemon "
                               "follows it");
  p->footer(std::string("\nThe candidate is checked (checksum, canaries) before latest moves; "
                        "exit 1 when there is no candidate, 3 when it is damaged.") +
            kFooter);
  p->add_option("--config", promote.config, "isoscope.yml")->required()->check(CLI::ExistingFile);
  p->add_option("--detector", promote.detector, "Detector whose candidate to promote")->required();
  p->add_option("--version", promote.version,
                "Promote only if the candidate is this version (what you compared)");
  return p;
}

CLI::App* AddDemo(CLI::App& app, DemoArgs& demo) {
  auto* d = app.add_subcommand("demo",
                               "Generate built-in synthetic history, train, score and report "
                               "which injected incidents were flagged");
  d->add_option("--out-dir", demo.out_dir, "Where to write history, model and scores")
      ->capture_default_str();
  d->add_option("--days", demo.days, "Days of history at 60 s")->capture_default_str();
  d->add_option("--seed", demo.seed, "Noise seed")->capture_default_str();
  return d;
}

CLI::App* AddCheckConfig(CLI::App& app, CheckConfigArgs& check_config) {
  auto* c = app.add_subcommand("check-config",
                               "Check an isoscope.yml and report every problem with its line "
                               "and what to write instead");
  c->footer(
      "\nPrints 'FILE: OK (N detectors: ...)' and one summary line per detector, or every\n"
      "problem as FILE:LINE: message on standard error and exits 2. Token and password files\n"
      "are read too. Relative paths in the file are relative to its directory.\n"
      "Example: isoscope check-config --config /etc/isoscope/isoscope.yml\n"
      "The README's Configuration section documents every key." +
      std::string(kFooter));
  c->add_option("--config", check_config.config, "Configuration file (isoscope.yml)")
      ->required()
      ->check(CLI::ExistingFile);
  return c;
}

CLI::App* AddServe(CLI::App& app, ServeArgs& serve) {
  auto* v = app.add_subcommand("serve",
                               "Run the exporter daemon: score every detector live and serve "
                               "/metrics, /healthz, /readyz and /api/v1/detectors");
  v->footer(
      "\nEvery detector's interval: its instant queries at now, one feature vector per\n"
      "group_by label set, scored with the model at models_dir/<detector>/latest. A new\n"
      "latest (or SIGHUP) is loaded after its checksum and canary check; a bad bundle is\n"
      "refused and the previous model keeps serving. SIGTERM or SIGINT stops it.\n"
      "Example: isoscope serve --config /etc/isoscope/isoscope.yml" +
      std::string(kFooter));
  v->add_option("--config", serve.config, "isoscope.yml")->required()->check(CLI::ExistingFile);
  v->add_option("--web.listen-address", serve.listen_address,
                "host:port to serve on (default: web.listen_address of the config, "
                "127.0.0.1:8080); port 0 picks a free port");
  v->add_option("--web.config.file", serve.web_config_file,
                "TLS and basic auth for every endpoint, in the Prometheus exporter-toolkit "
                "format (tls_server_config: cert_file, key_file; basic_auth_users: user: "
                "bcrypt hash); a bad file stops the start with exit code 2");
  v->add_option("--start-time", serve.start_time,
                "Testing and replay: the daemon's clock starts at this time (epoch s or ISO "
                "8601 UTC) and runs at real speed; queries and time features use it");
  v->add_option("--replay-csv", serve.replay_csv,
                "Demo without Prometheus: answer the queries from this CSV of history (a time "
                "column, a column per query name, group_by label columns optional); the clock "
                "starts at its first row unless --start-time is given")
      ->check(CLI::ExistingFile);
  v->add_option("--replay-speed", serve.replay_speed,
                "With --start-time or --replay-csv: the clock, and so every interval, runs N "
                "times as fast as real time (e.g. 12: a 60s interval every 5 s)")
      ->capture_default_str();
  v->add_option("--incidents", serve.incidents,
                "Incident windows to mark on the what-if page: a CSV of name,start,end,"
                "description (isoscope demo's incidents.csv; ISO 8601 or epoch times)")
      ->check(CLI::ExistingFile);
  v->add_option("--shard", serve.shard,
                "I/N: this replica scores only the groups whose label set hashes to I mod N, "
                "so N replicas with 0/N .. N-1/N score every group once (default: the "
                "config's shard:, else every group)");
  v->add_option("--web.ui-dir", serve.ui_dir,
                "Directory of the what-if page served at / (default: ../panel/dist or "
                "../share/isoscope/ui next to the binary, when built or installed)");
  return v;
}

CLI::App* AddRules(CLI::App& app, RulesArgs& rules) {
  auto* u = app.add_subcommand("rules",
                               "Write Prometheus recording, alerting and model-health rules and "
                               "Grafana alert provisioning YAML for the detectors");
  u->footer(
      "\nPer detector, four files: DETECTOR.recording.rules.yml (job:anomaly_score:avg5m =\n"
      "avg_over_time(anomaly_score[5m])), DETECTOR.alerting.rules.yml (warning and critical on\n"
      "the smoothed score, for:), DETECTOR.model-health.rules.yml (drift canary during peak\n"
      "hours, canary mismatch, stale, missing or old model) and DETECTOR.grafana-alerting.yml\n"
      "(Grafana 10.2+ provisioning). Values come from each detector's alerts: settings; the\n"
      "flags override them (for every detector written). Files are written atomically.\n"
      "A threshold relative to the model (contamination, contamination/N, 1%) compares with\n"
      "the anomaly_alert_threshold{severity} that isoscope serve resolves at every model load,\n"
      "so the rules follow each retrain; a score (0.6) is written into the rules as is.\n"
      "A surprise (surprise:4) compares job:anomaly_surprise:avg5m, the smoothed\n"
      "anomaly_surprise, with the number: one threshold that means the same on every model.\n"
      "Example: isoscope rules --config isoscope.yml --out /etc/prometheus/rules \\\n"
      "    --detector checkout --critical 0.9 --for 5m" +
      std::string(kFooter));
  u->add_option("--config", rules.config, "isoscope.yml")->required()->check(CLI::ExistingFile);
  u->add_option("--out", rules.out,
                "Directory to write the files into (created if missing); default: print them");
  u->add_option("--detector", rules.detector, "Only this detector (default: all)");
  u->add_option("--warning", rules.warning,
                "Warning threshold on the smoothed score: a score (0.6), a share of training "
                "rows (1%), contamination or contamination/N, or surprise:N on the smoothed "
                "surprise (default: the config's, else contamination)");
  u->add_option("--critical", rules.critical,
                "Critical (paging) threshold, as --warning and at least as strict (default: the "
                "config's, else contamination/2)");
  u->add_option("--for", rules.for_duration, "How long a threshold must be exceeded, e.g. 3m");
  u->add_option("--smooth", rules.smooth, "avg_over_time window of the recording rule, e.g. 5m");
  u->add_option("--keep-firing-for", rules.keep_firing_for, "keep_firing_for, e.g. 5m");
  u->add_option("--eval-interval", rules.eval_interval, "Rule group evaluation interval");
  u->add_option("--record", rules.record,
                "Recording rule name (default job:anomaly_score:avg<smooth>)");
  u->add_option("--grafana-datasource-uid", rules.grafana_datasource_uid,
                "uid of the Prometheus data source in Grafana")
      ->capture_default_str();
  u->add_option("--grafana-folder", rules.grafana_folder, "Grafana folder of the rule group")
      ->capture_default_str();
  return u;
}

CLI::App* AddDashboard(CLI::App& app, DashboardArgs& dashboard) {
  auto* dash = app.add_subcommand(
      "dashboard", "Write a provisionable Grafana dashboard (JSON) for the detectors");
  dash->footer(
      "\nOne row per detector: the isoscope panel (its queries, overlay and what-if), the raw and\n"
      "smoothed score with the warning and critical lines, the alert state per group, and the\n"
      "model version, canary, anomaly rate and stale groups. The Prometheus data source is the\n"
      "dashboard variable $datasource. Put the file in a directory a Grafana dashboard provider\n"
      "reads, or import it. Example: isoscope dashboard --config isoscope.yml \\\n"
      "    --out /var/lib/grafana/dashboards/isoscope.json" +
      std::string(kFooter));
  dash->add_option("--config", dashboard.config, "isoscope.yml")
      ->required()
      ->check(CLI::ExistingFile);
  dash->add_option("--detector", dashboard.detector, "Only this detector (default: all)");
  dash->add_option("--out", dashboard.out, "File to write (atomically); default: print it");
  dash->add_option("--title", dashboard.title, "Dashboard title")->capture_default_str();
  dash->add_option("--uid", dashboard.uid, "Dashboard uid")->capture_default_str();
  dash->add_option("--daemon-url", dashboard.daemon_url,
                   "URL of isoscope serve as the viewer's browser reaches it, for the panel "
                   "(default: http://<web.listen_address>)");
  return dash;
}

CLI::App* AddInstall(CLI::App& app, InstallArgs& install) {
  auto* n = app.add_subcommand("install",
                               "Install a bundle file as a detector's latest version, for a "
                               "running daemon to load");
  n->footer(
      "\nFor bundles trained from a CSV (isoscope train --csv) or imported from scikit-learn.\n"
      "The bundle is checked (checksum, canaries, inputs among the detector's queries), stored\n"
      "as models_dir/<detector>/<version>.bundle with its report, latest is moved and old\n"
      "versions beyond keep_versions are pruned, as isoscope train --config does.\n"
      "Example: isoscope install --config isoscope.yml --detector checkout --bundle model.bundle" +
      std::string(kFooter));
  n->add_option("--config", install.config, "isoscope.yml")->required()->check(CLI::ExistingFile);
  n->add_option("--detector", install.detector, "Detector to install the bundle for")->required();
  n->add_option("--bundle", install.bundle, "Bundle file")->required()->check(CLI::ExistingFile);
  return n;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"isoscope " + std::string(isoscope::kEngineVersion) +
               ": Isolation Forest anomaly scoring for Prometheus and Grafana, exact to "
               "scikit-learn"};
  app.footer(kFooter);
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("isoscope ") + isoscope::kEngineVersion);

  TrainArgs train;
  ScoreArgs score;
  BacktestArgs backtest;
  ReplayArgs replay;
  TuneArgs tune;
  InspectArgs inspect;
  ImportArgs import;
  RollbackArgs rollback;
  CandidatesArgs candidates;
  PromoteArgs promote;
  DemoArgs demo;
  CheckConfigArgs check_config;
  ServeArgs serve;
  RulesArgs rules;
  DashboardArgs dashboard;
  InstallArgs install;
  // Registered in this order (--help lists them so). The one error edge: a command returns a
  // Status; its message is printed here, once.
  const std::pair<CLI::App*, std::function<Status()>> commands[] = {
      {AddTrain(app, train), [&] { return Train(train); }},
      {AddScore(app, score), [&] { return RunScore(score); }},
      {AddBacktest(app, backtest), [&] { return RunBacktest(backtest); }},
      {AddReplay(app, replay), [&] { return RunReplay(replay); }},
      {AddTune(app, tune), [&] { return RunTune(tune); }},
      {AddInspect(app, inspect), [&] { return RunInspect(inspect); }},
      {AddImportSklearn(app, import), [&] { return RunImportSklearn(import); }},
      {AddRollback(app, rollback), [&] { return RunRollback(rollback); }},
      {AddCandidates(app, candidates), [&] { return RunCandidates(candidates); }},
      {AddPromote(app, promote), [&] { return RunPromote(promote); }},
      {AddDemo(app, demo), [&] { return RunDemo(demo); }},
      {AddCheckConfig(app, check_config), [&] { return RunCheckConfig(check_config); }},
      {AddServe(app, serve), [&] { return RunServe(serve); }},
      {AddRules(app, rules), [&] { return RunRules(rules); }},
      {AddDashboard(app, dashboard), [&] { return RunDashboard(dashboard); }},
      {AddInstall(app, install), [&] { return RunInstall(install); }},
  };
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? kExitOk : kExitUsage;
  }
  for (const auto& [command, run] : commands) {
    if (command->parsed()) return Finish(command->get_name(), run());
  }
  return kExitUsage;
}
