#include "isoscope/calibration.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace isoscope {
namespace {

constexpr double kLn10 = 2.302585092994046;
constexpr double kSqrt2 = 1.4142135623730951;
constexpr double kLnSqrt2Pi = 0.9189385332046728;
constexpr double kSqrtPi = 1.7724538509055159;
// ln 2 split so that k * kLn2Hi is exact for |k| < 2^11 (fdlibm's constants).
constexpr double kLn2Hi = 6.93147180369123816490e-01;
constexpr double kLn2Lo = 1.90821492927058770002e-10;

// The surprise must be the same bits in `isoscope score`, the daemon and the browser, but libm's
// erfc and log10 differ by an ulp between glibc and Emscripten's musl. These use only +, -, *,
// / and exact scaling, which IEEE 754 defines to the bit (no FMA contraction in either build),
// with fixed term counts; they agree with libm to about 1e-15 relative.

// 1/n and 1/(2n + 1), rounded once at compile time (the same doubles on every target): a
// term's step multiplies by them instead of dividing, which is what kept the series slow (a
// division's latency is four multiplications' on current x86).
struct Reciprocals {
  double of_n[19];
  double of_odd[201];
  constexpr Reciprocals() : of_n(), of_odd() {
    for (int n = 1; n < 19; ++n) of_n[n] = 1.0 / n;
    for (int n = 0; n < 201; ++n) of_odd[n] = 1.0 / (2 * n + 1);
  }
};
constexpr Reciprocals kInverse;

// e^y for y <= 0 down to about -745: y = k ln 2 + r, |r| <= ln2/2, Taylor to r^18/18!.
// Below -746 (the square of a huge z, -inf among them) e^y rounds to 0, and k would not fit
// an int.
double PortableExp(double y) {
  if (!(y >= -746.0)) return 0.0;
  const double k = std::floor(y / (kLn2Hi + kLn2Lo) + 0.5);
  const double r = (y - k * kLn2Hi) - k * kLn2Lo;
  double sum = 1.0, term = 1.0;
  for (int n = 1; n <= 18; ++n) {
    term = term * r * kInverse.of_n[n];
    sum += term;
  }
  return std::ldexp(sum, static_cast<int>(k));
}

// ln q for finite q > 0: q = m 2^e with m in [sqrt(1/2), sqrt(2)), ln m = 2 atanh((m-1)/(m+1)),
// whose series in s^2 <= 0.0295 needs 16 terms.
double PortableLog(double q) {
  int e = 0;
  double m = std::frexp(q, &e);
  if (m < 0.7071067811865476) {
    m *= 2;
    --e;
  }
  const double s = (m - 1) / (m + 1), s2 = s * s;
  double sum = 0, power = s;
  for (int k = 0; k < 16; ++k) {
    sum += power * kInverse.of_odd[k];
    power *= s2;
  }
  return e * kLn2Hi + (e * kLn2Lo + 2 * sum);
}

// erfc(x) for x >= 0: 1 - erf(x) by erf's series of positive terms below 2 (it loses at most a
// factor 1/erfc(2) = 213 of an ulp; at most 64 terms below 2, 0 at x = 0), Laplace's continued
// fraction from 2 on (60 terms reach full precision there).
double PortableErfcNonNegative(double x) {
  if (x < 2.0) {
    const double two_x2 = 2 * x * x;
    double term = x, sum = x;
    for (int n = 1; n <= 200 && term > sum * 1e-17; ++n) {
      term = term * two_x2 * kInverse.of_odd[n];
      sum += term;
    }
    return 1.0 - (2 / kSqrtPi) * PortableExp(-x * x) * sum;
  }
  double t = x;
  for (int k = 60; k >= 1; --k) t = x + (k * 0.5) / t;
  return PortableExp(-x * x) / kSqrtPi / t;
}

// GaussianSurprise of four values side by side, for |z| < 2 sqrt 2 (the series branch of erfc,
// far from the underflow): each lane takes the one-value functions' steps above in the same
// order on the same doubles, so every lane is GaussianSurprise's bits. The lanes only overlap
// the multiplications' latency, which a single value's chains of dependent steps leave idle.
constexpr size_t kLanes = 4;

void ExpLanes(const double* y, double* out) {
  double k[kLanes], r[kLanes], sum[kLanes], term[kLanes];
  for (size_t l = 0; l < kLanes; ++l) {
    k[l] = std::floor(y[l] / (kLn2Hi + kLn2Lo) + 0.5);
    r[l] = (y[l] - k[l] * kLn2Hi) - k[l] * kLn2Lo;
    sum[l] = 1.0;
    term[l] = 1.0;
  }
  for (int n = 1; n <= 18; ++n) {
    for (size_t l = 0; l < kLanes; ++l) {
      term[l] = term[l] * r[l] * kInverse.of_n[n];
      sum[l] += term[l];
    }
  }
  for (size_t l = 0; l < kLanes; ++l) out[l] = std::ldexp(sum[l], static_cast<int>(k[l]));
}

void LogLanes(const double* q, double* out) {
  int e[kLanes];
  double s2[kLanes], sum[kLanes], power[kLanes];
  for (size_t l = 0; l < kLanes; ++l) {
    double m = std::frexp(q[l], &e[l]);
    if (m < 0.7071067811865476) {
      m *= 2;
      --e[l];
    }
    const double s = (m - 1) / (m + 1);
    s2[l] = s * s;
    sum[l] = 0;
    power[l] = s;
  }
  for (int k = 0; k < 16; ++k) {
    for (size_t l = 0; l < kLanes; ++l) {
      sum[l] += power[l] * kInverse.of_odd[k];
      power[l] *= s2[l];
    }
  }
  for (size_t l = 0; l < kLanes; ++l) out[l] = e[l] * kLn2Hi + (e[l] * kLn2Lo + 2 * sum[l]);
}

// PortableErfcNonNegative's series (x < 2) of each lane: a lane stops where the one-value
// loop would, and keeps its sum from then on.
void ErfSeriesLanes(const double* x, double* sum) {
  double two_x2[kLanes], term[kLanes];
  bool live[kLanes];
  for (size_t l = 0; l < kLanes; ++l) {
    two_x2[l] = 2 * x[l] * x[l];
    term[l] = x[l];
    sum[l] = x[l];
    live[l] = true;
  }
  for (int n = 1; n <= 200; ++n) {
    bool any = false;
    for (size_t l = 0; l < kLanes; ++l) {
      live[l] = live[l] && term[l] > sum[l] * 1e-17;
      if (!live[l]) continue;
      term[l] = term[l] * two_x2[l] * kInverse.of_odd[n];
      sum[l] += term[l];
      any = true;
    }
    if (!any) return;
  }
}

// Four values of z, each finite with |z / sqrt 2| < 2.
void GaussianSurpriseLanes(const double* z, double* out) {
  double x[kLanes], ax[kLanes], y[kLanes], series[kLanes], e[kLanes], q[kLanes];
  for (size_t l = 0; l < kLanes; ++l) {
    x[l] = z[l] / kSqrt2;
    ax[l] = x[l] >= 0 ? x[l] : -x[l];
    y[l] = -ax[l] * ax[l];
  }
  ErfSeriesLanes(ax, series);
  ExpLanes(y, e);
  for (size_t l = 0; l < kLanes; ++l) {
    const double erfc_ax = 1.0 - (2 / kSqrtPi) * e[l] * series[l];
    q[l] = 0.5 * (x[l] >= 0 ? erfc_ax : 2.0 - erfc_ax);
  }
  LogLanes(q, out);
  for (size_t l = 0; l < kLanes; ++l) out[l] = -out[l] / kLn10;
}

}  // namespace

ScoreCalibration CalibrateScores(const std::vector<double>& anomaly_scores) {
  ScoreCalibration c;
  // Welford's update: stable for scores that all sit near one value.
  double mean = 0, m2 = 0;
  int64_t n = 0;
  for (double s : anomaly_scores) {
    ++n;
    const double d = s - mean;
    mean += d / static_cast<double>(n);
    m2 += d * (s - mean);
  }
  c.count = n;
  c.mean = mean;
  c.stddev = n > 0 ? std::sqrt(m2 / static_cast<double>(n)) : 0.0;
  return c;
}

double GaussianSurprise(double z) {
  if (std::isnan(z)) return z;
  if (std::isinf(z)) return z > 0 ? z : 0.0;
  const double x = z / kSqrt2;
  const double erfc = x >= 0 ? PortableErfcNonNegative(x) : 2.0 - PortableErfcNonNegative(-x);
  const double q = 0.5 * erfc;
  if (q > 1e-300) return -PortableLog(q) / kLn10;
  // Mills ratio: ln Q(z) ~ -z^2/2 - ln(z sqrt(2 pi)) - ln(1 + 1/z^2) for large z, where erfc
  // underflows (z > 37); its error there is below 1e-6 of the result.
  return (0.5 * z * z + PortableLog(z) + kLnSqrt2Pi + PortableLog(1.0 + 1.0 / (z * z))) / kLn10;
}

void GaussianSurprises(const double* z, size_t n, double* out) {
  // kLanes at a time where all of them take the series branch; any other value alone.
  auto in_series = [](double v) { return std::fabs(v / kSqrt2) < 2.0; };
  size_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    if (std::all_of(z + i, z + i + kLanes, in_series)) {
      GaussianSurpriseLanes(z + i, out + i);
    } else {
      for (size_t l = 0; l < kLanes; ++l) out[i + l] = GaussianSurprise(z[i + l]);
    }
  }
  for (; i < n; ++i) out[i] = GaussianSurprise(z[i]);
}

SurpriseStream::SurpriseStream(const ScoreCalibration& calibration, int32_t short_rows,
                               double min_stddev)
    : short_rows_(std::max<int32_t>(1, short_rows)),
      min_stddev_(min_stddev),
      count_(calibration.count),
      mean_(calibration.mean),
      m2_(calibration.stddev * calibration.stddev * static_cast<double>(calibration.count)) {
  recent_.reserve(static_cast<size_t>(short_rows_));
}

void SurpriseStream::AddToTail(size_t bin) {
  const auto it = std::lower_bound(tail_bins_.begin(), tail_bins_.end(), bin);
  const auto at = it - tail_bins_.begin();
  if (it != tail_bins_.end() && *it == bin) {
    ++tail_counts_[static_cast<size_t>(at)];
  } else {
    tail_bins_.insert(it, static_cast<uint16_t>(bin));
    tail_counts_.insert(tail_counts_.begin() + at, 1);
  }
  ++tail_count_;
  if (tail_m_ > 0 && bin >= tail_u_) ++tail_m_;
}

size_t SurpriseStream::SettleTailThreshold(int64_t want) {
  // The threshold only drifts (a row adds one score, and `want` grows by one every 100 rows),
  // so it moves a bin or two from where it was instead of being found afresh from the top.
  size_t k =
      tail_m_ > 0
          ? static_cast<size_t>(std::lower_bound(tail_bins_.begin(), tail_bins_.end(), tail_u_) -
                                tail_bins_.begin())
          : tail_bins_.size();
  while (k > 0 && tail_m_ < want) tail_m_ += tail_counts_[--k];
  while (k + 1 < tail_bins_.size() && tail_m_ - tail_counts_[k] >= want) {
    tail_m_ -= tail_counts_[k++];
  }
  tail_u_ = tail_bins_[k];
  return k;  // tail_u_'s position among the occupied bins
}

double SurpriseStream::AdvanceTail(double anomaly_score) {
  if (std::isnan(anomaly_score)) return anomaly_score;
  const auto bin = static_cast<size_t>(std::clamp(anomaly_score, 0.0, 1.0) * kTailBins);
  const auto from =
      std::lower_bound(tail_bins_.begin(), tail_bins_.end(), bin) - tail_bins_.begin();
  // Earlier scores in this bin or above, counted from the nearer end of the occupied bins (the
  // count is an integer: either way gives the same value, one walks half as far at most).
  const auto upper = static_cast<size_t>(from);
  int64_t at_least = 0;
  if (upper >= tail_counts_.size() / 2) {
    for (size_t b = upper; b < tail_counts_.size(); ++b) at_least += tail_counts_[b];
  } else {
    at_least = tail_count_;
    for (size_t b = 0; b < upper; ++b) at_least -= tail_counts_[b];
  }
  const double n1 = static_cast<double>(tail_count_ + 1);
  double level = -std::log10(static_cast<double>(at_least + 1) / n1);
  const double beyond = TailBeyond(anomaly_score, bin);
  if (!std::isnan(beyond)) level = beyond;
  AddToTail(bin);
  return level;
}

double SurpriseStream::TailBeyond(double anomaly_score, size_t bin) {
  // Peaks over a threshold: the highest kTailShare of earlier scores (at least kTailMinRows)
  // in the bins from the threshold bin u up (whole bins: u is the highest bin whose bins at or
  // above hold that many), with an exponential tail of their mean excess beta:
  // P(S >= s) = (m / (n + 1)) * exp(-(s - u) / beta).
  const auto want = std::max<int64_t>(
      kTailMinRows, static_cast<int64_t>(kTailShare * static_cast<double>(tail_count_)));
  if (tail_count_ < want || tail_bins_.empty()) return std::nan("");
  const size_t k = SettleTailThreshold(want);
  const size_t u_bin = tail_u_;
  if (bin <= u_bin) return std::nan("");
  const int64_t m = tail_m_;
  double excess = 0;  // integers below 2^53: exact, in any order
  for (size_t b = k; b < tail_bins_.size(); ++b)
    excess += static_cast<double>(tail_counts_[b]) * static_cast<double>(tail_bins_[b] - u_bin);
  const double u = static_cast<double>(u_bin) / kTailBins;
  const double beta = std::max(excess / static_cast<double>(m) / kTailBins, 1.0 / kTailBins);
  return -std::log10(static_cast<double>(m) / static_cast<double>(tail_count_ + 1)) +
         (anomaly_score - u) / beta / std::log(10.0);
}

void SurpriseStream::SeedTail(const std::vector<double>& training_scores) {
  for (double s : training_scores) {
    if (std::isnan(s)) continue;
    AddToTail(static_cast<size_t>(std::clamp(s, 0.0, 1.0) * kTailBins));
  }
}

void SurpriseStream::RememberLevel(double level) {
  // The first row has nothing to top but zero.
  const double highest = level_queue_.empty() ? 0.0 : std::max(0.0, level_queue_.front().second);
  onset_ = level > highest ? level : 0.0;
  // A level at or below the new one can never be the window's maximum again.
  while (!level_queue_.empty() && level_queue_.back().second <= level) level_queue_.pop_back();
  const int64_t row = level_rows_++;
  level_queue_.emplace_back(row, level);
  if (level_queue_.front().first <= row - kDefaultOnsetRows) {
    level_queue_.erase(level_queue_.begin());
  }
}

double SurpriseStream::stddev() const {
  const double sd = count_ > 0 ? std::sqrt(m2_ / static_cast<double>(count_)) : 0.0;
  return std::max(sd, min_stddev_);
}

double SurpriseStream::AdvanceReference(double anomaly_score) {
  if (std::isnan(anomaly_score)) return anomaly_score;
  if (recent_.size() < static_cast<size_t>(short_rows_)) {
    recent_.push_back(anomaly_score);
  } else {
    recent_[next_] = anomaly_score;
    next_ = (next_ + 1) % recent_.size();
  }
  double sum = 0;  // at most short_rows_ terms, summed afresh: no drift from running sums
  for (double r : recent_) sum += r;
  const double average = sum / static_cast<double>(recent_.size());
  // A model without training scores has no reference yet: the first row sets it.
  const double z =
      count_ > 0 ? (average - mean_) / stddev() : -std::numeric_limits<double>::infinity();
  ++count_;
  const double d = anomaly_score - mean_;
  mean_ += d / static_cast<double>(count_);
  m2_ += d * (anomaly_score - mean_);
  return z;
}

void SurpriseStream::AdvanceOnset(double anomaly_score, double surprise) {
  AdvanceOnsetLevel(AdvanceTail(anomaly_score), surprise);
}

void SurpriseStream::AdvanceOnsetLevel(double tail_level, double surprise) {
  if (std::isnan(tail_level)) {  // a row without a score
    onset_ = tail_level;
    return;
  }
  RememberLevel(tail_level + kGaussianWeight * surprise);
}

double SurpriseStream::Push(double anomaly_score) {
  const double surprise = GaussianSurprise(AdvanceReference(anomaly_score));
  AdvanceOnset(anomaly_score, surprise);
  return surprise;
}

std::vector<double> SurpriseSeries(const ScoreCalibration& calibration,
                                   const std::vector<double>& anomaly_scores, int32_t short_rows) {
  SurpriseStream stream(calibration, short_rows);
  std::vector<double> out;
  out.reserve(anomaly_scores.size());
  // Push's surprise without its onset, which nothing here reads (the two halves are separate
  // state: SurpriseStream.HalvesRunAsWholePassesGiveThePushBits).
  for (double s : anomaly_scores) out.push_back(stream.AdvanceReference(s));
  GaussianSurprises(out.data(), out.size(), out.data());
  return out;
}

std::vector<double> OnsetSeries(const ScoreCalibration& calibration,
                                const std::vector<double>& anomaly_scores) {
  SurpriseStream stream(calibration);
  std::vector<double> out;
  out.reserve(anomaly_scores.size());
  for (double s : anomaly_scores) {
    stream.Push(s);
    out.push_back(stream.onset());
  }
  return out;
}

}  // namespace isoscope
