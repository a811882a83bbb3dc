#include "group_models.h"

#include <sys/stat.h>

#include "daemon.h"

namespace isoscope::native {

std::string BundleFileKey(const std::string& version, const std::string& path) {
  struct stat st {};
  std::string key = version;
  if (::lstat(path.c_str(), &st) == 0) {
    key += "|" + std::to_string(static_cast<int64_t>(st.st_mtim.tv_sec)) + "." +
           std::to_string(static_cast<int64_t>(st.st_mtim.tv_nsec)) + "|" +
           std::to_string(static_cast<int64_t>(st.st_size));
  }
  return key;
}

GroupModels::GroupModels(std::string models_dir, std::string detector, Shard shard, Logger log)
    : models_dir_(std::move(models_dir)),
      detector_(std::move(detector)),
      shard_(shard),
      log_(std::move(log)),
      map_(std::make_shared<const GroupModelMap>()) {}

std::shared_ptr<const GroupModelMap> GroupModels::Snapshot() const {
  std::lock_guard<std::mutex> lock(mu_);
  return map_;
}

namespace {

// A bundle in a group's directory must be that group's: a pooled bundle or another group's
// copied there would score the group with a model of other rows.
Status CheckIsGroup(const ActiveModel& m, const std::string& dir_name) {
  if (m.model.group.empty()) {
    return Status(ErrorCode::kInvalidArgument,
                  "the bundle is not a group's model (no group labels; a pooled model?)");
  }
  if (m.model.group.hash != dir_name) {
    return Status(ErrorCode::kInvalidArgument,
                  "the bundle is group " + m.model.group.hash + "'s model, not " + dir_name + "'s");
  }
  return Status::Ok();
}

}  // namespace

int GroupModels::Poll(bool force, const Loader& load) {
  auto names = BundleStore::ListGroups(models_dir_, detector_);
  if (!names.ok()) {
    log_.Warn("cannot list group models",
              {{"detector", detector_}, {"reason", names.status().message()}});
    return 0;
  }
  const std::shared_ptr<const GroupModelMap> old = Snapshot();
  auto next = std::make_shared<GroupModelMap>();
  next->reserve(names->size());
  bool changed = false;
  int refused = 0, loaded = 0;
  for (const std::string& name : *names) {
    uint64_t hash = 0;
    if (!BundleStore::ParseGroupDirName(name, &hash) || !shard_.Owns(hash)) continue;
    const auto before = old->find(hash);
    GroupModel g = before == old->end() ? GroupModel{hash, nullptr, "", ""} : before->second;
    const BundleStore store = BundleStore::ForGroup(models_dir_, detector_, hash);
    auto latest = store.Latest();
    const std::string key =
        latest.ok() ? BundleFileKey(*latest, store.BundlePath(*latest)) : std::string();
    if (!latest.ok() || (key == g.latest_key && !force)) {
      changed = changed || before == old->end();
      next->emplace(hash, std::move(g));
      continue;
    }
    changed = true;
    g.latest_key = key;
    auto m = load(store, *latest, store.BundlePath(*latest));
    Status why = m.ok() ? CheckIsGroup(**m, name) : m.status();
    if (why.ok()) {
      g.model = std::move(*m);
      g.error.clear();
      ++loaded;
    } else {
      ++refused;
      g.error = why.ToString();
      log_.Error("group model refused, keeping the previous one",
                 {{"detector", detector_},
                  {"group_hash", name},
                  {"version", *latest},
                  {"reason", g.error},
                  {"serving", g.model ? "its previous model" : "the pooled model"}});
    }
    next->emplace(hash, std::move(g));
  }
  changed = changed || next->size() != old->size();
  if (loaded > 0) {
    log_.Info("group models loaded", {{"detector", detector_},
                                      {"loaded", std::to_string(loaded)},
                                      {"groups", std::to_string(next->size())}});
  }
  if (changed) {
    std::lock_guard<std::mutex> lock(mu_);
    map_ = std::move(next);
  }
  return refused;
}

const ActiveModel* GroupModels::Pick(const GroupModelMap& map, uint64_t hash,
                                     const ActiveModel& pooled, std::string* reason) const {
  const auto it = map.find(hash);
  if (it == map.end()) {
    *reason = "no group model (under min_rows at training, or not trained yet)";
    return &pooled;
  }
  const GroupModel& g = it->second;
  if (!g.model) {
    *reason = g.error.empty() ? "no group model loaded" : "group model refused: " + g.error;
    return &pooled;
  }
  // The cycle builds one feature vector per group from the pooled model's spec.
  if (!(g.model->model.spec == pooled.model.spec)) {
    *reason = "the group model's features differ from the pooled model's; retrain both";
    return &pooled;
  }
  return g.model.get();
}

}  // namespace isoscope::native
