#include "isoscope/tune.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

namespace isoscope {
namespace {

constexpr TimeMs kT0 = 1'700'000'040'000;  // a whole minute

// One week at 1m: 0.4 everywhere but three bursts. With a 1m smoothing window each evaluation
// sees exactly its own sample, so the smoothed score is the score and the outcomes can be
// counted by hand (see each test).
//   A: minutes 1000-1002 at 0.9   B: minute 3000 at 0.8   C: minutes 5000-5004 at 0.7
struct Week {
  std::vector<TimeMs> times;
  std::vector<double> scores;
  std::vector<IncidentWindow> incidents{{"A", kT0 + 999 * kMinuteMs, kT0 + 1010 * kMinuteMs},
                                        {"C", kT0 + 4999 * kMinuteMs, kT0 + 5010 * kMinuteMs}};
  Week() {
    for (int m = 0; m < 10080; ++m) {
      times.push_back(kT0 + m * kMinuteMs);
      double s = 0.4;
      if (m >= 1000 && m <= 1002) s = 0.9;
      if (m == 3000) s = 0.8;
      if (m >= 5000 && m <= 5004) s = 0.7;
      scores.push_back(s);
    }
  }
};

TuneRequest HandRequest(double budget) {
  TuneRequest r;
  r.budget_per_week = budget;
  r.smooth_ms = {kMinuteMs};
  r.for_ms = {0, 2 * kMinuteMs};
  return r;
}

// Candidate thresholds (tail order statistics): 0.4, 0.7, 0.8, 0.9. Pages (for 0 / for 2m):
// 0.4: 3 / 2 (A, C: runs of 3 and 5), 0.7: 2 / 1, 0.8: 1 / 1, 0.9: 0 / 0.
// Within one page a week, catching A soonest is 0.8 with for 0 (delay 1m from 999).
TEST(TuneTest, OnePageAWeekCatchesTheBiggestIncidentSoonest) {
  Week w;
  auto r = TuneAlerts(w.times, w.scores, HandRequest(1), w.incidents);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_DOUBLE_EQ(r->chosen.critical, 0.8);
  EXPECT_EQ(r->chosen.for_ms, 0);
  EXPECT_EQ(r->chosen.smooth_ms, kMinuteMs);
  EXPECT_EQ(r->chosen.pages, 1u);
  EXPECT_EQ(r->chosen.caught, 1u);
  EXPECT_EQ(r->chosen.total_delay_ms, kMinuteMs);
  EXPECT_EQ(r->chosen.false_pages, 0u);
  // Warning: the lowest threshold with at most 5 firings a week: 0.4 (3 firings).
  EXPECT_DOUBLE_EQ(r->chosen.warning, 0.4);
  EXPECT_EQ(r->chosen.warnings, 3u);
  EXPECT_EQ(r->replay.pages, 1u);
  EXPECT_DOUBLE_EQ(r->replay.pages_per_week, 1.0);
  EXPECT_EQ(r->evaluated, 8u);
}

// Two pages a week buy both incidents: 0.4 with for 2m pages A at 1002 and C at 5002 (3m after
// each start), and B's single minute never lasts 2m.
TEST(TuneTest, TwoPagesAWeekCatchBothIncidents) {
  Week w;
  auto r = TuneAlerts(w.times, w.scores, HandRequest(2), w.incidents);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_DOUBLE_EQ(r->chosen.critical, 0.4);
  EXPECT_EQ(r->chosen.for_ms, 2 * kMinuteMs);
  EXPECT_EQ(r->chosen.caught, 2u);
  EXPECT_EQ(r->chosen.total_delay_ms, 6 * kMinuteMs);
}

// With --max-delay 2m the 3m pages of for 2m do not count: the best is again one page for A.
TEST(TuneTest, MaxDelayDiscountsLatePages) {
  Week w;
  TuneRequest req = HandRequest(2);
  req.max_delay_ms = 2 * kMinuteMs;
  auto r = TuneAlerts(w.times, w.scores, req, w.incidents);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_DOUBLE_EQ(r->chosen.critical, 0.8);
  EXPECT_EQ(r->chosen.for_ms, 0);
  EXPECT_EQ(r->chosen.caught, 1u);
}

// Frontier by hand for one page a week: 0 pages (nothing caught), 1 (A, 1m), 2 (A and C,
// 6m), 3 (0.4 for 0: A and C at 1m each, 2m: less delay, so not dominated).
TEST(TuneTest, FrontierListsEachUndominatedPageCount) {
  Week w;
  auto r = TuneAlerts(w.times, w.scores, HandRequest(1), w.incidents);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->frontier.size(), 4u);
  const size_t pages[] = {0, 1, 2, 3};
  const size_t caught[] = {0, 1, 2, 2};
  const TimeMs delay[] = {0, 1, 6, 2};
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(r->frontier[i].pages, pages[i]) << i;
    EXPECT_EQ(r->frontier[i].caught, caught[i]) << i;
    EXPECT_EQ(r->frontier[i].total_delay_ms, delay[i] * kMinuteMs) << i;
  }
}

// Without incidents the budget buys sensitivity: the most pages within it. Two pages: 0.4 with
// for 2m or 0.7 with for 0; the shorter for wins the tie.
TEST(TuneTest, WithoutIncidentsTheBudgetIsSpentOnSensitivity) {
  Week w;
  auto r = TuneAlerts(w.times, w.scores, HandRequest(2));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->chosen.pages, 2u);
  EXPECT_DOUBLE_EQ(r->chosen.critical, 0.7);
  EXPECT_EQ(r->chosen.for_ms, 0);
  // Warning within 2 a week at for 0: 0.4 gives 3, 0.7 gives 2.
  TuneRequest req = HandRequest(2);
  req.warning_budget_per_week = 2;
  auto r2 = TuneAlerts(w.times, w.scores, req);
  ASSERT_TRUE(r2.ok());
  EXPECT_DOUBLE_EQ(r2->chosen.warning, 0.7);
}

TEST(TuneTest, RefusesBadRequests) {
  Week w;
  TuneRequest req;
  req.budget_per_week = 0;
  EXPECT_EQ(TuneAlerts(w.times, w.scores, req).status().code(), ErrorCode::kInvalidArgument);
  req = TuneRequest();
  req.smooth_ms.clear();
  EXPECT_EQ(TuneAlerts(w.times, w.scores, req).status().code(), ErrorCode::kInvalidArgument);
  req = TuneRequest();
  req.for_ms = {-1};
  EXPECT_EQ(TuneAlerts(w.times, w.scores, req).status().code(), ErrorCode::kInvalidArgument);
  const std::vector<double> none(w.times.size(), std::nan(""));
  EXPECT_EQ(TuneAlerts(w.times, none, TuneRequest()).status().code(), ErrorCode::kBadInput);
}

// The search counts pages from runs of evaluations instead of stepping the state machine:
// every setting it reports must give the same figures when Replay (the reference) runs it, on
// noisy histories with gaps, missing scores, irregular steps and incidents.
TEST(TuneTest, EveryReportedSettingAgreesWithReplay) {
  std::mt19937_64 rng(17);
  std::normal_distribution<double> noise(0.45, 0.05);
  std::uniform_int_distribution<int> step(50, 70);
  for (int trial = 0; trial < 6; ++trial) {
    std::vector<TimeMs> times;
    std::vector<double> scores;
    TimeMs t = kT0;
    for (int i = 0; i < 6000; ++i) {
      t += step(rng) * 1000 + (i == 3000 ? 2 * kHourMs : 0);  // a 2h gap halfway
      times.push_back(t);
      double s = noise(rng) + ((i / 400) % 5 == 1 && i % 400 < 20 ? 0.3 : 0.0);
      scores.push_back(i % 97 == 0 ? std::nan("") : s);
    }
    std::vector<IncidentWindow> incidents;
    for (int k = 0; k < 3; ++k) {
      const TimeMs start = times[400 * (5 * k + 1) - 3];
      incidents.push_back({"i" + std::to_string(k), start, start + 25 * kMinuteMs});
    }
    TuneRequest req;
    req.budget_per_week = 3 + trial;
    req.max_delay_ms = trial % 2 ? 10 * kMinuteMs : -1;
    req.smooth_ms = {2 * kMinuteMs, 5 * kMinuteMs, 7 * kMinuteMs};
    req.for_ms = {0, 90 * 1000, 4 * kMinuteMs};
    auto r = TuneAlerts(times, scores, req, trial % 3 ? incidents : std::vector<IncidentWindow>{});
    ASSERT_TRUE(r.ok()) << r.status().message();
    EXPECT_LE(r->chosen.pages_per_week, req.budget_per_week);
    EXPECT_GE(r->frontier.size(), 3u);  // the check below must have settings to check
    for (size_t i = 1; i < r->frontier.size() && trial % 3; ++i) {
      // Each step up in pages must buy more incidents, or as many sooner.
      const TuneCandidate &a = r->frontier[i - 1], &b = r->frontier[i];
      EXPECT_TRUE(b.caught > a.caught ||
                  (b.caught == a.caught && b.total_delay_ms < a.total_delay_ms))
          << "frontier row " << i;
    }
    for (const TuneCandidate& c : r->frontier) {
      ReplayConfig config;
      config.warning = {c.warning, c.for_ms, 0};
      config.critical = {c.critical, c.for_ms, 0};
      config.smooth_ms = c.smooth_ms;
      auto rep =
          Replay(times, scores, config, trial % 3 ? incidents : std::vector<IncidentWindow>{});
      ASSERT_TRUE(rep.ok());
      EXPECT_EQ(rep->pages, c.pages);
      EXPECT_DOUBLE_EQ(rep->pages_per_week, c.pages_per_week);
      EXPECT_EQ(rep->warning.firing.size(), c.warnings);
      EXPECT_EQ(rep->false_pages, c.false_pages);
      size_t caught = 0;
      TimeMs delay = 0;
      for (const IncidentOutcome& o : rep->incidents) {
        if (o.page_delay_ms && (req.max_delay_ms < 0 || *o.page_delay_ms <= req.max_delay_ms)) {
          ++caught;
          delay += *o.page_delay_ms;
        }
      }
      EXPECT_EQ(caught, c.caught);
      EXPECT_EQ(delay, c.total_delay_ms);
    }
  }
}

}  // namespace
}  // namespace isoscope
