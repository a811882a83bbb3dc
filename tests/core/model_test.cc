#include "isoscope/model.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <map>

#include "isoscope/bundle.h"
#include "support/golden.h"
#include "support/small_model.h"

namespace isoscope {
namespace {

TEST(TrainModel, DropsAndCountsRowsWithMissingValues) {
  const auto h = testing::MakeSmallHistory();
  auto m = testing::TrainSmallModel(h);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  size_t missing = 0;
  for (double v : h.b) {
    missing += std::isnan(v) ? 1 : 0;
  }
  ASSERT_GT(missing, 0u);
  EXPECT_EQ(m->info.rows_dropped, static_cast<int64_t>(missing));
  EXPECT_EQ(m->info.rows_used, static_cast<int64_t>(h.times.size() - missing));
  ASSERT_EQ(m->info.dropped_by_reason.size(), 1u);
  EXPECT_EQ(m->info.dropped_by_reason[0].first, "missing value in errors");
  EXPECT_EQ(m->info.full_weeks, 3);
  EXPECT_TRUE(m->info.warnings.empty()) << m->info.warnings.front();
  EXPECT_EQ(m->model_version.substr(0, 9), FormatDateYmd(h.times.back()) + "-");
  EXPECT_EQ(m->model_version.size(), 17u);
}

// Rows dropped for different reasons, in runs and alternating: each reason counts its own rows
// (runs share one reason's text, so a reason must be told apart when the next row's differs).
TEST(TrainModel, CountsEachDroppedRowUnderItsOwnReason) {
  std::vector<double> a, b;
  size_t missing_a = 0, missing_b = 0, infinite_b = 0;
  for (int i = 0; i < 600; ++i) {
    a.push_back(std::sin(i * 0.3));
    b.push_back(std::cos(i * 0.7));
    const bool run = i >= 100 && i < 130;        // a run of one reason
    const bool alternate = i >= 300 && i < 320;  // the two reasons by turns
    if (run || (alternate && i % 2 == 0) || i == 500) {
      a.back() = std::nan("");
      ++missing_a;
    } else if (alternate) {  // the same issue in another column
      b.back() = std::nan("");
      ++missing_b;
    } else if (i == 501 || i == 502) {
      b.back() = std::numeric_limits<double>::infinity();
      ++infinite_b;
    }
  }
  FeatureSpec spec;
  spec.inputs = {"a", "b"};
  spec.derived.clear();
  TrainOptions options;
  options.params.n_estimators = 10;
  auto m = TrainModel(spec, nullptr, {a.data(), b.data()}, a.size(), options);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  const std::map<std::string, int64_t> dropped(m->info.dropped_by_reason.begin(),
                                               m->info.dropped_by_reason.end());
  const std::map<std::string, int64_t> want{
      {"missing value in a", static_cast<int64_t>(missing_a)},
      {"missing value in b", static_cast<int64_t>(missing_b)},
      {"infinite value in b", static_cast<int64_t>(infinite_b)}};
  EXPECT_EQ(dropped, want);
}

TEST(TrainModel, FlagsTheContaminationShareOfTrainingRows) {
  auto m = testing::TrainSmallModel(testing::MakeSmallHistory(), 0.05);
  ASSERT_TRUE(m.ok());
  EXPECT_NEAR(m->info.flagged_fraction, 0.05, 0.002);
  EXPECT_EQ(*m->ThresholdFor(0.05), m->threshold()) << "exact at the trained contamination";
  EXPECT_GT(*m->ThresholdFor(0.01), *m->ThresholdFor(0.1));
}

TEST(TrainModel, WarnsAboutTheOriginStorysMistakes) {
  const auto h = testing::MakeSmallHistory(9);
  FeatureSpec spec;
  spec.inputs = {"latency", "errors"};
  spec.derived = {{DerivedFeature::Kind::kHourOfWeek}};
  TrainOptions options;  // contamination left at auto, not explicit
  auto m = TrainModel(spec, h.times.data(), {h.a.data(), h.b.data()}, h.times.size(), options);
  ASSERT_TRUE(m.ok());
  ASSERT_EQ(m->info.warnings.size(), 2u);
  EXPECT_NE(m->info.warnings[0].find("days of history"), std::string::npos);
  EXPECT_NE(m->info.warnings[1].find("contamination was not given"), std::string::npos);
}

TEST(TrainModel, ForRangesCutsChangeNothingInTheBundle) {
  const auto h = testing::MakeSmallHistory();
  auto whole = testing::TrainSmallModel(h);
  ASSERT_TRUE(whole.ok());
  TrainOptions options;
  options.params = whole->params;
  options.contamination_explicit = true;
  options.created_ms = h.times.back();
  // Uneven ranges of 7, last first: the trees come out the same.
  size_t calls = 0;
  options.for_ranges = [&calls](size_t n, const std::function<void(size_t, size_t)>& fn) {
    for (size_t end = n; end > 0; end -= std::min<size_t>(end, 7)) {
      const size_t count = std::min<size_t>(end, 7);
      fn(end - count, count);
      ++calls;
    }
  };
  auto cut =
      TrainModel(whole->spec, h.times.data(), {h.a.data(), h.b.data()}, h.times.size(), options);
  ASSERT_TRUE(cut.ok()) << cut.status().ToString();
  EXPECT_GE(calls, whole->forest.trees.size() / 7);  // the trees' ranges
  EXPECT_EQ(cut->model_version, whole->model_version);
  EXPECT_EQ(EncodeBundle(*cut), EncodeBundle(*whole));
}

// The training-row canaries are the rows a stable sort of the training rows by score (ties
// in row order) puts first, in the middle and last: here found by that sort itself. Trees of
// 8 samples leave many different rows with the same score, so the order among ties decides.
TEST(TrainModel, CanariesAreTheStablySortedRowsAtTheirRanks) {
  std::vector<double> a, b;
  for (int i = 0; i < 3001; ++i) {
    a.push_back(std::sin(i * 0.7) * 10);
    b.push_back(std::cos(i * 1.3) * 3);
  }
  FeatureSpec spec;
  spec.inputs = {"a", "b"};
  spec.derived.clear();
  TrainOptions options;
  options.params.n_estimators = 5;
  options.params.max_samples = MaxSamples::Count(8);
  options.params.random_state = 3;
  options.scaler = Scaler::Kind::kNone;
  auto m = TrainModel(spec, nullptr, {a.data(), b.data()}, a.size(), options);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  auto scorer = ModelScorer::Create(*m);
  ASSERT_TRUE(scorer.ok());
  std::vector<double> score(a.size());
  for (size_t i = 0; i < a.size(); ++i) {
    const double row[] = {a[i], b[i]};
    score[i] = scorer->ScoreFeatures(row).anomaly_score;
  }
  std::vector<size_t> order(a.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t x, size_t y) { return score[x] < score[y]; });
  const size_t median = order[order.size() / 2];
  // The test means something only if the middle rank's score is shared by other rows.
  ASSERT_GT(std::count(score.begin(), score.end(), score[median]), 10);
  const std::map<std::string, size_t> expected = {{"most_normal_training_row", order.front()},
                                                  {"median_training_row", median},
                                                  {"most_anomalous_training_row", order.back()}};
  size_t checked = 0;
  for (const Canary& c : m->canaries) {
    const auto it = expected.find(c.label);
    if (it == expected.end()) continue;
    EXPECT_EQ(c.features, (std::vector<double>{a[it->second], b[it->second]})) << c.label;
    ++checked;
  }
  EXPECT_EQ(checked, 3u);
}

TEST(TrainModel, NoUsableRowsIsAClearError) {
  const std::vector<double> a = {std::nan(""), std::nan("")};
  FeatureSpec spec;
  spec.inputs = {"a"};
  spec.derived.clear();
  auto m = TrainModel(spec, nullptr, {a.data()}, 2, TrainOptions());
  EXPECT_EQ(m.status().code(), ErrorCode::kBadInput);
  EXPECT_NE(m.status().message().find("missing value in a"), std::string::npos);
}

TEST(ModelScorer, RowsWithProblemsGetAReasonNotANumber) {
  const auto h = testing::MakeSmallHistory();
  auto m = testing::TrainSmallModel(h);
  ASSERT_TRUE(m.ok());
  auto scorer = ModelScorer::Create(*m);
  ASSERT_TRUE(scorer.ok());
  const double inf = std::numeric_limits<double>::infinity();
  const std::vector<double> a = {100, std::nan(""), 100, 1e300};
  const std::vector<double> b = {0.01, 0.01, inf, 0.01};
  const std::vector<TimeMs> t(4, h.times[0]);
  auto rows = BuildFeatureRows(m->spec, t.data(), {a.data(), b.data()}, 4);
  ASSERT_TRUE(rows.ok());
  const auto scores = scorer->ScoreRows(*rows);
  EXPECT_TRUE(scores[0].ok());
  EXPECT_GT(scores[0].anomaly_score, 0.0);
  EXPECT_EQ(scores[1].issue, RowIssue::kMissing);
  EXPECT_EQ(scores[2].issue, RowIssue::kNonFinite);
  EXPECT_EQ(scores[3].issue, RowIssue::kOutOfRange) << "1e300 overflows float32 after scaling";
  EXPECT_EQ(scores[1].anomaly_score, 0.0);
}

TEST(ModelScorer, IsAnomalyIsScoreAboveThreshold) {
  const auto h = testing::MakeSmallHistory();
  auto m = testing::TrainSmallModel(h);
  ASSERT_TRUE(m.ok());
  auto scorer = ModelScorer::Create(*m);
  std::vector<double> row = {100, 0.01, 30, 0};
  for (double latency : {60.0, 100.0, 140.0, 400.0, 4000.0}) {
    row[0] = latency;
    const RowScore s = scorer->ScoreFeatures(row.data());
    ASSERT_TRUE(s.ok());
    EXPECT_EQ(s.is_anomaly, s.anomaly_score > m->threshold());
    EXPECT_EQ(s.decision, -s.anomaly_score - m->offset);
  }
  // Beyond the training range a point follows the extreme side of every split, so it scores
  // like the most extreme training rows: higher than a typical row, but not unboundedly.
  row[0] = 4000.0;
  row[1] = 0.5;
  const double far = scorer->ScoreFeatures(row.data()).anomaly_score;
  row[0] = 100.0;
  row[1] = 0.01;
  EXPECT_GT(far, scorer->ScoreFeatures(row.data()).anomaly_score + 0.1);
}

TEST(ModelScorer, CanaryCheckNamesTheVectorThatChanged) {
  auto m = testing::TrainSmallModel(testing::MakeSmallHistory());
  ASSERT_TRUE(m.ok());
  auto scorer = ModelScorer::Create(*m);
  EXPECT_TRUE(scorer->CheckCanaries(m->canaries).ok());
  auto canaries = m->canaries;
  canaries[2].anomaly_score += 1e-9;
  const Status s = scorer->CheckCanaries(canaries);
  EXPECT_EQ(s.code(), ErrorCode::kCanaryMismatch);
  EXPECT_NE(s.message().find(canaries[2].label), std::string::npos);
}

}  // namespace
}  // namespace isoscope

namespace isoscope {
namespace {

TEST(ThresholdFor, DocumentedAccuracyOnTheOriginData) {
  // core/BUNDLE_FORMAT.md promises: threshold within 1e-3 of the exact percentile, flagged
  // share within 1.5 % (relative) of the requested contamination, exact at the trained one.
  const auto c = testing::LoadGoldenCase("origin_seasonal");
  FeatureSpec spec;
  spec.inputs = c.train.feature_names;
  spec.derived.clear();
  TrainOptions options;
  options.params = testing::ParamsOf(c);
  options.scaler = Scaler::Kind::kNone;
  std::vector<const double*> series;
  for (const auto& s : c.train.series) {
    series.push_back(s.data());
  }
  auto m = TrainModel(spec, nullptr, series, c.train.rows, options);
  ASSERT_TRUE(m.ok());
  auto scorer = ModelScorer::Create(*m);
  const std::vector<double> rows = testing::RowMajor(c.train);
  std::vector<double> score_samples;
  for (const RowScore& s : scorer->ScoreDense(rows.data(), nullptr, c.train.rows)) {
    score_samples.push_back(-s.anomaly_score);
  }
  std::sort(score_samples.begin(), score_samples.end());
  EXPECT_EQ(*m->ThresholdFor(0.02), m->threshold());
  for (int i = 0; i <= 400; ++i) {
    const double contamination = 0.0005 * std::pow(1000.0, i / 400.0);
    const double threshold = *m->ThresholdFor(contamination);
    EXPECT_NEAR(threshold, -PercentileLinear(score_samples, 100.0 * contamination), 1e-3);
    size_t flagged = 0;
    for (double v : score_samples) {
      flagged += -v > threshold ? 1 : 0;
    }
    const double share = static_cast<double>(flagged) / static_cast<double>(score_samples.size());
    EXPECT_NEAR(share, contamination, 0.015 * contamination + 1.0 / score_samples.size())
        << contamination;
  }
}

}  // namespace
}  // namespace isoscope
