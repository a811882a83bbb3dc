// isoscope.yml: parsed with yaml-cpp, checked key by key so that every problem is reported
// with its line and what to write instead. No yaml-cpp exception leaves this file.
#include "config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <unordered_map>

#include "file_io.h"
#include "isoscope/text.h"
#include "listen_address.h"
#include "model_params.h"
#include "time_parse.h"

namespace isoscope::native {
namespace {

// The keys each kind of mapping accepts, to spot typos and keys put at the wrong level.
struct Section {
  const char* where;  // how a message names the place, "under prometheus:"
  std::vector<std::string> keys;
};

const Section kRootSection{"at the top level",
                           {"prometheus", "models_dir", "web", "detectors", "shard"}};
const Section kPrometheusSection{
    "under prometheus:", {"url", "timeout", "bearer_token", "bearer_token_file", "basic_auth"}};
const Section kBasicAuthSection{"under prometheus.basic_auth:",
                                {"username", "password", "password_file"}};
const Section kWebSection{"under web:", {"listen_address", "cors_origin"}};
const Section kDetectorSection{
    "in a detector",
    {"name", "queries", "group_by", "derived", "deploy_windows", "step", "lookback", "interval",
     "keep_versions", "model", "alerts", "exclude", "exclude_when", "exclude_alerts",
     "exclude_alerts_margin"}};
const Section kModelSection{"under a detector's model:",
                            {"n_estimators", "contamination", "random_state", "max_samples",
                             "max_features", "bootstrap", "scaler"}};
const Section kAlertsSection{"under a detector's alerts:",
                             {"warning", "critical", "for", "smooth", "keep_firing_for",
                              "eval_interval", "record", "drift", "stale_after", "max_model_age"}};
const Section kDriftSection{"under a detector's alerts.drift:", {"min_rate", "for", "peak_hours"}};
}  // namespace

std::string ShardLabelClash(const Config& config) {
  for (const DetectorConfig& d : config.detectors) {
    for (const std::string& l : d.group_by) {
      if (l == "shard") {
        return "detector " + d.name +
               " groups by a label named shard, which a sharded daemon adds to its output "
               "— rename it in the queries, e.g. label_replace(q, \"src_shard\", \"$1\", "
               "\"shard\", \"(.*)\"), and group by the new name";
      }
    }
  }
  return "";
}

namespace {

const Section* const kAllSections[] = {&kRootSection,   &kPrometheusSection, &kBasicAuthSection,
                                       &kWebSection,    &kDetectorSection,   &kModelSection,
                                       &kAlertsSection, &kDriftSection};

const char* const kDerivedNames[] = {"hour_of_week", "is_deploy_window"};
constexpr int64_t kMaxEstimators = 100'000;
constexpr int64_t kMaxKeepVersions = 1000;

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

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

bool IsName(std::string_view s, bool lower_only) {
  if (s.empty()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    const bool ok = lower_only ? (std::islower(c) || std::isdigit(c) || c == '_' || c == '-')
                               : (std::isalpha(c) || c == '_' || (i > 0 && std::isdigit(c)));
    if (!ok) return false;
  }
  return true;
}

// 0 and 1 rather than 0.0 and 1.0 in messages.
std::string Plain(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%g", v);
  return buf;
}

bool IsMetricName(std::string_view s) {
  if (s.empty()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (!(std::isalpha(c) || c == '_' || c == ':' || (i > 0 && std::isdigit(c)))) return false;
  }
  return true;
}

// A detector name that would be accepted, derived from a rejected one.
std::string SuggestDetectorName(std::string_view bad) {
  std::string out;
  for (char ch : Lower(bad)) {
    const unsigned char c = static_cast<unsigned char>(ch);
    if (std::islower(c) || std::isdigit(c) || c == '_' || c == '-') {
      out += ch;
    } else if (!out.empty() && out.back() != '_') {
      out += '_';
    }
  }
  while (!out.empty() && (out.back() == '_' || out.back() == '-')) out.pop_back();
  if (out.size() > 64) out.resize(64);
  return out.empty() ? "checkout" : out;
}

// Brackets of a PromQL expression: strings and comments skipped. Empty when balanced.
std::string CheckBrackets(std::string_view q) {
  std::vector<std::pair<char, size_t>> open;
  for (size_t i = 0; i < q.size(); ++i) {
    const char c = q[i];
    if (c == '"' || c == '\'' || c == '`') {
      const size_t start = i;
      for (++i; i < q.size() && q[i] != c; ++i) {
        if (q[i] == '\\' && c != '`') ++i;
      }
      if (i >= q.size()) {
        return "the string opened by " + std::string(1, c) + " at character " +
               std::to_string(start + 1) + " is never closed";
      }
    } else if (c == '#') {
      while (i < q.size() && q[i] != '\n') ++i;
    } else if (c == '(' || c == '[' || c == '{') {
      open.emplace_back(c, i);
    } else if (c == ')' || c == ']' || c == '}') {
      const char want = c == ')' ? '(' : c == ']' ? '[' : '{';
      if (open.empty()) {
        return "'" + std::string(1, c) + "' at character " + std::to_string(i + 1) +
               " closes nothing";
      }
      if (open.back().first != want) {
        return "'" + std::string(1, c) + "' at character " + std::to_string(i + 1) +
               " closes the '" + std::string(1, open.back().first) + "' at character " +
               std::to_string(open.back().second + 1);
      }
      open.pop_back();
    }
  }
  if (!open.empty()) {
    return "the '" + std::string(1, open.back().first) + "' at character " +
           std::to_string(open.back().second + 1) + " is never closed";
  }
  return "";
}

// "" when `url` is a usable Prometheus base URL, else what is wrong and what to write.
std::string CheckUrl(const std::string& url) {
  const std::string example = " — e.g. url: http://127.0.0.1:9090";
  const size_t sep = url.find("://");
  if (sep == std::string::npos) {
    return "'" + url + "' has no http:// or https:// — write url: http://" + url;
  }
  const std::string scheme = url.substr(0, sep);
  if (scheme != "http" && scheme != "https") {
    return "scheme '" + scheme + "' is not supported — use http:// or https://" + example;
  }
  if (url.find_first_of(" \t\r\n") != std::string::npos) {
    return "'" + url + "' contains blanks" + example;
  }
  if (url.find_first_of("?#") != std::string::npos) {
    return "'" + url + "' has a query or fragment — give the server's base URL" + example;
  }
  const std::string rest = url.substr(sep + 3);
  const size_t slash = rest.find('/');
  const std::string authority = rest.substr(0, slash);
  const std::string path = slash == std::string::npos ? "" : rest.substr(slash);
  if (authority.find('@') != std::string::npos) {
    return "credentials in the URL would be logged and shown — remove them and use basic_auth: "
           "{username: ..., password_file: ...}";
  }
  std::string host = authority, port;
  if (!authority.empty() && authority[0] == '[') {
    const size_t close = authority.find(']');
    if (close == std::string::npos) return "'" + url + "': the IPv6 address has no ']'" + example;
    host = authority.substr(0, close + 1);
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':') return "'" + url + "': expected ':' after ']'" + example;
      port = authority.substr(close + 2);
      if (port.empty()) return "'" + url + "' has an empty port" + example;
    }
  } else if (const size_t colon = authority.rfind(':'); colon != std::string::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
    if (port.empty()) return "'" + url + "' has an empty port" + example;
  }
  if (host.empty()) return "'" + url + "' has no host" + example;
  if (host[0] != '[') {
    for (char c : host) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-' && c != '_') {
        return "'" + url + "': '" + host + "' is not a host name" + example;
      }
    }
  }
  if (!port.empty()) {
    int p = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
    if (ec != std::errc() || end != port.data() + port.size() || p < 1 || p > 65535) {
      return "'" + url + "': port '" + port + "' is not a number from 1 to 65535" + example;
    }
  }
  if (path.find("/api/v1") != std::string::npos) {
    return "'" + url + "' includes the API path — give the server's base URL without /api/v1, " +
           "e.g. url: " + url.substr(0, sep + 3 + slash + path.find("/api/v1"));
  }
  return "";
}

// "" when `address` is host:port (listen_address.h: the rule --web.listen-address follows).
std::string CheckListenAddress(const std::string& address) {
  auto parsed = ParseListenAddress(address);
  return parsed.ok() ? "" : parsed.status().message();
}

std::string CheckCorsOrigin(const std::string& origin) {
  if (origin.empty() || origin == "*") return "";
  const std::string example = " — e.g. cors_origin: https://grafana.example.com, or * for any";
  const size_t sep = origin.find("://");
  if (sep == std::string::npos ||
      (origin.compare(0, sep, "http") != 0 && origin.compare(0, sep, "https") != 0)) {
    return "'" + origin + "' is not an origin (scheme://host[:port])" + example;
  }
  const size_t slash = origin.find('/', sep + 3);
  if (slash != std::string::npos) {
    return "an origin has no path — write cors_origin: " + origin.substr(0, slash);
  }
  if (sep + 3 >= origin.size()) return "'" + origin + "' has no host" + example;
  return "";
}

// One key of a mapping as written in the file.
struct Entry {
  std::string key;
  int line = 0;  // the key's line
  YAML::Node value;
};

const Entry* Get(const std::vector<Entry>& entries, const char* key) {
  for (const Entry& e : entries) {
    if (e.key == key) return &e;
  }
  return nullptr;
}

class Checker {
 public:
  // `base_dir`: the directory relative paths are resolved against; nullopt = the current one.
  Checker(std::string_view text, std::optional<std::string> base_dir)
      : text_(text), base_dir_(std::move(base_dir)) {}

  std::vector<ConfigProblem> TakeProblems() {
    std::stable_sort(
        problems_.begin(), problems_.end(),
        [](const ConfigProblem& a, const ConfigProblem& b) { return a.line < b.line; });
    if (dropped_ > 0) {
      problems_.push_back({problems_.back().line,
                           "... and " + std::to_string(dropped_) + " more problems not listed"});
    }
    return std::move(problems_);
  }

  // The first kMaxProblems are kept; a file of a million bad keys gets a bounded report.
  void Add(int line, const std::string& path, const std::string& what) {
    if (problems_.size() >= kMaxProblems) {
      ++dropped_;
      return;
    }
    problems_.push_back({std::max(line, 1), path.empty() ? what : path + ": " + what});
  }

  void CheckRoot(const YAML::Node& root, Config* cfg) {
    if (root.IsNull()) {
      Add(1, "",
          "the file is empty — write prometheus:, models_dir: and detectors: (the README's "
          "Configuration section has a full example)");
      return;
    }
    if (!root.IsMap()) {
      Add(LineOf(root, 1), "",
          std::string("the file is ") + KindOf(root) +
              " — it must be a mapping with the keys prometheus:, models_dir:, detectors: and "
              "optionally web:");
      return;
    }
    const std::vector<Entry> f = Fields(root, "", kRootSection);
    if (const Entry* e = Get(f, "prometheus")) {
      CheckPrometheus(*e, &cfg->prometheus);
    } else {
      Add(1, "prometheus",
          "missing — say where Prometheus is, e.g. prometheus: {url: http://127.0.0.1:9090}");
    }
    if (const Entry* e = Get(f, "models_dir")) {
      std::string dir;
      if (GetString(*e, "models_dir", "models_dir: /var/lib/isoscope/models", &dir)) {
        if (dir.empty()) {
          Add(e->line, "models_dir", "empty — e.g. models_dir: /var/lib/isoscope/models");
        } else if (dir[0] == '~') {
          Add(e->line, "models_dir", "'~' is not expanded — write the full path");
        } else {
          cfg->models_dir = Resolve(dir);
        }
      }
    } else {
      Add(1, "models_dir",
          "missing — say where model bundles are kept, e.g. models_dir: /var/lib/isoscope/models");
    }
    if (const Entry* e = Get(f, "web")) {
      CheckWeb(*e, &cfg->web);
    }
    if (const Entry* e = Get(f, "shard")) {
      std::string text;
      if (GetString(*e, "shard", "shard: 0/3", &text)) {
        auto shard = ParseShard(text);
        if (shard.ok()) {
          cfg->shard = *shard;
        } else {
          Add(e->line, "shard", shard.status().message());
        }
      }
    }
    if (const Entry* e = Get(f, "detectors")) {
      CheckDetectors(*e, &cfg->detectors);
      if (cfg->shard.configured) {
        const std::string clash = ShardLabelClash(*cfg);
        if (!clash.empty()) Add(e->line, "shard", clash);
      }
    } else {
      Add(1, "detectors",
          "missing — add at least one detector (name, queries and model.contamination); see "
          "the README's Configuration section");
    }
  }

 private:
  // The line of a node; an empty one (a bare "-") is marked at the token after it, so its line
  // is the one of the last character before that token.
  int LineOfItem(const YAML::Node& node, int fallback) const {
    if (!node.IsNull()) return LineOf(node, fallback);
    const YAML::Mark m = node.Mark();
    if (m.is_null() || m.pos < 0) return fallback;
    size_t i = std::min(static_cast<size_t>(m.pos), text_.size());
    while (i > 0 && std::isspace(static_cast<unsigned char>(text_[i - 1]))) --i;
    return 1 + static_cast<int>(std::count(text_.begin(), text_.begin() + i, '\n'));
  }

  // Every key of a mapping, in order; duplicates and non-scalar keys are problems.
  std::vector<Entry> Entries(const YAML::Node& map, const std::string& path) {
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
  std::vector<Entry> Fields(const YAML::Node& map, const std::string& path,
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
  bool IsMapping(const Entry& e, const std::string& path, const std::string& example) {
    if (e.value.IsMap()) return true;
    Add(e.line, path,
        std::string(e.value.IsNull() ? "empty" : std::string("is ") + KindOf(e.value)) +
            " — it must be a mapping of keys indented under it, e.g. " + example);
    return false;
  }

  bool GetScalar(const YAML::Node& node, int line, const std::string& path,
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

  bool GetString(const Entry& e, const std::string& path, const std::string& example,
                 std::string* out) {
    return GetScalar(e.value, e.line, path, example, out);
  }

  bool GetDuration(const Entry& e, const std::string& path, TimeMs min, TimeMs* out) {
    const std::string example = e.key + ": " + FormatDurationMs(*out);
    std::string text;
    if (!GetString(e, path, example, &text)) return false;
    auto ms = ParseDurationMs(text, /*allow_zero=*/true);
    if (!ms.ok()) {
      const bool number =
          !text.empty() && text.find_first_not_of("0123456789") == std::string::npos;
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

  bool GetInt(const Entry& e, const std::string& path, int64_t lo, int64_t hi,
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
  bool GetNumber(const Entry& e, const std::string& path, double lo, double hi, bool lo_inclusive,
                 const std::string& example, double* out) {
    std::string text;
    if (!GetString(e, path, example, &text)) return false;
    double v = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size() ||
        !std::isfinite(v)) {
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

  bool GetBool(const Entry& e, const std::string& path, bool* out) {
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
  bool GetList(const Entry& e, const std::string& path, const std::string& example,
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

  std::string Resolve(const std::string& path) const {
    if (path.empty() || path[0] == '/' || !base_dir_) return path;
    return *base_dir_ + "/" + path;
  }

  // The first line of a secret file, without trailing blanks; a problem when unusable.
  bool ReadSecretFile(const Entry& e, const std::string& path, const std::string& file,
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

  void CheckPrometheus(const Entry& section, PrometheusConfig* p) {
    const std::string path = "prometheus";
    p->line = section.line;
    if (!IsMapping(section, path, "prometheus: {url: http://127.0.0.1:9090}")) return;
    const std::vector<Entry> f = Fields(section.value, path, kPrometheusSection);
    if (const Entry* e = Get(f, "url")) {
      std::string url;
      if (GetString(*e, Join(path, "url"), "url: http://127.0.0.1:9090", &url)) {
        const std::string why =
            url.empty() ? "empty — e.g. url: http://127.0.0.1:9090" : CheckUrl(url);
        if (!why.empty()) {
          Add(e->line, Join(path, "url"), why);
        } else {
          const size_t host_end = url.find('/', url.find("://") + 3);
          while (host_end != std::string::npos && url.size() > host_end && url.back() == '/') {
            url.pop_back();
          }
          p->url = url;
        }
      }
    } else {
      Add(section.line, Join(path, "url"), "missing — e.g. url: http://127.0.0.1:9090");
    }
    if (const Entry* e = Get(f, "timeout")) {
      GetDuration(*e, Join(path, "timeout"), 1, &p->timeout_ms);
    }
    const Entry* token = Get(f, "bearer_token");
    const Entry* token_file = Get(f, "bearer_token_file");
    if (token && token_file) {
      Add(token_file->line, Join(path, "bearer_token_file"),
          "given together with bearer_token (line " + std::to_string(token->line) +
              ") — keep one of them");
    } else if (token) {
      if (GetString(*token, Join(path, "bearer_token"), "bearer_token: <token>",
                    &p->bearer_token) &&
          p->bearer_token.empty()) {
        Add(token->line, Join(path, "bearer_token"), "empty — give the token, or remove the key");
      }
    } else if (token_file) {
      std::string file;
      if (GetString(*token_file, Join(path, "bearer_token_file"),
                    "bearer_token_file: /etc/isoscope/token", &file)) {
        if (file.empty()) {
          Add(token_file->line, Join(path, "bearer_token_file"),
              "empty — e.g. bearer_token_file: /etc/isoscope/token");
        } else {
          p->bearer_token_file = Resolve(file);
          ReadSecretFile(*token_file, Join(path, "bearer_token_file"), p->bearer_token_file,
                         &p->bearer_token);
        }
      }
    }
    if (const Entry* e = Get(f, "basic_auth")) {
      const std::string auth_path = Join(path, "basic_auth");
      if (token || token_file) {
        Add(e->line, auth_path,
            "given together with " + std::string(token ? "bearer_token" : "bearer_token_file") +
                " — Prometheus takes one kind of credentials; keep one of them");
      }
      if (IsMapping(*e, auth_path, "basic_auth: {username: isoscope, password_file: /etc/pw}")) {
        p->has_basic_auth = true;
        const std::vector<Entry> a = Fields(e->value, auth_path, kBasicAuthSection);
        if (const Entry* u = Get(a, "username")) {
          if (GetString(*u, Join(auth_path, "username"), "username: isoscope", &p->username) &&
              p->username.empty()) {
            Add(u->line, Join(auth_path, "username"), "empty — e.g. username: isoscope");
          }
        } else {
          Add(e->line, Join(auth_path, "username"), "missing — e.g. username: isoscope");
        }
        const Entry* pw = Get(a, "password");
        const Entry* pw_file = Get(a, "password_file");
        if (pw && pw_file) {
          Add(pw_file->line, Join(auth_path, "password_file"),
              "given together with password (line " + std::to_string(pw->line) +
                  ") — keep one of them");
        } else if (pw) {
          GetString(*pw, Join(auth_path, "password"), "password: secret", &p->password);
        } else if (pw_file) {
          std::string file;
          if (GetString(*pw_file, Join(auth_path, "password_file"),
                        "password_file: /etc/isoscope/password", &file)) {
            p->password_file = Resolve(file);
            ReadSecretFile(*pw_file, Join(auth_path, "password_file"), p->password_file,
                           &p->password);
          }
        } else {
          Add(e->line, Join(auth_path, "password"),
              "missing — give password: or, better, password_file: /etc/isoscope/password");
        }
      }
    }
  }

  void CheckWeb(const Entry& section, WebConfig* w) {
    const std::string path = "web";
    if (section.value.IsNull()) return;  // "web:" alone keeps the defaults
    if (!IsMapping(section, path, "web: {listen_address: 127.0.0.1:8080}")) return;
    const std::vector<Entry> f = Fields(section.value, path, kWebSection);
    if (const Entry* e = Get(f, "listen_address")) {
      std::string address;
      if (GetString(*e, Join(path, "listen_address"), "listen_address: 127.0.0.1:8080", &address)) {
        const std::string why = CheckListenAddress(address);
        if (!why.empty()) {
          Add(e->line, Join(path, "listen_address"), why);
        } else {
          w->listen_address = address;
        }
      }
    }
    if (const Entry* e = Get(f, "cors_origin")) {
      std::string origin;
      if (e->value.IsNull()) {
        w->cors_origin.clear();
      } else if (GetString(*e, Join(path, "cors_origin"),
                           "cors_origin: https://grafana.example.com", &origin)) {
        const std::string why = CheckCorsOrigin(origin);
        if (!why.empty()) {
          Add(e->line, Join(path, "cors_origin"), why);
        } else {
          w->cors_origin = origin;
        }
      }
    }
  }

  void CheckDetectors(const Entry& section, std::vector<DetectorConfig>* out) {
    const std::string example = "detectors: [{name: checkout, queries: {...}, model: {...}}]";
    if (!section.value.IsSequence()) {
      Add(section.line, "detectors",
          std::string(section.value.IsNull() ? "empty"
                                             : std::string("is ") + KindOf(section.value)) +
              " — it must be a list of detectors, each starting with '- name: ...' (see the "
              "README's Configuration section)");
      return;
    }
    if (section.value.size() == 0) {
      Add(section.line, "detectors", "the list is empty — add at least one detector");
      return;
    }
    std::map<std::string, int> names;
    size_t i = 0;
    for (auto it = section.value.begin(); it != section.value.end(); ++it, ++i) {
      const std::string path = "detectors[" + std::to_string(i) + "]";
      const int line = LineOfItem(*it, section.line);
      if (!it->IsMap()) {
        Add(line, path,
            std::string("is ") + KindOf(*it) +
                " — each detector is a mapping: '- name: checkout' with queries: and model: "
                "indented under it");
        continue;
      }
      DetectorConfig d;
      d.line = line;
      CheckDetector(*it, path, &d);
      if (!d.name.empty()) {
        auto [seen, fresh] = names.emplace(d.name, line);
        if (!fresh) {
          Add(line, Join(path, "name"),
              "'" + d.name + "' is already the name of the detector at line " +
                  std::to_string(seen->second) +
                  " — each detector needs its own name (it is its models directory)");
        }
      }
      out->push_back(std::move(d));
    }
  }

  void CheckDetector(const YAML::Node& node, const std::string& path, DetectorConfig* d) {
    const size_t problems_before = problems_.size() + dropped_;
    std::vector<int> query_lines;  // the line of each of d->queries
    const std::vector<Entry> f = Fields(node, path, kDetectorSection);
    if (const Entry* e = Get(f, "name")) {
      std::string name;
      if (GetString(*e, Join(path, "name"), "name: checkout", &name)) {
        if (IsName(name, true) && name.size() <= 64) {
          d->name = name;
        } else {
          Add(e->line, Join(path, "name"),
              "'" + name +
                  "' cannot be a detector name: it becomes a directory under models_dir — use 1 "
                  "to 64 of a-z, 0-9, '_' and '-', e.g. name: " +
                  SuggestDetectorName(name));
        }
      }
    } else {
      Add(d->line, Join(path, "name"), "missing — e.g. name: checkout (a-z, 0-9, '_', '-')");
    }

    if (const Entry* e = Get(f, "queries")) {
      CheckQueries(*e, Join(path, "queries"), &d->queries, &query_lines);
    } else {
      Add(d->line, Join(path, "queries"),
          "missing — name at least one PromQL feature query, e.g. queries: {error_rate: "
          "'sum by (job) (rate(http_requests_total{code=~\"5..\"}[5m]))'}");
    }
    for (const auto& [name, query] : d->queries) d->spec.inputs.push_back(name);

    if (const Entry* e = Get(f, "group_by")) {
      std::vector<std::pair<std::string, int>> labels;
      if (GetList(*e, Join(path, "group_by"), "group_by: [job]", &labels)) {
        for (size_t i = 0; i < labels.size(); ++i) {
          const auto& [label, line] = labels[i];
          const std::string p = Join(path, "group_by") + "[" + std::to_string(i) + "]";
          if (!IsName(label, false)) {
            Add(line, p, "'" + label + "' is not a Prometheus label name ([a-zA-Z_][a-zA-Z0-9_]*)");
          } else if (label.rfind("__", 0) == 0) {
            Add(line, p, "'" + label + "': labels starting with __ are internal to Prometheus");
          } else if (label == "detector") {
            Add(line, p,
                "'detector' is the label isoscope adds to its own metrics — group by another "
                "label");
          } else if (std::find(d->group_by.begin(), d->group_by.end(), label) !=
                     d->group_by.end()) {
            Add(line, p, "'" + label + "' is listed twice — keep one");
          } else {
            d->group_by.push_back(label);
          }
        }
      }
    }

    if (const Entry* e = Get(f, "deploy_windows")) {
      std::string text;
      if (GetString(*e, Join(path, "deploy_windows"), "deploy_windows: \"Mon-Fri 10:00-12:00\"",
                    &text)) {
        auto windows = ParseDeployWindows(text);
        if (!windows.ok()) {
          Add(e->line, Join(path, "deploy_windows"), windows.status().message());
        } else if (windows->empty()) {
          Add(e->line, Join(path, "deploy_windows"),
              "no window given — e.g. deploy_windows: \"Mon-Fri 10:00-12:00\", or leave "
              "is_deploy_window out of derived:");
        } else {
          d->spec.deploy_windows = std::move(windows).value();
        }
      }
    }

    if (const Entry* e = Get(f, "step")) GetDuration(*e, Join(path, "step"), 1000, &d->step_ms);
    if (const Entry* e = Get(f, "lookback")) {
      if (GetDuration(*e, Join(path, "lookback"), kDayMs, &d->lookback_ms) &&
          d->lookback_ms <= d->step_ms) {
        Add(e->line, Join(path, "lookback"), "must be longer than step — e.g. lookback: 90d");
      }
    }

    // derived: after step and lookback, which `auto` is chosen from and temporal features
    // are computed on.
    std::vector<std::string> derived_items(std::begin(kDerivedNames), std::end(kDerivedNames));
    int derived_line = 0;
    // Nothing to measure in a config: `auto` goes by step and lookback, and adds
    // is_deploy_window only when this detector names its deploy windows.
    AutoContext context{d->step_ms, d->lookback_ms};
    context.deploy_windows = Get(f, "deploy_windows") != nullptr;
    const std::string kDerivedExample = "derived: auto, or derived: [hour_of_week, delta(x,1h)]";
    if (const Entry* e = Get(f, "derived")) {
      derived_items.clear();
      derived_line = e->line;
      std::vector<std::pair<std::string, int>> items;
      if (e->value.IsScalar() && e->value.as<std::string>() == "auto") {
        derived_items.push_back("auto");
      } else if (GetList(*e, Join(path, "derived"), kDerivedExample, &items)) {
        for (size_t i = 0; i < items.size(); ++i) {
          const auto& [name, line] = items[i];
          const std::string p = Join(path, "derived") + "[" + std::to_string(i) + "]";
          auto parsed = ParseDerivedList(name, d->spec.inputs, context);
          if (!parsed.ok()) {
            Add(line, p,
                "'" + name + "' is not a derived feature: " + parsed.status().message() +
                    " — e.g. hour_of_week, delta(" +
                    (d->spec.inputs.empty() ? std::string("x") : d->spec.inputs.front()) +
                    ",1h), or auto for the recommended set");
          } else if (std::find(derived_items.begin(), derived_items.end(), name) !=
                     derived_items.end()) {
            Add(line, p, "'" + name + "' is listed twice — keep one");
          } else {
            derived_items.push_back(name);
          }
        }
      }
    }
    std::string derived_text;
    for (const std::string& n : derived_items) {
      derived_text += (derived_text.empty() ? "" : ",") + n;
    }
    if (auto derived = ParseDerivedList(derived_text, d->spec.inputs, context, &d->spec.raw_inputs);
        derived.ok()) {
      d->spec.derived = std::move(derived).value();
      // Temporal features run on the training step's grid, as the daemon scores.
      d->spec.step_ms = d->spec.has_temporal() ? d->step_ms : 0;
      if (Status v = d->spec.Validate(); !v.ok()) {
        Add(derived_line, Join(path, "derived"), v.message());
      }
    } else if (derived_line > 0) {
      Add(derived_line, Join(path, "derived"), derived.status().message());
    }
    for (size_t i = 0; i < d->queries.size(); ++i) {
      const std::string& name = d->queries[i].first;
      for (const DerivedFeature& f : d->spec.derived) {
        if (f.Name(d->spec.inputs) == name) {
          Add(query_lines[i], Join(Join(path, "queries"), name),
              "the name is also a derived feature — rename the query, or drop " + name +
                  " from derived:");
        }
      }
    }
    if (const Entry* e = Get(f, "interval")) {
      GetDuration(*e, Join(path, "interval"), 1000, &d->interval_ms);
    }
    if (const Entry* e = Get(f, "keep_versions")) {
      int64_t v = d->keep_versions;
      if (GetInt(*e, Join(path, "keep_versions"), 1, kMaxKeepVersions, "keep_versions: 5", &v)) {
        d->keep_versions = static_cast<int>(v);
      }
    }

    if (const Entry* e = Get(f, "model")) {
      CheckModel(*e, Join(path, "model"), d);
    } else {
      Add(d->line, Join(path, "model"),
          "missing — give at least the expected share of anomalies, e.g. model: "
          "{contamination: 0.02}");
    }

    d->alerts.stale_after_ms = std::max<TimeMs>(15 * kMinuteMs, 3 * d->interval_ms);
    if (const Entry* e = Get(f, "alerts")) CheckAlerts(*e, Join(path, "alerts"), d);
    CheckExclude(f, path, d);

    if (problems_.size() + dropped_ == problems_before) {
      Status valid = d->spec.Validate();
      if (!valid.ok()) Add(d->line, path, valid.message());
    }
  }

  // exclude: items are "START/END" (absolute) or weekly windows ("Sat 00:00-06:00").
  void CheckExcludeItem(const std::string& item, int line, const std::string& path,
                        ExcludeConfig* out) {
    const size_t slash = item.find('/');
    if (slash != std::string::npos) {
      const auto s = ParseTime(item.substr(0, slash));
      const auto e = ParseTime(item.substr(slash + 1));
      if (!s || !e || *e <= *s) {
        Add(line, path,
            "'" + item +
                "' is not START/END with START before END — e.g. "
                "2026-10-06T01:00:00Z/2026-10-06T07:00:00Z");
        return;
      }
      out->windows.push_back({item, *s, *e});
      return;
    }
    auto weekly = ParseDeployWindows(item);
    if (!weekly.ok() || weekly->empty()) {
      Add(line, path,
          "'" + item + "' is neither START/END nor a weekly window like \"Sat-Sun 00:00-06:00\"" +
              (weekly.ok() ? std::string() : ": " + weekly.status().message()));
      return;
    }
    out->weekly.insert(out->weekly.end(), weekly->begin(), weekly->end());
    out->weekly_text.push_back(item);
  }

  void CheckExclude(const std::vector<Entry>& f, const std::string& path, DetectorConfig* d) {
    ExcludeConfig& x = d->exclude;
    if (const Entry* e = Get(f, "exclude")) {
      std::vector<std::pair<std::string, int>> items;
      const std::string example =
          "exclude: [\"2026-10-06T01:00:00Z/2026-10-06T07:00:00Z\", \"Sun 02:00-04:00\"]";
      if (GetList(*e, Join(path, "exclude"), example, &items)) {
        for (size_t i = 0; i < items.size(); ++i) {
          CheckExcludeItem(items[i].first, items[i].second,
                           Join(path, "exclude") + "[" + std::to_string(i) + "]", &x);
        }
      }
    }
    if (const Entry* e = Get(f, "exclude_when")) {
      GetString(*e, Join(path, "exclude_when"), "exclude_when: 'maintenance_mode > 0'", &x.when);
    }
    if (const Entry* e = Get(f, "exclude_alerts")) {
      GetBool(*e, Join(path, "exclude_alerts"), &x.alerts);
    }
    if (const Entry* e = Get(f, "exclude_alerts_margin")) {
      GetDuration(*e, Join(path, "exclude_alerts_margin"), 0, &x.alerts_margin_ms);
    }
  }

  void CheckQueries(const Entry& e, const std::string& path,
                    std::vector<std::pair<std::string, std::string>>* out,
                    std::vector<int>* lines) {
    if (!e.value.IsMap()) {
      Add(e.line, path,
          std::string(e.value.IsNull() ? "empty" : std::string("is ") + KindOf(e.value)) +
              " — it must map feature names to PromQL, one per line, e.g. "
              "queries: {latency_p95: 'histogram_quantile(0.95, ...)'}");
      return;
    }
    std::vector<Entry> entries = Entries(e.value, path);
    if (entries.empty()) {
      Add(e.line, path, "no query — name at least one PromQL feature query");
      return;
    }
    for (const Entry& q : entries) {
      const std::string p = Join(path, q.key);
      bool ok = true;
      if (!IsName(q.key, false)) {
        Add(q.line, p,
            "'" + q.key +
                "' cannot be a feature name — use letters, digits and '_', not starting with a "
                "digit, e.g. latency_p95");
        ok = false;
      }
      std::string query;
      if (!GetString(q, p, q.key + ": 'sum by (job) (rate(http_requests_total[5m]))'", &query)) {
        continue;
      }
      const size_t first = query.find_first_not_of(" \t\r\n");
      if (first == std::string::npos) {
        Add(q.line, p, "the query is empty — write the PromQL expression for this feature");
        continue;
      }
      const std::string why = CheckBrackets(query);
      if (!why.empty()) {
        Add(q.line, p,
            "the brackets of this PromQL do not match: " + why +
                " (a value starting with '{' or containing ': ' or ' #' needs quotes)");
        ok = false;
      }
      if (ok) {
        out->emplace_back(q.key, query);
        lines->push_back(q.line);
      }
    }
  }

  void CheckAlerts(const Entry& section, const std::string& path, DetectorConfig* d) {
    if (section.value.IsNull()) return;  // "alerts:" alone keeps the defaults
    if (!IsMapping(section, path,
                   "alerts: {warning: contamination, critical: contamination/2, for: 3m}"))
      return;
    const std::vector<Entry> f = Fields(section.value, path, kAlertsSection);
    AlertsConfig& a = d->alerts;
    const Entry* warning = Get(f, "warning");
    const Entry* critical = Get(f, "critical");
    bool thresholds_ok = true;
    for (const auto& [e, name, out] : {std::tuple{warning, "warning", &a.warning},
                                       std::tuple{critical, "critical", &a.critical}}) {
      if (e == nullptr) continue;
      const std::string key = std::string(name);
      std::string text;
      if (!GetString(*e, Join(path, key), key + ": contamination", &text)) {
        thresholds_ok = false;
        continue;
      }
      auto t = ParseAlertThreshold(text);
      if (!t.ok()) {
        Add(e->line, Join(path, key), t.status().message());
        thresholds_ok = false;
        continue;
      }
      *out = *t;
    }
    if (thresholds_ok && !a.critical.AtLeastAsStrictAs(a.warning)) {
      const Entry* at = critical ? critical : warning;
      Add(at->line, Join(path, critical ? "critical" : "warning"),
          "critical (" + a.critical.text + ") is less strict than warning (" + a.warning.text +
              ") — the page must need at least the score that warns; e.g. warning: "
              "contamination, critical: contamination/2, or warning: 0.55, critical: 0.6");
    }
    if (const Entry* e = Get(f, "for")) GetDuration(*e, Join(path, "for"), 0, &a.for_ms);
    if (const Entry* e = Get(f, "smooth")) {
      if (GetDuration(*e, Join(path, "smooth"), 1000, &a.smooth_ms) &&
          a.smooth_ms < d->interval_ms) {
        Add(e->line, Join(path, "smooth"),
            "shorter than the detector's interval (" + FormatDurationMs(d->interval_ms) +
                "): most windows would hold no score — use at least the interval, e.g. "
                "smooth: 5m");
      }
    }
    if (const Entry* e = Get(f, "keep_firing_for")) {
      GetDuration(*e, Join(path, "keep_firing_for"), 0, &a.keep_firing_for_ms);
    }
    if (const Entry* e = Get(f, "eval_interval")) {
      GetDuration(*e, Join(path, "eval_interval"), 1000, &a.eval_interval_ms);
    }
    if (const Entry* e = Get(f, "record")) {
      std::string record;
      if (GetString(*e, Join(path, "record"), "record: job:anomaly_score:avg5m", &record)) {
        if (!IsMetricName(record)) {
          Add(e->line, Join(path, "record"),
              "'" + record +
                  "' is not a Prometheus metric name ([a-zA-Z_:][a-zA-Z0-9_:]*) — e.g. record: "
                  "job:anomaly_score:avg5m");
        } else {
          a.record = record;
        }
      }
    }
    if (const Entry* e = Get(f, "stale_after")) {
      GetDuration(*e, Join(path, "stale_after"), 1000, &a.stale_after_ms);
    }
    if (const Entry* e = Get(f, "max_model_age")) {
      GetDuration(*e, Join(path, "max_model_age"), kHourMs, &a.max_model_age_ms);
    }
    if (const Entry* e = Get(f, "drift")) CheckDrift(*e, Join(path, "drift"), &a.drift);
  }

  void CheckDrift(const Entry& section, const std::string& path, DriftConfig* drift) {
    if (section.value.IsNull()) return;
    if (!IsMapping(section, path, "drift: {min_rate: 0.005, for: 30m}")) return;
    const std::vector<Entry> f = Fields(section.value, path, kDriftSection);
    if (const Entry* e = Get(f, "min_rate")) {
      double v = drift->min_rate;
      if (GetNumber(*e, Join(path, "min_rate"), 0, 1, false, "min_rate: 0.005", &v)) {
        if (v >= 1) {
          Add(e->line, Join(path, "min_rate"),
              "1 would alert always (the rate is never above 1) — use a small share, e.g. "
              "min_rate: 0.005");
        } else {
          drift->min_rate = v;
        }
      }
    }
    if (const Entry* e = Get(f, "for")) GetDuration(*e, Join(path, "for"), 0, &drift->for_ms);
    if (const Entry* e = Get(f, "peak_hours")) {
      std::string text;
      if (GetString(*e, Join(path, "peak_hours"), "peak_hours: \"Mon-Fri 09:00-18:00\"", &text)) {
        auto windows = ParseDeployWindows(text);
        if (!windows.ok()) {
          Add(e->line, Join(path, "peak_hours"), windows.status().message());
        } else if (windows->empty()) {
          Add(e->line, Join(path, "peak_hours"),
              "no window given — e.g. peak_hours: \"Mon-Fri 09:00-18:00\" (weekly, UTC)");
        } else {
          drift->peak_hours = std::move(windows).value();
          drift->peak_hours_text = text;
        }
      }
    }
  }

  void CheckModel(const Entry& section, const std::string& path, DetectorConfig* d) {
    if (!IsMapping(section, path, "model: {n_estimators: 200, contamination: 0.02}")) return;
    const std::vector<Entry> f = Fields(section.value, path, kModelSection);
    IForestParams& p = d->params;
    if (const Entry* e = Get(f, "n_estimators")) {
      int64_t v = p.n_estimators;
      if (GetInt(*e, Join(path, "n_estimators"), 1, kMaxEstimators, "n_estimators: 200", &v)) {
        p.n_estimators = static_cast<int32_t>(v);
      }
    }
    const std::string contamination_hint =
        "set the expected share of anomalies explicitly, e.g. contamination: 0.02";
    if (const Entry* e = Get(f, "contamination")) {
      std::string text;
      if (e->value.IsNull()) {
        Add(e->line, Join(path, "contamination"), "empty — " + contamination_hint);
      } else if (GetString(*e, Join(path, "contamination"), "contamination: 0.02", &text)) {
        auto c = ParseContamination(text);
        if (c.ok()) {
          p.contamination = *c;
        } else {
          Add(e->line, Join(path, "contamination"),
              "'" + text +
                  "' is not a share of anomalies — use a number in (0, 0.5] such as "
                  "contamination: 0.02, or auto (threshold 0.5)");
        }
      }
    } else {
      Add(section.line, Join(path, "contamination"), "missing — " + contamination_hint);
    }
    if (const Entry* e = Get(f, "random_state")) {
      int64_t v = p.random_state;
      if (GetInt(*e, Join(path, "random_state"), 0, 4294967295LL, "random_state: 42", &v)) {
        p.random_state = static_cast<uint32_t>(v);
      }
    }
    if (const Entry* e = Get(f, "max_samples")) {
      std::string text;
      if (GetString(*e, Join(path, "max_samples"), "max_samples: auto", &text)) {
        auto v = ParseMaxSamples(text);
        if (v.ok()) {
          p.max_samples = *v;
        } else {
          Add(e->line, Join(path, "max_samples"),
              "'" + text +
                  "' is not valid — use auto (min(256, rows)), a row count like 256, or a "
                  "fraction in (0, 1] like 0.5");
        }
      }
    }
    if (const Entry* e = Get(f, "max_features")) {
      std::string text;
      if (GetString(*e, Join(path, "max_features"), "max_features: 1.0", &text)) {
        auto v = ParseMaxFeatures(text);
        if (!v.ok()) {
          Add(e->line, Join(path, "max_features"),
              "'" + text +
                  "' is not valid — use a column count like 3, or a fraction in (0, 1] like 0.6 "
                  "or 1.0");
        } else if (v->kind == MaxFeatures::Kind::kCount &&
                   v->count > static_cast<int64_t>(d->spec.width()) && d->spec.width() > 0) {
          Add(e->line, Join(path, "max_features"),
              std::to_string(v->count) + " is more than the " + std::to_string(d->spec.width()) +
                  " features of this detector — use at most " + std::to_string(d->spec.width()) +
                  ", or a fraction like 1.0");
        } else {
          p.max_features = *v;
        }
      }
    }
    if (const Entry* e = Get(f, "bootstrap")) GetBool(*e, Join(path, "bootstrap"), &p.bootstrap);
    if (const Entry* e = Get(f, "scaler")) {
      std::string text;
      if (GetString(*e, Join(path, "scaler"), "scaler: standard", &text)) {
        if (text == "standard") {
          d->scaler = Scaler::Kind::kStandard;
        } else if (text == "none") {
          d->scaler = Scaler::Kind::kNone;
        } else {
          Add(e->line, Join(path, "scaler"),
              "'" + text + "' is not a scaler — use standard (sklearn StandardScaler) or none");
        }
      }
    }
  }

  std::string_view text_;
  std::optional<std::string> base_dir_;
  static constexpr size_t kMaxProblems = 1000;
  std::vector<ConfigProblem> problems_;
  size_t dropped_ = 0;
};

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

}  // namespace

AlertThreshold AlertsConfig::DefaultWarning() {
  return std::move(ParseAlertThreshold("contamination")).value();
}
AlertThreshold AlertsConfig::DefaultCritical() {
  return std::move(ParseAlertThreshold("contamination/2")).value();
}

std::string AlertsConfig::DefaultRecord(TimeMs smooth_ms) {
  return "job:anomaly_score:avg" + FormatDurationMs(smooth_ms);
}

std::string AlertsConfig::RecordName() const {
  return record.empty() ? DefaultRecord(smooth_ms) : record;
}

std::vector<WeeklyWindow> DriftConfig::DefaultPeakHours() {
  auto windows = ParseDeployWindows("Mon-Fri 09:00-18:00");
  return windows.ok() ? std::move(windows).value() : std::vector<WeeklyWindow>{};
}

const DetectorConfig* Config::Find(const std::string& name) const {
  for (const DetectorConfig& d : detectors) {
    if (d.name == name) return &d;
  }
  return nullptr;
}

std::vector<std::string> AlertSampleWarnings(const DetectorConfig& d) {
  std::vector<std::string> out;
  const TimeMs every = std::max(d.step_ms, d.interval_ms);
  if (every <= 0) return out;
  for (const auto& [key, ms] : {std::pair<const char*, TimeMs>{"smooth", d.alerts.smooth_ms},
                                std::pair<const char*, TimeMs>{"for", d.alerts.for_ms}}) {
    if (ms < 3 * every) {
      out.push_back(d.name + ": alerts." + key + " " + FormatDurationMs(ms) +
                    " holds fewer than 3 scores at one per " + FormatDurationMs(every) +
                    ": a single outlier pages; use at least " + FormatDurationMs(3 * every));
    }
  }
  return out;
}

std::vector<ConfigProblem> CheckConfigText(std::string_view yaml_text, const std::string& file_name,
                                           Config* out) {
  const size_t slash = file_name.rfind('/');
  std::optional<std::string> base_dir;
  if (slash != std::string::npos) base_dir = file_name.substr(0, slash);  // "" for "/x.yml"

  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml_text));
  } catch (const YAML::ParserException& e) {
    const int line = e.mark.is_null() ? 1 : e.mark.line + 1;
    return {{line, "YAML syntax error at column " + std::to_string(e.mark.column + 1) + ": " +
                       e.msg + SyntaxHint(yaml_text, e.mark.line)}};
  } catch (const YAML::Exception& e) {
    return {{1, std::string("YAML error: ") + e.what()}};
  }
  Checker checker(yaml_text, base_dir);
  Config config;
  try {
    checker.CheckRoot(root, &config);
  } catch (const YAML::Exception& e) {  // not expected: every access above is type-checked
    checker.Add(e.mark.is_null() ? 1 : e.mark.line + 1, "", std::string("YAML error: ") + e.msg);
  }
  std::vector<ConfigProblem> problems = checker.TakeProblems();
  if (problems.empty() && out != nullptr) *out = std::move(config);
  return problems;
}

Result<Config> LoadConfig(const std::string& path) {
  auto text = ReadSmallFile(path, kMaxConfigFileBytes);
  if (!text.ok()) return text.status();
  Config config;
  const std::vector<ConfigProblem> problems = CheckConfigText(*text, path, &config);
  if (problems.empty()) return config;
  std::string message;
  for (const ConfigProblem& p : problems) {
    message +=
        (message.empty() ? "" : "\n") + path + ":" + std::to_string(p.line) + ": " + p.message;
  }
  return Status(ErrorCode::kInvalidArgument, message);
}

}  // namespace isoscope::native
