#include "replay_source.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <numeric>

#include "csv.h"
#include "prom_join.h"
#include "text_cell.h"
#include "time_parse.h"

namespace isoscope::native {
namespace {

// The non-blank lines of a CSV text as ParseCsv reads them (BOM, CR and blank lines dropped),
// each split into trimmed cells.
std::vector<std::vector<std::string>> SplitRows(std::string_view text) {
  if (text.size() >= 3 && static_cast<unsigned char>(text[0]) == 0xEF &&
      static_cast<unsigned char>(text[1]) == 0xBB && static_cast<unsigned char>(text[2]) == 0xBF) {
    text.remove_prefix(3);
  }
  std::vector<std::vector<std::string>> rows;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (TrimCell(line).empty()) continue;
    std::vector<std::string> cells;
    size_t from = 0;
    for (;;) {
      const size_t comma = line.find(',', from);
      cells.emplace_back(TrimCell(line.substr(from, comma - from)));
      if (comma == std::string_view::npos) break;
      from = comma + 1;
    }
    rows.push_back(std::move(cells));
  }
  return rows;
}

bool IsTimeName(const std::string& name) {
  std::string l = name;
  std::transform(l.begin(), l.end(), l.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return l == "timestamp" || l == "time" || l == "ts" || l == "datetime" || l == "date";
}

std::string JoinNames(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

// The header's label columns (with their indices), its time column and its series columns.
Status SplitHeader(const std::vector<std::string>& header,
                   const std::vector<std::string>& label_columns, const std::string& name,
                   std::vector<std::string>* label_names, std::vector<size_t>* label_index,
                   std::vector<std::string>* columns) {
  bool has_time = false;
  for (size_t i = 0; i < header.size(); ++i) {
    const std::string& h = header[i];
    if (std::find(label_columns.begin(), label_columns.end(), h) != label_columns.end()) {
      label_names->push_back(h);
      label_index->push_back(i);
    } else if (!has_time && IsTimeName(h)) {
      has_time = true;
    } else {
      columns->push_back(h);
    }
  }
  if (!has_time) {
    return Status(ErrorCode::kBadInput,
                  name +
                      ": no time column (timestamp, time, ts, datetime or date); the header "
                      "has: " +
                      JoinNames(header));
  }
  if (columns->empty()) {
    return Status(ErrorCode::kBadInput, name + ": no series columns besides time and labels");
  }
  return Status::Ok();
}

}  // namespace

Result<ReplaySource> ReplaySource::FromCsv(std::string_view csv_text, const std::string& name,
                                           const std::vector<std::string>& label_columns) {
  const auto lines = SplitRows(csv_text);
  if (lines.empty()) {
    return Status(ErrorCode::kBadInput, name + ": is empty; expected a header row and data rows");
  }
  const std::vector<std::string>& header = lines[0];
  ReplaySource out;
  std::vector<size_t> label_index;
  Status split =
      SplitHeader(header, label_columns, name, &out.label_columns_, &label_index, &out.columns_);
  if (!split.ok()) return split;
  CsvOptions options;
  options.features = out.columns_;
  auto data = ParseCsv(csv_text, options, name);
  if (!data.ok()) return data.status();
  if (data->rows == 0) return Status(ErrorCode::kBadInput, name + ": has no data rows");
  if (lines.size() != data->rows + 1) {
    return Status(ErrorCode::kInternal, name + ": row count mismatch while reading labels");
  }

  // Rows per group, then each group in time order.
  std::map<std::string, size_t> group_of;  // label values joined -> index in groups_
  std::vector<std::vector<size_t>> members;
  for (size_t r = 0; r < data->rows; ++r) {
    std::map<std::string, std::string> labels;
    std::string key;
    for (size_t k = 0; k < label_index.size(); ++k) {
      const std::string& v = lines[r + 1][label_index[k]];
      if (!v.empty()) labels[out.label_columns_[k]] = v;  // empty = absent, as in Prometheus
      key += v + '\x1f';
    }
    auto [it, inserted] = group_of.try_emplace(key, out.groups_.size());
    if (inserted) {
      Group g;
      g.labels = std::move(labels);
      out.groups_.push_back(std::move(g));
      members.emplace_back();
    }
    members[it->second].push_back(r);
  }
  const size_t n_cols = out.columns_.size();
  for (size_t gi = 0; gi < out.groups_.size(); ++gi) {
    Group& g = out.groups_[gi];
    std::vector<size_t>& rows = members[gi];
    std::stable_sort(rows.begin(), rows.end(),
                     [&](size_t a, size_t b) { return data->times[a] < data->times[b]; });
    g.values.assign(n_cols, {});
    for (size_t r : rows) {
      const TimeMs t = data->times[r];
      if (!g.times.empty() && g.times.back() == t) {
        return Status(ErrorCode::kBadInput, name + ": two rows for group " +
                                                GroupKey(g.labels, out.label_columns_) + " at " +
                                                FormatTime(t));
      }
      g.times.push_back(t);
      for (size_t c = 0; c < n_cols; ++c) g.values[c].push_back(data->series[c][r]);
    }
  }
  out.first_ = *std::min_element(data->times.begin(), data->times.end());
  out.last_ = *std::max_element(data->times.begin(), data->times.end());
  out.rows_ = data->rows;
  return out;
}

bool ReplaySource::HasColumn(const std::string& column) const {
  return std::find(columns_.begin(), columns_.end(), column) != columns_.end();
}

Result<std::vector<PromSample>> ReplaySource::Query(const std::string& column, TimeMs t) const {
  const auto col = std::find(columns_.begin(), columns_.end(), column);
  if (col == columns_.end()) {
    return Status(ErrorCode::kInvalidArgument,
                  "replay: no column '" + column + "'; the CSV has: " + JoinNames(columns_));
  }
  if (t < first_) {
    return Status(ErrorCode::kBadInput, "replay: " + FormatTime(t) +
                                            " is before the history, which starts at " +
                                            FormatTime(first_));
  }
  if (t >= last_ + kReplayLookbackMs) {
    return Status(ErrorCode::kBadInput, "replay: the history ended at " + FormatTime(last_));
  }
  const size_t c = static_cast<size_t>(col - columns_.begin());
  std::vector<PromSample> out;
  for (const Group& g : groups_) {
    // The newest row at or before t, then back through the lookback to a present value.
    auto it = std::upper_bound(g.times.begin(), g.times.end(), t);
    while (it != g.times.begin()) {
      --it;
      const size_t i = static_cast<size_t>(it - g.times.begin());
      if (g.times[i] <= t - kReplayLookbackMs) break;
      const double v = g.values[c][i];
      if (std::isnan(v)) continue;
      PromSample s;
      s.labels = g.labels;
      s.time = g.times[i];
      s.value = v;
      out.push_back(std::move(s));
      break;
    }
  }
  return out;
}

}  // namespace isoscope::native
