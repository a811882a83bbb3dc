#include <string>

#include "commands.h"
#include "csv.h"
#include "file_io.h"
#include "isoscope/text.h"

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
  std::vector<const double*> series;
  for (const auto& s : data->series) {
    series.push_back(s.data());
  }
  auto rows = BuildFeatureRows(model->spec, data->times.empty() ? nullptr : data->times.data(),
                               series, data->rows);
  if (!rows.ok()) return fail(rows.status());
  const std::vector<RowScore> scores = scorer->ScoreRows(*rows);

  // The calibrated surprise follows the rows in order, as the daemon's stream would.
  SurpriseStream surprise(model->calibration);
  const bool calibrated = model->calibration.count > 0;
  std::string out = "row,timestamp,anomaly_score,decision,is_anomaly,reason,surprise\n";
  size_t flagged = 0, unscored = 0;
  for (size_t i = 0; i < scores.size(); ++i) {
    const RowScore& s = scores[i];
    out += std::to_string(i);
    out += ',';
    if (!data->time_text.empty()) {
      out += data->time_text[i];
    }
    if (s.ok()) {
      const double sup = surprise.Push(s.anomaly_score);
      out += ',' + FormatShortest(s.anomaly_score) + ',' + FormatShortest(s.decision) + ',' +
             (s.is_anomaly ? "1" : "0") + ",," + (calibrated ? FormatShortest(sup) : "") + "\n";
      flagged += s.is_anomaly ? 1 : 0;
    } else {
      out += ",,,," +
             CsvCell("no score: " + FeatureRows::Describe({s.issue, s.column}, model->spec)) +
             ",\n";
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
  const size_t scored = scores.size() - unscored;
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
                 scores.size() - unscored, model->model_version.c_str(), flagged,
                 FormatShortest(model->threshold()).c_str(), unscored);
  }
  return kExitOk;
}

}  // namespace isoscope::native
