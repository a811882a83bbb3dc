// Exactness of the attribution: the Shapley values computed here from their definition
// (every subset of features, each tree's conditional expectation by its node counts, the
// Shapley sum), on forests fitted by the project's own trainer, and the local accuracy
// against the SCORER's path length and score.
#include "isoscope/attribution.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>

#include "isoscope/detail/forest_scorer.h"
#include "isoscope/iforest.h"
#include "isoscope/model.h"

namespace isoscope {
namespace {

constexpr double kTol = 1e-12;

// v_t(S) on scikit-learn's own arrays (no pruning): split features in S follow x (float32 x
// against the float64 threshold, <= goes left); the others average both children by count.
double TreeValue(const Tree& t, const float* x, uint32_t subset, size_t node, int depth) {
  const int32_t n = t.n_node_samples[node];
  if (t.children_left[node] == -1) {
    return (static_cast<double>(depth + 1) + AveragePathLength(n)) - 1.0;
  }
  const auto col = static_cast<size_t>(t.features[static_cast<size_t>(t.feature[node])]);
  const auto left = static_cast<size_t>(t.children_left[node]);
  const auto right = static_cast<size_t>(t.children_right[node]);
  if ((subset >> col) & 1u) {
    const bool go_left = static_cast<double>(x[col]) <= t.threshold[node];
    return TreeValue(t, x, subset, go_left ? left : right, depth + 1);
  }
  return (t.n_node_samples[left] * TreeValue(t, x, subset, left, depth + 1) +
          t.n_node_samples[right] * TreeValue(t, x, subset, right, depth + 1)) /
         n;
}

struct BruteForce {
  std::vector<double> phi;
  double baseline = 0;  // v(empty set)
};

// phi_i = sum over S without i of |S|!(M-|S|-1)!/M! (v(S u {i}) - v(S)), v the tree mean.
BruteForce Shapley(const Forest& f, const float* x) {
  const auto m = static_cast<size_t>(f.n_features);
  std::vector<double> v(size_t{1} << m, 0.0);
  for (uint32_t s = 0; s < v.size(); ++s) {
    for (const Tree& t : f.trees) {
      v[s] += TreeValue(t, x, s, 0, 0);
    }
    v[s] /= static_cast<double>(f.trees.size());
  }
  BruteForce out;
  out.baseline = v[0];
  out.phi.assign(m, 0.0);
  for (size_t i = 0; i < m; ++i) {
    for (uint32_t s = 0; s < v.size(); ++s) {
      if ((s >> i) & 1u) {
        continue;
      }
      const int k = __builtin_popcount(s);
      const double w = std::tgamma(k + 1.0) * std::tgamma(static_cast<double>(m) - k) /
                       std::tgamma(static_cast<double>(m) + 1.0);
      out.phi[i] += w * (v[s | (1u << i)] - v[s]);
    }
  }
  return out;
}

// Columns with ties, a constant, skew and a season: the cases the reference note checks.
std::vector<float> MakeData(std::mt19937_64& rng, size_t n, size_t d) {
  std::normal_distribution<double> gauss;
  std::exponential_distribution<double> expo;
  std::uniform_int_distribution<int> level(0, 3);
  std::vector<float> x(n * d);
  for (size_t i = 0; i < n; ++i) {
    for (size_t j = 0; j < d; ++j) {
      double v = 0;
      switch (j % 6) {
        case 0:
          v = gauss(rng);
          break;
        case 1:
          v = 7.0;
          break;  // constant: never split
        case 2:
          v = level(rng);
          break;
        case 3:
          v = std::round(gauss(rng) * 10.0) / 10.0;
          break;
        case 4:
          v = expo(rng);
          break;
        default:
          v = std::sin(0.1 * static_cast<double>(i)) + 0.1 * gauss(rng);
          break;
      }
      x[i * d + j] = static_cast<float>(v);
    }
  }
  return x;
}

// Training rows, fresh rows and rows far outside the data.
std::vector<float> ProbeRows(std::mt19937_64& rng, const std::vector<float>& train, size_t d) {
  std::vector<float> rows(train.begin(), train.begin() + static_cast<std::ptrdiff_t>(6 * d));
  const std::vector<float> fresh = MakeData(rng, 6, d);
  rows.insert(rows.end(), fresh.begin(), fresh.end());
  for (float far : {-40.0f, 55.0f, 0.0f}) {
    for (size_t j = 0; j < d; ++j) {
      rows.push_back(j % 2 ? far : -far * 0.5f + static_cast<float>(j));
    }
  }
  return rows;
}

struct Case {
  const char* name;
  size_t d;
  int trees;
  int psi;
  MaxFeatures max_features;
  bool bootstrap;
  uint32_t seed;
};

void CheckCase(const Case& c) {
  SCOPED_TRACE(c.name);
  std::mt19937_64 rng(c.seed);
  const size_t n = 300;
  const std::vector<float> train = MakeData(rng, n, c.d);
  IForestParams params;
  params.n_estimators = c.trees;
  params.max_samples = MaxSamples::Count(c.psi);
  params.max_features = c.max_features;
  params.bootstrap = c.bootstrap;
  params.random_state = c.seed;
  auto forest = FitForest(train.data(), n, c.d, params);
  ASSERT_TRUE(forest.ok()) << forest.status().ToString();
  auto ex = ForestExplainer::Compile(*forest);
  ASSERT_TRUE(ex.ok()) << ex.status().ToString();
  auto scorer = ForestScorer::Compile(*forest);
  ASSERT_TRUE(scorer.ok());
  const std::vector<float> rows = ProbeRows(rng, train, c.d);
  const double t = static_cast<double>(forest->trees.size());
  for (size_t r = 0; r * c.d < rows.size(); ++r) {
    SCOPED_TRACE(r);
    const float* x = rows.data() + r * c.d;
    std::vector<double> phi(c.d);
    ex->PathShapley(x, phi.data());
    const BruteForce bf = Shapley(*forest, x);
    EXPECT_NEAR(ex->baseline(), bf.baseline, kTol);
    double sum = 0;
    for (size_t i = 0; i < c.d; ++i) {
      EXPECT_NEAR(phi[i], bf.phi[i], kTol) << "feature " << i;
      sum += phi[i];
    }
    // Local accuracy against the scorer's E[h(x)], which also pins the routing.
    EXPECT_NEAR(sum + ex->baseline(), scorer->PathSum(x) / t, kTol);
    for (size_t i = 1; i < c.d; i += 6) {
      EXPECT_EQ(phi[i], 0.0) << "constant column " << i;
    }
  }
}

TEST(ForestExplainer, MatchesTheDefinitionWithAllFeatures) {
  CheckCase({"5 columns", 5, 10, 64, MaxFeatures::Fraction(1.0), false, 0});
  CheckCase({"8 columns", 8, 12, 64, MaxFeatures::Fraction(1.0), false, 1});
  CheckCase({"3 columns, deep", 3, 6, 200, MaxFeatures::Fraction(1.0), false, 2});
}

TEST(ForestExplainer, MatchesTheDefinitionWithFeatureSubsets) {
  CheckCase({"max_features 0.6", 5, 10, 64, MaxFeatures::Fraction(0.6), false, 3});
  CheckCase({"max_features 3 of 8", 8, 15, 48, MaxFeatures::Count(3), false, 4});
  // One column per tree: the trees that drew the constant column are a single leaf.
  CheckCase({"max_features 1", 6, 20, 32, MaxFeatures::Count(1), false, 5});
}

TEST(ForestExplainer, MatchesTheDefinitionWithBootstrap) {
  CheckCase({"bootstrap", 5, 10, 64, MaxFeatures::Fraction(1.0), true, 6});
  CheckCase({"bootstrap, subsets", 7, 20, 64, MaxFeatures::Fraction(0.5), true, 7});
}

TEST(ForestExplainer, ManySeeds) {
  for (uint32_t seed = 10; seed < 16; ++seed) {
    CheckCase({"seed sweep", 4 + seed % 5, 8, 16 + 8 * static_cast<int>(seed % 4),
               MaxFeatures::Fraction(1.0), seed % 2 == 0, seed});
  }
}

// A model whose columns go to the forest unscaled, so a feature value is the forest's input.
Model TrainPlainModel(size_t d, uint32_t seed) {
  std::mt19937_64 rng(seed);
  const size_t n = 400;
  const std::vector<float> x32 = MakeData(rng, n, d);
  std::vector<std::vector<double>> cols(d, std::vector<double>(n));
  FeatureSpec spec;
  for (size_t j = 0; j < d; ++j) {
    spec.inputs.push_back("in" + std::to_string(j));
    for (size_t i = 0; i < n; ++i) {
      cols[j][i] = x32[i * d + j];
    }
  }
  spec.derived.clear();
  std::vector<const double*> series;
  for (const auto& c : cols) {
    series.push_back(c.data());
  }
  TrainOptions options;
  options.params.n_estimators = 30;
  options.params.max_samples = MaxSamples::Count(128);
  options.params.random_state = seed;
  options.scaler = Scaler::Kind::kNone;
  auto model = TrainModel(spec, nullptr, series, n, options);
  EXPECT_TRUE(model.ok()) << model.status().ToString();
  return std::move(model).value();
}

TEST(Explainer, ContributionsRebuildTheScorersScore) {
  const Model model = TrainPlainModel(5, 21);
  auto ex = Explainer::Create(model);
  ASSERT_TRUE(ex.ok()) << ex.status().ToString();
  auto scorer = ModelScorer::Create(model);
  ASSERT_TRUE(scorer.ok());
  const double s0 = ex->baseline_score();
  std::vector<std::vector<double>> rows = {{0, 7, 1, 0.2, 0.5},
                                           {3.5, 7, 3, -2.1, 6},
                                           {-9, 7, 0, 0, 0},
                                           {0.1, 7, 2, 0.1, 0.05},
                                           {1e6, 7, -50, 1e-3, 1e-9}};
  for (const auto& row : rows) {
    const RowExplanation e = ex->Explain(row.data());
    ASSERT_TRUE(e.ok());
    const RowScore s = scorer->ScoreFeatures(row.data());
    EXPECT_EQ(e.anomaly_score, s.anomaly_score);
    double log2_sum = 0, product = s0;
    for (double c : e.contribution) {
      log2_sum += c;
      product *= std::exp2(c);
    }
    EXPECT_NEAR(product, s.anomaly_score, kTol);
    EXPECT_NEAR(std::log2(s0) + log2_sum, std::log2(s.anomaly_score), kTol);
    EXPECT_EQ(e.contribution[1], 0.0);  // the constant column
    // Raw inputs only: each input's sum is its column's value.
    ASSERT_EQ(e.per_input.size(), 5u);
    for (size_t i = 0; i < 5; ++i) {
      EXPECT_EQ(e.per_input[i], e.contribution[i]);
    }
    size_t top = 0;
    for (size_t i = 1; i < 5; ++i) {
      top = e.per_input[i] > e.per_input[top] ? i : top;
    }
    EXPECT_EQ(e.top_input, static_cast<int32_t>(top));
    EXPECT_GT(e.per_input[top], *std::min_element(e.per_input.begin(), e.per_input.end()));
  }
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const std::vector<double> missing = {0, 7, nan, 0, 0};
  const RowExplanation bad = ex->Explain(missing.data());
  EXPECT_EQ(bad.issue, RowIssue::kMissing);
  EXPECT_TRUE(bad.contribution.empty());
}

TEST(Explainer, RoutesFloat32LikeTheScorerAtARoundingBoundary) {
  const Model model = TrainPlainModel(5, 22);
  auto ex = Explainer::Create(model);
  ASSERT_TRUE(ex.ok());
  auto scorer = ModelScorer::Create(model);
  ASSERT_TRUE(scorer.ok());
  // A split whose float64 threshold rounds UP to float32: x = threshold is <= it in double,
  // but float32(x) is not, so the scorer (and sklearn) send x right.
  bool found = false;
  for (const Tree& t : model.forest.trees) {
    for (size_t node = 0; node < t.node_count() && !found; ++node) {
      const double thr = t.threshold[node];
      if (t.children_left[node] == -1 || static_cast<double>(static_cast<float>(thr)) <= thr ||
          t.n_node_samples[node] <= 2) {
        continue;
      }
      found = true;
      std::vector<double> row = {0.3, 7, 1, 0.2, 0.5};
      row[static_cast<size_t>(t.features[static_cast<size_t>(t.feature[node])])] = thr;
      const RowExplanation e = ex->Explain(row.data());
      ASSERT_TRUE(e.ok());
      std::vector<float> x32(row.begin(), row.end());
      const BruteForce bf = Shapley(model.forest, x32.data());
      const double c = model.forest.c_max_samples;
      for (size_t i = 0; i < row.size(); ++i) {
        EXPECT_NEAR(e.contribution[i], -bf.phi[i] / c, kTol);
      }
      double product = ex->baseline_score();
      for (double v : e.contribution) {
        product *= std::exp2(v);
      }
      EXPECT_NEAR(product, scorer->ScoreFeatures(row.data()).anomaly_score, kTol);
    }
  }
  EXPECT_TRUE(found) << "no threshold that rounds up to float32 in this forest";
}

TEST(ColumnInputs, MapsRawAndDerivedColumnsToTheirInputs) {
  FeatureSpec spec;
  spec.inputs = {"a", "b"};
  DerivedFeature delta{DerivedFeature::Kind::kDelta, 1, kHourMs};
  spec.derived = {{DerivedFeature::Kind::kHourOfWeek}, delta};
  EXPECT_EQ(ColumnInputs(spec), (std::vector<int32_t>{0, 1, -1, 1}));
  spec.raw_inputs = false;
  EXPECT_EQ(ColumnInputs(spec), (std::vector<int32_t>{-1, 1}));
}

}  // namespace
}  // namespace isoscope
