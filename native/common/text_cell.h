#pragma once

#include <cctype>
#include <string_view>

namespace isoscope::native {

/// A CSV cell or flag value without surrounding blanks and one pair of double quotes.
inline std::string_view TrimCell(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) {
    s.remove_prefix(1);
  }
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) {
    s.remove_suffix(1);
  }
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') {
    s = s.substr(1, s.size() - 2);
  }
  return s;
}

}  // namespace isoscope::native
