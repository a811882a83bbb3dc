#include "csv.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <limits>

#include "file_io.h"
#include "text_cell.h"
#include "time_parse.h"

namespace isoscope::native {
namespace {

void SplitLine(std::string_view line, std::vector<std::string_view>& out) {
  out.clear();
  size_t pos = 0;
  while (true) {
    const size_t comma = line.find(',', pos);
    if (comma == std::string_view::npos) {
      out.push_back(TrimCell(line.substr(pos)));
      return;
    }
    out.push_back(TrimCell(line.substr(pos, comma - pos)));
    pos = comma + 1;
  }
}

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// Case-insensitive equality with a lower-case word, without a copy (one call per cell).
bool EqualsLower(std::string_view cell, std::string_view word) {
  if (cell.size() != word.size()) {
    return false;
  }
  for (size_t i = 0; i < cell.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(cell[i])) != word[i]) {
      return false;
    }
  }
  return true;
}

bool IsMissing(std::string_view cell) {
  return cell.empty() || EqualsLower(cell, "nan") || EqualsLower(cell, "null") ||
         EqualsLower(cell, "na") || EqualsLower(cell, "none");
}

std::string Join(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& n : names) {
    out += (out.empty() ? "" : ", ") + n;
  }
  return out;
}

}  // namespace

std::vector<std::string> SplitList(std::string_view text) {
  std::vector<std::string_view> parts;
  std::vector<std::string> out;
  if (TrimCell(text).empty()) {
    return out;
  }
  SplitLine(text, parts);
  for (std::string_view p : parts) {
    if (!p.empty()) {
      out.emplace_back(p);
    }
  }
  return out;
}

Result<CsvData> ParseCsv(std::string_view content, const CsvOptions& options,
                         const std::string& name) {
  auto error = [&](size_t line, const std::string& what) {
    return Status(ErrorCode::kBadInput,
                  name + (line ? ":" + std::to_string(line) : std::string()) + ": " + what);
  };
  if (content.size() >= 3 && static_cast<unsigned char>(content[0]) == 0xEF &&
      static_cast<unsigned char>(content[1]) == 0xBB &&
      static_cast<unsigned char>(content[2]) == 0xBF) {
    content.remove_prefix(3);  // UTF-8 byte order mark from spreadsheet exports
  }
  size_t pos = 0;
  size_t line_no = 0;
  auto next_line = [&](std::string_view* line) {
    while (pos < content.size()) {
      size_t end = content.find('\n', pos);
      if (end == std::string_view::npos) {
        end = content.size();
      }
      std::string_view l = content.substr(pos, end - pos);
      pos = end + 1;
      ++line_no;
      if (!l.empty() && l.back() == '\r') {
        l.remove_suffix(1);
      }
      if (!TrimCell(l).empty()) {
        *line = l;
        return true;
      }
    }
    return false;
  };

  std::string_view line;
  if (!next_line(&line)) {
    return error(0, "is empty; expected a header row and data rows");
  }
  std::vector<std::string_view> cells;
  SplitLine(line, cells);
  std::vector<std::string> header(cells.begin(), cells.end());
  // Column names end up in bundles, JSON and metric labels: bytes that are not UTF-8 are
  // refused here, where the file can still be fixed.
  for (size_t i = 0; i < header.size(); ++i) {
    if (!IsValidUtf8(header[i])) {
      return error(1, "column " + std::to_string(i + 1) + " name '" + EscapeBytes(header[i]) +
                          "' is not valid UTF-8; save the file as UTF-8");
    }
  }

  CsvData data;
  int time_index = -1;
  if (!options.no_time) {
    if (!options.time_column.empty()) {
      auto it = std::find(header.begin(), header.end(), options.time_column);
      if (it == header.end()) {
        return error(line_no, "no time column '" + options.time_column +
                                  "'; the header has: " + Join(header));
      }
      time_index = static_cast<int>(it - header.begin());
    } else {
      for (size_t i = 0; i < header.size(); ++i) {
        const std::string l = Lower(header[i]);
        if (l == "timestamp" || l == "time" || l == "ts" || l == "datetime" || l == "date") {
          time_index = static_cast<int>(i);
          break;
        }
      }
    }
  }
  if (time_index >= 0) {
    data.time_column = header[static_cast<size_t>(time_index)];
  }
  std::vector<size_t> feature_index;
  if (options.features.empty()) {
    for (size_t i = 0; i < header.size(); ++i) {
      if (static_cast<int>(i) != time_index) {
        feature_index.push_back(i);
      }
    }
  } else {
    for (const std::string& f : options.features) {
      auto it = std::find(header.begin(), header.end(), f);
      if (it == header.end()) {
        return error(line_no, "no column '" + f + "'; the header has: " + Join(header));
      }
      feature_index.push_back(static_cast<size_t>(it - header.begin()));
    }
  }
  if (feature_index.empty()) {
    return error(line_no, "has no feature columns");
  }
  for (size_t i : feature_index) {
    data.feature_names.push_back(header[i]);
  }
  data.series.resize(feature_index.size());
  // One line a row: reserving for every line left avoids regrowing the columns.
  const std::string_view rest = content.substr(std::min(pos, content.size()));
  const size_t lines_left = static_cast<size_t>(std::count(rest.begin(), rest.end(), '\n')) + 1;
  for (auto& s : data.series) {
    s.reserve(lines_left);
  }
  if (time_index >= 0) {
    data.times.reserve(lines_left);
    data.time_text.reserve(lines_left);
  }

  while (next_line(&line)) {
    SplitLine(line, cells);
    if (cells.size() != header.size()) {
      return error(line_no, "has " + std::to_string(cells.size()) + " fields, the header has " +
                                std::to_string(header.size()));
    }
    for (size_t k = 0; k < feature_index.size(); ++k) {
      std::string_view cell = cells[feature_index[k]];
      double v = std::numeric_limits<double>::quiet_NaN();
      if (!IsMissing(cell)) {
        const char* first = cell.data();
        if (!cell.empty() && cell.front() == '+') {
          ++first;
        }
        auto res = std::from_chars(first, cell.data() + cell.size(), v);
        if (res.ec == std::errc::result_out_of_range) {
          v = cell.find('-') == 0 ? -HUGE_VAL : HUGE_VAL;
        } else if (res.ec != std::errc() || res.ptr != cell.data() + cell.size()) {
          return error(line_no, "column '" + data.feature_names[k] + "': '" + std::string(cell) +
                                    "' is not a number");
        }
      }
      data.series[k].push_back(v);
    }
    if (time_index >= 0) {
      std::string_view cell = cells[static_cast<size_t>(time_index)];
      bool zoneless = false;
      auto t = ParseTime(cell, &zoneless);
      if (zoneless && data.zoneless_time.empty()) {
        data.zoneless_time = cell;
      }
      if (!t) {
        return error(line_no, "time column '" + data.time_column + "': cannot read '" +
                                  std::string(cell) +
                                  "' (use epoch seconds, epoch milliseconds or ISO 8601 UTC)");
      }
      data.times.push_back(*t);
      data.time_text.emplace_back(cell);
    }
    ++data.rows;
  }
  return data;
}

std::string CsvCell(const std::string& text) {
  if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
  std::string out = "\"";
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

}  // namespace isoscope::native
