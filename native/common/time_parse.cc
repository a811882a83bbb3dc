#include "time_parse.h"

#include "text_cell.h"

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>

namespace isoscope::native {
namespace {

// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
int64_t DaysFromCivil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2 ? 1 : 0;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

bool Digits(std::string_view s, size_t pos, size_t n, int64_t* out) {
  if (pos + n > s.size()) {
    return false;
  }
  int64_t v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) {
      return false;
    }
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

std::optional<TimeMs> ParseIso(std::string_view s, bool* zoneless) {
  int64_t y, mo, d, h = 0, mi = 0, sec = 0;
  if (!Digits(s, 0, 4, &y) || s.size() < 10 || s[4] != '-' || !Digits(s, 5, 2, &mo) ||
      s[7] != '-' || !Digits(s, 8, 2, &d)) {
    return std::nullopt;
  }
  if (mo < 1 || mo > 12 || d < 1 || d > 31) {
    return std::nullopt;
  }
  size_t pos = 10;
  int64_t ms = 0;
  if (pos < s.size() && (s[pos] == 'T' || s[pos] == ' ')) {
    if (!Digits(s, pos + 1, 2, &h) || pos + 3 >= s.size() || s[pos + 3] != ':' ||
        !Digits(s, pos + 4, 2, &mi)) {
      return std::nullopt;
    }
    pos += 6;
    if (pos < s.size() && s[pos] == ':') {
      if (!Digits(s, pos + 1, 2, &sec)) {
        return std::nullopt;
      }
      pos += 3;
      if (pos < s.size() && (s[pos] == '.' || s[pos] == ',')) {
        ++pos;
        int64_t scale = 100;
        while (pos < s.size() && std::isdigit(static_cast<unsigned char>(s[pos]))) {
          ms += (s[pos] - '0') * scale;
          scale /= 10;
          ++pos;
        }
      }
    }
    if (h > 24 || mi > 59 || sec > 60) {
      return std::nullopt;
    }
  }
  int64_t offset_min = 0;
  *zoneless = pos == s.size();
  if (pos < s.size()) {
    if (s[pos] == 'Z' || s[pos] == 'z') {
      ++pos;
    } else if (s[pos] == '+' || s[pos] == '-') {
      const int sign = s[pos] == '-' ? -1 : 1;
      int64_t oh, om = 0;
      if (!Digits(s, pos + 1, 2, &oh)) {
        return std::nullopt;
      }
      size_t q = pos + 3;
      if (q < s.size() && s[q] == ':') {
        ++q;
      }
      if (q < s.size()) {
        if (!Digits(s, q, 2, &om)) {
          return std::nullopt;
        }
        q += 2;
      }
      offset_min = sign * (oh * 60 + om);
      pos = q;
    }
  }
  if (pos != s.size()) {
    return std::nullopt;
  }
  const int64_t days = DaysFromCivil(y, mo, d);
  return ((days * 24 + h) * 60 + mi - offset_min) * 60000 + sec * 1000 + ms;
}

}  // namespace

std::optional<TimeMs> ParseTime(std::string_view text, bool* zoneless) {
  bool ignored = false;
  zoneless = zoneless ? zoneless : &ignored;
  *zoneless = false;
  text = TrimCell(text);
  if (text.empty()) {
    return std::nullopt;
  }
  if (text.size() >= 10 && text[4] == '-') {
    return ParseIso(text, zoneless);
  }
  double v = 0;
  auto res = std::from_chars(text.data(), text.data() + text.size(), v);
  if (res.ec != std::errc() || res.ptr != text.data() + text.size() || !std::isfinite(v)) {
    return std::nullopt;
  }
  if (std::fabs(v) >= 1e11) {
    return static_cast<TimeMs>(std::llround(v));
  }
  return static_cast<TimeMs>(std::llround(v * 1000.0));
}

std::string FormatTime(TimeMs t) {
  int64_t days = t / kDayMs;
  int64_t rem = t % kDayMs;
  if (rem < 0) {
    rem += kDayMs;
    --days;
  }
  // Inverse of DaysFromCivil.
  const int64_t z = days + 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int64_t d = doy - (153 * mp + 2) / 5 + 1;
  const int64_t m = mp < 10 ? mp + 3 : mp - 9;
  const int64_t y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  const int64_t h = rem / kHourMs, mi = rem / kMinuteMs % 60, s = rem / 1000 % 60, ms = rem % 1000;
  char buf[64];
  if (ms != 0) {
    std::snprintf(buf, sizeof buf, "%04lld-%02lld-%02lldT%02lld:%02lld:%02lld.%03lldZ",
                  static_cast<long long>(y), static_cast<long long>(m), static_cast<long long>(d),
                  static_cast<long long>(h), static_cast<long long>(mi), static_cast<long long>(s),
                  static_cast<long long>(ms));
  } else {
    std::snprintf(buf, sizeof buf, "%04lld-%02lld-%02lldT%02lld:%02lld:%02lldZ",
                  static_cast<long long>(y), static_cast<long long>(m), static_cast<long long>(d),
                  static_cast<long long>(h), static_cast<long long>(mi), static_cast<long long>(s));
  }
  return buf;
}

std::optional<TimeMs> ParseDuration(std::string_view text) {
  text = TrimCell(text);
  size_t i = 0;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
    ++i;
  }
  if (i == 0 || i > 12) {
    return std::nullopt;
  }
  int64_t n = 0;
  std::from_chars(text.data(), text.data() + i, n);
  const std::string_view unit = text.substr(i);
  if (unit == "ms") return n;
  if (unit == "s") return n * 1000;
  if (unit == "m") return n * kMinuteMs;
  if (unit == "h") return n * kHourMs;
  if (unit == "d") return n * kDayMs;
  if (unit == "w") return n * kWeekMs;
  return std::nullopt;
}

}  // namespace isoscope::native
