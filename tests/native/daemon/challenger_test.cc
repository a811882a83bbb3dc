#include "challenger.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

namespace isoscope::native {
namespace {

ModelTally TallyOf(uint64_t scored, uint64_t anomalies, uint64_t pages) {
  ModelTally t;
  t.scored = scored;
  t.anomalies = anomalies;
  t.pages = pages;
  return t;
}

PromotionConfig Gate(TimeMs after_ms) {
  PromotionConfig p;
  p.mode = PromotionConfig::Mode::kGate;
  p.after_ms = after_ms;
  return p;  // band [0.5, 2], 1.5 x the pages
}

TEST(ScoreHistogram, QuantilesAreWithinHalfABinOfTheNearestRank) {
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> u(0.3, 0.8);
  std::vector<double> scores;
  ScoreHistogram h;
  for (int i = 0; i < 10'007; ++i) {
    scores.push_back(u(rng));
    h.Add(scores.back());
  }
  std::sort(scores.begin(), scores.end());
  for (double q : {0.5, 0.99, 0.0, 1.0}) {
    // Nearest rank, by brute force: the ceil(q n)-th smallest (the first for q = 0).
    const size_t rank = std::max<size_t>(1, static_cast<size_t>(std::ceil(q * scores.size())));
    EXPECT_NEAR(h.Quantile(q), scores[rank - 1], 0.5 / ScoreHistogram::kBins) << q;
  }
  EXPECT_EQ(h.count(), 10'007u);
  EXPECT_TRUE(std::isnan(ScoreHistogram().Quantile(0.5)));
}

TEST(ScoreHistogram, ScoresOfOneAndNaNAreHandled) {
  ScoreHistogram h;
  h.Add(1.0);  // the top of (0, 1] falls in the last bin
  h.Add(std::nan(""));
  EXPECT_EQ(h.count(), 1u);
  EXPECT_NEAR(h.Quantile(0.5), 1.0, 0.5 / ScoreHistogram::kBins);
}

TEST(Gate, WaitsUntilAfterThenPromotesAGoodCandidate) {
  const PromotionConfig p = Gate(3 * kDayMs);
  const ModelTally champ = TallyOf(4320, 80, 1);
  const ModelTally good = TallyOf(4320, 90, 1);
  EXPECT_EQ(DecideGate(p, kDayMs, champ, good, true).verdict, GateDecision::Verdict::kWaiting);
  EXPECT_EQ(DecideGate(p, kDayMs, champ, good, true).reason, "waiting");
  const GateDecision d = DecideGate(p, 3 * kDayMs, champ, good, true);
  EXPECT_EQ(d.verdict, GateDecision::Verdict::kPromote);
  EXPECT_EQ(d.reason, "passed");
}

TEST(Gate, NoRowsKeepsWaiting) {
  const GateDecision d =
      DecideGate(Gate(kHourMs), 2 * kHourMs, TallyOf(0, 0, 0), TallyOf(0, 0, 0), true);
  EXPECT_EQ(d.verdict, GateDecision::Verdict::kWaiting);
  EXPECT_EQ(d.reason, "no_rows");
}

TEST(Gate, PagesAboveMaxOfOneAndOneAndAHalfTimesTheChampionHold) {
  const PromotionConfig p = Gate(kWeekMs);
  // One week: the limit is max(1, 1.5 x champion's pages).
  EXPECT_EQ(DecideGate(p, kWeekMs, TallyOf(100, 10, 0), TallyOf(100, 10, 1), true).verdict,
            GateDecision::Verdict::kPromote);  // 1 <= max(1, 0)
  EXPECT_EQ(DecideGate(p, kWeekMs, TallyOf(100, 10, 0), TallyOf(100, 10, 2), true).reason,
            "pages");  // 2 > 1
  EXPECT_EQ(DecideGate(p, kWeekMs, TallyOf(100, 10, 4), TallyOf(100, 10, 6), true).verdict,
            GateDecision::Verdict::kPromote);  // 6 <= 1.5 x 4
  EXPECT_EQ(DecideGate(p, kWeekMs, TallyOf(100, 10, 4), TallyOf(100, 10, 7), true).reason,
            "pages");  // 7 > 6
  // Half a week: "1 a week" is half a page, so one page is already too many.
  const PromotionConfig half = Gate(kWeekMs / 2);
  EXPECT_EQ(DecideGate(half, kWeekMs / 2, TallyOf(100, 10, 0), TallyOf(100, 10, 1), true).reason,
            "pages");
  // Two weeks: two pages are one a week.
  EXPECT_EQ(DecideGate(p, 2 * kWeekMs, TallyOf(100, 10, 0), TallyOf(100, 10, 2), true).verdict,
            GateDecision::Verdict::kPromote);
}

TEST(Gate, AnomalyRateOutsideTheBandHolds) {
  const PromotionConfig p = Gate(kDayMs);
  const ModelTally champ = TallyOf(1000, 20, 0);
  // Band [0.5, 2] x 20, give or take one row: 9 .. 41 anomalies pass.
  EXPECT_EQ(DecideGate(p, kDayMs, champ, TallyOf(1000, 9, 0), true).reason, "passed");
  EXPECT_EQ(DecideGate(p, kDayMs, champ, TallyOf(1000, 8, 0), true).reason, "anomaly_rate");
  EXPECT_EQ(DecideGate(p, kDayMs, champ, TallyOf(1000, 41, 0), true).reason, "passed");
  EXPECT_EQ(DecideGate(p, kDayMs, champ, TallyOf(1000, 42, 0), true).reason, "anomaly_rate");
  // A champion that flags nothing: one row either way still passes, a flood does not.
  EXPECT_EQ(DecideGate(p, kDayMs, TallyOf(1000, 0, 0), TallyOf(1000, 1, 0), true).reason, "passed");
  EXPECT_EQ(DecideGate(p, kDayMs, TallyOf(1000, 0, 0), TallyOf(1000, 900, 0), true).reason,
            "anomaly_rate");
}

TEST(Gate, FailedCanariesHoldBeforeAnythingElse) {
  const GateDecision d =
      DecideGate(Gate(kDayMs), kDayMs, TallyOf(100, 2, 0), TallyOf(100, 2, 0), false);
  EXPECT_EQ(d.verdict, GateDecision::Verdict::kHold);
  EXPECT_EQ(d.reason, "canary");
}

TEST(Gate, EveryReasonIsAMetricLabel) {
  const std::vector<std::string>& reasons = GateReasons();
  for (const char* r : {"waiting", "no_rows", "passed", "canary", "pages", "anomaly_rate"}) {
    EXPECT_NE(std::find(reasons.begin(), reasons.end(), r), reasons.end()) << r;
  }
}

TEST(ShadowPager, CountsEachEpisodeThatReachesFiringOnce) {
  AlertsConfig a;
  a.smooth_ms = 2 * kMinuteMs;
  a.for_ms = 2 * kMinuteMs;
  ShadowPager pager(a, 0.75);
  // One score a minute. By hand: avg over (t - 2m, t] is the mean of the scores at t and t - 1m.
  // Scores 0.5 0.9 0.9 0.9 0.9 0.5 0.5 0.9 0.9 0.9 0.9 (minutes 0..10):
  // smoothed 0.5 0.7 0.9 0.9 0.9 0.7 0.5 0.7 0.9 0.9 0.9; > 0.75 from minute 2 (pending),
  // firing at minute 4 (2m held), ends at 5; again pending at 8, firing at 10.
  const double scores[] = {0.5, 0.9, 0.9, 0.9, 0.9, 0.5, 0.5, 0.9, 0.9, 0.9, 0.9};
  std::vector<uint64_t> started;
  for (int m = 0; m < 11; ++m) {
    pager.Observe("g", m * kMinuteMs, scores[m]);
    started.push_back(pager.Evaluate(m * kMinuteMs));
  }
  const std::vector<uint64_t> want = {0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1};
  EXPECT_EQ(started, want);
}

TEST(CandidateView, JsonRoundTrips) {
  CandidateView v;
  v.detector = "checkout";
  v.promotion = "gate";
  v.candidate_version = "20261203-abc";
  v.since_ms = 1000;
  v.updated_ms = 61'000;
  v.after_ms = 60'000;
  v.rows = 12;
  v.active = {"20261201-def", 1, 2.5, 3, 0.25, 0.51, 0.7};
  v.candidate = {"20261203-abc", 0, 0, 2, std::nan(""), 0.5, 0.6};
  v.gate.verdict = GateDecision::Verdict::kHold;
  v.gate.reason = "pages";
  v.gate.detail = "too many";
  auto back = ParseCandidateView(CandidateViewJson(v));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->candidate_version, v.candidate_version);
  EXPECT_EQ(back->active.version, "20261201-def");
  EXPECT_EQ(back->active.pages, 1u);
  EXPECT_EQ(back->active.pages_per_week, 2.5);
  EXPECT_TRUE(std::isnan(back->candidate.anomaly_rate));  // null in JSON
  EXPECT_EQ(back->after_ms, 60'000);
  EXPECT_EQ(back->gate.verdict, GateDecision::Verdict::kHold);
  EXPECT_EQ(back->gate.reason, "pages");
  EXPECT_FALSE(ParseCandidateView("[1, 2]").ok());
  EXPECT_FALSE(ParseCandidateView("not json").ok());
}

}  // namespace
}  // namespace isoscope::native
