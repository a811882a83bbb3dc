// Temporal features: values computed by hand from the definitions in features.h, the warming
// rules, and the property the daemon relies on: a stream that starts late computes the same
// bits as training's batch over the whole history.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>

#include "detail/exact_sum.h"
#include "isoscope/features.h"

namespace isoscope {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

FeatureSpec OneInput(const std::string& derived, TimeMs step = kMinuteMs) {
  FeatureSpec spec;
  spec.inputs = {"x"};
  spec.step_ms = step;
  auto list = ParseDerivedList(derived, spec.inputs, {step, 0});
  EXPECT_TRUE(list.ok()) << list.status().message();
  spec.derived = *list;
  return spec;
}

struct Built {
  std::vector<RowProblem> problems;
  std::vector<double> values;
  size_t width;
  double at(size_t row, size_t col) const { return values[row * width + col]; }
};

Built Build(const FeatureSpec& spec, const std::vector<TimeMs>& minutes,
            const std::vector<double>& x) {
  std::vector<TimeMs> times;
  for (TimeMs m : minutes) times.push_back(m * kMinuteMs);
  const double* px = x.data();
  auto rows = BuildFeatureRows(spec, times.data(), {px}, x.size());
  EXPECT_TRUE(rows.ok()) << rows.status().message();
  return {rows->problems, rows->values, rows->width};
}

TEST(ExactSum, MatchesFsumExamples) {
  detail::ExactSum s;
  for (double v : {1e100, 1.0, -1e100, 1e-100, 1e50, -1.0, -1e50}) s.Add(v);
  EXPECT_EQ(s.Value(), 1e-100);  // Python: math.fsum of the same list
  detail::ExactSum tenth;
  for (int i = 0; i < 10; ++i) tenth.Add(0.1);
  EXPECT_EQ(tenth.Value(), 1.0);  // plain summation gives 0.9999999999999999
  detail::ExactSum cancel;
  cancel.Add(1e16);
  cancel.Add(1.0);
  cancel.Subtract(1e16);
  EXPECT_EQ(cancel.Value(), 1.0);
}

TEST(ExactSum, ValueDependsOnlyOnTheCurrentValues) {
  std::mt19937_64 rng(3);
  std::uniform_real_distribution<double> u(-1e6, 1e6);
  std::vector<double> keep;
  for (int i = 0; i < 50; ++i) keep.push_back(u(rng) * std::pow(10.0, i % 7));
  detail::ExactSum direct;
  for (double v : keep) direct.Add(v);
  detail::ExactSum churned;  // many values pass through before the same ones remain
  for (int i = 0; i < 5000; ++i) {
    const double v = u(rng) * 1e9;
    churned.Add(v);
    churned.Subtract(v * 1.0);
    churned.Add(v / 3);
    churned.Subtract(v / 3);
  }
  for (auto it = keep.rbegin(); it != keep.rend(); ++it) churned.Add(*it);
  EXPECT_EQ(direct.Value(), churned.Value());
}

TEST(ExactSum, SlidingWindowMatchesFsum) {
  // 3,000 values of magnitudes 2^-60 to 2^60 with random signs through a window of 50 (each
  // added, and subtracted 50 later), the window's sum checked every 500 values against Python's
  // math.fsum of the same values: the values come from a 64-bit LCG (Knuth's MMIX constants)
  // that the script below repeats.
  //   state = 12345
  //   def nxt(): state = (state * 6364136223846793005 + 1442695040888963407) % 2**64
  //   r = nxt(); m = 2**52 | r >> 12; e = (nxt() >> 40) % 120
  //   v = (-1 if r & 1 else 1) * math.ldexp(m, e - 112); math.fsum(window).hex()
  uint64_t state = 12345;
  auto next = [&state] { return state = state * 6364136223846793005u + 1442695040888963407u; };
  std::vector<double> values;
  for (int i = 0; i < 3000; ++i) {
    const uint64_t r = next();
    const auto m = static_cast<double>((uint64_t{1} << 52) | (r >> 12));
    const auto e = static_cast<int>((next() >> 40) % 120);
    values.push_back(((r & 1) ? -1.0 : 1.0) * std::ldexp(m, e - 112));
  }
  ASSERT_EQ(values[0], 0x1.1c0d57f10c894p+6);  // the script's first two values
  ASSERT_EQ(values[1], 0x1.e2b8410510668p+7);
  const double fsum[] = {0x1.080e0db8399c3p+61, 0x1.efddd28c48330p+56, 0x1.a74af02c14a54p+60,
                         0x1.cb76c10d19befp+59, 0x1.acce4c63b2762p+58, 0x1.c8c4cac20911dp+58};
  detail::ExactSum window;
  for (size_t i = 0; i < values.size(); ++i) {
    window.Add(values[i]);
    if (i >= 50) window.Subtract(values[i - 50]);
    if (i % 500 == 499) {
      EXPECT_EQ(window.Value(), fsum[i / 500]) << "after value " << i;
    }
  }
}

TEST(FeatureGrammar, ParsesTheIssueExampleAndNamesColumns) {
  auto d = ParseDerivedList(
      "hour_of_week,delta(latency_p95,1h),zscore(latency_p95,1d),seasonal_diff(latency_p95,1w)",
      {"latency_p95"});
  ASSERT_TRUE(d.ok()) << d.status().message();
  ASSERT_EQ(d->size(), 4u);
  EXPECT_EQ((*d)[1].kind, DerivedFeature::Kind::kDelta);
  EXPECT_EQ((*d)[1].window_ms, kHourMs);
  EXPECT_EQ((*d)[2].Name({"latency_p95"}), "zscore(latency_p95,1d)");
  EXPECT_EQ((*d)[3].window_ms, kWeekMs);
  EXPECT_EQ((*d)[3].Name({"latency_p95"}), "seasonal_diff(latency_p95,1w)");
}

TEST(FeatureGrammar, LagShingleNeedsTheStep) {
  auto d = ParseDerivedList("lag(x,1..3)", {"x"}, {30'000, 0});
  ASSERT_TRUE(d.ok());
  ASSERT_EQ(d->size(), 3u);
  EXPECT_EQ((*d)[2].window_ms, 90'000);
  EXPECT_EQ((*d)[0].Name({"x"}), "lag(x,30s)");
  auto no_step = ParseDerivedList("lag(x,2)", {"x"});
  ASSERT_FALSE(no_step.ok());
  EXPECT_NE(no_step.status().message().find("step"), std::string::npos);
}

TEST(FeatureGrammar, ErrorsNameTheProblem) {
  auto unknown_input = ParseDerivedList("delta(latency,1h)", {"latency_p95"});
  ASSERT_FALSE(unknown_input.ok());
  EXPECT_NE(unknown_input.status().message().find("inputs: latency_p95"), std::string::npos);
  EXPECT_FALSE(ParseDerivedList("delta(x)", {"x"}).ok());
  EXPECT_FALSE(ParseDerivedList("delta(x,1 hour)", {"x"}).ok());
  EXPECT_FALSE(ParseDerivedList("delta(x,0s)", {"x"}).ok());
  EXPECT_FALSE(ParseDerivedList("delta(x,400d)", {"x"}).ok());
  EXPECT_FALSE(ParseDerivedList("delta(x,1h),delta(x,60m)", {"x"}).ok()) << "same feature twice";
  EXPECT_FALSE(ParseDerivedList("hour_of_week(x,1h)", {"x"}).ok());
}

TEST(FeatureGrammar, AutoDependsOnStepAndSpan) {
  auto tiny = AutoDerived(1, {kMinuteMs, 3 * kMinuteMs});
  EXPECT_EQ(tiny.size(), 2u) << "only hour_of_week and is_deploy_window: no room to warm up";
  auto short_history = AutoDerived(1, {kMinuteMs, 2 * kDayMs});
  auto three_weeks = AutoDerived(1, {kMinuteMs, 27 * kDayMs});
  auto long_history = AutoDerived(1, {kMinuteMs, 90 * kDayMs});
  auto has = [](const std::vector<DerivedFeature>& v, DerivedFeature::Kind k, TimeMs w) {
    for (const auto& f : v)
      if (f.kind == k && f.window_ms == w) return true;
    return false;
  };
  EXPECT_TRUE(has(short_history, DerivedFeature::Kind::kRate, kHourMs));
  EXPECT_FALSE(has(short_history, DerivedFeature::Kind::kSeasonalDiff, kWeekMs));
  EXPECT_TRUE(has(three_weeks, DerivedFeature::Kind::kSeasonalDiff, kWeekMs));
  EXPECT_TRUE(AutoUsesRawInputs({kMinuteMs, 27 * kDayMs}));
  // Four weeks and more: the point and the 30-minute residual against a 3-week median, per
  // input, and nothing else (the raw values leave the vector).
  ASSERT_EQ(long_history.size(), 2u);
  EXPECT_EQ(long_history[0].Name({"x"}), "seasonal_median_diff(x,1w,3)");
  EXPECT_EQ(long_history[1].Name({"x"}), "seasonal_median_diff(x,1w,3,30m)");
  EXPECT_FALSE(AutoUsesRawInputs({kMinuteMs, 90 * kDayMs}));
  // Coarse data: the short window keeps at least 12 samples; the smoothing at least 6.
  auto coarse = AutoDerived(1, {10 * kMinuteMs, 20 * kDayMs});
  EXPECT_TRUE(has(coarse, DerivedFeature::Kind::kZScore, 2 * kHourMs));
  EXPECT_EQ(AutoDerived(1, {10 * kMinuteMs, 90 * kDayMs})[1].smooth_ms, kHourMs);
  EXPECT_TRUE(AutoUsesRawInputs({kHourMs, 90 * kDayMs})) << "hourly data keeps the old set";
}

TEST(FeatureGrammar, SeasonalMedianDiffAndRawOff) {
  bool raw = true;
  auto d = ParseDerivedList("raw=off,seasonal_median_diff(x,1w,3),seasonal_median_diff(x,1d,2,30m)",
                            {"x"}, {}, &raw);
  ASSERT_TRUE(d.ok()) << d.status().message();
  EXPECT_FALSE(raw);
  ASSERT_EQ(d->size(), 2u);
  EXPECT_EQ((*d)[0].periods, 3);
  EXPECT_EQ((*d)[0].smooth_ms, 0);
  EXPECT_EQ((*d)[0].lookback_ms(), 3 * kWeekMs);
  EXPECT_EQ((*d)[0].in_memory_ms(), 0) << "look-ups come from outside in the daemon";
  EXPECT_EQ((*d)[1].Name({"x"}), "seasonal_median_diff(x,1d,2,30m)");
  EXPECT_EQ((*d)[1].lookback_ms(), 2 * kDayMs + 30 * kMinuteMs);
  EXPECT_EQ((*d)[1].in_memory_ms(), 30 * kMinuteMs);
  // "auto" decides the raw columns unless the list says so itself.
  raw = false;
  ASSERT_TRUE(ParseDerivedList("raw=on,auto", {"x"}, {kMinuteMs, 90 * kDayMs}, &raw).ok());
  EXPECT_TRUE(raw);
  ASSERT_TRUE(ParseDerivedList("auto", {"x"}, {kMinuteMs, 90 * kDayMs}, &raw).ok());
  EXPECT_FALSE(raw);
  for (const char* bad :
       {"seasonal_median_diff(x,1w)", "seasonal_median_diff(x,1w,0)",
        "seasonal_median_diff(x,1w,13)", "seasonal_median_diff(x,1d,3,2d)",
        "seasonal_median_diff(x,1w,3,30m,1)", "seasonal_median_diff(x,30w,13)", "raw=off,raw=on"}) {
    EXPECT_FALSE(ParseDerivedList(bad, {"x"}).ok()) << bad;
  }
  FeatureSpec spec;
  spec.inputs = {"x"};
  spec.raw_inputs = false;
  spec.derived = {{DerivedFeature::Kind::kHourOfWeek, -1, 0}};
  EXPECT_FALSE(spec.Validate().ok()) << "raw=off with only time columns";
}

// x = 1, 2, 4, 7, 11, 16, 22, 29 at minutes 0..7; period 2m, so minute 6 sees minutes 4, 2, 0.
TEST(TemporalFeatures, SeasonalMedianDiffByHand) {
  FeatureSpec spec = OneInput(
      "raw=off,seasonal_median_diff(x,2m,3),seasonal_median_diff(x,2m,2),"
      "seasonal_median_diff(x,2m,3,2m)");
  spec.raw_inputs = false;
  ASSERT_EQ(spec.width(), 3u);
  const Built b = Build(spec, {0, 1, 2, 3, 4, 5, 6, 7}, {1, 2, 4, 7, 11, 16, 22, 29});
  EXPECT_EQ(b.problems[5].issue, RowIssue::kWarming) << "minute 5 has no minute -1";
  EXPECT_EQ(b.problems[5].column, 0) << "columns count from the first derived feature";
  // Minute 6: 22 - median(11, 4, 1) = 18, and the smoothing (4m, 6m] holds only minute 6's
  // residual, which does not reach back to the window's first step: still warming.
  EXPECT_EQ(b.problems[6].issue, RowIssue::kWarming);
  EXPECT_EQ(b.problems[6].column, 2);
  ASSERT_EQ(b.problems[7].issue, RowIssue::kNone);
  EXPECT_EQ(b.at(7, 0), 29 - 7);               // median(16, 7, 2)
  EXPECT_EQ(b.at(7, 1), 29 - (16 + 7) / 2.0);  // two periods: the mean of the middle pair
  EXPECT_EQ(b.at(7, 2), (18 + 22) / 2.0);      // the residuals of minutes 6 and 7
}

TEST(TemporalFeatures, SeasonalMedianIgnoresOneBadPeriod) {
  // Three quiet periods, one of them with an incident: the baseline stays at the quiet level,
  // where a same-time-last-period difference would echo the incident.
  FeatureSpec spec = OneInput("seasonal_median_diff(x,2m,3),seasonal_diff(x,2m)");
  const Built b = Build(spec, {0, 1, 2, 3, 4, 5, 6}, {10, 10, 10, 10, 90, 10, 10});
  ASSERT_EQ(b.problems[6].issue, RowIssue::kNone);
  EXPECT_EQ(b.at(6, 1), 0);    // 10 - median(90, 10, 10)
  EXPECT_EQ(b.at(6, 2), -80);  // 10 - 90
}

// x = 1, 2, 4, 7, 11 at minutes 0..4.
TEST(TemporalFeatures, HandComputedValues) {
  const FeatureSpec spec =
      OneInput("lag(x,1),delta(x,2m),rate(x,3m),zscore(x,3m),range(x,3m),mean(x,3m)");
  const Built b = Build(spec, {0, 1, 2, 3, 4}, {1, 2, 4, 7, 11});
  ASSERT_EQ(b.problems[4].issue, RowIssue::kNone);
  EXPECT_EQ(b.at(4, 0), 11);
  EXPECT_EQ(b.at(4, 1), 7);       // lag 1 step
  EXPECT_EQ(b.at(4, 2), 11 - 4);  // delta 2m
  // Slope of (0,4), (1,7), (2,11) per minute: sum((u-1)(x-22/3)) / sum((u-1)^2) = 7 / 2.
  EXPECT_NEAR(b.at(4, 3), 3.5 / 60.0, 1e-15);
  // Population std of {4, 7, 11}: sqrt(74/9).
  EXPECT_NEAR(b.at(4, 4), (11 - 22.0 / 3) / std::sqrt(74.0 / 9), 1e-14);
  EXPECT_EQ(b.at(4, 5), 7);  // range 11 - 4
  EXPECT_NEAR(b.at(4, 6), 22.0 / 3, 1e-15);
}

// x = 1, 2, 4, 7, 100, 8, 9 at minutes 0..6: a spike at minute 4.
TEST(TemporalFeatures, MedianDiffByHand) {
  const FeatureSpec spec = OneInput("median_diff(x,3m),median_diff(x,4m),mean(x,3m)");
  const Built b = Build(spec, {0, 1, 2, 3, 4, 5, 6}, {1, 2, 4, 7, 100, 8, 9});
  EXPECT_EQ(b.problems[1].issue, RowIssue::kWarming);
  ASSERT_EQ(b.problems[3].issue, RowIssue::kNone);
  EXPECT_EQ(b.at(3, 1), 7 - 4);  // median(2, 4, 7)
  EXPECT_EQ(b.at(3, 2), 7 - 3);  // median(1, 2, 4, 7): the mean of the middle pair
  ASSERT_EQ(b.problems[4].issue, RowIssue::kNone);
  EXPECT_EQ(b.at(4, 1), 100 - 7);  // the spike at full height against median(4, 7, 100)
  // The row after the spike: the median ignores it, where the mean is dragged to 38.3.
  ASSERT_EQ(b.problems[5].issue, RowIssue::kNone);
  EXPECT_EQ(b.at(5, 1), 0);        // 8 - median(7, 100, 8)
  EXPECT_EQ(b.at(5, 2), 8 - 7.5);  // 8 - median(4, 7, 100, 8)
  EXPECT_NEAR(b.at(5, 3), 115.0 / 3, 1e-13);
  EXPECT_EQ(b.at(6, 1), 9 - 9);  // median(100, 8, 9)
}

// Heavy-tailed values with gaps and missing rows against a brute-force median over the
// window's samples (sorted afresh for every row).
TEST(TemporalFeatures, MedianDiffMatchesBruteForce) {
  const FeatureSpec spec = OneInput("median_diff(x,10m)");
  std::mt19937_64 rng(7);
  std::cauchy_distribution<double> tail(50.0, 3.0);
  std::vector<TimeMs> minutes;
  std::vector<double> x;
  for (TimeMs m = 0; m < 400; ++m) {
    if (m % 97 >= 90) continue;  // a 7-minute gap now and then
    minutes.push_back(m);
    x.push_back(m % 41 == 5 ? kNaN : std::round(tail(rng) * 8) / 8);
  }
  const Built b = Build(spec, minutes, x);
  size_t checked = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    if (b.problems[i].issue != RowIssue::kNone) continue;
    std::vector<double> w;
    for (size_t j = 0; j <= i; ++j) {
      if (minutes[j] > minutes[i] - 10 && !std::isnan(x[j])) w.push_back(x[j]);
    }
    std::sort(w.begin(), w.end());
    const size_t n = w.size();
    const double median = n % 2 == 1 ? w[n / 2] : 0.5 * w[n / 2 - 1] + 0.5 * w[n / 2];
    EXPECT_EQ(b.at(i, 1), x[i] - median) << "row " << i;
    ++checked;
  }
  EXPECT_GT(checked, 300u);
}

TEST(TemporalFeatures, WarmingAtTheStartNeverZeroFilled) {
  const FeatureSpec spec = OneInput("delta(x,2m),rate(x,3m)");
  const Built b = Build(spec, {0, 1, 2, 3}, {1, 2, 4, 7});
  EXPECT_EQ(b.problems[0].issue, RowIssue::kWarming);
  EXPECT_EQ(b.problems[1].issue, RowIssue::kWarming);
  // Minute 2: delta has minute 0; the 3m window (-1, 2] reaches back to the start of data.
  EXPECT_EQ(b.problems[2].issue, RowIssue::kNone);
  EXPECT_EQ(b.at(2, 1), 3);
}

TEST(TemporalFeatures, GapsAreHandledByTime) {
  const FeatureSpec spec = OneInput("delta(x,2m),rate(x,3m)");
  // Minutes 0, 1, 2, then a gap to 10, 11, 12.
  const Built b = Build(spec, {0, 1, 2, 10, 11, 12}, {1, 2, 3, 10, 11, 13});
  EXPECT_EQ(b.problems[3].issue, RowIssue::kWarming) << "nothing at minute 8 for delta";
  EXPECT_EQ(b.problems[3].column, 1);
  EXPECT_EQ(b.problems[4].issue, RowIssue::kWarming);
  ASSERT_EQ(b.problems[5].issue, RowIssue::kNone);
  EXPECT_EQ(b.at(5, 1), 13 - 10);
  EXPECT_NEAR(b.at(5, 2), 1.5 / 60.0, 1e-15);  // (10, 11, 13) at minutes 10, 11, 12
}

TEST(TemporalFeatures, MissingValuesLeaveTheWindowNotZero) {
  const FeatureSpec spec = OneInput("mean(x,3m),range(x,3m)");
  const Built b = Build(spec, {0, 1, 2, 3, 4}, {1, 2, 4, kNaN, 10});
  EXPECT_EQ(b.problems[3].issue, RowIssue::kMissing);
  ASSERT_EQ(b.problems[4].issue, RowIssue::kNone);
  EXPECT_EQ(b.at(4, 1), 7);  // mean of 4 and 10: the missing minute is absent, not 0
  EXPECT_EQ(b.at(4, 2), 6);
}

TEST(TemporalFeatures, LookupAcceptsTheSampleOneStepEarly) {
  const FeatureSpec spec = OneInput("delta(x,2m)");
  // At minute 4 the sample for minute 2 is late: the one at 1.5 still counts, 0.5 does not.
  std::vector<TimeMs> times = {0, 90'000, 240'000};
  std::vector<double> x = {1, 5, 9};
  const double* px = x.data();
  auto rows = BuildFeatureRows(spec, times.data(), {px}, 3);
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->problems[2].issue, RowIssue::kNone);
  EXPECT_EQ(rows->values[2 * 2 + 1], 4);
  std::vector<TimeMs> late = {0, 30'000, 240'000};
  auto none = BuildFeatureRows(spec, late.data(), {px}, 3);
  EXPECT_EQ(none->problems[2].issue, RowIssue::kWarming);
}

TEST(TemporalFeatures, ZScoreFloorAndClip) {
  const FeatureSpec spec = OneInput("zscore(x,5m)");
  const Built flat = Build(spec, {0, 1, 2, 3, 4}, {5, 5, 5, 5, 5.001});
  ASSERT_EQ(flat.problems[4].issue, RowIssue::kNone);
  // std 0.0004 is under the floor 1e-3 * |mean| = 0.0050001.
  const double mean = (4 * 5 + 5.001) / 5;
  EXPECT_NEAR(flat.at(4, 1), (5.001 - mean) / (1e-3 * mean), 1e-9);
  // A flat zero series: mean 0.2 and std 0.4 over the window, which holds the new value too.
  const Built zero = Build(spec, {0, 1, 2, 3, 4}, {0, 0, 0, 0, 1});
  EXPECT_NEAR(zero.at(4, 1), 2, 1e-15);
}

TEST(TemporalFeatures, RowsMustBeInTimeOrder) {
  const FeatureSpec spec = OneInput("delta(x,1m)");
  std::vector<TimeMs> times = {0, 60'000, 60'000};
  std::vector<double> x = {1, 2, 3};
  const double* px = x.data();
  auto rows = BuildFeatureRows(spec, times.data(), {px}, 3);
  ASSERT_FALSE(rows.ok());
  EXPECT_NE(rows.status().message().find("row 3"), std::string::npos);
}

// The daemon's stream starts at its last restart; training's batch starts months earlier.
// Every row both compute must have identical bits.
TEST(TemporalFeatures, LateStreamMatchesBatchBitForBit) {
  FeatureSpec spec;
  spec.inputs = {"a", "b"};
  spec.step_ms = kMinuteMs;
  spec.derived = *ParseDerivedList(
      "hour_of_week,lag(a,1..2),delta(a,30m),seasonal_diff(b,1d),rate(a,1h),rate(b,20m),"
      "zscore(a,1h),zscore(b,1d),range(b,45m),mean(a,2h),seasonal_median_diff(a,6h,3),"
      "seasonal_median_diff(b,4h,2,30m),median_diff(a,45m),median_diff(b,2h)",
      spec.inputs, {kMinuteMs, 0});
  std::mt19937_64 rng(11);
  std::normal_distribution<double> noise(0, 1);
  std::vector<TimeMs> times;
  std::vector<double> a, b;
  TimeMs t = 1'790'000'000'000;  // crosses several rate anchors (every 2^26 ms)
  for (int i = 0; i < 8000; ++i) {
    t += kMinuteMs * (i % 997 == 0 ? 7 : 1);  // occasional gaps
    times.push_back(t);
    a.push_back(i % 613 == 0 ? kNaN : 1e9 + 1e6 * std::sin(i / 50.0) + 1e4 * noise(rng));
    b.push_back(0.002 + 0.001 * std::fabs(noise(rng)));
  }
  auto batch = BuildFeatureRows(spec, times.data(), {a.data(), b.data()}, times.size());
  ASSERT_TRUE(batch.ok());
  const size_t w = spec.width();
  for (const size_t start : {size_t{2500}, size_t{5111}}) {
    auto stream = FeatureStream::Create(spec);
    ASSERT_TRUE(stream.ok());
    auto external = FeatureStream::Create(spec, /*external_lookups=*/true);
    ASSERT_TRUE(external.ok());
    size_t compared = 0;
    std::vector<double> out(w), out_ext(w);
    for (size_t i = start; i < times.size(); ++i) {
      const double in[2] = {a[i], b[i]};
      const RowProblem p = stream->Push(times[i], in, out.data());
      // The daemon's look-ups: the value at exactly t - lag, as an instant query returns it.
      std::vector<double> lookups;
      for (const auto& key : external->LookupKeys()) {
        double v = kNaN;
        for (size_t j = i; j-- > 0;) {
          if (times[j] <= times[i] - key.lag_ms) {
            if (times[j] > times[i] - key.lag_ms - spec.step_ms) v = key.input == 0 ? a[j] : b[j];
            break;
          }
        }
        lookups.push_back(v);
      }
      const RowProblem pe = external->Push(times[i], in, out_ext.data(), lookups.data());
      // Early on the own-history stream still warms up its look-ups; the external one does not.
      if (pe.issue != RowIssue::kNone) {
        ASSERT_EQ(p.issue, pe.issue) << i;
      }
      if (p.issue != RowIssue::kNone) continue;
      ASSERT_EQ(batch->problems[i].issue, RowIssue::kNone) << i;
      for (size_t c = 0; c < w; ++c) {
        ASSERT_EQ(out[c], batch->values[i * w + c]) << "row " << i << " column " << c;
        ASSERT_EQ(out_ext[c], out[c]) << "row " << i << " column " << c;
      }
      ++compared;
    }
    // Everything after the stream's own day of warming (seasonal_diff 1d), bar NaN rows.
    EXPECT_GT(compared, (times.size() - start - 1500) * 9 / 10);
  }
}

TEST(TemporalFeatures, StreamRefusesRowsOutOfOrderWithoutChangingState) {
  auto stream = FeatureStream::Create(OneInput("delta(x,1m)"));
  ASSERT_TRUE(stream.ok());
  double out[2];
  const double x1 = 1, x2 = 5, x0 = 100;
  stream->Push(0, &x1, out);
  EXPECT_EQ(stream->Push(0, &x0, out).issue, RowIssue::kOutOfOrder);
  ASSERT_EQ(stream->Push(kMinuteMs, &x2, out).issue, RowIssue::kNone);
  EXPECT_EQ(out[1], 4);
}

TEST(TemporalFeatures, HistoryIsBoundedByTheLongestWindow) {
  auto stream = FeatureStream::Create(OneInput("zscore(x,1h),delta(x,30m)"));
  ASSERT_TRUE(stream.ok());
  double out[3];
  for (int i = 0; i < 10000; ++i) {
    const double x = i;
    stream->Push(i * kMinuteMs, &x, out);
  }
  EXPECT_LT(stream->MemoryBytes(), 4000u) << "about 60 samples of 16 bytes plus state";
}

// The smoothed seasonal baselines against their definition, on rows that make the shared
// smoothing rows work: irregular times with gaps longer than a window, missing inputs and
// look-ups (a row where one smoother has a residual and another has none), two windows.
TEST(TemporalFeatures, SmoothedSeasonalDiffMatchesItsDefinition) {
  FeatureSpec spec;
  spec.inputs = {"x", "y"};
  spec.step_ms = kMinuteMs;
  spec.raw_inputs = false;
  auto list = ParseDerivedList(
      "seasonal_median_diff(x,1h,3),seasonal_median_diff(x,1h,3,10m),"
      "seasonal_median_diff(y,1h,2,30m)",
      spec.inputs, {kMinuteMs, 0});
  ASSERT_TRUE(list.ok()) << list.status().message();
  spec.derived = *list;
  auto stream = FeatureStream::Create(spec, /*external_lookups=*/true);
  ASSERT_TRUE(stream.ok());
  const std::vector<FeatureStream::LookupKey> keys = stream->LookupKeys();
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> u(0, 1);
  struct Residual {
    TimeMs t;
    double r;
  };
  std::vector<Residual> past[2];  // per input: every residual so far
  // The residual of input j: its value less the median of its look-ups, or none.
  auto residual = [&](size_t j, double v, const std::vector<double>& lookups, double* r) {
    std::vector<double> p;
    for (size_t k = 0; k < keys.size(); ++k) {
      if (keys[k].input == static_cast<int32_t>(j)) p.push_back(lookups[k]);
    }
    for (double x : p) {
      if (std::isnan(x)) return false;
    }
    if (std::isnan(v)) return false;
    std::sort(p.begin(), p.end());
    const size_t n = p.size();
    *r = v - (n % 2 == 1 ? p[n / 2] : 0.5 * p[n / 2 - 1] + 0.5 * p[n / 2]);
    return true;
  };
  // The mean of input j's residuals in (t - smooth, t], or warming (NaN).
  auto smoothed = [&](size_t j, TimeMs t, TimeMs smooth) {
    detail::ExactSum sum;
    size_t n = 0;
    TimeMs first = t;
    for (const Residual& r : past[j]) {
      if (r.t <= t - smooth) continue;
      sum.Add(r.r);
      ++n;
      first = std::min(first, r.t);
    }
    if (first > t - smooth + kMinuteMs) return kNaN;
    return sum.Value() / static_cast<double>(n);
  };
  TimeMs t = 0;
  size_t compared = 0;
  for (int i = 0; i < 3000; ++i) {
    t += u(rng) < 0.02 ? 45 * kMinuteMs : u(rng) < 0.3 ? 20000 : kMinuteMs;
    const double in[2] = {u(rng) < 0.1 ? kNaN : 100 * u(rng), u(rng) < 0.1 ? kNaN : u(rng)};
    std::vector<double> lookups(keys.size());
    for (double& x : lookups) x = u(rng) < 0.05 ? kNaN : 100 * u(rng);
    bool have[2];
    for (size_t j = 0; j < 2; ++j) {
      double r = 0;
      have[j] = residual(j, in[j], lookups, &r);
      if (have[j]) past[j].push_back({t, r});
    }
    double out[3];
    const RowProblem p = stream->Push(t, in, out, lookups.data());
    const double want[2] = {smoothed(0, t, 10 * kMinuteMs), smoothed(1, t, 30 * kMinuteMs)};
    const bool ok = have[0] && have[1] && !std::isnan(want[0]) && !std::isnan(want[1]);
    ASSERT_EQ(p.issue == RowIssue::kNone, ok) << "row " << i;
    if (!ok) continue;
    ASSERT_EQ(out[0], past[0].back().r) << "row " << i;
    ASSERT_EQ(out[1], want[0]) << "row " << i;
    ASSERT_EQ(out[2], want[1]) << "row " << i;
    ++compared;
  }
  EXPECT_GT(compared, 500u);
}

// The daemon's stream of the `auto` set (look-ups from outside) holds its three half-hour
// smoothing windows in one block of rows: the times once, not once per input.
TEST(TemporalFeatures, AutoStreamStateIsSmall) {
  FeatureSpec spec;
  spec.inputs = {"a", "b", "c"};
  spec.step_ms = kMinuteMs;
  auto list = ParseDerivedList("auto", spec.inputs, {kMinuteMs, 35 * kDayMs}, &spec.raw_inputs);
  ASSERT_TRUE(list.ok()) << list.status().message();
  spec.derived = *list;
  auto stream = FeatureStream::Create(spec, /*external_lookups=*/true);
  ASSERT_TRUE(stream.ok());
  const std::vector<double> lookups(stream->LookupKeys().size(), 1.0);
  std::vector<double> out(spec.width());
  for (int i = 0; i < 120; ++i) {
    const double in[3] = {1.0 + i, 2.0 * i, 0.5};
    stream->Push(i * kMinuteMs, in, out.data(), lookups.data());
  }
  // 32 rows of a time and three residuals (1,024 bytes), the exact sums and the fixed state:
  // 1,696 bytes; a ring of (time, value) per smoother made it 2,200.
  EXPECT_LT(stream->MemoryBytes(), 1800u);
}

}  // namespace
}  // namespace isoscope

namespace isoscope {
namespace {

// Rows of two groups (Prometheus's jobs), contiguous as training joins them or interleaved as
// a daemon sees them: each group's features are those it has alone, never a window that
// spans the other group, and a time going back at a group boundary is no error.
TEST(TemporalFeatures, GroupsHaveTheirOwnStreams) {
  FeatureSpec spec;
  spec.inputs = {"x"};
  spec.step_ms = kMinuteMs;
  spec.derived = std::move(ParseDerivedList("delta(x,2m),mean(x,3m)", spec.inputs)).value();
  const std::vector<TimeMs> t = {0, kMinuteMs, 2 * kMinuteMs, 3 * kMinuteMs};
  const std::vector<double> a = {1, 2, 4, 8}, b = {100, 90, 70, 40};
  auto alone = [&](const std::vector<double>& x) {
    return std::move(BuildFeatureRows(spec, t.data(), {x.data()}, x.size())).value();
  };
  const FeatureRows ra = alone(a), rb = alone(b);
  // By hand: delta at 2m is 4 - 1 = 3 (a) and 70 - 100 = -30 (b); mean(3m) at 3m is
  // (2 + 4 + 8) / 3 and (90 + 70 + 40) / 3.
  EXPECT_EQ(ra.values[2 * 3 + 1], 3);
  EXPECT_EQ(rb.values[2 * 3 + 1], -30);
  EXPECT_EQ(ra.values[3 * 3 + 2], 14.0 / 3);
  EXPECT_EQ(rb.values[3 * 3 + 2], 200.0 / 3);

  for (const bool interleave : {false, true}) {
    std::vector<TimeMs> times;
    std::vector<double> x;
    std::vector<int32_t> group;
    std::vector<std::pair<int, size_t>> order;  // (group, row)
    if (interleave) {
      for (size_t i = 0; i < 4; ++i) order.insert(order.end(), {{0, i}, {1, i}});
    } else {
      for (int g : {0, 1}) {
        for (size_t i = 0; i < 4; ++i) order.push_back({g, i});
      }
    }
    for (const auto& [g, i] : order) {
      times.push_back(t[i]);
      x.push_back(g == 0 ? a[i] : b[i]);
      group.push_back(g);
    }
    auto rows = BuildFeatureRows(spec, times.data(), {x.data()}, x.size(), group.data());
    ASSERT_TRUE(rows.ok()) << rows.status().ToString();
    EXPECT_FALSE(BuildFeatureRows(spec, times.data(), {x.data()}, x.size()).ok())
        << "without groups, time goes back at the second group";
    for (size_t r = 0; r < order.size(); ++r) {
      const auto& [g, i] = order[r];
      const FeatureRows& own = g == 0 ? ra : rb;
      EXPECT_EQ(rows->problems[r].issue, own.problems[i].issue) << r;
      if (own.problems[i].issue != RowIssue::kNone) continue;
      for (size_t c = 0; c < 3; ++c) EXPECT_EQ(rows->values[r * 3 + c], own.values[i * 3 + c]);
    }
  }
}

}  // namespace
}  // namespace isoscope
