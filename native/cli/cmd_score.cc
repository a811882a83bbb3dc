// `isoscope score`: a bundle scores a CSV, a row out per row in, as the daemon would.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

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
Status ReadScoreCsv(const ScoreArgs& args, const Model& model, CsvData* data,
                    std::vector<std::string>* time_text, TimeRules* time_rules) {
  auto content = ReadFile(args.csv);
  if (!content.ok()) return content.status();
  CsvOptions csv_options;
  csv_options.time_column = args.time_column;
  csv_options.features = model.spec.inputs;  // by name: column order in the CSV is free
  auto parsed = ParseCsv(*content, csv_options, args.csv);
  if (!parsed.ok()) return parsed.status();
  *data = std::move(parsed).value();
  if (model.spec.needs_time() && data->time_column.empty()) {
    return Status(ErrorCode::kBadInput,
                  args.csv +
                      " has no time column, but the model uses time features; "
                      "name it with --time-column");
  }
  *time_text = data->time_text;
  auto rules = ApplyTimeRules(*data, args.csv, model.spec.has_temporal());
  if (!rules.ok()) return rules.status();
  *time_rules = std::move(rules).value();
  return Status::Ok();
}

// Output rows as text, counting the flagged and the unscored ones.
struct ScoredOutput {
  std::string csv;
  size_t flagged = 0, unscored = 0;
};

// What every output row reads: the scores, their surprise and onset, the explanations.
struct OutputColumns {
  const Model& model;
  const std::vector<RowScore>& scores;
  const SurpriseColumns& surprise;
  const std::vector<RowExplanation>& explained;
  const std::vector<std::string>& time_text;
  const std::vector<size_t>& kept_row;
};

// Output rows [first, first + count), whose first kept row is scores[k]: one chunk's text.
ScoredOutput FormatRows(const OutputColumns& c, size_t first, size_t count, size_t k) {
  const FeatureSpec& spec = c.model.spec;
  // A row without an explanation (dropped for its repeated time) gets empty cells.
  auto explain_cells = [&](size_t i) {
    if (c.explained.empty()) return std::string();
    return i < c.explained.size() ? ExplanationCells(c.explained[i], spec)
                                  : std::string(spec.width() + 1, ',');
  };
  const bool calibrated = c.model.calibration.count > 0;
  ScoredOutput o;
  std::string& out = o.csv;
  // About 60 bytes a row (more with --explain): one allocation up front, not one per row.
  out.reserve(count * (64 + (c.explained.empty() ? 0 : 24 * spec.width())));
  char number[24];
  for (size_t row = first; row < first + count; ++row) {
    out.append(number, std::to_chars(number, number + sizeof number, row).ptr);
    out += ',';
    if (!c.time_text.empty()) out += c.time_text[row];
    if (c.kept_row[row] != row) {
      out += ",,,," + CsvCell(RepeatedTimeReason(c.kept_row[row])) + ",," +
             explain_cells(c.scores.size()) + "\n";
      ++o.unscored;
      continue;
    }
    const RowScore& s = c.scores[k];
    if (s.ok()) {
      out += ',';
      AppendShortest(out, s.anomaly_score);
      out += ',';
      AppendShortest(out, s.decision);
      out += s.is_anomaly ? ",1,," : ",0,,";
      if (calibrated) AppendShortest(out, c.surprise.surprise[k]);
      out += ',';
      if (calibrated) AppendShortest(out, c.surprise.onset[k]);
      out += explain_cells(k);
      out += '\n';
      o.flagged += s.is_anomaly ? 1 : 0;
    } else {
      out += ",,,," + CsvCell("no score: " + FeatureRows::Describe({s.issue, s.column}, spec)) +
             ",," + explain_cells(k) + "\n";
      ++o.unscored;
    }
    ++k;  // the next kept row's index in scores (and explanations)
  }
  return o;
}

// The output CSV, a row per row of the file, handed to `write` in order as its chunks are
// formatted side by side: the file is written while the rest is formatted. The counts of
// flagged and unscored rows come back.
Result<ScoredOutput> WriteScoredCsv(const Model& model, const std::vector<RowScore>& scores,
                                    const std::vector<RowExplanation>& explained, bool explain,
                                    const std::vector<std::string>& time_text,
                                    const TimeRules& time_rules,
                                    const std::function<Status(std::string_view)>& write) {
  const std::vector<size_t> kept_row = time_rules.KeptRowOf();
  // The calibrated surprise follows the rows in order, as the daemon's stream would; a row
  // without a score (NaN) leaves the stream as it was.
  std::vector<double> anomaly_scores(scores.size());
  for (size_t k = 0; k < scores.size(); ++k) {
    anomaly_scores[k] = scores[k].ok() ? scores[k].anomaly_score : std::nan("");
  }
  const SurpriseColumns surprise = ParallelSurprise(model.calibration, anomaly_scores);
  const OutputColumns columns{model, scores, surprise, explained, time_text, kept_row};
  const size_t rows = time_rules.rows;
  std::vector<size_t> kept_before(ChunkCount(rows, kChunkRows));  // each chunk's first k
  for (size_t row = 0, kept = 0; row < rows; ++row) {
    if (row % kChunkRows == 0) kept_before[row / kChunkRows] = kept;
    kept += kept_row[row] == row ? 1 : 0;
  }
  Status status = write("row,timestamp,anomaly_score,decision,is_anomaly,reason,surprise,onset" +
                        (explain ? ExplanationHeader(model.spec) : std::string()) + "\n");
  ScoredOutput total;
  std::vector<ScoredOutput> parts(kept_before.size());
  std::vector<char> done(parts.size(), 0);
  size_t next = 0;  // the first chunk not yet written
  std::mutex mutex;
  ForEachChunk(rows, kChunkRows, ScoreWorkers(rows), [&](size_t chunk, size_t first, size_t count) {
    ScoredOutput part = FormatRows(columns, first, count, kept_before[chunk]);
    const std::lock_guard<std::mutex> lock(mutex);
    parts[chunk] = std::move(part);
    done[chunk] = 1;
    // Whoever finishes the next chunk in file order writes it, and the finished ones after it.
    for (; next < parts.size() && done[next] != 0; ++next) {
      if (status.ok()) status = write(parts[next].csv);
      total.flagged += parts[next].flagged;
      total.unscored += parts[next].unscored;
      parts[next].csv = std::string();  // written: its memory goes
    }
  });
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

}  // namespace

Status RunScore(const ScoreArgs& args) {
  auto model = LoadBundle(args.bundle);
  if (!model.ok()) return model.status();
  auto scorer = ModelScorer::Create(*model);
  if (!scorer.ok()) return scorer.status();
  CsvData data;
  // Every row of the file gets an output row; the dropped ones keep their time as written.
  std::vector<std::string> time_text;
  TimeRules time_rules;
  Status read = ReadScoreCsv(args, *model, &data, &time_text, &time_rules);
  if (!read.ok()) return read;
  std::vector<const double*> series;
  for (const auto& s : data.series) {
    series.push_back(s.data());
  }
  auto rows = BuildFeatureRows(model->spec, data.times.empty() ? nullptr : data.times.data(),
                               series, data.rows);
  if (!rows.ok()) return rows.status();
  const std::vector<RowScore> scores = ParallelScoreRows(*scorer, *rows);
  // --explain: exact per-feature contributions to log2 of the score, on both cores.
  std::vector<RowExplanation> explained;
  if (args.explain) {
    auto explainer = Explainer::Create(*model);
    if (!explainer.ok()) return explainer.status();
    explained = ExplainRows(*explainer, *rows, scores);
  }
  AtomicFileWriter file;
  std::function<Status(std::string_view)> write = [](std::string_view text) {
    std::fwrite(text.data(), 1, text.size(), stdout);
    return Status::Ok();
  };
  if (!args.out.empty()) {
    if (Status opened = file.Open(args.out); !opened.ok()) return opened;
    write = [&file](std::string_view text) { return file.Append(text); };
  }
  const auto out =
      WriteScoredCsv(*model, scores, explained, args.explain, time_text, time_rules, write);
  if (!out.ok()) return out.status();
  if (!args.out.empty()) {
    if (Status written = file.Commit(); !written.ok()) return written;
  }
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
