#pragma once

// The per-group models of a `model: per: group` detector in `isoscope serve`: which model
// scores which group. Each group directory models/<detector>/groups/<group hash>/ of this
// replica's shard is a BundleStore whose `latest` is loaded at start and whenever it changes
// (SIGHUP: always). A bundle that does not load (unreadable, truncated, checksum, canaries,
// inputs) or is another group's (its `group.hash` is not the directory's) is refused with a
// log line; the group keeps its last good model, or the pooled model scores it. The cycle
// thread reads an immutable snapshot, swapped whole when a reload changed something.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "bundle_store.h"
#include "logfmt.h"
#include "shard.h"

namespace isoscope::native {

struct ActiveModel;

/// One group directory as the daemon last saw it.
struct GroupModel {
  uint64_t hash = 0;
  std::shared_ptr<const ActiveModel> model;  ///< the last good model; null: none yet
  std::string error;       ///< why the latest bundle was refused; empty when it is loaded
  std::string latest_key;  ///< version|mtime|size of the last `latest` looked at
};

/// What GET /api/v1/detectors/{name}/groups shows of one group of the last cycle.
struct GroupModelView {
  std::string key;  ///< the group key, e.g. {job="checkout"}
  std::map<std::string, std::string> labels;
  uint64_t hash = 0;
  bool own_model = false;  ///< scored by its own model (source="group"), else the pooled one
  std::string version;     ///< the version that scored it (group's or pooled)
  std::string reason;      ///< why the pooled model scored it; empty with its own model
};

using GroupModelMap = std::unordered_map<uint64_t, GroupModel>;

/// version|mtime|size of a bundle: a bundle rewritten under the same name is a new target.
std::string BundleFileKey(const std::string& version, const std::string& path);

class GroupModels {
 public:
  /// Loads and checks one stored version of a group's store (the daemon's own checks).
  using Loader = std::function<Result<std::shared_ptr<const ActiveModel>>(
      const BundleStore& store, const std::string& version, const std::string& path)>;

  GroupModels(std::string models_dir, std::string detector, Shard shard, Logger log);

  /// Looks at every group directory of this shard (reload thread). Returns the number of
  /// bundles refused in this look, for the detector's reload error counter.
  int Poll(bool force, const Loader& load);
  /// The current models (any thread; the cycle takes one per cycle).
  std::shared_ptr<const GroupModelMap> Snapshot() const;

  /// The model that scores group `hash` and, when it is not the group's own, why: `pooled`
  /// (the detector's active model) if the group has no usable model of the same features.
  const ActiveModel* Pick(const GroupModelMap& map, uint64_t hash, const ActiveModel& pooled,
                          std::string* reason) const;

 private:
  std::string models_dir_;
  std::string detector_;
  Shard shard_;
  Logger log_;
  mutable std::mutex mu_;
  std::shared_ptr<const GroupModelMap> map_;
};

}  // namespace isoscope::native
