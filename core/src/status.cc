#include "isoscope/status.h"

namespace isoscope {

const char* ErrorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::kOk:
      return "ok";
    case ErrorCode::kInvalidArgument:
      return "invalid_argument";
    case ErrorCode::kBadInput:
      return "bad_input";
    case ErrorCode::kTruncated:
      return "truncated";
    case ErrorCode::kCorrupt:
      return "corrupt";
    case ErrorCode::kForeign:
      return "foreign";
    case ErrorCode::kUnsupportedVersion:
      return "unsupported_version";
    case ErrorCode::kCanaryMismatch:
      return "canary_mismatch";
    case ErrorCode::kInternal:
      return "internal";
    case ErrorCode::kNotFound:
      return "not_found";
    case ErrorCode::kUnavailable:
      return "unavailable";
  }
  return "unknown";
}

std::string Status::ToString() const {
  if (ok()) {
    return "ok";
  }
  return std::string(ErrorCodeName(code_)) + ": " + message_;
}

}  // namespace isoscope
