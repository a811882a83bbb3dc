#include "isoscope/text.h"

#include <algorithm>
#include <charconv>
#include <cmath>

namespace isoscope {

std::string FormatShortest(double v) {
  std::string s;
  AppendShortest(s, v);
  return s;
}

void AppendShortest(std::string& out, double v) {
  if (std::isnan(v)) {
    out += "nan";
    return;
  }
  if (std::isinf(v)) {
    out += v > 0 ? "inf" : "-inf";
    return;
  }
  char buf[64];
  const auto res = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, res.ptr);
  if (std::find_if(buf, res.ptr, [](char c) { return c == '.' || c == 'e'; }) == res.ptr) {
    out += ".0";
  }
}

}  // namespace isoscope
