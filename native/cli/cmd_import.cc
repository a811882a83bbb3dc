#include <nlohmann/json.hpp>

#include "commands.h"
#include "csv.h"
#include "file_io.h"
#include "isoscope/bundle.h"
#include "isoscope/version.h"
#include "model_json.h"

namespace isoscope::native {
namespace {

using nlohmann::json;

Result<Model> ModelFromImportJson(const json& j) {
  auto bad = [](const std::string& what) {
    return Status(ErrorCode::kBadInput, "model JSON: " + what);
  };
  const std::string format = j.value("format", "");
  if (format != "isoscope-sklearn-import-v1" && format != "sklearn-iforest-v1") {
    return bad("'format' is '" + format +
               "'; expected isoscope-sklearn-import-v1 (write it with tools/sklearn_export.py)");
  }
  Model m;
  auto params = ParamsFromJson(j.value("params", json::object()));
  if (!params.ok()) return params.status();
  m.params = *params;
  auto forest = ForestFromJson(j);
  if (!forest.ok()) return forest.status();
  m.forest = std::move(forest).value();
  if (static_cast<size_t>(m.forest.trees.size()) != static_cast<size_t>(m.params.n_estimators)) {
    m.params.n_estimators = static_cast<int32_t>(m.forest.trees.size());
  }
  try {
    m.spec.inputs = j.at("feature_names").get<std::vector<std::string>>();
    m.spec.derived.clear();
    m.offset = j.at("offset_").get<double>();
    if (j.contains("scaler") && !j["scaler"].is_null()) {
      m.scaler.kind = Scaler::Kind::kStandard;
      m.scaler.mean = j["scaler"].at("mean").get<std::vector<double>>();
      m.scaler.scale = j["scaler"].at("scale").get<std::vector<double>>();
    } else {
      m.scaler.kind = Scaler::Kind::kNone;
    }
  } catch (const json::exception& e) {
    return bad(e.what());
  }
  if (m.spec.inputs.size() != static_cast<size_t>(m.forest.n_features)) {
    return bad("feature_names has " + std::to_string(m.spec.inputs.size()) +
               " names but the forest has " + std::to_string(m.forest.n_features) + " features");
  }
  m.info.contamination_explicit = !m.params.contamination.is_auto;
  m.info.source = "sklearn-import:" + j.value("sklearn_version", std::string("unknown"));
  return m;
}

}  // namespace

int RunImportSklearn(const ImportArgs& args) {
  auto fail = [](const Status& s) {
    std::fprintf(stderr, "isoscope import-sklearn: %s\n", s.message().c_str());
    return ExitCodeFor(s);
  };
  auto text = ReadFile(args.model);
  if (!text.ok()) return fail(text.status());
  json j;
  try {
    j = json::parse(*text);
  } catch (const json::exception& e) {
    return fail(Status(ErrorCode::kBadInput, args.model + " is not valid JSON: " + e.what()));
  }
  auto model = ModelFromImportJson(j);
  if (!model.ok())
    return fail(Status(model.status().code(), args.model + ": " + model.status().message()));
  model->info.created_ms = NowMs();
  model->info.engine_version = kEngineVersion;

  std::vector<double> rows;
  if (!args.training_csv.empty()) {
    auto content = ReadFile(args.training_csv);
    if (!content.ok()) return fail(content.status());
    CsvOptions options;
    options.no_time = true;
    options.features = model->spec.inputs;
    auto data = ParseCsv(*content, options, args.training_csv);
    if (!data.ok()) return fail(data.status());
    std::vector<const double*> series;
    for (const auto& s : data->series) {
      series.push_back(s.data());
    }
    auto built = BuildFeatureRows(model->spec, nullptr, series, data->rows);
    if (!built.ok()) return fail(built.status());
    for (size_t i = 0; i < built->rows; ++i) {
      if (built->problems[i].issue == RowIssue::kNone) {
        rows.insert(rows.end(),
                    built->values.begin() + static_cast<std::ptrdiff_t>(i * built->width),
                    built->values.begin() + static_cast<std::ptrdiff_t>((i + 1) * built->width));
      }
    }
    model->info.rows_total = static_cast<int64_t>(data->rows);
    model->info.rows_used = static_cast<int64_t>(rows.size() / built->width);
    model->info.rows_dropped = model->info.rows_total - model->info.rows_used;
  } else {
    model->info.warnings.push_back(
        "imported without --training-csv: no training-score quantiles, so the threshold "
        "cannot be re-chosen for another contamination");
  }
  Status finished = FinishModel(*model, rows, /*keep_offset=*/true);
  if (!finished.ok()) return fail(finished);
  const std::string bytes = EncodeBundle(*model);
  Status written = WriteFileAtomic(args.out, bytes);
  if (!written.ok()) return fail(written);
  PrintReport(stdout, *model);
  std::printf("wrote             %s (%zu bytes)\n", args.out.c_str(), bytes.size());
  return kExitOk;
}

}  // namespace isoscope::native
