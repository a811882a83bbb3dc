#pragma once

// The forest walk on 16 lanes (AVX-512), and the one-row walk on 8 (AVX2) for x86-64 CPUs
// without AVX-512, chosen at run time by ForestScorer::Compile by what the CPU has. Same nodes,
// same decisions, each row's trees added in tree order: the same bits as the scalar walk
// (tests/core/forest_scorer_test.cc compares them all on every row).

#include <cstddef>
#include <cstdint>

namespace isoscope::detail {

/// The scoring layout as the wide walk reads it (ForestScorer's arrays, borrowed).
struct ForestView {
  const void* nodes;  // 8-byte nodes: float threshold, then uint32 (left child << 8 | column)
  const double* leaf_value;
  const uint32_t* tree_start;
  const uint32_t* tree_depth;
  const uint32_t* octet_depth;  // the deepest of each 8 trees (t / 8): one load, not eight
  size_t n_trees;
  size_t n_features;
  size_t n_nodes;
  // The one-row walk's first kTopLevels levels, per group of 16 trees: for each position of a
  // complete tree in heap order (0 root, 2h+1 and 2h+2 the children of h), the 16 trees'
  // thresholds, then their packed words (a leaf repeats at the positions below it; lanes past
  // the last tree hold a leaf that loops to node 0). Plain loads and blends replace the gathers
  // of those levels.
  const float* top_threshold;
  const uint32_t* top_packed;
};

/// Levels of each tree held in the top table (heap positions 0 to 2^kTopLevels - 2). The AVX2
/// walk reads all four; the AVX-512 one the first kWideTopLevels (its blends cost more there
/// than the gather they save).
constexpr size_t kTopLevels = 4;
constexpr size_t kWideTopLevels = 3;
constexpr size_t kTopPositions = (size_t{1} << kTopLevels) - 1;

/// True when this CPU runs the wide walk (x86-64 with AVX-512F; never in WebAssembly).
bool WideWalkAvailable();

/// One row: 16 trees per step, the row's columns permuted into lanes. n_features <= 16.
double WidePathSum(const ForestView& f, const float* row);

/// True when this CPU runs the 8-lane one-row walk (x86-64 with AVX2).
bool Avx2WalkAvailable();

/// One row on 8 lanes (AVX2): WidePathSum's walk, 8 trees a vector. n_features <= 16.
double Avx2PathSum(const ForestView& f, const float* row);

/// True when WidePathSums (16 rows a vector) scores a batch faster than WidePathSum row by row
/// (16 trees a vector) on this CPU: on Intel's AVX-512 CPUs, not on AMD's. Measured with
/// `isoscope_bench run` (200 trees, 5 columns): on an Intel Xeon 1.52-1.61 M rows/s against
/// 0.85 us a row; on a 2-vCPU AMD EPYC Zen 5, 1.20-1.36 against 1.35-1.68 M rows/s in
/// alternated runs. The batch walk reads each lane's value by masked loads or a gather, the
/// one-row walk by a permute of the row held in a register; AMD's gathers cost more.
bool WideBatchWalkPaysOff();

/// `n` row-major rows (n a multiple of kWideBlockRows): rows in lanes, trees in order.
constexpr size_t kWideBlockRows = 64;
void WidePathSums(const ForestView& f, const float* rows, size_t n, double* out);

}  // namespace isoscope::detail
