#pragma once

// Structured log lines for the daemon, logfmt style, one line per event:
//   ts=2026-01-01T00:00:00.000Z level=info msg="model loaded" detector=checkout version=...

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "isoscope/features.h"

namespace isoscope::native {

using LogFields = std::vector<std::pair<std::string, std::string>>;

/// One logfmt line without the trailing newline. Values with spaces, quotes, '=' or nothing in
/// them are quoted (with \" and \\ escaped; newlines become \n).
std::string FormatLogLine(TimeMs ts, const std::string& level, const std::string& msg,
                          const LogFields& fields);

/// Where log events go: tests capture them, the daemon writes them to stderr.
class Logger {
 public:
  using Sink = std::function<void(const std::string& level, const std::string& msg,
                                  const LogFields& fields)>;
  /// Writes to stderr with the system clock's time.
  Logger();
  explicit Logger(Sink sink) : sink_(std::move(sink)) {}

  void Info(const std::string& msg, const LogFields& fields = {}) const {
    sink_("info", msg, fields);
  }
  void Warn(const std::string& msg, const LogFields& fields = {}) const {
    sink_("warn", msg, fields);
  }
  void Error(const std::string& msg, const LogFields& fields = {}) const {
    sink_("error", msg, fields);
  }

 private:
  Sink sink_;
};

}  // namespace isoscope::native
