// Alert pipeline: every expected value below is worked out by hand from the documented
// semantics (Prometheus avg_over_time over (t-w, t], rules/alerting.go state machine), with
// the reasoning next to it; none is produced by the code under test.
#include "isoscope/alert.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <optional>
#include <random>
#include <utility>
#include <vector>

namespace isoscope {
namespace {

constexpr TimeMs M = kMinuteMs;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// ---- avg_over_time --------------------------------------------------------------------

struct AvgCase {
  const char* name;
  TimeMs t;
  TimeMs window;
  std::optional<double> want;
};

TEST(AvgOverTime, WindowEdgesTable) {
  // Samples at 0, 1, 2, 3, 4 minutes with values 1, 2, 3, 4, NaN (NaN = no sample).
  const std::vector<TimeMs> times = {0, 1 * M, 2 * M, 3 * M, 4 * M};
  const std::vector<double> values = {1, 2, 3, 4, kNaN};
  const AvgCase cases[] = {
      // (3m-2m, 3m] = (1m, 3m]: samples at 2m and 3m (1m is on the open left edge) -> 3.5.
      {"left edge excluded", 3 * M, 2 * M, 3.5},
      // (3m-2m-1, 3m] = (59.999s, 3m]: now 1m is inside -> (2+3+4)/3 = 3.
      {"just inside left edge", 3 * M, 2 * M + 1, 3.0},
      // (1ms, 2m+... ] at t = 2m: right edge included: (2m-1m, 2m] = {2m} -> 3.
      {"right edge included", 2 * M, 1 * M, 3.0},
      // t = 2m-1ms, window 1m: (59.999s, 119.999s] = {1m} -> 2 (the 2m sample is in the future).
      {"future sample excluded", 2 * M - 1, 1 * M, 2.0},
      // t = 4m, window 1m: (3m, 4m] = {4m} whose value is NaN -> no sample -> no value.
      {"only a NaN sample", 4 * M, 1 * M, std::nullopt},
      // t = 4m, window 2m: (2m, 4m] = {3m: 4, 4m: NaN} -> 4.
      {"NaN skipped", 4 * M, 2 * M, 4.0},
      // t = 10m, window 5m: (5m, 10m] is empty -> no value.
      {"after the data", 10 * M, 5 * M, std::nullopt},
      // t = -1ms: nothing at or before -> no value.
      {"before the data", -1, 5 * M, std::nullopt},
      // t = 4m, window 5m: (-1m, 4m] = all -> (1+2+3+4)/4 = 2.5.
      {"whole history", 4 * M, 5 * M, 2.5},
  };
  for (const AvgCase& c : cases) {
    SCOPED_TRACE(c.name);
    const std::optional<double> got = AvgOverTime(times, values, c.t, c.window);
    ASSERT_EQ(got.has_value(), c.want.has_value());
    if (c.want) {
      EXPECT_DOUBLE_EQ(*got, *c.want);
    }
  }
}

// WindowAverage walks its edges forward instead of searching: at every evaluation of a
// replay-like sequence (gaps, NaN runs, repeated and far-apart instants, windows shorter and
// longer than the step, and on a minute grid edges that fall exactly on samples) it gives
// AvgOverTime's value bit for bit, and both give the mean by definition (every sample's time
// tested against the window, summed in time order).
TEST(WindowAverage, EqualsAvgOverTimeAtEveryEvaluationBitForBit) {
  std::mt19937_64 rng(7);
  size_t on_edge = 0;
  for (int trial = 0; trial < 40; ++trial) {
    // Odd trials: times, windows and steps in whole minutes, as scrapes and rules are.
    const TimeMs unit = trial % 2 ? M : 1;
    auto draw = [&](TimeMs below) {  // a multiple of unit below `below` (0 if unit is not)
      return unit *
             static_cast<TimeMs>(rng() % static_cast<uint64_t>(std::max<TimeMs>(1, below / unit)));
    };
    std::vector<TimeMs> times;
    std::vector<double> values;
    TimeMs t = draw(1000 * M) - 500 * M;
    for (int i = 0; i < 300; ++i) {
      t += unit + draw(i % 50 < 40 ? 60'000 : 900'000);  // some gaps
      times.push_back(t);
      values.push_back(rng() % 7 == 0 ? kNaN
                                      : std::ldexp(static_cast<double>(rng() % 100000), -17));
    }
    const TimeMs window = unit + draw(trial % 4 < 2 ? 300'000 : 3'600'000);
    WindowAverage average(times, values, window);
    TimeMs now = times.front() - draw(200'000);
    size_t checked = 0;
    while (now <= times.back() + 2 * window) {
      const std::optional<double> got = average.At(now);
      const std::optional<double> want = AvgOverTime(times, values, now, window);
      double sum = 0;
      size_t n = 0;
      for (size_t i = 0; i < times.size(); ++i) {
        on_edge += times[i] == now - window ? 1 : 0;
        if (times[i] > now - window && times[i] <= now && !std::isnan(values[i])) {
          sum += values[i];
          ++n;
        }
      }
      ASSERT_EQ(got.has_value(), want.has_value()) << "trial " << trial << " at " << now;
      ASSERT_EQ(got.has_value(), n > 0) << "trial " << trial << " at " << now;
      if (got) {
        ASSERT_EQ(std::memcmp(&*got, &*want, sizeof(double)), 0) << "trial " << trial;
        ASSERT_EQ(*got, sum / static_cast<double>(n)) << "trial " << trial;
      }
      ++checked;
      // Steps of 0 (the same instant again), short and long, as replays and tune's grids ask.
      const int kind = static_cast<int>(rng() % 4);
      now += kind == 0 ? 0 : kind == 1 ? unit + draw(1000) : draw(kind == 2 ? 60'000 : 2'000'000);
    }
    EXPECT_GT(checked, 50u);
  }
  EXPECT_GT(on_edge, 100u);  // the open left edge was tested, not just passed near
}

// ---- the state machine -----------------------------------------------------------------

struct Eval {
  std::optional<double> value;  // smoothed score at this evaluation (nullopt = no data)
  AlertPhase want;
};

// Runs evaluations at 0, 1m, 2m, ... and checks the phase after each.
void RunSteps(const AlertConfig& config, const std::vector<Eval>& evals) {
  AlertState s;
  for (size_t i = 0; i < evals.size(); ++i) {
    s = Step(config, s, evals[i].value, static_cast<TimeMs>(i) * M);
    EXPECT_EQ(AlertPhaseName(s.phase), std::string(AlertPhaseName(evals[i].want)))
        << "evaluation " << i;
  }
}

constexpr AlertPhase kI = AlertPhase::kInactive;
constexpr AlertPhase kP = AlertPhase::kPending;
constexpr AlertPhase kF = AlertPhase::kFiring;

TEST(AlertStep, StrictGreaterThan) {
  // Equal to the threshold does not hold; 0.5 + tiny does, and with for 0 fires at once.
  RunSteps({0.5, 0, 0}, {{0.5, kI}, {0.5000001, kF}, {0.5, kI}});
}

TEST(AlertStep, ForZeroFiresAtOnce) { RunSteps({0.5, 0, 0}, {{0.9, kF}, {0.9, kF}, {0.1, kI}}); }

TEST(AlertStep, PendingThenFiringAfterFor) {
  // for 3m: true at 0 (pending, active since 0), 1m, 2m (held 2m < 3m: pending),
  // 3m (held 3m >= 3m: firing), still firing at 4m, resolved at 5m.
  RunSteps({0.5, 3 * M, 0}, {{0.9, kP}, {0.9, kP}, {0.9, kP}, {0.9, kF}, {0.9, kF}, {0.1, kI}});
}

TEST(AlertStep, DipResetsPending) {
  // for 3m: true 0,1m,2m (pending), dip at 3m (inactive), true again 4m..: active since 4m,
  // so pending at 4m,5m,6m and firing only at 7m (7m - 4m = 3m), not at 3m or 5m.
  RunSteps(
      {0.5, 3 * M, 0},
      {{0.9, kP}, {0.9, kP}, {0.9, kP}, {0.4, kI}, {0.9, kP}, {0.9, kP}, {0.9, kP}, {0.9, kF}});
}

TEST(AlertStep, MissingDataEndsPendingAndFiring) {
  // No value is not "still true": pending at 0,1m; no data at 2m -> inactive.
  RunSteps({0.5, 2 * M, 0}, {{0.9, kP}, {0.9, kP}, {std::nullopt, kI}, {0.9, kP}});
  // Firing with for 0, then no data -> inactive (no keep_firing_for).
  RunSteps({0.5, 0, 0}, {{0.9, kF}, {std::nullopt, kI}});
}

TEST(AlertStep, KeepFiringFor) {
  // for 0, keep_firing_for 2m. Firing at 0 and 1m; false from 2m: keep_firing_since = 2m;
  // 2m: 0 < 2m keep; 3m: 1m < 2m keep; 4m: 2m < 2m is false -> inactive.
  RunSteps({0.5, 0, 2 * M}, {{0.9, kF}, {0.9, kF}, {0.1, kF}, {std::nullopt, kF}, {0.1, kI}});
  // A true evaluation inside the grace resets it: false at 1m (since 1m), true at 2m (reset),
  // false at 3m (since 3m): 3m, 4m keep; 5m: 5m-3m = 2m -> inactive.
  RunSteps({0.5, 0, 2 * M}, {{0.9, kF}, {0.1, kF}, {0.9, kF}, {0.1, kF}, {0.1, kF}, {0.1, kI}});
  // keep_firing_for never applies to pending: for 3m, pending at 0, false at 1m -> inactive.
  RunSteps({0.5, 3 * M, 5 * M}, {{0.9, kP}, {0.1, kI}});
}

TEST(AlertStep, StateFields) {
  AlertState s;
  const AlertConfig c{0.5, 2 * M, 0};
  s = Step(c, s, 0.9, 10 * M);
  EXPECT_EQ(s.active_since, 10 * M);
  EXPECT_EQ(s.last_true, 10 * M);
  s = Step(c, s, 0.9, 11 * M);
  EXPECT_EQ(s.active_since, 10 * M);  // the episode's start does not move
  EXPECT_EQ(s.last_true, 11 * M);
  s = Step(c, s, 0.1, 12 * M);
  EXPECT_EQ(s.last_true, 11 * M);  // a false evaluation does not move last_true
}

// ---- replay ----------------------------------------------------------------------------

// A hand-made series: one sample per minute at 0..29m, scores 0.1 except:
//   5m..9m  = 0.9  (five samples)
//   20m     = 0.7  (one sample)
// Smoothing 3m (window (t-3m, t] = samples t-2m, t-1m, t), evaluation every 1m from 0 to 29m,
// warning 0.65 / critical 0.85, for 2m.
// Smoothed values:
//   t=5m: {3:0.1,4:0.1,5:0.9} = 1.1/3 = 0.3667   t=6m: {0.1,0.9,0.9} = 0.6333
//   t=7m..9m: all 0.9 -> 0.9                      t=10m: {0.9,0.9,0.1} = 0.6333
//   t=11m: {0.9,0.1,0.1} = 0.3667                 t>=12m: 0.1 until 20m
//   t=20m..22m: {0.7 with two 0.1} = 0.3          then 0.1.
// Warning (> 0.65): true at 7m,8m,9m -> pending 7m, firing at 9m (9m-7m = 2m), inactive 10m.
//   pending [7m, 9m), firing [9m, 10m). 0.6333 < 0.65 at 6m and 10m.
// Critical (> 0.85): the same instants -> pending [7m, 9m), firing [9m, 10m): one page.
// Spike at 20m: 0.3 never crosses: nothing.
// End of replay = last evaluation 29m + 1m = 30m.
struct Series {
  std::vector<TimeMs> times;
  std::vector<double> scores;
};

Series HandSeries() {
  Series s;
  for (int i = 0; i < 30; ++i) {
    s.times.push_back(i * M);
    s.scores.push_back(i >= 5 && i <= 9 ? 0.9 : i == 20 ? 0.7 : 0.1);
  }
  return s;
}

ReplayConfig HandConfig() {
  ReplayConfig c;
  c.warning = {0.65, 2 * M, 0};
  c.critical = {0.85, 2 * M, 0};
  c.smooth_ms = 3 * M;
  c.eval_interval_ms = M;
  return c;
}

TEST(Replay, HandMadeSeriesCounts) {
  const Series s = HandSeries();
  auto r = Replay(s.times, s.scores, HandConfig());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->start_ms, 0);
  EXPECT_EQ(r->end_ms, 30 * M);
  EXPECT_EQ(r->evaluations, 30u);
  for (const SeverityReplay* sev : {&r->warning, &r->critical}) {
    ASSERT_EQ(sev->pending.size(), 1u);
    EXPECT_EQ(sev->pending[0].start_ms, 7 * M);
    EXPECT_EQ(sev->pending[0].end_ms, 9 * M);
    ASSERT_EQ(sev->firing.size(), 1u);
    EXPECT_EQ(sev->firing[0].start_ms, 9 * M);
    EXPECT_EQ(sev->firing[0].end_ms, 10 * M);
    EXPECT_FALSE(sev->firing[0].open);
    EXPECT_EQ(sev->firing_ms, 1 * M);
  }
  EXPECT_EQ(r->pages, 1u);
  // 1 page in 30 minutes: 1 / (30 / 10080) = 336 per week.
  EXPECT_DOUBLE_EQ(r->pages_per_week, 336.0);
}

TEST(Replay, WarningOnlyAndOpenAtEnd) {
  // The same series with critical 0.95: no page. Warning with for 0 fires at 7m, so
  // pending [7m,7m) and firing [7m,10m) = 3 minutes in alert.
  const Series s = HandSeries();
  ReplayConfig c = HandConfig();
  c.critical.threshold = 0.95;
  c.warning.for_ms = 0;
  auto r = Replay(s.times, s.scores, c);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->pages, 0u);
  ASSERT_EQ(r->warning.firing.size(), 1u);
  EXPECT_EQ(r->warning.firing[0].start_ms, 7 * M);
  EXPECT_EQ(r->warning.firing_ms, 3 * M);

  // A series that ends while high: 0.9 at 0..4m, for 0 -> firing from 0m, still firing at the
  // last evaluation 4m: open interval [0, 5m).
  std::vector<TimeMs> t = {0, M, 2 * M, 3 * M, 4 * M};
  std::vector<double> v(5, 0.9);
  c = HandConfig();
  c.critical.for_ms = 0;
  r = Replay(t, v, c);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->critical.firing.size(), 1u);
  EXPECT_TRUE(r->critical.firing[0].open);
  EXPECT_EQ(r->critical.firing[0].end_ms, 5 * M);
  EXPECT_EQ(r->critical.firing_ms, 5 * M);
}

TEST(Replay, GapEndsPending) {
  // 0.9 at 0..2m, no score at 3m..5m (NaN), 0.9 at 6m..9m. Smooth 1m: (t-1m, t] = {t}.
  // Critical for 2m: pending 0 (0), 1m, firing at 2m; 3m: no value -> inactive.
  // 6m pending, 7m pending, 8m firing (8m-6m = 2m), 9m firing, open to 10m.
  std::vector<TimeMs> t;
  std::vector<double> v;
  for (int i = 0; i < 10; ++i) {
    t.push_back(i * M);
    v.push_back(i >= 3 && i <= 5 ? kNaN : 0.9);
  }
  ReplayConfig c = HandConfig();
  c.smooth_ms = M;
  auto r = Replay(t, v, c);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->critical.firing.size(), 2u);
  EXPECT_EQ(r->critical.firing[0].start_ms, 2 * M);
  EXPECT_EQ(r->critical.firing[0].end_ms, 3 * M);
  EXPECT_EQ(r->critical.firing[1].start_ms, 8 * M);
  EXPECT_EQ(r->critical.firing[1].end_ms, 10 * M);
  EXPECT_EQ(r->critical.firing_ms, 3 * M);
}

TEST(Replay, IncidentDelays) {
  // The hand series (page at 9m, warning at 9m). Grace = critical for 2m + smooth 3m = 5m.
  //  a [4m, 8m):  window [4m, 13m]: warning 9m and page 9m -> caught, delays 5m and 5m.
  //  b [9m, 10m): window [9m, 15m]: start inclusive -> caught, delays 0.
  //  c [2m, 3m):  window [2m, 8m]: the 9m page is after 8m -> missed, no delays.
  //  d [15m, 25m): nothing fires -> missed.
  // The one page is explained by a and b: 0 false pages.
  const Series s = HandSeries();
  const std::vector<IncidentWindow> incidents = {
      {"a", 4 * M, 8 * M}, {"b", 9 * M, 10 * M}, {"c", 2 * M, 3 * M}, {"d", 15 * M, 25 * M}};
  auto r = Replay(s.times, s.scores, HandConfig(), incidents);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->incidents.size(), 4u);
  EXPECT_TRUE(r->incidents[0].caught);
  EXPECT_EQ(r->incidents[0].warning_delay_ms, 5 * M);
  EXPECT_EQ(r->incidents[0].page_delay_ms, 5 * M);
  EXPECT_TRUE(r->incidents[1].caught);
  EXPECT_EQ(r->incidents[1].warning_delay_ms, 0);
  EXPECT_EQ(r->incidents[1].page_delay_ms, 0);
  EXPECT_FALSE(r->incidents[2].caught);
  EXPECT_FALSE(r->incidents[2].warning_delay_ms.has_value());
  EXPECT_FALSE(r->incidents[2].page_delay_ms.has_value());
  EXPECT_FALSE(r->incidents[3].caught);
  EXPECT_EQ(r->false_pages, 0u);

  // Only incident d: the 9m page is outside [15m, 30m] -> one false page, 336 per week.
  r = Replay(s.times, s.scores, HandConfig(), {{"d", 15 * M, 25 * M}});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->false_pages, 1u);
  EXPECT_DOUBLE_EQ(r->false_pages_per_week, 336.0);
}

TEST(Replay, RejectsBadInput) {
  const ReplayConfig c = HandConfig();
  EXPECT_EQ(Replay({}, {}, c).status().code(), ErrorCode::kBadInput);
  EXPECT_EQ(Replay({0, M}, {0.1}, c).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(Replay({M, 0}, {0.1, 0.1}, c).status().code(), ErrorCode::kBadInput);
  ReplayConfig bad = c;
  bad.eval_interval_ms = 0;
  EXPECT_EQ(Replay({0}, {0.1}, bad).status().code(), ErrorCode::kInvalidArgument);
  bad = c;
  bad.warning.for_ms = -1;
  EXPECT_EQ(Replay({0}, {0.1}, bad).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(Replay({0}, {0.1}, c, {{"x", 5, 5}}).status().code(), ErrorCode::kInvalidArgument);
}

// ---- model changes (threshold_changes) ---------------------------------------------------

// The hand series smoothed over (t-3m, t]: 5m 0.367, 6m 0.633, 7m..9m 0.9, 10m 0.633,
// 11m 0.367, 12m..19m 0.1, 20m..22m 0.3. Critical for 2m, warning 0.65 for 2m (which holds
// at 7m..9m only: pending 7m, firing 9m..10m, one firing) unless a change moves it.
struct ChangeCase {
  const char* name;
  std::vector<ThresholdChange> changes;
  std::vector<std::pair<TimeMs, TimeMs>> critical_pending;
  std::vector<std::pair<TimeMs, TimeMs>> critical_firing;
  size_t warning_firings;
};

TEST(Replay, ThresholdChangesTable) {
  const ChangeCase cases[] = {
      // No change: 0.85 holds at 7m..9m: pending [7m,9m), firing [9m,10m).
      {"none", {}, {{7 * M, 9 * M}}, {{9 * M, 10 * M}}, 1},
      // The same thresholds from the first evaluation on: nothing moves.
      {"same at 0", {{0, 0.65, 0.85}}, {{7 * M, 9 * M}}, {{9 * M, 10 * M}}, 1},
      // 0.5 from 8m: the pending episode begun at 7m carries over (not restarted at 8m), so it
      // fires at 9m; 0.633 at 10m still holds against 0.5, 0.367 at 11m does not.
      {"lower at 8m keeps state", {{8 * M, 0.65, 0.5}}, {{7 * M, 9 * M}}, {{9 * M, 11 * M}}, 1},
      // 0.95 from 8m: 0.9 no longer holds at 8m: pending [7m,8m) ends, nothing fires.
      {"higher at 8m ends pending", {{8 * M, 0.65, 0.95}}, {{7 * M, 8 * M}}, {}, 1},
      // 0.6 from 6m: 0.633 holds at 6m already: pending 6m, firing 8m (for 2m) until 11m.
      {"lower at 6m", {{6 * M, 0.65, 0.6}}, {{6 * M, 8 * M}}, {{8 * M, 11 * M}}, 1},
      // A change between evaluations applies from the next one: at 6m 0.85 still rules.
      {"between evaluations", {{6 * M + 30000, 0.65, 0.6}}, {{7 * M, 9 * M}}, {{9 * M, 11 * M}}, 1},
      // 0.6 from 6m, back to 0.85 from 10m: firing at 8m, ended at 10m (0.633 <= 0.85).
      {"two changes",
       {{6 * M, 0.65, 0.6}, {10 * M, 0.65, 0.85}},
       {{6 * M, 8 * M}},
       {{8 * M, 10 * M}},
       1},
      // Warning 0.95 from the start: the warning never holds; critical as before.
      {"warning moves too", {{0, 0.95, 0.85}}, {{7 * M, 9 * M}}, {{9 * M, 10 * M}}, 0},
  };
  const Series s = HandSeries();
  for (const ChangeCase& c : cases) {
    SCOPED_TRACE(c.name);
    ReplayConfig config = HandConfig();
    config.threshold_changes = c.changes;
    auto r = Replay(s.times, s.scores, config);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_EQ(r->critical.pending.size(), c.critical_pending.size());
    for (size_t i = 0; i < c.critical_pending.size(); ++i) {
      EXPECT_EQ(r->critical.pending[i].start_ms, c.critical_pending[i].first) << i;
      EXPECT_EQ(r->critical.pending[i].end_ms, c.critical_pending[i].second) << i;
    }
    ASSERT_EQ(r->critical.firing.size(), c.critical_firing.size());
    TimeMs firing_ms = 0;
    for (size_t i = 0; i < c.critical_firing.size(); ++i) {
      EXPECT_EQ(r->critical.firing[i].start_ms, c.critical_firing[i].first) << i;
      EXPECT_EQ(r->critical.firing[i].end_ms, c.critical_firing[i].second) << i;
      firing_ms += c.critical_firing[i].second - c.critical_firing[i].first;
    }
    EXPECT_EQ(r->critical.firing_ms, firing_ms);
    EXPECT_EQ(r->pages, c.critical_firing.size());
    EXPECT_EQ(r->warning.firing.size(), c.warning_firings);
  }
}

TEST(Replay, RejectsBadThresholdChanges) {
  const Series s = HandSeries();
  ReplayConfig c = HandConfig();
  c.threshold_changes = {{5 * M, 0.6, 0.8}, {5 * M, 0.6, 0.9}};  // not strictly ascending
  EXPECT_EQ(Replay(s.times, s.scores, c).status().code(), ErrorCode::kInvalidArgument);
  c.threshold_changes = {{6 * M, 0.6, 0.8}, {5 * M, 0.6, 0.9}};
  EXPECT_EQ(Replay(s.times, s.scores, c).status().code(), ErrorCode::kInvalidArgument);
  c.threshold_changes = {{5 * M, 0.6, kNaN}};
  EXPECT_EQ(Replay(s.times, s.scores, c).status().code(), ErrorCode::kInvalidArgument);
}

// Rows at minutes 0-4 and 10-14 (a gap between), the first two without a score (warming).
struct GappyHistory {
  std::vector<TimeMs> times;
  std::vector<double> scores;
  explicit GappyHistory(double score) {
    for (int m : {0, 1, 2, 3, 4, 10, 11, 12, 13, 14}) {
      times.push_back(m * M);
      scores.push_back(m < 2 ? kNaN : score);
    }
  }
};

ReplayConfig Smoothing(TimeMs smooth) {
  ReplayConfig c;
  c.smooth_ms = smooth;
  c.eval_interval_ms = M;
  c.warning = {0.5, 0};
  c.critical = {0.5, 0};
  return c;
}

TEST(Replay, ScoredTimeLeavesOutWarmingAndGaps) {
  const GappyHistory h(0.1);
  // Evaluations at minutes 0..14. A 1m window (t-1m, t] holds only the row at t: minutes 2-4
  // and 10-14 have a score, 8 minutes.
  auto r = Replay(h.times, h.scores, Smoothing(M));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->end_ms - r->start_ms, 15 * M);
  EXPECT_EQ(r->scored_ms, 8 * M);
  // A 3m window also reaches back over the gap's first two minutes: 2-6 and 10-14, 10 minutes.
  auto r3 = Replay(h.times, h.scores, Smoothing(3 * M));
  ASSERT_TRUE(r3.ok());
  EXPECT_EQ(r3->scored_ms, 10 * M);
}

TEST(Replay, RatesArePerWeekOfScoredTime) {
  const GappyHistory h(0.9);  // above both thresholds whenever scored: pages
  auto r = Replay(h.times, h.scores, Smoothing(M), {{"first", 2 * M, 3 * M}});
  ASSERT_TRUE(r.ok());
  ASSERT_GE(r->pages, 1u);
  const double scored_weeks = 8.0 / (7 * 24 * 60);  // 8 scored minutes
  EXPECT_DOUBLE_EQ(r->pages_per_week, static_cast<double>(r->pages) / scored_weeks);
  EXPECT_DOUBLE_EQ(r->warning.firings_per_week,
                   static_cast<double>(r->warning.firing.size()) / scored_weeks);
  EXPECT_DOUBLE_EQ(r->false_pages_per_week, static_cast<double>(r->false_pages) / scored_weeks);
  // Nothing scored: no rate (NaN), not zero pages a week.
  const std::vector<double> none(h.times.size(), kNaN);
  auto empty = Replay(h.times, none, Smoothing(M));
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->scored_ms, 0);
  EXPECT_TRUE(std::isnan(empty->pages_per_week));
}

}  // namespace
}  // namespace isoscope
