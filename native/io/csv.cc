#include "csv.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <limits>

#include "file_io.h"
#include "parallel_score.h"
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

// The non-blank lines of a text, without their line ends, counting every line read.
class LineReader {
 public:
  explicit LineReader(std::string_view content) : content_(content) {}
  bool Next(std::string_view* line) {
    while (pos_ < content_.size()) {
      size_t end = content_.find('\n', pos_);
      if (end == std::string_view::npos) {
        end = content_.size();
      }
      std::string_view l = content_.substr(pos_, end - pos_);
      pos_ = end + 1;
      ++line_no_;
      if (!l.empty() && l.back() == '\r') {
        l.remove_suffix(1);
      }
      if (!TrimCell(l).empty()) {
        *line = l;
        return true;
      }
    }
    return false;
  }
  size_t line_no() const { return line_no_; }
  std::string_view Rest() const { return content_.substr(std::min(pos_, content_.size())); }

 private:
  std::string_view content_;
  size_t pos_ = 0;
  size_t line_no_ = 0;
};

// Column names end up in bundles, JSON and metric labels: bytes that are not UTF-8 are
// refused here, where the file can still be fixed. "" when every name is UTF-8.
std::string NotUtf8(const std::vector<std::string>& header) {
  for (size_t i = 0; i < header.size(); ++i) {
    if (!IsValidUtf8(header[i])) {
      return "column " + std::to_string(i + 1) + " name '" + EscapeBytes(header[i]) +
             "' is not valid UTF-8; save the file as UTF-8";
    }
  }
  return "";
}

// A time cell appended to data's times; false when it is not a time.
bool ReadTimeCell(std::string_view cell, CsvData* data) {
  bool zoneless = false;
  auto t = ParseTime(cell, &zoneless);
  if (zoneless && data->zoneless_time.empty()) {
    data->zoneless_time = cell;
  }
  if (!t) return false;
  data->times.push_back(*t);
  data->time_text.emplace_back(cell);
  return true;
}

// A number cell: NaN when missing, +-HUGE_VAL beyond the range of a double; false when the
// cell is not a number.
bool ReadNumberCell(std::string_view cell, double* out) {
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
      return false;
    }
  }
  *out = v;
  return true;
}

// The time column: --time-column by name, else the first of the usual names; -1 for none.
Result<int> FindTimeColumn(const std::vector<std::string>& header, const CsvOptions& options) {
  if (!options.no_time) {
    if (!options.time_column.empty()) {
      auto it = std::find(header.begin(), header.end(), options.time_column);
      if (it == header.end()) {
        return Status(ErrorCode::kBadInput, "no time column '" + options.time_column +
                                                "'; the header has: " + Join(header));
      }
      return static_cast<int>(it - header.begin());
    } else {
      for (size_t i = 0; i < header.size(); ++i) {
        const std::string l = Lower(header[i]);
        if (l == "timestamp" || l == "time" || l == "ts" || l == "datetime" || l == "date") {
          return static_cast<int>(i);
        }
      }
    }
  }
  return -1;
}

// The feature columns: --features by name, else every column but the time.
Result<std::vector<size_t>> FindFeatureColumns(const std::vector<std::string>& header,
                                               const CsvOptions& options, int time_index) {
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
        return Status(ErrorCode::kBadInput,
                      "no column '" + f + "'; the header has: " + Join(header));
      }
      feature_index.push_back(static_cast<size_t>(it - header.begin()));
    }
  }
  if (feature_index.empty()) {
    return Status(ErrorCode::kBadInput, "has no feature columns");
  }
  return feature_index;
}

// The data rows of one stretch of lines, read as ParseCsv reads them; `what` says what is
// wrong with line `bad_line` (counted from the stretch's first line, 1-based) when one is bad.
struct RowsPart {
  CsvData data;
  size_t lines = 0;
  size_t bad_line = 0;
  std::string what;
};

RowsPart ReadRows(std::string_view text, size_t fields, const std::vector<size_t>& feature_index,
                  int time_index, const CsvData& shape) {
  RowsPart part;
  CsvData& data = part.data;
  data.series.resize(feature_index.size());
  // One line a row: reserving for every line avoids regrowing the columns.
  const size_t lines_left = static_cast<size_t>(std::count(text.begin(), text.end(), '\n')) + 1;
  for (auto& s : data.series) s.reserve(lines_left);
  if (time_index >= 0) {
    data.times.reserve(lines_left);
    data.time_text.reserve(lines_left);
  }
  LineReader lines(text);
  std::string_view line;
  std::vector<std::string_view> cells;
  auto bad = [&](std::string what) {
    part.bad_line = lines.line_no();
    part.what = std::move(what);
    return std::move(part);
  };
  while (lines.Next(&line)) {
    SplitLine(line, cells);
    if (cells.size() != fields) {
      return bad("has " + std::to_string(cells.size()) + " fields, the header has " +
                 std::to_string(fields));
    }
    for (size_t k = 0; k < feature_index.size(); ++k) {
      std::string_view cell = cells[feature_index[k]];
      double v = 0;
      if (!ReadNumberCell(cell, &v)) {
        return bad("column '" + shape.feature_names[k] + "': '" + std::string(cell) +
                   "' is not a number");
      }
      data.series[k].push_back(v);
    }
    if (time_index >= 0) {
      std::string_view cell = cells[static_cast<size_t>(time_index)];
      if (!ReadTimeCell(cell, &data)) {
        return bad("time column '" + shape.time_column + "': cannot read '" + std::string(cell) +
                   "' (use epoch seconds, epoch milliseconds or ISO 8601 UTC)");
      }
    }
    ++data.rows;
  }
  part.lines = lines.line_no();
  return part;
}

// Pieces of `text` that start and end at line starts, about kChunkRows lines each: a big
// file's lines are read on every core, each piece by whichever thread takes it.
std::vector<std::string_view> SplitAtLines(std::string_view text) {
  const size_t lines = static_cast<size_t>(std::count(text.begin(), text.end(), '\n')) + 1;
  const size_t pieces = ChunkCount(lines, kChunkRows);
  std::vector<std::string_view> out;
  size_t from = 0;
  for (size_t w = 1; w < pieces; ++w) {
    const size_t cut = text.find('\n', std::max(from, text.size() * w / pieces));
    if (cut == std::string_view::npos) break;
    out.push_back(text.substr(from, cut + 1 - from));
    from = cut + 1;
  }
  out.push_back(text.substr(from));
  return out;
}

// The parts' rows one after another in `data`, each part copied to its place by whichever
// thread takes it: a big file's columns are joined on every core.
void JoinParts(std::vector<RowsPart>& parts, CsvData* data) {
  std::vector<size_t> at(parts.size() + 1, 0);  // each part's first row in the file's columns
  for (size_t p = 0; p < parts.size(); ++p) at[p + 1] = at[p] + parts[p].data.rows;
  const size_t total = at.back();
  const bool timed = !data->time_column.empty();
  const unsigned workers = ScoreWorkers(total);
  // The columns sized on every core too: zeroing them first-touches every page.
  const size_t columns = data->series.size() + (timed ? 2 : 0);
  ForEachChunk(columns, 1, workers, [&](size_t k, size_t, size_t) {
    if (k < data->series.size()) {
      data->series[k].resize(total);
    } else if (k == data->series.size()) {
      data->times.resize(total);
    } else {
      data->time_text.resize(total);
    }
  });
  ForEachChunk(parts.size(), 1, workers, [&](size_t p, size_t, size_t) {
    CsvData& part = parts[p].data;
    const auto to = static_cast<std::ptrdiff_t>(at[p]);
    for (size_t k = 0; k < data->series.size(); ++k) {
      std::copy(part.series[k].begin(), part.series[k].end(), data->series[k].begin() + to);
      part.series[k] = std::vector<double>();  // freed here, on this core, not all at the end
    }
    if (!timed) return;
    std::copy(part.times.begin(), part.times.end(), data->times.begin() + to);
    std::move(part.time_text.begin(), part.time_text.end(), data->time_text.begin() + to);
    part.times = std::vector<TimeMs>();
    part.time_text = std::vector<std::string>();
  });
  for (RowsPart& part : parts) {
    if (data->zoneless_time.empty()) data->zoneless_time = std::move(part.data.zoneless_time);
  }
  data->rows = total;
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
  LineReader lines(content);
  std::string_view line;
  if (!lines.Next(&line)) {
    return error(0, "is empty; expected a header row and data rows");
  }
  std::vector<std::string_view> cells;
  SplitLine(line, cells);
  std::vector<std::string> header(cells.begin(), cells.end());
  if (std::string bad = NotUtf8(header); !bad.empty()) return error(1, bad);
  CsvData data;
  auto found_time = FindTimeColumn(header, options);
  if (!found_time.ok()) return error(lines.line_no(), found_time.status().message());
  const int time_index = *found_time;
  if (time_index >= 0) {
    data.time_column = header[static_cast<size_t>(time_index)];
  }
  auto found_features = FindFeatureColumns(header, options, time_index);
  if (!found_features.ok()) return error(lines.line_no(), found_features.status().message());
  const std::vector<size_t>& feature_index = *found_features;
  for (size_t i : feature_index) {
    data.feature_names.push_back(header[i]);
  }
  data.series.resize(feature_index.size());
  const std::vector<std::string_view> chunks = SplitAtLines(lines.Rest());
  std::vector<RowsPart> parts(chunks.size());
  ForEachChunk(chunks.size(), 1, ScoreWorkers(chunks.size() * kChunkRows),
               [&](size_t c, size_t, size_t) {
                 parts[c] = ReadRows(chunks[c], header.size(), feature_index, time_index, data);
               });
  // Joined in file order; the first bad line in the file is the one reported.
  size_t line_no = lines.line_no();
  for (const RowsPart& part : parts) {
    if (!part.what.empty()) return error(line_no + part.bad_line, part.what);
    line_no += part.lines;
  }
  JoinParts(parts, &data);
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
