// StreamTrainer (core/src/stream_train.cc) and PlanForest: the forest's rows drawn from the row
// count alone (checked against scikit-learn 1.2.1's own _generate_bagging_indices and against
// the golden corpus through the streaming path), and streamed training equal to TrainModel.
#include "isoscope/stream_train.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "support/golden.h"

namespace isoscope {
namespace {

constexpr TimeMs kT0 = 1'700'000'040'000;

// Feeds `rows` rows in chunks of `chunk` rows, twice, and returns the model.
template <typename MakeChunk>
Result<Model> Stream(StreamTrainer& trainer, size_t rows, size_t chunk, MakeChunk make) {
  for (int pass = 0; pass < 2; ++pass) {
    for (size_t at = 0; at < rows; at += chunk) {
      if (Status s = trainer.Feed(make(at, std::min(chunk, rows - at))); !s.ok()) return s;
    }
    if (Status s = trainer.EndPass(); !s.ok()) return s;
  }
  return trainer.Finish();
}

// Expected values printed by scikit-learn 1.2.1 (/usr/bin/python3):
//   seeds = RandomState(7).randint(MAX_INT, size=3)
//   f, r = _generate_bagging_indices(seeds[t], False, False, 4, 2_000_000_000, 4, 256)
//   print(list(r[:4]), int(r.sum()), len(set(r)))
TEST(PlanForest, DrawsScikitLearnsRowsForTwoBillionRowsWithoutPopulationMemory) {
  IForestParams p;
  p.n_estimators = 3;
  p.random_state = 7;
  auto plan = PlanForest(2'000'000'000, 4, p);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  const std::vector<std::vector<int64_t>> first = {{239442143, 1423224553, 8449696, 87982037},
                                                   {1713526587, 1540258529, 936797091, 177428294},
                                                   {324659252, 1352668529, 1093471292, 634158945}};
  const std::vector<int64_t> sums = {248528849922, 270601192674, 243177820052};
  ASSERT_EQ(plan->trees.size(), 3u);
  for (size_t t = 0; t < 3; ++t) {
    const auto& d = plan->trees[t].draws;
    ASSERT_EQ(d.size(), 256u);
    EXPECT_EQ(std::vector<int64_t>(d.begin(), d.begin() + 4), first[t]);
    EXPECT_EQ(std::accumulate(d.begin(), d.end(), int64_t{0}), sums[t]);
    EXPECT_EQ(plan->trees[t].features, (std::vector<int32_t>{0, 1, 2, 3}));
  }
  EXPECT_EQ(plan->rows.size(), 768u);  // no two trees share a row at this size
  EXPECT_TRUE(std::is_sorted(plan->rows.begin(), plan->rows.end()));
}

// RandomState(7).uniform(size=5)[4] == 0.9779895119966027 (numpy 1.24): y at row 4.
TEST(PlanForest, TargetIsNumpysUniformAtTheDrawnRows) {
  IForestParams p;
  p.n_estimators = 2;
  p.random_state = 7;
  p.max_samples = MaxSamples::Count(5);
  auto plan = PlanForest(5, 1, p);
  ASSERT_TRUE(plan.ok());
  ASSERT_EQ(plan->rows, (std::vector<int64_t>{0, 1, 2, 3, 4}));
  EXPECT_EQ(plan->y[4], 0.9779895119966027);
}

// The golden corpus (scikit-learn 1.2.1's forests) through the streaming path, in uneven chunks.
class StreamGoldenTest : public ::testing::TestWithParam<std::string> {};

TEST_P(StreamGoldenTest, TreesAndOffsetAreScikitLearns) {
  const testing::GoldenCase c = testing::LoadGoldenCase(GetParam());
  FeatureSpec spec;
  spec.inputs = c.train.feature_names;
  spec.derived.clear();
  TrainOptions options;
  options.params = testing::ParamsOf(c);
  options.contamination_explicit = true;
  options.scaler = c.model.contains("scaler") && !c.model["scaler"].is_null()
                       ? Scaler::Kind::kStandard
                       : Scaler::Kind::kNone;
  auto trainer = StreamTrainer::Create(spec, options);
  ASSERT_TRUE(trainer.ok());
  auto m = Stream(*trainer, c.train.rows, 997, [&](size_t at, size_t n) {
    TrainChunk ch;
    for (const auto& s : c.train.series) ch.series.push_back(s.data() + at);
    ch.n = n;
    return ch;
  });
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  const auto& trees = c.model["trees"];
  ASSERT_EQ(m->forest.trees.size(), trees.size());
  for (size_t t = 0; t < trees.size(); ++t) {
    const Tree& ours = m->forest.trees[t];
    SCOPED_TRACE("tree " + std::to_string(t));
    ASSERT_EQ(ours.features, trees[t]["features"].get<std::vector<int32_t>>());
    ASSERT_EQ(ours.children_left, trees[t]["children_left"].get<std::vector<int32_t>>());
    ASSERT_EQ(ours.feature, trees[t]["feature"].get<std::vector<int32_t>>());
    ASSERT_EQ(ours.threshold, trees[t]["threshold"].get<std::vector<double>>());
    ASSERT_EQ(ours.n_node_samples, trees[t]["n_node_samples"].get<std::vector<int32_t>>());
  }
  // Within 4 units in the last place, the claim of iforest_train_test.cc.
  EXPECT_NEAR(m->offset, c.model["offset_"].get<double>(), 1e-15);
}

INSTANTIATE_TEST_SUITE_P(Sklearn, StreamGoldenTest, ::testing::ValuesIn(testing::GoldenCaseNames()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

// Three groups with temporal features, gaps and an excluded window, rows group-major.
struct Fleet {
  std::vector<TimeMs> times;
  std::vector<double> a, b;
  std::vector<int32_t> group, exclusion;
  explicit Fleet(size_t per_group) {
    for (int32_t g = 0; g < 3; ++g) {
      for (size_t i = 0; i < per_group; ++i) {
        times.push_back(kT0 + static_cast<TimeMs>(i) * kMinuteMs);
        const double level = 10.0 * (g + 1);
        a.push_back(i % 97 == 5 ? std::nan("") : level + std::sin(0.01 * double(i) * (g + 1)));
        b.push_back(level * 3 + double((i * 7919 + g) % 13));
        group.push_back(g);
        exclusion.push_back(g == 1 && i >= 400 && i < 460 ? 0 : -1);
      }
    }
  }
  TrainChunk Chunk(size_t at, size_t n) const {
    TrainChunk c;
    c.times = times.data() + at;
    c.series = {a.data() + at, b.data() + at};
    c.n = n;
    c.group_of_row = group.data() + at;
    c.exclusion_of_row = exclusion.data() + at;
    return c;
  }
};

FeatureSpec FleetSpec() {
  FeatureSpec spec;
  spec.inputs = {"a", "b"};
  spec.step_ms = kMinuteMs;
  spec.derived =
      std::move(ParseDerivedList("mean(a,10m),delta(b,5m),hour_of_week", spec.inputs)).value();
  return spec;
}

TrainOptions FleetOptions(const Fleet& f) {
  TrainOptions o;
  o.params.n_estimators = 30;
  o.params.random_state = 11;
  o.params.contamination = Contamination::Fraction(0.05);
  o.contamination_explicit = true;
  o.created_ms = kT0;
  o.exclusion_reasons = {"maintenance"};
  o.group_of_row = f.group;
  o.exclusion_of_row = f.exclusion;
  return o;
}

Model InMemory(const Fleet& f) {
  auto m = TrainModel(FleetSpec(), f.times.data(), {f.a.data(), f.b.data()}, f.times.size(),
                      FleetOptions(f));
  EXPECT_TRUE(m.ok()) << m.status().ToString();
  return std::move(m).value();
}

TEST(StreamTrainer, EqualsTrainModelForAnyChunkSize) {
  const Fleet f(3000);
  const Model want = InMemory(f);
  for (size_t chunk : {size_t{1}, size_t{777}, size_t{3000}, f.times.size()}) {
    SCOPED_TRACE("chunk " + std::to_string(chunk));
    auto trainer = StreamTrainer::Create(FleetSpec(), FleetOptions(f));
    ASSERT_TRUE(trainer.ok());
    auto m = Stream(*trainer, f.times.size(), chunk,
                    [&](size_t at, size_t n) { return f.Chunk(at, n); });
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    EXPECT_EQ(m->model_version, want.model_version);  // a hash of the whole bundle's content
    EXPECT_EQ(m->forest.trees, want.forest.trees);
    EXPECT_EQ(m->scaler.mean, want.scaler.mean);
    EXPECT_EQ(m->scaler.scale, want.scaler.scale);
    EXPECT_EQ(m->offset, want.offset);
    EXPECT_EQ(m->info.rows_used, want.info.rows_used);
    EXPECT_EQ(m->info.dropped_by_reason, want.info.dropped_by_reason);
    EXPECT_EQ(m->info.full_weeks, want.info.full_weeks);
    EXPECT_EQ(m->canaries.size(), want.canaries.size());
  }
}

// numpy's percentile(method="linear"), written out: the reference for the sampled offset.
double NumpyLinearPercentile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  const double pos = q / 100.0 * static_cast<double>(v.size() - 1);
  const auto lo = static_cast<size_t>(std::floor(pos));
  const size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (v[hi] - v[lo]) * (pos - static_cast<double>(lo));
}

TEST(StreamTrainer, OffsetFromTheEvenlySpacedSampleWhenRowsExceedIt) {
  const Fleet f(3000);
  const Model full = InMemory(f);
  const size_t k = 1000;
  auto trainer = StreamTrainer::Create(FleetSpec(), FleetOptions(f), k);
  ASSERT_TRUE(trainer.ok());
  auto m =
      Stream(*trainer, f.times.size(), 500, [&](size_t at, size_t n) { return f.Chunk(at, n); });
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->forest.trees, full.forest.trees);  // the forest never depends on the sample
  EXPECT_EQ(m->scaler.mean, full.scaler.mean);
  // The sample by hand: usable rows floor(j * used / k), scored by the full model.
  const auto used = static_cast<size_t>(full.info.rows_used);
  ASSERT_GT(used, k);
  // Excluded rows enter the streams as missing values (TrainOptions::exclusion_of_row).
  std::vector<double> a = f.a, b = f.b;
  for (size_t i = 0; i < a.size(); ++i) {
    if (f.exclusion[i] >= 0) a[i] = b[i] = std::nan("");
  }
  auto rows = BuildFeatureRows(FleetSpec(), f.times.data(), {a.data(), b.data()}, f.times.size(),
                               f.group.data());
  ASSERT_TRUE(rows.ok());
  auto scorer = ModelScorer::Create(full);
  ASSERT_TRUE(scorer.ok());
  // Usable rows in order: not excluded (400..459 of group 1), not re-warming (mean(a,10m)
  // still reads an excluded row at 460..468, as in model_exclusion_test.cc), no row problem.
  std::vector<size_t> usable;
  for (size_t i = 0; i < f.times.size(); ++i) {
    const size_t in_group = i % 3000;
    const bool dropped_for_exclusion = f.group[i] == 1 && in_group >= 400 && in_group < 469;
    if (!dropped_for_exclusion && rows->problems[i].issue == RowIssue::kNone) usable.push_back(i);
  }
  ASSERT_EQ(usable.size(), used);
  std::vector<double> sample_scores;
  for (size_t j = 0; j < k; ++j) {
    const size_t i = usable[j * used / k];
    sample_scores.push_back(
        -scorer->ScoreFeatures(rows->values.data() + i * rows->width).anomaly_score);
  }
  EXPECT_EQ(m->offset, NumpyLinearPercentile(sample_scores, 5.0));
  EXPECT_FALSE(m->info.warnings.empty());
  EXPECT_NE(m->info.warnings.back().find("evenly spaced sample of 1000"), std::string::npos);
}

TEST(StreamTrainer, RefusesASecondPassThatSawOtherRows) {
  const Fleet f(1000);
  auto trainer = StreamTrainer::Create(FleetSpec(), FleetOptions(f));
  ASSERT_TRUE(trainer.ok());
  ASSERT_TRUE(trainer->Feed(f.Chunk(0, 3000)).ok());
  ASSERT_TRUE(trainer->EndPass().ok());
  ASSERT_TRUE(trainer->Feed(f.Chunk(0, 2000)).ok());
  EXPECT_EQ(trainer->EndPass().code(), ErrorCode::kInvalidArgument);
}

// train_groups.h cuts its batches by PassTwoBytes: a trainer holds no drawn rows until its pass
// 2 starts, and then no more than that bound (30 trees x 256 draws; 3 x 1000 rows, ~2,900
// usable; a 1,000-row sample; the width is the spec's).
TEST(StreamTrainer, DrawsTheForestsRowsWhenPassTwoStartsAndHoldsNoMoreThanItsBound) {
  const Fleet f(1000);
  auto trainer = StreamTrainer::Create(FleetSpec(), FleetOptions(f), 1000);
  ASSERT_TRUE(trainer.ok());
  EXPECT_EQ(trainer->PassTwoBytes(), 0u);  // the count is not known yet
  ASSERT_TRUE(trainer->Feed(f.Chunk(0, 3000)).ok());
  ASSERT_TRUE(trainer->EndPass().ok());
  EXPECT_EQ(trainer->MemoryBytes(), 0u);
  const size_t width = FleetSpec().width();
  const size_t draws = 30 * 256;
  const size_t drawn = std::min(draws, trainer->usable_rows());
  EXPECT_EQ(trainer->PassTwoBytes(), draws * 8 + drawn * (16 + 8 * width) + 1000 * 8 * width);
  ASSERT_TRUE(trainer->Feed(f.Chunk(0, 3000)).ok());
  ASSERT_TRUE(trainer->EndPass().ok());
  EXPECT_GT(trainer->MemoryBytes(), trainer->PassTwoBytes() / 2);
  EXPECT_LE(trainer->MemoryBytes(), trainer->PassTwoBytes());
}

TEST(ScalerAccumulator, RefusesAnIncompleteSecondPass) {
  const double rows[] = {1.0, 2.0, 4.0};
  ScalerAccumulator acc(Scaler::Kind::kStandard, 1);
  for (double r : rows) acc.Add(&r);
  acc.StartSecondPass();
  acc.Add(&rows[0]);
  EXPECT_EQ(acc.Finish().status().code(), ErrorCode::kInvalidArgument);
  acc.Add(&rows[1]);
  acc.Add(&rows[2]);
  auto s = acc.Finish();
  ASSERT_TRUE(s.ok());
  // By hand: mean 7/3, population variance ((4/3)^2 + (1/3)^2 + (5/3)^2) / 3 = 14/9.
  EXPECT_DOUBLE_EQ(s->mean[0], 7.0 / 3.0);
  EXPECT_DOUBLE_EQ(s->scale[0], std::sqrt(14.0 / 9.0));
}

}  // namespace
}  // namespace isoscope
