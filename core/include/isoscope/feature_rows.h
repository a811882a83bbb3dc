#pragma once

// Feature rows built in one pass over aligned inputs (training, backtests, CSV scoring), and
// why a row has none.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "isoscope/feature_spec.h"
#include "isoscope/status.h"
#include "isoscope/time.h"

namespace isoscope {

/// Why a row has no feature vector (and so no score). Rows are never filled in.
enum class RowIssue : uint8_t {
  kNone = 0,
  kMissing,      ///< an input is absent (NaN)
  kNonFinite,    ///< an input is +/-Inf
  kOutOfRange,   ///< an input overflows float32, which the forest compares in
  kNoTimestamp,  ///< a time feature is needed but the row has no time
  kWarming,      ///< a temporal feature's history is missing (start of data, or a gap)
  kOutOfOrder,   ///< the row's time is not after the previous row's
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
/// "no timestamp"). With temporal features the rows must be in strictly increasing time
/// order (kInvalidArgument names the first that is not), and they run through one
/// FeatureStream, the very code the daemon runs row by row. `group_of_row` (optional, n
/// entries) says which group (e.g. job) each row belongs to: each group then has its own
/// stream and time order, as the daemon keeps one stream per group.
Result<FeatureRows> BuildFeatureRows(const FeatureSpec& spec, const TimeMs* times,
                                     const std::vector<const double*>& series, size_t n,
                                     const int32_t* group_of_row = nullptr);

/// The value of a time feature (hour_of_week, is_deploy_window) at `t`.
double TimeFeature(const DerivedFeature& d, TimeMs t, const std::vector<WeeklyWindow>& deploy);

/// Checks one assembled row (raw inputs already followed by derived values) for problems.
RowProblem CheckRow(const double* row, size_t n_inputs);

/// The median difference between consecutive timestamps (INT64_MIN entries skipped); 0 when
/// fewer than two. Training sets FeatureSpec::step_ms from it for CSV input.
TimeMs MedianStep(const TimeMs* times, size_t n);

}  // namespace isoscope
