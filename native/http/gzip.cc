#include "gzip.h"

#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>

namespace isoscope::native {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool EqualsNoCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// The q-value of one coding's parameters (";q=0.5"); 1 without one.
double QValue(std::string_view params) {
  while (!params.empty()) {
    const size_t semi = params.find(';');
    const std::string_view p = Trim(params.substr(0, semi));
    params = semi == std::string_view::npos ? std::string_view() : params.substr(semi + 1);
    if (p.size() >= 2 && (p[0] == 'q' || p[0] == 'Q') && p[1] == '=') {
      return std::strtod(std::string(p.substr(2)).c_str(), nullptr);
    }
  }
  return 1.0;
}

}  // namespace

Result<std::string> GzipCompress(std::string_view data, int level) {
  if (data.size() > 0xFFFFFFFFu) {
    return Status(ErrorCode::kInvalidArgument, "gzip: more than 4 GiB in one call");
  }
  z_stream z{};
  // windowBits 15 + 16: a gzip header and trailer instead of zlib's.
  if (deflateInit2(&z, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    return Status(ErrorCode::kInternal, "gzip: deflateInit2 failed");
  }
  std::string out(deflateBound(&z, static_cast<uLong>(data.size())), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&z, Z_FINISH);  // deflateBound: one call always fits
  out.resize(z.total_out);
  deflateEnd(&z);
  if (rc != Z_STREAM_END) {
    return Status(ErrorCode::kInternal, "gzip: deflate did not finish");
  }
  return out;
}

struct GzipStream::Impl {
  z_stream z{};
  bool ok = false;  // initialised, and no call failed since
  std::string out;

  // Runs deflate with `flush` until it has taken all input (and, with Z_FINISH, ended the
  // member), growing `out` as it fills.
  void Deflate(int flush) {
    while (ok) {
      if (z.avail_out == 0) {
        const size_t used = out.size();
        out.resize(used + std::max<size_t>(64 * 1024, used / 2));
        z.next_out = reinterpret_cast<Bytef*>(out.data() + used);
        z.avail_out = static_cast<uInt>(out.size() - used);
      }
      const int rc = deflate(&z, flush);
      if (rc == Z_STREAM_END) return;
      if (rc != Z_OK && rc != Z_BUF_ERROR) ok = false;
      if (flush == Z_NO_FLUSH && z.avail_in == 0) return;
      if (rc == Z_BUF_ERROR && z.avail_out != 0) ok = false;  // no progress possible
    }
  }
};

GzipStream::GzipStream(int level) : impl_(std::make_unique<Impl>()) {
  // windowBits 15 + 16: a gzip header and trailer instead of zlib's.
  impl_->ok = deflateInit2(&impl_->z, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK;
}

GzipStream::~GzipStream() { deflateEnd(&impl_->z); }

void GzipStream::Write(std::string_view data) {
  while (!data.empty() && impl_->ok) {
    // avail_in is 32 bits: feed at most 1 GiB at a time.
    const size_t n = std::min<size_t>(data.size(), size_t{1} << 30);
    impl_->z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
    impl_->z.avail_in = static_cast<uInt>(n);
    impl_->Deflate(Z_NO_FLUSH);
    data.remove_prefix(n);
  }
}

Result<std::string> GzipStream::Finish() {
  impl_->z.avail_in = 0;
  impl_->Deflate(Z_FINISH);
  if (!impl_->ok) return Status(ErrorCode::kInternal, "gzip: deflate failed");
  impl_->out.resize(impl_->z.total_out);
  return std::move(impl_->out);
}

bool AcceptsGzip(std::string_view accept_encoding) {
  bool star = false, gzip = false, gzip_refused = false;
  while (!accept_encoding.empty()) {
    const size_t comma = accept_encoding.find(',');
    const std::string_view item = accept_encoding.substr(0, comma);
    accept_encoding =
        comma == std::string_view::npos ? std::string_view() : accept_encoding.substr(comma + 1);
    const size_t semi = item.find(';');
    const std::string_view coding = Trim(item.substr(0, semi));
    const double q = semi == std::string_view::npos ? 1.0 : QValue(item.substr(semi + 1));
    if (EqualsNoCase(coding, "gzip") || EqualsNoCase(coding, "x-gzip")) {
      (q > 0 ? gzip : gzip_refused) = true;
    } else if (coding == "*") {
      star = q > 0;
    }
  }
  // An explicit "gzip;q=0" wins over "*".
  return gzip || (star && !gzip_refused);
}

}  // namespace isoscope::native
