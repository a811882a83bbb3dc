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

char* WriteShortest(char* out, double v) {
  if (std::isnan(v)) return std::copy_n("nan", 3, out);
  if (std::isinf(v)) return v > 0 ? std::copy_n("inf", 3, out) : std::copy_n("-inf", 4, out);
  char* const end = std::to_chars(out, out + kShortestMaxChars, v).ptr;
  // Only an integral value can print without a point or an exponent: a value with a fraction
  // is below 2^52, where no integer lies within half an ulp of it.
  if (v == std::trunc(v) &&
      std::find_if(out, end, [](char c) { return c == '.' || c == 'e'; }) == end) {
    return std::copy_n(".0", 2, end);
  }
  return end;
}

void AppendShortest(std::string& out, double v) {
  char buf[kShortestMaxChars];
  out.append(buf, WriteShortest(buf, v));
}

}  // namespace isoscope
