#include "explain_api.h"

#include <cmath>
#include <nlohmann/json.hpp>

#include "time_parse.h"

namespace isoscope::native {

namespace {

// JSON has no NaN or infinity: such a number is null.
nlohmann::json Number(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(); }

}  // namespace

std::string GroupExplanationJson(const std::string& detector, const GroupExplanation& e) {
  const FeatureSpec& spec = e.model->model.spec;
  const RowExplanation& x = e.explanation;
  const std::vector<std::string> names = spec.ColumnNames();
  const std::vector<int32_t>& column_inputs = e.model->explainer->column_inputs();
  nlohmann::json features = nlohmann::json::array();
  for (size_t i = 0; i < names.size() && i < x.contribution.size(); ++i) {
    const int32_t in = i < column_inputs.size() ? column_inputs[i] : -1;
    features.push_back({{"name", names[i]},
                        {"input", in < 0 ? nlohmann::json() : nlohmann::json(spec.inputs[in])},
                        {"value", Number(i < e.features.size() ? e.features[i] : NAN)},
                        {"contribution", Number(x.contribution[i])}});
  }
  nlohmann::json inputs = nlohmann::json::array();
  for (size_t k = 0; k < spec.inputs.size() && k < x.per_input.size(); ++k) {
    inputs.push_back({{"name", spec.inputs[k]}, {"contribution", Number(x.per_input[k])}});
  }
  nlohmann::json out;
  out["detector"] = detector;
  out["group"] = e.group;
  out["model_version"] = e.model->version;
  out["time"] = e.time;
  out["time_text"] = FormatTime(e.time);
  out["anomaly_score"] = Number(x.anomaly_score);
  out["baseline_score"] = Number(e.model->explainer->baseline_score());
  out["unit"] = "log2 of the anomaly score (positive pushes towards anomalous)";
  out["features"] = std::move(features);
  out["inputs"] = std::move(inputs);
  out["top_input"] = x.top_input < 0
                         ? nlohmann::json()
                         : nlohmann::json(spec.inputs[static_cast<size_t>(x.top_input)]);
  return out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace isoscope::native
