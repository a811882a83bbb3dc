#pragma once

// The daemon's one HTTP port (cpp-httplib): /metrics (the daemon's ExporterMetrics, text format),
// /healthz, /readyz, GET /api/v1/detectors, GET /api/v1/detectors/{name}/bundle,
// GET /api/v1/detectors/{name}/history (recent inputs, for the what-if page),
// GET /api/v1/detectors/{name}/explain (one group's last row, feature by feature) and the what-if
// page's static files at /. httplib.h stays inside http_server.cc and http_guard.*, whose
// connection loop (GuardedServer) bounds what each client can hold.

#include <functional>
#include <memory>
#include <string>
#include <utility>

#include "daemon.h"
#include "isoscope/alert.h"
#include "isoscope/status.h"
#include "logfmt.h"
#include "prom_join.h"
#include "web_config.h"

namespace isoscope::native {

/// The one map from the error vocabulary to HTTP for the JSON API (answered as
/// {"error": message}): invalid_argument 400, not_found 404, unavailable 503 (no model yet),
/// bad_input 502 (the history's source failed), anything else 500.
int HttpStatusFor(ErrorCode code);

/// A detector's input series over [start, end] at its step, joined by group: Prometheus range
/// queries, or the --replay-csv history. Called from HTTP threads.
using HistoryFunction =
    std::function<Result<JoinedRows>(const DetectorConfig& detector, TimeMs start, TimeMs end)>;

/// The longest history the what-if page may ask for.
constexpr TimeMs kMaxHistoryMs = 14 * kDayMs;

class HttpServer {
 public:
  /// `daemon` and `registry` (the one its ExporterMetrics registers in; /metrics writes
  /// Daemon::metrics()) must outlive the server. `cors_origin` (empty = none) is sent as
  /// Access-Control-Allow-Origin on every answer. `web` (--web.config.file, already loaded
  /// and checked) adds TLS and basic auth to every endpoint; the default is plain HTTP.
  HttpServer(const Daemon& daemon, std::shared_ptr<prometheus::Registry> registry,
             std::string cors_origin, Logger logger = Logger(),
             ExporterWebConfig web = ExporterWebConfig());
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  /// Enables GET /api/v1/detectors/{name}/history?hours=H[&group=G] (default 24 h, at most
  /// kMaxHistoryMs, ending at `now()` on the detector's step grid). Call before Run(). The
  /// answer starts earlier by the active model's warm-up (its features' longest look-back and a
  /// step), so that the page can score the first shown point; `shown_from` marks where the
  /// requested range starts. `incidents` that overlap the answer are listed with it.
  void SetHistory(HistoryFunction history, std::function<TimeMs()> now,
                  std::vector<IncidentWindow> incidents = {});
  /// Serves the files of `dir` at / (the standalone what-if page, wasm/panel's dist). Call
  /// before Run(). kBadInput if `dir` is not a directory.
  Status ServeUi(const std::string& dir);

  /// Re-reads the web config at `path` (and the certificate, key and CA files it names) when
  /// one of them changes, noticed at the next connection, at most once a second: certificate
  /// rotation and user changes need no restart. Call before Run().
  void WatchWebConfig(const std::string& path);
  /// Runs `input`, one client's bytes, through the connection loop, the request guards and
  /// the routes, without a socket; returns the bytes written back (tests, the fuzz target).
  std::string ServeBytes(const std::string& input, const std::string& client_ip = "127.0.0.1");

  /// Binds the listening socket; returns the bound port (the real one for port 0). Fails if the
  /// TLS context could not be set up from the web config.
  Result<int> Bind(const std::string& listen_address);
  /// Serves until Stop(); false if it could not (not bound). A listening socket that fails
  /// (cpp-httplib gives it up on most accept() errors) is opened again on the same address,
  /// logged and counted in isoscope_http_listener_failures_total.
  bool Run();
  /// Stops Run() (from any thread).
  void Stop();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace isoscope::native
