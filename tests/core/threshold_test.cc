#include "isoscope/threshold.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace isoscope {
namespace {

TEST(PercentileLinear, MatchesNumpyBitForBit) {
  // np.percentile([0.1, 0.4, 0.35, 0.8, -0.2, 0.33, 0.9], q) with numpy 1.24.
  std::vector<double> v = {0.1, 0.4, 0.35, 0.8, -0.2, 0.33, 0.9};
  std::sort(v.begin(), v.end());
  EXPECT_EQ(PercentileLinear(v, 0), -0.2);
  EXPECT_EQ(PercentileLinear(v, 2), -0.164);
  EXPECT_EQ(PercentileLinear(v, 25), 0.21500000000000002);
  EXPECT_EQ(PercentileLinear(v, 50), 0.35);
  EXPECT_EQ(PercentileLinear(v, 97.5), 0.885);
  EXPECT_EQ(PercentileLinear(v, 100), 0.9);
}

TEST(PercentileLinear, SingleValue) { EXPECT_EQ(PercentileLinear({-0.5}, 2.0), -0.5); }

TEST(QuantileTable, ExactOnGridAndBoundedOutside) {
  std::vector<double> scores;
  for (int i = 0; i < 10000; ++i) {
    scores.push_back(-0.4 - 0.3 * (i / 10000.0) * (i / 10000.0));
  }
  std::sort(scores.begin(), scores.end());
  const QuantileTable t = BuildQuantileTable(scores);
  ASSERT_GT(t.contamination.size(), 100u);
  EXPECT_EQ(t.contamination.front(), kMinContamination);
  EXPECT_EQ(t.contamination.back(), kMaxContamination);
  for (size_t i = 0; i < t.contamination.size(); i += 37) {
    const double c = t.contamination[i];
    EXPECT_EQ(*InterpolateThreshold(t, c), -PercentileLinear(scores, 100.0 * c));
  }
  // Between grid points the interpolated threshold stays close to the exact one.
  for (double c : {0.001, 0.0123, 0.02, 0.2, 0.333}) {
    EXPECT_NEAR(*InterpolateThreshold(t, c), -PercentileLinear(scores, 100.0 * c), 1e-4) << c;
  }
  EXPECT_FALSE(InterpolateThreshold(t, 0.0001).ok());
  EXPECT_FALSE(InterpolateThreshold(t, 0.6).ok());
  EXPECT_EQ(InterpolateThreshold(QuantileTable{}, 0.02).status().code(), ErrorCode::kCorrupt);
}

TEST(QuantileTable, HigherContaminationNeverRaisesTheThreshold) {
  std::vector<double> scores;
  for (int i = 0; i < 5000; ++i) {
    scores.push_back(-0.5 + 0.0001 * ((i * 7919) % 5000) - 0.2 * (i % 13 == 0));
  }
  std::sort(scores.begin(), scores.end());
  const QuantileTable t = BuildQuantileTable(scores);
  double previous = 2.0;
  for (double c = 0.0005; c <= 0.5; c *= 1.01) {
    const double th = *InterpolateThreshold(t, c);
    EXPECT_LE(th, previous);
    previous = th;
  }
}

}  // namespace
}  // namespace isoscope
