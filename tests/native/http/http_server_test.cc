#include "http_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <cmath>
#include <cstdlib>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "file_io.h"
#include "isoscope/bundle.h"
#include "support/small_model.h"

namespace isoscope::native {
namespace {

// docs/design.md, "Errors": the JSON API's statuses, one map for every handler.
TEST(HttpStatusFor, TheDesignTable) {
  EXPECT_EQ(HttpStatusFor(ErrorCode::kInvalidArgument), 400);
  EXPECT_EQ(HttpStatusFor(ErrorCode::kNotFound), 404);
  EXPECT_EQ(HttpStatusFor(ErrorCode::kUnavailable), 503);
  EXPECT_EQ(HttpStatusFor(ErrorCode::kBadInput), 502);
  for (ErrorCode c : {ErrorCode::kInternal, ErrorCode::kCorrupt, ErrorCode::kCanaryMismatch}) {
    EXPECT_EQ(HttpStatusFor(c), 500) << ErrorCodeName(c);
  }
}

class HttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/isoscope_http_XXXXXX";
    root_ = mkdtemp(tmpl);
    config_.models_dir = root_ + "/models";
    for (const char* name : {"checkout", "payments"}) {
      DetectorConfig d;
      d.name = name;
      d.queries = {{"latency", "latency_q"}, {"errors", "errors_q"}};
      d.group_by = {"job"};
      config_.detectors.push_back(d);
    }
  }
  void TearDown() override {
    if (server_) server_->Stop();
    if (thread_.joinable()) thread_.join();
    std::system(("rm -rf " + root_).c_str());
  }

  // `groups` jobs answer every query: "api", or api-0, api-1, ... when more than one.
  void Start(const std::string& cors = "",
             const std::function<void(HttpServer&)>& before_bind = nullptr, int groups = 1) {
    registry_ = std::make_shared<prometheus::Registry>();
    metrics_ = std::make_shared<ExporterMetrics>(registry_);
    daemon_ = std::make_unique<Daemon>(
        config_,
        [groups](const std::string&, TimeMs) {
          std::vector<PromSample> out(static_cast<size_t>(groups));
          for (int i = 0; i < groups; ++i) {
            out[static_cast<size_t>(i)].labels = {
                {"job", groups == 1 ? "api" : "api-" + std::to_string(i)}};
            out[static_cast<size_t>(i)].value = 1 + i % 7;
          }
          return Result<std::vector<PromSample>>(std::move(out));
        },
        metrics_, Logger([](const std::string&, const std::string&, const LogFields&) {}));
    server_ = std::make_unique<HttpServer>(*daemon_, registry_, cors, server_log_);
    if (before_bind) before_bind(*server_);
    auto port = server_->Bind("127.0.0.1:0");
    ASSERT_TRUE(port.ok()) << port.status().ToString();
    port_ = *port;
    ASSERT_GT(port_, 0);
    thread_ = std::thread([this] { server_->Run(); });
    client_ = std::make_unique<httplib::Client>("127.0.0.1", port_);
    for (int i = 0; i < 100 && !client_->Get("/healthz"); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }

  std::string Install(const std::string& detector, uint32_t seed = 0, bool candidate = false) {
    auto h = testing::MakeSmallHistory();
    FeatureSpec spec;
    spec.inputs = {"latency", "errors"};
    spec.derived.clear();
    TrainOptions options;
    options.params.n_estimators = 5;
    options.params.random_state = seed;
    options.params.contamination = Contamination::Fraction(0.05);
    options.contamination_explicit = true;
    options.created_ms = h.times.back() + seed;
    auto m = TrainModel(spec, nullptr, {h.a.data(), h.b.data()}, h.times.size(), options);
    EXPECT_TRUE(m.ok());
    BundleStore store(config_.models_dir, detector);
    const std::string report = R"({"rows_used": 3024})";
    EXPECT_TRUE(
        (candidate ? store.InstallCandidate(m->model_version, EncodeBundle(*m), report, 5, nullptr)
                   : store.Install(m->model_version, m->info.created_ms, EncodeBundle(*m), report,
                                   5, nullptr))
            .ok());
    return m->model_version;
  }

  std::string root_;
  Config config_;
  std::shared_ptr<prometheus::Registry> registry_;
  std::shared_ptr<ExporterMetrics> metrics_;
  std::unique_ptr<Daemon> daemon_;
  std::unique_ptr<HttpServer> server_;
  Logger server_log_ = Logger([](auto&&...) {});
  std::thread thread_;
  int port_ = 0;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(HttpServerTest, HealthAndReadiness) {
  Start();
  auto r = client_->Get("/healthz");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "ok\n");
  r = client_->Get("/readyz");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 503);
  EXPECT_NE(r->body.find("checkout, payments"), std::string::npos) << r->body;
  Install("checkout");
  daemon_->PollReloads(false);
  r = client_->Get("/readyz");
  EXPECT_EQ(r->status, 503);
  EXPECT_EQ(r->body.find("checkout"), std::string::npos) << r->body;
  EXPECT_NE(r->body.find("payments"), std::string::npos) << r->body;
  Install("payments");
  daemon_->PollReloads(false);
  r = client_->Get("/readyz");
  EXPECT_EQ(r->status, 200);
  EXPECT_FALSE(r->has_header("Access-Control-Allow-Origin"));
  r = client_->Get("/nope");
  EXPECT_EQ(r->status, 404);
}

// The descriptor of this process's listening TCP socket on `port`, -1 if none.
int ListeningFd(int port) {
  for (int fd = 0; fd < 4096; ++fd) {
    int listening = 0;
    socklen_t len = sizeof listening;
    if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) != 0 || !listening) continue;
    sockaddr_in addr{};
    socklen_t addr_len = sizeof addr;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &addr_len) == 0 &&
        addr.sin_family == AF_INET && ntohs(addr.sin_port) == port) {
      return fd;
    }
  }
  return -1;
}

// cpp-httplib 0.11.4 closes its listening socket on any accept() error but EMFILE, EINTR and
// EAGAIN (ENFILE, ENOBUFS, ENOMEM, EPERM). shutdown() of the listening socket makes accept()
// fail for real (EINVAL): the port must answer again, and the log and /metrics say so.
TEST_F(HttpServerTest, AFailedListeningSocketIsOpenedAgain) {
  std::mutex mu;
  std::string log;
  server_log_ = Logger([&](const std::string& level, const std::string& msg, const LogFields&) {
    std::lock_guard<std::mutex> lock(mu);
    log += level + ": " + msg + "\n";
  });
  Start();
  ASSERT_TRUE(client_->Get("/healthz"));
  const int fd = ListeningFd(port_);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::shutdown(fd, SHUT_RD), 0);
  auto r = client_->Get("/healthz");
  for (int i = 0; i < 100 && !r; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    r = client_->Get("/healthz");
  }
  ASSERT_TRUE(r) << "the port did not answer again within 5 s; log:\n" << log;
  EXPECT_EQ(r->status, 200);
  r = client_->Get("/metrics");
  ASSERT_TRUE(r);
  EXPECT_NE(r->body.find("\nisoscope_http_listener_failures_total 1\n"), std::string::npos)
      << r->body.substr(0, 2000);
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_NE(log.find("error: the listening socket failed; opening it again"), std::string::npos)
      << log;
  EXPECT_NE(log.find("info: listening again on 127.0.0.1:" + std::to_string(port_)),
            std::string::npos)
      << log;
}

TEST_F(HttpServerTest, MetricsInTextFormatWithHelpAndType) {
  Start();
  Install("checkout");
  daemon_->PollReloads(false);
  daemon_->RunCycle(0, 1767495600000);
  auto r = client_->Get("/metrics");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_NE(r->get_header_value("Content-Type").find("text/plain; version=0.0.4"),
            std::string::npos);
  for (const char* family :
       {"anomaly_score", "anomaly_is_anomaly", "anomaly_threshold", "anomaly_model_score_p95",
        "anomaly_rate_5m", "model_version_timestamp", "anomaly_model_canary_ok",
        "anomaly_model_state", "isoscope_build_info", "isoscope_query_errors_total",
        "isoscope_scoring_errors_total", "isoscope_reload_errors_total", "isoscope_reloads_total",
        "isoscope_http_listener_failures_total", "isoscope_query_duration_seconds",
        "isoscope_scoring_duration_seconds"}) {
    EXPECT_NE(r->body.find(std::string("# HELP ") + family + " "), std::string::npos) << family;
    EXPECT_NE(r->body.find(std::string("# TYPE ") + family + " "), std::string::npos) << family;
  }
  EXPECT_NE(r->body.find("anomaly_score{detector=\"checkout\",job=\"api\"} "), std::string::npos)
      << r->body;
  EXPECT_NE(r->body.find("anomaly_model_state{detector=\"payments\",state=\"warming\"} 1"),
            std::string::npos);
}

// Prometheus sends Accept-Encoding: gzip; the page then comes gzipped once (not compressed
// twice by cpp-httplib), and inflates to the page a client without gzip gets.
TEST_F(HttpServerTest, MetricsGzippedWhenTheScraperAsks) {
  Start();
  Install("checkout");
  daemon_->PollReloads(false);
  daemon_->RunCycle(0, 1767495600000);
  client_->set_decompress(false);
  auto plain = client_->Get("/metrics", {{"Accept-Encoding", "identity"}});
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->status, 200);
  EXPECT_FALSE(plain->has_header("Content-Encoding"));
  EXPECT_NE(plain->body.find("# TYPE anomaly_score "), std::string::npos);
  auto packed = client_->Get("/metrics", {{"Accept-Encoding", "gzip"}});
  ASSERT_TRUE(packed);
  EXPECT_EQ(packed->status, 200);
  EXPECT_EQ(packed->get_header_value("Content-Encoding"), "gzip");
  EXPECT_EQ(packed->get_header_value("Vary"), "Accept-Encoding");
  EXPECT_NE(packed->get_header_value("Content-Type").find("text/plain; version=0.0.4"),
            std::string::npos);
  // zlib's inflate with a gzip header, once: a body compressed twice would inflate to gzip.
  z_stream z{};
  ASSERT_EQ(inflateInit2(&z, 15 + 16), Z_OK);
  std::string body(plain->body.size() + 1, '\0');
  z.next_in = reinterpret_cast<Bytef*>(packed->body.data());
  z.avail_in = static_cast<uInt>(packed->body.size());
  z.next_out = reinterpret_cast<Bytef*>(body.data());
  z.avail_out = static_cast<uInt>(body.size());
  EXPECT_EQ(inflate(&z, Z_FINISH), Z_STREAM_END);
  body.resize(z.total_out);
  inflateEnd(&z);
  EXPECT_EQ(body, plain->body);
  EXPECT_LT(packed->body.size(), plain->body.size());
}

// A page of several MiB is kept and sent in chunks of 1 MiB: it arrives whole, in order, as
// SerializeMetrics writes it, plain and gzipped, on the first scrape and from the cache.
TEST_F(HttpServerTest, APageOfManyChunksArrivesWhole) {
  Start("", nullptr, 12000);
  Install("checkout");
  daemon_->PollReloads(false);
  daemon_->RunCycle(0, 1767495600000);
  const std::string want = SerializeMetrics(*metrics_);
  ASSERT_GT(want.size(), size_t{3} << 20);
  for (int i = 0; i < 2; ++i) {
    auto r = client_->Get("/metrics", {{"Accept-Encoding", "identity"}});
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    ASSERT_EQ(r->body.size(), want.size());
    EXPECT_TRUE(r->body == want) << "scrape " << i;
  }
  auto packed = client_->Get("/metrics", {{"Accept-Encoding", "gzip"}});  // inflated by httplib
  ASSERT_TRUE(packed);
  EXPECT_TRUE(packed->body == want);
}

TEST_F(HttpServerTest, DetectorsApiAndBundleBytes) {
  Start("https://grafana.example.com");
  const std::string v = Install("checkout");
  daemon_->PollReloads(false);
  auto r = client_->Get("/api/v1/detectors");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->get_header_value("Access-Control-Allow-Origin"), "https://grafana.example.com");
  auto j = nlohmann::json::parse(r->body);
  ASSERT_EQ(j.size(), 2u);
  EXPECT_EQ(j[0]["name"], "checkout");
  EXPECT_EQ(j[0]["model_version"], v);
  EXPECT_EQ(j[0]["state"], "stale");  // loaded, not scored yet
  ASSERT_EQ(j[0]["versions"].size(), 1u);
  EXPECT_EQ(j[0]["versions"][0]["version"], v);
  EXPECT_EQ(j[0]["versions"][0]["latest"], true);
  EXPECT_EQ(j[0]["report"]["rows_used"], 3024);
  EXPECT_EQ(j[1]["name"], "payments");
  EXPECT_TRUE(j[1]["model_version"].is_null());
  EXPECT_EQ(j[1]["state"], "warming");

  r = client_->Get("/api/v1/detectors/checkout/bundle");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->get_header_value("Content-Type"), "application/octet-stream");
  EXPECT_EQ(r->get_header_value("Access-Control-Allow-Origin"), "https://grafana.example.com");
  auto file = ReadFile(BundleStore(config_.models_dir, "checkout").BundlePath(v));
  ASSERT_TRUE(file.ok());
  EXPECT_EQ(r->body, *file);

  r = client_->Get("/api/v1/detectors/nope/bundle");
  EXPECT_EQ(r->status, 404);
  r = client_->Get("/api/v1/detectors/payments/bundle");
  EXPECT_EQ(r->status, 503);
  r = client_->Get("/api/v1/detectors/Bad.Name/bundle");
  EXPECT_EQ(r->status, 400);
  r = client_->Get("/api/v1/detectors/%2e%2e/bundle");
  EXPECT_EQ(r->status, 400);
}

// model: per: group: GET .../groups says which model scored each group; /bundle?group= (a
// hash or a group key) serves the group's own bundle, or the pooled one and says so.
TEST_F(HttpServerTest, GroupModelsApiAndGroupBundles) {
  config_.detectors[0].per_group = true;
  Start("https://grafana.example.com");
  const std::string pooled = Install("checkout");
  // The group {detector="checkout", job="api"} (the fake query's): FNV-1a 64 of
  // "detector=checkout" 0xFF "job=api" (shard.h's spec), written out here.
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : std::string("detector=checkout\xffjob=api"))
    h = (h ^ c) * 0x100000001b3ull;
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
  auto hist = testing::MakeSmallHistory();
  for (double& a : hist.a) a *= 1000;
  FeatureSpec spec;
  spec.inputs = {"latency", "errors"};
  spec.derived.clear();
  TrainOptions options;
  options.params.n_estimators = 5;
  options.params.contamination = Contamination::Fraction(0.05);
  options.contamination_explicit = true;
  options.created_ms = hist.times.back();
  auto m = TrainModel(spec, nullptr, {hist.a.data(), hist.b.data()}, hist.times.size(), options);
  ASSERT_TRUE(m.ok());
  m->group.labels = {{"detector", "checkout"}, {"job", "api"}};
  m->group.hash = hex;
  const std::string group_bytes = EncodeBundle(*m);
  ASSERT_TRUE(BundleStore::ForGroup(config_.models_dir, "checkout", h)
                  .Install(m->model_version, m->info.created_ms, group_bytes, "{}", 5, nullptr)
                  .ok());
  daemon_->PollReloads(false);
  daemon_->RunCycle(0, 1767495600000);

  auto r = client_->Get("/api/v1/detectors/checkout/groups");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  auto j = nlohmann::json::parse(r->body);
  ASSERT_EQ(j["groups"].size(), 1u);
  EXPECT_EQ(j["groups"][0]["group"], "{job=\"api\"}");
  EXPECT_EQ(j["groups"][0]["labels"], nlohmann::json({{"detector", "checkout"}, {"job", "api"}}));
  EXPECT_EQ(j["groups"][0]["hash"], hex);
  EXPECT_EQ(j["groups"][0]["source"], "group");
  EXPECT_EQ(j["groups"][0]["model_version"], m->model_version);
  EXPECT_EQ(j["counts"], nlohmann::json({{"group", 1}, {"pooled", 0}}));

  for (const std::string& group : {std::string(hex), std::string("%7Bjob%3D%22api%22%7D")}) {
    r = client_->Get("/api/v1/detectors/checkout/bundle?group=" + group);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, group_bytes) << group;
    EXPECT_EQ(r->get_header_value("X-Isoscope-Model-Source"), "group");
    EXPECT_EQ(r->get_header_value("X-Isoscope-Group-Hash"), hex);
    // A browser on another origin may read them (the panel shows which model it got).
    EXPECT_NE(r->get_header_value("Access-Control-Expose-Headers").find("X-Isoscope-Model-Source"),
              std::string::npos);
  }
  r = client_->Get("/api/v1/detectors/checkout/bundle?group=00000000000000aa");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  auto file = ReadFile(BundleStore(config_.models_dir, "checkout").BundlePath(pooled));
  ASSERT_TRUE(file.ok());
  EXPECT_EQ(r->body, *file);
  EXPECT_EQ(r->get_header_value("X-Isoscope-Model-Source"), "pooled");
  EXPECT_NE(r->get_header_value("X-Isoscope-Pooled-Reason").find("no group model"),
            std::string::npos);
  r = client_->Get("/api/v1/detectors/checkout/bundle?group=nope");
  EXPECT_EQ(r->status, 400);
  r = client_->Get("/api/v1/detectors/payments/groups");
  EXPECT_EQ(r->status, 404);
  r = client_->Get("/api/v1/detectors/nope/groups");
  EXPECT_EQ(r->status, 404);
}

// GET /api/v1/detectors/{name}/explain: the last scored row of one group, feature by feature;
// the contributions add up to log2 of the score over the baseline, each input's is the sum of
// its columns, and the top input is the largest. Errors: no cycle yet, no model, no group.
TEST_F(HttpServerTest, ExplainApiBreaksTheLastScoreDownByFeature) {
  Start();
  const std::string v = Install("checkout");
  daemon_->PollReloads(false);
  EXPECT_EQ(client_->Get("/api/v1/detectors/checkout/explain")->status, 503);  // no cycle yet
  daemon_->RunCycle(0, 1767495600000);
  auto r = client_->Get("/api/v1/detectors/checkout/explain?group=%7Bjob%3D%22api%22%7D");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  auto j = nlohmann::json::parse(r->body);
  EXPECT_EQ(j["detector"], "checkout");
  EXPECT_EQ(j["group"], "{job=\"api\"}");
  EXPECT_EQ(j["model_version"], v);
  EXPECT_EQ(j["time"], 1767495600000);
  ASSERT_EQ(j["features"].size(), 2u);
  ASSERT_EQ(j["inputs"].size(), 2u);
  double sum = 0;
  for (size_t k = 0; k < 2; ++k) {
    const auto& f = j["features"][k];
    EXPECT_EQ(f["name"], k == 0 ? "latency" : "errors");
    EXPECT_EQ(f["input"], f["name"]);
    EXPECT_EQ(f["value"], 1.0);  // what the fake query answers
    EXPECT_EQ(j["inputs"][k]["contribution"], f["contribution"]);
    sum += f["contribution"].get<double>();
  }
  EXPECT_NEAR(std::log2(j["baseline_score"].get<double>()) + sum,
              std::log2(j["anomaly_score"].get<double>()), 1e-12);
  const bool first = j["inputs"][0]["contribution"] > j["inputs"][1]["contribution"];
  EXPECT_EQ(j["top_input"], first ? "latency" : "errors");
  EXPECT_EQ(
      nlohmann::json::parse(client_->Get("/api/v1/detectors/checkout/explain")->body)["group"],
      "{job=\"api\"}");
  EXPECT_EQ(client_->Get("/api/v1/detectors/checkout/explain?group=x")->status, 404);
  EXPECT_EQ(client_->Get("/api/v1/detectors/payments/explain")->status, 503);
  EXPECT_EQ(client_->Get("/api/v1/detectors/nope/explain")->status, 404);
}

TEST_F(HttpServerTest, CandidateApiComparesOrSaysThereIsNone) {
  config_.detectors[0].promotion.mode = PromotionConfig::Mode::kManual;
  Start();
  const std::string v1 = Install("checkout");
  daemon_->PollReloads(false);
  auto none = client_->Get("/api/v1/detectors/checkout/candidate");
  ASSERT_TRUE(none);
  EXPECT_EQ(none->status, 404);
  EXPECT_NE(nlohmann::json::parse(none->body)["error"].get<std::string>().find("no candidate"),
            std::string::npos);
  const std::string v2 = Install("checkout", 7, /*candidate=*/true);
  daemon_->PollReloads(false);
  daemon_->RunCycle(0, 1767495600000);
  auto r = client_->Get("/api/v1/detectors/checkout/candidate");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  auto j = nlohmann::json::parse(r->body);
  EXPECT_EQ(j["candidate_version"], v2);
  EXPECT_EQ(j["active"]["version"], v1);
  EXPECT_EQ(j["rows"], 1);  // one group (job="api"), one cycle
  EXPECT_EQ(j["promotion"], "manual");
  EXPECT_EQ(j["gate"]["verdict"], "waiting");
  // immediate: never a candidate; a bad name and an unknown detector as elsewhere.
  EXPECT_EQ(client_->Get("/api/v1/detectors/payments/candidate")->status, 404);
  EXPECT_EQ(client_->Get("/api/v1/detectors/nope/candidate")->status, 404);
  EXPECT_EQ(client_->Get("/api/v1/detectors/a.b/candidate")->status, 400);
}

}  // namespace
}  // namespace isoscope::native

namespace isoscope::native {
namespace {

// The what-if page's data: one group's rows of the detector's history, NaN as null, the
// window ending at now() on the step grid, and clear errors for bad requests.
TEST_F(HttpServerTest, HistoryOfOneGroupForTheWhatIfPage) {
  constexpr TimeMs now = 1767495630000;  // 30 s past a minute
  TimeMs seen_start = 0, seen_end = 0;
  std::string seen_detector;
  Start("", [&](HttpServer& s) {
    s.SetHistory(
        [&](const DetectorConfig& d, TimeMs start, TimeMs end) -> Result<JoinedRows> {
          seen_detector = d.name;
          seen_start = start;
          seen_end = end;
          JoinedRows rows;
          rows.groups = {"{job=\"a\"}", "{job=\"b\"}"};
          rows.times = {end - kMinuteMs, end - kMinuteMs, end, end};
          rows.group_of_row = {0, 1, 0, 1};
          rows.series = {{1.5, 10, std::nan(""), 11}, {0.25, 20, 0.5, 21}};
          return rows;
        },
        [] { return now; });
  });
  auto r = client_->Get("/api/v1/detectors/payments/history?hours=2");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(seen_detector, "payments");
  EXPECT_EQ(seen_end, now - 30000);
  EXPECT_EQ(seen_start, now - 30000 - 2 * kHourMs);
  auto j = nlohmann::json::parse(r->body);
  EXPECT_EQ(j["group"], "{job=\"a\"}");
  EXPECT_EQ(j["times"], nlohmann::json({seen_end - kMinuteMs, seen_end}));
  EXPECT_EQ(j["series"]["latency"], nlohmann::json::parse("[1.5, null]"));
  EXPECT_EQ(j["series"]["errors"], nlohmann::json({0.25, 0.5}));
  EXPECT_EQ(j["step_ms"], kMinuteMs);

  r = client_->Get("/api/v1/detectors/payments/history?group=%7Bjob%3D%22b%22%7D");
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(nlohmann::json::parse(r->body)["series"]["latency"], nlohmann::json({10, 11}));
  EXPECT_EQ(seen_start, seen_end - 24 * kHourMs);  // the default window

  for (const char* bad : {"hours=0", "hours=-1", "hours=x", "hours=337", "hours=nan"}) {
    r = client_->Get(std::string("/api/v1/detectors/payments/history?") + bad);
    EXPECT_EQ(r->status, 400) << bad;
    EXPECT_NE(r->body.find("hours must be a number in (0, 336]"), std::string::npos) << r->body;
  }
  EXPECT_EQ(client_->Get("/api/v1/detectors/nosuch/history")->status, 404);
  EXPECT_EQ(client_->Get("/api/v1/detectors/payments/history?group=x")->status, 404);
}

TEST_F(HttpServerTest, HistoryErrorsAre502WithTheReason) {
  Start("", [](HttpServer& s) {
    s.SetHistory(
        [](const DetectorConfig&, TimeMs, TimeMs) -> Result<JoinedRows> {
          return Status(ErrorCode::kBadInput, "Prometheus error bad_data: parse error");
        },
        [] { return TimeMs{1767495600000}; });
  });
  auto r = client_->Get("/api/v1/detectors/checkout/history");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 502);
  EXPECT_NE(r->body.find("cannot read the history: Prometheus error bad_data"), std::string::npos);
}

TEST_F(HttpServerTest, WhatIfPageFilesAtRootWithWasmType) {
  const std::string ui = root_ + "/ui";
  ASSERT_EQ(::mkdir(ui.c_str(), 0755), 0);
  ASSERT_TRUE(WriteFileAtomic(ui + "/index.html", "<!doctype html>what-if").ok());
  ASSERT_TRUE(WriteFileAtomic(ui + "/core.abc.wasm", std::string("\0asm\1\0\0\0", 8)).ok());
  Status missing;
  Start("", [&](HttpServer& s) {
    missing = s.ServeUi(root_ + "/nope");
    ASSERT_TRUE(s.ServeUi(ui).ok());
  });
  EXPECT_EQ(missing.code(), ErrorCode::kBadInput);
  EXPECT_NE(missing.message().find("--web.ui-dir"), std::string::npos);
  auto r = client_->Get("/");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "<!doctype html>what-if");
  r = client_->Get("/core.abc.wasm");
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->get_header_value("Content-Type"), "application/wasm");
  EXPECT_EQ(r->body.size(), 8u);
  // The API and /metrics still answer under the mount.
  EXPECT_EQ(client_->Get("/healthz")->body, "ok\n");
  EXPECT_EQ(client_->Get("/api/v1/detectors")->status, 200);
  EXPECT_EQ(client_->Get("/nope.html")->status, 404);
}

}  // namespace
}  // namespace isoscope::native
