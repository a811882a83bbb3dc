// Expected values: scipy 1.10, -scipy.stats.norm.logsf(z) / ln(10), and numpy's mean and
// population std of the same histories (the computation is in each test's comment).
#include "isoscope/calibration.h"

#include <gtest/gtest.h>

#include <cmath>

namespace isoscope {
namespace {

TEST(GaussianSurprise, MatchesScipyTailIncludingWhereErfcUnderflows) {
  EXPECT_NEAR(GaussianSurprise(0), 0.30102999566398114, 1e-14);
  EXPECT_NEAR(GaussianSurprise(1), 0.7995455414919707, 1e-13);
  EXPECT_NEAR(GaussianSurprise(3.09), 2.9996603076076673, 1e-12);
  EXPECT_NEAR(GaussianSurprise(-3), 0.0005866493137900663, 1e-15);
  EXPECT_NEAR(GaussianSurprise(10), 23.118053405486076, 1e-10);
  // Q(40) is 3.7e-350, below the smallest double: the asymptotic form takes over.
  EXPECT_NEAR(GaussianSurprise(40), 349.43700645934587, 1e-6);
}

TEST(CalibrateScores, MeanAndPopulationStddev) {
  // numpy: mean 0.5, std (ddof 0) 0.07071067811865475
  const ScoreCalibration c = CalibrateScores({0.4, 0.45, 0.5, 0.55, 0.6});
  EXPECT_EQ(c.count, 5);
  EXPECT_NEAR(c.mean, 0.5, 1e-15);
  EXPECT_NEAR(c.stddev, 0.07071067811865475, 1e-15);
  EXPECT_EQ(CalibrateScores({}).count, 0);
}

TEST(SurpriseStream, ComparesEachRowWithEveryEarlierScore) {
  // Row 1: z = (0.8 - 0.5) / 0.0707.. = 4.243 against the five training scores -> 4.9568;
  // row 2: history is the five plus 0.8 (mean 0.55, std 0.1258): z = -0.397 -> 0.18660.
  SurpriseStream s(CalibrateScores({0.4, 0.45, 0.5, 0.55, 0.6}));
  EXPECT_NEAR(s.Push(0.8), 4.956824508795938, 1e-12);
  EXPECT_TRUE(std::isnan(s.Push(std::nan(""))));  // a row without a score changes nothing
  EXPECT_EQ(s.count(), 6);
  EXPECT_NEAR(s.Push(0.5), 0.18659762200829497, 1e-12);
}

TEST(SurpriseStream, AveragesTheLastShortRows) {
  // short_rows 2: row 1 averages 0.6 alone (z 1.414 -> 1.10430), row 2 averages 0.6 and 0.7
  // = 0.65 against the training scores plus 0.6 (mean 0.51667, std 0.07454) -> 1.43393.
  SurpriseStream s(CalibrateScores({0.4, 0.45, 0.5, 0.55, 0.6}), 2);
  EXPECT_NEAR(s.Push(0.6), 1.104303462325841, 1e-12);
  EXPECT_NEAR(s.Push(0.7), 1.433926417977999, 1e-12);
}

TEST(SurpriseStream, FlatTrainingScoresUseTheFloor) {
  // All training rows scored 0.4: the std floor 0.01 makes 0.42 a z of 2 -> 1.64302, not
  // an infinite surprise.
  ScoreCalibration flat{100, 0.4, 0.0};
  SurpriseStream s(flat);
  EXPECT_EQ(s.stddev(), kMinScoreStddev);
  EXPECT_NEAR(s.Push(0.42), 1.6430160801409368, 1e-9);
}

TEST(SurpriseStream, NoCalibrationGivesZeroUntilItHasAHistory) {
  SurpriseStream s(ScoreCalibration{});
  EXPECT_EQ(s.Push(0.9), 0.0);
  EXPECT_GT(s.Push(0.95), 0.0);
}

TEST(SurpriseSeries, IsTheStreamOverAWholeHistory) {
  // The values of ComparesEachRowWithEveryEarlierScore, NaN kept in place.
  const auto s =
      SurpriseSeries(CalibrateScores({0.4, 0.45, 0.5, 0.55, 0.6}), {0.8, std::nan(""), 0.5});
  ASSERT_EQ(s.size(), 3u);
  EXPECT_NEAR(s[0], 4.956824508795938, 1e-12);
  EXPECT_TRUE(std::isnan(s[1]));
  EXPECT_NEAR(s[2], 0.18659762200829497, 1e-12);
}

TEST(SurpriseStream, SameRowsSameBits) {
  const ScoreCalibration c = CalibrateScores({0.41, 0.43, 0.47, 0.52});
  SurpriseStream a(c, 3), b(c, 3);
  for (int i = 0; i < 1000; ++i) {
    const double x = 0.4 + 0.2 * std::fabs(std::sin(i * 0.37));
    EXPECT_EQ(a.Push(x), b.Push(x));
  }
}

}  // namespace
}  // namespace isoscope
