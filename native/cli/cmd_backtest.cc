// `isoscope backtest`: walks forward through history the way the deployed system would --
// train on the first part, score forward, retrain on schedule on past rows only -- and writes
// score's columns plus the model version that scored each row.
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>

#include <sys/stat.h>

#include "commands.h"
#include "csv.h"
#include "exclusions.h"
#include "file_io.h"
#include "incidents.h"
#include "isoscope/bundle.h"
#include "isoscope/text.h"
#include "parallel_score.h"
#include "time_parse.h"
#include "time_rules.h"

namespace isoscope::native {
namespace {

// DURATION ("90d") or ROWS ("20000"), as the flags accept.
struct Span {
  bool rows = false;
  int64_t value = 0;
};

Result<Span> ParseSpan(const std::string& flag, const std::string& text) {
  if (!text.empty() && std::all_of(text.begin(), text.end(), ::isdigit) && text.size() < 12) {
    const int64_t n = std::stoll(text);
    if (n > 0) return Span{true, n};
  }
  auto d = ParseDurationMs(text);
  if (!d.ok()) {
    return Status(ErrorCode::kInvalidArgument,
                  flag + " '" + text + "': give a duration like 7d or a row count like 10080");
  }
  return Span{false, *d};
}

// The first row index at or after `from` + span (rows or time).
size_t Advance(const std::vector<TimeMs>& times, size_t from, const Span& span) {
  if (span.rows) return std::min(times.size(), from + static_cast<size_t>(span.value));
  const TimeMs until = times[from] + span.value;
  return static_cast<size_t>(
      std::lower_bound(times.begin() + static_cast<ptrdiff_t>(from), times.end(), until) -
      times.begin());
}

// The first row of the training window that ends before row `end`.
size_t WindowStart(const std::vector<TimeMs>& times, size_t end, const Span& span) {
  if (span.rows) return end > static_cast<size_t>(span.value) ? end - span.value : 0;
  const TimeMs from = times[end - 1] - span.value;
  return static_cast<size_t>(std::upper_bound(times.begin(), times.begin() + end, from) -
                             times.begin());
}

// A label value in the exposition formats: backslash, double quote and line feed escaped.
std::string LabelValue(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out += '\\';
    out += c == '\n' ? std::string("\\n") : std::string(1, c);
  }
  return out;
}

// OpenMetrics timestamps are seconds; rows are at whole milliseconds.
std::string Seconds(TimeMs ms) {
  const long long s = ms / 1000, frac = ms % 1000;
  if (frac == 0) return std::to_string(s);
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%lld.%03lld", frac < 0 ? s - 1 : s,
                frac < 0 ? frac + 1000 : frac);
  return buf;
}

struct Trained {
  std::string version;
  double threshold = 0;
  TimeMs created_ms = 0;
};

// The per-row scores as the daemon would have exported them (same names and labels, so PromQL
// written for the daemon's series and the panel's anomaly_score query work on the backfill; a
// row without a score has no sample), plus model_version_timestamp naming the model that
// scored each row. OpenMetrics text, ending in # EOF, for `promtool tsdb create-blocks-from
// openmetrics`.
std::string OpenMetrics(const std::string& detector, const std::vector<TimeMs>& times,
                        const std::vector<RowScore>& scores, const std::vector<int>& model_of,
                        const std::vector<Trained>& models) {
  const std::string d = "{detector=\"" + LabelValue(detector) + "\"";
  std::string out;
  // One family: HELP, TYPE and a sample per row that `sample` gives (labels after the
  // detector's, and the value), none for rows it declines.
  auto family = [&](const char* name, const char* help, auto sample) {
    out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " gauge\n";
    for (size_t i = 0; i < times.size(); ++i) {
      if (model_of[i] < 0) continue;
      std::string labels, value;
      if (!sample(i, &labels, &value)) continue;
      out += name + d + labels + "} " + value + " " + Seconds(times[i]) + "\n";
    }
  };
  const auto& model = [&](size_t i) -> const Trained& {
    return models[static_cast<size_t>(model_of[i])];
  };
  family("anomaly_score",
         "Isolation Forest anomaly score in (0, 1] of the row (sklearn -score_samples; higher is "
         "more anomalous), as backtest scored it",
         [&](size_t i, std::string*, std::string* value) {
           if (!scores[i].ok()) return false;
           *value = FormatShortest(scores[i].anomaly_score);
           return true;
         });
  family("anomaly_is_anomaly",
         "1 when anomaly_score exceeds anomaly_threshold (sklearn predict == -1), else 0",
         [&](size_t i, std::string*, std::string* value) {
           if (!scores[i].ok()) return false;
           *value = scores[i].is_anomaly ? "1" : "0";
           return true;
         });
  family("anomaly_threshold",
         "Anomaly-score threshold of the model that scored the row (-offset_, set by its "
         "contamination)",
         [&](size_t i, std::string*, std::string* value) {
           *value = FormatShortest(model(i).threshold);
           return true;
         });
  // One series per model: each model's rows are contiguous, so each series' samples are too.
  family("model_version_timestamp",
         "Creation time (Unix seconds) of the model that scored the row; its model_version "
         "label names it",
         [&](size_t i, std::string* labels, std::string* value) {
           *labels = ",model_version=\"" + LabelValue(model(i).version) + "\"";
           *value = Seconds(model(i).created_ms);
           return true;
         });
  out += "# EOF\n";
  return out;
}

// The model's scores of its own training rows [from, next) that have a feature vector: the
// onset's histogram starts from them, as the surprise's reference does.
std::vector<double> TrainingScores(const ModelScorer& scorer, const FeatureRows& rows, size_t from,
                                   size_t next) {
  const std::vector<RowScore> scored = scorer.ScoreDense(rows.values.data() + from * rows.width,
                                                         rows.problems.data() + from, next - from);
  std::vector<double> out;
  for (const RowScore& r : scored) {
    if (r.ok()) out.push_back(r.anomaly_score);
  }
  return out;
}

// What the walk forward accumulates: per row its score, surprise, onset and model; per model
// its version, threshold and feature spec.
struct Walk {
  std::vector<RowScore> scores;
  std::vector<double> surprises, onsets;
  std::vector<std::string> versions;
  std::vector<FeatureSpec> specs;  // one per distinct spec, in order of first use
  FeatureRows rows;                // the rows of specs.back()
  std::vector<Trained> models;
  std::vector<int> model_of, spec_of_model;
  Status waiting = Status::Ok();
  int trained = 0;

  explicit Walk(size_t n)
      : scores(n),
        surprises(n, std::nan("")),
        onsets(n, std::nan("")),
        versions(n),
        model_of(n, -1) {}
};

// What every span of the walk reads: the arguments, the history and the training settings.
struct WalkInputs {
  const BacktestArgs& args;
  const CsvData& data;
  std::vector<const double*> series;
  TrainOptions options;
  std::vector<IncidentWindow> excluded;  // --exclude, left out of every retrain, as train does
  Span window;
  bool per_window = false;
};

// The feature spec of the model trained at row `next`; the rows are rebuilt when it changes.
Status UpdateSpec(const WalkInputs& in, size_t next, Walk* w) {
  if (!w->specs.empty() && !in.per_window) return Status::Ok();
  auto spec = SpecFromArgs(in.args.train, in.data, next);
  if (!spec.ok()) return spec.status();
  if (!w->specs.empty() && *spec == w->specs.back()) return Status::Ok();
  // Features look back only, so one pass over the whole history gives every row the values it
  // had when it arrived.
  auto built = BuildFeatureRows(*spec, in.data.times.data(), in.series, in.data.rows);
  if (!built.ok()) return built.status();
  w->rows = std::move(*built);
  w->specs.push_back(*spec);
  if (!in.args.train.quiet && in.per_window) {
    std::string cols;
    for (const std::string& c : spec->ColumnNames()) cols += (cols.empty() ? "" : ", ") + c;
    std::fprintf(stderr, "auto for models from %s: read %s; chose %s\n",
                 FormatTime(in.data.times[next]).c_str(), DescribeAuto(in.data, next).c_str(),
                 cols.c_str());
  }
  return Status::Ok();
}

// Rows [next, until) scored by `model`, each model's surprise starting from its own training
// scores (rows [from, next)), as a freshly deployed model's would.
Status ScoreSpan(const Model& model, size_t from, size_t next, size_t until, Walk* w) {
  auto scorer = ModelScorer::Create(model);
  if (!scorer.ok()) return scorer.status();
  const FeatureRows& rows = w->rows;
  const std::vector<RowScore> part = ParallelScoreDense(
      *scorer, rows.values.data() + next * rows.width, rows.problems.data() + next, until - next);
  std::copy(part.begin(), part.end(), w->scores.begin() + static_cast<ptrdiff_t>(next));
  SurpriseStream surprise(model.calibration);
  surprise.SeedTail(TrainingScores(*scorer, rows, from, next));
  for (size_t i = next; i < until; ++i) {
    if (!w->scores[i].ok()) continue;
    w->surprises[i] = surprise.Push(w->scores[i].anomaly_score);
    w->onsets[i] = surprise.onset();
  }
  std::fill(w->versions.begin() + static_cast<ptrdiff_t>(next),
            w->versions.begin() + static_cast<ptrdiff_t>(until), model.model_version);
  std::fill(w->model_of.begin() + static_cast<ptrdiff_t>(next),
            w->model_of.begin() + static_cast<ptrdiff_t>(until),
            static_cast<int>(w->models.size()));
  w->models.push_back({model.model_version, model.threshold(), model.info.created_ms});
  w->spec_of_model.push_back(static_cast<int>(w->specs.size()) - 1);
  return Status::Ok();
}

// One step of the walk: a model trained on rows before `next` only (plus the look-back their
// features need) scores rows [next, until).
Status TrainAndScore(const WalkInputs& in, size_t next, size_t until, Walk* w) {
  const std::vector<TimeMs>& times = in.data.times;
  const FeatureSpec& spec = w->specs.back();
  const TimeMs lookback = spec.max_lookback_ms() + spec.step_ms;
  const size_t from = WindowStart(times, next, in.window);
  const size_t raw_from = static_cast<size_t>(
      std::lower_bound(times.begin(), times.begin() + from, times[from] - lookback) -
      times.begin());
  std::vector<const double*> slice;
  for (const auto& s : in.data.series) slice.push_back(s.data() + raw_from);
  TrainOptions o = in.options;
  o.created_ms = times[next - 1];  // the model's date is the day it would have run
  o.source = "backtest:" + in.args.train.csv;
  o.score_dense = ParallelDenseScorer();
  ExcludeWindows(std::vector<TimeMs>(times.begin() + static_cast<ptrdiff_t>(raw_from),
                                     times.begin() + static_cast<ptrdiff_t>(next)),
                 in.excluded, "--exclude", o);
  auto model = TrainModel(spec, times.data() + raw_from, slice, next - raw_from, o);
  if (!model.ok()) {
    Status failed(model.status().code(),
                  "training for " + FormatTime(times[next]) + ": " + model.status().message());
    if (!w->models.empty()) return failed;
    // The first model waits until its features have warmed on enough rows, as a deployed
    // detector would; its rows stay unscored ("before the first model").
    w->waiting = failed;
    if (!in.args.train.quiet) {
      std::fprintf(stderr, "no model yet (%s); waiting\n", failed.message().c_str());
    }
    return Status::Ok();
  }
  Status scored = ScoreSpan(*model, from, next, until, w);
  if (!scored.ok()) return scored;
  if (!in.args.save_bundles.empty()) {
    // Named by version, as in a detector's store, so replay --bundles finds each row's model.
    Status saved = WriteFileAtomic(in.args.save_bundles + "/" + model->model_version + ".bundle",
                                   EncodeBundle(*model));
    if (!saved.ok()) return saved;
  }
  ++w->trained;
  if (!in.args.train.quiet) {
    std::fprintf(stderr, "model %d %s: trained on %s .. %s, scores %s .. %s\n", w->trained,
                 model->model_version.c_str(), FormatTime(times[from]).c_str(),
                 FormatTime(times[next - 1]).c_str(), FormatTime(times[next]).c_str(),
                 FormatTime(times[until - 1]).c_str());
  }
  return Status::Ok();
}

// A row per row of the file, numbered as there; a row dropped for its repeated time has no
// score and no model, and the time of the row kept for it (the next kept one).
std::string BacktestCsv(const CsvData& data, const TimeRules& time_rules, const Walk& w) {
  std::string out =
      "row,timestamp,anomaly_score,decision,is_anomaly,reason,model_version,surprise,onset\n";
  const std::vector<size_t> kept_row = time_rules.KeptRowOf();
  for (size_t row = 0, i = 0; row < time_rules.rows; ++row) {
    out += std::to_string(row) + "," + FormatTime(data.times[i]) + ",";
    if (kept_row[row] != row) {
      out += ",,," + CsvCell(RepeatedTimeReason(kept_row[row])) + ",,,\n";
      continue;
    }
    const size_t k = i++;  // the kept row's index in scores, versions and surprises
    const RowScore& s = w.scores[k];
    if (w.versions[k].empty()) {
      out += ",,,before the first model,,,\n";
    } else if (!s.ok()) {
      const FeatureSpec& spec = w.specs[static_cast<size_t>(w.spec_of_model[w.model_of[k]])];
      out += ",,," + CsvCell("no score: " + FeatureRows::Describe({s.issue, s.column}, spec)) +
             "," + w.versions[k] + ",,\n";
    } else {
      out += FormatShortest(s.anomaly_score) + "," + FormatShortest(s.decision) + "," +
             (s.is_anomaly ? "1" : "0") + ",," + w.versions[k] + "," +
             (std::isnan(w.surprises[k]) ? "" : FormatShortest(w.surprises[k])) + "," +
             (std::isnan(w.onsets[k]) ? "" : FormatShortest(w.onsets[k])) + "\n";
    }
  }
  return out;
}

void PrintSummary(const BacktestArgs& args, const TimeRules& time_rules, int trained,
                  double seconds) {
  std::fprintf(stderr, "backtest: %d models, %zu rows in %.2f s; wrote %s\n", trained,
               time_rules.rows, seconds, args.train.out.c_str());
  for (const std::string& note : time_rules.Notes()) {
    std::fprintf(stderr, "backtest: %s: %s\n", args.train.csv.c_str(), note.c_str());
  }
  if (!args.save_bundles.empty()) {
    std::fprintf(stderr, "backtest: kept the %d bundles in %s/<model_version>.bundle\n", trained,
                 args.save_bundles.c_str());
  }
  if (!args.openmetrics.empty()) {
    std::fprintf(stderr, "backtest: wrote %s (OpenMetrics, detector=\"%s\")\n",
                 args.openmetrics.c_str(), args.detector.c_str());
  }
}

// The history of --csv with a time column, its time rules applied.
Status ReadHistory(const TrainArgs& train, CsvData* data, TimeRules* time_rules) {
  auto content = ReadFile(train.csv);
  if (!content.ok()) return content.status();
  CsvOptions csv_options;
  csv_options.time_column = train.time_column;
  csv_options.features = SplitList(train.features);
  auto parsed = ParseCsv(*content, csv_options, train.csv);
  if (!parsed.ok()) return parsed.status();
  *data = std::move(parsed).value();
  if (data->times.empty()) {
    return Status(ErrorCode::kInvalidArgument,
                  "a backtest walks through time: the CSV needs a time column");
  }
  auto rules = ApplyTimeRules(*data, train.csv);
  if (!rules.ok()) return rules.status();
  *time_rules = std::move(rules).value();
  return Status::Ok();
}

}  // namespace

Status RunBacktest(const BacktestArgs& args) {
  auto initial = ParseSpan("--initial", args.initial);
  if (!initial.ok()) return initial.status();
  auto every = ParseSpan("--retrain-every", args.retrain_every);
  if (!every.ok()) return every.status();
  auto window = ParseSpan("--train-window", args.train_window);
  if (!window.ok()) return window.status();
  auto options = OptionsFromArgs(args.train);
  if (!options.ok()) return options.status();
  CsvData data;
  WalkInputs in{args, data, {}, *options, {}, *window};
  if (!args.train.exclude.empty()) {
    auto read = ReadIncidents(args.train.exclude);
    if (!read.ok()) return read.status();
    in.excluded = std::move(*read);
  }

  const auto t0 = std::chrono::steady_clock::now();
  TimeRules time_rules;
  Status read = ReadHistory(args.train, &data, &time_rules);
  if (!read.ok()) return read;
  for (const auto& s : data.series) in.series.push_back(s.data());
  const size_t n = data.rows;
  size_t next = Advance(data.times, 0, *initial);
  if (next >= n) {
    return Status(ErrorCode::kInvalidArgument,
                  "--initial covers the whole history: nothing is left to score");
  }
  if (!args.save_bundles.empty() && ::mkdir(args.save_bundles.c_str(), 0755) != 0 &&
      errno != EEXIST) {
    return Status(ErrorCode::kBadInput, "--save-bundles: cannot create '" + args.save_bundles +
                                            "': " + std::strerror(errno));
  }
  // `auto` chooses from what each model's training window holds, as it would have when that
  // model was trained; explicit features are the same for every model.
  in.per_window = args.train.derived.find("auto") != std::string::npos;
  Walk w(n);
  while (next < n) {
    const size_t until = std::max(next + 1, Advance(data.times, next, *every));
    Status step = UpdateSpec(in, next, &w);
    if (step.ok()) step = TrainAndScore(in, next, until, &w);
    if (!step.ok()) return step;
    next = until;
  }

  if (w.models.empty()) return w.waiting;
  Status written = WriteFileAtomic(args.train.out, BacktestCsv(data, time_rules, w));
  if (!written.ok()) return written;
  if (!args.openmetrics.empty()) {
    written = WriteFileAtomic(
        args.openmetrics, OpenMetrics(args.detector, data.times, w.scores, w.model_of, w.models));
    if (!written.ok()) return written;
  }
  if (!args.train.quiet) {
    PrintSummary(args, time_rules, w.trained,
                 std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  return Status::Ok();
}

}  // namespace isoscope::native
