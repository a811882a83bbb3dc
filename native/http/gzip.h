#pragma once

// gzip for /metrics: Prometheus sends `Accept-Encoding: gzip`, and the page of 100,000 groups
// is tens of MB of text that compresses about 10x. The page is compressed once per
// serialization (http_server.cc), not once per scrape.

#include <memory>
#include <string>
#include <string_view>

#include "isoscope/status.h"

namespace isoscope::native {

/// `data` as a gzip member (RFC 1952), zlib's deflate at `level` (1 fastest .. 9 smallest);
/// kInternal if zlib fails (out of memory), kInvalidArgument above 4 GiB.
Result<std::string> GzipCompress(std::string_view data, int level = 1);

/// A gzip member (RFC 1952) written piece by piece: /metrics compresses the page as it is
/// written, so the whole text (tens of MB at 100,000 groups) never exists at once.
class GzipStream {
 public:
  explicit GzipStream(int level = 1);
  ~GzipStream();
  GzipStream(const GzipStream&) = delete;
  GzipStream& operator=(const GzipStream&) = delete;

  /// Compresses `data` after what came before; after a failure it does nothing (Finish says).
  void Write(std::string_view data);
  /// The whole member; kInternal if zlib failed (out of memory) at any point.
  Result<std::string> Finish();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Whether an Accept-Encoding header value accepts gzip: a "gzip", "x-gzip" or "*" coding
/// whose q-value is not 0 (RFC 9110 12.5.3), case-insensitive.
bool AcceptsGzip(std::string_view accept_encoding);

}  // namespace isoscope::native
