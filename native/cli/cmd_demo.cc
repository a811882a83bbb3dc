// `isoscope demo`: the whole offline loop on built-in data, through the same code paths as
// the train and score commands, ending with which injected incidents were flagged.
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>

#include "commands.h"
#include "csv.h"
#include "demo_data.h"
#include "explain_rows.h"
#include "file_io.h"
#include "isoscope/alert.h"
#include "isoscope/features.h"
#include "isoscope/text.h"
#include "time_parse.h"

namespace isoscope::native {
namespace {

// The demo's alert thresholds: replay's defaults.
const ReplayArgs kDefaults;

// The daemon's config for `make demo` (tools/demo_serve.sh), one query per input of the model
// just trained: the model is the one source of truth, so a new demo series cannot leave the
// daemon without a query for it.
Status WriteDaemonConfig(const std::string& dir, const std::string& bundle) {
  auto model = LoadBundle(bundle);
  if (!model.ok()) return model.status();
  const TimeMs step = model->spec.step_ms > 0 ? model->spec.step_ms : 60 * 1000;
  std::string yml = "# Written by isoscope demo from the inputs of " + bundle +
                    ".\n# Check it: isoscope check-config --config " + dir +
                    "/isoscope.yml\n"
                    "prometheus:\n"
                    "  url: http://127.0.0.1:9090   # not queried with --replay-csv\n"
                    "models_dir: models               # relative to this file\n"
                    "web:\n"
                    "  listen_address: 127.0.0.1:8080\n"
                    "detectors:\n"
                    "  - name: demo\n"
                    "    queries:                     # with --replay-csv: the history's columns\n";
  for (const std::string& input : model->spec.inputs) yml += "      " + input + ": " + input + "\n";
  yml += "    interval: " + FormatDurationMs(step) +
         "                   # the history's step\n"
         "    model: {n_estimators: 200, contamination: 0.02, random_state: 42}\n";
  return WriteFileAtomic(dir + "/isoscope.yml", yml);
}

// Which input made each incident page: the input with the largest summed contribution to the
// score over the rows the page's smoothed score averages ((page - smooth, page]); "-" when
// the incident did not page.
Result<std::vector<std::string>> TopInputsAtPages(const Model& model, const FeatureRows& rows,
                                                  const std::vector<TimeMs>& times,
                                                  const ReplayResult& replay, TimeMs smooth_ms) {
  auto explainer = Explainer::Create(model);
  if (!explainer.ok()) return explainer.status();
  std::vector<std::string> out;
  for (const IncidentOutcome& io : replay.incidents) {
    if (!io.page_delay_ms) {
      out.push_back("-");
      continue;
    }
    const TimeMs page = io.start_ms + *io.page_delay_ms;
    const auto first = std::upper_bound(times.begin(), times.end(), page - smooth_ms);
    const auto last = std::upper_bound(times.begin(), times.end(), page);
    const std::string top =
        TopInputOver(*explainer, rows, model.spec, static_cast<size_t>(first - times.begin()),
                     static_cast<size_t>(last - times.begin()));
    out.push_back(top.empty() ? "-" : top);
  }
  return out;
}

// `dir` and every directory above it, as mkdir -p.
Status MakeDirs(const std::string& dir) {
  for (size_t pos = 1; pos <= dir.size(); ++pos) {
    if (pos == dir.size() || dir[pos] == '/') {
      const std::string part = dir.substr(0, pos);
      if (::mkdir(part.c_str(), 0755) != 0 && errno != EEXIST) {
        return Status(ErrorCode::kBadInput,
                      "cannot create '" + part + "': " + std::strerror(errno));
      }
    }
  }
  return Status::Ok();
}

// The demo's files, all in the output directory.
struct DemoPaths {
  std::string dir, history, incidents, bundle, scores;
  explicit DemoPaths(const std::string& d)
      : dir(d),
        history(d + "/history.csv"),
        incidents(d + "/incidents.csv"),
        bundle(d + "/model.bundle"),
        scores(d + "/scores.csv") {}
};

// Steps 1 to 3: the history written, a model trained on it and the history scored, through
// the train and score commands.
Status WriteTrainScore(const DemoArgs& args, const DemoPaths& p, const DemoData& data,
                       TrainArgs* train) {
  const std::string& history = p.history;
  const std::string& incidents_path = p.incidents;
  const std::string& bundle = p.bundle;
  const std::string& scores = p.scores;
  std::printf(
      "== 1. built-in history: %d days at 60 s of latency_p95, error_rate, cpu_throttle, "
      "memory_mb\n",
      args.days);
  for (const auto& [path, text] : {std::pair{history, DemoDataCsv(data)},
                                   std::pair{incidents_path, IncidentsCsv(data.incidents)}}) {
    Status s = WriteFileAtomic(path, text);
    if (!s.ok()) return s;
  }
  std::printf("   wrote %s (%zu rows) and %s (%zu injected incidents)\n\n", history.c_str(),
              data.times.size(), incidents_path.c_str(), data.incidents.size());

  std::printf(
      "== 2. isoscope train --csv %s --out %s --n-estimators 200 --contamination 0.02 "
      "--random-state 42\n",
      history.c_str(), bundle.c_str());
  std::fflush(stdout);
  train->csv = history;
  train->out = bundle;
  train->n_estimators = 200;
  train->contamination = "0.02";
  train->random_state = 42;
  Status rc = RunTrain(*train);
  if (!rc.ok()) return rc;

  std::printf("\n== 3. isoscope score --bundle %s --csv %s --out %s\n", bundle.c_str(),
              history.c_str(), scores.c_str());
  std::fflush(stdout);
  ScoreArgs score;
  score.bundle = bundle;
  score.csv = history;
  score.out = scores;
  rc = RunScore(score);
  std::fflush(stderr);
  return rc;
}

// How one model would have paged on the demo history.
struct Outcome {
  std::string label;
  double warning = 0, critical = 0, max_score = 0;
  ReplayResult replay;
  std::vector<std::string> top_input;  // per incident, at its first page
};

// Scores the history with the bundle at `path` and replays the default alert rules over it.
Result<Outcome> ReplayModel(const std::string& label, const std::string& path, const DemoData& data,
                            const std::vector<IncidentWindow>& windows) {
  auto model = LoadBundle(path);  // with the canary check, as every other command loads
  if (!model.ok()) return model.status();
  auto scorer = ModelScorer::Create(*model);
  if (!scorer.ok()) return scorer.status();
  std::vector<const double*> series;
  for (const auto& s : data.series) series.push_back(s.data());
  std::vector<const double*> used;
  for (const std::string& name : model->spec.inputs) {
    const auto it = std::find(data.names.begin(), data.names.end(), name);
    used.push_back(series[static_cast<size_t>(it - data.names.begin())]);
  }
  auto rows = BuildFeatureRows(model->spec, data.times.data(), used, data.times.size());
  if (!rows.ok()) return rows.status();
  std::vector<double> scores;
  Outcome o;
  o.label = label;
  for (const RowScore& r : scorer->ScoreRows(*rows)) {
    scores.push_back(r.ok() ? r.anomaly_score : std::nan(""));
    if (r.ok()) o.max_score = std::max(o.max_score, r.anomaly_score);
  }
  const double share = TrainedShare(*model);
  auto w = ResolveAlertThreshold(kDefaults.warning, *model, share);
  auto c = ResolveAlertThreshold(kDefaults.critical, *model, share);
  if (!w.ok() || !c.ok()) return w.ok() ? c.status() : w.status();
  o.warning = *w;
  o.critical = *c;
  ReplayConfig config;  // smoothing 5m, for 3m, evaluated every minute: the defaults
  config.warning.threshold = o.warning;
  config.critical.threshold = o.critical;
  auto replay = Replay(data.times, scores, config, windows);
  if (!replay.ok()) return replay.status();
  // Rates are per week of scored time (the auto model warms up 3 weeks), as replay's.
  o.replay = *replay;
  auto top = TopInputsAtPages(*model, *rows, data.times, o.replay, config.smooth_ms);
  if (!top.ok()) return top.status();
  o.top_input = *top;
  return o;
}

// Step 4's table: per incident, when each model warned and paged.
void PrintOutcomes(const DemoData& data, const std::vector<Outcome>& outcomes) {
  std::printf(
      "\n== 4. would it have paged? isoscope replay's defaults: avg_over_time %s, for: %s, every "
      "%s;\n   warning at %s (the score 2%% of training rows exceed), critical at %s (1%%)\n",
      kDefaults.smooth.c_str(), kDefaults.for_duration.c_str(), kDefaults.eval_interval.c_str(),
      kDefaults.warning.c_str(), kDefaults.critical.c_str());
  for (const Outcome& o : outcomes) {
    std::printf("   %-5s features: warning %.3f, critical %.3f (highest score in history %.3f)\n",
                o.label.c_str(), o.warning, o.critical, o.max_score);
  }
  std::printf("\n   %-14s %-20s %-28s %-28s %s\n", "incident", "start",
              "auto: first warning / page", "point: first warning / page",
              "auto: top input at page");
  auto delay = [](const std::optional<TimeMs>& d) {
    return d ? "+" + std::to_string(*d / kMinuteMs) + "m" : std::string("-");
  };
  for (size_t i = 0; i < data.incidents.size(); ++i) {
    std::string cells[2];
    for (size_t m = 0; m < 2; ++m) {
      const IncidentOutcome& io = outcomes[m].replay.incidents[i];
      cells[m] = std::string(io.caught ? "PAGED " : "missed ") + delay(io.warning_delay_ms) +
                 " / " + delay(io.page_delay_ms);
    }
    std::printf("   %-14s %-20s %-28s %-28s %s\n", data.incidents[i].name.c_str(),
                FormatTime(data.incidents[i].start_ms).c_str(), cells[0].c_str(), cells[1].c_str(),
                outcomes[0].top_input[i].c_str());
  }
  std::printf(
      "   %-14s %-20s %-28s %-28s\n", "false pages", "per week",
      (std::to_string(outcomes[0].replay.false_pages) + " (" +
       FormatShortest(std::round(outcomes[0].replay.false_pages_per_week * 100) / 100) + "/week)")
          .c_str(),
      (std::to_string(outcomes[1].replay.false_pages) + " (" +
       FormatShortest(std::round(outcomes[1].replay.false_pages_per_week * 100) / 100) + "/week)")
          .c_str());
  size_t caught = 0;
  for (const IncidentOutcome& io : outcomes[0].replay.incidents) caught += io.caught ? 1 : 0;
  std::printf("   auto features: %zu of %zu incidents paged\n", caught, data.incidents.size());
}

// The busy-but-healthy times the history holds every week must not page: says where each
// false page of the auto model fell; returns how many fell on those habits.
size_t PrintFalsePages(const DemoData& data, const ReplayResult& replay) {
  const ReplayConfig rules;  // the defaults the replay above ran with
  const TimeMs grace = rules.critical.for_ms + rules.smooth_ms;  // as the replay counts
  const std::vector<WeeklyWindow> deploys = DefaultDeployWindows();
  size_t on_habits = 0;
  for (const AlertInterval& page : replay.critical.firing) {
    bool explained = false;
    for (const Incident& inc : data.incidents) {
      explained =
          explained || (page.start_ms >= inc.start_ms && page.start_ms <= inc.end_ms + grace);
    }
    if (explained) continue;
    // Within the habit or the smoothing and for: after it.
    const int32_t m = MinuteOfWeek(page.start_ms - grace);
    const int32_t m_end = MinuteOfWeek(page.start_ms);
    auto within = [&](int32_t a, int32_t b) { return m < b && m_end >= a; };
    std::string where = "a normal hour";
    if (within(7 * 60, 10 * 60)) where = "the Monday-morning ramp";
    for (const WeeklyWindow& w : deploys) {
      if (within(w.start_minute, w.end_minute)) where = "a deploy window";
    }
    on_habits += where == "a normal hour" ? 0 : 1;
    std::printf("   false page at %s (%s)\n", FormatTime(page.start_ms).c_str(), where.c_str());
  }
  return on_habits;
}

}  // namespace

Status RunDemo(const DemoArgs& args) {
  if (args.days < 21) {
    return Status(ErrorCode::kInvalidArgument, "--days must be at least 21");
  }
  const DemoPaths p(args.out_dir);
  const std::string& dir = p.dir;
  const std::string& bundle = p.bundle;
  Status rc = MakeDirs(dir);
  if (!rc.ok()) return rc;
  const DemoData data = GenerateDemoData(args.days, args.seed);
  TrainArgs train;
  rc = WriteTrainScore(args, p, data, &train);
  if (!rc.ok()) return rc;

  // 4. Would it have paged? The same replay as `isoscope replay` with its default rules, for
  // the auto feature set and for the origin team's point features, each with thresholds from
  // its own training scores: the 0.65 / 0.85 of the origin pipeline sit above anything a
  // forest over several features scores (printed below).
  const std::string point_bundle = dir + "/point.bundle";
  TrainArgs point = train;
  point.out = point_bundle;
  point.derived = "hour_of_week,is_deploy_window";
  point.quiet = true;
  rc = RunTrain(point);
  if (!rc.ok()) return rc;
  std::vector<IncidentWindow> windows;
  for (const Incident& inc : data.incidents) {
    windows.push_back({inc.name, inc.start_ms, inc.end_ms});
  }
  std::vector<Outcome> outcomes;
  for (const auto& [label, path] :
       {std::pair<std::string, std::string>{"auto", bundle}, {"point", point_bundle}}) {
    auto o = ReplayModel(label, path, data, windows);
    if (!o.ok()) return o.status();
    outcomes.push_back(std::move(o).value());
  }
  PrintOutcomes(data, outcomes);
  const size_t on_habits = PrintFalsePages(data, outcomes[0].replay);
  std::printf("   auto features: %zu false pages on the Monday ramp or in deploy windows\n",
              on_habits);
  std::printf(
      "   try other values: isoscope replay --bundle %s --csv %s --incidents %s "
      "--critical %.3f\n",
      bundle.c_str(), p.history.c_str(), p.incidents.c_str(), outcomes[0].critical);
  Status config = WriteDaemonConfig(dir, bundle);
  if (!config.ok()) return config;
  std::printf("\nnext: isoscope inspect --bundle %s   |   scores in %s   |   daemon config %s\n",
              bundle.c_str(), p.scores.c_str(), (dir + "/isoscope.yml").c_str());
  return Status::Ok();
}

}  // namespace isoscope::native
