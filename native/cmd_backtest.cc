// `isoscope backtest`: walks forward through history the way the deployed system would --
// train on the first part, score forward, retrain on schedule on past rows only -- and writes
// score's columns plus the model version that scored each row.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>

#include "commands.h"
#include "csv.h"
#include "file_io.h"
#include "isoscope/text.h"
#include "time_parse.h"

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

}  // namespace

int RunBacktest(const BacktestArgs& args) {
  auto fail = [](const Status& s) {
    std::fprintf(stderr, "isoscope backtest: %s\n", s.message().c_str());
    return ExitCodeFor(s);
  };
  auto initial = ParseSpan("--initial", args.initial);
  if (!initial.ok()) return fail(initial.status());
  auto every = ParseSpan("--retrain-every", args.retrain_every);
  if (!every.ok()) return fail(every.status());
  auto window = ParseSpan("--train-window", args.train_window);
  if (!window.ok()) return fail(window.status());
  auto options = OptionsFromArgs(args.train);
  if (!options.ok()) return fail(options.status());

  const auto t0 = std::chrono::steady_clock::now();
  auto content = ReadFile(args.train.csv);
  if (!content.ok()) return fail(content.status());
  CsvOptions csv_options;
  csv_options.time_column = args.train.time_column;
  csv_options.features = SplitList(args.train.features);
  auto data = ParseCsv(*content, csv_options, args.train.csv);
  if (!data.ok()) return fail(data.status());
  if (data->times.empty()) {
    return fail(Status(ErrorCode::kInvalidArgument,
                       "a backtest walks through time: the CSV needs a time column"));
  }
  if (!std::is_sorted(data->times.begin(), data->times.end())) {
    return fail(Status(ErrorCode::kInvalidArgument, "sort the CSV by time first"));
  }
  auto spec = SpecFromArgs(args.train, *data);
  if (!spec.ok()) return fail(spec.status());
  std::vector<const double*> series;
  for (const auto& s : data->series) series.push_back(s.data());
  const size_t n = data->rows;
  // Features look back only, so one pass over the whole history gives every row the values
  // it had when it arrived.
  auto rows = BuildFeatureRows(*spec, data->times.data(), series, n);
  if (!rows.ok()) return fail(rows.status());

  std::vector<RowScore> scores(n);
  std::vector<std::string> versions(n);
  size_t next = Advance(data->times, 0, *initial);
  if (next >= n) {
    return fail(Status(ErrorCode::kInvalidArgument,
                       "--initial covers the whole history: nothing is left to score"));
  }
  const TimeMs lookback = spec->max_lookback_ms() + spec->step_ms;
  int trained = 0;
  while (next < n) {
    const size_t until = std::max(next + 1, Advance(data->times, next, *every));
    // Train on rows before `next` only, plus the look-back their features need.
    const size_t from = WindowStart(data->times, next, *window);
    const size_t raw_from =
        static_cast<size_t>(std::lower_bound(data->times.begin(), data->times.begin() + from,
                                             data->times[from] - lookback) -
                            data->times.begin());
    std::vector<const double*> slice;
    for (const auto& s : data->series) slice.push_back(s.data() + raw_from);
    TrainOptions o = *options;
    o.created_ms = data->times[next - 1];  // the model's date is the day it would have run
    o.source = "backtest:" + args.train.csv;
    auto model = TrainModel(*spec, data->times.data() + raw_from, slice, next - raw_from, o);
    if (!model.ok()) {
      return fail(Status(model.status().code(), "training for " + FormatTime(data->times[next]) +
                                                    ": " + model.status().message()));
    }
    auto scorer = ModelScorer::Create(*model);
    if (!scorer.ok()) return fail(scorer.status());
    const std::vector<RowScore> part = scorer->ScoreDense(
        rows->values.data() + next * rows->width, rows->problems.data() + next, until - next);
    std::copy(part.begin(), part.end(), scores.begin() + static_cast<ptrdiff_t>(next));
    std::fill(versions.begin() + static_cast<ptrdiff_t>(next),
              versions.begin() + static_cast<ptrdiff_t>(until), model->model_version);
    ++trained;
    if (!args.train.quiet) {
      std::fprintf(stderr, "model %d %s: trained on %s .. %s, scores %s .. %s\n", trained,
                   model->model_version.c_str(), FormatTime(data->times[from]).c_str(),
                   FormatTime(data->times[next - 1]).c_str(), FormatTime(data->times[next]).c_str(),
                   FormatTime(data->times[until - 1]).c_str());
    }
    next = until;
  }

  std::string out = "row,timestamp,anomaly_score,decision,is_anomaly,reason,model_version\n";
  for (size_t i = 0; i < n; ++i) {
    out += std::to_string(i) + "," + FormatTime(data->times[i]) + ",";
    const RowScore& s = scores[i];
    if (versions[i].empty()) {
      out += ",,,before the first model,\n";
    } else if (!s.ok()) {
      out += ",,," + CsvCell("no score: " + FeatureRows::Describe({s.issue, s.column}, *spec)) +
             "," + versions[i] + "\n";
    } else {
      out += FormatShortest(s.anomaly_score) + "," + FormatShortest(s.decision) + "," +
             (s.is_anomaly ? "1" : "0") + ",," + versions[i] + "\n";
    }
  }
  Status written = WriteFileAtomic(args.train.out, out);
  if (!written.ok()) return fail(written);
  if (!args.train.quiet) {
    std::fprintf(stderr, "backtest: %d models, %zu rows in %.2f s; wrote %s\n", trained, n,
                 std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(),
                 args.train.out.c_str());
  }
  return kExitOk;
}

}  // namespace isoscope::native
