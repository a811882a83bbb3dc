#include "detail/numpy_random.h"

#include <unordered_set>

namespace isoscope::detail {

std::vector<int64_t> SampleWithoutReplacement(int64_t n_pop, int64_t k, NumpyRandomState& rng,
                                              std::vector<uint8_t>& seen) {
  std::vector<int64_t> out;
  out.reserve(static_cast<size_t>(k));
  const double ratio = n_pop != 0 ? static_cast<double>(k) / static_cast<double>(n_pop) : 1.0;
  if (ratio > 0.01 && ratio < 0.99) {
    // rng.permutation(n_pop)[:k]: the legacy Fisher-Yates shuffle from the top.
    std::vector<int64_t> a(static_cast<size_t>(n_pop));
    for (int64_t i = 0; i < n_pop; ++i) {
      a[static_cast<size_t>(i)] = i;
    }
    for (int64_t i = n_pop - 1; i > 0; --i) {
      const int64_t j = rng.Interval(static_cast<uint32_t>(i));
      std::swap(a[static_cast<size_t>(i)], a[static_cast<size_t>(j)]);
    }
    out.assign(a.begin(), a.begin() + k);
    return out;
  }
  if (ratio < 0.2 && seen.size() < static_cast<size_t>(n_pop)) {
    // Tracking selection with a set of the k drawn values: the same draws as below, in memory
    // of the sample rather than of the population (a forest over a billion rows).
    std::unordered_set<int64_t> drawn;
    for (int64_t i = 0; i < k; ++i) {
      int64_t j = rng.RandInt(0, n_pop);
      while (drawn.count(j) != 0) {
        j = rng.RandInt(0, n_pop);
      }
      drawn.insert(j);
      out.push_back(j);
    }
    return out;
  }
  if (ratio < 0.2) {
    // Tracking selection: redraw until unseen.
    for (int64_t i = 0; i < k; ++i) {
      int64_t j = rng.RandInt(0, n_pop);
      while (seen[static_cast<size_t>(j)]) {
        j = rng.RandInt(0, n_pop);
      }
      seen[static_cast<size_t>(j)] = 1;
      out.push_back(j);
    }
    for (int64_t j : out) {
      seen[static_cast<size_t>(j)] = 0;
    }
    return out;
  }
  // Reservoir sampling; with k == n_pop it draws nothing and returns 0..k-1.
  for (int64_t i = 0; i < k; ++i) {
    out.push_back(i);
  }
  for (int64_t i = k; i < n_pop; ++i) {
    const int64_t j = rng.RandInt(0, i + 1);
    if (j < k) {
      out[static_cast<size_t>(j)] = i;
    }
  }
  return out;
}

}  // namespace isoscope::detail
