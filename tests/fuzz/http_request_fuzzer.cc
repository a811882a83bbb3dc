// libFuzzer target: arbitrary bytes as one client's side of a connection, through the daemon's
// connection loop (head buffering, header dropping, budget), cpp-httplib's request parser, the
// request guard, basic auth and the routes (HttpServer::ServeBytes; no socket). The answer must
// be well-formed enough to start with a status line whenever anything was written.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>

#include "http_server.h"

namespace {

using isoscope::native::Daemon;
using isoscope::native::HttpServer;

HttpServer& Server() {
  static auto* registry =
      new std::shared_ptr<prometheus::Registry>(std::make_shared<prometheus::Registry>());
  static Daemon* daemon = [] {
    isoscope::native::Config config;
    config.models_dir = "/nonexistent-isoscope-fuzz";
    isoscope::native::DetectorConfig d;
    d.name = "demo";
    d.queries = {{"latency", "latency_q"}};
    config.detectors.push_back(d);
    return new Daemon(
        config,
        [](const std::string&, isoscope::TimeMs) {
          return isoscope::Result<std::vector<isoscope::native::PromSample>>(
              std::vector<isoscope::native::PromSample>{});
        },
        std::make_shared<isoscope::native::ExporterMetrics>(*registry),
        isoscope::native::Logger([](auto&&...) {}));
  }();
  static HttpServer* server = [] {
    // Basic auth with a cheap bcrypt (cost 4, password "pw") so that the auth path is fuzzed
    // without 50 ms per input.
    isoscope::native::ExporterWebConfig web;
    web.basic_auth_users["u"] = "$2y$04$w/f0MiLBOfEWamOCq/ex0eYdNNQ7YuUlh0lvMSNQSuPrp.zZJVI0.";
    return new HttpServer(*daemon, *registry, "https://grafana.example", {}, web);
  }();
  return *server;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  const std::string out = Server().ServeBytes(input);
  if (!out.empty() && out.compare(0, 7, "HTTP/1.") != 0) std::abort();
  return 0;
}
