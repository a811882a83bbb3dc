#include "isoscope/scaler.h"

#include <gtest/gtest.h>

#include <cmath>

#include "support/golden.h"

namespace isoscope {
namespace {

TEST(StandardScaler, PopulationStdByHand) {
  const std::vector<double> x = {1, 10, 2, 10, 3, 10, 4, 10};  // 4 rows x 2 columns
  auto s = FitScaler(Scaler::Kind::kStandard, x.data(), 4, 2);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->mean[0], 2.5);
  EXPECT_EQ(s->scale[0], std::sqrt(1.25));  // population variance 1.25, not 5/3
  EXPECT_EQ(s->mean[1], 10.0);
  EXPECT_EQ(s->scale[1], 1.0) << "zero variance keeps scale 1";
  double row[2] = {4, 10};
  s->TransformRow(row);
  EXPECT_EQ(row[0], 1.5 / std::sqrt(1.25));
  EXPECT_EQ(row[1], 0.0);
}

TEST(StandardScaler, NoneIsTheIdentity) {
  const std::vector<double> x = {1, 2, 3};
  auto s = FitScaler(Scaler::Kind::kNone, x.data(), 3, 1);
  ASSERT_TRUE(s.ok());
  double row[1] = {7.25};
  s->TransformRow(row);
  EXPECT_EQ(row[0], 7.25);
}

TEST(StandardScaler, MatchesScikitLearnOnGoldenData) {
  const auto c = testing::LoadGoldenCase("scaler_pipeline");
  const auto golden = nlohmann::json::parse(testing::ReadText(c.dir + "/scaler.json"));
  const std::vector<double> x = testing::RowMajor(c.train);
  auto s = FitScaler(Scaler::Kind::kStandard, x.data(), c.train.rows, c.train.series.size());
  ASSERT_TRUE(s.ok());
  const auto mean = golden["mean_"].get<std::vector<double>>();
  const auto scale = golden["scale_"].get<std::vector<double>>();
  ASSERT_EQ(s->mean.size(), mean.size());
  for (size_t j = 0; j < mean.size(); ++j) {
    // Same summation order as numpy's axis-0 reduction: equal, not just close.
    EXPECT_EQ(s->mean[j], mean[j]) << "column " << j;
    EXPECT_EQ(s->scale[j], scale[j]) << "column " << j;
  }
}

}  // namespace
}  // namespace isoscope
