#pragma once

#include <cstddef>
#include <string>

namespace isoscope {

/// The shortest decimal that reads back as exactly `v` (like Python's repr), with ".0" added
/// to integral values so that it still reads as a float. "nan", "inf" and "-inf" otherwise.
std::string FormatShortest(double v);
/// Appends FormatShortest(v) to `out` without a temporary string (the CLI writes millions).
void AppendShortest(std::string& out, double v);

/// Room for any FormatShortest text: "-2.2250738585072014e-308" is 24 bytes, and the longest,
/// a negative integer of 22 digits (where the exponent form is no shorter) and ".0", is 25.
constexpr size_t kShortestMaxChars = 26;
/// Writes FormatShortest(v) at `out`, which has room for kShortestMaxChars bytes; returns the
/// end of what it wrote. For writers that fill a buffer of their own.
char* WriteShortest(char* out, double v);

}  // namespace isoscope
