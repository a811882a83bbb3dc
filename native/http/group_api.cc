#include "group_api.h"

#include <nlohmann/json.hpp>

#include "bundle_store.h"
#include "group_models.h"

namespace isoscope::native {

std::string GroupModelsJson(const std::string& detector,
                            const std::vector<GroupModelView>& groups) {
  nlohmann::json out;
  out["detector"] = detector;
  nlohmann::json list = nlohmann::json::array();
  size_t own = 0;
  for (const GroupModelView& g : groups) {
    own += g.own_model ? 1 : 0;
    list.push_back({{"group", g.key},
                    {"labels", g.labels},
                    {"hash", BundleStore::GroupDirName(g.hash)},
                    {"source", g.own_model ? "group" : "pooled"},
                    {"model_version", g.version},
                    {"reason", g.reason}});
  }
  out["groups"] = std::move(list);
  out["counts"] = {{"group", own}, {"pooled", groups.size() - own}};
  return out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Result<uint64_t> GroupHashOfParam(const std::string& param,
                                  const std::vector<GroupModelView>& groups) {
  uint64_t hash = 0;
  if (BundleStore::ParseGroupDirName(param, &hash)) return hash;
  for (const GroupModelView& g : groups) {
    if (g.key == param) return g.hash;
  }
  return Status(ErrorCode::kInvalidArgument,
                "group '" + param +
                    "' is neither a group hash (16 hex digits, GET .../groups lists them) nor "
                    "the key of a group the last cycle scored, e.g. {job=\"checkout\"}");
}

}  // namespace isoscope::native
