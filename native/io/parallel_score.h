#pragma once

// Batch scoring split over the machine's cores (`isoscope score`, the training-score pass of
// `isoscope train`). Threads live here, never in the core: each thread scores a contiguous,
// fixed range of rows with the core's ModelScorer, so the scores are the single-threaded ones
// bit for bit (a row's path sum does not depend on its neighbours).

#include <cstddef>
#include <functional>
#include <vector>

#include "isoscope/calibration.h"
#include "isoscope/model.h"

namespace isoscope::native {

/// Worker count for n rows: `threads` (0: hardware_concurrency, capped at 8), fewer when
/// there are too few rows for a thread to pay for itself (one worker per 4,096 rows).
unsigned ScoreWorkers(size_t n, unsigned threads = 0);

/// Runs fn(range, first, count) over [0, n) cut into `workers` fixed, contiguous ranges, one a
/// thread (the calling thread takes range 0): which thread does which rows never depends on
/// timing, and `range` (0 to workers - 1) says where a range's results go.
void ForEachRange(size_t n, unsigned workers,
                  const std::function<void(size_t, size_t, size_t)>& fn);

/// The calibrated surprise and the onset of each anomaly score, in row order: what
/// SurpriseStream::Push and onset() give row by row, bit for bit, with the costly
/// GaussianSurprise of each row spread over ScoreWorkers(n, threads) threads.
struct SurpriseColumns {
  std::vector<double> surprise, onset;
};
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

/// The training options' for_ranges hook: [0, n) cut into min(threads, n) fixed ranges, one a
/// thread (`threads` 0: as ScoreWorkers), for the fit's trees and the training scores' sort.
ForRangesFn ParallelRanges(unsigned threads = 0);

}  // namespace isoscope::native
