// `isoscope score`: a bundle scores a CSV, a row out per row in, as the daemon would.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "chunk_pipeline.h"
#include "commands.h"
#include "csv.h"
#include "explain_rows.h"
#include "file_io.h"
#include "isoscope/text.h"
#include "parallel_score.h"
#include "time_rules.h"

namespace isoscope::native {

namespace {

// --csv with the model's inputs by name, its time rules applied; `time_text` keeps every
// row's time as written, dropped rows included.
Status ReadScoreCsv(const ScoreArgs& args, std::string_view content, const Model& model,
                    CsvData* data, std::vector<std::string>* time_text, TimeRules* time_rules) {
  CsvOptions csv_options;
  csv_options.time_column = args.time_column;
  csv_options.features = model.spec.inputs;  // by name: column order in the CSV is free
  auto parsed = ParseCsv(content, csv_options, args.csv);
  if (!parsed.ok()) return parsed.status();
  *data = std::move(parsed).value();
  if (model.spec.needs_time() && data->time_column.empty()) {
    return Status(ErrorCode::kBadInput,
                  args.csv +
                      " has no time column, but the model uses time features; "
                      "name it with --time-column");
  }
  // The rules drop a row only for a model with temporal features, when the next row repeats
  // its time: only then are the times as written copied first (129,600 strings of 20 bytes, 15
  // of the demo history's 177 ms); otherwise the file's own go to the output.
  const bool drops =
      model.spec.has_temporal() &&
      std::adjacent_find(data->times.begin(), data->times.end()) != data->times.end();
  if (drops) *time_text = data->time_text;
  auto rules = ApplyTimeRules(*data, args.csv, model.spec.has_temporal());
  if (!rules.ok()) return rules.status();
  *time_rules = std::move(rules).value();
  if (!drops) *time_text = std::move(data->time_text);
  return Status::Ok();
}

// A chunk's text, written through a cursor into space made ahead for each row: no append
// call (a capacity check and a copy) for each of a row's dozen cells.
class ChunkText {
 public:
  /// Room for `bytes` more; grows by doubling, as a string would.
  void Room(size_t bytes) {
    if (capacity_ - size_ >= bytes) return;
    const size_t grown = std::max(2 * capacity_, size_ + bytes);
    std::unique_ptr<char[]> bigger(new char[grown]);  // not zeroed: every byte is written first
    if (size_ > 0) std::memcpy(bigger.get(), text_.get(), size_);
    text_ = std::move(bigger);
    capacity_ = grown;
  }
  // Each within the room made.
  void Put(char c) { text_[size_++] = c; }
  void Put(std::string_view s) {
    if (s.empty()) return;  // an empty view's data() may be null, which memcpy may not take
    std::memcpy(text_.get() + size_, s.data(), s.size());
    size_ += s.size();
  }
  void PutShortest(double v) { size_ = static_cast<size_t>(WriteShortest(end(), v) - text_.get()); }
  void PutCount(size_t n) {
    size_ = static_cast<size_t>(std::to_chars(end(), end() + 20, n).ptr - text_.get());
  }

  std::string_view view() const { return {text_.get(), size_}; }
  void Free() { *this = ChunkText(); }

 private:
  char* end() { return text_.get() + size_; }
  std::unique_ptr<char[]> text_;
  size_t size_ = 0, capacity_ = 0;
};

// Output rows as text, counting the flagged and the unscored ones.
struct ScoredOutput {
  ChunkText text;
  size_t flagged = 0, unscored = 0;
};

// What every output row reads: the scores, their surprise and onset, the explanations.
struct OutputColumns {
  const Model& model;
  const std::vector<std::vector<RowScore>>& scores;  // by chunk of kChunkRows kept rows
  const SurpriseColumns& surprise;
  const std::vector<RowExplanation>& explained;
  const std::vector<std::string>& time_text;
  const std::vector<size_t>& kept_row;  // empty when every row is kept
};

// Output rows [first, first + count), whose first kept row is kept row k, the first of its
// chunk of scores: one chunk's text.
ScoredOutput FormatRows(const OutputColumns& c, size_t first, size_t count, size_t k) {
  const std::vector<RowScore>& scores = c.scores[k / kChunkRows];
  const size_t k0 = k;
  const FeatureSpec& spec = c.model.spec;
  // A row without an explanation (dropped for its repeated time) gets empty cells.
  auto explain_cells = [&](size_t i) {
    if (c.explained.empty()) return std::string();
    return i < c.explained.size() ? ExplanationCells(c.explained[i], spec)
                                  : std::string(spec.width() + 1, ',');
  };
  const bool calibrated = c.model.calibration.count > 0;
  ScoredOutput o;
  ChunkText& out = o.text;
  // A scored row is at most its number (20 bytes), its time, four numbers and 10 more, and with
  // --explain about 24 for each feature; each row makes room for its own (a reason for having
  // no score is longer), and one allocation for the chunk is enough when every row fits that
  // bound (pages never written cost nothing).
  constexpr size_t kRowBytes = 20 + 4 * kShortestMaxChars + 10;
  const size_t explain_bytes = c.explained.empty() ? 0 : 24 * (spec.width() + 1);
  out.Room(count * (kRowBytes + (c.time_text.empty() ? 0 : 32) + explain_bytes));
  // A row without a score says why; rows in a run (a model warming up) share the reason, made
  // once for the run, not once a row.
  RowScore reason_of;
  std::string reason;
  for (size_t row = first; row < first + count; ++row) {
    const std::string_view time = c.time_text.empty() ? std::string_view() : c.time_text[row];
    if (!c.kept_row.empty() && c.kept_row[row] != row) {
      const std::string rest = ",,,," + CsvCell(RepeatedTimeReason(c.kept_row[row])) + ",," +
                               explain_cells(c.explained.size()) + "\n";
      out.Room(kRowBytes + time.size() + rest.size());
      out.PutCount(row);
      out.Put(',');
      out.Put(time);
      out.Put(rest);
      ++o.unscored;
      continue;
    }
    const RowScore& s = scores[k - k0];
    if (!s.ok() && (s.issue != reason_of.issue || s.column != reason_of.column)) {
      reason_of = s;
      reason = CsvCell("no score: " + FeatureRows::Describe({s.issue, s.column}, spec));
    }
    const std::string rest = s.ok() ? explain_cells(k) : ",,,," + reason + ",," + explain_cells(k);
    out.Room(kRowBytes + time.size() + rest.size());
    out.PutCount(row);
    out.Put(',');
    out.Put(time);
    if (s.ok()) {
      out.Put(',');
      out.PutShortest(s.anomaly_score);
      out.Put(',');
      out.PutShortest(s.decision);
      out.Put(s.is_anomaly ? std::string_view(",1,,") : std::string_view(",0,,"));
      if (calibrated) out.PutShortest(c.surprise.surprise[k]);
      out.Put(',');
      if (calibrated) out.PutShortest(c.surprise.onset[k]);
      o.flagged += s.is_anomaly ? 1 : 0;
    } else {
      ++o.unscored;
    }
    out.Put(rest);
    out.Put('\n');
    ++k;  // the next kept row's index in scores (and explanations)
  }
  return o;
}

// The rows to score, in one of two forms. `whole` holds them all, built up front, when a row's
// features need the rows before it (lags, windows) or --explain reads them after scoring.
// Otherwise each chunk builds its own rows inside the scoring step, on every core, and no
// buffer of every row's features is ever built.
struct ScoreInput {
  const Model& model;
  const ModelScorer& scorer;
  const CsvData& data;
  std::vector<const double*> series;
  std::optional<FeatureRows> whole;
  std::vector<RowScore> scores;  // given up front when --explain needed them
};

// Kept rows [first, first + count) scored into `scores`, the chunk's own (and their anomaly
// scores, NaN for a row without one, into `anomaly` at `first`).
Status ScoreChunk(const ScoreInput& in, size_t first, size_t count, std::vector<RowScore>* scores,
                  std::vector<double>* anomaly) {
  std::vector<RowScore> part;
  if (!in.scores.empty()) {
    part.assign(in.scores.begin() + static_cast<std::ptrdiff_t>(first),
                in.scores.begin() + static_cast<std::ptrdiff_t>(first + count));
  } else if (in.whole) {
    const size_t width = in.whole->width;
    part = in.scorer.ScoreDense(in.whole->values.data() + first * width,
                                in.whole->problems.data() + first, count);
  } else {
    // Features of one row each: the chunk's rows are rows [first, +count) of the inputs.
    std::vector<const double*> series;
    for (const double* s : in.series) series.push_back(s + first);
    const TimeMs* times = in.data.times.empty() ? nullptr : in.data.times.data() + first;
    auto rows = BuildFeatureRows(in.model.spec, times, series, count);
    if (!rows.ok()) {  // not reached after PrepareInput's checks; the streams see no scores
      std::fill_n(anomaly->begin() + static_cast<std::ptrdiff_t>(first), count, std::nan(""));
      return rows.status();
    }
    part = in.scorer.ScoreRows(*rows);
  }
  for (size_t i = 0; i < count; ++i) {
    (*anomaly)[first + i] = part[i].ok() ? part[i].anomaly_score : std::nan("");
  }
  *scores = std::move(part);
  return Status::Ok();
}

// The output CSV, a row per row of the file, handed to `write` in order. One pipeline of
// chunks of kept rows runs every step on both cores at once: scoring, the surprise that
// follows the rows in order as the daemon's stream would, formatting, and writing, so the file
// is written while later rows are still being scored. The counts of flagged and unscored rows
// come back.
Result<ScoredOutput> ScoreAndWrite(const ScoreInput& in,
                                   const std::vector<RowExplanation>& explained, bool explain,
                                   const std::vector<std::string>& time_text,
                                   const TimeRules& time_rules,
                                   const std::function<Status(std::string_view)>& write) {
  const Model& model = in.model;
  const size_t kept = time_rules.kept.size();
  std::vector<double> anomaly(kept);
  ChunkPipeline pipeline(ChunkCount(kept, kChunkRows));
  std::vector<std::vector<RowScore>> scores(pipeline.chunks());
  std::vector<Status> chunk_status(pipeline.chunks());
  const auto scored = pipeline.Add(
      [&](size_t c) {
        const size_t first = c * kChunkRows;
        chunk_status[c] =
            ScoreChunk(in, first, std::min(kChunkRows, kept - first), &scores[c], &anomaly);
      },
      ChunkPipeline::Order::kAnyOrder);
  SurpriseSteps surprise(model.calibration, anomaly, kChunkRows);
  const auto surprised = surprise.AddTo(pipeline, {scored});
  // Chunk c prints the file's rows up to its last kept row, the dropped rows among them.
  const std::vector<size_t> kept_row =
      time_rules.repeated() > 0 ? time_rules.KeptRowOf() : std::vector<size_t>();
  auto file_first = [&](size_t c) {
    if (c == 0) return size_t{0};
    if (c == pipeline.chunks()) return time_rules.rows;
    return time_rules.kept[c * kChunkRows - 1] + 1;
  };
  const OutputColumns columns{model, scores, surprise.columns(), explained, time_text, kept_row};
  std::vector<ScoredOutput> parts(pipeline.chunks());
  const auto formatted = pipeline.Add(
      [&](size_t c) {
        if (!chunk_status[c].ok()) return;  // no scores to print: the write step reports it
        parts[c] =
            FormatRows(columns, file_first(c), file_first(c + 1) - file_first(c), c * kChunkRows);
      },
      ChunkPipeline::Order::kAnyOrder, {surprised});
  Status status = write("row,timestamp,anomaly_score,decision,is_anomaly,reason,surprise,onset" +
                        (explain ? ExplanationHeader(model.spec) : std::string()) + "\n");
  ScoredOutput total;
  pipeline.Add(
      [&](size_t c) {
        if (status.ok()) status = chunk_status[c];
        if (status.ok()) status = write(parts[c].text.view());
        total.flagged += parts[c].flagged;
        total.unscored += parts[c].unscored;
        parts[c].text.Free();  // written: its memory goes
      },
      ChunkPipeline::Order::kInOrder, {formatted});
  pipeline.Run(ScoreWorkers(kept));
  if (!status.ok()) return status;
  return total;
}

// The drift canary's other side: a model that flags far more than it was trained to
// expect pages on everything, and says so here rather than in the pager.
void WarnOverscoring(const Model& model, size_t flagged, size_t scored) {
  const double expected = model.params.contamination.is_auto ? model.info.flagged_fraction
                                                             : model.params.contamination.value;
  const double share = scored ? static_cast<double>(flagged) / static_cast<double>(scored) : 0.0;
  if (flagged >= 10 && share > kOverscoringRatio * expected) {
    std::fprintf(stderr,
                 "WARNING: flagged %.1f%% of the scored rows, %.1fx the %.1f%% the model expects: "
                 "the data has moved away from the training window (retrain on recent data) or "
                 "the contamination is too low\n",
                 100.0 * share, expected > 0 ? share / expected : 0.0, 100.0 * expected);
  }
}

// ScoreInput for the CSV: the rows built whole when a chunk cannot build its own, and for
// --explain the scores and their explanations up front.
Status PrepareInput(const ScoreArgs& args, ScoreInput* in, std::vector<RowExplanation>* explained) {
  for (const auto& s : in->data.series) in->series.push_back(s.data());
  const TimeMs* times = in->data.times.empty() ? nullptr : in->data.times.data();
  // Checks what every chunk's rows would be checked for (the spec, the inputs, the times).
  auto checked = BuildFeatureRows(in->model.spec, times, in->series, 0);
  if (!checked.ok()) return checked.status();
  if (!args.explain && !in->model.spec.has_temporal()) return Status::Ok();
  auto rows = BuildFeatureRows(in->model.spec, times, in->series, in->data.rows);
  if (!rows.ok()) return rows.status();
  in->whole = std::move(rows).value();
  if (!args.explain) return Status::Ok();
  // --explain: exact per-feature contributions to log2 of the score, on both cores.
  in->scores = ParallelScoreRows(in->scorer, *in->whole);
  auto explainer = Explainer::Create(in->model);
  if (!explainer.ok()) return explainer.status();
  *explained = ExplainRows(*explainer, *in->whole, in->scores);
  return Status::Ok();
}

}  // namespace

Status RunScore(const ScoreArgs& args) {
  // The bundle is read and checked, its forest compiled, on another core while the CSV's
  // bytes are read.
  std::optional<ModelScorer> scorer;
  auto loading = std::async(std::launch::async, [&] { return LoadBundle(args.bundle, &scorer); });
  auto content = ReadFile(args.csv);
  auto model = loading.get();
  if (!model.ok()) return model.status();
  if (!content.ok()) return content.status();
  CsvData data;
  // Every row of the file gets an output row; the dropped ones keep their time as written.
  std::vector<std::string> time_text;
  TimeRules time_rules;
  Status read = ReadScoreCsv(args, *content, *model, &data, &time_text, &time_rules);
  if (!read.ok()) return read;
  // The CSV's text goes while this core prepares the scoring and the other is idle.
  auto text_released = ReleaseAside(std::move(*content));
  ScoreInput input{*model, *scorer, data, {}, std::nullopt, {}};
  std::vector<RowExplanation> explained;
  if (Status prepared = PrepareInput(args, &input, &explained); !prepared.ok()) return prepared;
  AtomicFileWriter file;
  // Standard output's errors count too (a full disk behind `> file`): a score that was not
  // all written is a failure, not exit 0.
  std::function<Status(std::string_view)> write = [](std::string_view text) {
    if (std::fwrite(text.data(), 1, text.size(), stdout) == text.size()) return Status::Ok();
    return StdoutWriteError();
  };
  if (!args.out.empty()) {
    if (Status opened = file.Open(args.out); !opened.ok()) return opened;
    write = [&file](std::string_view text) { return file.Append(text); };
  }
  const auto out = ScoreAndWrite(input, explained, args.explain, time_text, time_rules, write);
  if (!out.ok()) return out.status();
  // The columns go back to the kernel beside the rename (2-3 ms, as it frees the old file's
  // blocks), not after it.
  auto columns_released = ReleaseAside(std::move(data));
  if (!args.out.empty()) {
    if (Status written = file.Commit(); !written.ok()) return written;
  }
  columns_released.get();
  text_released.get();
  // unscored counts the dropped rows too
  WarnOverscoring(*model, out->flagged, time_rules.rows - out->unscored);
  if (!args.quiet) {
    std::fprintf(stderr,
                 "scored %zu rows with model %s: %zu anomalies (threshold %s), %zu rows without "
                 "a score\n",
                 time_rules.rows - out->unscored, model->model_version.c_str(), out->flagged,
                 FormatShortest(model->threshold()).c_str(), out->unscored);
    for (const std::string& note : time_rules.Notes()) {
      std::fprintf(stderr, "%s: %s\n", args.csv.c_str(), note.c_str());
    }
  }
  return Status::Ok();
}

}  // namespace isoscope::native
