#include "isoscope/detail/forest_scorer.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "detail/float_threshold.h"
#include "detail/forest_walk_wide.h"

namespace isoscope {
namespace {

double LeafC(const Forest& forest, int32_t n) {
  auto it =
      std::lower_bound(forest.leaf_c.begin(), forest.leaf_c.end(), n,
                       [](const std::pair<int32_t, double>& e, int32_t v) { return e.first < v; });
  return it->second;  // ValidateForest guarantees every leaf size is present
}

constexpr size_t PowerOfTwoAtLeast(size_t n) {
  size_t p = 1;
  while (p < n) p *= 2;
  return p;
}

}  // namespace

Result<ForestScorer> ForestScorer::Compile(const Forest& forest, Walk walk) {
  Status valid = ValidateForest(forest);
  if (!valid.ok()) {
    return valid;
  }
  if (forest.n_features > static_cast<int32_t>(kColumnMask) + 1) {
    return Status(ErrorCode::kInvalidArgument,
                  "the scorer supports up to 256 feature columns; this model has " +
                      std::to_string(forest.n_features));
  }
  ForestScorer s;
  s.wide_ = (walk == Walk::kFastest || walk == Walk::kWideBatch) && detail::WideWalkAvailable();
  s.avx2_ = !s.wide_ && walk != Walk::kScalar && detail::Avx2WalkAvailable();
  s.n_features_ = static_cast<size_t>(forest.n_features);
  // The one-row walks hold the row in registers: up to 16 columns.
  s.wide_batch_ =
      s.wide_ && (walk == Walk::kWideBatch || detail::WideBatchWalkPaysOff() || s.n_features_ > 16);
  s.denominator_ = static_cast<double>(forest.trees.size()) * forest.c_max_samples;

  for (const Tree& tree : forest.trees) {
    const auto start = static_cast<uint32_t>(s.nodes_.size());
    s.tree_start_.push_back(start);
    // Breadth-first copy, so that siblings sit side by side (right = left + 1); 2-row splits
    // become leaves.
    struct Pending {
      int32_t src;
      uint32_t dst;
      uint32_t depth;
    };
    std::vector<Pending> queue{{0, start, 0}};
    s.nodes_.push_back({});
    s.leaf_value_.push_back(0);
    uint32_t max_depth = 0;
    for (size_t q = 0; q < queue.size(); ++q) {
      const Pending p = queue[q];
      const auto src = static_cast<size_t>(p.src);
      const size_t dst = p.dst;
      const bool split = tree.children_left[src] != -1 && tree.n_node_samples[src] > 2;
      if (!split) {
        const double c = tree.children_left[src] == -1 ? LeafC(forest, tree.n_node_samples[src])
                                                       : AveragePathLength(2);
        s.nodes_[dst] = {std::numeric_limits<float>::infinity(), p.dst << kColumnBits};
        // sklearn's operation order: (nodes on the path) + c(n) - 1.
        s.leaf_value_[dst] = (static_cast<double>(p.depth + 1) + c) - 1.0;
        max_depth = std::max(max_depth, p.depth);
        continue;
      }
      const auto left = static_cast<uint32_t>(s.nodes_.size());
      if (left + 2 > kMaxNodes) {
        return Status(ErrorCode::kInvalidArgument,
                      "the forest has more than 16.7 million nodes, too many for the scoring "
                      "layout; use a smaller max_samples or fewer trees");
      }
      const int32_t column = tree.features[static_cast<size_t>(tree.feature[src])];
      s.nodes_[dst] = {detail::FloorToFloat(tree.threshold[src]),
                       (left << kColumnBits) | static_cast<uint32_t>(column)};
      s.nodes_.push_back({});
      s.nodes_.push_back({});
      s.leaf_value_.push_back(0);
      s.leaf_value_.push_back(0);
      queue.push_back({tree.children_left[src], left, p.depth + 1});
      queue.push_back({tree.children_right[src], left + 1, p.depth + 1});
    }
    s.tree_depth_.push_back(max_depth);
  }
  for (size_t t = 0; t < s.tree_depth_.size(); t += 8) {
    const auto octet = s.tree_depth_.begin() + static_cast<ptrdiff_t>(t);
    const auto end =
        s.tree_depth_.begin() + static_cast<ptrdiff_t>(std::min(t + 8, s.tree_depth_.size()));
    s.octet_depth_.push_back(*std::max_element(octet, end));
  }
  if (s.wide_ || s.avx2_) s.BuildTopTable();
  return s;
}

uint32_t ForestScorer::NodeAtHeapPosition(size_t tree, size_t position) const {
  if (position == 0) return tree_start_[tree];
  const uint32_t parent = NodeAtHeapPosition(tree, (position - 1) / 2);
  const uint32_t left = nodes_[parent].packed >> kColumnBits;
  if (left == parent) return parent;          // a leaf stands for every position below it
  return left + (position % 2 == 0 ? 1 : 0);  // 2h + 1 is the left child, 2h + 2 the right
}

void ForestScorer::BuildTopTable() {
  const size_t groups = (tree_start_.size() + 15) / 16;
  constexpr size_t kPositions = detail::kTopPositions;
  top_threshold_.assign(groups * kPositions * 16, std::numeric_limits<float>::infinity());
  top_packed_.assign(groups * kPositions * 16, 0);  // idle lanes: a leaf looping to node 0
  for (size_t t = 0; t < tree_start_.size(); ++t) {
    for (size_t h = 0; h < kPositions; ++h) {
      const size_t at = ((t / 16) * kPositions + h) * 16 + t % 16;
      const Node& n = nodes_[NodeAtHeapPosition(t, h)];
      top_threshold_[at] = n.threshold;
      top_packed_[at] = n.packed;
    }
  }
}

template <int kTrees>
void ForestScorer::WalkGroup(const float* row, size_t first_tree, double& sum) const {
  const Node* nodes = nodes_.data();
  uint32_t idx[kTrees];
  uint32_t depth = 0;
  for (int k = 0; k < kTrees; ++k) {
    idx[k] = tree_start_[first_tree + static_cast<size_t>(k)];
    depth = std::max(depth, tree_depth_[first_tree + static_cast<size_t>(k)]);
  }
  // Independent walks interleaved so their loads overlap; leaves loop to themselves, so
  // running every tree to the group's deepest level changes nothing.
  for (uint32_t step = 0; step < depth; ++step) {
    for (int k = 0; k < kTrees; ++k) {
      const Node n = nodes[idx[k]];
      idx[k] = (n.packed >> kColumnBits) +
               static_cast<uint32_t>(row[n.packed & kColumnMask] > n.threshold);
    }
  }
  for (int k = 0; k < kTrees; ++k) {
    sum += leaf_value_[idx[k]];
  }
}

double ForestScorer::PathSum(const float* row) const {
  if (wide_ && n_features_ <= 16) {
    return detail::WidePathSum(View(), row);
  }
  if (avx2_ && n_features_ <= 16) {
    return detail::Avx2PathSum(View(), row);
  }
  double sum = 0.0;
  const size_t n_trees = tree_start_.size();
  size_t t = 0;
  for (; t + 16 <= n_trees; t += 16) {
    WalkGroup<16>(row, t, sum);
  }
  for (; t + 8 <= n_trees; t += 8) {
    WalkGroup<8>(row, t, sum);
  }
  for (; t < n_trees; ++t) {
    WalkGroup<1>(row, t, sum);
  }
  return sum;
}

template <size_t kRows>
void ForestScorer::WalkBlock(const float* block, double* out) const {
  // Column-major copy of the block: row r's value of column c sits at c * kStride + r, so each
  // visit's address is the node's column shifted plus a constant per row. The stride is a
  // power of two so that it is a shift on the walk's chain of dependent loads: 12 rows apart
  // left an i32.mul by 48 on that chain in the WebAssembly module.
  constexpr size_t kStride = PowerOfTwoAtLeast(kRows);
  float columns[256 * kStride];
  for (size_t r = 0; r < kRows; ++r) {
    for (size_t c = 0; c < n_features_; ++c) {
      columns[c * kStride + r] = block[r * n_features_ + c];
    }
  }
  const Node* nodes = nodes_.data();
  const double* leaves = leaf_value_.data();
  double sums[kRows] = {};
  uint32_t idx[kRows];
  for (size_t t = 0; t < tree_start_.size(); ++t) {
    // Every row starts at the root: one node, one contiguous column, a loop the compiler
    // vectorises.
    const Node root = nodes[tree_start_[t]];
    const float* root_column = columns + (root.packed & kColumnMask) * kStride;
    for (size_t r = 0; r < kRows; ++r) {
      idx[r] =
          (root.packed >> kColumnBits) + static_cast<uint32_t>(root.threshold < root_column[r]);
    }
    for (uint32_t step = 1; step < tree_depth_[t]; ++step) {
      for (size_t r = 0; r < kRows; ++r) {
        const Node nd = nodes[idx[r]];
        const float* column = columns + (nd.packed & kColumnMask) * kStride;
        idx[r] = (nd.packed >> kColumnBits) + static_cast<uint32_t>(nd.threshold < column[r]);
      }
    }
    for (size_t r = 0; r < kRows; ++r) {
      sums[r] += leaves[idx[r]];
    }
  }
  for (size_t r = 0; r < kRows; ++r) {
    out[r] = sums[r];
  }
}

void ForestScorer::PathSums(const float* rows, size_t n, double* out) const {
  // Blocks of rows per tree keep one tree hot while independent walks overlap.
  constexpr size_t kBlock = 12;
  size_t r0 = 0;
  if (wide_batch_) {
    r0 = n - n % detail::kWideBlockRows;
    detail::WidePathSums(View(), rows, r0, out);
  }
  if ((wide_ || avx2_) && n_features_ <= 16) {
    // Where the CPU has AVX2 but not AVX-512 (no 16-row batch walk), the one-row walk of 8
    // trees a vector beats the portable blocks of rows: about 1.0 against 1.25 us a row on
    // AMD Zen 3 (bench: 0.96-1.0 against 0.74-0.82 M rows/s), in any row order.
    // On AMD Zen 5 with AVX-512 the same holds for the 16-tree walk against the 16-row one
    // (detail::WideBatchWalkPaysOff).
    const detail::ForestView view = View();
    for (; r0 < n; ++r0) {
      out[r0] = wide_ ? detail::WidePathSum(view, rows + r0 * n_features_)
                      : detail::Avx2PathSum(view, rows + r0 * n_features_);
    }
  }
  for (; r0 + kBlock <= n; r0 += kBlock) {
    WalkBlock<kBlock>(rows + r0 * n_features_, out + r0);
  }
  for (; r0 < n; ++r0) {
    out[r0] = PathSum(rows + r0 * n_features_);
  }
}

detail::ForestView ForestScorer::View() const {
  return {nodes_.data(),         leaf_value_.data(), tree_start_.data(), tree_depth_.data(),
          octet_depth_.data(),   tree_start_.size(), n_features_,        nodes_.size(),
          top_threshold_.data(), top_packed_.data()};
}

double ForestScorer::AnomalyScore(double path_sum) const {
  // psi == 1: sklearn sets the ratio to 1, so every row scores 0.5.
  const double ratio = denominator_ != 0.0 ? path_sum / denominator_ : 1.0;
  return std::exp2(-ratio);
}

}  // namespace isoscope
