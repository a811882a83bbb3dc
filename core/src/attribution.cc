#include "isoscope/attribution.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "detail/float_threshold.h"

namespace isoscope {
namespace {

// Deeper trees than this are refused: sklearn's are at most ceil(log2(max_samples)) <= 31 deep,
// and the bound keeps the compile recursion and the per-leaf scratch arrays small.
constexpr int32_t kMaxDepth = 64;
constexpr uint16_t kMaxQuad = (kMaxDepth + 1) / 2;

// c(n) from the forest's baked table, as the scorer takes it, so leaf values are its bits.
double LeafC(const Forest& forest, int32_t n) {
  auto it =
      std::lower_bound(forest.leaf_c.begin(), forest.leaf_c.end(), n,
                       [](const std::pair<int32_t, double>& e, int32_t v) { return e.first < v; });
  return it != forest.leaf_c.end() && it->first == n ? it->second : AveragePathLength(n);
}

struct QuadNode {
  double s;       // node in (0, 1)
  double weight;  // weights sum to 1
};

// Gauss-Legendre rule with q nodes on [0, 1] (Newton on the Legendre recurrence): exact for
// polynomials of degree <= 2q - 1.
std::vector<QuadNode> GaussLegendre(int q) {
  std::vector<QuadNode> out;
  const double pi = 3.141592653589793;
  for (int i = 1; i <= q; ++i) {
    double x = std::cos(pi * (i - 0.25) / (q + 0.5));
    double dp = 1.0;
    for (int iter = 0; iter < 100; ++iter) {
      double p1 = 1.0, p2 = 0.0;
      for (int j = 1; j <= q; ++j) {
        const double p3 = p2;
        p2 = p1;
        p1 = ((2.0 * j - 1.0) * x * p2 - (j - 1.0) * p3) / j;
      }
      dp = q * (x * p1 - p2) / (x * x - 1.0);
      const double step = p1 / dp;
      x -= step;
      if (std::fabs(step) < 1e-17) {
        break;
      }
    }
    out.push_back({(1.0 - x) / 2.0, 1.0 / ((1.0 - x * x) * dp * dp)});
  }
  return out;
}

// Depth of every node; sklearn numbers nodes in pre-order, so parents come first.
int32_t MaxDepth(const Tree& tree) {
  const size_t n = tree.node_count();
  if (n == 0) return 0;  // (also keeps GCC 12 from a false -Wfree-nonheap-object here)
  std::vector<int32_t> depth(n, 0);
  int32_t deepest = 0;
  for (size_t i = 0; i < n; ++i) {
    deepest = std::max(deepest, depth[i]);
    if (tree.children_left[i] != -1) {
      depth[static_cast<size_t>(tree.children_left[i])] = depth[i] + 1;
      depth[static_cast<size_t>(tree.children_right[i])] = depth[i] + 1;
    }
  }
  return deepest;
}

}  // namespace

// The distinct features on the current root-to-node path, with their box and cover product.
struct ForestExplainer::PathState {
  struct Entry {
    uint32_t column;
    float lo;
    float hi;
    double z;
  };
  std::vector<Entry> entries;
};

void ForestExplainer::AddLeaf(const PathState& path, double value) {
  const auto n_steps = static_cast<uint16_t>(path.entries.size());
  if (n_steps == 0) {
    return;  // a tree that is one leaf: v(S) is the same for every S, nothing to attribute
  }
  leaves_.push_back({value, static_cast<uint32_t>(steps_.size()), n_steps,
                     static_cast<uint16_t>((n_steps + 1) / 2)});
  for (const PathState::Entry& e : path.entries) {
    steps_.push_back({e.lo, e.hi, e.column, e.z});
  }
}

Result<ForestExplainer> ForestExplainer::Compile(const Forest& forest) {
  Status valid = ValidateForest(forest);
  if (!valid.ok()) {
    return valid;
  }
  ForestExplainer ex;
  ex.n_features_ = static_cast<size_t>(forest.n_features);
  ex.n_trees_ = forest.trees.size();
  ex.c_max_samples_ = forest.c_max_samples;
  ex.leaf_weight_.assign((kMaxDepth + 1) * kMaxQuad, 0.0);
  ex.odds_.assign((kMaxQuad + 1) * kMaxQuad, 0.0);
  for (int q = 1; q <= kMaxQuad; ++q) {
    const std::vector<QuadNode> rule = GaussLegendre(q);
    for (size_t r = 0; r < rule.size(); ++r) {
      ex.odds_[static_cast<size_t>(q) * kMaxQuad + r] = rule[r].s / (1.0 - rule[r].s);
      // weight * (1-s)^(L-1) by repeated products, not pow(): the same bits under glibc and
      // WebAssembly's libc.
      double w = rule[r].weight;
      for (int l = 1; l <= 2 * q; ++l) {
        if (l >= 2 * q - 1) {
          ex.leaf_weight_[static_cast<size_t>(l) * kMaxQuad + r] = w;
        }
        w *= 1.0 - rule[r].s;
      }
    }
  }
  PathState path;
  double baseline_sum = 0.0;
  for (const Tree& tree : forest.trees) {
    if (MaxDepth(tree) > kMaxDepth) {
      return Status(ErrorCode::kInvalidArgument,
                    "a tree is deeper than " + std::to_string(kMaxDepth) +
                        " levels; attribution supports the depths scikit-learn grows");
    }
    baseline_sum += ex.CompileTree(forest, tree, path);
  }
  // Leaves grouped by path length: the per-leaf dispatch on L then always predicts right.
  std::stable_sort(ex.leaves_.begin(), ex.leaves_.end(),
                   [](const Leaf& a, const Leaf& b) { return a.n_steps < b.n_steps; });
  if (ex.n_trees_ > 0) {
    ex.baseline_ = baseline_sum / static_cast<double>(ex.n_trees_);
  }
  return ex;
}

double ForestExplainer::CompileTree(const Forest& forest, const Tree& tree, PathState& path) {
  const double root_n = tree.n_node_samples[0];
  double baseline = 0.0;
  // Depth-first with the path's feature boxes; depth is bounded by kMaxDepth.
  struct Walker {
    ForestExplainer& ex;
    const Forest& forest;
    const Tree& tree;
    PathState& path;
    double root_n;
    double& baseline;

    void Visit(size_t node, int32_t depth) {
      const int32_t n = tree.n_node_samples[node];
      // 2-row splits are leaves, as in the scorer: both children score depth + 1, so the
      // subtree's game is the same constant and the values do not change.
      if (tree.children_left[node] == -1 || n <= 2) {
        const double c = tree.children_left[node] == -1 ? LeafC(forest, n) : AveragePathLength(2);
        const double value = (static_cast<double>(depth + 1) + c) - 1.0;  // sklearn's order
        baseline += n / root_n * value;
        ex.AddLeaf(path, value);
        return;
      }
      const auto column =
          static_cast<uint32_t>(tree.features[static_cast<size_t>(tree.feature[node])]);
      const float threshold = detail::FloorToFloat(tree.threshold[node]);
      size_t k = 0;
      while (k < path.entries.size() && path.entries[k].column != column) {
        ++k;
      }
      const bool added = k == path.entries.size();
      if (added) {
        path.entries.push_back({column, -std::numeric_limits<float>::infinity(),
                                std::numeric_limits<float>::infinity(), 1.0});
      }
      const PathState::Entry saved = path.entries[k];
      for (bool left : {true, false}) {
        const auto child =
            static_cast<size_t>(left ? tree.children_left[node] : tree.children_right[node]);
        PathState::Entry& e = path.entries[k];
        e.z = saved.z * tree.n_node_samples[child] / n;
        e.hi = left ? std::min(saved.hi, threshold) : saved.hi;
        e.lo = left ? saved.lo : std::max(saved.lo, threshold);
        Visit(child, depth + 1);
        path.entries[k] = saved;
      }
      if (added) {
        path.entries.pop_back();  // the feature entered the path here
      }
    }
  };
  Walker{*this, forest, tree, path, root_n, baseline}.Visit(0, 0);
  return baseline;
}

namespace {

// a if `pick`, else b, without a branch: whether x follows a step is data, and a mispredicted
// branch per step costs more than all of a leaf's arithmetic.
double Select(bool pick, double a, double b) {
  uint64_t ua, ub;
  std::memcpy(&ua, &a, sizeof ua);
  std::memcpy(&ub, &b, sizeof ub);
  const uint64_t mask = uint64_t{0} - static_cast<uint64_t>(pick);
  const uint64_t bits = (ua & mask) | (ub & ~mask);
  double out;
  std::memcpy(&out, &bits, sizeof out);
  return out;
}

}  // namespace

// One leaf's share (see the class comment). Per quadrature node r, with f_j = u_j(s_r) for
// steps x follows and 1 for the others, the product over all steps but j comes from prefix
// and suffix products (no division). kSteps is the leaf's L, so the loops unroll; 0: L is read
// at run time (paths with more than 8 distinct features).
template <int kSteps>
void ForestExplainer::LeafShapley(const Leaf& leaf, const float* row, double* phi) const {
  const size_t n_steps = kSteps > 0 ? static_cast<size_t>(kSteps) : leaf.n_steps;
  const size_t q = (n_steps + 1) / 2;
  const Step* st = steps_.data() + leaf.first_step;
  const double* weight = leaf_weight_.data() + n_steps * kMaxQuad;
  const double* odds = odds_.data() + q * kMaxQuad;
  constexpr size_t kCap = kSteps > 0 ? static_cast<size_t>(kSteps) : kMaxDepth;
  bool hot[kCap];
  double others[kCap];
  double cold_z = 1.0;
  for (size_t j = 0; j < n_steps; ++j) {
    const float x = row[st[j].column];
    hot[j] = (x > st[j].lo) & (x <= st[j].hi);  // the scorer's routing, every split on j
    cold_z *= Select(hot[j], 1.0, st[j].z);
    others[j] = 0.0;
  }
  double all_hot = 0.0;
  for (size_t r = 0; r < q; ++r) {
    double f[kCap];
    double suffix[kCap + 1];
    suffix[n_steps] = 1.0;
    for (size_t j = n_steps; j-- > 0;) {
      f[j] = Select(hot[j], odds[r] + st[j].z, 1.0);
      suffix[j] = suffix[j + 1] * f[j];
    }
    double prefix = weight[r];
    for (size_t j = 0; j < n_steps; ++j) {
      others[j] += prefix * suffix[j + 1];
      prefix *= f[j];
    }
    all_hot += prefix;
  }
  const double v = leaf.value * cold_z;
  for (size_t j = 0; j < n_steps; ++j) {
    phi[st[j].column] += Select(hot[j], v * (1.0 - st[j].z) * others[j], -v * all_hot);
  }
}

void ForestExplainer::PathShapley(const float* row, double* phi) const {
  std::fill(phi, phi + n_features_, 0.0);
  for (const Leaf& leaf : leaves_) {
    switch (leaf.n_steps) {
      case 1:
        LeafShapley<1>(leaf, row, phi);
        break;
      case 2:
        LeafShapley<2>(leaf, row, phi);
        break;
      case 3:
        LeafShapley<3>(leaf, row, phi);
        break;
      case 4:
        LeafShapley<4>(leaf, row, phi);
        break;
      case 5:
        LeafShapley<5>(leaf, row, phi);
        break;
      case 6:
        LeafShapley<6>(leaf, row, phi);
        break;
      case 7:
        LeafShapley<7>(leaf, row, phi);
        break;
      case 8:
        LeafShapley<8>(leaf, row, phi);
        break;
      default:
        LeafShapley<0>(leaf, row, phi);
        break;
    }
  }
  if (n_trees_ > 0) {
    const double inv = 1.0 / static_cast<double>(n_trees_);
    for (size_t i = 0; i < n_features_; ++i) {
      phi[i] *= inv;
    }
  }
}

std::vector<int32_t> ColumnInputs(const FeatureSpec& spec) {
  std::vector<int32_t> out;
  if (spec.raw_inputs) {
    for (size_t i = 0; i < spec.inputs.size(); ++i) {
      out.push_back(static_cast<int32_t>(i));
    }
  }
  for (const DerivedFeature& d : spec.derived) {
    out.push_back(d.input);
  }
  return out;
}

Result<Explainer> Explainer::Create(const Model& model) {
  auto scorer = ModelScorer::Create(model);
  if (!scorer.ok()) {
    return scorer.status();
  }
  auto forest = ForestExplainer::Compile(model.forest);
  if (!forest.ok()) {
    return forest.status();
  }
  Explainer ex;
  ex.scorer_ = std::move(scorer).value();
  ex.forest_ = std::move(forest).value();
  ex.column_inputs_ = ColumnInputs(model.spec);
  ex.n_inputs_ = model.spec.inputs.size();
  ex.c_max_samples_ = model.forest.c_max_samples;
  return ex;
}

double Explainer::baseline_score() const {
  // psi == 1 has c(psi) = 0: the scorer then gives every row 0.5.
  return c_max_samples_ != 0.0 ? std::exp2(-forest_.baseline() / c_max_samples_) : 0.5;
}

RowExplanation Explainer::Explain(const double* features) const {
  RowExplanation out;
  const RowScore score = scorer_.ScoreFeatures(features);
  out.issue = score.issue;
  out.column = score.column;
  if (!score.ok()) {
    return out;
  }
  out.anomaly_score = score.anomaly_score;
  const size_t width = forest_.n_features();
  std::vector<float> x32(width);
  int32_t bad = -1;
  scorer_.Prepare(features, x32.data(), &bad);  // succeeds: ScoreFeatures did the same
  out.contribution.resize(width);
  forest_.PathShapley(x32.data(), out.contribution.data());
  // -phi / c(psi) is the exact share of log2 s(x) (log2 s is affine in E[h]).
  const double scale = c_max_samples_ != 0.0 ? -1.0 / c_max_samples_ : 0.0;
  out.per_input.assign(n_inputs_, 0.0);
  for (size_t i = 0; i < width; ++i) {
    out.contribution[i] = out.contribution[i] * scale + 0.0;  // + 0.0: no -0 from 0 * -1/c
    if (column_inputs_[i] >= 0) {
      out.per_input[static_cast<size_t>(column_inputs_[i])] += out.contribution[i];
    }
  }
  for (size_t k = 0; k < n_inputs_; ++k) {
    if (out.top_input < 0 || out.per_input[k] > out.per_input[static_cast<size_t>(out.top_input)]) {
      out.top_input = static_cast<int32_t>(k);
    }
  }
  // No input stands out when all sums are equal (a forest of psi <= 2 attributes nothing).
  if (!out.per_input.empty() && *std::min_element(out.per_input.begin(), out.per_input.end()) ==
                                    out.per_input[static_cast<size_t>(out.top_input)]) {
    out.top_input = -1;
  }
  return out;
}

}  // namespace isoscope
