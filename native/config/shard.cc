#include "shard.h"

#include <charconv>

namespace isoscope::native {

std::string Shard::Label() const { return std::to_string(index) + "/" + std::to_string(count); }

Result<Shard> ParseShard(std::string_view text) {
  const std::string example = " — write I/N with 0 <= I < N, e.g. 0/3 for the first of 3 replicas";
  const size_t slash = text.find('/');
  auto number = [](std::string_view s, int* out) {
    if (s.empty() || s.size() > 6) return false;
    const auto r = std::from_chars(s.data(), s.data() + s.size(), *out);
    return r.ec == std::errc() && r.ptr == s.data() + s.size();
  };
  Shard shard;
  if (slash == std::string_view::npos || !number(text.substr(0, slash), &shard.index) ||
      !number(text.substr(slash + 1), &shard.count)) {
    return Status(ErrorCode::kInvalidArgument,
                  "shard '" + std::string(text) + "' is not I/N" + example);
  }
  if (shard.count < 1 || shard.count > kMaxShards) {
    return Status(ErrorCode::kInvalidArgument, "shard '" + std::string(text) +
                                                   "': N must be 1 to " +
                                                   std::to_string(kMaxShards) + example);
  }
  if (shard.index < 0 || shard.index >= shard.count) {
    return Status(
        ErrorCode::kInvalidArgument,
        "shard '" + std::string(text) + "': I must be 0 to N-1 (shards count from 0)" + example);
  }
  shard.configured = true;
  return shard;
}

uint64_t Fnv1a64(std::string_view bytes) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (const char c : bytes) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  return h;
}

uint64_t GroupHash(const std::map<std::string, std::string>& labels) {
  std::string bytes;  // std::map iterates its keys in bytewise order
  for (const auto& [name, value] : labels) {
    if (!bytes.empty()) bytes += '\xff';
    bytes += name;
    bytes += '=';
    bytes += value;
  }
  return Fnv1a64(bytes);
}

}  // namespace isoscope::native
