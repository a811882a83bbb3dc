#pragma once

#include <cstdint>
#include <random>
#include <vector>

namespace isoscope::detail {

/// numpy's legacy RandomState(int) on top of std::mt19937: init_genrand seeding gives the
/// same 32-bit stream, and the helpers below consume it exactly as numpy 1.x does, which is
/// what makes scikit-learn's trees reproducible here.
class NumpyRandomState {
 public:
  explicit NumpyRandomState(uint32_t seed) : mt_(seed) {}

  uint32_t Next32() { return static_cast<uint32_t>(mt_()); }

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
  std::mt19937 mt_;
};

/// sklearn.utils.random.sample_without_replacement(n_pop, k, method="auto"). `seen` is scratch
/// of size n_pop, all false on entry and on return (so the trainer reuses it across trees).
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
