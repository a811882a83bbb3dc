// Hand-built forests with path lengths worked out from sklearn's formula
// h = (nodes on path) + c(n_leaf) - 1, score = 2^(-mean h / c(psi)).
#include "isoscope/detail/forest_scorer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "isoscope/iforest.h"

namespace isoscope {
namespace {

Tree Stump(double threshold, int32_t n_left, int32_t n_right) {
  Tree t;
  t.features = {0};
  t.children_left = {1, -1, -1};
  t.children_right = {2, -1, -1};
  t.feature = {0, -2, -2};
  t.threshold = {threshold, -2.0, -2.0};
  t.n_node_samples = {n_left + n_right, n_left, n_right};
  return t;
}

Forest OneFeatureForest(std::vector<Tree> trees, int32_t psi) {
  Forest f;
  f.n_features = 1;
  f.max_features = 1;
  f.max_samples = psi;
  f.trees = std::move(trees);
  BakePathLengths(f);
  return f;
}

TEST(AveragePathLength, KnownValues) {
  EXPECT_EQ(AveragePathLength(0), 0.0);
  EXPECT_EQ(AveragePathLength(1), 0.0);
  EXPECT_EQ(AveragePathLength(2), 1.0);
  EXPECT_NEAR(AveragePathLength(3), 1.207392357589623, 1e-15);
  EXPECT_NEAR(AveragePathLength(256), 10.244770920119917, 1e-14);
}

TEST(ForestScorer, ComparesFloat32InputsAgainstFloat64Thresholds) {
  // sklearn casts x to float32 first: float32(x) = -3.2787840366... > threshold, so the row
  // goes RIGHT although x itself is <= the threshold in double.
  const double thr = -3.2787841494309173;
  auto s = ForestScorer::Compile(OneFeatureForest({Stump(thr, 1, 3)}, 4));
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  const float x = static_cast<float>(-3.2787841526382797);
  const double right = (2.0 + AveragePathLength(3)) - 1.0;
  EXPECT_EQ(s->PathSum(&x), right);
  const float below = static_cast<float>(-3.3);
  EXPECT_EQ(s->PathSum(&below), 1.0);  // left leaf, n = 1: h = 2 + 0 - 1
}

TEST(ForestScorer, EqualToThresholdGoesLeft) {
  auto s = ForestScorer::Compile(OneFeatureForest({Stump(0.5, 1, 3)}, 4));
  ASSERT_TRUE(s.ok());
  const float x = 0.5f;
  EXPECT_EQ(s->PathSum(&x), 1.0);
}

TEST(ForestScorer, TwoRowSplitsArePrunedWithoutChangingScores) {
  Tree t;
  t.features = {0};
  t.children_left = {1, 2, -1, -1, -1};
  t.children_right = {4, 3, -1, -1, -1};
  t.feature = {0, 0, -2, -2, -2};
  t.threshold = {10.0, 5.0, -2.0, -2.0, -2.0};
  t.n_node_samples = {4, 2, 1, 1, 2};
  auto s = ForestScorer::Compile(OneFeatureForest({t}, 4));
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->node_count(), 3u);
  for (float x : {1.0f, 7.0f}) {
    EXPECT_EQ(s->PathSum(&x), 2.0) << x;  // (2 + 1) + c(1) - 1 in sklearn's unpruned tree
  }
  const float far = 20.0f;
  EXPECT_EQ(s->PathSum(&far), (2.0 + 1.0) - 1.0);  // leaf of 2 at depth 1: 2 + c(2) - 1
}

TEST(ForestScorer, SumsTreesInOrderAcrossGroupsAndBatches) {
  std::vector<Tree> trees;
  for (int i = 0; i < 19; ++i) {  // two groups of 8 plus 3 single trees
    trees.push_back(Stump(0.1 * i, 1 + i % 4, 3 + i % 5));
  }
  auto s = ForestScorer::Compile(OneFeatureForest(trees, 256));
  ASSERT_TRUE(s.ok());
  std::vector<float> rows;
  for (int r = 0; r < 37; ++r) {
    rows.push_back(0.05f * static_cast<float>(r));
  }
  std::vector<double> batch(rows.size());
  s->PathSums(rows.data(), rows.size(), batch.data());
  for (size_t r = 0; r < rows.size(); ++r) {
    double expected = 0.0;
    for (const Tree& t : trees) {
      const bool left = static_cast<double>(rows[r]) <= t.threshold[0];
      expected += (2.0 + AveragePathLength(t.n_node_samples[left ? 1 : 2])) - 1.0;
    }
    EXPECT_EQ(s->PathSum(&rows[r]), expected) << r;
    EXPECT_EQ(batch[r], expected) << r;
  }
  const double c = AveragePathLength(256);
  EXPECT_EQ(s->AnomalyScore(19 * c), 0.5);
  EXPECT_EQ(s->AnomalyScore(0.0), 1.0);
}

TEST(ForestScorer, SingleSampleForestScoresOneHalf) {
  Tree leaf;
  leaf.features = {0};
  leaf.children_left = {-1};
  leaf.children_right = {-1};
  leaf.feature = {-2};
  leaf.threshold = {-2.0};
  leaf.n_node_samples = {1};
  auto s = ForestScorer::Compile(OneFeatureForest({leaf, leaf}, 1));
  ASSERT_TRUE(s.ok());
  const float x = 3.0f;
  EXPECT_EQ(s->AnomalyScore(s->PathSum(&x)), 0.5);
}

TEST(ForestScorer, FeatureSubsetsIndexTheOriginalColumns) {
  Tree t = Stump(1.0, 1, 1);
  t.features = {2};  // the tree saw only column 2 of 3
  Forest f = OneFeatureForest({t}, 2);
  f.n_features = 3;
  BakePathLengths(f);
  auto s = ForestScorer::Compile(f);
  ASSERT_TRUE(s.ok());
  const float row_left[3] = {9, 9, 0};
  const float row_right[3] = {0, 0, 9};
  EXPECT_EQ(s->PathSum(row_left), s->PathSum(row_right));  // both leaves hold 1 row
  Tree u = Stump(1.0, 1, 3);
  u.features = {2};
  f.trees = {u};
  f.max_samples = 4;
  BakePathLengths(f);
  auto s2 = ForestScorer::Compile(f);
  ASSERT_TRUE(s2.ok());
  EXPECT_EQ(s2->PathSum(row_left), 1.0);
  EXPECT_EQ(s2->PathSum(row_right), (2.0 + AveragePathLength(3)) - 1.0);
}

TEST(ForestScorer, RejectsMalformedForests) {
  Tree t = Stump(0.5, 1, 3);
  t.children_right[0] = 7;  // out of range
  EXPECT_EQ(ForestScorer::Compile(OneFeatureForest({t}, 4)).status().code(), ErrorCode::kCorrupt);
  Tree cyc = Stump(0.5, 1, 3);
  cyc.children_left[0] = 0;  // a cycle
  EXPECT_FALSE(ForestScorer::Compile(OneFeatureForest({cyc}, 4)).ok());
  Tree nanthr = Stump(std::nan(""), 1, 3);
  EXPECT_FALSE(ForestScorer::Compile(OneFeatureForest({nanthr}, 4)).ok());
  Tree badfeat = Stump(0.5, 1, 3);
  badfeat.features = {4};
  EXPECT_FALSE(ForestScorer::Compile(OneFeatureForest({badfeat}, 4)).ok());
}

}  // namespace
}  // namespace isoscope

namespace isoscope {
namespace {

// scikit-learn's definition, walked on the forest's own arrays in float64: a row goes left
// when its value (float32, widened) is <= the threshold; a tree adds (nodes on the path) +
// c(n_leaf) - 1; trees are added in order. No scoring layout involved.
double BruteForcePathSum(const Forest& f, const float* row) {
  double sum = 0.0;
  for (const Tree& t : f.trees) {
    int32_t node = 0;
    int32_t depth = 0;
    while (t.children_left[static_cast<size_t>(node)] != -1) {
      const auto n = static_cast<size_t>(node);
      const int32_t column = t.features[static_cast<size_t>(t.feature[n])];
      const bool left = static_cast<double>(row[column]) <= t.threshold[n];
      node = left ? t.children_left[n] : t.children_right[n];
      ++depth;
    }
    sum += (static_cast<double>(depth + 1) +
            AveragePathLength(t.n_node_samples[static_cast<size_t>(node)])) -
           1.0;
  }
  return sum;
}

bool CpuHasAvx2() {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  return __builtin_cpu_supports("avx2");
#else
  return false;
#endif
}

std::vector<float> RandomRows(size_t n, size_t d, uint32_t seed) {
  std::vector<float> x(n * d);
  uint32_t s = seed;
  for (float& v : x) {
    s = s * 1664525u + 1013904223u;
    v = static_cast<float>(s >> 8) / 65536.0f;  // 0 to 256, many distinct values
  }
  return x;
}

// n rows of d columns, each value a split threshold of its column somewhere in the forest,
// rounded down to float32 as the scorer stores it (a column no tree splits on gets 0).
std::vector<float> RowsOnThresholds(const Forest& f, size_t n, size_t d, uint32_t seed) {
  std::vector<std::vector<float>> by_column(d);
  for (const Tree& t : f.trees) {
    for (size_t k = 0; k < t.children_left.size(); ++k) {
      if (t.children_left[k] == -1) continue;
      float v = static_cast<float>(t.threshold[k]);
      if (static_cast<double>(v) > t.threshold[k]) {
        v = std::nextafter(v, -std::numeric_limits<float>::infinity());
      }
      by_column[static_cast<size_t>(t.features[static_cast<size_t>(t.feature[k])])].push_back(v);
    }
  }
  std::vector<float> x(n * d, 0.0f);
  uint32_t s = seed;
  for (size_t i = 0; i < x.size(); ++i) {
    const std::vector<float>& pick = by_column[i % d];
    s = s * 1664525u + 1013904223u;
    if (!pick.empty()) x[i] = pick[(s >> 8) % pick.size()];
  }
  return x;
}

// Every walk (the portable one, the AVX-512 ones where this CPU has it: 16 trees a vector for one
// row and, on any vendor's CPU, 16 rows a vector for batches; and the AVX2 one, for one
// row and row by row for batches, where it has AVX2, AVX-512 or not) against the
// definition, bit for bit: tree counts that leave partial groups of 16 and 64, widths on both
// sides of the one-row walk's 16-column limit and of the batch walk's 8 (masked loads up to 8
// columns, gathers above), batches that leave a partial block of 64, and
// infinities. (NaN never reaches a walk: ModelScorer refuses such rows, as scikit-learn does.)
TEST(ForestScorer, EveryWalkEqualsTheDefinitionBitForBit) {
  struct Case {
    size_t d;
    int32_t trees;
    size_t rows;
    int64_t max_samples = 256;  // 3 to 12: trees that end in leaves within the one-row walks'
                                // top table (the first three levels on AVX-512, four on AVX2)
  };
  for (Case c : {Case{1, 7, 65}, Case{5, 200, 200}, Case{16, 67, 129}, Case{17, 33, 64},
                 Case{40, 16, 63}, Case{3, 1, 1}, Case{8, 70, 130}, Case{9, 20, 64},
                 Case{5, 40, 70, 3}, Case{4, 33, 65, 4}, Case{6, 50, 64, 6}, Case{5, 41, 70, 12},
                 // the one-row walks' passes (AVX-512: 7 groups of 16; AVX2: 200 trees in 5
                 // passes of 5 octets, 250 in 7 passes of 4 or 5)
                 Case{2, 112, 20}, Case{5, 250, 40}}) {
    const std::vector<float> train = RandomRows(300, c.d, 7);
    IForestParams params;
    params.n_estimators = c.trees;
    params.random_state = 42;
    params.max_samples = MaxSamples::Count(c.max_samples);
    auto forest = FitForest(train.data(), 300, c.d, params);
    ASSERT_TRUE(forest.ok()) << forest.status().message();
    std::vector<float> rows = RandomRows(c.rows, c.d, 11);
    if (rows.size() > c.d + 1) {
      rows[c.d] = std::numeric_limits<float>::infinity();
      rows[c.d + 1] = -std::numeric_limits<float>::infinity();
    }
    // As many rows again whose values sit exactly on split thresholds (float32 ones, as the
    // walks compare), so that "equal goes left" is decided at every level of many trees.
    const std::vector<float> on = RowsOnThresholds(*forest, c.rows, c.d, 13);
    rows.insert(rows.end(), on.begin(), on.end());
    c.rows *= 2;
    for (const auto walk : {ForestScorer::Walk::kScalar, ForestScorer::Walk::kFastest,
                            ForestScorer::Walk::kAvx2, ForestScorer::Walk::kWideBatch}) {
      auto s = ForestScorer::Compile(*forest, walk);
      ASSERT_TRUE(s.ok());
      if (walk == ForestScorer::Walk::kAvx2) {
        ASSERT_EQ(s->avx2(), CpuHasAvx2());  // the AVX2 walk runs wherever the CPU has it
      }
      if (walk == ForestScorer::Walk::kWideBatch) {
        // the 16-row batch walk runs on every AVX-512 CPU, whichever walk kFastest prefers
        ASSERT_EQ(s->wide_batch(), s->wide());
      }
      std::vector<double> batch(c.rows);
      s->PathSums(rows.data(), c.rows, batch.data());
      for (size_t r = 0; r < c.rows; ++r) {
        const double expected = BruteForcePathSum(*forest, rows.data() + r * c.d);
        ASSERT_EQ(s->PathSum(rows.data() + r * c.d), expected)
            << "d " << c.d << " row " << r << " wide " << s->wide() << " avx2 " << s->avx2();
        ASSERT_EQ(batch[r], expected) << "d " << c.d << " row " << r << " wide " << s->wide();
      }
    }
  }
}

}  // namespace
}  // namespace isoscope
