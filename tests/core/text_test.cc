#include "isoscope/text.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>

namespace isoscope {
namespace {

// Texts std::to_chars gives (libstdc++ 12, checked by hand against its rules: the shorter of
// fixed and exponent form, fixed on a tie, integers in fixed form written exactly), with ".0"
// on integral values.
TEST(FormatShortest, WritesTheShortestTextThatReadsBack) {
  EXPECT_EQ(FormatShortest(0.1), "0.1");
  EXPECT_EQ(FormatShortest(1.0), "1.0");
  EXPECT_EQ(FormatShortest(-0.0), "-0.0");
  EXPECT_EQ(FormatShortest(0.001), "0.001");  // fixed on a tie with 1e-03
  EXPECT_EQ(FormatShortest(0.0001), "1e-04");
  EXPECT_EQ(FormatShortest(1e16), "1e+16");
  EXPECT_EQ(FormatShortest(123456789012345680.0), "123456789012345680.0");
  EXPECT_EQ(FormatShortest(5e-324), "5e-324");
  EXPECT_EQ(FormatShortest(0.4990319558517402), "0.4990319558517402");
  EXPECT_EQ(FormatShortest(std::nan("")), "nan");
  EXPECT_EQ(FormatShortest(-std::numeric_limits<double>::infinity()), "-inf");
}

// The longest texts fit in kShortestMaxChars, and nothing is written past them.
TEST(FormatShortest, TheLongestTextsFitTheRoomWriteShortestAsksFor) {
  const double longest[] = {-1.2345678901234567e21, -2.2250738585072014e-308,
                            -1.7976931348623157e308};
  const char* const expected[] = {"-1234567890123456774144.0", "-2.2250738585072014e-308",
                                  "-1.7976931348623157e+308"};
  for (size_t i = 0; i < 3; ++i) {
    char room[kShortestMaxChars + 8];
    std::fill(std::begin(room), std::end(room), '#');
    char* const end = WriteShortest(room, longest[i]);
    EXPECT_EQ(std::string(room, end), expected[i]);
    EXPECT_LE(end - room, static_cast<std::ptrdiff_t>(kShortestMaxChars));
    EXPECT_TRUE(
        std::all_of(room + kShortestMaxChars, std::end(room), [](char c) { return c == '#'; }));
  }
}

// WriteShortest looks for a point or an exponent only in integral values; every other value
// must print one anyway. Checked on random bit patterns and on integers, against the text
// with the look made every time.
TEST(FormatShortest, AddsThePointToIntegralValuesOnly) {
  auto reference = [](double v) {
    char buf[64];
    char* const end = std::to_chars(buf, buf + sizeof buf, v).ptr;
    std::string text(buf, end);
    if (std::isfinite(v) && text.find_first_of(".e") == std::string::npos) text += ".0";
    return text;
  };
  std::mt19937_64 rng(5);
  for (int i = 0; i < 200000; ++i) {
    const uint64_t bits = rng();
    double v;
    std::memcpy(&v, &bits, sizeof v);
    if (std::isfinite(v)) {
      ASSERT_EQ(FormatShortest(v), reference(v)) << v;
    }
    const double integral = std::ldexp(static_cast<double>(bits >> 11), i % 120 - 40);
    ASSERT_EQ(FormatShortest(std::trunc(integral)), reference(std::trunc(integral))) << integral;
    ASSERT_EQ(FormatShortest(integral), reference(integral)) << integral;
  }
}

}  // namespace
}  // namespace isoscope
