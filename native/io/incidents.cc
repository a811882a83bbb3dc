#include "incidents.h"

#include "file_io.h"
#include "time_parse.h"

namespace isoscope::native {

Result<std::vector<IncidentWindow>> ReadIncidents(const std::string& path) {
  auto content = ReadFile(path);
  if (!content.ok()) return content.status();
  std::vector<IncidentWindow> out;
  size_t pos = 0, line_no = 0;
  const std::string& text = *content;
  while (pos < text.size()) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string::npos) eol = text.size();
    std::string line = text.substr(pos, eol - pos);
    pos = eol + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line_no == 1) continue;  // the header
    std::vector<std::string> cells;
    size_t start = 0;
    for (int i = 0; i < 3; ++i) {
      const size_t comma = line.find(',', start);
      cells.push_back(line.substr(start, comma == std::string::npos ? comma : comma - start));
      start = comma == std::string::npos ? line.size() : comma + 1;
    }
    auto bad = [&](const std::string& what) {
      return Status(ErrorCode::kBadInput,
                    path + ":" + std::to_string(line_no) + ": " + what +
                        " (expected name,start,end,description with ISO 8601 or epoch times)");
    };
    if (cells[0].empty()) return bad("missing incident name");
    const auto s = ParseTime(cells[1]);
    const auto e = ParseTime(cells[2]);
    if (!s || !e) return bad("bad start or end time");
    if (*e <= *s) return bad("the incident ends before it starts");
    out.push_back({cells[0], *s, *e});
  }
  return out;
}

}  // namespace isoscope::native
