// The connection loop and request guard (http_guard.h) through HttpServer::ServeBytes: one
// client's bytes in, the server's bytes out, no socket. Expected answers are from RFC 9110/9112
// (one response per request, Host on HTTP/1.1) and from what the endpoints serve.
#include <gtest/gtest.h>

#include <regex>
#include <stdexcept>
#include <string>
#include <vector>

#include "http_server.h"

namespace isoscope::native {
namespace {

class HttpGuardTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config_.models_dir = "/nonexistent-isoscope-guard-test";
    DetectorConfig d;
    d.name = "demo";
    d.queries = {{"latency", "latency_q"}};
    config_.detectors.push_back(d);
    registry_ = std::make_shared<prometheus::Registry>();
    daemon_ = std::make_unique<Daemon>(
        config_,
        [](const std::string&, TimeMs) {
          return Result<std::vector<PromSample>>(std::vector<PromSample>{});
        },
        std::make_shared<ExporterMetrics>(registry_), Logger([](auto&&...) {}));
    server_ = std::make_unique<HttpServer>(*daemon_, registry_, "", Logger([](auto&&...) {}));
  }

  // The status codes of the responses in `out`, bodies skipped by Content-Length.
  static std::vector<int> Statuses(const std::string& out) {
    std::vector<int> codes;
    size_t at = 0;
    while (out.compare(at, 7, "HTTP/1.") == 0) {
      const size_t head_end = out.find("\r\n\r\n", at);
      if (head_end == std::string::npos) break;
      codes.push_back(std::stoi(out.substr(at + 9, 3)));
      const std::string head = out.substr(at, head_end - at);
      std::smatch m;
      size_t length = 0;
      if (std::regex_search(head, m, std::regex("Content-Length: (\\d+)"))) {
        length = std::stoul(m[1]);
      }
      at = head_end + 4 + length;
    }
    return codes;
  }

  static std::string Get(const std::string& path, const std::string& extra = "") {
    return "GET " + path + " HTTP/1.1\r\nHost: x\r\n" + extra + "\r\n";
  }

  Config config_;
  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<Daemon> daemon_;
  std::unique_ptr<HttpServer> server_;
};

TEST_F(HttpGuardTest, PipelinedRequestsAreAllAnswered) {
  const std::string out = server_->ServeBytes(Get("/healthz") + Get("/readyz") +
                                              Get("/healthz", "Connection: close\r\n"));
  EXPECT_EQ(Statuses(out), (std::vector<int>{200, 503, 200})) << out;
}

TEST_F(HttpGuardTest, GetWithBodyIsRefusedAndTheBodyNeverRuns) {
  const std::string smuggled = Get("/healthz");
  const std::string out = server_->ServeBytes(
      Get("/metrics", "Content-Length: " + std::to_string(smuggled.size()) + "\r\n") + smuggled);
  EXPECT_EQ(Statuses(out), std::vector<int>{400}) << out;
  EXPECT_NE(out.find("Connection: close"), std::string::npos);
  // Chunked, and two Content-Length headers.
  EXPECT_EQ(Statuses(server_->ServeBytes(Get("/healthz", "Transfer-Encoding: chunked\r\n") +
                                         "0\r\n\r\n" + Get("/healthz"))),
            std::vector<int>{400});
  EXPECT_EQ(Statuses(server_->ServeBytes(
                Get("/healthz", "Content-Length: 0\r\nContent-Length: 5\r\n") + "abcde")),
            std::vector<int>{400});
  // Content-Length: 0 is no body.
  EXPECT_EQ(Statuses(server_->ServeBytes(Get("/healthz", "Content-Length: 0\r\n"))),
            std::vector<int>{200});
}

TEST_F(HttpGuardTest, OnlyReadMethods) {
  const std::string out =
      server_->ServeBytes("POST /metrics HTTP/1.1\r\nHost: x\r\n\r\n" + Get("/healthz"));
  EXPECT_EQ(Statuses(out), std::vector<int>{405}) << out;
  EXPECT_NE(out.find("Allow: GET, HEAD, OPTIONS"), std::string::npos);
}

TEST_F(HttpGuardTest, Http11NeedsExactlyOneHost) {
  EXPECT_EQ(Statuses(server_->ServeBytes("GET /healthz HTTP/1.1\r\n\r\n")), std::vector<int>{400});
  EXPECT_EQ(Statuses(server_->ServeBytes(Get("/healthz", "Host: y\r\n"))), std::vector<int>{400});
  // HTTP/1.0 has no Host requirement.
  EXPECT_EQ(Statuses(server_->ServeBytes("GET /healthz HTTP/1.0\r\n\r\n")), std::vector<int>{200});
}

TEST_F(HttpGuardTest, RangeIsIgnored) {
  std::string ranges = "bytes=0-0";
  for (int i = 0; i < 500; ++i) ranges += ",0-";
  const std::string out = server_->ServeBytes(Get("/healthz", "Range: " + ranges + "\r\n"));
  EXPECT_EQ(Statuses(out), std::vector<int>{200}) << out;
  EXPECT_EQ(out.substr(out.size() - 3), "ok\n");  // the whole body, not a part
  EXPECT_EQ(out.find("multipart"), std::string::npos);
  // A malformed Range is ignored too (httplib alone answers 416).
  EXPECT_EQ(Statuses(server_->ServeBytes(Get("/healthz", "rAnGe: bytes=9-1\r\n"))),
            std::vector<int>{200});
}

TEST_F(HttpGuardTest, HeadLargerThanTheBudgetIsCutWithoutBeingBuffered) {
  std::string big;
  for (int i = 0; i < 3000; ++i) big += "X-Pad: " + std::string(100, 'a') + "\r\n";  // ~320 KB
  const std::string out = server_->ServeBytes(Get("/healthz", big) + Get("/healthz"));
  EXPECT_EQ(Statuses(out), std::vector<int>{431}) << out.substr(0, 200);
  EXPECT_NE(out.find("X-Content-Type-Options: nosniff"), std::string::npos);
  // A request line alone over the budget: 431 too.
  EXPECT_EQ(Statuses(server_->ServeBytes("GET /" + std::string(20000, 'a') + " HTTP/1.1\r\n")),
            std::vector<int>{431});
  // Just under the budget: served.
  std::string fits;
  for (int i = 0; i < 100; ++i) fits += "X-Pad: " + std::string(100, 'a') + "\r\n";  // ~11 KB
  EXPECT_EQ(Statuses(server_->ServeBytes(Get("/healthz", fits))), std::vector<int>{200});
}

TEST_F(HttpGuardTest, NosniffOnEveryAnswerAndNoBadPaths) {
  for (const char* path : {"/healthz", "/nope", "/index.html%00.js", "/%ff"}) {
    const std::string out = server_->ServeBytes(Get(path));
    EXPECT_NE(out.find("X-Content-Type-Options: nosniff"), std::string::npos) << path;
  }
  EXPECT_EQ(Statuses(server_->ServeBytes(Get("/index.html%00.js"))), std::vector<int>{400});
  // A header line over httplib's own 8 KiB line limit: httplib answers 400 itself.
  const std::string long_line =
      server_->ServeBytes(Get("/healthz", "X: " + std::string(9000, 'a') + "\r\n"));
  EXPECT_EQ(Statuses(long_line), std::vector<int>{400}) << long_line.substr(0, 200);
  EXPECT_EQ(Statuses(server_->ServeBytes(Get("/x%ff%fe"))), std::vector<int>{400});
  EXPECT_EQ(Statuses(server_->ServeBytes(Get("/%C3%A9"))), std::vector<int>{404});  // é: valid
}

// An exception in a handler is a 500 with a fixed body: its text is logged, never sent (httplib's
// default puts it in an EXCEPTION_WHAT header).
TEST_F(HttpGuardTest, ExceptionTextNeverReachesTheClient) {
  server_->SetHistory(
      [](const DetectorConfig&, TimeMs, TimeMs) -> Result<JoinedRows> {
        throw std::runtime_error("secret detail \xff");
      },
      [] { return TimeMs{1767495600000}; });
  const std::string out = server_->ServeBytes(Get("/api/v1/detectors/demo/history"));
  EXPECT_EQ(Statuses(out), std::vector<int>{500}) << out;
  EXPECT_EQ(out.find("secret"), std::string::npos) << out;
  EXPECT_EQ(out.find("EXCEPTION_WHAT"), std::string::npos) << out;
}

TEST_F(HttpGuardTest, TruncatedRequestGetsNoAnswer) {
  EXPECT_EQ(server_->ServeBytes("GET /healthz HTTP/1.1\r\nHost: x\r\n"), "");
  EXPECT_EQ(server_->ServeBytes(""), "");
}

}  // namespace
}  // namespace isoscope::native
