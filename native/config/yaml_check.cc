// isoscope.yml: parsed with yaml-cpp, checked key by key so that every problem is reported
// with its line and what to write instead. No yaml-cpp exception leaves this folder.
#include "yaml_check.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <unordered_map>

#include "file_io.h"
#include "time_parse.h"

namespace isoscope::native::config_detail {
namespace {

size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = up;
    }
  }
  return row[b.size()];
}

// The known key closest to `key`, when it is close enough to be a typo of it.
std::optional<std::string> Closest(const std::string& key, const std::vector<std::string>& keys) {
  const std::string lower = Lower(key);
  std::optional<std::string> best;
  size_t best_distance = 3;
  for (const std::string& k : keys) {
    const size_t d = EditDistance(lower, k);
    if (d < best_distance && d <= std::max<size_t>(1, lower.size() / 3)) {
      best = k;
      best_distance = d;
    }
  }
  return best;
}

std::string JoinList(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& s : items) out += (out.empty() ? "" : ", ") + s;
  return out;
}

std::string UnknownKeyHint(const std::string& key, const Section& here) {
  if (key == "<<") {
    return "merge keys (<<) are not supported — repeat the keys, or make the whole section an "
           "alias (model: *defaults)";
  }
  if (auto typo = Closest(key, here.keys)) {
    return "unknown key — did you mean " + *typo + "?";
  }
  for (const Section* other : kAllSections) {
    if (other == &here) continue;
    const std::string lower = Lower(key);
    if (std::find(other->keys.begin(), other->keys.end(), lower) != other->keys.end()) {
      return "unknown key " + std::string(here.where) + " — " + lower + " belongs " + other->where;
    }
  }
  for (const Section* other : kAllSections) {
    if (other == &here) continue;
    if (auto typo = Closest(key, other->keys)) {
      return "unknown key — did you mean " + *typo + " (which belongs " + other->where + ")?";
    }
  }
  return "unknown key — the keys " + std::string(here.where) + " are: " + JoinList(here.keys);
}

// 0 and 1 rather than 0.0 and 1.0 in messages.
std::string Plain(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%g", v);
  return buf;
}

}  // namespace

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string Join(const std::string& path, const std::string& key) {
  return path.empty() ? key : path + "." + key;
}

int LineOf(const YAML::Node& node, int fallback) {
  const YAML::Mark m = node.Mark();
  return m.is_null() || m.line < 0 ? fallback : m.line + 1;
}

const char* KindOf(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Null:
      return "empty";
    default:
      return "a single value";
  }
}

const Entry* Get(const std::vector<Entry>& entries, const char* key) {
  for (const Entry& e : entries) {
    if (e.key == key) return &e;
  }
  return nullptr;
}

std::string SyntaxHint(std::string_view text, int line) {
  size_t pos = 0;
  for (int l = 0; l < line && pos != std::string_view::npos; ++l) {
    pos = text.find('\n', pos);
    if (pos != std::string_view::npos) ++pos;
  }
  std::string_view row;
  if (pos != std::string_view::npos && pos <= text.size()) {
    row = text.substr(pos, text.find('\n', pos) - pos);
  }
  if (row.find('\t') != std::string_view::npos) {
    return " — this line has a tab: indent with spaces only";
  }
  return " — check the indentation here and on the line before, and put quotes around values "
         "that contain ': ' or ' #', or start with {, [, *, &, !, |, > or %";
}

std::vector<ConfigProblem> YamlChecker::TakeProblems() {
  std::stable_sort(problems_.begin(), problems_.end(),
                   [](const ConfigProblem& a, const ConfigProblem& b) { return a.line < b.line; });
  if (dropped_ > 0) {
    problems_.push_back({problems_.back().line,
                         "... and " + std::to_string(dropped_) + " more problems not listed"});
  }
  return std::move(problems_);
}

// The first kMaxProblems are kept; a file of a million bad keys gets a bounded report.
void YamlChecker::Add(int line, const std::string& path, const std::string& what) {
  if (problems_.size() >= kMaxProblems) {
    ++dropped_;
    return;
  }
  problems_.push_back({std::max(line, 1), path.empty() ? what : path + ": " + what});
}

// The line of a node; an empty one (a bare "-") is marked at the token after it, so its line
// is the one of the last character before that token.
int YamlChecker::LineOfItem(const YAML::Node& node, int fallback) const {
  if (!node.IsNull()) return LineOf(node, fallback);
  const YAML::Mark m = node.Mark();
  if (m.is_null() || m.pos < 0) return fallback;
  size_t i = std::min(static_cast<size_t>(m.pos), text_.size());
  while (i > 0 && std::isspace(static_cast<unsigned char>(text_[i - 1]))) --i;
  return 1 + static_cast<int>(std::count(text_.begin(), text_.begin() + i, '\n'));
}

// Every key of a mapping, in order; duplicates and non-scalar keys are problems.
std::vector<Entry> YamlChecker::Entries(const YAML::Node& map, const std::string& path) {
  std::vector<Entry> out;
  // Key -> first line: a scan of `out` per key made a file of n keys cost n^2.
  std::unordered_map<std::string, int> seen;
  for (auto it = map.begin(); it != map.end(); ++it) {
    const int line = LineOf(it->first, LineOf(map, 1));
    if (!it->first.IsScalar()) {
      Add(line, path, "a key must be a plain name, not " + std::string(KindOf(it->first)));
      continue;
    }
    const std::string key = it->first.Scalar();
    const auto [first, inserted] = seen.emplace(key, line);
    if (!inserted) {
      Add(line, Join(path, key),
          "given twice (first at line " + std::to_string(first->second) + ") — keep one");
      continue;
    }
    out.push_back({key, line, it->second});
  }
  return out;
}

// The known keys of a mapping; unknown keys are problems with a suggestion.
std::vector<Entry> YamlChecker::Fields(const YAML::Node& map, const std::string& path,
                                       const Section& section) {
  std::vector<Entry> out;
  for (Entry& e : Entries(map, path)) {
    if (std::find(section.keys.begin(), section.keys.end(), e.key) == section.keys.end()) {
      Add(e.line, Join(path, e.key), UnknownKeyHint(e.key, section));
    } else {
      out.push_back(std::move(e));
    }
  }
  return out;
}

// A mapping section, or a problem saying it must be one.
bool YamlChecker::IsMapping(const Entry& e, const std::string& path, const std::string& example) {
  if (e.value.IsMap()) return true;
  Add(e.line, path,
      std::string(e.value.IsNull() ? "empty" : std::string("is ") + KindOf(e.value)) +
          " — it must be a mapping of keys indented under it, e.g. " + example);
  return false;
}

bool YamlChecker::GetScalar(const YAML::Node& node, int line, const std::string& path,
                            const std::string& example, std::string* out) {
  if (node.IsScalar()) {
    *out = node.Scalar();
    return true;
  }
  Add(line, path,
      node.IsNull()
          ? "empty — e.g. " + example
          : std::string("is ") + KindOf(node) + ", expected a single value — e.g. " + example);
  return false;
}

bool YamlChecker::GetString(const Entry& e, const std::string& path, const std::string& example,
                            std::string* out) {
  return GetScalar(e.value, e.line, path, example, out);
}

bool YamlChecker::GetDuration(const Entry& e, const std::string& path, TimeMs min, TimeMs* out) {
  const std::string example = e.key + ": " + FormatDurationMs(*out);
  std::string text;
  if (!GetString(e, path, example, &text)) return false;
  auto ms = ParseDurationMs(text, /*allow_zero=*/true);
  if (!ms.ok()) {
    const bool number = !text.empty() && text.find_first_not_of("0123456789") == std::string::npos;
    Add(e.line, path,
        number ? "'" + text + "' has no unit — write e.g. " + e.key + ": " + text +
                     "s (units: ms, s, m, h, d, w)"
               : "'" + text +
                     "' is not a duration — write a whole number and a unit (ms, s, "
                     "m, h, d, w), e.g. " +
                     example);
    return false;
  }
  if (*ms < min) {
    Add(e.line, path,
        "'" + text + "' is too short — it must be at least " + FormatDurationMs(min) + ", e.g. " +
            example);
    return false;
  }
  *out = *ms;
  return true;
}

bool YamlChecker::GetInt(const Entry& e, const std::string& path, int64_t lo, int64_t hi,
                         const std::string& example, int64_t* out) {
  std::string text;
  if (!GetString(e, path, example, &text)) return false;
  int64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) {
    Add(e.line, path, "'" + text + "' is not a whole number — e.g. " + example);
    return false;
  }
  if (v < lo || v > hi) {
    Add(e.line, path,
        std::to_string(v) + " is out of range — use " + std::to_string(lo) + " to " +
            std::to_string(hi) + ", e.g. " + example);
    return false;
  }
  *out = v;
  return true;
}

// A finite number in (lo, hi] (or [lo, hi] with `lo_inclusive`).
bool YamlChecker::GetNumber(const Entry& e, const std::string& path, double lo, double hi,
                            bool lo_inclusive, const std::string& example, double* out) {
  std::string text;
  if (!GetString(e, path, example, &text)) return false;
  double v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || !std::isfinite(v)) {
    Add(e.line, path, "'" + text + "' is not a number — e.g. " + example);
    return false;
  }
  if (v > hi || v < lo || (v == lo && !lo_inclusive)) {
    Add(e.line, path,
        text + " is out of range — use a number in " + (lo_inclusive ? "[" : "(") + Plain(lo) +
            ", " + Plain(hi) + "], e.g. " + example);
    return false;
  }
  *out = v;
  return true;
}

bool YamlChecker::GetBool(const Entry& e, const std::string& path, bool* out) {
  const std::string example = e.key + ": false";
  std::string text;
  if (!GetString(e, path, example, &text)) return false;
  const std::string lower = Lower(text);
  if (lower == "true" || lower == "false") {
    *out = lower == "true";
    return true;
  }
  Add(e.line, path, "'" + text + "' is not true or false — write " + e.key + ": true or false");
  return false;
}

// A list of non-empty strings, each with its line.
bool YamlChecker::GetList(const Entry& e, const std::string& path, const std::string& example,
                          std::vector<std::pair<std::string, int>>* out) {
  if (!e.value.IsSequence()) {
    Add(e.line, path,
        std::string(e.value.IsNull() ? "empty" : std::string("is ") + KindOf(e.value)) +
            ", expected a list — e.g. " + example + ", or [] for none");
    return false;
  }
  bool ok = true;
  size_t i = 0;
  for (auto it = e.value.begin(); it != e.value.end(); ++it, ++i) {
    const std::string item_path = path + "[" + std::to_string(i) + "]";
    const int line = LineOfItem(*it, e.line);
    std::string s;
    if (!GetScalar(*it, line, item_path, example, &s)) {
      ok = false;
    } else if (s.empty()) {
      Add(line, item_path, "empty — e.g. " + example);
      ok = false;
    } else {
      out->emplace_back(s, line);
    }
  }
  return ok;
}

std::string YamlChecker::Resolve(const std::string& path) const {
  if (path.empty() || path[0] == '/' || !base_dir_) return path;
  return *base_dir_ + "/" + path;
}

// The first line of a secret file, without trailing blanks; a problem when unusable.
bool YamlChecker::ReadSecretFile(const Entry& e, const std::string& path, const std::string& file,
                                 std::string* secret) {
  auto content = ReadSmallFile(file, 64 * 1024);
  if (!content.ok()) {
    Add(e.line, path, content.status().message() + " — create it, or fix the path");
    return false;
  }
  std::string s = std::move(content).value();
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  if (s.empty()) {
    Add(e.line, path, file + " is empty — write the secret into it");
    return false;
  }
  if (s.find_first_of("\r\n") != std::string::npos) {
    Add(e.line, path, file + " has several lines — it must hold the secret alone");
    return false;
  }
  *secret = s;
  return true;
}

}  // namespace isoscope::native::config_detail
