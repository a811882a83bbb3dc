#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "isoscope/iforest.h"
#include "isoscope/status.h"

namespace isoscope {
namespace detail {
struct ForestView;
}

// Layout internal (detail/): model.h's ModelScorer holds one, so the header is installed with
// the public ones, but callers score through ModelScorer, never through this class.

/// A forest laid out for scoring speed: 8-byte nodes (float32 threshold; left child index in
/// the whole forest << 8 | column), right child = left child + 1, leaves that loop to themselves so
/// every walk is a fixed number of branch-free steps, and each leaf's `depth + c(n) - 1`
/// precomputed. Splits of 2-row nodes are dropped: their children score exactly what the node
/// itself would.
class ForestScorer {
 public:
  /// kFastest walks 16 trees per instruction where the CPU has AVX-512 (a batch 16 rows per
  /// instruction where that is faster, else row by row: detail::WideBatchWalkPaysOff), and 8
  /// trees per instruction where it has AVX2 only (a batch row by row), with the same bits;
  /// kScalar is the portable walk; kAvx2 takes the AVX2 walk even on an AVX-512 CPU;
  /// kWideBatch is kFastest with the 16-rows batch walk on any AVX-512 CPU (tests compare them
  /// all).
  enum class Walk { kFastest, kScalar, kAvx2, kWideBatch };
  static Result<ForestScorer> Compile(const Forest& forest, Walk walk = Walk::kFastest);

  /// Sum over trees (in tree order, as sklearn adds them) of each tree's path length for one
  /// row of float32 values, n_features wide, in the forest's column order.
  double PathSum(const float* row) const;
  /// PathSum for `n` row-major rows; out has n entries.
  void PathSums(const float* rows, size_t n, double* out) const;
  /// The anomaly score s(x) = 2^(-E[h]/c(psi)) in (0, 1]; sklearn's -score_samples.
  double AnomalyScore(double path_sum) const;

  size_t n_features() const { return n_features_; }
  size_t node_count() const { return nodes_.size(); }
  /// True when this scorer uses the AVX-512 walk.
  bool wide() const { return wide_; }
  /// True when it scores batches with the AVX-512 walk of 16 rows per instruction (always
  /// above 16 columns, which the one-row walks do not take).
  bool wide_batch() const { return wide_batch_; }
  /// True when this scorer walks one row with AVX2 (8 trees a step).
  bool avx2() const { return avx2_; }

 private:
  struct Node {
    float threshold;  // largest float32 <= sklearn's float64 threshold: same decisions
    uint32_t packed;  // (left child, forest-wide index) << kColumnBits | column
  };
  static_assert(sizeof(Node) == 8, "nodes must stay 8 bytes");
  // Constant field widths keep the walk to a shift and a mask: up to 256 columns and
  // 16.7 million nodes per forest.
  static constexpr uint32_t kColumnBits = 8;
  static constexpr uint32_t kColumnMask = (1u << kColumnBits) - 1;
  static constexpr uint64_t kMaxNodes = uint64_t{1} << (32 - kColumnBits);

  detail::ForestView View() const;
  void BuildTopTable();
  uint32_t NodeAtHeapPosition(size_t tree, size_t position) const;
  template <int kTrees>
  void WalkGroup(const float* row, size_t first_tree, double& sum) const;
  template <size_t kRows>
  void WalkBlock(const float* block, double* out) const;

  std::vector<Node> nodes_;
  std::vector<double> leaf_value_;    // indexed like nodes_
  std::vector<uint32_t> tree_start_;  // root index of each tree
  std::vector<uint32_t> tree_depth_;
  std::vector<uint32_t> octet_depth_;  // ForestView::octet_depth
  // ForestView's top table (the wide walks only): thresholds and packed words, 16 lanes a row.
  std::vector<float> top_threshold_;
  std::vector<uint32_t> top_packed_;
  size_t n_features_ = 0;
  double denominator_ = 0;
  bool wide_ = false;
  bool wide_batch_ = false;
  bool avx2_ = false;
};

}  // namespace isoscope
