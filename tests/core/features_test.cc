#include "isoscope/features.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace isoscope {
namespace {

// 2026-01-05T00:00:00Z is a Monday: 20458 days after the epoch.
constexpr TimeMs kMonday = 20458 * kDayMs;

// One duration grammar for the CLI, the config and feature names (issue 22: the native twin
// accepted 12 digits, which overflows int64 in weeks, and formatted a week as 7d).
TEST(Duration, UnitsByHand) {
  EXPECT_EQ(ParseDurationMs("250ms").value(), 250);
  EXPECT_EQ(ParseDurationMs("30s").value(), 30'000);
  EXPECT_EQ(ParseDurationMs("5m").value(), 300'000);
  EXPECT_EQ(ParseDurationMs("1h").value(), 3'600'000);
  EXPECT_EQ(ParseDurationMs("1d").value(), 86'400'000);
  EXPECT_EQ(ParseDurationMs("1w").value(), 604'800'000);
  EXPECT_EQ(ParseDurationMs(" 2h ").value(), 7'200'000);
  for (const char* bad : {"5", "m", "5y", "1.5h", "-1m", "", "10000000000ms"}) {
    EXPECT_EQ(ParseDurationMs(bad).status().code(), ErrorCode::kInvalidArgument) << bad;
  }
}

TEST(Duration, ZeroOnlyWhenAllowed) {
  EXPECT_EQ(ParseDurationMs("0s").status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(ParseDurationMs("0s", /*allow_zero=*/true).value(), 0);
  EXPECT_EQ(ParseDurationMs("0m", /*allow_zero=*/true).value(), 0);
}

TEST(Duration, FormatUsesTheLargestUnitAndReadsBack) {
  for (TimeMs ms :
       {TimeMs{250}, TimeMs{30'000}, TimeMs{60'000}, TimeMs{5'400'000}, TimeMs{3'600'000},
        TimeMs{7'776'000'000}, TimeMs{1500}, TimeMs{1'209'600'000}}) {
    EXPECT_EQ(ParseDurationMs(FormatDurationMs(ms)).value(), ms) << FormatDurationMs(ms);
  }
  EXPECT_EQ(FormatDurationMs(7'776'000'000), "90d");
  EXPECT_EQ(FormatDurationMs(1'209'600'000), "2w");
  EXPECT_EQ(FormatDurationMs(5'400'000), "90m");
  EXPECT_EQ(FormatDurationMs(60'000), "1m");
  EXPECT_EQ(FormatDurationMs(1500), "1500ms");
  EXPECT_EQ(FormatDurationMs(0), "0ms");
}

TEST(HourOfWeek, MondayMidnightIsZeroAndSundayEveningIs167) {
  EXPECT_EQ(HourOfWeek(kMonday), 0);
  EXPECT_EQ(HourOfWeek(kMonday - 1), 167);  // Sunday 23:59:59.999
  EXPECT_EQ(HourOfWeek(kMonday + kHourMs - 1), 0);
  EXPECT_EQ(HourOfWeek(kMonday + kHourMs), 1);
  EXPECT_EQ(HourOfWeek(kMonday + kWeekMs), 0);
  EXPECT_EQ(HourOfWeek(kMonday + 4 * kDayMs + 13 * kHourMs), 4 * 24 + 13);  // Friday 13:00
}

TEST(HourOfWeek, EpochAndTimesBeforeIt) {
  EXPECT_EQ(HourOfWeek(0), 3 * 24);       // 1970-01-01 was a Thursday
  EXPECT_EQ(HourOfWeek(-3 * kDayMs), 0);  // Monday 1969-12-29
  EXPECT_EQ(HourOfWeek(-3 * kDayMs - 1), 167);
}

TEST(DeployWindows, DefaultIsWeekdaysTenToNoon) {
  FeatureSpec spec;
  spec.inputs = {"x"};
  spec.derived = {{DerivedFeature::Kind::kIsDeployWindow}};
  const std::vector<TimeMs> times = {
      kMonday + 10 * kHourMs,                  // Mon 10:00 in
      kMonday + 12 * kHourMs - 1,              // Mon 11:59:59.999 in
      kMonday + 12 * kHourMs,                  // Mon 12:00 out (end exclusive)
      kMonday + 9 * kHourMs + 59 * kMinuteMs,  // Mon 09:59 out
      kMonday + 4 * kDayMs + 11 * kHourMs,     // Fri 11:00 in
      kMonday + 5 * kDayMs + 11 * kHourMs,     // Sat 11:00 out
  };
  const std::vector<double> x(times.size(), 1.0);
  auto rows = BuildFeatureRows(spec, times.data(), {x.data()}, times.size());
  ASSERT_TRUE(rows.ok());
  const std::vector<double> expected = {1, 1, 0, 0, 1, 0};
  for (size_t i = 0; i < times.size(); ++i) {
    EXPECT_EQ(rows->values[i * 2 + 1], expected[i]) << "row " << i;
  }
}

TEST(DeployWindows, ParsesRangesAndMidnightCrossing) {
  auto w = ParseDeployWindows("Sat 22:00-02:00; mon 09:30-10:00");
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  ASSERT_EQ(w->size(), 3u);
  EXPECT_EQ((*w)[0], (WeeklyWindow{5 * 1440 + 22 * 60, 6 * 1440}));
  EXPECT_EQ((*w)[1], (WeeklyWindow{6 * 1440, 6 * 1440 + 120}));
  EXPECT_EQ((*w)[2], (WeeklyWindow{9 * 60 + 30, 10 * 60}));
  auto sunday = ParseDeployWindows("Sun 23:00-01:00");  // wraps into Monday
  ASSERT_TRUE(sunday.ok());
  EXPECT_EQ((*sunday)[1], (WeeklyWindow{0, 60}));
  EXPECT_EQ(FormatDeployWindows(DefaultDeployWindows()).substr(0, 15), "Mon 10:00-12:00");
}

TEST(DeployWindows, ErrorsSayWhatToWrite) {
  for (const char* bad :
       {"Mon", "Xyz 10:00-12:00", "Mon 10:00", "Mon 25:00-26:00", "Mon 10:00-10:00", ""}) {
    auto w = ParseDeployWindows(bad);
    EXPECT_FALSE(w.ok()) << bad;
    EXPECT_NE(w.status().message().find("Mon-Fri 10:00-12:00"), std::string::npos);
  }
}

TEST(DerivedList, ParsesKnownNamesAndRejectsOthers) {
  auto d = ParseDerivedList("hour_of_week, is_deploy_window", {"x"});
  ASSERT_TRUE(d.ok());
  ASSERT_EQ(d->size(), 2u);
  EXPECT_EQ((*d)[0].Name({"x"}), "hour_of_week");
  EXPECT_TRUE(ParseDerivedList("none", {"x"})->empty());
  EXPECT_FALSE(ParseDerivedList("hour_of_weak", {"x"}).ok());
  EXPECT_FALSE(ParseDerivedList("hour_of_week,hour_of_week", {"x"}).ok());
}

TEST(BuildFeatureRows, MissingAndNonFiniteRowsAreMarkedNotFilled) {
  FeatureSpec spec;
  spec.inputs = {"a", "b"};
  spec.derived = {{DerivedFeature::Kind::kHourOfWeek}};
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  const std::vector<double> a = {1, nan, 3, 4};
  const std::vector<double> b = {5, 6, -inf, 8};
  const std::vector<TimeMs> t = {kMonday, kMonday, kMonday, std::numeric_limits<TimeMs>::min()};
  auto rows = BuildFeatureRows(spec, t.data(), {a.data(), b.data()}, 4);
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(rows->usable, 1u);
  EXPECT_EQ(rows->problems[0].issue, RowIssue::kNone);
  EXPECT_EQ(rows->problems[1].issue, RowIssue::kMissing);
  EXPECT_EQ(FeatureRows::Describe(rows->problems[1], spec), "missing value in a");
  EXPECT_EQ(rows->problems[2].issue, RowIssue::kNonFinite);
  EXPECT_EQ(FeatureRows::Describe(rows->problems[2], spec), "infinite value in b");
  EXPECT_EQ(rows->problems[3].issue, RowIssue::kNoTimestamp);
  EXPECT_EQ(rows->values[0], 1);
  EXPECT_EQ(rows->values[1], 5);
  EXPECT_EQ(rows->values[2], 0);
}

TEST(BuildFeatureRows, TimeFeaturesWithoutTimesIsAnError) {
  FeatureSpec spec;
  spec.inputs = {"a"};
  spec.derived = {{DerivedFeature::Kind::kHourOfWeek}};
  const std::vector<double> a = {1};
  auto rows = BuildFeatureRows(spec, nullptr, {a.data()}, 1);
  EXPECT_EQ(rows.status().code(), ErrorCode::kInvalidArgument);
}

TEST(FeatureSpec, DuplicateNamesAreRejected) {
  FeatureSpec spec;
  spec.inputs = {"hour_of_week"};
  spec.derived = {{DerivedFeature::Kind::kHourOfWeek}};
  EXPECT_FALSE(spec.Validate().ok());
}

// The what-if page's warm-up: the longest look-back on the step grid, and one step more.
TEST(FeatureSpec, WarmupIsTheLongestLookbackOnTheStepGridPlusAStep) {
  FeatureSpec spec;
  spec.inputs = {"x"};
  spec.step_ms = 60'000;
  EXPECT_EQ(spec.warmup_ms(), 0);  // no temporal feature: nothing to warm
  spec.derived = {{DerivedFeature::Kind::kHourOfWeek}};
  EXPECT_EQ(spec.warmup_ms(), 0);
  DerivedFeature seasonal{DerivedFeature::Kind::kSeasonalMedianDiff, 0, kWeekMs, 3, 30 * 60'000};
  DerivedFeature delta{DerivedFeature::Kind::kDelta, 0, 3600'000};
  spec.derived = {delta, seasonal};
  // 3 weeks and 30 minutes, already on the minute grid, then one minute more.
  EXPECT_EQ(spec.warmup_ms(), 3 * kWeekMs + 30 * 60'000 + 60'000);
  spec.step_ms = 7 * 60'000;  // 3w 30m = 4324.28... steps of 7 minutes: 4325 steps, then one
  EXPECT_EQ(spec.warmup_ms(), 4326LL * 7 * 60'000);
}

}  // namespace
}  // namespace isoscope
