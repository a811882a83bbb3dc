#pragma once

#include <string>
#include <utility>
#include <variant>

namespace isoscope {

/// The one error vocabulary at the core boundary. Callers map codes to exit codes, HTTP
/// statuses and JS objects; no exception ever leaves the core.
enum class ErrorCode {
  kOk = 0,
  kInvalidArgument,     ///< a parameter is out of range or inconsistent
  kBadInput,            ///< data cannot be used (too few rows, non-finite values, ...)
  kTruncated,           ///< a bundle ends early
  kCorrupt,             ///< checksum mismatch or malformed structure
  kForeign,             ///< not an isoscope bundle at all
  kUnsupportedVersion,  ///< a bundle of a newer (or unknown) major format version
  kCanaryMismatch,      ///< the model no longer reproduces its own canary scores
  kInternal,
  kNotFound,     ///< a named thing (detector, group, version) does not exist
  kUnavailable,  ///< not there yet (no model loaded); the same request may work later
};

/// Stable, lower-case name of a code, used in logs, metrics labels and JSON.
const char* ErrorCodeName(ErrorCode code);

/// A code plus a message that says what was wrong and, where possible, what to do.
class Status {
 public:
  Status() = default;
  Status(ErrorCode code, std::string message) : code_(code), message_(std::move(message)) {}
  static Status Ok() { return Status(); }

  bool ok() const { return code_ == ErrorCode::kOk; }
  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }
  /// "code: message", for logs.
  std::string ToString() const;

 private:
  ErrorCode code_ = ErrorCode::kOk;
  std::string message_;
};

/// A value or the Status that explains why there is none.
template <typename T>
class Result {
 public:
  Result(T value) : data_(std::move(value)) {}         // NOLINT: implicit by design
  Result(Status status) : data_(std::move(status)) {}  // NOLINT: implicit by design

  bool ok() const { return std::holds_alternative<T>(data_); }
  Status status() const { return ok() ? Status() : std::get<Status>(data_); }
  const T& value() const& { return std::get<T>(data_); }
  T& value() & { return std::get<T>(data_); }
  T&& value() && { return std::get<T>(std::move(data_)); }
  const T* operator->() const { return &value(); }
  T* operator->() { return &value(); }
  const T& operator*() const& { return value(); }
  T& operator*() & { return value(); }

 private:
  std::variant<T, Status> data_;
};

}  // namespace isoscope
