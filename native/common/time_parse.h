#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "isoscope/features.h"

namespace isoscope::native {

/// Parses a timestamp cell: epoch seconds, epoch milliseconds (numbers of 1e11 and above are
/// taken as milliseconds: 1e11 s is the year 5138), or ISO 8601 / "YYYY-MM-DD HH:MM:SS" in UTC
/// (optional fraction, optional Z or +HH:MM offset). `zoneless`, when given, is set to whether
/// the text is a date or time written without a zone (no Z, no offset), which is read as UTC
/// but may have been local time: callers say so once. Epoch numbers are UTC by definition.
std::optional<TimeMs> ParseTime(std::string_view text, bool* zoneless = nullptr);

/// "2026-01-05T10:00:00Z" (with milliseconds only when they are not zero).
std::string FormatTime(TimeMs t);

/// Durations like "30s", "5m", "1h", "1d", "1w", "250ms".
std::optional<TimeMs> ParseDuration(std::string_view text);

}  // namespace isoscope::native
