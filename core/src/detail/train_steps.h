#pragma once

// The steps of training shared by TrainModel (all rows in memory) and StreamTrainer (rows in
// chunks, twice): both must drop, count and report rows the same way, so they share the code.
#include <cstdint>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "isoscope/model.h"

namespace isoscope::detail {

/// The longest rolling span of the spec's features: a row whose span reaches an excluded row
/// would average across the excluded window.
TimeMs RollingSpan(const FeatureSpec& spec);

/// The (hour of week, week) cells that have data: bounded by 168 per week, not by rows.
class WeekCells {
 public:
  void Add(TimeMs t);
  /// The minimum over the 168 hours of the week of the distinct weeks with data in that hour.
  int32_t FullWeeks() const;

 private:
  std::set<std::pair<int32_t, int64_t>> cells_;
};

/// A group's state for exclusions: the time of its last excluded row, if any.
struct ExclusionState {
  bool has_last = false;
  TimeMs last = 0;
};

/// Why a row does not train for exclusion's sake ("" when it may): `e` >= 0 names its own
/// exclusion reason; a kept row within `span` after its group's last excluded row re-warms.
/// `t` is the row's time (null without times); `state` is the row's group's, updated.
std::string ExclusionDrop(int32_t e, const std::vector<std::string>& reasons, const TimeMs* t,
                          TimeMs span, ExclusionState& state);

/// The row's problem after the float32 range check training adds (sklearn casts to float32).
RowProblem TrainingRowProblem(RowProblem p, const double* row, size_t width);

/// kBadInput when exclusions leave too little (see kMinRowsAfterExclusion).
Status CheckEnoughLeft(bool has_exclusions, size_t n, size_t used, size_t excluded);

/// The rows scaled and cast to float32, as scikit-learn fits; a value beyond float32 is refused.
Result<std::vector<float>> ScaledFloat32(const Scaler& scaler, const FeatureSpec& spec,
                                         const std::vector<double>& dense, size_t used);

/// The origin team's mistakes, said out loud at training time.
std::vector<std::string> TrainingWarnings(const Model& model, size_t used,
                                          bool contamination_explicit);

}  // namespace isoscope::detail
