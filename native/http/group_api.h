#pragma once

// model: per: group in the HTTP API: GET /api/v1/detectors/{name}/groups (which model scored
// each group in the last cycle) and the group a /bundle?group= request names.

#include <cstdint>
#include <string>

#include "daemon.h"

namespace isoscope::native {

/// {"detector", "groups": [{"group" (key), "labels", "hash" (16 hex), "source" ("group" or
/// "pooled"), "model_version", "reason" (why pooled; "" with its own model)}], "counts":
/// {"group", "pooled"}}, in group key order.
std::string GroupModelsJson(const std::string& detector, const std::vector<GroupModelView>& groups);

/// The group hash `param` names: 16 hex digits (BundleStore::GroupDirName), or a group key
/// such as {job="checkout"} of a group the last cycle scored. kInvalidArgument otherwise.
Result<uint64_t> GroupHashOfParam(const std::string& param,
                                  const std::vector<GroupModelView>& groups);

}  // namespace isoscope::native
