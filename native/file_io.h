#pragma once

#include <string>
#include <string_view>

#include "isoscope/status.h"

namespace isoscope::native {

/// Reads a whole file; the error says which file and why (errno text).
Result<std::string> ReadFile(const std::string& path);

/// Reads a regular file of at most `max_bytes` (secrets, small configs): a device, a FIFO or
/// a larger file is refused instead of hanging or exhausting memory.
Result<std::string> ReadSmallFile(const std::string& path, size_t max_bytes);

/// Writes `bytes` so that `path` is either the old file or the complete new one, never a
/// half file: temp file in the same directory, fsync, rename, fsync of the directory.
Status WriteFileAtomic(const std::string& path, std::string_view bytes);

}  // namespace isoscope::native
