#include "detail/radix_sort.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

namespace isoscope::detail {
namespace {

// SortDoubles against std::sort, bit for bit.
void ExpectSortedAsStdSort(std::vector<double> v) {
  std::vector<double> expected = v;
  std::sort(expected.begin(), expected.end());
  SortDoubles(v);
  ASSERT_EQ(v.size(), expected.size());
  // (memcmp may not take the null data() of an empty vector)
  EXPECT_TRUE(v.empty() || std::memcmp(v.data(), expected.data(), v.size() * sizeof(double)) == 0);
}

TEST(SortDoubles, TrainingScoresSortAsStdSortSortsThem) {
  // score_samples: -anomaly_score, in (-1, 0), many of them equal.
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> score(0.35, 0.8);
  std::vector<double> v(129600);
  for (double& x : v) x = -score(rng);
  for (size_t i = 0; i < v.size(); i += 7) v[i] = v[i / 2];  // ties
  ExpectSortedAsStdSort(v);
}

TEST(SortDoubles, EveryExponentAndSignSortsAsStdSort) {
  std::mt19937_64 rng(11);
  std::vector<double> v;
  while (v.size() < 50000) {
    uint64_t bits = rng();
    double x;
    std::memcpy(&x, &bits, sizeof x);
    if (!std::isnan(x) && x != 0.0) v.push_back(x);  // subnormals and infinities included
  }
  v.push_back(std::numeric_limits<double>::infinity());
  v.push_back(-std::numeric_limits<double>::infinity());
  v.push_back(std::numeric_limits<double>::denorm_min());
  v.push_back(-std::numeric_limits<double>::denorm_min());
  ExpectSortedAsStdSort(v);
}

TEST(SortDoubles, FewValuesAndValuesWithAZeroSortAsStdSort) {
  ExpectSortedAsStdSort({3.0, -1.0, 2.5, -1.0});
  ExpectSortedAsStdSort({});
  std::vector<double> with_zero(10000);
  for (size_t i = 0; i < with_zero.size(); ++i) {
    with_zero[i] = static_cast<double>(static_cast<int>(i * 7919 % 10007) - 5000);
  }
  ExpectSortedAsStdSort(with_zero);
}

}  // namespace
}  // namespace isoscope::detail
