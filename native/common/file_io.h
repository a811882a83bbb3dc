#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "isoscope/status.h"

namespace isoscope::native {

/// The largest input file (CSV, recorded history) any command reads: the whole file is held
/// in memory, so a bigger one, or /dev/zero, is refused up front with a clear error.
constexpr size_t kMaxInputFileBytes = size_t{2} << 30;
/// The largest configuration file (serve --config, check-config).
constexpr size_t kMaxConfigFileBytes = size_t{16} << 20;

struct ReadOptions {
  size_t max_bytes = kMaxInputFileBytes;
  /// Refuse a symlink as the last path component (files inside a store directory, whose
  /// names must not lead out of it).
  bool no_follow = false;
};

/// Reads a regular file of at most `options.max_bytes`. The open never blocks (a FIFO without
/// a writer, a device) and anything but a regular file is refused: the error says which file
/// and why (errno text), with kBadInput.
Result<std::string> ReadFile(const std::string& path, const ReadOptions& options = {});

/// Reads a regular file of at most `max_bytes` (secrets, small configs): a device, a FIFO or
/// a larger file is refused instead of hanging or exhausting memory.
Result<std::string> ReadSmallFile(const std::string& path, size_t max_bytes);

/// Reads a bundle file without trusting its size: the fixed 26-byte header must carry the
/// bundle magic and give a body length that matches the file's size, all before the body is
/// read. kForeign / kTruncated / kCorrupt as DecodeBundle would, kBadInput for I/O.
Result<std::string> ReadBundleFile(const std::string& path, bool no_follow = false);

/// Writes `bytes` so that `path` is either the old file or the complete new one, never a
/// half file: temp file (`<path>.tmp.<pid>`) in the same directory, fsync, rename, fsync of
/// the directory. A path that names a device or a pipe (/dev/null, /dev/stdout) is written in
/// place instead: renaming over it would replace it with a plain file.
Status WriteFileAtomic(const std::string& path, std::string_view bytes);
/// The same for a file made of `pieces` in order (text formatted in parts on several threads
/// is written without first copying it into one string).
Status WriteFileAtomic(const std::string& path, const std::vector<std::string_view>& pieces);

/// WriteFileAtomic for a file made as it is written: Open, Append in order, Commit. Until
/// Commit, `path` is the old file (or none); a failed call, or the writer destroyed before
/// Commit, removes the temp file. Appended bytes go to the disk at once (sync_file_range), so
/// Commit's fsync waits for the last few. A device or a pipe is written in place.
class AtomicFileWriter {
 public:
  AtomicFileWriter() = default;
  AtomicFileWriter(const AtomicFileWriter&) = delete;
  AtomicFileWriter& operator=(const AtomicFileWriter&) = delete;
  ~AtomicFileWriter();

  Status Open(const std::string& path);
  Status Append(std::string_view bytes);
  Status Commit();

 private:
  void Abandon();
  std::string path_, tmp_;  ///< tmp_ empty: written in place
  int fd_ = -1;
  size_t written_ = 0;
};

/// `text` with every byte outside printable ASCII written as \xNN: file names and other
/// untrusted text fit in a log line, a JSON string or an error message whatever they hold.
std::string EscapeBytes(const std::string& text);

/// True if `text` is valid UTF-8 (no overlongs, no surrogates, nothing above U+10FFFF).
bool IsValidUtf8(const std::string& text);

/// Removes `<name>.tmp.<pid>` files in `dir` that a crashed writer (a pid that no longer
/// runs) left behind. Returns how many were removed; best effort.
int RemoveOrphanTemps(const std::string& dir);

}  // namespace isoscope::native
