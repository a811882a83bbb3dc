#pragma once

// Reading back the scores `isoscope score` and `isoscope backtest` write, so that `replay`
// can run the alert rules over them as given instead of scoring again.

#include <string>
#include <string_view>
#include <vector>

#include "isoscope/features.h"
#include "isoscope/status.h"

namespace isoscope::native {

/// The columns of a scored CSV: a time column, `anomaly_score` (empty: the row has no score),
/// optionally `is_anomaly`, `model_version` (backtest's; empty before the first model) and
/// `surprise` (the calibrated surprise, empty where the row has none).
/// Other columns (row, decision, reason) are ignored; cells may be double-quoted, with
/// doubled quotes inside, as CsvCell writes them.
struct ScoredCsv {
  std::vector<TimeMs> times;
  std::vector<std::string> time_text;  ///< the time cells as written
  std::string zoneless_time;      ///< the first time cell without a zone (read as UTC); "" if none
  std::vector<double> scores;     ///< NaN where the row has no score
  std::vector<double> surprises;  ///< NaN where the row has none; empty without the column
  bool has_surprise = false;
  std::vector<int> is_anomaly;              ///< 1, 0, or -1 where empty; empty without the column
  std::vector<std::string> model_versions;  ///< empty without the column
  bool has_model_version = false;
  std::string time_column;
};

/// Whether the header row of `content` names an `anomaly_score` column.
bool HasScoreColumn(std::string_view content);
/// Whether the header row of `content` names a `surprise` column.
bool HasSurpriseColumn(std::string_view content);

/// Parses a scored CSV; `time_column` "" looks for timestamp/time/ts/datetime/date. Errors
/// (kBadInput) name the file (`name`), the line and the column.
Result<ScoredCsv> ParseScoredCsv(std::string_view content, const std::string& time_column,
                                 const std::string& name);

}  // namespace isoscope::native
