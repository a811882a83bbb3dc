// The validators of isoscope.yml: single values (config_validate.h) and the checks across
// fields and detectors (config.h).
#include "config_validate.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <utility>
#include <vector>

#include "config.h"
#include "listen_address.h"
#include "time_parse.h"
#include "yaml_check.h"

namespace isoscope::native {
namespace config_detail {

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

bool IsMetricName(std::string_view s) {
  if (s.empty()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (!(std::isalpha(c) || c == '_' || c == ':' || (i > 0 && std::isdigit(c)))) return false;
  }
  return true;
}

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

}  // namespace config_detail

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

}  // namespace isoscope::native
