#pragma once

// The forest walk on 16 lanes (AVX-512), chosen at run time by ForestScorer::Compile when the
// CPU has it. Same nodes, same decisions, each row's trees added in tree order: the same bits as
// the scalar walk (tests/core/forest_scorer_test.cc compares the two on every row).

#include <cstddef>
#include <cstdint>

namespace isoscope::detail {

/// The scoring layout as the wide walk reads it (ForestScorer's arrays, borrowed).
struct ForestView {
  const void* nodes;  // 8-byte nodes: float threshold, then uint32 (left child << 8 | column)
  const double* leaf_value;
  const uint32_t* tree_start;
  const uint32_t* tree_depth;
  size_t n_trees;
  size_t n_features;
  size_t n_nodes;
};

/// True when this CPU runs the wide walk (x86-64 with AVX-512F; never in WebAssembly).
bool WideWalkAvailable();

/// One row: 16 trees per step, the row's columns permuted into lanes. n_features <= 16.
double WidePathSum(const ForestView& f, const float* row);

/// `n` row-major rows (n a multiple of kWideBlockRows): rows in lanes, trees in order.
constexpr size_t kWideBlockRows = 64;
void WidePathSums(const ForestView& f, const float* rows, size_t n, double* out);

}  // namespace isoscope::detail
