#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace isoscope {

/// What a model's own training scores look like: the reference that turns a raw anomaly_score,
/// whose level differs from model to model (a smooth stream's normal rows score 0.35, a noisy
/// one's 0.5), into a surprise that means the same on every stream, model and group.
struct ScoreCalibration {
  int64_t count = 0;  ///< usable training rows
  double mean = 0;    ///< mean anomaly_score of those rows
  double stddev = 0;  ///< their population standard deviation
  bool operator==(const ScoreCalibration& o) const {
    return count == o.count && mean == o.mean && stddev == o.stddev;
  }
};

/// The calibration of `anomaly_scores` (the training rows' scores; empty gives count 0).
ScoreCalibration CalibrateScores(const std::vector<double>& anomaly_scores);

/// The standard deviation below which a score history counts as flat. Scores live in (0, 1];
/// without a floor a model trained on a constant stream would call a 0.001 wiggle a
/// one-in-a-billion event.
constexpr double kMinScoreStddev = 0.01;

/// -log10 Q(z), Q the standard normal upper tail: 0.30 at z = 0, 3 at z = 3.09, 9 at z = 5.99.
/// Finite for every finite z (an asymptotic form where Q underflows).
double GaussianSurprise(double z);

/// GaussianSurprise of z[0, n) into out[0, n) (`out` may be `z`): the same bits, four values
/// side by side where all four are in erfc's series range, about twice as fast.
void GaussianSurprises(const double* z, size_t n, double* out);

/// Turns a stream of raw anomaly scores into a calibrated surprise, in the spirit of Numenta's
/// anomaly likelihood: the mean of the last `short_rows` scores is compared with the
/// distribution of every earlier score (seeded with the training scores, then updated with
/// each row once it is scored), and the surprise is -log10 of the Gaussian tail probability of
/// that mean. A surprise of 4 means "a normal stretch of this stream averages this high once
/// in 10,000 rows", on any model. Causal and deterministic: the same rows in the same order
/// give the same bits.
class SurpriseStream {
 public:
  /// Default averaging window in rows: the row alone. NAB rewards the earliest detection in a
  /// window, and averaging delays it: on the NAB dev half 1 row scored best of 1, 3 and 10
  /// (docs/features.md).
  static constexpr int32_t kDefaultShortRows = 1;

  explicit SurpriseStream(const ScoreCalibration& calibration,
                          int32_t short_rows = kDefaultShortRows,
                          double min_stddev = kMinScoreStddev);

  /// How many rows an onset must top (onset() below): 12 hours of 5-minute data.
  static constexpr int32_t kDefaultOnsetRows = 144;
  /// Bins of the score histogram behind the empirical tail: anomaly scores lie in (0, 1], and
  /// 1024 bins scored the same on the NAB dev half as 4096 (docs/features.md).
  static constexpr int32_t kTailBins = 1024;
  /// The weight of the Gaussian surprise in the onset's level: it ranks rows inside one bin
  /// and beyond the highest score seen, where the empirical tail is flat.
  static constexpr double kGaussianWeight = 0.1;
  /// Above the top kTailShare of earlier scores (at least kTailMinRows of them) the level
  /// comes from an exponential tail fitted to them (peaks over threshold): the empirical share
  /// cannot read beyond "the highest of n", so a new high early in a stream would read lower
  /// than the same one later. 0.01 was better than 0.02 and 0.05 in both NAB modes
  /// (docs/features.md, "The fitted tail").
  static constexpr double kTailShare = 0.01;
  static constexpr int64_t kTailMinRows = 5;

  /// The next row's anomaly_score; NaN (a row without a score) gives NaN and changes nothing.
  /// The same as AdvanceOnset(s, GaussianSurprise(AdvanceReference(s))).
  double Push(double anomaly_score);

  /// Push in parts, for a caller that holds a whole series and spreads the costly middle
  /// (GaussianSurprise, about 0.5 us a row) over threads. The Gaussian reference, the onset's
  /// histogram and its window of levels are separate state, so every row's AdvanceReference
  /// may run first, then GaussianSurprise of each z in any order, then every row's AdvanceOnset
  /// in row order: the same bits as Push row by row. AdvanceOnset is AdvanceTail and then
  /// AdvanceOnsetLevel; every row's AdvanceTail may run on a copy of the stream (made before
  /// the first row) at the same time as the other parts run on the stream itself.
  /// AdvanceReference: the z of the row's short-window mean against the reference before it
  /// (-infinity while there is no reference, so its surprise is 0; NaN for NaN), then adds it.
  double AdvanceReference(double anomaly_score);
  /// AdvanceOnset: the onset of a row whose surprise is known (onset() reads it).
  void AdvanceOnset(double anomaly_score, double surprise);
  /// AdvanceTail: the row's level from the histogram of the scores before it (see onset();
  /// NaN for NaN), then adds the score to the histogram.
  double AdvanceTail(double anomaly_score);
  /// AdvanceOnsetLevel: the onset of a row from its AdvanceTail level and its surprise.
  void AdvanceOnsetLevel(double tail_level, double surprise);

  /// Adds the model's training scores to the onset's histogram (the Gaussian reference already
  /// holds them through the calibration), so that a fresh model's first rows are compared
  /// with its training rows, not with nothing. NaN entries are skipped.
  void SeedTail(const std::vector<double>& training_scores);

  /// The onset of the row last pushed: its level, -log10 of the share of earlier scores at
  /// least as high ((k + 1) / (n + 1), from a histogram of every earlier score; beyond the
  /// top kTailShare, from the tail fitted to them: TailBeyond) plus
  /// kGaussianWeight times its surprise, when that level tops every level of the previous
  /// kDefaultOnsetRows rows, and 0 otherwise; NaN for a row without a score. It fires once
  /// at the start of an episode, as a page does, instead of for every row of it: NAB counts
  /// only the first detection in a window and every other one as a false positive. The
  /// empirical tail reads "one in N rows" on any stream, however heavy its scores' tail.
  double onset() const { return onset_; }

  int64_t count() const { return count_; }
  double mean() const { return mean_; }
  /// The history's standard deviation, floored at kMinScoreStddev.
  double stddev() const;

 private:
  int32_t short_rows_;
  double min_stddev_;
  int64_t count_;
  double mean_;
  double m2_;  ///< sum of squared deviations (Welford)
  std::vector<double> recent_;
  size_t next_ = 0;
  // The histogram of the scores pushed so far, sparse: the occupied bins in ascending order
  // and their counts. One stream's scores fill a narrow band of the kTailBins + 1 bins, and
  // the daemon keeps a stream per group (dense, 4 KB each: 400 MB at 100,000 groups).
  std::vector<uint16_t> tail_bins_;
  std::vector<uint32_t> tail_counts_;
  int64_t tail_count_ = 0;  ///< how many scores the histogram holds
  // The fitted tail's threshold bin u and how many scores lie in the bins from u up (0 until
  // the first fit): kept between rows, since it moves little from one row to the next.
  uint16_t tail_u_ = 0;
  int64_t tail_m_ = 0;
  // The levels of the last kDefaultOnsetRows rows that can still be the highest of that
  // window, as (row, level) with levels strictly decreasing (a monotonic queue): the front is
  // the window's maximum, and a steady stream keeps a few entries instead of all 144.
  std::vector<std::pair<int64_t, double>> level_queue_;
  int64_t level_rows_ = 0;  ///< rows whose level was remembered
  double onset_ = 0;

  double TailBeyond(double anomaly_score, size_t bin);
  size_t SettleTailThreshold(int64_t want);
  void AddToTail(size_t bin);
  void RememberLevel(double level);
};

/// The surprise of a whole series of anomaly scores in order (NaN in, NaN out), as score and
/// the daemon compute it row by row: for callers that hold a history at once (the panel's
/// what-if, replay).
std::vector<double> SurpriseSeries(const ScoreCalibration& calibration,
                                   const std::vector<double>& anomaly_scores,
                                   int32_t short_rows = SurpriseStream::kDefaultShortRows);

/// The onset (SurpriseStream::onset) of a whole series of anomaly scores in order: for the
/// panel's what-if and replay, which hold a history at once.
std::vector<double> OnsetSeries(const ScoreCalibration& calibration,
                                const std::vector<double>& anomaly_scores);

}  // namespace isoscope
