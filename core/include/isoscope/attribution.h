#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "isoscope/features.h"
#include "isoscope/iforest.h"
#include "isoscope/model.h"
#include "isoscope/status.h"

namespace isoscope {

/// Exact per-feature attribution of a forest's mean path length E[h(x)]: the Shapley values of
/// the path-dependent game v(S) = E[h(x) | x_S] (Lundberg, Erion & Lee 2018), where a split on a
/// feature outside S sends the row down both children weighted by their training counts
/// (n_node_samples). Shapley values are linear in the game, so the forest's values are the mean
/// of each tree's, and they add up exactly: sum_i phi_i = E[h(x)] - baseline().
///
/// How the values are computed (not Algorithm 2, which costs O(leaves x depth^2) per tree):
/// a leaf l adds value_l * prod_{j in U} (j in S ? o_j : z_j) to v(S), where U are the
/// features split on along its path, z_j the product of their cover ratios and o_j in {0, 1}
/// whether x follows every split on j. With A = the features x follows and B the others, the
/// Shapley weight |S|!(L-|S|-1)!/L! is the Beta integral of s^|S| (1-s)^(L-|S|-1) over [0, 1],
/// which turns each leaf's share into the integral of a polynomial of degree L - 1:
///   j in B: -value * prod_B z * int_0^1 (1-s)^(L-1) prod_{k in A} u_k(s) ds
///   j in A: value * (1 - z_j) * prod_B z * int_0^1 (1-s)^(L-1) prod_{k in A, k != j} u_k(s) ds
/// with u_k(s) = s / (1-s) + z_k. Gauss-Legendre quadrature with ceil(L/2) nodes integrates
/// these exactly, and every term is positive, so nothing cancels. Everything but the hot/cold
/// pattern is fixed per leaf and precomputed here.
class ForestExplainer {
 public:
  static Result<ForestExplainer> Compile(const Forest& forest);

  /// Shapley values in path-length units for one row of float32 values (the scorer's input:
  /// scaled, n_features wide). phi gets n_features entries; a negative value shortens the
  /// path, i.e. makes the row more anomalous. Routing is the scorer's: float32 x against the
  /// float64 threshold, `<=` goes left.
  void PathShapley(const float* row, double* phi) const;

  /// phi_0 = the mean over trees of each tree's cover-weighted mean leaf value, v(empty set).
  /// A constant of the model, not the mean of E[h] over the training set.
  double baseline() const { return baseline_; }
  /// c(psi): log2 of the anomaly score is -E[h]/c(psi).
  double c_max_samples() const { return c_max_samples_; }
  size_t n_features() const { return n_features_; }
  size_t leaf_count() const { return leaves_.size(); }

 private:
  struct Leaf {
    double value = 0;         // the leaf's path length, depth + c(n)
    uint32_t first_step = 0;  // into steps_
    uint16_t n_steps = 0;     // L, the distinct features on the path
    uint16_t n_quad = 0;      // q = ceil(L / 2) quadrature nodes
  };
  // One feature on a leaf's path: x follows every split on it iff lo < x <= hi. 24 bytes: a
  // row reads every leaf's steps, so the layout is kept small (the rest comes from tables).
  struct Step {
    float lo;
    float hi;
    uint32_t column;
    double z;  // product of the cover ratios of the splits on this feature
  };
  template <int kSteps>
  void LeafShapley(const Leaf& leaf, const float* row, double* phi) const;
  struct PathState;
  void AddLeaf(const PathState& path, double value);
  // Adds one tree's leaves; returns its baseline v_t(empty set).
  double CompileTree(const Forest& forest, const Tree& tree, PathState& path);

  std::vector<Leaf> leaves_;
  std::vector<Step> steps_;
  // Per L: weight_r * (1 - s_r)^(L-1) of the ceil(L/2)-node rule; per q: s_r / (1 - s_r).
  std::vector<double> leaf_weight_;
  std::vector<double> odds_;
  size_t n_features_ = 0;
  size_t n_trees_ = 0;
  double baseline_ = 0;
  double c_max_samples_ = 0;
};

/// Which input series each vector column is read from (spec.ColumnNames() order): the raw
/// input's index, a derived feature's `input`, or -1 for time features (hour_of_week, ...).
std::vector<int32_t> ColumnInputs(const FeatureSpec& spec);

/// One row's attribution in the unit that adds up to the score: contribution[i] = -phi_i/c(psi)
/// is feature i's exact share of log2 s(x), so log2 s(x) = log2 s_0 + sum_i contribution[i] and
/// s(x) = s_0 * prod_i 2^contribution[i]. Positive pushes towards anomalous.
struct RowExplanation {
  RowIssue issue = RowIssue::kNone;
  int32_t column = -1;
  double anomaly_score = 0;          ///< s(x), from the scorer
  std::vector<double> contribution;  ///< per vector column, log2 units
  std::vector<double> per_input;     ///< per input series: sum over its columns
  int32_t top_input = -1;  ///< input with the largest per_input value (-1: none, or all equal)
  bool ok() const { return issue == RowIssue::kNone; }
};

/// A model's explainer: the scaler and scorer of ModelScorer plus a ForestExplainer. Immutable;
/// one may be shared by threads that each explain their own rows.
class Explainer {
 public:
  static Result<Explainer> Create(const Model& model);

  /// Explains one feature vector (spec width, unscaled), as ModelScorer::ScoreFeatures scores
  /// it; a row that cannot be scored gets its issue and no values.
  RowExplanation Explain(const double* features) const;
  /// Path-length Shapley values of an already prepared float32 row (see ModelScorer::Prepare).
  void PathShapley(const float* row, double* phi) const { forest_.PathShapley(row, phi); }

  /// s_0 = 2^(-baseline/c(psi)): the score of a row about which nothing is known.
  double baseline_score() const;
  double baseline_path_length() const { return forest_.baseline(); }
  size_t width() const { return forest_.n_features(); }
  size_t n_inputs() const { return n_inputs_; }
  const std::vector<int32_t>& column_inputs() const { return column_inputs_; }
  const ModelScorer& scorer() const { return scorer_; }

 private:
  ModelScorer scorer_;
  ForestExplainer forest_;
  std::vector<int32_t> column_inputs_;
  size_t n_inputs_ = 0;
  double c_max_samples_ = 0;
};

}  // namespace isoscope
