// Training and scoring against scikit-learn 1.2.1 golden cases: identical trees (every array,
// bit for bit), offset_ and scores within 4 units in the last place, identical predictions.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>

#include "isoscope/model.h"
#include "support/golden.h"

namespace isoscope {
namespace {

using testing::GoldenCase;

// Trees are compared array for array, exactly. Scores are not bit for bit: the path-length sum
// and 2^(-E[h]/c) round differently from numpy's vectorised order in the last bits. On the
// golden corpus (33,258 rows) the largest difference is 3 units in the last place; 4 is the
// claim (README, docs/design.md), about 4.4e-16 at a score of 0.5, where 1e-12 allowed ~9,000.
constexpr uint64_t kMaxScoreUlps = 4;
// decision_function = score_samples - offset_: both within kMaxScoreUlps of sklearn's.
constexpr double kDecisionTolerance = 1e-15;

// Distance of two finite doubles in representable steps (0 = the same bits).
uint64_t UlpDistance(double a, double b) {
  auto ordered = [](double x) {
    int64_t i = 0;
    std::memcpy(&i, &x, sizeof i);
    return i < 0 ? INT64_MIN - i : i;  // negative doubles count down from -0
  };
  const int64_t ia = ordered(a), ib = ordered(b);
  return ia > ib ? static_cast<uint64_t>(ia) - static_cast<uint64_t>(ib)
                 : static_cast<uint64_t>(ib) - static_cast<uint64_t>(ia);
}

Model TrainGolden(const GoldenCase& c) {
  FeatureSpec spec;
  spec.inputs = c.train.feature_names;
  spec.derived.clear();
  TrainOptions options;
  options.params = testing::ParamsOf(c);
  options.contamination_explicit = true;
  options.scaler = c.model.contains("scaler") && !c.model["scaler"].is_null()
                       ? Scaler::Kind::kStandard
                       : Scaler::Kind::kNone;
  std::vector<const double*> series;
  for (const auto& s : c.train.series) {
    series.push_back(s.data());
  }
  auto model = TrainModel(spec, nullptr, series, c.train.rows, options);
  EXPECT_TRUE(model.ok()) << model.status().ToString();
  return std::move(model).value();
}

class GoldenTest : public ::testing::TestWithParam<std::string> {};

TEST_P(GoldenTest, TreesAreIdenticalToScikitLearn) {
  const GoldenCase c = testing::LoadGoldenCase(GetParam());
  const Model m = TrainGolden(c);
  const auto& trees = c.model["trees"];
  ASSERT_EQ(m.forest.trees.size(), trees.size());
  EXPECT_EQ(m.forest.max_samples, c.model["max_samples_"].get<int32_t>());
  EXPECT_EQ(m.forest.max_features, c.model["max_features_"].get<int32_t>());
  for (size_t t = 0; t < trees.size(); ++t) {
    const Tree& ours = m.forest.trees[t];
    SCOPED_TRACE("tree " + std::to_string(t));
    ASSERT_EQ(ours.features, trees[t]["features"].get<std::vector<int32_t>>());
    ASSERT_EQ(ours.children_left, trees[t]["children_left"].get<std::vector<int32_t>>());
    ASSERT_EQ(ours.children_right, trees[t]["children_right"].get<std::vector<int32_t>>());
    ASSERT_EQ(ours.feature, trees[t]["feature"].get<std::vector<int32_t>>());
    // Exact double equality: thresholds are drawn, not computed with rounding slack.
    ASSERT_EQ(ours.threshold, trees[t]["threshold"].get<std::vector<double>>());
    ASSERT_EQ(ours.n_node_samples, trees[t]["n_node_samples"].get<std::vector<int32_t>>());
  }
}

TEST_P(GoldenTest, OffsetAndScoresMatchScikitLearn) {
  const GoldenCase c = testing::LoadGoldenCase(GetParam());
  const Model m = TrainGolden(c);
  EXPECT_LE(UlpDistance(m.offset, c.model["offset_"].get<double>()), kMaxScoreUlps);
  auto scorer = ModelScorer::Create(m);
  ASSERT_TRUE(scorer.ok()) << scorer.status().ToString();
  const std::vector<double> rows = testing::RowMajor(c.score);
  const size_t width = c.score.series.size();
  const std::vector<RowScore> batch = scorer->ScoreDense(rows.data(), nullptr, c.score.rows);
  ASSERT_EQ(batch.size(), c.score_samples.size());
  size_t exact = 0;
  uint64_t worst = 0;
  for (size_t i = 0; i < c.score.rows; ++i) {
    const RowScore one = scorer->ScoreFeatures(rows.data() + i * width);
    ASSERT_TRUE(one.ok());
    // The single-row and batch layouts add leaves in the same order: bit-identical.
    ASSERT_EQ(one.anomaly_score, batch[i].anomaly_score) << "row " << i;
    const uint64_t ulps = UlpDistance(-one.anomaly_score, c.score_samples[i]);
    ASSERT_LE(ulps, kMaxScoreUlps)
        << "row " << i << ": " << -one.anomaly_score << " vs " << c.score_samples[i];
    ASSERT_NEAR(one.decision, c.decision[i], kDecisionTolerance) << "row " << i;
    if (std::fabs(c.decision[i]) >= kDecisionTolerance) {
      ASSERT_EQ(one.is_anomaly, c.predict[i] == -1) << "row " << i;
    }
    exact += ulps == 0 ? 1 : 0;
    worst = std::max(worst, ulps);
  }
  // Not asserted (a faster layout may move rows between 0 and kMaxScoreUlps), but kept in the
  // test report: on this corpus 23,776 of 33,258 rows (71 %) are equal to the bit, none is 4 apart.
  RecordProperty("bit_exact_rows", static_cast<int>(exact));
  RecordProperty("rows", static_cast<int>(c.score.rows));
  RecordProperty("max_ulps", static_cast<int>(worst));
}

INSTANTIATE_TEST_SUITE_P(Sklearn, GoldenTest, ::testing::ValuesIn(testing::GoldenCaseNames()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

TEST(GoldenCases, AtLeastTenConfigurationsArePresent) {
  EXPECT_GE(testing::GoldenCaseNames().size(), 10u);
}

TEST(FitForest, RejectsParametersScikitLearnRejects) {
  const std::vector<float> x = {1, 2, 3, 4, 5, 6};
  IForestParams p;
  p.contamination = Contamination::Fraction(0.6);
  EXPECT_EQ(FitForest(x.data(), 3, 2, p).status().code(), ErrorCode::kInvalidArgument);
  p = IForestParams();
  p.max_features = MaxFeatures::Count(3);
  EXPECT_EQ(FitForest(x.data(), 3, 2, p).status().code(), ErrorCode::kInvalidArgument);
  p = IForestParams();
  p.max_samples = MaxSamples::Fraction(0.1);  // int(0.1 * 3) == 0 rows
  EXPECT_EQ(FitForest(x.data(), 3, 2, p).status().code(), ErrorCode::kInvalidArgument);
  p = IForestParams();
  p.n_estimators = 0;
  EXPECT_EQ(FitForest(x.data(), 3, 2, p).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(FitForest(x.data(), 0, 2, IForestParams()).status().code(), ErrorCode::kBadInput);
}

TEST(FitForest, MaxDepthFollowsPsi) {
  // psi = 257 needs depth ceil(log2(257)) = 9: no leaf deeper, some path reaches it.
  std::vector<float> x(600);
  for (size_t i = 0; i < x.size(); ++i) {
    x[i] = static_cast<float>((i * 7919) % 600);
  }
  IForestParams p;
  p.n_estimators = 5;
  p.max_samples = MaxSamples::Count(257);
  auto f = FitForest(x.data(), 600, 1, p);
  ASSERT_TRUE(f.ok());
  int deepest = 0;
  for (const Tree& t : f->trees) {
    std::vector<int> depth(t.node_count(), 0);
    for (size_t i = 0; i < t.node_count(); ++i) {
      if (t.children_left[i] != -1) {
        depth[static_cast<size_t>(t.children_left[i])] = depth[i] + 1;
        depth[static_cast<size_t>(t.children_right[i])] = depth[i] + 1;
      }
      deepest = std::max(deepest, depth[i]);
    }
  }
  EXPECT_EQ(deepest, 9);
}

TEST(FitForestOnPlan, FindsEachDrawnRowTheSameWithoutThePlaceTable) {
  // Above 2^20 rows the fit finds each drawn row in the plan by a search instead of a table by
  // row; the plan's n_rows alone picks the way, so the same draws on the same rows must give
  // the same trees both ways, with and without bootstrap (repeated draws).
  std::vector<float> x(6000 * 3);
  for (size_t i = 0; i < x.size(); ++i) {
    x[i] = static_cast<float>((i * 7919) % 1013) * 0.5f;
  }
  for (bool bootstrap : {false, true}) {
    SCOPED_TRACE(bootstrap ? "bootstrap" : "without bootstrap");
    IForestParams p;
    p.n_estimators = 20;
    p.random_state = 7;
    p.bootstrap = bootstrap;
    auto plan = PlanForest(6000, 3, p);
    ASSERT_TRUE(plan.ok());
    std::vector<float> rows;  // the planned rows, in plan order, as FitForest gathers them
    for (int64_t r : plan->rows) {
      rows.insert(rows.end(), x.begin() + r * 3, x.begin() + r * 3 + 3);
    }
    auto by_table = FitForestOnPlan(*plan, rows.data());
    ForestPlan searched = *plan;
    searched.n_rows = (int64_t{1} << 20) + 1;
    auto by_search = FitForestOnPlan(searched, rows.data());
    ASSERT_TRUE(by_table.ok() && by_search.ok());
    ASSERT_EQ(by_table->trees.size(), 20u);
    for (size_t t = 0; t < by_table->trees.size(); ++t) {
      EXPECT_TRUE(by_table->trees[t] == by_search->trees[t]) << "tree " << t;
    }
    // And both are FitForest's own trees.
    auto direct = FitForest(x.data(), 6000, 3, p);
    ASSERT_TRUE(direct.ok());
    EXPECT_TRUE(direct->trees[0] == by_search->trees[0]);
  }
}

}  // namespace
}  // namespace isoscope
