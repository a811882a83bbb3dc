#pragma once

// Champion and challenger (docs/lifecycle.md): what a candidate model would have done on the
// rows the active model scored, kept side by side since the candidate arrived, and the gate's
// decision. No metrics, clock or I/O here: the daemon feeds it rows and time, and exports and
// writes what it reports.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "config.h"
#include "isoscope/alert.h"

namespace isoscope::native {

/// Score quantiles in bounded memory: kBins equal bins over [0, 1] (anomaly scores are in
/// (0, 1]; anything outside is clamped). Quantile(q) is the midpoint of the bin that holds the
/// nearest-rank q-quantile, so it is within half a bin (1/8192) of the exact nearest-rank value,
/// whatever the number of rows.
class ScoreHistogram {
 public:
  static constexpr int kBins = 4096;
  void Add(double score);
  uint64_t count() const { return count_; }
  /// NaN when empty; q in [0, 1].
  double Quantile(double q) const;

 private:
  std::vector<uint64_t> bins_ = std::vector<uint64_t>(kBins, 0);
  uint64_t count_ = 0;
};

/// One model's would-be behaviour since the candidate arrived.
struct ModelTally {
  uint64_t scored = 0;     ///< rows scored
  uint64_t anomalies = 0;  ///< rows above the model's own threshold (is_anomaly)
  uint64_t pages = 0;      ///< critical alerts that would have started firing
  ScoreHistogram scores;
  /// anomalies / scored; NaN when nothing was scored.
  double rate() const;
  /// pages per week of `elapsed_ms`; NaN when no time has passed.
  double PagesPerWeek(TimeMs elapsed_ms) const;
};

/// The critical severity of a detector's alert rules for one model, without exported series:
/// per group AvgOverTime over the smoothing window, then Step (Prometheus's semantics, as
/// AlertTracker), counting each episode that reaches firing as one page.
class ShadowPager {
 public:
  ShadowPager(const AlertsConfig& alerts, double critical_threshold);
  /// True when the critical threshold applies to the smoothed anomaly_surprise.
  bool on_surprise() const { return on_surprise_; }
  /// The group's score (or surprise) at `now`; one per group and instant.
  void Observe(const std::string& key, TimeMs now, double value);
  /// One rule evaluation at `now`; returns how many groups started firing.
  uint64_t Evaluate(TimeMs now);

 private:
  struct Group {
    std::vector<TimeMs> times;
    std::vector<double> values;
    AlertState state;
  };
  AlertConfig config_;
  TimeMs smooth_ms_;
  bool on_surprise_;
  std::map<std::string, Group> groups_;
};

/// What the gate says about a candidate.
struct GateDecision {
  enum class Verdict { kWaiting, kPromote, kHold };
  Verdict verdict = Verdict::kWaiting;
  /// A stable label (the reason label of isoscope_candidate_gate): waiting, no_rows, passed,
  /// canary, pages, anomaly_rate.
  std::string reason = "waiting";
  std::string detail;  ///< the figures behind it, for the log and the API
};

/// The labels DecideGate can give, in a fixed order (the metric's series).
const std::vector<std::string>& GateReasons();

/// The gate of `promotion: gate` after `elapsed_ms` of comparison on the same rows:
/// waiting before promotion.after_ms (or while no row was scored), then hold when the
/// candidate's canaries failed, when its pages per week exceed max(1, pages_factor x the
/// champion's), or when its anomalies fall outside [rate_low, rate_high] x the champion's give
/// or take one row; otherwise promote.
GateDecision DecideGate(const PromotionConfig& promotion, TimeMs elapsed_ms,
                        const ModelTally& champion, const ModelTally& candidate, bool canaries_ok);

/// One side of the comparison, as reported.
struct TallyView {
  std::string version;
  uint64_t pages = 0;
  double pages_per_week = 0;  ///< NaN before any time passed
  uint64_t anomalies = 0;
  double anomaly_rate = 0;  ///< NaN before any row
  double p50 = 0, p99 = 0;  ///< NaN before any row
};
TallyView ViewOf(const std::string& version, const ModelTally& tally, TimeMs elapsed_ms);

/// A detector's candidate and how it compares with the active model (GET
/// /api/v1/detectors/{name}/candidate, models_dir/<name>/candidate-comparison.json, isoscope
/// candidates).
struct CandidateView {
  std::string detector;
  std::string promotion;  ///< immediate, manual or gate
  std::string candidate_version;
  /// Why the candidate is not compared (a bundle that does not load, other features than the
  /// active model's); empty while it is.
  std::string refused;
  TimeMs since_ms = 0;    ///< the first cycle that scored both; 0 before
  TimeMs updated_ms = 0;  ///< the last cycle
  TimeMs after_ms = 0;    ///< gate.after
  uint64_t rows = 0;      ///< rows scored by both
  TallyView active, candidate;
  GateDecision gate;  ///< under gate; waiting otherwise
};

/// The view as the API's JSON object (numbers that are NaN are null).
std::string CandidateViewJson(const CandidateView& view);
/// Parses CandidateViewJson's output; kBadInput with the reason otherwise.
Result<CandidateView> ParseCandidateView(const std::string& json);

}  // namespace isoscope::native
