#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "isoscope/features.h"
#include "isoscope/status.h"

namespace isoscope::native {

struct CsvOptions {
  std::string time_column;            ///< "" = look for timestamp/time/ts/datetime/date
  bool no_time = false;               ///< ignore any time column
  std::vector<std::string> features;  ///< empty = every column except the time column
};

/// A CSV of time series: a header row, then one row per sample. Empty cells and
/// NaN/null/NA mean "missing" and become NaN; anything else that is not a number is an error.
struct CsvData {
  std::vector<std::string> feature_names;
  std::vector<std::vector<double>> series;  ///< one vector per feature, rows long
  std::string time_column;                  ///< "" when there is none
  std::vector<TimeMs> times;                ///< rows long when time_column is set
  std::vector<std::string> time_text;       ///< the time cells as written
  std::string zoneless_time;  ///< the first time cell without a zone (read as UTC); "" if none
  size_t rows = 0;
};

Result<CsvData> ParseCsv(std::string_view content, const CsvOptions& options,
                         const std::string& name = "CSV");

/// Splits "a, b,c" into trimmed names; empty input gives an empty list.
std::vector<std::string> SplitList(std::string_view text);

/// A CSV cell: as is, or in double quotes (quotes doubled) when it holds a comma, a quote or
/// a line break, e.g. a reason naming "zscore(latency_p95,1h)".
std::string CsvCell(const std::string& text);

}  // namespace isoscope::native
