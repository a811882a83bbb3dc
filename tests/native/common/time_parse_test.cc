#include "time_parse.h"

#include <gtest/gtest.h>

namespace isoscope::native {
namespace {

constexpr TimeMs kMonday = 20458 * kDayMs;  // 2026-01-05T00:00:00Z

TEST(ParseTime, EpochSecondsMillisecondsAndIso) {
  EXPECT_EQ(*ParseTime("1767571200"), kMonday);
  EXPECT_EQ(*ParseTime("1767571200.5"), kMonday + 500);
  EXPECT_EQ(*ParseTime("1767571200000"), kMonday);
  EXPECT_EQ(*ParseTime("2026-01-05T00:00:00Z"), kMonday);
  EXPECT_EQ(*ParseTime("2026-01-05 00:00:00"), kMonday);
  EXPECT_EQ(*ParseTime("2026-01-05T01:30:00+01:30"), kMonday);
  EXPECT_EQ(*ParseTime("2026-01-04T23:00:00-01:00"), kMonday);
  EXPECT_EQ(*ParseTime("2026-01-05T00:00:00.250Z"), kMonday + 250);
  EXPECT_EQ(*ParseTime("2026-01-05"), kMonday);
  EXPECT_EQ(*ParseTime("\"2026-01-05T00:00Z\""), kMonday);
  EXPECT_EQ(*ParseTime("1969-12-31T23:59:59Z"), -1000);
}

TEST(ParseTime, SaysWhetherATimeHadNoZone) {
  bool zoneless = true;
  for (const char* with_zone : {"2026-01-05T00:00:00Z", "2026-01-05T01:00:00+01:00",
                                "2026-01-05T00:00:00-0000", "1767571200", "1767571200000"}) {
    ASSERT_TRUE(ParseTime(with_zone, &zoneless).has_value()) << with_zone;
    EXPECT_FALSE(zoneless) << with_zone;
  }
  const std::pair<const char*, TimeMs> without_zone[] = {{"2026-01-05 00:00:00", kMonday},
                                                         {"2026-01-05T00:00", kMonday},
                                                         {"2026-01-05", kMonday},
                                                         {"2026-01-05T00:00:00.5", kMonday + 500}};
  for (const auto& [text, ms] : without_zone) {
    zoneless = false;
    ASSERT_EQ(ParseTime(text, &zoneless), ms) << text;  // read as UTC
    EXPECT_TRUE(zoneless) << text;
  }
}

TEST(ParseTime, RejectsWhatItCannotRead) {
  for (const char* bad : {"", "yesterday", "2026-13-01T00:00:00Z", "2026-01-05T00:00:00Q", "12:00",
                          "nan", "2026-01-05T25:00:00Z"}) {
    EXPECT_FALSE(ParseTime(bad).has_value()) << bad;
  }
}

TEST(FormatTime, RoundTrips) {
  for (TimeMs t : {kMonday, kMonday + 1, TimeMs{0}, TimeMs{-1000}, kMonday + 86399999}) {
    EXPECT_EQ(*ParseTime(FormatTime(t)), t) << FormatTime(t);
  }
  EXPECT_EQ(FormatTime(kMonday), "2026-01-05T00:00:00Z");
}

TEST(ParseDuration, Units) {
  EXPECT_EQ(*ParseDuration("30s"), 30000);
  EXPECT_EQ(*ParseDuration("5m"), 5 * kMinuteMs);
  EXPECT_EQ(*ParseDuration("1h"), kHourMs);
  EXPECT_EQ(*ParseDuration("1d"), kDayMs);
  EXPECT_EQ(*ParseDuration("1w"), kWeekMs);
  EXPECT_EQ(*ParseDuration("250ms"), 250);
  EXPECT_FALSE(ParseDuration("5").has_value());
  EXPECT_FALSE(ParseDuration("m").has_value());
  EXPECT_FALSE(ParseDuration("5y").has_value());
}

}  // namespace
}  // namespace isoscope::native
