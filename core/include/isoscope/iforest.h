#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "isoscope/status.h"

namespace isoscope {

/// Runs fn(first, count) on ranges that cover [0, n) once each, perhaps at once on several
/// threads: the caller's, since the core has none. Empty: fn(0, n) on the calling thread.
/// Nothing the core computes with it depends on how [0, n) is cut.
using ForRangesFn =
    std::function<void(size_t n, const std::function<void(size_t first, size_t count)>& fn)>;

/// `for_ranges`, or [0, n) as one range when it is empty.
inline void ForRanges(const ForRangesFn& for_ranges, size_t n,
                      const std::function<void(size_t, size_t)>& fn) {
  if (for_ranges) {
    for_ranges(n, fn);
  } else {
    fn(0, n);
  }
}

/// `max_samples` as scikit-learn accepts it: "auto", an int, or a float in (0, 1].
struct MaxSamples {
  enum class Kind { kAuto, kCount, kFraction };
  Kind kind = Kind::kAuto;
  int64_t count = 0;
  double fraction = 1.0;

  static MaxSamples Auto() { return {}; }
  static MaxSamples Count(int64_t n) { return {Kind::kCount, n, 1.0}; }
  static MaxSamples Fraction(double f) { return {Kind::kFraction, 0, f}; }
  std::string ToString() const;
};

/// `max_features`: an int (columns per tree) or a float fraction of the columns.
struct MaxFeatures {
  enum class Kind { kCount, kFraction };
  Kind kind = Kind::kFraction;
  int64_t count = 0;
  double fraction = 1.0;

  static MaxFeatures Count(int64_t n) { return {Kind::kCount, n, 1.0}; }
  static MaxFeatures Fraction(double f) { return {Kind::kFraction, 0, f}; }
  std::string ToString() const;
};

/// `contamination`: "auto" (threshold 0.5) or the expected outlier fraction in (0, 0.5].
struct Contamination {
  bool is_auto = true;
  double value = 0.0;

  static Contamination Auto() { return {}; }
  static Contamination Fraction(double c) { return {false, c}; }
  std::string ToString() const;
};

/// scikit-learn IsolationForest constructor arguments (integer random_state only).
struct IForestParams {
  int32_t n_estimators = 100;
  MaxSamples max_samples;
  Contamination contamination;
  MaxFeatures max_features;
  bool bootstrap = false;
  uint32_t random_state = 0;
};

/// One tree in scikit-learn's own arrays and node order (pre-order, left subtree first).
/// Leaves have children -1, feature -2 and threshold -2.0, as in sklearn.
struct Tree {
  std::vector<int32_t> features;  ///< estimators_features_[t]: columns this tree sees
  std::vector<int32_t> children_left;
  std::vector<int32_t> children_right;
  std::vector<int32_t> feature;  ///< index into `features`
  std::vector<double> threshold;
  std::vector<int32_t> n_node_samples;

  size_t node_count() const { return feature.size(); }
  bool operator==(const Tree& o) const;
};

/// A fitted forest: what scoring needs, plus c(n) baked in so every target (glibc, musl in
/// WebAssembly) uses the same path-length constants instead of its own log().
struct Forest {
  int32_t n_features = 0;                          ///< n_features_in_
  int32_t max_samples = 0;                         ///< max_samples_ (psi)
  int32_t max_features = 0;                        ///< _max_features
  double c_max_samples = 0;                        ///< c(psi), the score denominator per tree
  std::vector<std::pair<int32_t, double>> leaf_c;  ///< c(n) for every leaf size n, sorted by n
  std::vector<Tree> trees;

  bool subsample_features() const { return max_features != n_features; }
  size_t total_nodes() const;
};

/// c(n): the average path length of an unsuccessful binary-search-tree search, exactly as
/// sklearn's _average_path_length (natural log plus Euler's gamma, also for small n).
double AveragePathLength(int64_t n);

/// Fills leaf_c and c_max_samples from the trees (used after training and after import).
void BakePathLengths(Forest& forest);

/// Checks that a forest is structurally sound (children in range, pre-order, features valid)
/// so that a decoded or imported forest can never make the scorer read out of bounds.
Status ValidateForest(const Forest& forest);

/// What a forest will be fitted on, drawn before any data is read. scikit-learn draws each
/// tree's columns and row indices, and its splitter seed, from the row count and random_state
/// alone, so a caller that streams the rows can keep only `rows` (at most n_estimators * psi)
/// and fit exactly the forest FitForest fits on all of them (FitForest is this plan plus
/// FitForestOnPlan).
struct ForestPlan {
  struct TreeDraws {
    std::vector<int32_t> features;  ///< estimators_features_[t]
    std::vector<int64_t> draws;     ///< the tree's row indices as drawn (psi of them)
    uint32_t rand_r_state = 0;      ///< the splitter's xorshift seed
  };
  int64_t n_rows = 0;
  int32_t n_features = 0;
  int32_t max_samples = 0;  ///< psi
  int32_t max_features = 0;
  int32_t max_depth = 0;
  std::vector<int64_t> rows;  ///< every row some tree draws, ascending, each once
  /// The regressor's random target RandomState(random_state).uniform(size=n) at each of
  /// `rows` (it decides sklearn's rare "impurity <= DBL_EPSILON" leaves).
  std::vector<double> y;
  std::vector<TreeDraws> trees;
};

/// psi, the rows a tree draws when fitted on n rows: max_samples as scikit-learn resolves it
/// ("auto" is min(256, n), a count at most n, a fraction of n rounded down).
Result<int64_t> ResolveMaxSamples(const MaxSamples& max_samples, int64_t n);

/// Draws the plan for n rows of d columns. Memory is O(n_estimators * psi), not O(n) (the
/// target y is generated by a sweep of n draws and kept only at `rows`).
Result<ForestPlan> PlanForest(size_t n, size_t d, const IForestParams& params);

/// Fits the planned forest. `x` holds the rows plan.rows names, in that order, row-major
/// float32 with plan.n_features columns, finite. `for_ranges` (optional) splits the trees,
/// which are fitted apart from each other: the forest is the same however they are split.
/// For plans of up to 2^20 rows it holds a table of 4 bytes a row while it runs (each drawn
/// row's place in plan.rows); above that it searches plan.rows instead, with the same trees.
Result<Forest> FitForestOnPlan(const ForestPlan& plan, const float* x,
                               const ForRangesFn& for_ranges = {});

/// Fits a forest on row-major float32 data (n rows by d columns), reproducing scikit-learn
/// 1.2+ IsolationForest.fit bit for bit: same RNG chain, splitter and node order. The data
/// must be finite; the offset is computed separately (see threshold.h). `for_ranges` as for
/// FitForestOnPlan.
Result<Forest> FitForest(const float* x, size_t n, size_t d, const IForestParams& params,
                         const ForRangesFn& for_ranges = {});

}  // namespace isoscope
