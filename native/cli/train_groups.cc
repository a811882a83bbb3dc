#include "train_groups.h"

#include <chrono>
#include <cstdio>

#include "bundle_store.h"
#include "isoscope/bundle.h"
#include "model_json.h"

namespace isoscope::native {

struct GroupTrainers::Group {
  std::map<std::string, std::string> labels;  // detector and group_by labels
  uint64_t hash = 0;
  std::unique_ptr<StreamTrainer> trainer;
  bool failed = false;
  size_t batch = 0;  // the pass 2 it is fed in
};

GroupTrainers::GroupTrainers(const DetectorConfig& det, const TrainOptions& base,
                             const Shard& shard, bool quiet, size_t memory_bytes)
    : det_(det), options_(base), shard_(shard), quiet_(quiet), memory_bytes_(memory_bytes) {
  options_.params.n_estimators = det.group_n_estimators;
  options_.params.max_samples = det.group_max_samples;
}

GroupTrainers::~GroupTrainers() = default;

// The trainer of the chunk's group g: created in pass 1 for a group of this shard; null for
// another shard's group, a failed one, one first seen in pass 2, or another batch's.
GroupTrainers::Group* GroupTrainers::GroupFor(const JoinedRows& joined, size_t g) {
  const std::string& key = joined.groups[g];
  auto it = groups_.find(key);
  if (it != groups_.end()) {
    const Group& group = *it->second;
    const bool waiting = pass_ == 2 && group.batch != batch_;
    return group.failed || waiting ? nullptr : it->second.get();
  }
  if (pass_ != 1 || seen_.count(key) != 0) return nullptr;
  auto group = std::make_unique<Group>();
  group->labels = joined.group_labels[g];
  group->labels["detector"] = det_.name;
  group->hash = GroupHash(group->labels);
  seen_[key] = shard_.Owns(group->hash);
  if (!seen_[key]) return nullptr;
  TrainOptions options = options_;
  options.source += " group " + key;
  auto trainer = StreamTrainer::Create(det_.spec, options, kGroupScoreSampleRows);
  if (!trainer.ok()) return nullptr;  // the pooled trainer, created first, reports the error
  group->trainer = std::make_unique<StreamTrainer>(std::move(*trainer));
  return (groups_[key] = std::move(group)).get();
}

Status GroupTrainers::Feed(const JoinedRows& joined, const TrainOptions& ex) {
  const size_t n = joined.rows();
  // JoinByGroup puts a group's rows together; each run of one group is fed as one chunk.
  for (size_t b = 0; b < n;) {
    const int32_t g = joined.group_of_row[b];
    size_t e = b;
    while (e < n && joined.group_of_row[e] == g) ++e;
    Group* group = GroupFor(joined, static_cast<size_t>(g));
    if (group != nullptr) {
      TrainChunk c;
      c.times = joined.times.data() + b;
      for (const auto& s : joined.series) c.series.push_back(s.data() + b);
      c.n = e - b;
      c.exclusion_of_row = ex.exclusion_of_row.empty() ? nullptr : ex.exclusion_of_row.data() + b;
      c.exclusion_reasons = &ex.exclusion_reasons;
      if (Status s = group->trainer->Feed(c); !s.ok()) {
        std::fprintf(stderr, "group %s: %s; the pooled model scores it\n",
                     joined.groups[static_cast<size_t>(g)].c_str(), s.ToString().c_str());
        group->failed = true;
        group->trainer.reset();
      }
    }
    b = e;
  }
  return Status::Ok();
}

void GroupTrainers::EndPass() {
  for (auto it = groups_.begin(); it != groups_.end();) {
    Group& g = *it->second;
    if (pass_ == 2 && g.batch != batch_) {
      ++it;
      continue;
    }
    const Status ended = g.failed ? Status::Ok() : g.trainer->EndPass();
    if (g.failed || !ended.ok()) {
      // Feed logged its own failure; pass 2 not seeing pass 1's rows is logged here.
      if (!ended.ok()) {
        std::fprintf(stderr, "group %s: %s; the pooled model scores it\n", it->first.c_str(),
                     ended.ToString().c_str());
      }
      ++summary_.failed;
      it = groups_.erase(it);
    } else if (pass_ == 1 && g.trainer->usable_rows() < static_cast<size_t>(det_.min_rows)) {
      if (!quiet_) {
        std::fprintf(stderr,
                     "group %s: %zu usable rows, under min_rows %lld: the pooled model "
                     "scores it\n",
                     it->first.c_str(), g.trainer->usable_rows(),
                     static_cast<long long>(det_.min_rows));
      }
      ++summary_.too_few_rows;
      it = groups_.erase(it);
    } else {
      ++it;
    }
  }
  if (pass_ == 1) {
    CutBatches();
    pass_ = 2;
  }
}

// Consecutive groups (by key) while their pass 2 fits in memory_bytes_; a group larger than
// that on its own gets a batch of its own.
void GroupTrainers::CutBatches() {
  size_t held = 0;
  batches_ = 1;
  for (auto& [key, g] : groups_) {
    const size_t bytes = g->trainer->PassTwoBytes();
    if (held > 0 && held + bytes > memory_bytes_) {
      ++batches_;
      held = 0;
    }
    held += bytes;
    g->batch = batches_ - 1;
  }
  to_install_ = groups_.size();
  if (!quiet_ && batches_ > 1) {
    std::fprintf(stderr,
                 "groups: %zu group trainers need more than --group-memory %.2f MiB in pass 2: "
                 "pass 2 runs in %zu batches (the window is pulled once more for each after "
                 "the first)\n",
                 groups_.size(), static_cast<double>(memory_bytes_) / 1048576.0, batches_);
  }
}

bool GroupTrainers::NextBatch() {
  if (batch_ + 1 >= batches_) return false;
  ++batch_;
  return true;
}

size_t GroupTrainers::MemoryBytes() const {
  size_t bytes = 0;
  for (const auto& [key, g] : groups_) bytes += g->trainer ? g->trainer->MemoryBytes() : 0;
  return bytes;
}

namespace {

Status InstallGroup(const DetectorConfig& det, const std::string& models_dir, uint64_t hash,
                    const Model& model) {
  const std::string bytes = EncodeBundle(model);
  const std::string report =
      ModelToJson(model, false).dump(1, ' ', false, nlohmann::json::error_handler_t::replace);
  BundleStore store = BundleStore::ForGroup(models_dir, det.name, hash);
  // A group's model goes live at once: promotion (manual, gate) compares the pooled model.
  return store.Install(model.model_version, model.info.created_ms, bytes, report, det.keep_versions,
                       nullptr);
}

}  // namespace

void GroupTrainers::InstallBatch(const std::string& models_dir) {
  const auto t0 = std::chrono::steady_clock::now();
  auto last = t0;
  for (auto it = groups_.begin(); it != groups_.end();) {
    Group& g = *it->second;
    if (g.batch != batch_) {
      ++it;
      continue;
    }
    auto model = g.trainer->Finish();
    g.trainer.reset();  // the rows it held are not needed any more
    Status s = model.status();
    if (model.ok()) {
      for (const auto& [name, value] : g.labels) model->group.labels.emplace_back(name, value);
      model->group.hash = BundleStore::GroupDirName(g.hash);
      s = InstallGroup(det_, models_dir, g.hash, *model);
    }
    if (!s.ok()) {
      std::fprintf(stderr, "group %s: %s; the pooled model scores it\n", it->first.c_str(),
                   s.ToString().c_str());
      ++summary_.failed;
    } else {
      ++summary_.trained;
    }
    const auto now = std::chrono::steady_clock::now();
    if (!quiet_ && (++installed_ % 1000 == 0 || now - last > std::chrono::seconds(10))) {
      last = now;
      std::fprintf(stderr, "groups: %zu of %zu installed (batch %zu of %zu)\n", installed_,
                   to_install_, batch_ + 1, batches_);
    }
    it = groups_.erase(it);
  }
}

GroupTrainSummary GroupTrainers::Summary(const std::string& models_dir) {
  summary_.other_shards = 0;
  for (const auto& [key, mine] : seen_) summary_.other_shards += mine ? 0 : 1;
  if (!quiet_) {
    std::printf(
        "group models      %zu trained, %zu fell back (too few rows, under min_rows %lld)"
        ", %zu failed, %zu on other shards\n",
        summary_.trained, summary_.too_few_rows, static_cast<long long>(det_.min_rows),
        summary_.failed, summary_.other_shards);
    std::printf("group store       %s/%s/groups/<group hash>/\n", models_dir.c_str(),
                det_.name.c_str());
  }
  return summary_;
}

}  // namespace isoscope::native
