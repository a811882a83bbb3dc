#pragma once
// Pooled training over more rows than memory holds, with TrainModel's result.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "isoscope/model.h"

namespace isoscope {

/// A piece of the training rows. Rows are numbered by the order they are fed in; the rows of
/// all chunks of a pass, concatenated, are what TrainModel would be given.
struct TrainChunk {
  const TimeMs* times = nullptr;      ///< n times, or null without time features
  std::vector<const double*> series;  ///< per spec input, n values (NaN = missing)
  size_t n = 0;
  const int32_t* group_of_row = nullptr;      ///< group ids, stable across chunks; null: one
  const int32_t* exclusion_of_row = nullptr;  ///< -1 or an index into the reasons
  /// The reasons exclusion_of_row indexes; null: TrainOptions::exclusion_reasons.
  const std::vector<std::string>* exclusion_reasons = nullptr;
};

/// The evenly spaced training rows behind offset, quantile table, calibration, flagged
/// fraction and canaries when the rows exceed it: row floor(j * n / k) for j < k.
constexpr size_t kDefaultScoreSampleRows = 200000;

/// Trains the model TrainModel trains on the concatenated chunks, holding only what the fit
/// needs: the rows are fed twice, in the same order (pass 1 counts the usable rows and sums
/// the scaler's columns; the forest's rows are then drawn from that count alone; pass 2 adds
/// the scaler's second sums and keeps the drawn rows and the score sample). The scaler and
/// forest are bit-identical to TrainModel's; offset, quantiles, calibration and canaries are
/// too when the usable rows are at most `score_sample_rows`, otherwise they come from the
/// evenly spaced sample (the contamination offset is then that sample's percentile, and the
/// report says so). Memory: the drawn rows (n_estimators * max_samples at most), the sample,
/// one FeatureStream per group, one chunk's features.
class StreamTrainer {
 public:
  /// `options` as for TrainModel; its per-row fields (group_of_row, exclusion_of_row) are
  /// ignored: chunks carry them.
  static Result<StreamTrainer> Create(const FeatureSpec& spec, const TrainOptions& options,
                                      size_t score_sample_rows = kDefaultScoreSampleRows);
  StreamTrainer(StreamTrainer&&) noexcept;
  StreamTrainer& operator=(StreamTrainer&&) noexcept;
  ~StreamTrainer();

  /// Feeds rows of the current pass.
  Status Feed(const TrainChunk& chunk);
  /// Ends pass 1 (the usable-row count is then known; the forest's rows are drawn when pass 2
  /// starts) or pass 2; kInvalidArgument if pass 2 did not see the rows pass 1 saw.
  Status EndPass();
  /// 1 or 2 while feeding, 3 when both passes are done.
  int pass() const;
  /// The model, after both passes.
  Result<Model> Finish();
  /// Usable rows counted in pass 1.
  size_t usable_rows() const;
  /// After pass 1: at most the bytes pass 2 adds (the forest's draws and rows, the score
  /// sample), known from the usable-row count alone (the rows are drawn when pass 2 starts).
  size_t PassTwoBytes() const;
  /// Bytes held now: drawn rows, sample, streams (for the memory report).
  size_t MemoryBytes() const;

 private:
  struct Impl;
  explicit StreamTrainer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace isoscope
