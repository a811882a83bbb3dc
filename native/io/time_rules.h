#pragma once

// The rules for a CSV's time column that train, score, backtest and replay share, so that a
// real export with clock artefacts reads the same way in every command:
// - a row whose time is earlier than the row before it is an error (kBadInput, exit 1) that
//   names both rows, numbered from 0 after the header as score's `row` column, and both times
//   as written: the data is not sorted, and guessing an order would score the wrong rows;
// - rows whose time the next row repeats are dropped, the later row wins: exports repeat a
//   timestamp now and then, and a clock change can stamp a whole hour with one time;
// - a time without a zone is read as UTC (ParseTime), and the report says so once.

#include <string>
#include <utility>
#include <vector>

#include "isoscope/features.h"
#include "isoscope/status.h"

namespace isoscope::native {

struct CsvData;
struct ScoredCsv;

struct TimeRules {
  size_t rows = 0;               ///< data rows in the file
  std::vector<size_t> kept;      ///< the rows kept, ascending, as row numbers in the file
  std::string zoneless_example;  ///< a time written without a zone; "" if none
  size_t repeated() const { return rows - kept.size(); }
  /// For every row of the file: the kept row that stands for it (itself when kept, else the
  /// last row with its time).
  std::vector<size_t> KeptRowOf() const;
  /// What a report says about the time column, one line each; empty when there is nothing.
  std::vector<std::string> Notes() const;
};

/// Checks `times` (with `text`, the cells as written, for messages; `name` names the file)
/// and returns the rows to keep.
Result<TimeRules> CheckTimes(const std::vector<TimeMs>& times, const std::vector<std::string>& text,
                             const std::string& name);

/// Keeps the elements of `v` at `kept` (ascending), in place.
template <typename T>
void KeepRows(std::vector<T>& v, const std::vector<size_t>& kept) {
  if (v.empty() || kept.size() == v.size()) return;
  for (size_t i = 0; i < kept.size(); ++i) {
    if (kept[i] != i) v[i] = std::move(v[kept[i]]);  // a self-move would empty a string
  }
  v.resize(kept.size());
}

/// CheckTimes on the CSV's time column, then the repeated rows dropped from every column.
/// Without a time column, or when the rows are not `ordered` in time (a model without
/// temporal features scores each row alone: several hosts' rows may share a time, in any
/// order), every row is kept.
Result<TimeRules> ApplyTimeRules(CsvData& data, const std::string& name, bool ordered = true);
Result<TimeRules> ApplyTimeRules(ScoredCsv& data, const std::string& name);

/// The reason score and backtest write for a row dropped for its repeated time.
std::string RepeatedTimeReason(size_t kept_row);

}  // namespace isoscope::native
