#pragma once

// What a model's feature vector is made of: derived features, `auto`'s reading of the data,
// and the FeatureSpec stored in the bundle.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "isoscope/status.h"
#include "isoscope/time.h"

namespace isoscope {

/// A feature computed from timestamps and input series. Temporal kinds read one input (`input`)
/// over a look-back of `window_ms`; every window looks back only (a row uses itself and
/// earlier rows), by time, not by row count.
struct DerivedFeature {
  enum class Kind {
    kHourOfWeek,      ///< hour of the week, Monday 00:00 UTC = 0
    kIsDeployWindow,  ///< 1 inside the spec's deploy windows
    kLag,             ///< x(t - w)
    kDelta,           ///< x(t) - x(t - w)
    kSeasonalDiff,    ///< x(t) - x(t - p), p a day or a week: "same time last week"
    kRate,            ///< least-squares slope over (t - w, t], per second
    kZScore,          ///< (x(t) - mean) / max(std, floor) over (t - w, t], clipped to +-50
    kRange,           ///< max - min over (t - w, t]
    kMean,            ///< mean over (t - w, t]
    /// x(t) - median(x(t - p), ..., x(t - periods * p)), averaged over the rows in
    /// (t - smooth, t] (the row alone when smooth is 0): the level against a baseline of
    /// several past periods, so one bad week does not echo into the next and weekly habits
    /// (Monday ramps, deploy windows) cancel out.
    kSeasonalMedianDiff,
    /// x(t) - median over (t - w, t]: the level against a robust local baseline. A mean and
    /// a standard deviation are dragged by the spike or level shift they should show (and by
    /// heavy tails); the median is not, so a spike stands out at full height and a level
    /// shift shows for half the window.
    kMedianDiff,
  };
  Kind kind = Kind::kHourOfWeek;
  int32_t input = -1;     ///< index into FeatureSpec::inputs, -1 if the feature has none
  int64_t window_ms = 0;  ///< look-back (lag, window length or period), 0 if none
  int32_t periods = 1;    ///< seasonal_median_diff: how many past periods form the baseline
  int64_t smooth_ms = 0;  ///< seasonal_median_diff: averaging window, 0 = the row alone

  /// The kind as the bundle and the grammar spell it: "hour_of_week", "delta", ...
  std::string KindName() const;
  /// The column name: "hour_of_week", "delta(latency_p95,1h)".
  std::string Name(const std::vector<std::string>& inputs) const;
  bool temporal() const { return input >= 0; }
  /// A value at one earlier instant (lag, delta, seasonal_diff) rather than over a window.
  bool is_lookup() const {
    return kind == Kind::kLag || kind == Kind::kDelta || kind == Kind::kSeasonalDiff;
  }
  /// History a stream must hold in memory when look-ups come from outside (the daemon).
  TimeMs in_memory_ms() const {
    if (!temporal() || is_lookup()) return 0;
    return kind == Kind::kSeasonalMedianDiff ? smooth_ms : window_ms;
  }
  /// How far back the feature reads, look-ups included.
  TimeMs lookback_ms() const {
    if (!temporal()) return 0;
    return kind == Kind::kSeasonalMedianDiff ? periods * window_ms + smooth_ms : window_ms;
  }
  bool operator==(const DerivedFeature& o) const {
    return kind == o.kind && input == o.input && window_ms == o.window_ms && periods == o.periods &&
           smooth_ms == o.smooth_ms;
  }
};

/// Parses the kind name of a derived feature; false if unknown.
bool ParseDerivedKind(std::string_view name, DerivedFeature::Kind* kind);

/// seasonal_median_diff's most past periods: more is a slip (and a long warm-up).
constexpr int32_t kMaxSeasonalPeriods = 12;

/// Whether a history shows a cycle of one period: the autocorrelation at that lag over the
/// rows, and how many whole periods the history spans.
struct CycleEvidence {
  double autocorrelation = 0;  ///< Pearson r of x(t) and x(t - period); NaN if not measurable
  double half_period = 0;      ///< the same at half the period (a trend is high at both)
  double cycles = 0;           ///< span / period
  bool shown = false;          ///< the rule below holds
};

/// The autocorrelation a cycle must reach, and the margin by which it must beat the half
/// period's (so persistence or a trend, high at every lag, is not read as a cycle).
constexpr double kMinCycleAutocorrelation = 0.3;
constexpr double kMinCycleMargin = 0.1;
/// Whole periods a history must span before a cycle of that period counts as shown.
constexpr double kMinCycles = 3;

/// Measures a cycle of `period_ms` in `values` sampled at `times` (n rows in increasing time,
/// step `step_ms`): rows are put on the step grid and paired with the row one period (and
/// half a period) earlier. NaN values are skipped.
CycleEvidence MeasureCycle(const TimeMs* times, const double* values, size_t n, TimeMs step_ms,
                           TimeMs period_ms);

/// What `--derived auto` was chosen from: the data's step and the length of its history, and
/// when the data itself was at hand (train, backtest: not a config), what it shows.
struct AutoContext {
  TimeMs step_ms = 0;
  TimeMs span_ms = 0;
  bool measured = false;       ///< daily / weekly below were measured on the history
  bool daily = false;          ///< any input shows a daily cycle
  bool weekly = false;         ///< any input shows a weekly cycle
  bool deploy_windows = true;  ///< deploy windows were configured (is_deploy_window is useful)
};

/// The AutoContext of a history: step (MedianStep), span, and the daily and weekly cycles of
/// each input (MeasureCycle); `deploy_windows` says whether the user configured any.
AutoContext MeasureAutoContext(const TimeMs* times, const std::vector<const double*>& series,
                               size_t n, bool deploy_windows);

/// Parses a comma separated list such as
/// "hour_of_week,delta(latency_p95,1h),zscore(latency_p95,1d),lag(cpu,1..3)". Temporal
/// features name an input and a duration (`lag` also takes a step count k, or a shingle 1..k,
/// which needs `auto_context.step_ms`). "auto" expands to AutoDerived(); "none" to nothing.
/// `seasonal_median_diff(x,1w,3,30m)` takes a period, a count of past periods and an optional
/// smoothing window. "raw=off" / "raw=on" say whether the raw inputs are vector columns;
/// without either, "auto" decides (AutoUsesRawInputs) and otherwise they are. The choice is
/// written to `raw_inputs` when given.
Result<std::vector<DerivedFeature>> ParseDerivedList(std::string_view text,
                                                     const std::vector<std::string>& inputs,
                                                     const AutoContext& auto_context = {},
                                                     bool* raw_inputs = nullptr);

/// The recommended feature set for inputs sampled every `step_ms` over `span_ms` of history
/// (docs/features.md gives the reasoning). With four weeks or more at a step of at most 10m:
/// per input, the difference from the median of the same instant in the last three weeks,
/// for the row alone and averaged over 30 minutes, and no raw values. With less history:
/// hour_of_week and is_deploy_window, and per input an hour's z-score and slope, and the
/// same-time-yesterday difference once three days exist.
std::vector<DerivedFeature> AutoDerived(size_t n_inputs, const AutoContext& context);
/// Whether the `auto` set keeps the raw inputs as columns (not with the seasonal baselines).
bool AutoUsesRawInputs(const AutoContext& context);

/// What a model's feature vector is made of, stored in the bundle so every target builds the
/// same vector: the named input series first, then the derived features, in order.
struct FeatureSpec {
  std::vector<std::string> inputs;
  std::vector<DerivedFeature> derived;
  std::vector<WeeklyWindow> deploy_windows = DefaultDeployWindows();
  /// The sampling step of the inputs (0 when no feature is temporal). A look-up at t - w
  /// accepts the latest sample in (t - w - step, t - w]; a window is warm once history
  /// reaches back to its first step.
  TimeMs step_ms = 0;
  /// Whether the raw input values are columns of the vector. Off when the derived features
  /// carry the inputs' levels (seasonal baselines): raw values then only add columns whose
  /// busy-hour peaks dilute the forest's splits.
  bool raw_inputs = true;

  size_t width() const { return (raw_inputs ? inputs.size() : 0) + derived.size(); }
  bool needs_time() const { return !derived.empty(); }
  bool has_temporal() const;
  /// Whether the bundle needs format 1.2 (seasonal_median_diff, raw inputs off).
  bool needs_format_1_2() const;
  /// Whether the bundle needs format 1.4 (median_diff).
  bool needs_format_1_4() const;
  /// The longest look-back of any temporal feature (0 without any).
  TimeMs max_lookback_ms() const;
  /// History to give before the first row that is to be scored (the what-if page's and the
  /// panel's warm-up): the longest look-back on the step grid and one step more, 0 without
  /// temporal features.
  TimeMs warmup_ms() const;
  std::vector<std::string> ColumnNames() const;
  Status Validate() const;
  bool operator==(const FeatureSpec& o) const {
    return inputs == o.inputs && derived == o.derived && deploy_windows == o.deploy_windows &&
           step_ms == o.step_ms && raw_inputs == o.raw_inputs;
  }
};

}  // namespace isoscope
