#pragma once

// `model: per: group` in `train --config`: one StreamTrainer per group of this shard, fed that
// group's rows of every chunk the pooled training pulls (the same two passes), so each group's
// forest is the one TrainModel fits on that group's rows alone. A group with fewer than
// `min_rows` usable rows after pass 1 is dropped (it falls back to the pooled model); the rest
// are installed in models/<detector>/groups/<group hash>/ (BundleStore::ForGroup).

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
  /// the pooled ones.
  GroupTrainers(const DetectorConfig& det, const TrainOptions& base, const Shard& shard,
                bool quiet);
  ~GroupTrainers();

  /// One chunk: each group of this shard gets its rows (in the chunk's order), with their
  /// exclusions (`ex.exclusion_of_row`, indexes into `ex.exclusion_reasons`).
  Status Feed(const JoinedRows& joined, const TrainOptions& ex);
  /// Ends the pass of every group; after pass 1, the groups under min_rows are let go.
  void EndPass();
  /// Fits and installs every group that is left (progress every 1000 groups or 10 s on
  /// stderr), then prints the summary.
  GroupTrainSummary Install(const std::string& models_dir);
  /// Bytes the group trainers hold now.
  size_t MemoryBytes() const;
  size_t size() const { return groups_.size(); }

 private:
  struct Group;
  Group* GroupFor(const JoinedRows& joined, size_t g);
  const DetectorConfig& det_;
  TrainOptions options_;
  Shard shard_;
  bool quiet_;
  int pass_ = 1;
  std::map<std::string, std::unique_ptr<Group>> groups_;  // by group key
  std::map<std::string, bool> seen_;                      // key -> this shard's (pass 1)
  GroupTrainSummary summary_;
};

}  // namespace isoscope::native
