#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "isoscope/status.h"

namespace isoscope {

/// Times are int64 milliseconds since the Unix epoch, UTC, everywhere.
using TimeMs = int64_t;

constexpr TimeMs kMinuteMs = 60'000;
constexpr TimeMs kHourMs = 3'600'000;
constexpr TimeMs kDayMs = 86'400'000;
constexpr TimeMs kWeekMs = 7 * kDayMs;

/// Hour of the week, Monday 00:00 UTC = 0 (pandas dayofweek * 24 + hour).
int32_t HourOfWeek(TimeMs t);
/// Minute of the week, Monday 00:00 UTC = 0.
int32_t MinuteOfWeek(TimeMs t);

/// A weekly interval [start, end) in minutes from Monday 00:00 UTC; start < end <= 10080.
struct WeeklyWindow {
  int32_t start_minute = 0;
  int32_t end_minute = 0;
  bool operator==(const WeeklyWindow& o) const {
    return start_minute == o.start_minute && end_minute == o.end_minute;
  }
};

/// Weekdays 10:00-12:00 UTC, the origin pipeline's deploy windows.
std::vector<WeeklyWindow> DefaultDeployWindows();

/// Parses "Mon-Fri 10:00-12:00" (days: Mon..Sun, a single day or a range; several windows
/// separated by ';' or ','). A window that crosses midnight (22:00-02:00) is split in two.
Result<std::vector<WeeklyWindow>> ParseDeployWindows(std::string_view text);
std::string FormatDeployWindows(const std::vector<WeeklyWindow>& windows);

/// A feature computed from timestamps and input series. The kind set grows (lags, windows);
/// `input` and `window_ms` are reserved for those and stored in every bundle already.
struct DerivedFeature {
  enum class Kind { kHourOfWeek, kIsDeployWindow };
  Kind kind = Kind::kHourOfWeek;
  int32_t input = -1;     ///< index into FeatureSpec::inputs, -1 if the feature has none
  int64_t window_ms = 0;  ///< window length, 0 if the feature has none
  std::string Name() const;
  bool operator==(const DerivedFeature& o) const {
    return kind == o.kind && input == o.input && window_ms == o.window_ms;
  }
};

/// Parses a comma separated list such as "hour_of_week,is_deploy_window".
Result<std::vector<DerivedFeature>> ParseDerivedList(std::string_view text,
                                                     const std::vector<std::string>& inputs);

/// What a model's feature vector is made of, stored in the bundle so every target builds the
/// same vector: the named input series first, then the derived features, in order.
struct FeatureSpec {
  std::vector<std::string> inputs;
  std::vector<DerivedFeature> derived;
  std::vector<WeeklyWindow> deploy_windows = DefaultDeployWindows();

  size_t width() const { return inputs.size() + derived.size(); }
  bool needs_time() const { return !derived.empty(); }
  std::vector<std::string> ColumnNames() const;
  Status Validate() const;
  bool operator==(const FeatureSpec& o) const {
    return inputs == o.inputs && derived == o.derived && deploy_windows == o.deploy_windows;
  }
};

/// Why a row has no feature vector (and so no score). Rows are never filled in.
enum class RowIssue : uint8_t {
  kNone = 0,
  kMissing,      ///< an input is absent (NaN)
  kNonFinite,    ///< an input is +/-Inf
  kOutOfRange,   ///< an input overflows float32, which the forest compares in
  kNoTimestamp,  ///< a time feature is needed but the row has no time
};
const char* RowIssueName(RowIssue issue);

struct RowProblem {
  RowIssue issue = RowIssue::kNone;
  int32_t column = -1;  ///< the input column at fault
};

/// Feature rows built from aligned inputs: row-major values, width() columns, and for each
/// row either kNone or the first problem found (its values are then unspecified).
struct FeatureRows {
  size_t rows = 0;
  size_t width = 0;
  std::vector<double> values;
  std::vector<RowProblem> problems;
  size_t usable = 0;
  /// "missing value in latency_p95", for logs and reports.
  static std::string Describe(const RowProblem& p, const FeatureSpec& spec);
};

/// Builds feature rows. `series[k]` holds n values of spec.inputs[k]; `times` holds n
/// timestamps (may be null when the spec has no time features; a time of INT64_MIN means
/// "no timestamp").
Result<FeatureRows> BuildFeatureRows(const FeatureSpec& spec, const TimeMs* times,
                                     const std::vector<const double*>& series, size_t n);

/// Checks one assembled row (raw inputs already followed by derived values) for problems.
RowProblem CheckRow(const double* row, size_t n_inputs);

}  // namespace isoscope
