#include "model_json.h"

#include "isoscope/bundle.h"
#include "time_parse.h"

namespace isoscope::native {
namespace {

using nlohmann::json;

Status Bad(const std::string& what) { return Status(ErrorCode::kBadInput, "model JSON: " + what); }

template <typename T>
Status ReadVector(const json& tree, const char* key, size_t t, std::vector<T>* out) {
  if (!tree.contains(key) || !tree[key].is_array()) {
    return Bad("trees[" + std::to_string(t) + "]." + key + " is missing or not an array");
  }
  try {
    *out = tree[key].get<std::vector<T>>();
  } catch (const json::exception& e) {
    return Bad("trees[" + std::to_string(t) + "]." + key + ": " + e.what());
  }
  return Status::Ok();
}

json ParamsToJson(const IForestParams& p) {
  json j;
  j["n_estimators"] = p.n_estimators;
  switch (p.max_samples.kind) {
    case MaxSamples::Kind::kAuto:
      j["max_samples"] = "auto";
      break;
    case MaxSamples::Kind::kCount:
      j["max_samples"] = p.max_samples.count;
      break;
    case MaxSamples::Kind::kFraction:
      j["max_samples"] = p.max_samples.fraction;
      break;
  }
  if (p.max_features.kind == MaxFeatures::Kind::kCount) {
    j["max_features"] = p.max_features.count;
  } else {
    j["max_features"] = p.max_features.fraction;
  }
  j["contamination"] = p.contamination.is_auto ? json("auto") : json(p.contamination.value);
  j["bootstrap"] = p.bootstrap;
  j["random_state"] = p.random_state;
  return j;
}

// The feature spec as inspect shows it: inputs, derived features by name, columns.
json FeaturesToJson(const FeatureSpec& spec) {
  json features;
  features["inputs"] = spec.inputs;
  std::vector<std::string> derived;
  for (const DerivedFeature& d : spec.derived) {
    derived.push_back(d.Name(spec.inputs));
  }
  features["derived"] = derived;
  features["columns"] = spec.ColumnNames();
  if (spec.step_ms > 0) features["step"] = FormatDurationMs(spec.step_ms);
  features["deploy_windows"] = FormatDeployWindows(spec.deploy_windows);
  return features;
}

}  // namespace

Result<IForestParams> ParamsFromJson(const json& j) {
  IForestParams p;
  if (!j.is_object()) {
    return Bad("params is not an object");
  }
  try {
    if (j.contains("n_estimators")) {
      p.n_estimators = j["n_estimators"].get<int32_t>();
    }
    if (j.contains("max_samples")) {
      const json& v = j["max_samples"];
      if (v.is_string()) {
        p.max_samples = MaxSamples::Auto();
      } else if (v.is_number_integer()) {
        p.max_samples = MaxSamples::Count(v.get<int64_t>());
      } else {
        p.max_samples = MaxSamples::Fraction(v.get<double>());
      }
    }
    if (j.contains("max_features")) {
      const json& v = j["max_features"];
      if (v.is_number_integer()) {
        p.max_features = MaxFeatures::Count(v.get<int64_t>());
      } else {
        p.max_features = MaxFeatures::Fraction(v.get<double>());
      }
    }
    if (j.contains("contamination")) {
      const json& v = j["contamination"];
      p.contamination =
          v.is_string() ? Contamination::Auto() : Contamination::Fraction(v.get<double>());
    }
    if (j.contains("bootstrap")) {
      p.bootstrap = j["bootstrap"].get<bool>();
    }
    if (j.contains("random_state") && !j["random_state"].is_null()) {
      p.random_state = j["random_state"].get<uint32_t>();
    }
  } catch (const json::exception& e) {
    return Bad(std::string("params: ") + e.what());
  }
  return p;
}

Result<Forest> ForestFromJson(const json& j) {
  Forest f;
  try {
    f.n_features = j.at("n_features_in").get<int32_t>();
    f.max_samples = j.at("max_samples_").get<int32_t>();
    f.max_features = j.at("max_features_").get<int32_t>();
  } catch (const json::exception& e) {
    return Bad(e.what());
  }
  if (!j.contains("trees") || !j["trees"].is_array()) {
    return Bad("'trees' is missing or not an array");
  }
  const json& trees = j["trees"];
  for (size_t t = 0; t < trees.size(); ++t) {
    Tree tree;
    for (Status s : {ReadVector(trees[t], "features", t, &tree.features),
                     ReadVector(trees[t], "children_left", t, &tree.children_left),
                     ReadVector(trees[t], "children_right", t, &tree.children_right),
                     ReadVector(trees[t], "feature", t, &tree.feature),
                     ReadVector(trees[t], "threshold", t, &tree.threshold),
                     ReadVector(trees[t], "n_node_samples", t, &tree.n_node_samples)}) {
      if (!s.ok()) {
        return s;
      }
    }
    // sklearn leaves carry feature -2; scoring never reads them, validation checks splits.
    f.trees.push_back(std::move(tree));
  }
  BakePathLengths(f);
  Status valid = ValidateForest(f);
  if (!valid.ok()) {
    return Bad(valid.message());
  }
  return f;
}

json ModelToJson(const Model& m, bool trees) {
  json j;
  j["model_version"] = m.model_version;
  j["bundle_format"] =
      std::to_string(kBundleFormatMajor) + "." + std::to_string(kBundleFormatMinor);
  j["params"] = ParamsToJson(m.params);
  j["features"] = FeaturesToJson(m.spec);
  j["scaler"] = {{"kind", m.scaler.kind == Scaler::Kind::kStandard ? "standard" : "none"},
                 {"mean", m.scaler.mean},
                 {"scale", m.scaler.scale}};
  j["forest"] = {{"n_estimators", m.forest.trees.size()},
                 {"n_features_in", m.forest.n_features},
                 {"max_samples_", m.forest.max_samples},
                 {"max_features_", m.forest.max_features},
                 {"subsample_features", m.forest.subsample_features()},
                 {"c_max_samples", m.forest.c_max_samples},
                 {"total_nodes", m.forest.total_nodes()}};
  j["offset_"] = m.offset;
  j["threshold"] = m.threshold();
  json q = json::array();
  for (double c : {0.001, 0.005, 0.01, 0.02, 0.05, 0.1}) {
    auto t = m.ThresholdFor(c);
    if (t.ok()) {
      q.push_back({{"contamination", c}, {"threshold", *t}});
    }
  }
  j["thresholds_by_contamination"] = q;
  json canaries = json::array();
  for (const Canary& c : m.canaries) {
    canaries.push_back(
        {{"label", c.label}, {"features", c.features}, {"anomaly_score", c.anomaly_score}});
  }
  j["canaries"] = canaries;
  const TrainingInfo& i = m.info;
  json info = {{"engine_version", i.engine_version},
               {"created", FormatTime(i.created_ms)},
               {"source", i.source},
               {"rows_total", i.rows_total},
               {"rows_used", i.rows_used},
               {"rows_dropped", i.rows_dropped},
               {"full_weeks", i.full_weeks},
               {"flagged_fraction", i.flagged_fraction},
               {"contamination_explicit", i.contamination_explicit},
               {"warnings", i.warnings}};
  json dropped = json::object();
  for (const auto& [reason, count] : i.dropped_by_reason) {
    dropped[reason] = count;
  }
  info["dropped_by_reason"] = dropped;
  if (i.has_time) {
    info["window_start"] = FormatTime(i.window_start_ms);
    info["window_end"] = FormatTime(i.window_end_ms);
  }
  j["training"] = info;
  if (!m.group.empty()) {  // a per-group model (format 1.5): the group it was trained for
    json labels = json::object();
    for (const auto& [name, value] : m.group.labels) labels[name] = value;
    j["group"] = {{"labels", labels}, {"hash", m.group.hash}};
  }
  if (trees) {
    json arr = json::array();
    for (const Tree& t : m.forest.trees) {
      arr.push_back({{"features", t.features},
                     {"children_left", t.children_left},
                     {"children_right", t.children_right},
                     {"feature", t.feature},
                     {"threshold", t.threshold},
                     {"n_node_samples", t.n_node_samples}});
    }
    j["trees"] = arr;
    j["n_features_in"] = m.forest.n_features;
    j["max_samples_"] = m.forest.max_samples;
    j["max_features_"] = m.forest.max_features;
  }
  return j;
}

}  // namespace isoscope::native
