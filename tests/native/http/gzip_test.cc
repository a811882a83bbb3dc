#include "gzip.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <algorithm>
#include <string>
#include <string_view>

namespace isoscope::native {
namespace {

// zlib's own inflate, told to expect a gzip header (windowBits 15 + 16): the reference the
// compressed bytes must satisfy, as Prometheus's Go gzip reader would.
std::string Gunzip(const std::string& packed) {
  z_stream z{};
  EXPECT_EQ(inflateInit2(&z, 15 + 16), Z_OK);
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(packed.data()));
  z.avail_in = static_cast<uInt>(packed.size());
  std::string out;
  char buf[65536];
  int rc = Z_OK;
  while (rc == Z_OK) {
    z.next_out = reinterpret_cast<Bytef*>(buf);
    z.avail_out = sizeof buf;
    rc = inflate(&z, Z_NO_FLUSH);
    out.append(buf, sizeof buf - z.avail_out);
  }
  EXPECT_EQ(rc, Z_STREAM_END);
  inflateEnd(&z);
  return out;
}

TEST(Gzip, RoundTripsThroughZlibInflate) {
  std::string page;
  for (int g = 0; g < 20000; ++g) {
    page += "anomaly_score{detector=\"d\",job=\"job-" + std::to_string(g) + "\"} 0.4" +
            std::to_string(g % 97) + "\n";
  }
  auto packed = GzipCompress(page);
  ASSERT_TRUE(packed.ok());
  ASSERT_GE(packed->size(), 18u);
  EXPECT_EQ(static_cast<unsigned char>((*packed)[0]), 0x1f);  // RFC 1952 magic
  EXPECT_EQ(static_cast<unsigned char>((*packed)[1]), 0x8b);
  EXPECT_LT(packed->size() * 5, page.size());  // repetitive metric text compresses well
  EXPECT_EQ(Gunzip(*packed), page);
}

// The page written in pieces (as /metrics feeds it, chunk by chunk), of uneven sizes and big
// enough that the output buffer grows several times, inflates to the same bytes.
TEST(Gzip, StreamWrittenInPiecesRoundTrips) {
  std::string page;
  uint32_t x = 12345;
  for (int g = 0; g < 200000; ++g) {
    x = x * 1103515245u + 12345u;  // some entropy, so that the output is not tiny
    page += "anomaly_score{detector=\"d\",job=\"job-" + std::to_string(g) + "\"} " +
            std::to_string(x % 100003) + "\n";
  }
  GzipStream gzip;
  size_t at = 0, piece = 1;
  while (at < page.size()) {
    const size_t n = std::min(piece, page.size() - at);
    gzip.Write(std::string_view(page).substr(at, n));
    at += n;
    piece = piece * 3 + 7;  // 1, 10, 37, ... up to megabytes
  }
  auto packed = gzip.Finish();
  ASSERT_TRUE(packed.ok());
  EXPECT_GT(packed->size(), 256u * 1024);  // past the first output block
  EXPECT_EQ(Gunzip(*packed), page);

  GzipStream empty;
  auto nothing = empty.Finish();
  ASSERT_TRUE(nothing.ok());
  EXPECT_EQ(Gunzip(*nothing), "");
}

TEST(Gzip, EmptyInputIsAValidMember) {
  auto packed = GzipCompress("");
  ASSERT_TRUE(packed.ok());
  EXPECT_EQ(Gunzip(*packed), "");
}

TEST(Gzip, AcceptEncodingNegotiation) {
  EXPECT_TRUE(AcceptsGzip("gzip"));               // Prometheus
  EXPECT_TRUE(AcceptsGzip("deflate, gzip, br"));  // curl --compressed
  EXPECT_TRUE(AcceptsGzip("GZIP;q=0.5"));
  EXPECT_TRUE(AcceptsGzip("x-gzip"));
  EXPECT_TRUE(AcceptsGzip("br;q=1.0, *;q=0.1"));
  EXPECT_FALSE(AcceptsGzip(""));
  EXPECT_FALSE(AcceptsGzip("identity"));
  EXPECT_FALSE(AcceptsGzip("br, deflate"));
  EXPECT_FALSE(AcceptsGzip("gzip;q=0"));
  EXPECT_FALSE(AcceptsGzip("gzip; q=0.000, identity"));
  EXPECT_FALSE(AcceptsGzip("*, gzip;q=0"));  // an explicit refusal wins over the wildcard
  EXPECT_FALSE(AcceptsGzip("gzipped"));
}

}  // namespace
}  // namespace isoscope::native
