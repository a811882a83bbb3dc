#include "time_rules.h"

#include <numeric>

#include "csv.h"
#include "scored_csv.h"

namespace isoscope::native {

std::vector<size_t> TimeRules::KeptRowOf() const {
  std::vector<size_t> out(rows);
  size_t k = 0;
  for (size_t row = 0; row < rows; ++row) {
    while (kept[k] < row) ++k;  // the last row of a run of equal times is kept, so k exists
    out[row] = kept[k];
  }
  return out;
}

std::vector<std::string> TimeRules::Notes() const {
  std::vector<std::string> notes;
  if (repeated() > 0) {
    size_t first = 0;
    while (first < kept.size() && kept[first] == first) ++first;
    notes.push_back(std::to_string(repeated()) + (repeated() == 1 ? " row" : " rows") +
                    " repeated the time of the row after it; the later row was kept (first at "
                    "row " +
                    std::to_string(first) + ")");
  }
  if (!zoneless_example.empty()) {
    notes.push_back("times without a zone (such as '" + zoneless_example + "') were read as UTC");
  }
  return notes;
}

Result<TimeRules> CheckTimes(const std::vector<TimeMs>& times, const std::vector<std::string>& text,
                             const std::string& name) {
  TimeRules rules;
  rules.rows = times.size();
  rules.kept.reserve(times.size());
  auto shown = [&](size_t row) { return "'" + text[row] + "'"; };
  for (size_t row = 0; row < times.size(); ++row) {
    if (row + 1 < times.size() && times[row + 1] < times[row]) {
      return Status(ErrorCode::kBadInput,
                    name + ": the time goes back at row " + std::to_string(row + 1) + ": " +
                        shown(row + 1) + " is earlier than " + shown(row) + " at row " +
                        std::to_string(row) +
                        " (rows numbered from 0 after the header, as score's row column); sort "
                        "the rows by time");
    }
    if (row + 1 < times.size() && times[row + 1] == times[row]) continue;  // the later wins
    rules.kept.push_back(row);
  }
  return rules;
}

Result<TimeRules> ApplyTimeRules(CsvData& data, const std::string& name, bool ordered) {
  if (data.time_column.empty() || !ordered) {
    TimeRules all;  // no order needed: every row is kept, as written
    all.rows = data.rows;
    all.kept.resize(data.rows);
    std::iota(all.kept.begin(), all.kept.end(), size_t{0});
    all.zoneless_example = data.zoneless_time;
    return all;
  }
  auto rules = CheckTimes(data.times, data.time_text, name);
  if (!rules.ok()) return rules;
  rules->zoneless_example = data.zoneless_time;
  for (auto& s : data.series) KeepRows(s, rules->kept);
  KeepRows(data.times, rules->kept);
  KeepRows(data.time_text, rules->kept);
  data.rows = rules->kept.size();
  return rules;
}

Result<TimeRules> ApplyTimeRules(ScoredCsv& data, const std::string& name) {
  auto rules = CheckTimes(data.times, data.time_text, name);
  if (!rules.ok()) return rules;
  rules->zoneless_example = data.zoneless_time;
  KeepRows(data.times, rules->kept);
  KeepRows(data.time_text, rules->kept);
  KeepRows(data.scores, rules->kept);
  KeepRows(data.surprises, rules->kept);
  KeepRows(data.is_anomaly, rules->kept);
  KeepRows(data.model_versions, rules->kept);
  return rules;
}

std::string RepeatedTimeReason(size_t kept_row) {
  return "no score: time repeated by row " + std::to_string(kept_row) +
         " (the later row is scored)";
}

}  // namespace isoscope::native
