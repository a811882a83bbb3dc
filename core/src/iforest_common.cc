#include <algorithm>
#include <cmath>
#include <set>

#include "isoscope/iforest.h"
#include "isoscope/text.h"

namespace isoscope {

std::string MaxSamples::ToString() const {
  switch (kind) {
    case Kind::kAuto:
      return "auto";
    case Kind::kCount:
      return std::to_string(count);
    case Kind::kFraction:
      return FormatShortest(fraction);
  }
  return "?";
}

std::string MaxFeatures::ToString() const {
  return kind == Kind::kCount ? std::to_string(count) : FormatShortest(fraction);
}

std::string Contamination::ToString() const { return is_auto ? "auto" : FormatShortest(value); }

bool Tree::operator==(const Tree& o) const {
  return features == o.features && children_left == o.children_left &&
         children_right == o.children_right && feature == o.feature && threshold == o.threshold &&
         n_node_samples == o.n_node_samples;
}

size_t Forest::total_nodes() const {
  size_t total = 0;
  for (const Tree& t : trees) {
    total += t.node_count();
  }
  return total;
}

double AveragePathLength(int64_t n) {
  if (n <= 1) {
    return 0.0;
  }
  if (n == 2) {
    return 1.0;
  }
  const double nd = static_cast<double>(n);
  return 2.0 * (std::log(nd - 1.0) + 0.5772156649015329) - 2.0 * (nd - 1.0) / nd;
}

void BakePathLengths(Forest& forest) {
  std::set<int32_t> sizes;
  for (const Tree& t : forest.trees) {
    for (size_t i = 0; i < t.node_count(); ++i) {
      if (t.children_left[i] == -1) {
        sizes.insert(t.n_node_samples[i]);
      }
    }
  }
  forest.leaf_c.clear();
  for (int32_t n : sizes) {
    forest.leaf_c.emplace_back(n, AveragePathLength(n));
  }
  forest.c_max_samples = AveragePathLength(forest.max_samples);
}

namespace {

// Tree `t` of `forest`: arrays of one length, a feature subset of existing columns, nodes in
// sklearn's pre-order, every split valid and every leaf size with a path-length constant.
// `stack` is the caller's, reused from tree to tree (a forest is checked at every load).
Status ValidateTree(const Forest& forest, const Tree& tree, size_t t,
                    std::vector<std::pair<int32_t, int32_t>>& stack) {
  auto bad = [t](const std::string& what) {
    return Status(ErrorCode::kCorrupt, "tree " + std::to_string(t) + ": " + what);
  };
  const size_t n = tree.node_count();
  if (n == 0 || tree.children_left.size() != n || tree.children_right.size() != n ||
      tree.threshold.size() != n || tree.n_node_samples.size() != n) {
    return bad("node arrays are empty or of different lengths");
  }
  if (tree.features.size() != static_cast<size_t>(forest.max_features)) {
    return bad("feature subset has the wrong size");
  }
  for (int32_t f : tree.features) {
    if (f < 0 || f >= forest.n_features) {
      return bad("feature subset names a column that does not exist");
    }
  }
  // Walk in pre-order: every node must be visited once, in index order, so the tree is
  // a tree (no cycles, no shared children) and sklearn's node order holds.
  stack.assign(1, {0, 0});
  size_t expect = 0;
  while (!stack.empty()) {
    auto [node, depth] = stack.back();
    stack.pop_back();
    if (node < 0 || static_cast<size_t>(node) != expect) {
      return bad("nodes are not in pre-order");
    }
    ++expect;
    if (depth > 64) {
      return bad("deeper than 64 levels");
    }
    const auto i = static_cast<size_t>(node);
    if (tree.n_node_samples[i] < 1) {
      return bad("a node holds no samples");
    }
    const int32_t l = tree.children_left[i];
    const int32_t r = tree.children_right[i];
    if (l == -1 && r == -1) {
      auto it = std::lower_bound(
          forest.leaf_c.begin(), forest.leaf_c.end(), tree.n_node_samples[i],
          [](const std::pair<int32_t, double>& e, int32_t v) { return e.first < v; });
      if (it == forest.leaf_c.end() || it->first != tree.n_node_samples[i] ||
          !std::isfinite(it->second)) {
        return bad("a leaf size has no path-length constant");
      }
      continue;
    }
    if (l < 0 || r < 0 || static_cast<size_t>(l) >= n || static_cast<size_t>(r) >= n) {
      return bad("a child index is out of range");
    }
    if (tree.feature[i] < 0 || tree.feature[i] >= forest.max_features ||
        !std::isfinite(tree.threshold[i])) {
      return bad("a split has an invalid feature or threshold");
    }
    stack.emplace_back(r, depth + 1);
    stack.emplace_back(l, depth + 1);
  }
  if (expect != n) {
    return bad("has nodes that are not reachable from the root");
  }
  return Status::Ok();
}

}  // namespace

Status ValidateForest(const Forest& forest) {
  auto bad = [](const std::string& what) { return Status(ErrorCode::kCorrupt, what); };
  if (forest.n_features < 1 || forest.max_features < 1 || forest.max_features > forest.n_features) {
    return bad("forest has inconsistent feature counts");
  }
  if (forest.max_samples < 1) {
    return bad("forest max_samples must be at least 1");
  }
  if (forest.trees.empty()) {
    return bad("forest has no trees");
  }
  if (!std::isfinite(forest.c_max_samples) || forest.c_max_samples < 0) {
    return bad("forest c(max_samples) is not a finite non-negative number");
  }
  for (size_t k = 1; k < forest.leaf_c.size(); ++k) {
    if (forest.leaf_c[k - 1].first >= forest.leaf_c[k].first) {
      return bad("leaf path-length table is not sorted");
    }
  }
  std::vector<std::pair<int32_t, int32_t>> stack;
  for (size_t t = 0; t < forest.trees.size(); ++t) {
    Status tree = ValidateTree(forest, forest.trees[t], t, stack);
    if (!tree.ok()) return tree;
  }
  return Status::Ok();
}

}  // namespace isoscope
