#include "file_io.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "isoscope/bundle.h"

namespace isoscope::native {
namespace {

// The fixed bundle header (core/BUNDLE_FORMAT.md): 26 bytes, the body length a big-endian
// uint32 at offset 22.
constexpr size_t kBundleHeaderBytes = 26;
constexpr size_t kBundleLengthOffset = 22;

Status IoError(const std::string& what, const std::string& path) {
  return Status(ErrorCode::kBadInput, what + " '" + path + "': " + std::strerror(errno));
}

std::string DirName(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) {
    return ".";
  }
  return slash == 0 ? "/" : path.substr(0, slash);
}

// Closes the descriptor on every path out.
struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

// Opens `path` for reading without ever blocking (O_NONBLOCK: a FIFO without a writer would
// wait forever) and refuses anything but a regular file; `size` receives its length.
Status OpenRegular(const std::string& path, bool no_follow, Fd* fd, size_t* size) {
  const int flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK | (no_follow ? O_NOFOLLOW : 0);
  fd->fd = ::open(path.c_str(), flags);
  if (fd->fd < 0) {
    if (errno == ELOOP && no_follow) {
      return Status(
          ErrorCode::kBadInput,
          "'" + path + "' is a symbolic link; refusing to follow it out of its directory");
    }
    return IoError("cannot open", path);
  }
  struct stat st {};
  if (::fstat(fd->fd, &st) != 0) return IoError("cannot stat", path);
  if (!S_ISREG(st.st_mode)) {
    return Status(ErrorCode::kBadInput,
                  "'" + path + "' is not a regular file (a device, FIFO, socket or directory)");
  }
  *size = static_cast<size_t>(st.st_size);
  return Status::Ok();
}

Status TooLarge(const std::string& path, size_t size, size_t max_bytes) {
  return Status(ErrorCode::kBadInput, "'" + path + "' is " + std::to_string(size) +
                                          " bytes, more than the " + std::to_string(max_bytes) +
                                          " allowed");
}

// Reads up to `limit` bytes from the current offset; stops early at end of file. The bytes go
// straight into `out`'s reserved room, one read for all of it when the caller reserved the
// file's size and a byte (a copy through a stack buffer cost `score` and `train` a pass over
// their CSV).
Status ReadUpTo(int fd, const std::string& path, size_t limit, std::string* out) {
  constexpr size_t kStep = 1 << 16;
  while (out->size() < limit) {
    const size_t have = out->size();
    const size_t room = out->capacity() > have ? out->capacity() - have : kStep;
    const size_t want = std::min(room, limit - have);
    out->resize(have + want);
    const ssize_t n = ::read(fd, out->data() + have, want);
    out->resize(have + static_cast<size_t>(std::max<ssize_t>(n, 0)));
    if (n < 0) {
      if (errno == EINTR) continue;
      return IoError("cannot read", path);
    }
    if (n == 0) break;
  }
  return Status::Ok();
}

bool PidRuns(long pid) {
  return pid > 0 && (::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM);
}

}  // namespace

Result<std::string> ReadFile(const std::string& path, const ReadOptions& options) {
  Fd fd;
  size_t size = 0;
  if (Status s = OpenRegular(path, options.no_follow, &fd, &size); !s.ok()) return s;
  if (size > options.max_bytes) return TooLarge(path, size, options.max_bytes);
  std::string out;
  out.reserve(size + 1);  // the file and the byte that tells it grew, read without regrowing
  // One byte more than allowed tells a file that grew while read.
  if (Status s = ReadUpTo(fd.fd, path, options.max_bytes + 1, &out); !s.ok()) return s;
  if (out.size() > options.max_bytes) {
    return Status(
        ErrorCode::kBadInput,
        "'" + path + "' grew beyond " + std::to_string(options.max_bytes) + " bytes while read");
  }
  return out;
}

Result<std::string> ReadSmallFile(const std::string& path, size_t max_bytes) {
  return ReadFile(path, ReadOptions{max_bytes, false});
}

Result<std::string> ReadBundleFile(const std::string& path, bool no_follow) {
  Fd fd;
  size_t size = 0;
  if (Status s = OpenRegular(path, no_follow, &fd, &size); !s.ok()) return s;
  std::string bytes;
  if (Status s = ReadUpTo(fd.fd, path, kBundleHeaderBytes, &bytes); !s.ok()) return s;
  // The header alone: the decoder checks magic, markers, version and the length limit, and
  // says "truncated" for a good header (the body is not there yet).
  auto header = DecodeBundle(bytes.data(), bytes.size(), DecodeOptions{false});
  if (header.ok() || header.status().code() != ErrorCode::kTruncated ||
      bytes.size() < kBundleHeaderBytes) {
    if (header.ok()) return Status(ErrorCode::kCorrupt, path + ": bundle without a body");
    return Status(header.status().code(), path + ": " + header.status().message());
  }
  size_t body = 0;
  for (size_t i = 0; i < 4; ++i) {
    body = (body << 8) | static_cast<uint8_t>(bytes[kBundleLengthOffset + i]);
  }
  const size_t expected = kBundleHeaderBytes + body;
  // Worded as DecodeBundle words it; the bytes in between are never read.
  if (size < expected) {
    return Status(ErrorCode::kTruncated, path + ": bundle is truncated: " + std::to_string(size) +
                                             " bytes, but its header says " +
                                             std::to_string(expected) +
                                             " (was the copy or the write interrupted?)");
  }
  if (size > expected) {
    return Status(ErrorCode::kCorrupt,
                  path + ": bundle is corrupt: " + std::to_string(size - expected) +
                      " unexpected bytes after the end of the bundle");
  }
  bytes.reserve(expected + 1);
  if (Status s = ReadUpTo(fd.fd, path, expected + 1, &bytes); !s.ok()) return s;
  if (bytes.size() != expected) {
    return Status(ErrorCode::kTruncated, path + " changed size while read");
  }
  return bytes;
}

Status WriteFileAtomic(const std::string& path, std::string_view bytes) {
  return WriteFileAtomic(path, std::vector<std::string_view>{bytes});
}

AtomicFileWriter::~AtomicFileWriter() { Abandon(); }

void AtomicFileWriter::Abandon() {
  if (fd_ >= 0) ::close(fd_);
  if (fd_ >= 0 && !tmp_.empty()) ::unlink(tmp_.c_str());
  fd_ = -1;
}

Status AtomicFileWriter::Open(const std::string& path) {
  Abandon();
  path_ = path;
  written_ = 0;
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
    // A device or a pipe (/dev/null, /dev/stdout, a FIFO) is written in place: a temp file
    // renamed over it would replace it with a plain file.
    tmp_.clear();
    fd_ = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    return fd_ >= 0 ? Status::Ok() : IoError("cannot open", path);
  }
  tmp_ = path + ".tmp." + std::to_string(::getpid());
  fd_ = ::open(tmp_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  return fd_ >= 0 ? Status::Ok() : IoError("cannot create", tmp_);
}

Status AtomicFileWriter::Append(std::string_view bytes) {
  if (fd_ < 0) return Status(ErrorCode::kInternal, "a write to a file that is not open");
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd_, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      Status s = IoError("cannot write", tmp_.empty() ? path_ : tmp_);
      Abandon();
      return s;
    }
    done += static_cast<size_t>(n);
  }
  if (!tmp_.empty()) {
    // The disk starts on these bytes now, while the caller makes the next ones, so that
    // Commit's fsync waits for the last few instead of all of them. A hint: errors show there.
    ::sync_file_range(fd_, static_cast<off_t>(written_), static_cast<off_t>(bytes.size()),
                      SYNC_FILE_RANGE_WRITE);
  }
  written_ += bytes.size();
  return Status::Ok();
}

Status AtomicFileWriter::Commit() {
  if (fd_ < 0) return Status(ErrorCode::kInternal, "a commit of a file that is not open");
  if (tmp_.empty()) {  // in place
    const int fd = std::exchange(fd_, -1);
    return ::close(fd) == 0 ? Status::Ok() : IoError("cannot close", path_);
  }
  if (::fsync(fd_) != 0) {
    Status s = IoError("cannot flush", tmp_);
    Abandon();
    return s;
  }
  const int fd = std::exchange(fd_, -1);
  if (::close(fd) != 0) {
    Status s = IoError("cannot close", tmp_);
    ::unlink(tmp_.c_str());
    return s;
  }
  if (::rename(tmp_.c_str(), path_.c_str()) != 0) {
    Status s = IoError("cannot move into place", path_);
    ::unlink(tmp_.c_str());
    return s;
  }
  const int dir = ::open(DirName(path_).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    ::fsync(dir);  // best effort: makes the rename itself durable
    ::close(dir);
  }
  return Status::Ok();
}

Status WriteFileAtomic(const std::string& path, const std::vector<std::string_view>& pieces) {
  AtomicFileWriter file;
  if (Status s = file.Open(path); !s.ok()) return s;
  for (std::string_view piece : pieces) {
    if (Status s = file.Append(piece); !s.ok()) return s;
  }
  return file.Commit();
}

std::string EscapeBytes(const std::string& text) {
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out += ch;
    } else {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

bool IsValidUtf8(const std::string& text) {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  for (size_t i = 0; i < n;) {
    const unsigned c = p[i];
    size_t len = 0;
    unsigned min = 0;
    unsigned cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xe0) == 0xc0) {
      len = 2, min = 0x80, cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      len = 3, min = 0x800, cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      len = 4, min = 0x10000, cp = c & 0x07;
    } else {
      return false;
    }
    if (i + len > n) return false;
    for (size_t k = 1; k < len; ++k) {
      if ((p[i + k] & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (p[i + k] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    i += len;
  }
  return true;
}

int RemoveOrphanTemps(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return 0;
  int removed = 0;
  while (dirent* e = ::readdir(d)) {
    const std::string name = e->d_name;
    const size_t tag = name.rfind(".tmp.");
    if (tag == std::string::npos || tag + 5 >= name.size()) continue;
    const std::string pid_text = name.substr(tag + 5);
    if (pid_text.find_first_not_of("0123456789") != std::string::npos || pid_text.size() > 9) {
      continue;
    }
    // A writer that still runs (this process included) may be about to rename its file.
    const long pid = std::stol(pid_text);
    if (pid == ::getpid() || PidRuns(pid)) continue;
    if (::unlinkat(::dirfd(d), name.c_str(), 0) == 0) ++removed;
  }
  ::closedir(d);
  return removed;
}

}  // namespace isoscope::native
