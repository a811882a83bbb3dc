// PromClient against in-process servers on 127.0.0.1 (port 0) that serve canned answers: a
// cpp-httplib server for HTTP behaviour, a raw socket server for broken transports. The client
// against a real Prometheus is tests/e2e/prom_client_e2e.sh.
#include "prom_client.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <httplib.h>
#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace isoscope::native {
namespace {

constexpr TimeMs kEnd = 1767225600000;  // 2026-01-01T00:00:00Z
constexpr TimeMs kStep = 60000;

struct Seen {
  std::string path;
  std::map<std::string, std::string> params;
  std::string authorization;
};

/// A cpp-httplib server on 127.0.0.1:<ephemeral> whose GET handler is `handler`; it records
/// every request.
class FakeProm {
 public:
  using Handler = std::function<void(const httplib::Request&, httplib::Response&, int n)>;
  explicit FakeProm(Handler handler) : handler_(std::move(handler)) {
    server_.new_task_queue = [] { return new httplib::ThreadPool(4); };
    server_.Get(".*", [this](const httplib::Request& req, httplib::Response& res) {
      int n = 0;
      {
        std::lock_guard<std::mutex> lock(mu_);
        Seen s{req.path, {}, req.get_header_value("Authorization")};
        for (const auto& [k, v] : req.params) {
          s.params[k] = v;
        }
        seen_.push_back(std::move(s));
        n = static_cast<int>(seen_.size());
      }
      handler_(req, res, n);
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
  ~FakeProm() {
    server_.stop();
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int port() const { return port_; }
  std::vector<Seen> seen() {
    std::lock_guard<std::mutex> lock(mu_);
    return seen_;
  }

 private:
  Handler handler_;
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mu_;
  std::vector<Seen> seen_;
};

/// Raw TCP server: connection i gets responses[min(i, size-1)] verbatim, then is closed.
class RawServer {
 public:
  explicit RawServer(std::vector<std::string> responses) : responses_(std::move(responses)) {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    EXPECT_EQ(listen(fd_, 16), 0);
    socklen_t len = sizeof a;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] {
      for (size_t i = 0;; ++i) {
        int c = accept(fd_, nullptr, nullptr);
        if (c < 0 || stop_) {
          if (c >= 0) close(c);
          return;
        }
        char buf[8192];
        [[maybe_unused]] ssize_t got = read(c, buf, sizeof buf);  // one small GET
        const std::string& r = responses_[std::min(i, responses_.size() - 1)];
        [[maybe_unused]] ssize_t put = write(c, r.data(), r.size());
        connections_++;
        close(c);
      }
    });
  }
  ~RawServer() {
    stop_ = true;
    shutdown(fd_, SHUT_RDWR);
    close(fd_);
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int connections() const { return connections_; }

 private:
  std::vector<std::string> responses_;
  int fd_ = -1;
  int port_ = 0;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<int> connections_{0};
};

/// A port on 127.0.0.1 where nothing listens (bound, read, closed).
int DeadPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

std::string Http(int code, const std::string& body) {
  return "HTTP/1.1 " + std::to_string(code) +
         " X\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n\r\n" + body;
}

int64_t ParseMs(const std::string& seconds) {  // "1767225600.000" -> ms
  const size_t dot = seconds.find('.');
  return std::stoll(seconds.substr(0, dot)) * 1000 + std::stoll(seconds.substr(dot + 1));
}

/// A matrix answer for the request's [start, end] at step, one point per evaluation time, for
/// the given jobs; value = minutes since the epoch (exact in JSON and in double).
std::string MatrixFor(const httplib::Request& req, const std::vector<std::string>& jobs) {
  const int64_t start = ParseMs(req.get_param_value("start"));
  const int64_t end = ParseMs(req.get_param_value("end"));
  const int64_t step = ParseMs(req.get_param_value("step"));
  std::string out = R"({"status":"success","data":{"resultType":"matrix","result":[)";
  for (size_t j = 0; j < jobs.size(); ++j) {
    out += (j ? "," : "") + std::string(R"({"metric":{"__name__":"m","job":")") + jobs[j] +
           R"("},"values":[)";
    for (int64_t t = start; t <= end; t += step) {
      out += (t == start ? "[" : ",[") + std::to_string(t / 1000) + ",\"" +
             std::to_string(t / 60000) + "\"]";
    }
    out += "]}";
  }
  return out + "]}}";
}

const char kVectorBody[] =
    R"({"status":"success","data":{"resultType":"vector","result":[{"metric":{"job":"a"},"value":[1767225600,"0.5"]}]}})";
const char kBadData[] =
    R"({"status":"error","errorType":"bad_data","error":"invalid parameter \"query\": 1:6: parse error: unexpected \"]\""})";

PromClientOptions Options(const std::string& url, std::vector<int64_t>* sleeps) {
  PromClientOptions o;
  o.url = url;
  o.timeout_ms = 5000;
  o.sleep = [sleeps](int64_t ms) { sleeps->push_back(ms); };
  return o;
}

// ---- chunk planning ----

TEST(PromChunks, NinetyDaysAtSixtySecondsIsThirteenRequests) {
  const TimeMs start = kEnd - 90 * kDayMs;
  auto chunks = PlanRangeChunks(start, kEnd, kStep);
  ASSERT_EQ(chunks.size(), 13u);
  int64_t points = 0;
  for (size_t i = 0; i < chunks.size(); ++i) {
    const int64_t steps = (chunks[i].end - chunks[i].start) / kStep;
    EXPECT_LE(steps, kPromMaxStepsPerChunk);
    EXPECT_EQ((chunks[i].end - chunks[i].start) % kStep, 0);
    if (i > 0) {
      EXPECT_EQ(chunks[i].start, chunks[i - 1].end + kStep) << "chunk " << i;
    }
    points += steps + 1;
  }
  EXPECT_EQ(chunks.front().start, start);
  EXPECT_EQ(chunks.front().end, start + 10000 * kStep);
  EXPECT_EQ(chunks.back().end, kEnd);
  EXPECT_EQ(points, 90 * 1440 + 1);
}

TEST(PromChunks, EdgeCases) {
  EXPECT_TRUE(PlanRangeChunks(10, 9, 1).empty());
  EXPECT_TRUE(PlanRangeChunks(0, 10, 0).empty());
  EXPECT_TRUE(PlanRangeChunks(0, 10, -1).empty());
  auto one = PlanRangeChunks(5, 5, 60);
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0].start, 5);
  EXPECT_EQ(one[0].end, 5);
  // The last chunk ends at the last evaluation time, not at an unaligned end.
  auto unaligned = PlanRangeChunks(0, 119, 60);
  ASSERT_EQ(unaligned.size(), 1u);
  EXPECT_EQ(unaligned[0].end, 60);
  // max_steps + 1 points fit one request; one more point needs a second.
  EXPECT_EQ(PlanRangeChunks(0, 10000 * kStep, kStep).size(), 1u);
  auto two = PlanRangeChunks(0, 10001 * kStep, kStep);
  ASSERT_EQ(two.size(), 2u);
  EXPECT_EQ(two[1].start, 10001 * kStep);
  EXPECT_EQ(two[1].end, 10001 * kStep);
  // Small chunks: [0,2] [3,5] [6,7] in steps.
  auto small = PlanRangeChunks(0, 7, 1, 2);
  ASSERT_EQ(small.size(), 3u);
  EXPECT_EQ(small[1].start, 3);
  EXPECT_EQ(small[1].end, 5);
  EXPECT_EQ(small[2].end, 7);
  // max_steps 0: one point per request.
  EXPECT_EQ(PlanRangeChunks(0, 4, 1, 0).size(), 5u);
  // No overflow at the ends of the range.
  auto huge = PlanRangeChunks(INT64_MIN, INT64_MAX, 1, INT64_MAX);
  ASSERT_EQ(huge.size(), 2u);
  EXPECT_EQ(huge[0].start, INT64_MIN);
  EXPECT_EQ(huge[0].end, -1);
  EXPECT_EQ(huge[1].start, 0);
  EXPECT_EQ(huge[1].end, INT64_MAX);
  auto wide = PlanRangeChunks(INT64_MIN, INT64_MAX, INT64_MAX);
  ASSERT_EQ(wide.size(), 1u);
  EXPECT_EQ(wide[0].end, INT64_MIN + 2 * static_cast<uint64_t>(INT64_MAX));
}

TEST(PromChunks, PromSeconds) {
  EXPECT_EQ(PromSeconds(1767225600000), "1767225600.000");
  EXPECT_EQ(PromSeconds(1767225600123), "1767225600.123");
  EXPECT_EQ(PromSeconds(60000), "60.000");
  EXPECT_EQ(PromSeconds(5), "0.005");
  EXPECT_EQ(PromSeconds(0), "0.000");
  EXPECT_EQ(PromSeconds(-1500), "-1.500");
  EXPECT_EQ(PromSeconds(INT64_MIN), "-9223372036854775.808");
}

// ---- range queries ----

TEST(PromClient, NinetyDaysInThirteenRequestsWithoutDuplicates) {
  FakeProm prom([](const httplib::Request& req, httplib::Response& res, int) {
    res.set_content(MatrixFor(req, {"checkout", "payments"}), "application/json");
  });
  std::vector<int64_t> sleeps;
  PromClient client(Options(prom.url(), &sleeps));
  const TimeMs start = kEnd - 90 * kDayMs;
  std::vector<std::pair<int, int>> progress;
  auto r = client.QueryRange("m", start, kEnd, kStep,
                             [&](int done, int total) { progress.emplace_back(done, total); });
  ASSERT_TRUE(r.ok()) << r.status().ToString();

  const std::vector<Seen> seen = prom.seen();
  const auto plan = PlanRangeChunks(start, kEnd, kStep);
  ASSERT_EQ(seen.size(), 13u);
  for (size_t i = 0; i < seen.size(); ++i) {
    EXPECT_EQ(seen[i].path, "/api/v1/query_range");
    EXPECT_EQ(seen[i].params.at("query"), "m");
    EXPECT_EQ(seen[i].params.at("start"), PromSeconds(plan[i].start));
    EXPECT_EQ(seen[i].params.at("end"), PromSeconds(plan[i].end));
    EXPECT_EQ(seen[i].params.at("step"), "60.000");
    // VictoriaMetrics: the requested grid, not one aligned for its cache (tests/e2e/vm_e2e.sh).
    EXPECT_EQ(seen[i].params.at("nocache"), "1");
  }
  EXPECT_EQ(seen[0].params.at("start"), "1759449600.000");
  EXPECT_EQ(seen[0].params.at("end"), "1760049600.000");
  EXPECT_EQ(seen[1].params.at("start"), "1760049660.000");
  EXPECT_EQ(seen[12].params.at("end"), "1767225600.000");
  ASSERT_EQ(progress.size(), 13u);
  for (int i = 0; i < 13; ++i) {
    EXPECT_EQ(progress[i], std::make_pair(i + 1, 13));
  }
  EXPECT_TRUE(sleeps.empty());

  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0].labels.at("job"), "checkout");
  EXPECT_EQ((*r)[1].labels.at("job"), "payments");
  for (const PromSeries& s : *r) {
    ASSERT_EQ(s.times.size(), 90u * 1440 + 1);
    ASSERT_EQ(s.values.size(), s.times.size());
    for (size_t i = 0; i < s.times.size(); ++i) {
      ASSERT_EQ(s.times[i], start + static_cast<TimeMs>(i) * kStep) << i;
      ASSERT_EQ(s.values[i], static_cast<double>(s.times[i] / 60000)) << i;
    }
  }
}

TEST(PromClient, MergesSeriesAcrossChunksByFullLabelSet) {
  // Chunk 1 has series a and c, chunk 2 has a and b, chunk 3 has b; "a" in chunk 2 also differs
  // in one label, so it is a different series.
  FakeProm prom([](const httplib::Request& req, httplib::Response& res, int n) {
    const std::string t = req.get_param_value("start");
    auto series = [&](const std::string& labels, const std::string& v) {
      return R"({"metric":)" + labels + R"(,"values":[[)" + t + ",\"" + v + "\"]]}";
    };
    std::string result;
    if (n == 1) {
      result = series(R"({"job":"a"})", "1") + "," + series(R"({"job":"c"})", "3");
    } else if (n == 2) {
      result = series(R"({"job":"a"})", "1.5") + "," + series(R"({"job":"a","x":"y"})", "9") + "," +
               series(R"({"job":"b"})", "2");
    } else {
      result = series(R"({"job":"b"})", "2.5");
    }
    res.set_content(
        R"({"status":"success","data":{"resultType":"matrix","result":[)" + result + "]}}",
        "application/json");
  });
  std::vector<int64_t> sleeps;
  PromClient client(Options(prom.url(), &sleeps));
  // 3 points per chunk is not reachable through QueryRange's fixed chunk size, so use 2 chunks
  // of the real size plus one: 20,003 points.
  const TimeMs start = 0;
  const TimeMs end = 20002 * kStep;
  auto r = client.QueryRange("q", start, end, kStep);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(prom.seen().size(), 3u);
  ASSERT_EQ(r->size(), 4u);
  using Labels = std::map<std::string, std::string>;
  EXPECT_EQ((*r)[0].labels, (Labels{{"job", "a"}}));
  EXPECT_EQ((*r)[0].times, (std::vector<TimeMs>{0, 10001 * kStep}));
  EXPECT_EQ((*r)[0].values, (std::vector<double>{1, 1.5}));
  EXPECT_EQ((*r)[1].labels, (Labels{{"job", "a"}, {"x", "y"}}));
  EXPECT_EQ((*r)[1].values, (std::vector<double>{9}));
  EXPECT_EQ((*r)[2].labels, (Labels{{"job", "b"}}));
  EXPECT_EQ((*r)[2].times, (std::vector<TimeMs>{10001 * kStep, 20002 * kStep}));
  EXPECT_EQ((*r)[2].values, (std::vector<double>{2, 2.5}));
  EXPECT_EQ((*r)[3].labels, (Labels{{"job", "c"}}));
  EXPECT_EQ((*r)[3].times, (std::vector<TimeMs>{0}));
}

TEST(PromClient, RetriesOn500ThenSucceeds) {
  FakeProm prom([](const httplib::Request& req, httplib::Response& res, int n) {
    if (n <= 2) {
      res.status = 500;
      res.set_content("internal trouble", "text/plain");
      return;
    }
    res.set_content(MatrixFor(req, {"a"}), "application/json");
  });
  std::vector<int64_t> sleeps;
  PromClient client(Options(prom.url(), &sleeps));
  auto r = client.QueryRange("m", kEnd - 10 * kStep, kEnd, kStep);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(prom.seen().size(), 3u);
  EXPECT_EQ(sleeps, (std::vector<int64_t>{500, 1000}));
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].times.size(), 11u);
}

TEST(PromClient, GivesUpAfterRetriesWithTheLastAnswer) {
  FakeProm prom([](const httplib::Request&, httplib::Response& res, int n) {
    res.status = n % 2 ? 503 : 429;
    res.set_content(R"({"status":"error","errorType":"unavailable","error":"overloaded"})",
                    "application/json");
  });
  std::vector<int64_t> sleeps;
  PromClientOptions o = Options(prom.url(), &sleeps);
  o.retries = 3;
  o.backoff_ms = 100;
  PromClient client(o);
  auto r = client.Query("up", kEnd);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kBadInput);
  EXPECT_EQ(prom.seen().size(), 4u);
  EXPECT_EQ(sleeps, (std::vector<int64_t>{100, 200, 400}));
  EXPECT_EQ(r.status().message(),
            "GET " + prom.url() +
                "/api/v1/query (query 'up' at 2026-01-01T00:00:00Z): Prometheus answered 429 "
                "unavailable: overloaded after 4 attempts");
}

TEST(PromClient, NoRetryOn400AndPrometheusMessageQuoted) {
  FakeProm prom([](const httplib::Request&, httplib::Response& res, int) {
    res.status = 400;
    res.set_content(kBadData, "application/json");
  });
  std::vector<int64_t> sleeps;
  PromClient client(Options(prom.url(), &sleeps));
  auto r = client.QueryRange("rate(x[5m)", kEnd - kDayMs, kEnd, kStep);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kBadInput);
  EXPECT_EQ(prom.seen().size(), 1u);
  EXPECT_TRUE(sleeps.empty());
  EXPECT_EQ(r.status().message(),
            "GET " + prom.url() +
                "/api/v1/query_range (query 'rate(x[5m)', 2025-12-31T00:00:00Z to "
                "2026-01-01T00:00:00Z step 60 s): Prometheus answered 400 bad_data: invalid "
                "parameter \"query\": 1:6: parse error: unexpected \"]\"");
}

TEST(PromClient, LaterChunkFailureNamesTheChunk) {
  FakeProm prom([](const httplib::Request& req, httplib::Response& res, int n) {
    if (n == 2) {
      res.status = 422;
      res.set_content(
          R"({"status":"error","errorType":"execution","error":"query processing would load too many samples into memory in query execution"})",
          "application/json");
      return;
    }
    res.set_content(MatrixFor(req, {"a"}), "application/json");
  });
  std::vector<int64_t> sleeps;
  PromClient client(Options(prom.url(), &sleeps));
  std::vector<int> done;
  auto r = client.QueryRange("m", 0, 30000 * kStep, kStep, [&](int d, int) { done.push_back(d); });
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(prom.seen().size(), 2u);
  EXPECT_EQ(done, (std::vector<int>{1}));
  EXPECT_NE(r.status().message().find("chunk 2/3): Prometheus answered 422 execution: query "
                                      "processing would load too many samples"),
            std::string::npos)
      << r.status().message();
}

TEST(PromClient, ConnectionRefusedAfterRetries) {
  const int port = DeadPort();
  std::vector<int64_t> sleeps;
  PromClientOptions o = Options("http://127.0.0.1:" + std::to_string(port), &sleeps);
  o.retries = 2;
  PromClient client(o);
  const auto t0 = std::chrono::steady_clock::now();
  auto r = client.QueryRange("up", kEnd - kStep, kEnd, kStep);
  const auto elapsed = std::chrono::steady_clock::now() - t0;
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kBadInput);
  EXPECT_EQ(sleeps, (std::vector<int64_t>{500, 1000}));
  const std::string where = "127.0.0.1:" + std::to_string(port);
  EXPECT_EQ(r.status().message(),
            "GET http://" + where +
                "/api/v1/query_range (query 'up', 2025-12-31T23:59:00Z to 2026-01-01T00:00:00Z "
                "step 60 s): connection refused to " +
                where + " after 3 attempts");
  EXPECT_LT(elapsed, std::chrono::seconds(2));
}

TEST(PromClient, RealSleepBacksOff) {
  PromClientOptions o;
  o.url = "http://127.0.0.1:" + std::to_string(DeadPort());
  o.retries = 2;
  o.backoff_ms = 20;  // 20 + 40 ms really slept
  PromClient client(o);
  const auto t0 = std::chrono::steady_clock::now();
  auto r = client.Query("up", kEnd);
  const auto elapsed = std::chrono::steady_clock::now() - t0;
  ASSERT_FALSE(r.ok());
  EXPECT_GE(elapsed, std::chrono::milliseconds(60));
  EXPECT_LT(elapsed, std::chrono::seconds(2));
}

TEST(PromClient, UnresolvableHost) {
  std::vector<int64_t> sleeps;
  PromClientOptions o = Options("http://no-such-host.invalid:9", &sleeps);
  o.retries = 0;
  PromClient client(o);
  auto r = client.Query("up", kEnd);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("cannot resolve host 'no-such-host.invalid'"),
            std::string::npos)
      << r.status().message();
}

TEST(PromClient, TimeoutIsTransportErrorAndSaysSo) {
  FakeProm prom([](const httplib::Request& req, httplib::Response& res, int n) {
    if (n == 1) {
      std::this_thread::sleep_for(std::chrono::milliseconds(400));
    }
    res.set_content(MatrixFor(req, {"a"}), "application/json");
  });
  std::vector<int64_t> sleeps;
  PromClientOptions o = Options(prom.url(), &sleeps);
  o.timeout_ms = 100;
  o.retries = 0;
  {
    PromClient client(o);
    auto r = client.Query("up", kEnd);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.status().message().find(
                  "/api/v1/query (query 'up' at 2026-01-01T00:00:00Z): timed out after 0.1 s"),
              std::string::npos)
        << r.status().message();
  }
  // With a retry the second (quick) answer is taken.
  o.retries = 1;
  o.timeout_ms = 2000;
  PromClient client(o);
  auto r = client.QueryRange("m", kEnd - kStep, kEnd, kStep);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
}

TEST(PromClient, TruncatedBodyIsRetried) {
  const std::string good = Http(200, kVectorBody);
  const std::string truncated = good.substr(0, good.size() - 20);  // Content-Length lies
  {
    RawServer raw({truncated, good});
    std::vector<int64_t> sleeps;
    PromClient client(Options(raw.url(), &sleeps));
    auto r = client.Query("up", kEnd);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(raw.connections(), 2);
    EXPECT_EQ(sleeps, (std::vector<int64_t>{500}));
    ASSERT_EQ(r->size(), 1u);
    EXPECT_EQ((*r)[0].value, 0.5);
  }
  RawServer raw({truncated});
  std::vector<int64_t> sleeps;
  PromClientOptions o = Options(raw.url(), &sleeps);
  o.retries = 1;
  PromClient client(o);
  auto r = client.Query("up", kEnd);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("broke before the answer was complete (truncated) after "
                                      "2 attempts"),
            std::string::npos)
      << r.status().message();
}

TEST(PromClient, InvalidJsonIn200IsNotRetried) {
  RawServer raw({Http(200, "{\"status\":\"success\",")});
  std::vector<int64_t> sleeps;
  PromClient client(Options(raw.url(), &sleeps));
  auto r = client.QueryRange("m", kEnd - kStep, kEnd, kStep);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kBadInput);
  EXPECT_TRUE(sleeps.empty());
  EXPECT_NE(r.status().message().find("/api/v1/query_range (query 'm', "), std::string::npos)
      << r.status().message();
  EXPECT_NE(r.status().message().find("Prometheus response: not valid JSON"), std::string::npos)
      << r.status().message();
}

// ---- instant queries, URL, headers ----

TEST(PromClient, InstantQuery) {
  FakeProm prom([](const httplib::Request&, httplib::Response& res, int) {
    res.set_content(kVectorBody, "application/json");
  });
  std::vector<int64_t> sleeps;
  PromClient client(Options(prom.url(), &sleeps));
  auto r = client.Query("sum by (job) (x)", kEnd + 123);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].labels.at("job"), "a");
  EXPECT_EQ((*r)[0].time, kEnd);
  const auto seen = prom.seen();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].path, "/api/v1/query");
  EXPECT_EQ(seen[0].params.at("query"), "sum by (job) (x)");
  EXPECT_EQ(seen[0].params.at("time"), "1767225600.123");
  // VictoriaMetrics: evaluated at `time`, not 30 s earlier (-search.latencyOffset).
  EXPECT_EQ(seen[0].params.at("nocache"), "1");
  // No step: VictoriaMetrics would take it as the lookback window of an instant query.
  EXPECT_EQ(seen[0].params.count("step"), 0u);
  EXPECT_EQ(seen[0].authorization, "");
}

TEST(PromClient, PathPrefixAnd404Hint) {
  FakeProm prom([](const httplib::Request& req, httplib::Response& res, int) {
    if (req.path != "/prom/api/v1/query") {
      res.status = 404;
      res.set_content("404 page not found", "text/plain");
      return;
    }
    res.set_content(kVectorBody, "application/json");
  });
  std::vector<int64_t> sleeps;
  PromClient prefixed(Options(prom.url() + "/prom/", &sleeps));
  auto ok = prefixed.Query("up", kEnd);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  PromClient plain(Options(prom.url(), &sleeps));
  auto r = plain.Query("up", kEnd);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(sleeps.empty());
  EXPECT_NE(
      r.status().message().find("Prometheus answered 404: 404 page not found (is " + prom.url() +
                                " the Prometheus base URL, path prefix included?)"),
      std::string::npos)
      << r.status().message();
}

TEST(PromClient, BearerTokenHeader) {
  FakeProm prom([](const httplib::Request&, httplib::Response& res, int) {
    res.set_content(kVectorBody, "application/json");
  });
  std::vector<int64_t> sleeps;
  PromClientOptions o = Options(prom.url(), &sleeps);
  o.auth.bearer_token = "s3cr3t-token";
  PromClient client(o);
  ASSERT_TRUE(client.Query("up", kEnd).ok());
  ASSERT_EQ(prom.seen().size(), 1u);
  EXPECT_EQ(prom.seen()[0].authorization, "Bearer s3cr3t-token");
}

TEST(PromClient, BasicAuthHeader) {
  FakeProm prom([](const httplib::Request& req, httplib::Response& res, int) {
    if (req.get_header_value("Authorization").empty()) {
      res.status = 401;
      res.set_content("Unauthorized", "text/plain");
      return;
    }
    res.set_content(kVectorBody, "application/json");
  });
  std::vector<int64_t> sleeps;
  PromClientOptions o = Options(prom.url(), &sleeps);
  o.auth.username = "user";
  o.auth.password = "pass";
  PromClient client(o);
  ASSERT_TRUE(client.Query("up", kEnd).ok());
  EXPECT_EQ(prom.seen().back().authorization, "Basic dXNlcjpwYXNz");

  // Credentials in the URL are basic auth too, and never appear in messages.
  PromClient in_url(Options("http://user:pass@127.0.0.1:" + std::to_string(prom.port()), &sleeps));
  ASSERT_TRUE(in_url.Query("up", kEnd).ok());
  EXPECT_EQ(prom.seen().back().authorization, "Basic dXNlcjpwYXNz");

  PromClient none(Options(prom.url(), &sleeps));
  auto r = none.Query("up", kEnd);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(sleeps.empty());
  EXPECT_NE(r.status().message().find(
                "Prometheus answered 401: Unauthorized (check the bearer token or basic auth)"),
            std::string::npos)
      << r.status().message();
}

TEST(PromClient, UnusableOptions) {
  struct Case {
    std::string url;
    std::string message;
  };
  const Case cases[] = {
      {"127.0.0.1:9090",
       "Prometheus URL '127.0.0.1:9090': no scheme; write e.g. http://127.0.0.1:9090"},
      {"ftp://h:1",
       "Prometheus URL 'ftp://h:1': scheme must be http or https; write e.g. "
       "http://127.0.0.1:9090"},
      {"http://:80", "Prometheus URL 'http://:80': no host; write e.g. http://127.0.0.1:9090"},
      {"http://h:x",
       "Prometheus URL 'http://h:x': port 'x' is not a number; write e.g. "
       "http://127.0.0.1:9090"},
      {"http://h:70000",
       "Prometheus URL 'http://h:70000': port 70000 is out of range; write "
       "e.g. http://127.0.0.1:9090"},
      {"http://h/?a=b",
       "Prometheus URL 'http://h/?a=b': a query string or fragment is not "
       "allowed; write e.g. http://127.0.0.1:9090"},
      {"http://[::1",
       "Prometheus URL 'http://[::1': unclosed '[' in the host; write e.g. "
       "http://127.0.0.1:9090"},
  };
  for (const Case& c : cases) {
    PromClientOptions o;
    o.url = c.url;
    PromClient client(o);
    EXPECT_EQ(client.status().code(), ErrorCode::kInvalidArgument) << c.url;
    EXPECT_EQ(client.status().message(), c.message);
    auto r = client.QueryRange("up", 0, 60000, 60000);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().message(), c.message);
    EXPECT_FALSE(client.Query("up", 0).ok());
  }
  PromClientOptions both;
  both.url = "http://127.0.0.1:1";
  both.auth.bearer_token = "t";
  both.auth.username = "u";
  EXPECT_EQ(PromClient(both).status().message(),
            "Prometheus auth: give a bearer token or basic auth, not both");
  PromClientOptions timeout;
  timeout.url = "http://127.0.0.1:1";
  timeout.timeout_ms = 0;
  EXPECT_EQ(PromClient(timeout).status().code(), ErrorCode::kInvalidArgument);
  PromClientOptions ok;
  ok.url = "https://[::1]:9443/prefix";
  EXPECT_TRUE(PromClient(ok).status().ok()) << PromClient(ok).status().ToString();
}

TEST(PromClient, HttpsGoesThroughTls) {
  // Debian's cpp-httplib is built with OpenSSL: an https URL makes a TLS handshake, which a
  // plain HTTP server cannot answer.
  FakeProm prom([](const httplib::Request&, httplib::Response& res, int) {
    res.set_content(kVectorBody, "application/json");
  });
  std::vector<int64_t> sleeps;
  PromClientOptions o = Options("https://127.0.0.1:" + std::to_string(prom.port()), &sleeps);
  o.retries = 0;
  PromClient client(o);
  ASSERT_TRUE(client.status().ok()) << client.status().ToString();
  auto r = client.Query("up", kEnd);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            "GET https://127.0.0.1:" + std::to_string(prom.port()) +
                "/api/v1/query (query 'up' at 2026-01-01T00:00:00Z): TLS connection to "
                "127.0.0.1:" +
                std::to_string(prom.port()) + " failed");
}

TEST(PromClient, BadRangeArguments) {
  PromClientOptions o;
  o.url = "http://127.0.0.1:1";
  PromClient client(o);
  auto r = client.QueryRange("up", 0, 60000, 0);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(), "range query 'up': step must be positive");
  r = client.QueryRange("up", kEnd, kEnd - 1, kStep);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            "range query 'up': end 2025-12-31T23:59:59.999Z is before start 2026-01-01T00:00:00Z");
  r = client.QueryRange("up", 0, 200 * 365 * kDayMs, 1);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(),
            "range query 'up': 1970-01-01T00:00:00Z to 2169-11-13T00:00:00Z at step 0.001 s is "
            "too many points; use a larger step or a shorter range");
}

}  // namespace
}  // namespace isoscope::native
