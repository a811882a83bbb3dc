#include "listen_address.h"

#include <gtest/gtest.h>

namespace isoscope::native {
namespace {

TEST(ParseListenAddress, Forms) {
  auto a = ParseListenAddress("127.0.0.1:8080");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->first, "127.0.0.1");
  EXPECT_EQ(a->second, 8080);
  a = ParseListenAddress(":0");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->first, "0.0.0.0");
  EXPECT_EQ(a->second, 0);
  a = ParseListenAddress("[::1]:9");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->first, "::1");
  a = ParseListenAddress("isoscope-0.isoscope:65535");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->second, 65535);
}

// One rule for the config file and the flag (issue 22: the config refused port 0, which the
// flag accepted; the flag accepted host names with '_' or '/', which the config refused).
TEST(ParseListenAddress, RefusesWithWhatToWrite) {
  for (const char* bad : {"127.0.0.1", "127.0.0.1:99999", "127.0.0.1:http", "::1:80", "[]:80",
                          "[::1:80", "local/host:80", "a_b:80", "127.0.0.1:", "127.0.0.1:-1"}) {
    auto a = ParseListenAddress(bad);
    ASSERT_FALSE(a.ok()) << bad;
    EXPECT_EQ(a.status().code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(a.status().message().find("e.g. 127.0.0.1:8080"), std::string::npos);
  }
  EXPECT_NE(ParseListenAddress("8080").status().message().find("'8080' has no port"),
            std::string::npos);
}

}  // namespace
}  // namespace isoscope::native
