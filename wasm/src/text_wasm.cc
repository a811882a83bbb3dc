// FormatShortest for the WebAssembly build. Emscripten 3.1.6's libc++ (LLVM 14) has no
// floating-point std::to_chars, which core/src/text.cc uses, so this file replaces it there.
// Same contract (the shortest decimal that reads back as exactly v); the spelling can differ
// from to_chars in exponent form ("1e+05" instead of "100000.0"). The core uses it only in
// messages and labels, never in anything that is scored, hashed or stored.
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "isoscope/text.h"

namespace isoscope {

std::string FormatShortest(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[64];
  for (int precision = 1; precision <= 17; ++precision) {
    std::snprintf(buf, sizeof buf, "%.*g", precision, v);
    if (std::strtod(buf, nullptr) == v) break;
  }
  std::string s(buf);
  if (s.find_first_of(".e") == std::string::npos) s += ".0";
  return s;
}

}  // namespace isoscope
