#pragma once

// Batch scoring split over the machine's cores (`isoscope score`, the training-score pass of
// `isoscope train`). Threads live here, never in the core: the rows are cut into fixed chunks,
// each scored with the core's ModelScorer by whichever thread takes it, so the scores are the
// single-threaded ones bit for bit (a row's path sum does not depend on its neighbours).

#include <algorithm>
#include <cstddef>
#include <functional>
#include <future>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

#include "chunk_pipeline.h"
#include "isoscope/calibration.h"
#include "isoscope/model.h"

namespace isoscope::native {

/// Worker count for n rows: `threads` (0: hardware_concurrency, capped at 8), fewer when
/// there are too few rows for a thread to pay for itself (one worker per 4,096 rows).
unsigned ScoreWorkers(size_t n, unsigned threads = 0);

/// Rows a chunk: about 4 ms of scoring at 1 us a row, few enough that a core which runs slower
/// for a while (a busy neighbour on a shared host) leaves its last chunks to the others.
constexpr size_t kChunkRows = 4096;

/// The chunk count ForEachChunk cuts n items into.
size_t ChunkCount(size_t n, size_t chunk);

/// Runs fn(index, first, count) on [0, n) cut into chunks of `chunk` items (the last may be
/// shorter), on up to `workers` threads (the calling thread one of them), each taking the next
/// chunk no thread has taken yet. Which items a chunk holds never depends on timing, only
/// which thread runs it: results placed by `index` (0 to ChunkCount - 1) or by item come out
/// the same on any number of threads.
void ForEachChunk(size_t n, size_t chunk, unsigned workers,
                  const std::function<void(size_t, size_t, size_t)>& fn);

/// The calibrated surprise and the onset of each anomaly score, in row order: what
/// SurpriseStream::Push and onset() give row by row, bit for bit.
struct SurpriseColumns {
  std::vector<double> surprise, onset;
};

/// SurpriseColumns as steps of a ChunkPipeline whose chunk c is rows [c * chunk_rows, +chunk_rows)
/// of `anomaly_scores` (NaN for a row without a score), so that they run beside the steps that
/// fill those scores and the steps that print them. The parts that carry the stream from row to
/// row (the reference's z, the histogram's levels, the onset) run in order, side by side on
/// copies of the stream; the costly Gaussian tail of each z runs in any order.
class SurpriseSteps {
 public:
  /// `anomaly_scores` is read as the steps run: it must hold n rows, filled chunk by chunk.
  SurpriseSteps(const ScoreCalibration& calibration, const std::vector<double>& anomaly_scores,
                size_t chunk_rows);
  /// Adds the steps, each chunk's first after every step of `scored` has finished the chunk.
  /// Returns the step after which the chunk's rows of columns() are final.
  ChunkPipeline::StepId AddTo(ChunkPipeline& pipeline, std::vector<ChunkPipeline::StepId> scored);
  const SurpriseColumns& columns() const { return out_; }
  SurpriseColumns Take() { return std::move(out_); }

 private:
  // Rows [first, end) of chunk c.
  size_t First(size_t c) const { return c * chunk_rows_; }
  size_t End(size_t c) const { return std::min(scores_.size(), (c + 1) * chunk_rows_); }
  const std::vector<double>& scores_;
  size_t chunk_rows_;
  // One stream a step that runs in order, so that two steps never change one object at once
  // (the reference, the histogram and the onset's window are separate state in each).
  SurpriseStream reference_, histogram_, onset_;
  SurpriseColumns out_;  // out_.onset holds each row's histogram level until the onset step
};

/// SurpriseSteps on their own, on ScoreWorkers(n, threads) threads.
SurpriseColumns ParallelSurprise(const ScoreCalibration& calibration,
                                 const std::vector<double>& anomaly_scores, unsigned threads = 0);

/// ModelScorer::ScoreDense over n row-major rows, split over ScoreWorkers(n, threads) threads.
std::vector<RowScore> ParallelScoreDense(const ModelScorer& scorer, const double* values,
                                         const RowProblem* problems, size_t n,
                                         unsigned threads = 0);

/// ParallelScoreDense of every row of `rows` (ModelScorer::ScoreRows on several cores).
std::vector<RowScore> ParallelScoreRows(const ModelScorer& scorer, const FeatureRows& rows,
                                        unsigned threads = 0);

/// The training options' score_dense hook: the training-score pass on several cores.
DenseScoreFn ParallelDenseScorer(unsigned threads = 0);

/// The training options' for_ranges hook, for the fit's trees and the training scores' sort:
/// [0, n) cut into four chunks a thread (`threads` 0: as ScoreWorkers), by ForEachChunk.
ForRangesFn ParallelRanges(unsigned threads = 0);

/// Takes `value` and frees its memory on a thread of its own: the kernel unmaps a big buffer
/// page by page (about 0.1 ms a megabyte), work a command's serial stretches (the rows'
/// preparation, the output's commit) need not wait for. Wait on the future before `value`'s
/// memory could matter, at the latest before exit.
template <typename T>
std::future<void> ReleaseAside(T&& value) {
  // Taken by value: an lvalue would leave the caller's object in place and free nothing.
  static_assert(!std::is_lvalue_reference_v<T>, "ReleaseAside takes its value: std::move it");
  try {
    return std::async(std::launch::async, [held = std::forward<T>(value)]() mutable {
      const T gone = std::move(held);  // moved out, so it is freed here, not where the future is
    });
  } catch (const std::system_error&) {  // no thread to be had: freed here, on the way out
    std::promise<void> done;
    done.set_value();
    return done.get_future();
  }
}

}  // namespace isoscope::native
