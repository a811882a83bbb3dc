#include "replay_rates.h"

#include <gtest/gtest.h>

#include <cmath>

namespace isoscope::native {
namespace {

// Rows at minutes 0-4 and 10-14 (a gap between), the first two without a score (warming).
struct History {
  std::vector<TimeMs> times;
  std::vector<double> scores;
  History() {
    for (int m : {0, 1, 2, 3, 4, 10, 11, 12, 13, 14}) {
      times.push_back(m * kMinuteMs);
      scores.push_back(m < 2 ? std::nan("") : 0.1);
    }
  }
};

ReplayConfig Rules(TimeMs smooth) {
  ReplayConfig c;
  c.smooth_ms = smooth;
  c.eval_interval_ms = kMinuteMs;
  return c;
}

TEST(ScoredTime, LeavesOutWarmingAndGaps) {
  const History h;
  // Evaluations at minutes 0..14. A 1m window (t-1m, t] holds only the row at t: minutes 2-4
  // and 10-14 have a score, 8 minutes.
  auto r = Replay(h.times, h.scores, Rules(kMinuteMs));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->end_ms - r->start_ms, 15 * kMinuteMs);
  EXPECT_EQ(ScoredTime(h.times, h.scores, Rules(kMinuteMs), *r), 8 * kMinuteMs);
  // A 3m window also reaches back over the gap's first two minutes: 2-6 and 10-14, 10 minutes.
  auto r3 = Replay(h.times, h.scores, Rules(3 * kMinuteMs));
  ASSERT_TRUE(r3.ok());
  EXPECT_EQ(ScoredTime(h.times, h.scores, Rules(3 * kMinuteMs), *r3), 10 * kMinuteMs);
}

TEST(RatesPerScoredWeek, CountsPerWeekOfScoredTime) {
  ReplayResult r;
  r.warning.firing.resize(3);
  r.critical.firing.resize(2);
  r.pages = 2;
  r.false_pages = 1;
  RatesPerScoredWeek(r, 10 * kMinuteMs);  // 10080 minutes a week / 10 = 1008 per event
  EXPECT_DOUBLE_EQ(r.warning.firings_per_week, 3024.0);
  EXPECT_DOUBLE_EQ(r.critical.firings_per_week, 2016.0);
  EXPECT_DOUBLE_EQ(r.pages_per_week, 2016.0);
  EXPECT_DOUBLE_EQ(r.false_pages_per_week, 1008.0);
  RatesPerScoredWeek(r, 0);  // nothing scored: no rate, not zero
  EXPECT_TRUE(std::isnan(r.pages_per_week));
  EXPECT_TRUE(std::isnan(r.false_pages_per_week));
}

}  // namespace
}  // namespace isoscope::native
