#include "parallel_score.h"

#include <algorithm>
#include <atomic>
#include <thread>

#include "worker_pool.h"

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
  RunOnWorkers(static_cast<unsigned>(std::min<size_t>(workers, chunks)),
               [&work](unsigned) { work(); });
}

SurpriseSteps::SurpriseSteps(const ScoreCalibration& calibration,
                             const std::vector<double>& anomaly_scores, size_t chunk_rows)
    : scores_(anomaly_scores),
      chunk_rows_(std::max<size_t>(1, chunk_rows)),
      reference_(calibration),
      histogram_(calibration),
      onset_(calibration) {
  out_.surprise.resize(scores_.size());
  out_.onset.resize(scores_.size());
}

ChunkPipeline::StepId SurpriseSteps::AddTo(ChunkPipeline& pipeline,
                                           std::vector<ChunkPipeline::StepId> scored) {
  using Order = ChunkPipeline::Order;
  // The reference's z row by row (cheap), then its Gaussian tail (the costly part, each row on
  // its own); beside them the histogram's levels row by row, the longest part that must run
  // in order, on a stream of its own.
  const auto z = pipeline.Add(
      [this](size_t c) {
        for (size_t i = First(c); i < End(c); ++i)
          out_.surprise[i] = reference_.AdvanceReference(scores_[i]);
      },
      Order::kInOrder, scored);
  const auto tail = pipeline.Add(
      [this](size_t c) {
        for (size_t i = First(c); i < End(c); ++i)
          out_.onset[i] = histogram_.AdvanceTail(scores_[i]);
      },
      Order::kInOrder, scored);
  const auto gaussian = pipeline.Add(
      [this](size_t c) {
        double* z = out_.surprise.data() + First(c);
        GaussianSurprises(z, End(c) - First(c), z);
      },
      Order::kAnyOrder, {z});
  // The onset row by row from each level and surprise.
  return pipeline.Add(
      [this](size_t c) {
        for (size_t i = First(c); i < End(c); ++i) {
          onset_.AdvanceOnsetLevel(out_.onset[i], out_.surprise[i]);
          out_.onset[i] = onset_.onset();
        }
      },
      Order::kInOrder, {tail, gaussian});
}

SurpriseColumns ParallelSurprise(const ScoreCalibration& calibration,
                                 const std::vector<double>& anomaly_scores, unsigned threads) {
  const size_t n = anomaly_scores.size();
  SurpriseSteps steps(calibration, anomaly_scores, kChunkRows);
  ChunkPipeline pipeline(ChunkCount(n, kChunkRows));
  steps.AddTo(pipeline, {});
  pipeline.Run(ScoreWorkers(n, threads));
  return steps.Take();
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
