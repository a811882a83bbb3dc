#pragma once

#include <string>

namespace isoscope {

/// The shortest decimal that reads back as exactly `v` (like Python's repr), with ".0" added
/// to integral values so that it still reads as a float. "nan", "inf" and "-inf" otherwise.
std::string FormatShortest(double v);
/// Appends FormatShortest(v) to `out` without a temporary string (the CLI writes millions).
void AppendShortest(std::string& out, double v);

}  // namespace isoscope
