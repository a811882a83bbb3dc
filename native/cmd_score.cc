#include <string>

#include "commands.h"
#include "csv.h"
#include "explain_rows.h"
#include "file_io.h"
#include "isoscope/text.h"
#include "time_rules.h"

namespace isoscope::native {

int RunScore(const ScoreArgs& args) {
  auto fail = [](const Status& s) {
    std::fprintf(stderr, "isoscope score: %s\n", s.message().c_str());
    return ExitCodeFor(s);
  };
  auto model = LoadBundle(args.bundle);
  if (!model.ok()) return fail(model.status());
  auto scorer = ModelScorer::Create(*model);
  if (!scorer.ok()) return fail(scorer.status());

  auto content = ReadFile(args.csv);
  if (!content.ok()) return fail(content.status());
  CsvOptions csv_options;
  csv_options.time_column = args.time_column;
  csv_options.features = model->spec.inputs;  // by name: column order in the CSV is free
  auto data = ParseCsv(*content, csv_options, args.csv);
  if (!data.ok()) return fail(data.status());
  if (model->spec.needs_time() && data->time_column.empty()) {
    return fail(Status(ErrorCode::kBadInput,
                       args.csv + " has no time column, but the model uses time features; "
                                  "name it with --time-column"));
  }
  // Every row of the file gets an output row; the dropped ones keep their time as written.
  const std::vector<std::string> time_text = data->time_text;
  auto time_rules = ApplyTimeRules(*data, args.csv, model->spec.has_temporal());
  if (!time_rules.ok()) return fail(time_rules.status());
  const std::vector<size_t> kept_row = time_rules->KeptRowOf();
  std::vector<const double*> series;
  for (const auto& s : data->series) {
    series.push_back(s.data());
  }
  auto rows = BuildFeatureRows(model->spec, data->times.empty() ? nullptr : data->times.data(),
                               series, data->rows);
  if (!rows.ok()) return fail(rows.status());
  const std::vector<RowScore> scores = scorer->ScoreRows(*rows);
  // --explain: exact per-feature contributions to log2 of the score, on both cores.
  std::vector<RowExplanation> explained;
  if (args.explain) {
    auto explainer = Explainer::Create(*model);
    if (!explainer.ok()) return fail(explainer.status());
    explained = ExplainRows(*explainer, *rows, scores);
  }
  // A row without an explanation (dropped for its repeated time) gets empty cells.
  auto explain_cells = [&](size_t i) {
    if (explained.empty()) return std::string();
    return i < explained.size() ? ExplanationCells(explained[i], model->spec)
                                : std::string(model->spec.width() + 1, ',');
  };

  // The calibrated surprise follows the rows in order, as the daemon's stream would.
  SurpriseStream surprise(model->calibration);
  const bool calibrated = model->calibration.count > 0;
  std::string out = "row,timestamp,anomaly_score,decision,is_anomaly,reason,surprise,onset" +
                    (args.explain ? ExplanationHeader(model->spec) : std::string()) + "\n";
  size_t flagged = 0, unscored = 0;
  for (size_t row = 0, i = 0; row < time_rules->rows; ++row) {
    out += std::to_string(row);
    out += ',';
    if (!time_text.empty()) {
      out += time_text[row];
    }
    if (kept_row[row] != row) {
      out += ",,,," + CsvCell(RepeatedTimeReason(kept_row[row])) + ",," +
             explain_cells(scores.size()) + "\n";
      ++unscored;
      continue;
    }
    const size_t k = i++;  // the kept row's index in scores (and explanations)
    const RowScore& s = scores[k];
    if (s.ok()) {
      const double sup = surprise.Push(s.anomaly_score);
      out += ',' + FormatShortest(s.anomaly_score) + ',' + FormatShortest(s.decision) + ',' +
             (s.is_anomaly ? "1" : "0") + ",," + (calibrated ? FormatShortest(sup) : "") + ',' +
             (calibrated ? FormatShortest(surprise.onset()) : "") + explain_cells(k) + "\n";
      flagged += s.is_anomaly ? 1 : 0;
    } else {
      out += ",,,," +
             CsvCell("no score: " + FeatureRows::Describe({s.issue, s.column}, model->spec)) +
             ",," + explain_cells(k) + "\n";
      ++unscored;
    }
  }
  if (args.out.empty()) {
    std::fwrite(out.data(), 1, out.size(), stdout);
  } else {
    Status written = WriteFileAtomic(args.out, out);
    if (!written.ok()) return fail(written);
  }
  // The drift canary's other side: a model that flags far more than it was trained to
  // expect pages on everything, and says so here rather than in the pager.
  const double expected = model->params.contamination.is_auto ? model->info.flagged_fraction
                                                              : model->params.contamination.value;
  const size_t scored = time_rules->rows - unscored;  // unscored counts the dropped rows too
  const double share = scored ? static_cast<double>(flagged) / static_cast<double>(scored) : 0.0;
  if (flagged >= 10 && share > kOverscoringRatio * expected) {
    std::fprintf(stderr,
                 "WARNING: flagged %.1f%% of the scored rows, %.1fx the %.1f%% the model expects: "
                 "the data has moved away from the training window (retrain on recent data) or "
                 "the contamination is too low\n",
                 100.0 * share, expected > 0 ? share / expected : 0.0, 100.0 * expected);
  }
  if (!args.quiet) {
    std::fprintf(stderr,
                 "scored %zu rows with model %s: %zu anomalies (threshold %s), %zu rows without "
                 "a score\n",
                 time_rules->rows - unscored, model->model_version.c_str(), flagged,
                 FormatShortest(model->threshold()).c_str(), unscored);
    for (const std::string& note : time_rules->Notes()) {
      std::fprintf(stderr, "%s: %s\n", args.csv.c_str(), note.c_str());
    }
  }
  return kExitOk;
}

}  // namespace isoscope::native
