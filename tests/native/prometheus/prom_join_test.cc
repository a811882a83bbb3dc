#include "prom_join.h"

#include <gtest/gtest.h>

#include <cmath>

namespace isoscope::native {
namespace {

PromSeries Series(std::map<std::string, std::string> labels, std::vector<TimeMs> t,
                  std::vector<double> v) {
  PromSeries s;
  s.labels = std::move(labels);
  s.times = std::move(t);
  s.values = std::move(v);
  return s;
}

TEST(GroupKey, UsesOnlyTheGroupLabelsInTheirOrder) {
  EXPECT_EQ(GroupKey({{"job", "checkout"}, {"instance", "a:1"}}, {"job"}), "{job=\"checkout\"}");
  EXPECT_EQ(GroupKey({{"job", "x"}}, {"job", "zone"}), "{job=\"x\",zone=\"\"}");
  EXPECT_EQ(GroupKey({{"job", "x"}}, {}), "{}");
}

TEST(JoinByGroup, AlignsQueriesByGroupAndTimeWithNaNForGaps) {
  std::vector<std::pair<std::string, std::vector<PromSeries>>> in = {
      {"latency",
       {Series({{"job", "b"}}, {0, 60000}, {1, 2}), Series({{"job", "a"}}, {0, 60000}, {3, 4})}},
      {"errors", {Series({{"job", "a"}, {"code", "5xx"}}, {60000, 120000}, {0.1, 0.2})}},
  };
  auto j = JoinByGroup(in, {"job"});
  ASSERT_TRUE(j.ok()) << j.status().ToString();
  ASSERT_EQ(j->groups, (std::vector<std::string>{"{job=\"a\"}", "{job=\"b\"}"}));
  // group a: t=0 (errors missing), 60000, 120000 (latency missing); group b: 0, 60000.
  ASSERT_EQ(j->rows(), 5u);
  EXPECT_EQ(j->times, (std::vector<TimeMs>{0, 60000, 120000, 0, 60000}));
  EXPECT_EQ(j->group_of_row, (std::vector<int32_t>{0, 0, 0, 1, 1}));
  EXPECT_EQ(j->series[0][0], 3);
  EXPECT_TRUE(std::isnan(j->series[1][0]));
  EXPECT_EQ(j->series[1][1], 0.1);
  EXPECT_TRUE(std::isnan(j->series[0][2]));
  EXPECT_TRUE(std::isnan(j->series[1][3]));
}

TEST(JoinByGroup, TwoSeriesForOneGroupSaysHowToAggregate) {
  std::vector<std::pair<std::string, std::vector<PromSeries>>> in = {
      {"latency",
       {Series({{"job", "a"}, {"instance", "1"}}, {0}, {1}),
        Series({{"job", "a"}, {"instance", "2"}}, {0}, {2})}}};
  auto j = JoinByGroup(in, {"job"});
  ASSERT_FALSE(j.ok());
  EXPECT_NE(j.status().message().find("sum by (job)"), std::string::npos);
  EXPECT_NE(j.status().message().find("{job=\"a\"}"), std::string::npos);
}

}  // namespace
}  // namespace isoscope::native
