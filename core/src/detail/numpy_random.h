#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace isoscope::detail {

/// MT19937 with init_genrand seeding (numpy's RandomState(int), std::mt19937), computed
/// lazily: the trainer makes three generators per tree and most draw one number, so the
/// state words and the first twist are produced only as far as the draws need them.
class Mt19937 {
 public:
  explicit Mt19937(uint32_t seed) {
    mt_[0] = seed;
    inited_ = 1;
  }

  uint32_t Next() {
    if (index_ >= kN) {
      FullTwist();
    } else if (first_round_) {
      TwistWordLazily(index_);
    }
    uint32_t y = mt_[index_++];
    y ^= y >> 11;
    y ^= (y << 7) & 0x9d2c5680u;
    y ^= (y << 15) & 0xefc60000u;
    y ^= y >> 18;
    return y;
  }

 private:
  static constexpr int kN = 624;
  static constexpr int kM = 397;
  static constexpr uint32_t kUpper = 0x80000000u;
  static constexpr uint32_t kLower = 0x7fffffffu;

  static uint32_t Mix(uint32_t a, uint32_t b, uint32_t c) {
    const uint32_t y = (a & kUpper) | (b & kLower);
    return c ^ (y >> 1) ^ ((y & 1u) ? 0x9908b0dfu : 0u);
  }
  void InitUpTo(int last) {
    for (; inited_ <= last; ++inited_) {
      const uint32_t prev = mt_[inited_ - 1];
      mt_[inited_] = 1812433253u * (prev ^ (prev >> 30)) + static_cast<uint32_t>(inited_);
    }
  }
  // Word k of the first twist reads words k and k+1 before their own twist, and word k+397
  // before (k < 227) or word k-227 after its twist: twisting in order reproduces the batch.
  void TwistWordLazily(int k) {
    if (k < kN - kM) {
      InitUpTo(k + kM);
      mt_[k] = Mix(mt_[k], mt_[k + 1], mt_[k + kM]);
    } else if (k < kN - 1) {
      mt_[k] = Mix(mt_[k], mt_[k + 1], mt_[k + kM - kN]);
    } else {
      mt_[k] = Mix(mt_[k], mt_[0], mt_[kM - 1]);
      first_round_ = false;
    }
  }
  void FullTwist() {
    InitUpTo(kN - 1);
    int k = 0;
    for (; k < kN - kM; ++k) {
      mt_[k] = Mix(mt_[k], mt_[k + 1], mt_[k + kM]);
    }
    for (; k < kN - 1; ++k) {
      mt_[k] = Mix(mt_[k], mt_[k + 1], mt_[k + kM - kN]);
    }
    mt_[kN - 1] = Mix(mt_[kN - 1], mt_[0], mt_[kM - 1]);
    index_ = 0;
    first_round_ = false;
  }

  uint32_t mt_[kN];
  int inited_ = 0;
  int index_ = 0;
  bool first_round_ = true;
};

/// numpy's legacy RandomState(int): the helpers below consume the MT19937 stream exactly as
/// numpy 1.x does, which is what makes scikit-learn's trees reproducible here.
class NumpyRandomState {
 public:
  explicit NumpyRandomState(uint32_t seed) : mt_(seed) {}

  uint32_t Next32() { return mt_.Next(); }

  /// Uniform integer in [0, max] by masked rejection (numpy's legacy bounded path and
  /// random_interval; one 32-bit draw per attempt).
  uint32_t Interval(uint32_t max) {
    if (max == 0) {
      return 0;
    }
    uint32_t mask = max;
    mask |= mask >> 1;
    mask |= mask >> 2;
    mask |= mask >> 4;
    mask |= mask >> 8;
    mask |= mask >> 16;
    uint32_t v;
    do {
      v = Next32() & mask;
    } while (v > max);
    return v;
  }

  /// RandomState.randint(low, high): a value in [low, high).
  int64_t RandInt(int64_t low, int64_t high) {
    return low + static_cast<int64_t>(Interval(static_cast<uint32_t>(high - 1 - low)));
  }

  /// RandomState.random_sample(): 53-bit double in [0, 1).
  double Uniform() {
    const uint32_t a = Next32() >> 5;
    const uint32_t b = Next32() >> 6;
    return (a * 67108864.0 + b) / 9007199254740992.0;
  }

 private:
  Mt19937 mt_;
};

/// sklearn.utils.random.sample_without_replacement(n_pop, k, method="auto"). `seen` is scratch
/// of size n_pop, all false on entry and on return (so the trainer reuses it across trees);
/// smaller (e.g. empty), the tracking selection keeps a set of the k values drawn instead.
std::vector<int64_t> SampleWithoutReplacement(int64_t n_pop, int64_t k, NumpyRandomState& rng,
                                              std::vector<uint8_t>& seen);

/// scikit-learn's tree RNG (our_rand_r): xorshift32 reduced to [0, 2^31).
class RandR {
 public:
  static constexpr uint32_t kMax = 0x7FFFFFFF;
  explicit RandR(uint32_t state) : state_(state) {}

  uint32_t Next() {
    if (state_ == 0) {
      state_ = 1;
    }
    state_ ^= state_ << 13;
    state_ ^= state_ >> 17;
    state_ ^= state_ << 5;
    return state_ % (kMax + 1u);
  }
  /// rand_int(low, high): low + r % (high - low).
  int64_t Int(int64_t low, int64_t high) {
    return low + static_cast<int64_t>(Next() % static_cast<uint32_t>(high - low));
  }
  /// rand_uniform(low, high), in double, in sklearn's operation order.
  double Uniform(double low, double high) {
    return ((high - low) * static_cast<double>(Next()) / static_cast<double>(kMax)) + low;
  }

 private:
  uint32_t state_;
};

}  // namespace isoscope::detail
