// Reading back score/backtest output for replay. Expected values are the cells as written
// by hand below.
#include "scored_csv.h"

#include <gtest/gtest.h>

#include <cmath>

namespace isoscope::native {
namespace {

constexpr TimeMs kJan5 = 1767571200000;  // 2026-01-05T00:00:00Z

TEST(ScoredCsv, ReadsBacktestOutputWithQuotedReasons) {
  // backtest's columns: before the first model, a row without a score whose reason holds
  // commas in quotes (CsvCell), scored rows of two models.
  const std::string text =
      "row,timestamp,anomaly_score,decision,is_anomaly,reason,model_version\n"
      "0,2026-01-05T00:00:00Z,,,,before the first model,\n"
      "1,2026-01-05T00:01:00Z,,,,\"no score: missing value in zscore(a,1h), \"\"x\"\"\","
      "20260105-aaaa\n"
      "2,2026-01-05T00:02:00Z,0.625,-0.1,1,,20260105-aaaa\r\n"
      "\n"
      "3,2026-01-05T00:03:00Z,0.4375,0.1,0,,20260112-bbbb\n";
  EXPECT_TRUE(HasScoreColumn(text));
  auto d = ParseScoredCsv(text, "", "bt.csv");
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->time_column, "timestamp");
  ASSERT_EQ(d->times.size(), 4u);
  EXPECT_EQ(d->times[0], kJan5);
  EXPECT_EQ(d->times[3], kJan5 + 3 * kMinuteMs);
  EXPECT_TRUE(std::isnan(d->scores[0]));
  EXPECT_TRUE(std::isnan(d->scores[1]));
  EXPECT_EQ(d->scores[2], 0.625);
  EXPECT_EQ(d->scores[3], 0.4375);
  EXPECT_EQ(d->is_anomaly, (std::vector<int>{-1, -1, 1, 0}));
  ASSERT_TRUE(d->has_model_version);
  EXPECT_EQ(d->model_versions,
            (std::vector<std::string>{"", "20260105-aaaa", "20260105-aaaa", "20260112-bbbb"}));
}

TEST(ScoredCsv, ScoreOutputHasNoModelVersion) {
  const std::string text =
      "row,ts,anomaly_score,decision,is_anomaly,reason\n"
      "0,1767571200,0.5,0,0,\n";
  auto d = ParseScoredCsv(text, "", "s.csv");
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_FALSE(d->has_model_version);
  EXPECT_TRUE(d->model_versions.empty());
  EXPECT_EQ(d->times, (std::vector<TimeMs>{kJan5}));
}

TEST(ScoredCsv, ReadsTheSurpriseColumn) {
  // score's columns since format 1.3: surprise and onset after the reason.
  const std::string text =
      "row,timestamp,anomaly_score,decision,is_anomaly,reason,surprise,onset\n"
      "0,2026-01-05T00:00:00Z,,,,\"no score: warming\",,\n"
      "1,2026-01-05T00:01:00Z,0.5,0,0,,0.75,0.5\n"
      "2,2026-01-05T00:02:00Z,0.625,-0.1,1,,4.25,0\n";
  EXPECT_TRUE(HasSurpriseColumn(text));
  EXPECT_FALSE(HasSurpriseColumn("row,timestamp,anomaly_score\n"));
  auto d = ParseScoredCsv(text, "", "s.csv");
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  ASSERT_TRUE(d->has_surprise);
  ASSERT_EQ(d->surprises.size(), 3u);
  EXPECT_TRUE(std::isnan(d->surprises[0]));
  EXPECT_EQ(d->surprises[1], 0.75);
  EXPECT_EQ(d->surprises[2], 4.25);
  auto bad = ParseScoredCsv("timestamp,anomaly_score,surprise\n1767571200,0.5,big\n", "", "s.csv");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("s.csv:2: column 'surprise': 'big' is not a number"),
            std::string::npos)
      << bad.status().message();
  auto none = ParseScoredCsv("timestamp,anomaly_score\n1767571200,0.5\n", "", "s.csv");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_surprise);
  EXPECT_TRUE(none->surprises.empty());
}

TEST(ScoredCsv, HeaderDetection) {
  const struct {
    const char* text;
    bool scored;
  } cases[] = {
      {"timestamp,latency_p95,error_rate\n1,2,3\n", false},
      {"\n\nrow,timestamp,anomaly_score\n", true},
      {"timestamp,\"anomaly_score\"\n", true},
      {"timestamp,anomaly_score_avg\n", false},
      {"", false},
  };
  for (const auto& c : cases) EXPECT_EQ(HasScoreColumn(c.text), c.scored) << c.text;
}

TEST(ScoredCsv, ErrorsNameTheLineAndTheColumn) {
  const struct {
    const char* text;
    const char* time_column;
    const char* message;
  } cases[] = {
      {"", "", "s.csv: is empty"},
      {"row,anomaly_score\n0,0.5\n", "", "s.csv:1: has no time column"},
      {"timestamp,anomaly_score\n1767571200,0.5\n", "t", "s.csv:1: no time column 't'"},
      {"timestamp,score\n1767571200,0.5\n", "", "s.csv:1: has no anomaly_score column"},
      {"timestamp,anomaly_score\n1767571200,high\n", "",
       "s.csv:2: column 'anomaly_score': 'high' is not a score"},
      {"timestamp,anomaly_score\n1767571200,nan\n", "", "s.csv:2: column 'anomaly_score'"},
      {"timestamp,anomaly_score\nyesterday,0.5\n", "", "s.csv:2: time column 'timestamp'"},
      {"timestamp,anomaly_score,is_anomaly\n1767571200,0.5,yes\n", "",
       "s.csv:2: column 'is_anomaly': 'yes' is not 0, 1 or empty"},
      {"timestamp,anomaly_score\n1767571200,0.5,1\n", "",
       "s.csv:2: has 3 fields, the header has 2"},
      {"timestamp,anomaly_score,reason\n1767571200,0.5,\"open\n", "",
       "s.csv:2: a quote is not closed"},
      {"timestamp,anomaly_score\n", "", "s.csv: has a header but no rows"},
  };
  for (const auto& c : cases) {
    auto d = ParseScoredCsv(c.text, c.time_column, "s.csv");
    ASSERT_FALSE(d.ok()) << c.text;
    EXPECT_EQ(d.status().code(), ErrorCode::kBadInput);
    EXPECT_NE(d.status().message().find(c.message), std::string::npos)
        << d.status().message() << " / wanted: " << c.message;
  }
}

}  // namespace
}  // namespace isoscope::native
