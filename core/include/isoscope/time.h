#pragma once

// Time in the core: int64 milliseconds since the Unix epoch (UTC), weekly windows, durations.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "isoscope/status.h"

namespace isoscope {

/// Times are int64 milliseconds since the Unix epoch, UTC, everywhere.
using TimeMs = int64_t;

constexpr TimeMs kMinuteMs = 60'000;
constexpr TimeMs kHourMs = 3'600'000;
constexpr TimeMs kDayMs = 86'400'000;
constexpr TimeMs kWeekMs = 7 * kDayMs;

/// Hour of the week, Monday 00:00 UTC = 0 (pandas dayofweek * 24 + hour).
int32_t HourOfWeek(TimeMs t);
/// Minute of the week, Monday 00:00 UTC = 0.
int32_t MinuteOfWeek(TimeMs t);

/// A weekly interval [start, end) in minutes from Monday 00:00 UTC; start < end <= 10080.
struct WeeklyWindow {
  int32_t start_minute = 0;
  int32_t end_minute = 0;
  bool operator==(const WeeklyWindow& o) const {
    return start_minute == o.start_minute && end_minute == o.end_minute;
  }
};

/// Weekdays 10:00-12:00 UTC, the origin pipeline's deploy windows.
std::vector<WeeklyWindow> DefaultDeployWindows();

/// Parses "Mon-Fri 10:00-12:00" (days: Mon..Sun, a single day or a range; several windows
/// separated by ';' or ','). A window that crosses midnight (22:00-02:00) is split in two.
Result<std::vector<WeeklyWindow>> ParseDeployWindows(std::string_view text);
std::string FormatDeployWindows(const std::vector<WeeklyWindow>& windows);

/// Durations: "250ms", "30s", "5m", "1h", "1d", "1w": a whole number of at most 9 digits and
/// a unit, the units of Prometheus but `y`. Positive unless `allow_zero` (alert settings such
/// as `for: 0s`); feature windows are never zero. The one duration grammar of isoscope: the
/// CLI, the config and feature names all read durations here.
Result<TimeMs> ParseDurationMs(std::string_view text, bool allow_zero = false);
/// The largest unit that divides `ms` exactly: 1w, 90d, 1h, 5m, 30s, 250ms.
std::string FormatDurationMs(TimeMs ms);

}  // namespace isoscope
