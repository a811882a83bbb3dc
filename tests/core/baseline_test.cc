// Expected values by hand: z = |x - mean| / std (population) of the earlier rows in the window.
#include "isoscope/baseline.h"

#include <gtest/gtest.h>

#include <cmath>

namespace isoscope {
namespace {

const std::vector<TimeMs> kTimes = {0, kMinuteMs, 2 * kMinuteMs, 3 * kMinuteMs, 4 * kMinuteMs};

TEST(RollingZScoreBaseline, AgainstTheEarlierRowsOnly) {
  const std::vector<double> x = {1, 2, 3, 4, 100};
  const auto z = RollingZScoreBaseline(kTimes, {x.data()}, kDayMs, 3);
  EXPECT_TRUE(std::isnan(z[0]) && std::isnan(z[1]) && std::isnan(z[2]));  // < 3 earlier rows
  // Row 3: 1, 2, 3 have mean 2 and std sqrt(2/3): |4 - 2| / 0.816497 = 2.449490.
  EXPECT_NEAR(z[3], 2.0 / std::sqrt(2.0 / 3.0), 1e-12);
  // Row 4: 1..4 have mean 2.5 and std sqrt(1.25): 97.5 / 1.118034 = 87.2067.
  EXPECT_NEAR(z[4], 97.5 / std::sqrt(1.25), 1e-9);
}

TEST(RollingZScoreBaseline, WindowSlidesAndTheLargestInputWinsInEitherOrder) {
  const std::vector<double> x = {1, 2, 3, 4, 100};
  const std::vector<double> y = {5, std::nan(""), 5, 6, 4};
  // A 3-minute window at t = 4m holds the rows at 2m and 3m: x 3, 4 (mean 3.5, std 0.5)
  // gives 193; y 5, 6 (mean 5.5, std 0.5) gives 3. At t = 3m the window (0, 3m) holds the rows
  // at 1m and 2m: x 2, 3 gives |4 - 2.5| / 0.5 = 3; y has only its row at 2m (1m is missing).
  using Inputs = std::vector<const double*>;
  for (const Inputs& inputs : {Inputs{x.data(), y.data()}, Inputs{y.data(), x.data()}}) {
    const auto z = RollingZScoreBaseline(kTimes, inputs, 3 * kMinuteMs, 2);
    EXPECT_NEAR(z[4], 193.0, 1e-9);
    EXPECT_NEAR(z[3], 3.0, 1e-12);
  }
  // A constant window has no z.
  const std::vector<double> flat = {2, 2, 2, 2, 9};
  EXPECT_TRUE(std::isnan(RollingZScoreBaseline(kTimes, {flat.data()}, kDayMs, 2)[4]));
}

TEST(RollingZScoreBaseline, AValueAtTheMeanHasAZOfZero) {
  // Rows 2, 4, 2, 4 have mean 3 and std 1: a 3 at t = 4m is |3 - 3| / 1 = 0, a z of its own.
  const std::vector<double> level = {2, 4, 2, 4, 3};
  const auto zero = RollingZScoreBaseline(kTimes, {level.data()}, kDayMs, 2);
  EXPECT_EQ(zero[4], 0.0);
  EXPECT_FALSE(std::signbit(zero[4]));
}

}  // namespace
}  // namespace isoscope
