#pragma once

// std::sort's result for a vector of doubles, in linear time: FinishModel sorts every training
// score (129,600 on the origin data), where std::sort was most of the work after the scoring.

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <utility>
#include <vector>

namespace isoscope::detail {

/// Sorts `v` ascending into the very bits std::sort gives. Without NaN and zeros, distinct
/// values have distinct bits and equal values equal bits, so every correct sort gives the same
/// array: here an LSD radix sort of the bits, mapped so that unsigned order is value order, in
/// six passes of 11 bits, skipping a pass whose digit every value shares (training scores share
/// their sign and most of their exponent). NaN has no place in value order, and std::sort may
/// put -0 and +0 either way round: with either present, or few values, this is std::sort.
inline void SortDoubles(std::vector<double>& v) {
  constexpr size_t kBits = 11, kPasses = 6, kBuckets = size_t{1} << kBits;
  const size_t n = v.size();
  if (n < 2 * kBuckets) {
    std::sort(v.begin(), v.end());
    return;
  }
  constexpr uint64_t kSign = uint64_t{1} << 63;
  std::vector<uint64_t> keys(n), spare(n);
  std::vector<size_t> count(kPasses * kBuckets, 0);
  for (size_t i = 0; i < n; ++i) {
    if (!(v[i] < 0.0 || v[i] > 0.0)) {  // NaN or a zero
      std::sort(v.begin(), v.end());
      return;
    }
    uint64_t bits;
    std::memcpy(&bits, &v[i], sizeof bits);
    keys[i] = (bits & kSign) ? ~bits : bits | kSign;  // negatives reversed, below positives
    for (size_t p = 0; p < kPasses; ++p)
      ++count[p * kBuckets + ((keys[i] >> (p * kBits)) & (kBuckets - 1))];
  }
  for (size_t p = 0; p < kPasses; ++p) {
    size_t* const c = &count[p * kBuckets];
    if (std::find(c, c + kBuckets, n) != c + kBuckets) continue;  // one digit for all
    size_t at = 0;
    for (size_t d = 0; d < kBuckets; ++d) at += std::exchange(c[d], at);
    for (size_t i = 0; i < n; ++i) spare[c[(keys[i] >> (p * kBits)) & (kBuckets - 1)]++] = keys[i];
    keys.swap(spare);
  }
  for (size_t i = 0; i < n; ++i) {
    const uint64_t bits = (keys[i] & kSign) ? keys[i] & ~kSign : ~keys[i];
    std::memcpy(&v[i], &bits, sizeof bits);
  }
}

}  // namespace isoscope::detail
