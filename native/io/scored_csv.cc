#include "scored_csv.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <limits>

#include "time_parse.h"

namespace isoscope::native {
namespace {

bool Space(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && Space(s.front())) s.remove_prefix(1);
  while (!s.empty() && Space(s.back())) s.remove_suffix(1);
  return s;
}

// One CSV line into cells: a cell in double quotes may hold commas and doubled quotes.
// False for a quote left open.
bool SplitQuoted(std::string_view line, std::vector<std::string>& out) {
  out.clear();
  std::string cell;
  bool quoted = false, was_quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        cell += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        cell += c;
      }
    } else if (c == '"' && std::all_of(cell.begin(), cell.end(), Space)) {
      cell.clear();
      quoted = was_quoted = true;
    } else if (c == ',') {
      out.push_back(was_quoted ? cell : std::string(Trim(cell)));
      cell.clear();
      was_quoted = false;
    } else if (!was_quoted || !Space(c)) {
      cell += c;
    }
  }
  if (quoted) return false;
  out.push_back(was_quoted ? cell : std::string(Trim(cell)));
  return true;
}

std::vector<std::string_view> Lines(std::string_view content) {
  if (content.size() >= 3 && content.substr(0, 3) == "\xEF\xBB\xBF") content.remove_prefix(3);
  std::vector<std::string_view> out;
  size_t pos = 0;
  while (pos < content.size()) {
    size_t end = content.find('\n', pos);
    if (end == std::string_view::npos) end = content.size();
    std::string_view l = content.substr(pos, end - pos);
    if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
    out.push_back(l);
    pos = end + 1;
  }
  return out;
}

bool Blank(std::string_view l) { return std::all_of(l.begin(), l.end(), Space); }

// The time columns looked for when none is named.
const std::vector<std::string> kTimeColumns = {"timestamp", "time", "ts", "datetime", "date"};

// A number, or empty (NaN: the row has none); false when the cell is neither.
bool ParseNumberCell(const std::string& s, double* v) {
  *v = std::numeric_limits<double>::quiet_NaN();
  if (s.empty()) return true;
  auto res = std::from_chars(s.data(), s.data() + s.size(), *v);
  return res.ec == std::errc() && res.ptr == s.data() + s.size() && std::isfinite(*v);
}

bool HasColumn(std::string_view content, const char* name) {
  for (std::string_view line : Lines(content)) {
    if (Blank(line)) continue;
    std::vector<std::string> header;
    if (!SplitQuoted(line, header)) return false;
    return std::find(header.begin(), header.end(), name) != header.end();
  }
  return false;
}

}  // namespace

bool HasScoreColumn(std::string_view content) { return HasColumn(content, "anomaly_score"); }
bool HasSurpriseColumn(std::string_view content) { return HasColumn(content, "surprise"); }

Result<ScoredCsv> ParseScoredCsv(std::string_view content, const std::string& time_column,
                                 const std::string& name) {
  const std::vector<std::string_view> lines = Lines(content);
  auto error = [&](size_t line, const std::string& what) {
    return Status(ErrorCode::kBadInput,
                  name + (line ? ":" + std::to_string(line) : std::string()) + ": " + what);
  };
  size_t i = 0;
  while (i < lines.size() && Blank(lines[i])) ++i;
  if (i == lines.size()) return error(0, "is empty; expected a header row and data rows");
  std::vector<std::string> header, cells;
  if (!SplitQuoted(lines[i], header)) return error(i + 1, "a quote is not closed");
  auto column = [&](const std::string& c) -> int {
    auto it = std::find(header.begin(), header.end(), c);
    return it == header.end() ? -1 : static_cast<int>(it - header.begin());
  };
  ScoredCsv out;
  int time_index = -1;
  for (const std::string& c : time_column.empty() ? kTimeColumns : std::vector{time_column}) {
    if ((time_index = column(c)) >= 0) break;
  }
  if (time_index < 0) {
    return error(i + 1, time_column.empty() ? "has no time column; replay needs one (--time-column)"
                                            : "no time column '" + time_column + "'");
  }
  out.time_column = header[static_cast<size_t>(time_index)];
  const int score_index = column("anomaly_score");
  if (score_index < 0) return error(i + 1, "has no anomaly_score column");
  const int flag_index = column("is_anomaly");
  const int version_index = column("model_version");
  out.has_model_version = version_index >= 0;
  const int surprise_index = column("surprise");
  out.has_surprise = surprise_index >= 0;
  auto number = [&cells](int index, double* v) {
    return ParseNumberCell(cells[static_cast<size_t>(index)], v);
  };

  for (++i; i < lines.size(); ++i) {
    if (Blank(lines[i])) continue;
    const size_t line_no = i + 1;
    if (!SplitQuoted(lines[i], cells)) return error(line_no, "a quote is not closed");
    if (cells.size() != header.size()) {
      return error(line_no, "has " + std::to_string(cells.size()) + " fields, the header has " +
                                std::to_string(header.size()));
    }
    const std::string& t = cells[static_cast<size_t>(time_index)];
    bool zoneless = false;
    auto ms = ParseTime(t, &zoneless);
    if (!ms) {
      return error(line_no, "time column '" + out.time_column + "': cannot read '" + t +
                                "' (use epoch seconds, epoch milliseconds or ISO 8601 UTC)");
    }
    if (zoneless && out.zoneless_time.empty()) out.zoneless_time = t;
    out.times.push_back(*ms);
    out.time_text.push_back(t);
    double v = 0;
    if (!number(score_index, &v)) {
      return error(line_no, "column 'anomaly_score': '" + cells[static_cast<size_t>(score_index)] +
                                "' is not a score (a number, or empty for no score)");
    }
    out.scores.push_back(v);
    if (surprise_index >= 0) {
      if (!number(surprise_index, &v)) {
        return error(line_no, "column 'surprise': '" + cells[static_cast<size_t>(surprise_index)] +
                                  "' is not a number (or empty for none)");
      }
      out.surprises.push_back(v);
    }
    if (flag_index >= 0) {
      const std::string& f = cells[static_cast<size_t>(flag_index)];
      if (f != "" && f != "0" && f != "1") {
        return error(line_no, "column 'is_anomaly': '" + f + "' is not 0, 1 or empty");
      }
      out.is_anomaly.push_back(f.empty() ? -1 : f == "1");
    }
    if (version_index >= 0) out.model_versions.push_back(cells[static_cast<size_t>(version_index)]);
  }
  if (out.times.empty()) return error(0, "has a header but no rows");
  return out;
}

}  // namespace isoscope::native
