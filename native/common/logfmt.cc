#include "logfmt.h"

#include <cstdio>
#include <mutex>

#include "clock.h"
#include "time_parse.h"

namespace isoscope::native {
namespace {

bool NeedsQuotes(const std::string& v) {
  if (v.empty()) return true;
  for (char c : v) {
    if (c == ' ' || c == '"' || c == '=' || c == '\\' || static_cast<unsigned char>(c) < 0x20) {
      return true;
    }
  }
  return false;
}

void AppendValue(std::string& out, const std::string& v) {
  if (!NeedsQuotes(v)) {
    out += v;
    return;
  }
  out += '"';
  for (char c : v) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        out += c;
    }
  }
  out += '"';
}

}  // namespace

std::string FormatLogLine(TimeMs ts, const std::string& level, const std::string& msg,
                          const LogFields& fields) {
  std::string out = "ts=" + FormatTime(ts) + " level=" + level + " msg=";
  AppendValue(out, msg);
  for (const auto& [k, v] : fields) {
    out += ' ';
    out += k;
    out += '=';
    AppendValue(out, v);
  }
  return out;
}

Logger::Logger()
    : sink_([](const std::string& level, const std::string& msg, const LogFields& fields) {
        static std::mutex mu;
        const std::string line = FormatLogLine(NowMs(), level, msg, fields) + "\n";
        std::lock_guard<std::mutex> lock(mu);
        std::fputs(line.c_str(), stderr);
        std::fflush(stderr);
      }) {}

}  // namespace isoscope::native
