// What `auto` reads from the data. Expected values are worked out by hand (a sine sampled on
// its own grid repeats exactly one period later: r = 1; half a period later it is negated:
// r = -1). The demo generator's cycles are checked in tests/native/cli/demo_data_test.cc.
#include <gtest/gtest.h>

#include <cmath>

#include "isoscope/features.h"

namespace isoscope {
namespace {

constexpr TimeMs kT0 = 1'790'000'000'000;

struct Series {
  std::vector<TimeMs> t;
  std::vector<double> x;
};

Series Make(int rows, TimeMs step, double (*f)(int i)) {
  Series s;
  for (int i = 0; i < rows; ++i) {
    s.t.push_back(kT0 + i * step);
    s.x.push_back(f(i));
  }
  return s;
}

double DailySine(int hour) { return std::sin(2 * M_PI * hour / 24.0); }
double Trend(int i) { return 0.01 * i; }
double Noise(int i) {  // a fixed LCG: no cycle at any lag
  uint32_t v = 2654435761u * static_cast<uint32_t>(i + 1);
  v ^= v >> 13;
  v *= 2246822519u;
  v ^= v >> 16;
  return v / 4294967296.0;
}

TEST(MeasureCycle, ASineRepeatsOnePeriodLater) {
  const Series s = Make(24 * 10, kHourMs, DailySine);
  const CycleEvidence e = MeasureCycle(s.t.data(), s.x.data(), s.x.size(), kHourMs, kDayMs);
  EXPECT_NEAR(e.autocorrelation, 1.0, 1e-12);
  EXPECT_NEAR(e.half_period, -1.0, 1e-12);
  EXPECT_NEAR(e.cycles, 239.0 / 24.0, 1e-12);
  EXPECT_TRUE(e.shown);
}

TEST(MeasureCycle, TooFewCyclesAreNotShown) {
  // Two and a half days: the sine is perfectly periodic, but three cycles are required.
  const Series s = Make(60, kHourMs, DailySine);
  const CycleEvidence e = MeasureCycle(s.t.data(), s.x.data(), s.x.size(), kHourMs, kDayMs);
  EXPECT_NEAR(e.autocorrelation, 1.0, 1e-12);
  EXPECT_FALSE(e.shown);
}

TEST(MeasureCycle, ATrendOrNoiseIsNoCycle) {
  const Series trend = Make(24 * 10, kHourMs, Trend);
  const CycleEvidence t =
      MeasureCycle(trend.t.data(), trend.x.data(), trend.x.size(), kHourMs, kDayMs);
  EXPECT_NEAR(t.autocorrelation, 1.0, 1e-9);  // a line correlates with itself at any lag
  EXPECT_FALSE(t.shown) << "the half period correlates as well: persistence, not a cycle";
  const Series noise = Make(24 * 10, kHourMs, Noise);
  const CycleEvidence n =
      MeasureCycle(noise.t.data(), noise.x.data(), noise.x.size(), kHourMs, kDayMs);
  EXPECT_LT(std::fabs(n.autocorrelation), kMinCycleAutocorrelation);
  EXPECT_FALSE(n.shown);
}

TEST(MeasureCycle, GapsKeepThePairsOnTheGrid) {
  // Every fifth row missing and a 1-second jitter: the pairs still line up by time.
  Series s;
  for (int i = 0; i < 24 * 10; ++i) {
    if (i % 5 == 3) continue;
    s.t.push_back(kT0 + i * kHourMs + (i % 2) * 1000);
    s.x.push_back(DailySine(i));
  }
  const CycleEvidence e = MeasureCycle(s.t.data(), s.x.data(), s.x.size(), kHourMs, kDayMs);
  EXPECT_NEAR(e.autocorrelation, 1.0, 1e-12);
}

bool Has(const std::vector<DerivedFeature>& v, DerivedFeature::Kind k, TimeMs w = -1) {
  for (const DerivedFeature& f : v) {
    if (f.kind == k && (w < 0 || f.window_ms == w)) return true;
  }
  return false;
}

TEST(AutoDerived, CalendarAndSeasonalColumnsOnlyWithACycleShown) {
  using K = DerivedFeature::Kind;
  AutoContext c;
  c.step_ms = 5 * kMinuteMs;
  c.span_ms = 10 * kDayMs;
  c.measured = true;
  c.deploy_windows = false;
  auto none = AutoDerived(1, c);
  EXPECT_FALSE(Has(none, K::kHourOfWeek));
  EXPECT_FALSE(Has(none, K::kIsDeployWindow));
  EXPECT_FALSE(Has(none, K::kSeasonalDiff));
  EXPECT_TRUE(Has(none, K::kZScore, kHourMs));  // 12 steps of 5 minutes
  c.daily = true;
  auto daily = AutoDerived(1, c);
  EXPECT_TRUE(Has(daily, K::kHourOfWeek));
  EXPECT_TRUE(Has(daily, K::kSeasonalDiff, kDayMs));
  c.deploy_windows = true;
  EXPECT_TRUE(Has(AutoDerived(1, c), K::kIsDeployWindow));
  // Four weeks at 5 minutes take the seasonal baseline only when the weekly cycle is shown.
  c.span_ms = 5 * kWeekMs;
  EXPECT_FALSE(Has(AutoDerived(1, c), K::kSeasonalMedianDiff));
  c.weekly = true;
  EXPECT_TRUE(Has(AutoDerived(1, c), K::kSeasonalMedianDiff));
  // From a config (nothing measured) the choice stays what step and span allow.
  const AutoContext config{5 * kMinuteMs, 10 * kDayMs};
  auto from_config = AutoDerived(1, config);
  EXPECT_TRUE(Has(from_config, K::kHourOfWeek));
  EXPECT_TRUE(Has(from_config, K::kSeasonalDiff, kDayMs));
}

}  // namespace
}  // namespace isoscope
