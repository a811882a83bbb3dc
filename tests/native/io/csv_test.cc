#include "csv.h"

#include <gtest/gtest.h>

#include <cmath>

namespace isoscope::native {
namespace {

TEST(ParseCsv, FindsTheTimeColumnAndReadsSeries) {
  const std::string text =
      "timestamp,latency,errors\r\n"
      "2026-01-05T00:00:00Z,120.5,0.01\r\n"
      "2026-01-05T00:01:00Z,,NaN\r\n"
      "\n"
      "2026-01-05T00:02:00Z,+1e2,-0.5\r\n";
  auto d = ParseCsv(text, {});
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->time_column, "timestamp");
  EXPECT_EQ(d->rows, 3u);
  EXPECT_EQ(d->feature_names, (std::vector<std::string>{"latency", "errors"}));
  EXPECT_EQ(d->series[0][0], 120.5);
  EXPECT_TRUE(std::isnan(d->series[0][1]));
  EXPECT_TRUE(std::isnan(d->series[1][1]));
  EXPECT_EQ(d->series[0][2], 100.0);
  EXPECT_EQ(d->times[1] - d->times[0], 60000);
  EXPECT_EQ(d->time_text[2], "2026-01-05T00:02:00Z");
}

TEST(ParseCsv, SelectsFeaturesByNameInTheGivenOrder) {
  CsvOptions o;
  o.features = {"c", "a"};
  o.no_time = true;
  auto d = ParseCsv("a,b,c\n1,2,3\n", o);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->series[0][0], 3);
  EXPECT_EQ(d->series[1][0], 1);
  EXPECT_TRUE(d->time_column.empty());
}

TEST(ParseCsv, ErrorsNameTheLineAndTheColumn) {
  auto bad_number = ParseCsv("t,x\n1,2\n2,abc\n", {}, "in.csv");
  ASSERT_FALSE(bad_number.ok());
  EXPECT_EQ(bad_number.status().message(), "in.csv:3: column 'x': 'abc' is not a number");
  auto short_row = ParseCsv("a,b\n1\n", {}, "in.csv");
  EXPECT_NE(short_row.status().message().find("in.csv:2: has 1 fields"), std::string::npos);
  CsvOptions o;
  o.features = {"nope"};
  auto missing = ParseCsv("a,b\n1,2\n", o, "in.csv");
  EXPECT_NE(missing.status().message().find("no column 'nope'; the header has: a, b"),
            std::string::npos);
  auto bad_time = ParseCsv("time,x\nlater,1\n", {}, "in.csv");
  EXPECT_NE(bad_time.status().message().find("cannot read 'later'"), std::string::npos);
  EXPECT_FALSE(ParseCsv("", {}).ok());
}

TEST(ParseCsv, RefusesColumnNamesThatAreNotUtf8) {
  auto r = ParseCsv("time,lat\xff\n1,2\n", {}, "in.csv");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            "in.csv:1: column 2 name 'lat\\xff' is not valid UTF-8; save the file as UTF-8");
  EXPECT_TRUE(ParseCsv("time,lat\xc3\xa9\n1,2\n", {}, "in.csv").ok());  // "laté"
}

TEST(SplitList, TrimsAndSkipsEmpty) {
  EXPECT_EQ(SplitList(" a, b ,,c"), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_TRUE(SplitList("  ").empty());
}

}  // namespace
}  // namespace isoscope::native
