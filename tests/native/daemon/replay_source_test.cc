#include "replay_source.h"

#include <gtest/gtest.h>

#include <cmath>

#include "demo_data.h"
#include "time_parse.h"

namespace isoscope::native {
namespace {

TimeMs T(const char* iso) { return *ParseTime(iso); }

// Two jobs at 60 s; payments misses error_rate at 00:02 and has no row at 00:03.
constexpr const char* kCsv =
    "timestamp,job,latency,error_rate\n"
    "2026-01-05T00:00:00Z,checkout,100,0.01\n"
    "2026-01-05T00:00:00Z,payments,200,0.02\n"
    "2026-01-05T00:01:00Z,checkout,101,0.011\n"
    "2026-01-05T00:01:00Z,payments,201,0.021\n"
    "2026-01-05T00:02:00Z,checkout,102,0.012\n"
    "2026-01-05T00:02:00Z,payments,202,\n"
    "2026-01-05T00:03:00Z,checkout,103,0.013\n";

std::map<std::string, double> ByJob(const std::vector<PromSample>& samples) {
  std::map<std::string, double> out;
  for (const PromSample& s : samples) out[s.labels.at("job")] = s.value;
  return out;
}

TEST(ReplaySourceTest, ParsesColumnsGroupsAndSpan) {
  auto r = ReplaySource::FromCsv(kCsv, "h.csv", {"job", "zone"});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->columns(), (std::vector<std::string>{"latency", "error_rate"}));
  EXPECT_EQ(r->label_columns(), (std::vector<std::string>{"job"}));
  EXPECT_EQ(r->rows(), 7u);
  EXPECT_EQ(r->groups(), 2u);
  EXPECT_EQ(r->first_time(), T("2026-01-05T00:00:00Z"));
  EXPECT_EQ(r->last_time(), T("2026-01-05T00:03:00Z"));
}

TEST(ReplaySourceTest, NewestSampleAtOrBeforeTime) {
  auto r = ReplaySource::FromCsv(kCsv, "h.csv", {"job"});
  ASSERT_TRUE(r.ok());
  // Exactly on a row, and between rows: the row at or before t.
  auto at = r->Query("latency", T("2026-01-05T00:01:00Z"));
  ASSERT_TRUE(at.ok());
  EXPECT_EQ(ByJob(*at), (std::map<std::string, double>{{"checkout", 101}, {"payments", 201}}));
  auto between = r->Query("latency", T("2026-01-05T00:01:59Z"));
  ASSERT_TRUE(between.ok());
  EXPECT_EQ(ByJob(*between), (std::map<std::string, double>{{"checkout", 101}, {"payments", 201}}));
  for (const PromSample& s : *between) {
    EXPECT_EQ(s.time, T("2026-01-05T00:01:00Z"));
    EXPECT_EQ(s.labels.size(), 1u);  // the label columns only
  }
}

TEST(ReplaySourceTest, MissingCellFallsBackWithinLookbackLikePrometheus) {
  auto r = ReplaySource::FromCsv(kCsv, "h.csv", {"job"});
  ASSERT_TRUE(r.ok());
  // payments' error_rate is empty at 00:02: the 00:01 value is still within 5 minutes.
  auto q = r->Query("error_rate", T("2026-01-05T00:02:30Z"));
  ASSERT_TRUE(q.ok());
  EXPECT_DOUBLE_EQ(ByJob(*q).at("payments"), 0.021);
  // At 00:06:00 payments' newest row (00:02) is within 5 minutes but its value is missing,
  // and 00:01 is 5 minutes old: no sample, the group is absent. checkout's 00:03 remains.
  auto late = r->Query("error_rate", T("2026-01-05T00:06:00Z"));
  ASSERT_TRUE(late.ok());
  EXPECT_EQ(ByJob(*late), (std::map<std::string, double>{{"checkout", 0.013}}));
}

TEST(ReplaySourceTest, OutsideTheHistoryIsAnError) {
  auto r = ReplaySource::FromCsv(kCsv, "h.csv", {"job"});
  ASSERT_TRUE(r.ok());
  auto before = r->Query("latency", T("2026-01-04T23:59:59Z"));
  ASSERT_FALSE(before.ok());
  EXPECT_NE(before.status().message().find("before the history"), std::string::npos);
  auto after = r->Query("latency", T("2026-01-05T00:08:00Z"));
  ASSERT_FALSE(after.ok());
  EXPECT_NE(after.status().message().find("ended at 2026-01-05T00:03:00Z"), std::string::npos);
  auto unknown = r->Query("cpu", T("2026-01-05T00:01:00Z"));
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("no column 'cpu'"), std::string::npos);
}

TEST(ReplaySourceTest, WithoutLabelColumnsOneSeriesAndUnsortedRows) {
  const char* csv =
      "time,a\n"
      "1767571320,3\n"
      "1767571200,1\n"
      "1767571260,2\n";
  auto r = ReplaySource::FromCsv(csv, "h.csv", {"job"});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_TRUE(r->label_columns().empty());
  auto q = r->Query("a", 1767571290000);
  ASSERT_TRUE(q.ok());
  ASSERT_EQ(q->size(), 1u);
  EXPECT_EQ((*q)[0].value, 2);
  EXPECT_TRUE((*q)[0].labels.empty());
}

TEST(ReplaySourceTest, RejectsBadInput) {
  EXPECT_FALSE(ReplaySource::FromCsv("", "e.csv", {}).ok());
  auto no_time = ReplaySource::FromCsv("a,b\n1,2\n", "n.csv", {});
  ASSERT_FALSE(no_time.ok());
  EXPECT_NE(no_time.status().message().find("no time column"), std::string::npos);
  auto text = ReplaySource::FromCsv("timestamp,a\n1767571200,x\n", "t.csv", {});
  ASSERT_FALSE(text.ok());
  EXPECT_NE(text.status().message().find("'x' is not a number"), std::string::npos);
  auto dup =
      ReplaySource::FromCsv("timestamp,job,a\n1767571200,x,1\n1767571200,x,2\n", "d.csv", {"job"});
  ASSERT_FALSE(dup.ok());
  EXPECT_NE(dup.status().message().find("two rows for group {job=\"x\"}"), std::string::npos);
}

TEST(ReplaySourceTest, ReplaysTheBuiltInHistory) {
  const DemoData data = GenerateDemoData(21, 7);
  auto r = ReplaySource::FromCsv(DemoDataCsv(data), "demo", {});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->rows(), data.times.size());
  const size_t i = 5000;
  for (size_t c = 0; c < data.names.size(); ++c) {
    auto q = r->Query(data.names[c], data.times[i] + 30'000);
    ASSERT_TRUE(q.ok());
    ASSERT_EQ(q->size(), 1u);
    EXPECT_EQ((*q)[0].value, data.series[c][i]);  // the CSV keeps every digit
  }
}

}  // namespace
}  // namespace isoscope::native
