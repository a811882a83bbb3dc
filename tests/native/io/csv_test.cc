#include "csv.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <string>

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

// A file big enough to be read in pieces on several threads (kChunkRows, 4,096 lines a
// piece), with blank lines and CRLF line ends, as one reader would read it.
std::string BigCsv(size_t rows, size_t bad_row = SIZE_MAX, size_t bad_row2 = SIZE_MAX) {
  std::string text = "time,x,y\r\n";
  for (size_t i = 0; i < rows; ++i) {
    if (i % 1000 == 999) text += "\r\n";  // a blank line, counted in line numbers
    const std::string x = i == bad_row || i == bad_row2 ? "oops" : std::to_string(i) + ".25";
    text += std::to_string(1767225600 + 60 * i) + "," + x + "," + std::to_string(i % 7) + "\r\n";
  }
  return text;
}

TEST(ParseCsv, ABigFileReadInPiecesIsTheSameAsLineByLine) {
  const size_t rows = 30000;
  auto d = ParseCsv(BigCsv(rows), {}, "big.csv");
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  ASSERT_EQ(d->rows, rows);
  ASSERT_EQ(d->times.size(), rows);
  ASSERT_EQ(d->time_text.size(), rows);
  for (size_t i = 0; i < rows; ++i) {
    ASSERT_EQ(d->series[0][i], static_cast<double>(i) + 0.25) << i;
    ASSERT_EQ(d->series[1][i], static_cast<double>(i % 7)) << i;
    ASSERT_EQ(d->times[i], (1767225600 + 60 * static_cast<int64_t>(i)) * 1000) << i;
    ASSERT_EQ(d->time_text[i], std::to_string(1767225600 + 60 * i)) << i;
  }
}

TEST(ParseCsv, ABigFilesFirstBadLineIsTheOneNamed) {
  // Row i is on line 2 + i + (i + 1) / 1000: the header, and a blank line before rows 999,
  // 1999, ...
  auto late = ParseCsv(BigCsv(30000, 25000), {}, "big.csv");
  ASSERT_FALSE(late.ok());
  EXPECT_EQ(late.status().message(), "big.csv:25027: column 'x': 'oops' is not a number");
  auto both = ParseCsv(BigCsv(30000, 3000, 25000), {}, "big.csv");
  ASSERT_FALSE(both.ok());
  EXPECT_EQ(both.status().message(), "big.csv:3005: column 'x': 'oops' is not a number");
}

// One field read twice (a feature named twice, the time column named as a feature) takes the
// reader's other way, field by field; it must read the same values.
TEST(ParseCsv, AFieldNamedTwiceIsReadIntoEachColumn) {
  CsvOptions twice;
  twice.features = {"x", "y", "x"};
  auto d = ParseCsv("time,x,y\n1767225600,1.5,2\n1767225660,nan,3\n", twice);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  ASSERT_EQ(d->rows, 2u);
  EXPECT_EQ(d->series[0][0], 1.5);
  EXPECT_EQ(d->series[2][0], 1.5);
  EXPECT_TRUE(std::isnan(d->series[2][1]));
  EXPECT_EQ(d->series[1][1], 3);
  EXPECT_EQ(d->times[1], 1767225660000);
  CsvOptions time_too;
  time_too.features = {"time"};
  auto t = ParseCsv("time,x\n1767225600,1\n", time_too);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->series[0][0], 1767225600.0);
  EXPECT_EQ(t->times[0], 1767225600000);
  EXPECT_EQ(t->time_text[0], "1767225600");
}

// A line with several faults is named for the same one whichever way it is read: the field
// count first, then the features in the order asked for, then the time.
TEST(ParseCsv, ALineWithSeveralFaultsIsNamedForTheFirstInReadingOrder) {
  EXPECT_EQ(ParseCsv("time,x,y\nlater,a,b,c\n", {}, "in.csv").status().message(),
            "in.csv:2: has 4 fields, the header has 3");
  CsvOptions y_first;
  y_first.features = {"y", "x"};
  EXPECT_EQ(ParseCsv("time,x,y\nlater,a,b\n", y_first, "in.csv").status().message(),
            "in.csv:2: column 'y': 'b' is not a number");
  EXPECT_EQ(ParseCsv("time,x,y\nlater,1,2\n", {}, "in.csv").status().message(),
            "in.csv:2: time column 'time': cannot read 'later' (use epoch seconds, epoch "
            "milliseconds or ISO 8601 UTC)");
}

// Missing-value words and numbers that look like them at a glance.
TEST(ParseCsv, ReadsMissingWordsInAnyCaseAndNumbersOfTheirLength) {
  auto d = ParseCsv("x\nNaN\nnull\nNA\nNone\n1.0\n1.25\n12\n", {});
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  ASSERT_EQ(d->rows, 7u);
  for (size_t i = 0; i < 4; ++i) EXPECT_TRUE(std::isnan(d->series[0][i])) << i;
  EXPECT_EQ(d->series[0][4], 1.0);
  EXPECT_EQ(d->series[0][5], 1.25);
  EXPECT_EQ(d->series[0][6], 12.0);
  EXPECT_EQ(ParseCsv("x\nnan1\n", {}, "in.csv").status().message(),
            "in.csv:2: column 'x': 'nan1' is not a number");
}

// Pieces are read at once; the zoneless time reported is still the file's first.
TEST(ParseCsv, TheFirstZonelessTimeIsTheFilesFirstAcrossPieces) {
  std::string text = "time,x\n";
  for (size_t i = 0; i < 20000; ++i) {
    // rows 9,000 and 15,000 in the third and fourth pieces of 4,096 lines
    const std::string time = i == 9000    ? "2026-01-05 00:00:30"
                             : i == 15000 ? "2026-01-05 00:00:40"
                                          : std::to_string(1767225600 + 60 * i);
    text += time + ",1\n";
  }
  auto d = ParseCsv(text, {}, "in.csv");
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->zoneless_time, "2026-01-05 00:00:30");
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
