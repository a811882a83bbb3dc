#pragma once

// `model: per: group` in `train --config`: one StreamTrainer per group of this shard, fed that
// group's rows of every chunk the pooled training pulls (the same two passes), so each group's
// forest is the one TrainModel fits on that group's rows alone. Pass 1 holds only sums per
// group; pass 2 holds the rows the trees draw, so it runs in batches of groups that fit in
// --group-memory, each batch pulling the window again (memory bounded, whatever the groups). A
// group with fewer than `min_rows` usable rows after pass 1 is dropped (it falls back to the pooled
// model); the rest are installed in models/<detector>/groups/<group hash>/ (BundleStore::ForGroup).

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "config.h"
#include "isoscope/stream_train.h"
#include "prom_join.h"
#include "shard.h"

namespace isoscope::native {

/// The rows a group's score sample keeps (offset, quantiles, calibration, canaries): a group
/// with at most this many usable rows gets TrainModel's exact model; a longer history gets
/// them from an evenly spaced sample (StreamTrainer). Small, because a shard holds thousands
/// of group trainers at once: 2048 rows x 5 features is 80 KiB a group.
constexpr size_t kGroupScoreSampleRows = 2048;

struct GroupTrainSummary {
  size_t trained = 0;
  size_t too_few_rows = 0;  ///< under min_rows: the pooled model scores them
  size_t failed = 0;        ///< the fit or the install failed (logged; pooled scores them)
  size_t other_shards = 0;  ///< groups another training shard trains
};

class GroupTrainers {
 public:
  /// `base`: the pooled model's options; the group's n_estimators and max_samples replace
  /// the pooled ones. `memory_bytes`: what pass 2's batches may hold (see EndPass; the rows
  /// a group's trees draw and its score sample are ~0.47 MiB at 90 days of 5 features).
  GroupTrainers(const DetectorConfig& det, const TrainOptions& base, const Shard& shard, bool quiet,
                size_t memory_bytes);
  ~GroupTrainers();

  /// One chunk: each group of this shard (in pass 2, of the current batch) gets its rows (in
  /// the chunk's order), with their exclusions (`ex.exclusion_of_row`, indexes into
  /// `ex.exclusion_reasons`).
  Status Feed(const JoinedRows& joined, const TrainOptions& ex);
  /// Ends pass 1 of every group (the groups under min_rows are let go, and the rest cut into
  /// batches whose pass 2 fits in `memory_bytes`, in group-key order), or pass 2 of the
  /// current batch. A batch after the first needs pass 2 pulled again for it.
  void EndPass();
  /// Batches cut at the end of pass 1 (1 before).
  size_t batches() const { return batches_; }
  /// The current batch, from 0.
  size_t batch() const { return batch_; }
  /// Fits and installs the current batch's groups (progress every 1000 groups or 10 s on
  /// stderr) and lets them go.
  void InstallBatch(const std::string& models_dir);
  /// Moves to the next batch (whose pass 2 comes next); false when none is left.
  bool NextBatch();
  /// The counts so far; prints the summary (and where the bundles went) unless quiet.
  GroupTrainSummary Summary(const std::string& models_dir);
  /// Bytes the group trainers hold now.
  size_t MemoryBytes() const;
  /// Groups with a trainer (all batches).
  size_t size() const { return groups_.size(); }

 private:
  struct Group;
  Group* GroupFor(const JoinedRows& joined, size_t g);
  void CutBatches();
  const DetectorConfig& det_;
  TrainOptions options_;
  Shard shard_;
  bool quiet_;
  size_t memory_bytes_;
  int pass_ = 1;
  size_t batches_ = 1;
  size_t batch_ = 0;       // the current batch (pass 2)
  size_t to_install_ = 0;  // groups left after pass 1 (progress)
  size_t installed_ = 0;
  std::map<std::string, std::unique_ptr<Group>> groups_;  // by group key
  std::map<std::string, bool> seen_;                      // key -> this shard's (pass 1)
  GroupTrainSummary summary_;
};

}  // namespace isoscope::native
