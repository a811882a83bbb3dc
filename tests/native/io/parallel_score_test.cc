#include "parallel_score.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <thread>
#include <vector>

#include "isoscope/bundle.h"
#include "support/small_model.h"

namespace isoscope::native {
namespace {

// Bit for bit: the same doubles, not merely close ones.
bool SameBits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

TEST(ParallelScore, WorkersFollowRowsAndCap) {
  EXPECT_EQ(ScoreWorkers(100, 4), 1u);
  EXPECT_EQ(ScoreWorkers(4096 * 2, 4), 2u);
  EXPECT_EQ(ScoreWorkers(4096 * 100, 4), 4u);
  EXPECT_EQ(ScoreWorkers(4096 * 100, 1), 1u);
  EXPECT_LE(ScoreWorkers(4096 * 100), 8u);
  EXPECT_GE(ScoreWorkers(4096 * 100), 1u);
}

TEST(ParallelScore, EveryThreadCountGivesTheSingleThreadedScores) {
  // 12 weeks at 10 minutes: 12,096 rows, enough for three workers.
  const testing::SmallHistory h = testing::MakeSmallHistory(84);
  auto model = testing::TrainSmallModel(h);
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  auto scorer = ModelScorer::Create(*model);
  ASSERT_TRUE(scorer.ok());
  auto rows =
      BuildFeatureRows(model->spec, h.times.data(), {h.a.data(), h.b.data()}, h.times.size());
  ASSERT_TRUE(rows.ok());
  const std::vector<RowScore> one = scorer->ScoreRows(*rows);
  for (unsigned threads : {1u, 2u, 3u, 7u}) {
    const std::vector<RowScore> many = ParallelScoreRows(*scorer, *rows, threads);
    ASSERT_EQ(many.size(), one.size());
    size_t unscored = 0;
    for (size_t i = 0; i < one.size(); ++i) {
      ASSERT_EQ(many[i].issue, one[i].issue) << i;
      ASSERT_EQ(many[i].column, one[i].column) << i;
      ASSERT_TRUE(SameBits(many[i].anomaly_score, one[i].anomaly_score)) << threads << " " << i;
      ASSERT_TRUE(SameBits(many[i].decision, one[i].decision)) << i;
      ASSERT_EQ(many[i].is_anomaly, one[i].is_anomaly) << i;
      unscored += one[i].ok() ? 0 : 1;
    }
    EXPECT_GT(unscored, 0u);  // the history's NaN rows keep their reason in every range
  }
}

TEST(ParallelScore, TrainingWithTheThreadedPassWritesTheSameBundle) {
  const testing::SmallHistory h = testing::MakeSmallHistory(84);
  auto single = testing::TrainSmallModel(h);
  ASSERT_TRUE(single.ok());
  FeatureSpec spec = single->spec;
  TrainOptions options;
  options.params = single->params;
  options.contamination_explicit = true;
  options.created_ms = h.times.back();
  for (unsigned threads : {2u, 3u, 7u}) {
    options.score_dense = ParallelDenseScorer(threads);
    options.for_ranges = ParallelRanges(threads);  // the trees and the sort split too
    auto threaded =
        TrainModel(spec, h.times.data(), {h.a.data(), h.b.data()}, h.times.size(), options);
    ASSERT_TRUE(threaded.ok()) << threaded.status().ToString();
    // Forest, offset, quantile table, calibration, canaries and model version: the bundles
    // are equal byte for byte.
    EXPECT_TRUE(SameBits(threaded->offset, single->offset)) << threads;
    EXPECT_EQ(threaded->model_version, single->model_version) << threads;
    EXPECT_EQ(EncodeBundle(*threaded), EncodeBundle(*single)) << threads;
  }
}

TEST(ParallelRanges, CoversEveryIndexOnceWhateverTheCount) {
  for (unsigned threads : {1u, 2u, 3u, 8u}) {
    for (size_t n : {size_t{0}, size_t{1}, size_t{5}, size_t{200}}) {
      std::vector<std::atomic<int>> seen(n);
      ParallelRanges(threads)(n, [&](size_t first, size_t count) {
        for (size_t i = first; i < first + count; ++i) ++seen[i];
      });
      for (size_t i = 0; i < n; ++i) ASSERT_EQ(seen[i].load(), 1) << threads << " " << n;
    }
  }
}

TEST(ParallelScore, AWrongRowCountFromTheHookIsAnInternalError) {
  const testing::SmallHistory h = testing::MakeSmallHistory();
  TrainOptions options;
  options.params.n_estimators = 5;
  options.params.contamination = Contamination::Fraction(0.05);
  options.score_dense = [](const ModelScorer&, const double*, size_t) {
    return std::vector<RowScore>(1);
  };
  FeatureSpec spec;
  spec.inputs = {"latency", "errors"};
  spec.derived.clear();
  auto m = TrainModel(spec, nullptr, {h.a.data(), h.b.data()}, h.times.size(), options);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), ErrorCode::kInternal);
}

TEST(ParallelSurprise, EveryThreadCountGivesTheStreamsBitsRowByRow) {
  const ScoreCalibration c = CalibrateScores({0.41, 0.43, 0.47, 0.52});
  std::vector<double> scores;
  for (int i = 0; i < 20000; ++i) {  // enough rows for several workers; NaN rows among them
    scores.push_back(i % 101 == 7 ? std::nan("") : 0.4 + 0.3 * std::fabs(std::sin(i * 0.37)));
  }
  SurpriseStream stream(c);
  std::vector<double> surprise, onset;
  for (double s : scores) {
    surprise.push_back(stream.Push(s));
    onset.push_back(stream.onset());
  }
  for (unsigned threads : {1u, 2u, 3u, 7u}) {
    const SurpriseColumns got = ParallelSurprise(c, scores, threads);
    ASSERT_EQ(got.surprise.size(), scores.size());
    ASSERT_EQ(got.onset.size(), scores.size());
    for (size_t i = 0; i < scores.size(); ++i) {
      ASSERT_TRUE(SameBits(got.surprise[i], surprise[i])) << threads << " " << i;
      ASSERT_TRUE(SameBits(got.onset[i], onset[i])) << threads << " " << i;
    }
  }
}

TEST(ForEachChunk, CoversEveryIndexOnceInFixedChunks) {
  for (unsigned workers : {1u, 2u, 3u, 8u}) {
    for (size_t chunk : {size_t{1}, size_t{64}, size_t{999}, size_t{5000}}) {
      std::vector<std::atomic<int>> seen(1000);
      std::vector<std::atomic<int>> chunk_runs(ChunkCount(seen.size(), chunk));
      ForEachChunk(seen.size(), chunk, workers, [&](size_t index, size_t first, size_t count) {
        // Chunk `index` is [index * chunk, +chunk), cut short only at the end.
        EXPECT_EQ(first, index * chunk);
        EXPECT_EQ(count, std::min(chunk, seen.size() - first));
        ++chunk_runs[index];
        for (size_t i = first; i < first + count; ++i) ++seen[i];
      });
      for (size_t i = 0; i < seen.size(); ++i) ASSERT_EQ(seen[i].load(), 1) << workers;
      for (auto& runs : chunk_runs) ASSERT_EQ(runs.load(), 1) << workers << " " << chunk;
    }
  }
  size_t calls = 0;
  ForEachChunk(0, 64, 4, [&](size_t, size_t, size_t) { ++calls; });
  EXPECT_EQ(calls, 0u);  // nothing to do: no call
  EXPECT_EQ(ChunkCount(4096 * 3 + 1, kChunkRows), 4u);
}

// ReleaseAside takes the value whole and frees it on a thread of its own: the caller's
// variable is left empty at once, and the memory goes before the future is ready.
TEST(ReleaseAside, FreesTheValueOnAnotherThreadBeforeTheFutureIsReady) {
  struct Recorder {
    std::thread::id* freed_on;
    ~Recorder() { *freed_on = std::this_thread::get_id(); }
  };
  std::thread::id freed_on;
  std::vector<std::unique_ptr<Recorder>> held;
  held.emplace_back(new Recorder{&freed_on});
  std::vector<double> big(1 << 20, 1.0);
  EXPECT_EQ(freed_on, std::thread::id());
  auto released = ReleaseAside(std::move(held));
  auto big_released = ReleaseAside(std::move(big));
  EXPECT_TRUE(held.empty());
  EXPECT_TRUE(big.empty());
  released.get();
  big_released.get();
  EXPECT_NE(freed_on, std::thread::id());
  EXPECT_NE(freed_on, std::this_thread::get_id());
}

}  // namespace
}  // namespace isoscope::native
