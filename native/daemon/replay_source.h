#pragma once

// A replay of recorded history in place of Prometheus, for `isoscope serve --replay-csv`: the
// daemon's instant queries are answered from a CSV (a time column, one numeric column per
// series, and optionally label columns such as `job`, one group's sample per row). Pure lookup
// by time: no clock, no I/O beyond parsing the text it is given.

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "isoscope/features.h"
#include "isoscope/status.h"
#include "prom_json.h"

namespace isoscope::native {

/// How far back an instant query looks for a sample, as Prometheus's default lookback delta.
constexpr TimeMs kReplayLookbackMs = 5 * kMinuteMs;

class ReplaySource {
 public:
  /// Parses `csv_text` (named `name` in messages). The time column is found as `isoscope
  /// train` finds it (timestamp, time, ts, datetime, date); the columns named in
  /// `label_columns` that the header has hold label values (text); every other column is a
  /// series of numbers (empty or NaN = no sample). Rows may come in any order; two rows of one
  /// group with the same time are an error.
  static Result<ReplaySource> FromCsv(std::string_view csv_text, const std::string& name,
                                      const std::vector<std::string>& label_columns);

  /// An instant query of series `column` at `t`: per group, the newest non-missing value at
  /// or before `t` and less than kReplayLookbackMs before it (no sample: the group is absent,
  /// as after a scrape gap). The samples carry the group's label columns. Errors: an unknown
  /// column, or `t` outside the history (before its first row or past its last row plus the
  /// lookback), so that the daemon counts and logs it instead of showing fake silence.
  Result<std::vector<PromSample>> Query(const std::string& column, TimeMs t) const;

  bool HasColumn(const std::string& column) const;
  const std::vector<std::string>& columns() const { return columns_; }
  const std::vector<std::string>& label_columns() const { return label_columns_; }
  TimeMs first_time() const { return first_; }
  TimeMs last_time() const { return last_; }
  size_t rows() const { return rows_; }
  size_t groups() const { return groups_.size(); }

 private:
  struct Group {
    std::map<std::string, std::string> labels;
    std::vector<TimeMs> times;                ///< ascending
    std::vector<std::vector<double>> values;  ///< per column, times.size() long
  };

  std::vector<std::string> columns_;
  std::vector<std::string> label_columns_;  ///< the ones the CSV has
  std::vector<Group> groups_;
  TimeMs first_ = 0;
  TimeMs last_ = 0;
  size_t rows_ = 0;
};

}  // namespace isoscope::native
