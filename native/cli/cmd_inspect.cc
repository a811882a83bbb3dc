#include "commands.h"
#include "explain_rows.h"
#include "model_json.h"

namespace isoscope::native {

namespace {

// Global importance: mean |contribution| per feature. A bundle keeps no training rows, so the
// sample is its canaries (the most normal, median and most anomalous training rows, the column
// means and a row beyond the training range), and the output says so.
void PrintImportance(const Model& model) {
  auto explainer = Explainer::Create(model);
  if (!explainer.ok() || model.canaries.empty()) {
    return;
  }
  std::vector<double> rows;
  for (const Canary& c : model.canaries) {
    rows.insert(rows.end(), c.features.begin(), c.features.end());
  }
  const auto explained = ExplainDense(*explainer, rows.data(), model.canaries.size(), 1);
  const std::vector<double> mean = MeanAbsContribution(explained, explainer->width());
  std::printf(
      "attribution       baseline score %.4f (mean path length %.4f); mean |contribution"
      " to log2 score| over the %zu canary rows (the bundle keeps no training rows):\n",
      explainer->baseline_score(), explainer->baseline_path_length(), model.canaries.size());
  const std::vector<std::string> names = model.spec.ColumnNames();
  for (size_t i = 0; i < names.size(); ++i) {
    std::printf("  %-46s %.4f\n", names[i].c_str(), mean[i]);
  }
}

}  // namespace

int RunInspect(const InspectArgs& args) {
  auto model = LoadBundle(args.bundle);
  if (!model.ok()) {
    std::fprintf(stderr, "isoscope inspect: %s\n", model.status().message().c_str());
    return ExitCodeFor(model.status());
  }
  if (args.json) {
    const std::string text =
        ModelToJson(*model, true).dump(1, ' ', false, nlohmann::json::error_handler_t::replace);
    std::printf("%s\n", text.c_str());
    return kExitOk;
  }
  PrintReport(stdout, *model);
  std::printf("canary check      passed\n");
  std::printf("thresholds        ");
  for (double c : {0.001, 0.005, 0.01, 0.02, 0.05, 0.1}) {
    auto t = model->ThresholdFor(c);
    if (t.ok()) {
      std::printf("c=%g: %.4f  ", c, *t);
    }
  }
  std::printf("\n");
  PrintImportance(*model);
  return kExitOk;
}

}  // namespace isoscope::native
