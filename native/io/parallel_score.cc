#include "parallel_score.h"

#include <algorithm>
#include <thread>

namespace isoscope::native {

unsigned ScoreWorkers(size_t n, unsigned threads) {
  // More than 8 threads gains little for a few hundred thousand rows and costs start-up.
  constexpr unsigned kMaxThreads = 8;
  // About 1 us a row: below 4,096 rows (4 ms) a thread's start-up is a noticeable share.
  constexpr size_t kRowsPerWorker = 4096;
  if (threads == 0) {
    threads = std::min(kMaxThreads, std::max(1u, std::thread::hardware_concurrency()));
  }
  const size_t by_rows = std::max<size_t>(1, n / kRowsPerWorker);
  return static_cast<unsigned>(std::min<size_t>(threads, by_rows));
}

std::vector<RowScore> ParallelScoreDense(const ModelScorer& scorer, const double* values,
                                         const RowProblem* problems, size_t n, unsigned threads) {
  const unsigned workers = ScoreWorkers(n, threads);
  if (workers <= 1) {
    return scorer.ScoreDense(values, problems, n);
  }
  const size_t width = scorer.width();
  std::vector<RowScore> out(n);
  // Fixed ranges: worker w scores rows [w * block, (w + 1) * block), whatever the timing.
  const size_t block = (n + workers - 1) / workers;
  auto score_range = [&](size_t first) {
    const size_t count = std::min(n, first + block) - first;
    const std::vector<RowScore> part = scorer.ScoreDense(
        values + first * width, problems != nullptr ? problems + first : nullptr, count);
    std::copy(part.begin(), part.end(), out.begin() + static_cast<std::ptrdiff_t>(first));
  };
  std::vector<std::thread> pool;
  for (unsigned w = 1; w < workers; ++w) {
    pool.emplace_back(score_range, w * block);
  }
  score_range(0);  // the calling thread takes the first range
  for (std::thread& t : pool) t.join();
  return out;
}

std::vector<RowScore> ParallelScoreRows(const ModelScorer& scorer, const FeatureRows& rows,
                                        unsigned threads) {
  return ParallelScoreDense(scorer, rows.values.data(), rows.problems.data(), rows.rows, threads);
}

DenseScoreFn ParallelDenseScorer(unsigned threads) {
  return [threads](const ModelScorer& scorer, const double* values, size_t n) {
    return ParallelScoreDense(scorer, values, nullptr, n, threads);
  };
}

}  // namespace isoscope::native
