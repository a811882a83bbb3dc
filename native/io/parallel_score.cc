#include "parallel_score.h"

#include <algorithm>
#include <atomic>
#include <thread>

namespace isoscope::native {

namespace {

// `threads`, or for 0 the machine's (more than 8 gains little for a few hundred thousand rows
// and costs start-up).
unsigned Threads(unsigned threads) {
  constexpr unsigned kMaxThreads = 8;
  return threads != 0 ? threads
                      : std::min(kMaxThreads, std::max(1u, std::thread::hardware_concurrency()));
}

}  // namespace

unsigned ScoreWorkers(size_t n, unsigned threads) {
  // About 1 us a row: below 4,096 rows (4 ms) a thread's start-up is a noticeable share.
  constexpr size_t kRowsPerWorker = 4096;
  const size_t by_rows = std::max<size_t>(1, n / kRowsPerWorker);
  return static_cast<unsigned>(std::min<size_t>(Threads(threads), by_rows));
}

size_t ChunkCount(size_t n, size_t chunk) { return (n + chunk - 1) / std::max<size_t>(1, chunk); }

void ForEachChunk(size_t n, size_t chunk, unsigned workers,
                  const std::function<void(size_t, size_t, size_t)>& fn) {
  chunk = std::max<size_t>(1, chunk);
  const size_t chunks = ChunkCount(n, chunk);
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t c = next++; c < chunks; c = next++)
      fn(c, c * chunk, std::min(chunk, n - c * chunk));
  };
  std::vector<std::thread> pool;
  for (size_t w = 1; w < std::min<size_t>(workers, chunks); ++w) pool.emplace_back(work);
  work();
  for (std::thread& t : pool) t.join();
}

SurpriseColumns ParallelSurprise(const ScoreCalibration& calibration,
                                 const std::vector<double>& anomaly_scores, unsigned threads) {
  const size_t n = anomaly_scores.size();
  const unsigned workers = ScoreWorkers(n, threads);
  SurpriseStream stream(calibration);
  SurpriseColumns out;
  out.surprise.resize(n);
  out.onset.resize(n);  // each row's histogram level until the last pass
  // The histogram's levels row by row, the longest part that must run in order, on a copy of
  // the stream and a thread of its own; meanwhile the reference's z row by row (cheap) and
  // the Gaussian tail of each z (the costly part, each row on its own) on the other threads.
  SurpriseStream histogram = stream;
  auto levels = [&] {
    for (size_t i = 0; i < n; ++i) out.onset[i] = histogram.AdvanceTail(anomaly_scores[i]);
  };
  std::thread level_thread;
  if (workers > 1) {
    level_thread = std::thread(levels);
  } else {
    levels();
  }
  for (size_t i = 0; i < n; ++i) out.surprise[i] = stream.AdvanceReference(anomaly_scores[i]);
  ForEachChunk(n, kChunkRows, std::max(1u, workers - 1), [&](size_t, size_t first, size_t count) {
    for (size_t i = first; i < first + count; ++i)
      out.surprise[i] = GaussianSurprise(out.surprise[i]);
  });
  if (level_thread.joinable()) level_thread.join();
  // The onset row by row from each level and surprise.
  for (size_t i = 0; i < n; ++i) {
    stream.AdvanceOnsetLevel(out.onset[i], out.surprise[i]);
    out.onset[i] = stream.onset();
  }
  return out;
}

std::vector<RowScore> ParallelScoreDense(const ModelScorer& scorer, const double* values,
                                         const RowProblem* problems, size_t n, unsigned threads) {
  const unsigned workers = ScoreWorkers(n, threads);
  if (workers <= 1) {
    return scorer.ScoreDense(values, problems, n);
  }
  const size_t width = scorer.width();
  std::vector<RowScore> out(n);
  ForEachChunk(n, kChunkRows, workers, [&](size_t, size_t first, size_t count) {
    const std::vector<RowScore> part = scorer.ScoreDense(
        values + first * width, problems != nullptr ? problems + first : nullptr, count);
    std::copy(part.begin(), part.end(), out.begin() + static_cast<std::ptrdiff_t>(first));
  });
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

ForRangesFn ParallelRanges(unsigned threads) {
  return [threads](size_t n, const std::function<void(size_t, size_t)>& fn) {
    const unsigned workers = Threads(threads);
    const size_t chunk = ChunkCount(n, 4 * size_t{workers});  // four chunks a thread
    ForEachChunk(n, chunk, workers,
                 [&fn](size_t, size_t first, size_t count) { fn(first, count); });
  };
}

}  // namespace isoscope::native
