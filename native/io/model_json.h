#pragma once

#include <nlohmann/json.hpp>

#include "isoscope/model.h"
#include "isoscope/status.h"

namespace isoscope::native {

/// Reads sklearn-shaped forest arrays (tools/sklearn_export.py or inspect --json output):
/// n_features_in, max_samples_, max_features_ and trees[] with features, children_left,
/// children_right, feature, threshold, n_node_samples. c(n) is baked in afterwards.
Result<Forest> ForestFromJson(const nlohmann::json& j);

/// Reads sklearn constructor parameters ({"n_estimators":..,"max_samples":"auto"|int|float,...}).
Result<IForestParams> ParamsFromJson(const nlohmann::json& j);

/// Everything inspect shows; with `trees`, every tree as sklearn-shaped arrays so a model can
/// be diffed against scikit-learn's estimators_.
nlohmann::json ModelToJson(const Model& model, bool trees);

}  // namespace isoscope::native
