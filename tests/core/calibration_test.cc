// Expected values: scipy 1.10, -scipy.stats.norm.logsf(z) / ln(10), and numpy's mean and
// population std of the same histories (the computation is in each test's comment).
#include "isoscope/calibration.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <limits>
#include <vector>

namespace isoscope {
namespace {

TEST(GaussianSurprise, MatchesScipyTailIncludingWhereErfcUnderflows) {
  EXPECT_NEAR(GaussianSurprise(0), 0.30102999566398114, 1e-14);
  EXPECT_NEAR(GaussianSurprise(1), 0.7995455414919707, 1e-13);
  EXPECT_NEAR(GaussianSurprise(3.09), 2.9996603076076673, 1e-12);
  EXPECT_NEAR(GaussianSurprise(-3), 0.0005866493137900663, 1e-15);
  EXPECT_NEAR(GaussianSurprise(10), 23.118053405486076, 1e-10);
  // Q(40) is 3.7e-350, below the smallest double: the asymptotic form takes over.
  EXPECT_NEAR(GaussianSurprise(40), 349.43700645934587, 1e-6);
}

// Four at a time, the same bits as one at a time: values of every branch (the series, the
// continued fraction from |z| = 2 sqrt 2 on, the asymptote where Q underflows, NaN and
// infinities, both signs of zero), mixed within groups of four and alone at the end.
TEST(GaussianSurprises, EqualGaussianSurpriseBitForBit) {
  std::vector<double> z;
  for (int i = -4000; i <= 4000; ++i) z.push_back(i * 0.0013);  // |z| < 5.2: both branches
  const double edge = 2 * std::sqrt(2.0);
  for (double v : {edge, -edge, std::nextafter(edge, 0.0), std::nextafter(-edge, 0.0),
                   std::nextafter(edge, 9.0), 0.0, -0.0, 40.0, -40.0, 1e300, -1e-300,
                   std::numeric_limits<double>::infinity(),
                   -std::numeric_limits<double>::infinity(), std::nan("")}) {
    z.push_back(v);
  }
  for (int i = 0; i < 999; ++i) z.push_back(std::sin(i * 0.7) * 3.1);
  std::vector<double> got(z.size());
  GaussianSurprises(z.data(), z.size(), got.data());
  for (size_t i = 0; i < z.size(); ++i) {
    const double want = GaussianSurprise(z[i]);
    ASSERT_EQ(std::memcmp(&got[i], &want, sizeof want), 0) << i << " z " << z[i];
  }
  GaussianSurprises(z.data(), z.size(), z.data());  // in place
  EXPECT_EQ(std::memcmp(z.data(), got.data(), z.size() * sizeof(double)), 0);
}

TEST(CalibrateScores, MeanAndPopulationStddev) {
  // numpy: mean 0.5, std (ddof 0) 0.07071067811865475
  const ScoreCalibration c = CalibrateScores({0.4, 0.45, 0.5, 0.55, 0.6});
  EXPECT_EQ(c.count, 5);
  EXPECT_NEAR(c.mean, 0.5, 1e-15);
  EXPECT_NEAR(c.stddev, 0.07071067811865475, 1e-15);
  EXPECT_EQ(CalibrateScores({}).count, 0);
}

TEST(SurpriseStream, ComparesEachRowWithEveryEarlierScore) {
  // Row 1: z = (0.8 - 0.5) / 0.0707.. = 4.243 against the five training scores -> 4.9568;
  // row 2: history is the five plus 0.8 (mean 0.55, std 0.1258): z = -0.397 -> 0.18660.
  SurpriseStream s(CalibrateScores({0.4, 0.45, 0.5, 0.55, 0.6}));
  EXPECT_NEAR(s.Push(0.8), 4.956824508795938, 1e-12);
  EXPECT_TRUE(std::isnan(s.Push(std::nan(""))));  // a row without a score changes nothing
  EXPECT_EQ(s.count(), 6);
  EXPECT_NEAR(s.Push(0.5), 0.18659762200829497, 1e-12);
}

TEST(SurpriseStream, AveragesTheLastShortRows) {
  // short_rows 2: row 1 averages 0.6 alone (z 1.414 -> 1.10430), row 2 averages 0.6 and 0.7
  // = 0.65 against the training scores plus 0.6 (mean 0.51667, std 0.07454) -> 1.43393.
  SurpriseStream s(CalibrateScores({0.4, 0.45, 0.5, 0.55, 0.6}), 2);
  EXPECT_NEAR(s.Push(0.6), 1.104303462325841, 1e-12);
  EXPECT_NEAR(s.Push(0.7), 1.433926417977999, 1e-12);
}

TEST(SurpriseStream, FlatTrainingScoresUseTheFloor) {
  // All training rows scored 0.4: the std floor 0.01 makes 0.42 a z of 2 -> 1.64302, not
  // an infinite surprise.
  ScoreCalibration flat{100, 0.4, 0.0};
  SurpriseStream s(flat);
  EXPECT_EQ(s.stddev(), kMinScoreStddev);
  EXPECT_NEAR(s.Push(0.42), 1.6430160801409368, 1e-9);
}

TEST(SurpriseStream, NoCalibrationGivesZeroUntilItHasAHistory) {
  SurpriseStream s(ScoreCalibration{});
  EXPECT_EQ(s.Push(0.9), 0.0);
  EXPECT_GT(s.Push(0.95), 0.0);
}

TEST(SurpriseSeries, IsTheStreamOverAWholeHistory) {
  // The values of ComparesEachRowWithEveryEarlierScore, NaN kept in place.
  const auto s =
      SurpriseSeries(CalibrateScores({0.4, 0.45, 0.5, 0.55, 0.6}), {0.8, std::nan(""), 0.5});
  ASSERT_EQ(s.size(), 3u);
  EXPECT_NEAR(s[0], 4.956824508795938, 1e-12);
  EXPECT_TRUE(std::isnan(s[1]));
  EXPECT_NEAR(s[2], 0.18659762200829497, 1e-12);
}

// SurpriseSeries skips the onset it does not return: its values are still Push's, bit for bit,
// over a history long enough to move the fitted tail, with NaN rows.
TEST(SurpriseSeries, EqualsPushRowByRowBitForBit) {
  std::vector<double> training, scores;
  for (int i = 0; i < 500; ++i) training.push_back(0.35 + 0.2 * std::fmod(i * 0.618034, 1.0));
  for (int i = 0; i < 3000; ++i) {
    scores.push_back(i % 97 == 0 ? std::nan("") : 0.3 + 0.5 * std::fmod(i * 0.7548777, 1.0));
  }
  const ScoreCalibration cal = CalibrateScores(training);
  const std::vector<double> series = SurpriseSeries(cal, scores);
  SurpriseStream stream(cal);
  ASSERT_EQ(series.size(), scores.size());
  for (size_t i = 0; i < scores.size(); ++i) {
    const double want = stream.Push(scores[i]);
    ASSERT_EQ(std::memcmp(&series[i], &want, sizeof(double)), 0) << "row " << i;
  }
}

TEST(SurpriseStream, OnsetIsTheTailLevelWhenItTopsTheRecentRows) {
  // Python, independent of the stream, bins floor(1024 x). Below the tail threshold u the level
  // is -log10((k + 1) / (n + 1)), k of the n earlier scores at or above the row's bin; above
  // it, with m = max(5, floor(0.01 n)) earlier scores in the top bins from u up and beta their
  // mean excess over u, -log10(m / (n + 1)) + (x - u) / beta / ln 10; plus 0.1 * the surprise.
  // Row 1 (0.8): n 5, m 5, u bin 409, excess 513 bins: beta 0.10020, 0.07918 + 1.73614 =
  // 1.81532, + 0.49568 = 2.31120, above nothing.
  // Row 2 (0.5): n 6, m 5, u bin 460, beta 0.13047: 0.14613 + 0.16905 + 0.01866 = 0.33382,
  // below row 1's.
  SurpriseStream s(CalibrateScores({0.4, 0.45, 0.5, 0.55, 0.6}));
  s.SeedTail({0.4, 0.45, 0.5, std::nan(""), 0.55, 0.6});
  s.Push(0.8);
  EXPECT_NEAR(s.onset(), 2.311195046602793, 1e-12);
  s.Push(std::nan(""));
  EXPECT_TRUE(std::isnan(s.onset()));
  s.Push(0.5);
  EXPECT_EQ(s.onset(), 0.0);
  const auto series = OnsetSeries(CalibrateScores({0.4, 0.45, 0.5, 0.55, 0.6}), {0.8, 0.5});
  // Without SeedTail the histogram starts empty (fewer than 5 scores: no tail fitted): row 1
  // is -log10(1/1) + 0.49568.
  EXPECT_NEAR(series[0], 0.4956824508795938, 1e-12);
}

TEST(SurpriseStream, OnsetFiresOncePerEpisode) {
  // Quiet rows, an episode of 20 high rows, quiet for longer than kDefaultOnsetRows, the
  // episode again: the onset tops 1 (one in ten) on each episode's first row only (a quiet row
  // that is the highest of its quiet window gets a low onset).
  SurpriseStream s(CalibrateScores({0.44, 0.45, 0.46}));
  std::vector<int> fired;
  int row = 0;
  auto run = [&](double score, int rows) {
    for (int i = 0; i < rows; ++i, ++row) {
      s.Push(score < 0.5 ? score + 0.001 * (row % 3) : score);  // a flat episode
      if (row >= 300 && s.onset() > 1) fired.push_back(row);
    }
  };
  run(0.45, 300);
  run(0.9, 20);
  run(0.45, SurpriseStream::kDefaultOnsetRows + 10);
  const int second = row;
  run(0.9, 20);
  EXPECT_EQ(fired, (std::vector<int>{300, second}));
}

TEST(SurpriseStream, SameRowsSameBits) {
  const ScoreCalibration c = CalibrateScores({0.41, 0.43, 0.47, 0.52});
  SurpriseStream a(c, 3), b(c, 3);
  for (int i = 0; i < 1000; ++i) {
    const double x = 0.4 + 0.2 * std::fabs(std::sin(i * 0.37));
    EXPECT_EQ(a.Push(x), b.Push(x));
  }
}

TEST(SurpriseStream, HalvesRunAsWholePassesGiveThePushBits) {
  // Every row's AdvanceReference first, GaussianSurprise of the z's from the last row back,
  // then every AdvanceOnset (or AdvanceTail on a copy first, then every AdvanceOnsetLevel):
  // the bits of Push and onset() row by row. NaN rows included, and
  // a stream without a calibration (its first surprise is 0, from a z of -infinity).
  for (const ScoreCalibration& c :
       {CalibrateScores({0.41, 0.43, 0.47, 0.52}), ScoreCalibration{}}) {
    std::vector<double> x;
    for (int i = 0; i < 3000; ++i) {
      x.push_back(i % 97 == 5 ? std::nan("") : 0.4 + 0.3 * std::fabs(std::sin(i * 0.37)));
    }
    SurpriseStream whole(c), halves(c), parts(c);
    // parts: the histogram's levels first, on a copy, then the reference, then the onsets.
    SurpriseStream histogram = parts;
    std::vector<double> level(x.size());
    for (size_t i = 0; i < x.size(); ++i) level[i] = histogram.AdvanceTail(x[i]);
    std::vector<double> z(x.size());
    for (size_t i = 0; i < x.size(); ++i) z[i] = halves.AdvanceReference(x[i]);
    for (size_t i = 0; i < x.size(); ++i) parts.AdvanceReference(x[i]);
    for (size_t i = x.size(); i-- > 0;) z[i] = GaussianSurprise(z[i]);
    for (size_t i = 0; i < x.size(); ++i) {
      const double surprise = whole.Push(x[i]);
      halves.AdvanceOnset(x[i], z[i]);
      parts.AdvanceOnsetLevel(level[i], z[i]);
      ASSERT_EQ(std::memcmp(&surprise, &z[i], sizeof surprise), 0) << i;
      const double a = whole.onset(), b = halves.onset(), p = parts.onset();
      ASSERT_EQ(std::memcmp(&a, &b, sizeof a), 0) << i;
      ASSERT_EQ(std::memcmp(&a, &p, sizeof a), 0) << i;
    }
    // The first row against the training scores (numpy: mean 0.4575, std 0.04205650960315182),
    // or against nothing.
    if (c.count > 0) {
      EXPECT_NEAR(z[0], GaussianSurprise((0.4 - 0.4575) / 0.04205650960315182), 1e-12);
    } else {
      EXPECT_EQ(z[0], 0.0);
    }
  }
}

// The onset's level without the Gaussian term, from every earlier score kept whole (the
// stream keeps a sparse histogram): bins floor(1024 x); the tail threshold u is the lowest of
// the top bins that together hold m >= max(5, floor(0.01 n)) earlier scores; above u, an
// exponential tail of their mean excess; at or below, the empirical share.
double BruteForceTailLevel(const std::vector<double>& earlier, double x) {
  const auto bin = [](double v) { return static_cast<int>(std::clamp(v, 0.0, 1.0) * 1024); };
  const auto n = static_cast<int64_t>(earlier.size());
  const auto at_least =
      std::count_if(earlier.begin(), earlier.end(), [&](double e) { return bin(e) >= bin(x); });
  const double empirical =
      -std::log10(static_cast<double>(at_least + 1) / static_cast<double>(n + 1));
  const int64_t want = std::max<int64_t>(5, static_cast<int64_t>(0.01 * static_cast<double>(n)));
  if (n < want) return empirical;
  std::vector<int> bins;
  for (double e : earlier) bins.push_back(bin(e));
  std::sort(bins.begin(), bins.end(), std::greater<int>());
  int64_t m = 0;
  int u = bins[0];
  for (size_t i = 0; i < bins.size() && m < want;) {
    u = bins[i];
    while (i < bins.size() && bins[i] == u) ++m, ++i;  // whole bins
  }
  if (bin(x) <= u) return empirical;
  double excess = 0;
  for (int b : bins) excess += b >= u ? b - u : 0;
  const double beta = std::max(excess / static_cast<double>(m) / 1024, 1.0 / 1024);
  return -std::log10(static_cast<double>(m) / static_cast<double>(n + 1)) +
         (x - u / 1024.0) / beta / std::log(10.0);
}

TEST(SurpriseStream, OnsetEqualsItsDefinitionComputedByBruteForce) {
  // The stream keeps a sparse histogram and a monotonic queue of levels; the definition is
  // BruteForceTailLevel over every earlier score and the maximum of all the previous
  // kDefaultOnsetRows levels. Scores wander (a random walk, with spikes and NaN), so
  // the queue grows and shrinks and bins are added in every order.
  const ScoreCalibration c = CalibrateScores({0.41, 0.43, 0.47, 0.52});
  const std::vector<double> seed = {0.41, 0.43, 0.47, 0.52};
  SurpriseStream stream(c), gaussian_only(c);
  stream.SeedTail(seed);
  std::vector<double> earlier = seed, levels;
  uint64_t state = 12345;
  auto uniform = [&state] {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<double>(state >> 11) / 9007199254740992.0;
  };
  double walk = 0.45;
  int fired = 0;
  for (int row = 0; row < 5000; ++row) {
    walk = std::clamp(walk + 0.01 * (uniform() - 0.5), 0.3, 0.7);
    const double u = uniform();
    const double x = u < 0.01 ? std::nan("") : u < 0.03 ? walk + 0.3 * uniform() : walk;
    const double surprise = gaussian_only.Push(x);
    stream.Push(x);
    if (std::isnan(x)) {
      EXPECT_TRUE(std::isnan(stream.onset()));
      continue;
    }
    const double level = BruteForceTailLevel(earlier, x) + 0.1 * surprise;
    double highest = 0;
    const size_t from = levels.size() > 144 ? levels.size() - 144 : 0;
    for (size_t i = from; i < levels.size(); ++i) highest = std::max(highest, levels[i]);
    const double want = level > highest ? level : 0.0;
    ASSERT_EQ(stream.onset(), want) << "row " << row;
    fired += want > 0;
    earlier.push_back(x);
    levels.push_back(level);
  }
  EXPECT_GT(fired, 20);  // the check covered onsets as well as zeros
}

}  // namespace
}  // namespace isoscope
