#include "csv.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdint>
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
  if (cell.empty()) return true;
  // Every missing word starts with an n: a number is told apart by its first byte.
  // (b | 0x20) is 'n' for the bytes 'n' and 'N' alone; std::tolower is a library call.
  if ((static_cast<unsigned char>(cell.front()) | 0x20) != 'n') return false;
  return EqualsLower(cell, "nan") || EqualsLower(cell, "null") || EqualsLower(cell, "na") ||
         EqualsLower(cell, "none");
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

// A time cell read into row `row` of data's times, the first cell without a zone kept in
// `zoneless`; false when it is not a time.
bool ReadTimeCell(std::string_view cell, CsvData* data, size_t row, std::string* zoneless_time) {
  bool zoneless = false;
  auto t = ParseTime(cell, &zoneless);
  if (zoneless && zoneless_time->empty()) {
    *zoneless_time = cell;
  }
  if (!t) return false;
  data->times[row] = *t;
  data->time_text[row] = cell;
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

// What each field of a line is read into: a feature column (its index), the time, or nothing.
constexpr int kSkipField = -1;
constexpr int kTimeField = -2;

// How the data lines are read. `role` has a field's role when no field has two (a feature
// named twice, or the time column named as a feature too); it is empty otherwise, and every
// line takes ReadLine's way.
struct LinePlan {
  size_t fields = 0;
  std::vector<size_t> feature_index;
  int time_index = -1;
  std::vector<int> role;
};

LinePlan PlanLines(size_t fields, const std::vector<size_t>& feature_index, int time_index) {
  LinePlan plan{fields, feature_index, time_index, std::vector<int>(fields, kSkipField)};
  auto claim = [&plan](size_t field, int role) {
    if (plan.role.empty()) return;
    if (plan.role[field] != kSkipField) {
      plan.role.clear();
      return;
    }
    plan.role[field] = role;
  };
  for (size_t k = 0; k < feature_index.size(); ++k) claim(feature_index[k], static_cast<int>(k));
  if (time_index >= 0) claim(static_cast<size_t>(time_index), kTimeField);
  return plan;
}

// One line into row `row` of `data`, every field split out first: "" or what is wrong with it,
// the first of the feature columns in the order asked for, then the time.
std::string ReadLine(std::string_view line, const LinePlan& plan, const CsvData& shape,
                     std::vector<std::string_view>& cells, CsvData* data, size_t row,
                     std::string* zoneless_time) {
  SplitLine(line, cells);
  if (cells.size() != plan.fields) {
    return "has " + std::to_string(cells.size()) + " fields, the header has " +
           std::to_string(plan.fields);
  }
  for (size_t k = 0; k < plan.feature_index.size(); ++k) {
    std::string_view cell = cells[plan.feature_index[k]];
    if (!ReadNumberCell(cell, &data->series[k][row])) {
      return "column '" + shape.feature_names[k] + "': '" + std::string(cell) + "' is not a number";
    }
  }
  if (plan.time_index >= 0) {
    std::string_view cell = cells[static_cast<size_t>(plan.time_index)];
    if (!ReadTimeCell(cell, data, row, zoneless_time)) {
      return "time column '" + shape.time_column + "': cannot read '" + std::string(cell) +
             "' (use epoch seconds, epoch milliseconds or ISO 8601 UTC)";
    }
  }
  return "";
}

// ReadLine's values in one pass over the line, each wanted cell read where it lies; false
// when the line needs ReadLine to say what is wrong with it (or every line does).
bool ReadLineFast(std::string_view line, const LinePlan& plan, CsvData* data, size_t row,
                  std::string* zoneless_time) {
  if (plan.role.empty()) return false;
  const char* p = line.data();
  const char* const end = p + line.size();
  size_t field = 0;
  while (true) {
    const char* cut = p;
    while (cut != end && *cut != ',') ++cut;  // cells are short: a loop beats memchr here
    if (field < plan.fields && plan.role[field] != kSkipField) {
      const std::string_view cell = TrimCell(std::string_view(p, static_cast<size_t>(cut - p)));
      const int role = plan.role[field];
      if (role == kTimeField
              ? !ReadTimeCell(cell, data, row, zoneless_time)
              : !ReadNumberCell(cell, &data->series[static_cast<size_t>(role)][row])) {
        return false;
      }
    }
    ++field;
    if (cut == end) break;
    p = cut + 1;
  }
  return field == plan.fields;
}

// One stretch of lines read into the file's columns from row `first`: its rows, its lines, and
// when a line is bad, which (counted from the stretch's first line, 1-based) and what is wrong.
struct RowsPart {
  size_t first = 0;
  size_t rows = 0;
  size_t lines = 0;
  size_t bad_line = 0;
  std::string what;
  std::string zoneless_time;  // the stretch's first time cell without a zone: the stretches
                              // are read at once, each keeps its own
};

void ReadRows(std::string_view text, const LinePlan& plan, const CsvData& shape, CsvData* data,
              RowsPart* part) {
  LineReader lines(text);
  std::string_view line;
  std::vector<std::string_view> cells;
  size_t row = part->first;
  while (lines.Next(&line)) {
    if (!ReadLineFast(line, plan, data, row, &part->zoneless_time)) {
      std::string what = ReadLine(line, plan, shape, cells, data, row, &part->zoneless_time);
      if (!what.empty()) {
        part->bad_line = lines.line_no();
        part->what = std::move(what);
        return;
      }
    }
    ++row;
  }
  part->rows = row - part->first;
  part->lines = lines.line_no();
}

// The '\n' bytes in `text`, counted in 16 byte-wide counters that the compiler turns into one
// vector compare and add per 16 bytes (flushed before a counter could wrap): 0.14 ms for the
// origin CSV's 3.8 MB, where std::count took 0.9 ms, twice, on one core before the pieces start.
size_t CountLineEnds(std::string_view text) {
  constexpr size_t kLanes = 16, kMaxBlocks = 255;  // a uint8_t counter holds 255
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  size_t count = 0, i = 0;
  while (text.size() - i >= kLanes) {
    uint8_t lane[kLanes] = {};
    const size_t end = i + kLanes * std::min(kMaxBlocks, (text.size() - i) / kLanes);
    for (; i < end; i += kLanes) {
      for (size_t k = 0; k < kLanes; ++k) lane[k] += p[i + k] == '\n' ? 1 : 0;
    }
    for (uint8_t c : lane) count += c;
  }
  for (; i < text.size(); ++i) count += p[i] == '\n' ? 1 : 0;
  return count;
}

// Pieces of `text` that start and end at line starts, about kChunkRows lines each: a big
// file's lines are read on every core, each piece by whichever thread takes it.
std::vector<std::string_view> SplitAtLines(std::string_view text) {
  const size_t lines = CountLineEnds(text) + 1;
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

// The file's columns sized for `rows`, on every core: zeroing them first-touches every page.
void SizeColumns(size_t rows, unsigned workers, CsvData* data) {
  const bool timed = !data->time_column.empty();
  const size_t columns = data->series.size() + (timed ? 2 : 0);
  ForEachChunk(columns, 1, workers, [&](size_t k, size_t, size_t) {
    if (k < data->series.size()) {
      data->series[k].resize(rows);
    } else if (k == data->series.size()) {
      data->times.resize(rows);
    } else {
      data->time_text.resize(rows);
    }
  });
}

// Each piece was read from the row its lines would start at; blank lines leave gaps before
// the next piece's rows, closed here in file order.
void CloseGaps(const std::vector<RowsPart>& parts, CsvData* data) {
  size_t to = 0;
  for (const RowsPart& part : parts) {
    if (to != part.first) {
      const auto from = static_cast<std::ptrdiff_t>(part.first);
      const auto n = static_cast<std::ptrdiff_t>(part.rows);
      const auto at = static_cast<std::ptrdiff_t>(to);
      for (auto& s : data->series)
        std::copy(s.begin() + from, s.begin() + from + n, s.begin() + at);
      if (!data->times.empty()) {
        std::copy(data->times.begin() + from, data->times.begin() + from + n,
                  data->times.begin() + at);
        std::move(data->time_text.begin() + from, data->time_text.begin() + from + n,
                  data->time_text.begin() + at);
      }
    }
    to += part.rows;
  }
  for (const RowsPart& part : parts) {
    if (data->zoneless_time.empty()) data->zoneless_time = part.zoneless_time;
  }
  for (auto& s : data->series) s.resize(to);
  if (!data->times.empty()) {
    data->times.resize(to);
    data->time_text.resize(to);
  }
  data->rows = to;
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
  const LinePlan plan = PlanLines(header.size(), feature_index, time_index);
  // Each piece reads its rows straight into the file's columns, from the row its first line
  // would be if no line were blank: no piece waits for another, and no rows are copied after.
  const std::vector<std::string_view> chunks = SplitAtLines(lines.Rest());
  std::vector<RowsPart> parts(chunks.size());
  size_t most_rows = 0;
  for (size_t c = 0; c < chunks.size(); ++c) {
    parts[c].first = most_rows;
    const std::string_view piece = chunks[c];
    most_rows += CountLineEnds(piece) + (piece.empty() || piece.back() == '\n' ? 0 : 1);
  }
  const unsigned workers = ScoreWorkers(most_rows);
  SizeColumns(most_rows, workers, &data);
  ForEachChunk(chunks.size(), 1, workers, [&](size_t c, size_t, size_t) {
    ReadRows(chunks[c], plan, data, &data, &parts[c]);
  });
  // Joined in file order; the first bad line in the file is the one reported.
  size_t line_no = lines.line_no();
  for (const RowsPart& part : parts) {
    if (!part.what.empty()) return error(line_no + part.bad_line, part.what);
    line_no += part.lines;
  }
  CloseGaps(parts, &data);
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
