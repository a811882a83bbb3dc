#include "time_rules.h"

#include <gtest/gtest.h>

#include "csv.h"
#include "scored_csv.h"

namespace isoscope::native {
namespace {

std::vector<std::string> Texts(const std::vector<TimeMs>& times) {
  std::vector<std::string> out;
  for (TimeMs t : times) out.push_back(std::to_string(t / 1000));
  return out;
}

TEST(CheckTimes, KeepsTheLaterOfTwoRowsWithOneTime) {
  const std::vector<TimeMs> times = {0, 60000, 60000, 120000};
  auto rules = CheckTimes(times, Texts(times), "f.csv");
  ASSERT_TRUE(rules.ok()) << rules.status().ToString();
  EXPECT_EQ(rules->rows, 4u);
  EXPECT_EQ(rules->kept, (std::vector<size_t>{0, 2, 3}));
  EXPECT_EQ(rules->repeated(), 1u);
  EXPECT_EQ(rules->KeptRowOf(), (std::vector<size_t>{0, 2, 2, 3}));
  EXPECT_EQ(rules->Notes(),
            (std::vector<std::string>{"1 row repeated the time of the row after it; the later "
                                      "row was kept (first at row 1)"}));
}

// A clock change as real exports have it: the rows of the skipped hour all stamped 03:00.
TEST(CheckTimes, AnHourStampedWithOneTimeKeepsItsLastRow) {
  std::vector<TimeMs> times = {kHourMs + 55 * kMinuteMs};  // 01:55
  for (int i = 0; i < 12; ++i) times.push_back(3 * kHourMs);
  times.push_back(3 * kHourMs + 4 * kMinuteMs);
  auto rules = CheckTimes(times, Texts(times), "f.csv");
  ASSERT_TRUE(rules.ok());
  EXPECT_EQ(rules->kept, (std::vector<size_t>{0, 12, 13}));
  EXPECT_EQ(rules->repeated(), 11u);
  const std::vector<size_t> of = rules->KeptRowOf();
  for (size_t row = 1; row <= 12; ++row) EXPECT_EQ(of[row], 12u) << row;
  EXPECT_EQ(rules->Notes()[0],
            "11 rows repeated the time of the row after it; the later row was kept (first at "
            "row 1)");
}

TEST(CheckTimes, ATimeEarlierThanTheRowBeforeNamesBothRowsAndTimes) {
  const std::vector<TimeMs> times = {0, 60000, 60000, 30000};
  const std::vector<std::string> text = {"2026-01-05 00:00:00", "2026-01-05 00:01:00",
                                         "2026-01-05 00:01:00", "2026-01-05 00:00:30"};
  auto rules = CheckTimes(times, text, "f.csv");
  ASSERT_FALSE(rules.ok());
  EXPECT_EQ(rules.status().code(), ErrorCode::kBadInput);
  EXPECT_EQ(rules.status().message(),
            "f.csv: the time goes back at row 3: '2026-01-05 00:00:30' is earlier than "
            "'2026-01-05 00:01:00' at row 2 (rows numbered from 0 after the header, as score's "
            "row column); sort the rows by time");
}

TEST(CheckTimes, SortedDistinctTimesKeepEveryRowAndSayNothing) {
  const std::vector<TimeMs> times = {0, 1, 2};
  auto rules = CheckTimes(times, Texts(times), "f.csv");
  ASSERT_TRUE(rules.ok());
  EXPECT_EQ(rules->kept, (std::vector<size_t>{0, 1, 2}));
  EXPECT_TRUE(rules->Notes().empty());
}

TEST(ApplyTimeRules, DropsRepeatedRowsFromEveryColumnAndNotesZonelessTimes) {
  auto data = ParseCsv(
      "time,a,b\n"
      "2026-01-05 00:00:00,1,10\n"
      "2026-01-05T00:01:00Z,2,20\n"
      "2026-01-05 00:01:00,3,30\n"
      "1767571320,4,40\n",
      {}, "f.csv");
  ASSERT_TRUE(data.ok()) << data.status().ToString();
  EXPECT_EQ(data->zoneless_time, "2026-01-05 00:00:00");
  auto rules = ApplyTimeRules(*data, "f.csv");
  ASSERT_TRUE(rules.ok()) << rules.status().ToString();
  EXPECT_EQ(data->rows, 3u);
  EXPECT_EQ(data->series[0], (std::vector<double>{1, 3, 4}));  // the later row's values
  EXPECT_EQ(data->series[1], (std::vector<double>{10, 30, 40}));
  EXPECT_EQ(data->time_text,
            (std::vector<std::string>{"2026-01-05 00:00:00", "2026-01-05 00:01:00", "1767571320"}));
  EXPECT_EQ(data->times, (std::vector<TimeMs>{1767571200000, 1767571260000, 1767571320000}));
  EXPECT_EQ(rules->Notes(),
            (std::vector<std::string>{
                "1 row repeated the time of the row after it; the later row was kept (first at "
                "row 1)",
                "times without a zone (such as '2026-01-05 00:00:00') were read as UTC"}));
}

TEST(ApplyTimeRules, WithoutATimeColumnKeepsEveryRow) {
  CsvOptions o;
  o.no_time = true;
  auto data = ParseCsv("time,a\n5,1\n5,2\n1,3\n", o, "f.csv");
  ASSERT_TRUE(data.ok());
  auto rules = ApplyTimeRules(*data, "f.csv");
  ASSERT_TRUE(rules.ok());
  EXPECT_EQ(rules->kept, (std::vector<size_t>{0, 1, 2}));
  ASSERT_EQ(data->series.size(), 2u);  // the time column is a feature like the others
  EXPECT_EQ(data->series[0], (std::vector<double>{5, 5, 1}));
  EXPECT_EQ(data->series[1], (std::vector<double>{1, 2, 3}));
}

TEST(ApplyTimeRules, ScoredCsvKeepsTheLaterRowsScoreFlagAndModel) {
  auto data = ParseScoredCsv(
      "row,timestamp,anomaly_score,is_anomaly,model_version\n"
      "0,100,0.4,0,m1\n"
      "1,160,,,\n"
      "2,160,0.9,1,m1\n"
      "3,220,0.5,0,m2\n",
      "", "s.csv");
  ASSERT_TRUE(data.ok()) << data.status().ToString();
  auto rules = ApplyTimeRules(*data, "s.csv");
  ASSERT_TRUE(rules.ok());
  EXPECT_EQ(data->times, (std::vector<TimeMs>{100000, 160000, 220000}));
  EXPECT_EQ(data->scores, (std::vector<double>{0.4, 0.9, 0.5}));
  EXPECT_EQ(data->is_anomaly, (std::vector<int>{0, 1, 0}));
  EXPECT_EQ(data->model_versions, (std::vector<std::string>{"m1", "m1", "m2"}));
  EXPECT_TRUE(rules->zoneless_example.empty());

  auto back = ParseScoredCsv(
      "timestamp,anomaly_score\n2026-01-05 00:02:00,0.1\n"
      "2026-01-05 00:01:00,0.2\n",
      "", "s.csv");
  ASSERT_TRUE(back.ok());
  auto refused = ApplyTimeRules(*back, "s.csv");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().message(),
            "s.csv: the time goes back at row 1: '2026-01-05 00:01:00' is earlier than "
            "'2026-01-05 00:02:00' at row 0 (rows numbered from 0 after the header, as score's "
            "row column); sort the rows by time");
}

TEST(RepeatedTimeReason, NamesTheRowScoredInstead) {
  EXPECT_EQ(RepeatedTimeReason(12), "no score: time repeated by row 12 (the later row is scored)");
}

}  // namespace
}  // namespace isoscope::native
