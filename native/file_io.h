#pragma once

#include <string>
#include <string_view>

#include "isoscope/status.h"

namespace isoscope::native {

/// Reads a whole file; the error says which file and why (errno text).
Result<std::string> ReadFile(const std::string& path);

/// Writes `bytes` so that `path` is either the old file or the complete new one, never a
/// half file: temp file in the same directory, fsync, rename, fsync of the directory.
Status WriteFileAtomic(const std::string& path, std::string_view bytes);

}  // namespace isoscope::native
