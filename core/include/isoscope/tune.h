#pragma once

// Alert settings chosen for an alert budget ("at most one page a week"): a search over the
// critical and warning thresholds, the rules' `for:` and the smoothing window, judged on a
// history of scores with the replay semantics of alert.h. `isoscope tune` and the panel's
// "fit to budget" (WebAssembly) both call TuneAlerts, so they choose the same settings.

#include <cstddef>
#include <optional>
#include <vector>

#include "isoscope/alert.h"
#include "isoscope/features.h"
#include "isoscope/status.h"

namespace isoscope {

/// What to search and what is acceptable.
struct TuneRequest {
  /// Pages (critical firing starts) allowed per week of scored time; > 0.
  double budget_per_week = 1;
  /// Warning firings allowed per week; the warning threshold is the lowest candidate (at the
  /// chosen for: and smoothing) that stays within it and is not above the critical one.
  double warning_budget_per_week = 5;
  /// An incident counts as caught only when its first page came at most this long after its
  /// start; -1: no limit (Replay's window alone: start .. end + for + smoothing).
  TimeMs max_delay_ms = -1;
  TimeMs eval_interval_ms = kMinuteMs;
  /// Candidate `for:` values (>= 0) and smoothing windows (> 0); each non-empty.
  std::vector<TimeMs> for_ms = {3 * kMinuteMs, 5 * kMinuteMs, 10 * kMinuteMs, 15 * kMinuteMs};
  std::vector<TimeMs> smooth_ms = {5 * kMinuteMs, 10 * kMinuteMs, 15 * kMinuteMs, 30 * kMinuteMs};
};

/// One combination of settings and how it did on the history.
struct TuneCandidate {
  double critical = 0;  ///< threshold on the smoothed score (`>` strict)
  double warning = 0;   ///< <= critical
  TimeMs for_ms = 0;
  TimeMs smooth_ms = 0;
  size_t pages = 0;
  double pages_per_week = 0;  ///< per week of scored time (NaN: nothing scored)
  size_t warnings = 0;        ///< warning firing starts
  double warnings_per_week = 0;
  size_t caught = 0;          ///< incidents paged within max_delay (and Replay's window)
  TimeMs total_delay_ms = 0;  ///< sum of the caught incidents' page delays
  size_t false_pages = 0;     ///< pages in no incident's window (with incidents only)
};

struct TuneResult {
  /// Frontier, ascending in pages: the settings that no setting with as few pages beats on
  /// incidents caught, then (at as many caught) total delay; with no incidents, the most
  /// sensitive setting for each number of pages. Stops at 10 x the budget; holds the chosen one.
  std::vector<TuneCandidate> frontier;
  TuneCandidate chosen;
  /// Replay (alert.h) of the chosen settings: the exact figures behind `chosen`.
  ReplayResult replay;
  size_t evaluated = 0;  ///< combinations judged
};

/// Searches every smoothing window x `for:` x critical threshold (upper-tail order statistics
/// of the smoothed score, 10 % down to 0.01 % of evaluations above it, and the maximum, which
/// never pages). Chosen within the budget: most incidents caught, then least total delay, then
/// most pages (the sensitivity the budget pays for), then the shortest smoothing, the shortest
/// for and the lowest threshold. `times`/`scores` as for Replay; keep_firing_for is 0.
/// kInvalidArgument for a bad request, and Replay's errors for bad histories.
Result<TuneResult> TuneAlerts(const std::vector<TimeMs>& times, const std::vector<double>& scores,
                              const TuneRequest& request,
                              const std::vector<IncidentWindow>& incidents = {});

}  // namespace isoscope
