#pragma once

// Sharding: N replicas of `isoscope serve` split each detector's groups between them by a
// stable hash of the group's label set, so that together they score every group exactly once
// without talking to each other (docs/kubernetes.md, "Sharding").
//
// The hash (part of the product: changing it moves groups between replicas):
//   the labels of the group's anomaly_score series without `shard` -- `detector` and the
//   detector's group_by labels, an absent label counted as "" -- sorted by name (bytewise),
//   each written as name "=" value, joined by the byte 0xFF (never in UTF-8, so the encoding
//   is unambiguous); FNV-1a 64 over those bytes (offset basis 0xcbf29ce484222325, prime
//   0x100000001b3); the group belongs to shard  hash mod N.
// tools/shard_hash.py is an independent implementation; tests/golden/shard/ holds its output.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "isoscope/status.h"

namespace isoscope::native {

/// This replica's part of the work: shard `index` of `count` (0 <= index < count).
struct Shard {
  int index = 0;
  int count = 1;
  bool configured = false;  ///< false: no --shard and no `shard:`; every group is scored

  /// "I/N", the value of the `shard` label.
  std::string Label() const;
  /// True when the group whose label set hashes to `hash` is this replica's.
  bool Owns(uint64_t hash) const { return hash % static_cast<uint64_t>(count) == uint64_t(index); }
  /// True when this pod of a training Job (`train --shard`) trains a detector's pooled model:
  /// one fit over every group's rows cannot be split by group, so shard 0 (or an unsharded
  /// run) trains it and the other shards have nothing to do.
  bool TrainsPooledModel() const { return !configured || index == 0; }
};

/// The most replicas a detector can be split over.
constexpr int kMaxShards = 1024;

/// Parses "I/N" (e.g. "0/3"): whole numbers, 1 <= N <= kMaxShards, 0 <= I < N. The error says
/// what was wrong and gives an example.
Result<Shard> ParseShard(std::string_view text);

/// FNV-1a 64 of raw bytes (the hash's building block, exposed for the tests).
uint64_t Fnv1a64(std::string_view bytes);

/// The group hash of a label set (the spec is at the top of this file).
uint64_t GroupHash(const std::map<std::string, std::string>& labels);

}  // namespace isoscope::native
