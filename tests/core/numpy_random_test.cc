// Expected values were printed by numpy 1.24 / scikit-learn 1.2.1 (Debian 12), e.g.
//   np.random.RandomState(0).random_sample(3)
//   sklearn.utils.random.sample_without_replacement(1000, 5, random_state=3)
#include "detail/numpy_random.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

namespace isoscope::detail {
namespace {

TEST(NumpyRandomState, Mt19937StreamEqualsNumpySeeding) {
  NumpyRandomState rs(42);
  // np.random.RandomState(42).randint(2**31 - 1, size=4)
  EXPECT_EQ(rs.RandInt(0, 2147483647), 1608637542);
  EXPECT_EQ(rs.RandInt(0, 2147483647), 1273642419);
  EXPECT_EQ(rs.RandInt(0, 2147483647), 1935803228);
  EXPECT_EQ(rs.RandInt(0, 2147483647), 787846414);
}

TEST(NumpyRandomState, RandomSampleIsBitExact) {
  NumpyRandomState rs(0);
  EXPECT_EQ(rs.Uniform(), 0.5488135039273248);
  EXPECT_EQ(rs.Uniform(), 0.7151893663724195);
  EXPECT_EQ(rs.Uniform(), 0.6027633760716439);
}

TEST(NumpyRandomState, BoundedIntegersUseMaskedRejection) {
  NumpyRandomState rs(5);
  for (int64_t expected : {99, 78, 61, 16, 73, 8}) {
    EXPECT_EQ(rs.RandInt(0, 100), expected);
  }
}

TEST(SampleWithoutReplacement, PermutationBranch) {
  NumpyRandomState rs(7);
  std::vector<uint8_t> seen(10, 0);
  // ratio 1.0 takes the reservoir branch, so use numpy's permutation through ratio 0.9
  // semantics: permutation(10)[:9] from RandomState(7).permutation(10).
  const auto got = SampleWithoutReplacement(10, 9, rs, seen);
  const std::vector<int64_t> expected = {8, 5, 0, 2, 1, 9, 7, 3, 6};
  EXPECT_EQ(got, expected);
}

TEST(SampleWithoutReplacement, TrackingSelectionBranch) {
  NumpyRandomState rs(3);
  std::vector<uint8_t> seen(1000, 0);
  const std::vector<int64_t> expected = {874, 664, 249, 643, 952};
  EXPECT_EQ(SampleWithoutReplacement(1000, 5, rs, seen), expected);
  EXPECT_EQ(std::count(seen.begin(), seen.end(), 1), 0) << "scratch must be left clean";
}

TEST(SampleWithoutReplacement, ReservoirBranch) {
  NumpyRandomState rs(4);
  std::vector<uint8_t> seen(1000, 0);
  const auto got = SampleWithoutReplacement(1000, 300, rs, seen);
  const std::vector<int64_t> expected = {698, 577, 763, 790, 520, 825, 958, 996};
  EXPECT_EQ(std::vector<int64_t>(got.begin(), got.begin() + 8), expected);
}

TEST(SampleWithoutReplacement, AllOfThePopulationDrawsNothing) {
  NumpyRandomState rs(4), untouched(4);
  std::vector<uint8_t> seen(10, 0);
  const std::vector<int64_t> identity = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
  EXPECT_EQ(SampleWithoutReplacement(10, 10, rs, seen), identity);
  EXPECT_EQ(rs.Next32(), untouched.Next32());
}

TEST(RandR, XorshiftFromZeroStartsAtOne) {
  RandR zero(0), one(1);
  EXPECT_EQ(zero.Next(), one.Next());
  RandR r(1);
  // 1 ^= 1<<13 -> 8193; ^= >>17 -> 8193; ^= <<5 -> 8193 ^ 262176 = 270369
  EXPECT_EQ(r.Next(), 270369u);
}

}  // namespace
}  // namespace isoscope::detail

namespace isoscope::detail {
namespace {

TEST(Mt19937, LazySeedingAndTwistEqualTheStandardEngine) {
  // std::mt19937 is an independent implementation of the same generator.
  for (uint32_t seed : {0u, 1u, 42u, 5489u, 2147483646u, 4294967295u}) {
    Mt19937 lazy(seed);
    std::mt19937 reference(seed);
    for (int i = 0; i < 2000; ++i) {  // crosses the lazy first round and two full twists
      ASSERT_EQ(lazy.Next(), static_cast<uint32_t>(reference())) << "seed " << seed << " i " << i;
    }
  }
}

}  // namespace
}  // namespace isoscope::detail
