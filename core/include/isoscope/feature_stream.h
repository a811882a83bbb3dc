#pragma once

// Feature vectors one row at a time, as the daemon computes them.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "isoscope/feature_rows.h"
#include "isoscope/feature_spec.h"
#include "isoscope/status.h"
#include "isoscope/time.h"

namespace isoscope {

/// Computes feature vectors one row at a time, in time order, keeping only the history the
/// spec's windows need. Training (through BuildFeatureRows), backtests and the daemon all use
/// it. Window sums are exact and rounded once, so a row's features depend only on the samples
/// inside its windows, never on where the stream started: a daemon that filled its history
/// an hour ago computes the same bits as training did over 90 days (tests check it).
///
/// Look-ups (lag, delta, seasonal_diff) read the stream's own history by default. A caller
/// that cannot keep a week of history per group (the daemon) builds the stream with
/// `external_lookups` and passes, for each LookupKeys() entry, the input's value at t - lag
/// (NaN when it has none), e.g. from an instant query at t - lag.
class FeatureStream {
 public:
  struct LookupKey {
    int32_t input = -1;
    TimeMs lag_ms = 0;
  };

  static Result<FeatureStream> Create(const FeatureSpec& spec, bool external_lookups = false);
  /// A new, empty stream for the same spec. It shares the immutable plan worked out by
  /// Create, so a daemon's thousands of groups hold only their own history.
  FeatureStream Fresh() const;
  FeatureStream(FeatureStream&&) noexcept;
  FeatureStream& operator=(FeatureStream&&) noexcept;
  ~FeatureStream();

  /// Appends the row at time `t` with spec.inputs.size() raw values (NaN = missing) and writes
  /// spec.width() feature values to `out`. Returns kNone or the row's first problem (its
  /// values are then unspecified). A row whose time is not after the previous one is refused
  /// with kOutOfOrder and changes nothing.
  RowProblem Push(TimeMs t, const double* inputs, double* out, const double* lookups = nullptr);

  const std::vector<LookupKey>& LookupKeys() const;
  /// The time of the last row pushed (INT64_MIN before the first).
  TimeMs last_time() const;
  /// Bytes this stream holds now (history and window state; the plan Fresh() shares is not
  /// counted), for capacity planning.
  size_t MemoryBytes() const;

 private:
  struct Plan;
  struct Impl;
  explicit FeatureStream(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace isoscope
