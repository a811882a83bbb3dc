// Training that reproduces scikit-learn 1.2's IsolationForest.fit bit for bit. The structure
// mirrors sklearn's DepthFirstTreeBuilder + RandomSplitter + MSE criterion on purpose: the
// random numbers consumed, the in-place partition and even the impurity arithmetic (it decides
// the rare "impurity <= DBL_EPSILON" leaves) follow the same order, so the trees are identical.
// Unlike sklearn, each tree copies only its own psi rows, so the cost per tree is O(psi), not O(n).
#include <algorithm>
#include <cfloat>
#include <cmath>
#include <limits>

#include "detail/numpy_random.h"
#include "isoscope/iforest.h"

namespace isoscope {
namespace {

constexpr int64_t kMaxInt = 2147483647;  // np.iinfo(np.int32).max
constexpr float kFeatureThreshold = 1e-7f;
constexpr double kEpsilon = DBL_EPSILON;
// Up to this many rows, planning keeps a byte a row of scratch; beyond, the plan's memory
// stays O(n_estimators * psi) (PlanForest's promise to streamed training).
constexpr size_t kRowMarksUpTo = size_t{1} << 24;

// The rows one tree sees: unique rows in ascending order (the splitter's order), their
// weights and regression targets, and the tree's columns of those rows, row-major.
struct TreeData {
  int32_t m = 0;         // unique rows with non-zero weight
  int32_t dt = 0;        // columns of this tree
  std::vector<float> x;  // m * dt
  std::vector<double> y;
  std::vector<double> w;
  std::vector<int32_t> features;  // the tree's columns of the input
  double weighted_n_samples = 0;
  uint32_t rand_r_state = 0;
  float X(int32_t row, int32_t f) const {
    return x[static_cast<size_t>(row) * static_cast<size_t>(dt) + static_cast<size_t>(f)];
  }
};

// sklearn's RegressionCriterion/MSE restricted to one output.
class MseCriterion {
 public:
  MseCriterion(const TreeData& data, const std::vector<int32_t>& samples)
      : data_(data), samples_(samples) {}

  void Init(int32_t start, int32_t end) {
    start_ = start;
    end_ = end;
    sum_total_ = 0;
    sq_sum_total_ = 0;
    weighted_n_node_samples_ = 0;
    for (int32_t p = start; p < end; ++p) {
      const int32_t i = samples_[static_cast<size_t>(p)];
      const double wi = data_.w[static_cast<size_t>(i)];
      const double yi = data_.y[static_cast<size_t>(i)];
      const double w_y = wi * yi;
      sum_total_ += w_y;
      sq_sum_total_ += w_y * yi;
      weighted_n_node_samples_ += wi;
    }
    Reset();
  }

  void Reset() {
    sum_left_ = 0;
    weighted_n_left_ = 0;
    pos_ = start_;
  }

  void Update(int32_t new_pos) {
    if ((new_pos - pos_) <= (end_ - new_pos)) {
      for (int32_t p = pos_; p < new_pos; ++p) {
        const int32_t i = samples_[static_cast<size_t>(p)];
        const double wi = data_.w[static_cast<size_t>(i)];
        sum_left_ += wi * data_.y[static_cast<size_t>(i)];
        weighted_n_left_ += wi;
      }
    } else {
      sum_left_ = sum_total_;
      weighted_n_left_ = weighted_n_node_samples_;
      for (int32_t p = end_ - 1; p >= new_pos; --p) {
        const int32_t i = samples_[static_cast<size_t>(p)];
        const double wi = data_.w[static_cast<size_t>(i)];
        sum_left_ -= wi * data_.y[static_cast<size_t>(i)];
        weighted_n_left_ -= wi;
      }
    }
    weighted_n_right_ = weighted_n_node_samples_ - weighted_n_left_;
    sum_right_ = sum_total_ - sum_left_;
    pos_ = new_pos;
  }

  double NodeImpurity() const {
    const double mean = sum_total_ / weighted_n_node_samples_;
    return sq_sum_total_ / weighted_n_node_samples_ - mean * mean;
  }

  void ChildrenImpurity(double* left, double* right) const {
    double sq_sum_left = 0;
    for (int32_t p = start_; p < pos_; ++p) {
      const int32_t i = samples_[static_cast<size_t>(p)];
      const double wi = data_.w[static_cast<size_t>(i)];
      const double yi = data_.y[static_cast<size_t>(i)];
      sq_sum_left += wi * yi * yi;
    }
    const double sq_sum_right = sq_sum_total_ - sq_sum_left;
    *left = sq_sum_left / weighted_n_left_;
    *right = sq_sum_right / weighted_n_right_;
    const double ml = sum_left_ / weighted_n_left_;
    const double mr = sum_right_ / weighted_n_right_;
    *left -= ml * ml;
    *right -= mr * mr;
  }

  double ImpurityImprovement(double parent, double left, double right) const {
    return (weighted_n_node_samples_ / data_.weighted_n_samples) *
           (parent - (weighted_n_right_ / weighted_n_node_samples_ * right) -
            (weighted_n_left_ / weighted_n_node_samples_ * left));
  }

 private:
  const TreeData& data_;
  const std::vector<int32_t>& samples_;
  int32_t start_ = 0, end_ = 0, pos_ = 0;
  double sum_total_ = 0, sq_sum_total_ = 0, weighted_n_node_samples_ = 0;
  double sum_left_ = 0, sum_right_ = 0, weighted_n_left_ = 0, weighted_n_right_ = 0;
};

struct SplitRecord {
  int32_t feature = 0;
  int32_t pos = 0;
  double threshold = 0;
  double impurity_left = 0, impurity_right = 0, improvement = 0;
};

class TreeBuilder {
 public:
  TreeBuilder(const TreeData& data, int32_t max_depth, uint32_t rand_r_state)
      : data_(data),
        max_depth_(max_depth),
        rng_(rand_r_state),
        samples_(static_cast<size_t>(data.m) + 1),
        xf_(static_cast<size_t>(data.m) + 1),
        features_(static_cast<size_t>(data.dt)),
        constant_features_(static_cast<size_t>(data.dt)),
        criterion_(data, samples_) {
    for (int32_t i = 0; i < data.m; ++i) {
      samples_[static_cast<size_t>(i)] = i;
    }
    for (int32_t f = 0; f < data.dt; ++f) {
      features_[static_cast<size_t>(f)] = f;
    }
  }

  void Build(Tree& tree) {
    struct Record {
      int32_t start, end, depth, parent;
      bool is_left;
      double impurity;
      int32_t n_constant;
    };
    std::vector<Record> stack;
    stack.reserve(static_cast<size_t>(max_depth_) + 2);
    stack.push_back({0, data_.m, 0, -1, false, std::numeric_limits<double>::infinity(), 0});
    bool first = true;
    while (!stack.empty()) {
      Record r = stack.back();
      stack.pop_back();
      const int32_t n_node = r.end - r.start;
      criterion_.Init(r.start, r.end);
      bool is_leaf = r.depth >= max_depth_ || n_node < 2;
      double impurity = r.impurity;
      if (first) {
        impurity = criterion_.NodeImpurity();
        first = false;
      }
      is_leaf = is_leaf || impurity <= kEpsilon;
      SplitRecord split;
      int32_t n_constant = r.n_constant;
      if (!is_leaf) {
        split = NodeSplit(r.start, r.end, impurity, &n_constant);
        is_leaf = split.pos >= r.end || split.improvement + kEpsilon < 0.0;
      }
      const auto node_id = static_cast<int32_t>(tree.feature.size());
      tree.children_left.push_back(-1);
      tree.children_right.push_back(-1);
      tree.feature.push_back(is_leaf ? -2 : split.feature);
      tree.threshold.push_back(is_leaf ? -2.0 : split.threshold);
      tree.n_node_samples.push_back(n_node);
      if (r.parent >= 0) {
        (r.is_left ? tree.children_left : tree.children_right)[static_cast<size_t>(r.parent)] =
            node_id;
      }
      if (!is_leaf) {
        stack.push_back(
            {split.pos, r.end, r.depth + 1, node_id, false, split.impurity_right, n_constant});
        stack.push_back(
            {r.start, split.pos, r.depth + 1, node_id, true, split.impurity_left, n_constant});
      }
    }
  }

 private:
  // RandomSplitter.node_split with max_features = 1.
  SplitRecord NodeSplit(int32_t start, int32_t end, double impurity, int32_t* n_constant_features) {
    SplitRecord best;
    best.pos = end;
    int32_t f_i = data_.dt;
    int32_t n_found_constants = 0;
    int32_t n_drawn_constants = 0;
    const int32_t n_known_constants = *n_constant_features;
    int32_t n_total_constants = n_known_constants;
    int32_t n_visited = 0;
    bool found = false;
    while (f_i > n_total_constants &&
           (n_visited < 1 || n_visited <= n_found_constants + n_drawn_constants)) {
      ++n_visited;
      int32_t f_j = static_cast<int32_t>(rng_.Int(n_drawn_constants, f_i - n_found_constants));
      if (f_j < n_known_constants) {
        std::swap(features_[static_cast<size_t>(n_drawn_constants)],
                  features_[static_cast<size_t>(f_j)]);
        ++n_drawn_constants;
        continue;
      }
      f_j += n_found_constants;
      const int32_t feat = features_[static_cast<size_t>(f_j)];
      float min_v = data_.X(samples_[static_cast<size_t>(start)], feat);
      float max_v = min_v;
      xf_[static_cast<size_t>(start)] = min_v;
      for (int32_t p = start + 1; p < end; ++p) {
        const float v = data_.X(samples_[static_cast<size_t>(p)], feat);
        xf_[static_cast<size_t>(p)] = v;
        if (v < min_v) {
          min_v = v;
        } else if (v > max_v) {
          max_v = v;
        }
      }
      // float32 arithmetic on purpose: for |min| >= 2 this means "all values identical".
      const float bound = min_v + kFeatureThreshold;
      if (max_v <= bound) {
        features_[static_cast<size_t>(f_j)] = features_[static_cast<size_t>(n_total_constants)];
        features_[static_cast<size_t>(n_total_constants)] = feat;
        ++n_found_constants;
        ++n_total_constants;
        continue;
      }
      --f_i;
      std::swap(features_[static_cast<size_t>(f_i)], features_[static_cast<size_t>(f_j)]);
      double threshold = rng_.Uniform(static_cast<double>(min_v), static_cast<double>(max_v));
      if (threshold == static_cast<double>(max_v)) {
        threshold = static_cast<double>(min_v);
      }
      // sklearn's unstable in-place partition: row order inside a node feeds the impurity sums.
      int32_t p = start;
      int32_t partition_end = end;
      while (p < partition_end) {
        if (static_cast<double>(xf_[static_cast<size_t>(p)]) <= threshold) {
          ++p;
        } else {
          --partition_end;
          std::swap(xf_[static_cast<size_t>(p)], xf_[static_cast<size_t>(partition_end)]);
          std::swap(samples_[static_cast<size_t>(p)], samples_[static_cast<size_t>(partition_end)]);
        }
      }
      best.feature = feat;
      best.threshold = threshold;
      best.pos = partition_end;
      found = true;
    }
    if (found && best.pos < end) {
      criterion_.Reset();
      criterion_.Update(best.pos);
      criterion_.ChildrenImpurity(&best.impurity_left, &best.impurity_right);
      best.improvement =
          criterion_.ImpurityImprovement(impurity, best.impurity_left, best.impurity_right);
    }
    // Keep the order of known constants for siblings and children, as sklearn does.
    std::copy_n(constant_features_.begin(), n_known_constants, features_.begin());
    std::copy_n(features_.begin() + n_known_constants, n_found_constants,
                constant_features_.begin() + n_known_constants);
    *n_constant_features = n_total_constants;
    return best;
  }

  const TreeData& data_;
  int32_t max_depth_;
  detail::RandR rng_;
  std::vector<int32_t> samples_;
  std::vector<float> xf_;
  std::vector<int32_t> features_;
  std::vector<int32_t> constant_features_;
  MseCriterion criterion_;
};

Result<int64_t> ResolveMaxFeatures(const MaxFeatures& mf, int64_t d) {
  double value = 0;
  if (mf.kind == MaxFeatures::Kind::kCount) {
    if (mf.count < 1 || mf.count > d) {
      return Status(ErrorCode::kInvalidArgument, "max_features must be between 1 and the " +
                                                     std::to_string(d) + " features (got " +
                                                     std::to_string(mf.count) + ")");
    }
    value = static_cast<double>(mf.count);
  } else {
    if (!(mf.fraction > 0.0 && mf.fraction <= 1.0)) {
      return Status(ErrorCode::kInvalidArgument,
                    "max_features as a fraction must be in (0, 1] (got " + mf.ToString() + ")");
    }
    value = mf.fraction * static_cast<double>(d);
  }
  return std::max<int64_t>(1, static_cast<int64_t>(value));
}

}  // namespace

Result<int64_t> ResolveMaxSamples(const MaxSamples& ms, int64_t n) {
  switch (ms.kind) {
    case MaxSamples::Kind::kAuto:
      return std::min<int64_t>(256, n);
    case MaxSamples::Kind::kCount:
      if (ms.count < 1) {
        return Status(ErrorCode::kInvalidArgument,
                      "max_samples must be at least 1 (got " + std::to_string(ms.count) + ")");
      }
      return std::min<int64_t>(ms.count, n);
    case MaxSamples::Kind::kFraction: {
      if (!(ms.fraction > 0.0 && ms.fraction <= 1.0)) {
        return Status(ErrorCode::kInvalidArgument,
                      "max_samples as a fraction must be in (0, 1] (got " + ms.ToString() + ")");
      }
      const auto psi = static_cast<int64_t>(ms.fraction * static_cast<double>(n));
      if (psi < 1) {
        return Status(ErrorCode::kInvalidArgument,
                      "max_samples " + ms.ToString() + " of " + std::to_string(n) +
                          " rows selects no row; use a larger fraction or an integer");
      }
      return psi;
    }
  }
  return Status(ErrorCode::kInternal, "unknown max_samples kind");
}

namespace {

Status CheckFitArgs(size_t n, size_t d, const IForestParams& params) {
  if (n < 1) {
    return Status(ErrorCode::kBadInput, "no training rows");
  }
  if (d < 1 || d > 65535) {
    return Status(ErrorCode::kInvalidArgument,
                  "need between 1 and 65535 feature columns, got " + std::to_string(d));
  }
  if (n > static_cast<size_t>(kMaxInt)) {
    return Status(ErrorCode::kInvalidArgument, "too many training rows");
  }
  if (params.n_estimators < 1) {
    return Status(ErrorCode::kInvalidArgument, "n_estimators must be at least 1");
  }
  if (!params.contamination.is_auto &&
      !(params.contamination.value > 0.0 && params.contamination.value <= 0.5)) {
    return Status(ErrorCode::kInvalidArgument, "contamination must be 'auto' or in (0, 0.5] (got " +
                                                   params.contamination.ToString() + ")");
  }
  return Status::Ok();
}

// The first place at or after `from` in the ascending `rows` whose row is not below `row`.
// Galloping (1, 2, 4, ... places on) before the binary search: a tree's draws ascend, so each
// search starts where the last ended and takes a few steps near it, not a search over every
// drawn row (on 129,600 rows the full searches were a quarter of the fit).
size_t LowerBoundFrom(const std::vector<int64_t>& rows, size_t from, int64_t row) {
  size_t hi = from;
  size_t step = 1;
  while (hi < rows.size() && rows[hi] < row) {
    from = hi + 1;
    hi += step;
    step *= 2;
  }
  hi = std::min(hi, rows.size());
  const auto first = rows.begin() + static_cast<std::ptrdiff_t>(from);
  const auto last = rows.begin() + static_cast<std::ptrdiff_t>(hi);
  return static_cast<size_t>(std::lower_bound(first, last, row) - rows.begin());
}

// Each tree's rows, ascending, duplicates (bootstrap) merged into weights: the splitter's
// order and sklearn's sample_weight = bincount(indices).
// `place`, when not empty, holds each drawn row's index in plan.rows (RowPlaces).
TreeData GatherTree(const ForestPlan& plan, const ForestPlan::TreeDraws& td, const float* x,
                    const std::vector<uint32_t>& place) {
  TreeData out;
  out.features = td.features;
  out.dt = static_cast<int32_t>(td.features.size());
  out.rand_r_state = td.rand_r_state;
  std::vector<int64_t> draws = td.draws;
  std::sort(draws.begin(), draws.end());
  const size_t d = static_cast<size_t>(plan.n_features);
  out.x.reserve(draws.size() * td.features.size());
  out.y.reserve(draws.size());
  out.w.reserve(draws.size());
  size_t k = 0;
  for (size_t i = 0; i < draws.size(); ++i) {
    out.weighted_n_samples += 1.0;
    if (i > 0 && draws[i] == draws[i - 1]) {
      out.w.back() += 1.0;  // drawn again (bootstrap)
      continue;
    }
    k = place.empty() ? LowerBoundFrom(plan.rows, k, draws[i])
                      : place[static_cast<size_t>(draws[i])];
    const float* row = x + k * d;
    for (int32_t f : td.features) {
      out.x.push_back(row[f]);
    }
    out.y.push_back(plan.y[k]);
    out.w.push_back(1.0);
    ++out.m;
  }
  return out;
}

// Each drawn row's index in plan.rows, by row, for up to kPlacesUpTo rows (4 MiB): one load a
// draw where LowerBoundFrom's search (a few dozen loads) was a fifth of the fit on 129,600
// rows. Empty above that: the plan's memory stays O(draws) for the streaming fit's big n.
constexpr size_t kPlacesUpTo = size_t{1} << 20;

std::vector<uint32_t> RowPlaces(const ForestPlan& plan) {
  std::vector<uint32_t> place;
  if (static_cast<size_t>(plan.n_rows) > kPlacesUpTo) return place;
  place.resize(static_cast<size_t>(plan.n_rows));
  for (size_t k = 0; k < plan.rows.size(); ++k) {
    place[static_cast<size_t>(plan.rows[k])] = static_cast<uint32_t>(k);
  }
  return place;
}

// The distinct rows of every tree, ascending, and the regressor's target y at them: y is
// RandomState(random_state).uniform(size=n), swept in row order and kept only where needed.
void CollectRows(ForestPlan& plan, uint32_t random_state) {
  if (static_cast<size_t>(plan.n_rows) <= kRowMarksUpTo) {
    // A byte a row, swept in order: cheaper than sorting every draw (51,200 for 200 trees).
    std::vector<uint8_t> drawn(static_cast<size_t>(plan.n_rows), 0);
    for (const auto& t : plan.trees) {
      for (int64_t r : t.draws) drawn[static_cast<size_t>(r)] = 1;
    }
    for (size_t r = 0; r < drawn.size(); ++r) {
      if (drawn[r] != 0) plan.rows.push_back(static_cast<int64_t>(r));
    }
  } else {
    for (const auto& t : plan.trees) {
      plan.rows.insert(plan.rows.end(), t.draws.begin(), t.draws.end());
    }
    std::sort(plan.rows.begin(), plan.rows.end());
    plan.rows.erase(std::unique(plan.rows.begin(), plan.rows.end()), plan.rows.end());
  }
  plan.y.resize(plan.rows.size());
  detail::NumpyRandomState y_rng(random_state);
  int64_t r = 0;
  for (size_t k = 0; k < plan.rows.size(); ++k) {
    for (; r < plan.rows[k]; ++r) {
      y_rng.Uniform();
    }
    plan.y[k] = y_rng.Uniform();
    ++r;
  }
}

}  // namespace

Result<ForestPlan> PlanForest(size_t n, size_t d, const IForestParams& params) {
  if (Status s = CheckFitArgs(n, d, params); !s.ok()) return s;
  const auto n64 = static_cast<int64_t>(n);
  const auto d64 = static_cast<int64_t>(d);
  auto psi_or = ResolveMaxSamples(params.max_samples, n64);
  if (!psi_or.ok()) {
    return psi_or.status();
  }
  auto mf_or = ResolveMaxFeatures(params.max_features, d64);
  if (!mf_or.ok()) {
    return mf_or.status();
  }
  ForestPlan plan;
  plan.n_rows = n64;
  plan.n_features = static_cast<int32_t>(d);
  plan.max_samples = static_cast<int32_t>(*psi_or);
  plan.max_features = static_cast<int32_t>(*mf_or);
  while ((int64_t{1} << plan.max_depth) < std::max<int64_t>(*psi_or, 2)) {
    ++plan.max_depth;
  }
  std::vector<uint32_t> seeds(static_cast<size_t>(params.n_estimators));
  detail::NumpyRandomState rs(params.random_state);
  for (uint32_t& s : seeds) {
    s = static_cast<uint32_t>(rs.RandInt(0, kMaxInt));
  }
  // Each tree's random draws, in sklearn's order: its columns, its rows, its splitter seed.
  // `seen` is population-sized scratch only while that stays small; beyond, a set per tree.
  std::vector<uint8_t> seen(n <= kRowMarksUpTo ? n : 0, 0);
  std::vector<uint8_t> seen_features(d, 0);
  plan.trees.resize(seeds.size());
  for (size_t t = 0; t < seeds.size(); ++t) {
    ForestPlan::TreeDraws& td = plan.trees[t];
    const auto tree_seed =
        static_cast<uint32_t>(detail::NumpyRandomState(seeds[t]).RandInt(0, kMaxInt));
    detail::NumpyRandomState bag(seeds[t]);
    const std::vector<int64_t> feats =
        detail::SampleWithoutReplacement(d64, *mf_or, bag, seen_features);
    td.features.assign(feats.begin(), feats.end());
    if (params.bootstrap) {
      td.draws.resize(static_cast<size_t>(*psi_or));
      for (auto& v : td.draws) {
        v = bag.RandInt(0, n64);
      }
    } else {
      td.draws = detail::SampleWithoutReplacement(n64, *psi_or, bag, seen);
    }
    td.rand_r_state =
        static_cast<uint32_t>(detail::NumpyRandomState(tree_seed).RandInt(0, detail::RandR::kMax));
  }
  CollectRows(plan, params.random_state);
  return plan;
}

Result<Forest> FitForestOnPlan(const ForestPlan& plan, const float* x,
                               const ForRangesFn& for_ranges) {
  const std::vector<uint32_t> place = RowPlaces(plan);
  Forest forest;
  forest.n_features = plan.n_features;
  forest.max_samples = plan.max_samples;
  forest.max_features = plan.max_features;
  forest.trees.resize(plan.trees.size());
  // Each tree reads only the plan, x and its own draws, and writes only its own slot.
  ForRanges(for_ranges, plan.trees.size(), [&](size_t first, size_t count) {
    for (size_t t = first; t < first + count; ++t) {
      const TreeData data = GatherTree(plan, plan.trees[t], x, place);
      Tree& tree = forest.trees[t];
      tree.features = data.features;
      TreeBuilder builder(data, plan.max_depth, data.rand_r_state);
      builder.Build(tree);
    }
  });
  BakePathLengths(forest);
  return forest;
}

Result<Forest> FitForest(const float* x, size_t n, size_t d, const IForestParams& params,
                         const ForRangesFn& for_ranges) {
  auto plan = PlanForest(n, d, params);
  if (!plan.ok()) return plan.status();
  // Only the planned rows, in plan order: the same bytes a streaming caller gathers.
  std::vector<float> rows(plan->rows.size() * d);
  for (size_t k = 0; k < plan->rows.size(); ++k) {
    std::copy_n(x + static_cast<size_t>(plan->rows[k]) * d, d, rows.data() + k * d);
  }
  return FitForestOnPlan(*plan, rows.data(), for_ranges);
}

}  // namespace isoscope
