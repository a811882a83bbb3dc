#pragma once

#include <string_view>

namespace isoscope::native {

/// std::isspace in the "C" locale (the only one isoscope runs in), inline: the CSV reader asks
/// it of both ends of every cell, where a library call each time showed in the profile of
/// `isoscope score`.
inline bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

/// A CSV cell or flag value without surrounding blanks and one pair of double quotes.
inline std::string_view TrimCell(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) {
    s.remove_prefix(1);
  }
  while (!s.empty() && IsSpace(s.back())) {
    s.remove_suffix(1);
  }
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') {
    s = s.substr(1, s.size() - 2);
  }
  return s;
}

}  // namespace isoscope::native
