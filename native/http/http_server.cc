#include "http_server.h"

#ifdef __GLIBC__
#include <malloc.h>
#endif

#include <httplib.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <sys/stat.h>
#include <chrono>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "explain_api.h"
#include "file_io.h"
#include "group_api.h"
#include "group_models.h"
#include "gzip.h"
#include "http_guard.h"
#include "isoscope/bundle.h"
#include "listen_address.h"
#include "metrics.h"
#include "time_parse.h"

namespace isoscope::native {

int HttpStatusFor(ErrorCode code) {
  switch (code) {
    case ErrorCode::kOk:
      return 200;
    case ErrorCode::kInvalidArgument:
      return 400;
    case ErrorCode::kNotFound:
      return 404;
    case ErrorCode::kUnavailable:
      return 503;
    case ErrorCode::kBadInput:  // what the daemon read from its source could not be used
      return 502;
    default:
      return 500;
  }
}

namespace {

constexpr const char* kBadNameMessage = "invalid detector name: use 1 to 64 of [a-z0-9_-]";

// /metrics serializes at most this often; scrapes in between get the same page. A flood of
// scrapes then costs little more than copying a string, and the scoring cycle keeps its CPU
// (make bench: wrk against 10,000 series). No scraper polls faster than this.
// A training report is a few KB; a bigger file is not one.
constexpr size_t kMaxReportBytes = 4 << 20;
constexpr auto kMetricsPageMaxAge = std::chrono::milliseconds(250);

// The HTTP workers run at a lower CPU priority (nice +10) than the scoring cycle: when scrapes
// flood the port on a small machine, scores stay on time and the scrapes wait instead
// (make bench: the cycle under wrk load stays within 2x its idle time).
constexpr int kWorkerNice = 10;

class LowPriorityPool : public httplib::TaskQueue {
 public:
  explicit LowPriorityPool(size_t threads) : pool_(threads) {}
  void enqueue(std::function<void()> fn) override {
    pool_.enqueue([fn = std::move(fn)] {
      thread_local bool lowered = false;
      if (!lowered) {
        // Linux: the nice value is per thread (a TID names one thread). Best effort.
        setpriority(PRIO_PROCESS, static_cast<id_t>(::syscall(SYS_gettid)), kWorkerNice);
        lowered = true;
      }
      fn();
    });
  }
  void shutdown() override { pool_.shutdown(); }

 private:
  httplib::ThreadPool pool_;
};

// JSON text that never throws: invalid UTF-8 (a file or column name) becomes U+FFFD.
std::string Dump(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// The API's one way to answer an error: HttpStatusFor's status and {"error": message}.
void SendError(httplib::Response& res, const Status& status) {
  res.status = HttpStatusFor(status.code());
  res.set_content(Dump(nlohmann::json({{"error", status.message()}})), "application/json");
}

// What identifies the content of the web config and the files it names: inode, size and
// modification time of each. A rotation (rename or rewrite) changes it.
std::string FilesSignature(const std::vector<std::string>& paths) {
  std::string sig;
  for (const std::string& p : paths) {
    struct stat st {};
    if (p.empty() || ::stat(p.c_str(), &st) != 0) {
      sig += "-|";
      continue;
    }
    sig += std::to_string(st.st_ino) + ":" + std::to_string(st.st_size) + ":" +
           std::to_string(st.st_mtim.tv_sec) + "." + std::to_string(st.st_mtim.tv_nsec) + "|";
  }
  return sig;
}

std::vector<std::string> WebFiles(const std::string& path, const ExporterWebConfig& web) {
  return {path, web.cert_file, web.key_file, web.client_ca_file};
}

}  // namespace

class HttpServer::Impl {
 public:
  Impl(const Daemon& daemon, std::shared_ptr<prometheus::Registry> registry,
       std::string cors_origin, Logger logger, ExporterWebConfig web)
      : daemon_(daemon),
        registry_(std::move(registry)),
        metrics_(daemon.metrics()),
        cors_(std::move(cors_origin)),
        log_(std::move(logger)),
        web_(std::move(web)),
        auth_(std::make_shared<const BasicAuth>(web_.basic_auth_users)) {
    server_.new_task_queue = [] { return new LowPriorityPool(GuardLimits().workers); };
    server_.set_payload_max_length(0);  // no endpoint takes a body (GuardRequest refuses any)
    auto tls = MakeTlsContext(web_);
    if (tls.ok()) {
      server_.SetTls(*tls);
    } else {
      tls_error_ = tls.status().message();
    }
    SetDefaultHeaders();
    SetHooks();
    Route();
  }

  // Headers on every answer: the web config's, CORS, and nosniff.
  void SetDefaultHeaders() {
    httplib::Headers headers(web_.headers.begin(), web_.headers.end());
    if (!cors_.empty()) {
      headers.emplace("Access-Control-Allow-Origin", cors_);
      headers.emplace("Vary", "Origin");
      // The panel reads which model /bundle sent (model: per: group) across origins.
      headers.emplace("Access-Control-Expose-Headers",
                      "X-Isoscope-Model-Version, X-Isoscope-Model-Source, X-Isoscope-Group-Hash, "
                      "X-Isoscope-Pooled-Reason");
    }
    // Browsers must not guess another type than the one sent (a path ending in .js that
    // serves HTML, e.g. /index.html%00.js).
    headers.emplace("X-Content-Type-Options", "nosniff");
    server_.set_default_headers(headers);
  }

  // Before routing: the request guard and authorization; after a throw: a bare 500.
  void SetHooks() {
    server_.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
      if (GuardRequest(req, res) == httplib::Server::HandlerResponse::Handled) {
        return httplib::Server::HandlerResponse::Handled;
      }
      return Authorize(req, res);
    });
    // Never the exception's text in a header (httplib's default is EXCEPTION_WHAT).
    server_.set_exception_handler(
        [this](const httplib::Request& req, httplib::Response& res, std::exception_ptr ep) {
          std::string what = "unknown exception";
          try {
            if (ep) std::rethrow_exception(ep);
          } catch (const std::exception& e) {
            what = e.what();
          } catch (...) {
          }
          log_.Error("request failed",
                     {{"path", EscapeBytes(req.path)}, {"reason", EscapeBytes(what)}});
          res.status = 500;
          res.set_content("internal error\n", "text/plain; charset=utf-8");
        });
  }

  // The endpoints.
  void Route() {
    server_.Get("/metrics", [this](const httplib::Request& req, httplib::Response& res) {
      ServeMetrics(AcceptsGzip(req.get_header_value("Accept-Encoding")), res);
    });
    server_.Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
      res.set_content("ok\n", "text/plain; charset=utf-8");
    });
    server_.Get("/readyz", [this](const httplib::Request&, httplib::Response& res) {
      std::vector<std::string> missing;
      if (daemon_.Ready(&missing)) {
        res.set_content("ready\n", "text/plain; charset=utf-8");
        return;
      }
      std::string names;
      for (const std::string& n : missing) names += (names.empty() ? "" : ", ") + n;
      res.status = 503;
      res.set_content("not ready: no model loaded for " + names + "\n",
                      "text/plain; charset=utf-8");
    });
    server_.Get("/api/v1/detectors", [this](const httplib::Request&, httplib::Response& res) {
      res.set_content(Dump(DetectorsJson()), "application/json");
    });
    server_.Get(R"(/api/v1/detectors/([^/]*)/bundle)",
                [this](const httplib::Request& req, httplib::Response& res) {
                  if (req.has_param("group")) return GroupBundle(req.matches[1].str(), req, res);
                  Bundle(req.matches[1].str(), res);
                });
    server_.Get(R"(/api/v1/detectors/([^/]*)/groups)",
                [this](const httplib::Request& req, httplib::Response& res) {
                  Groups(req.matches[1].str(), res);
                });
    server_.Get(R"(/api/v1/detectors/([^/]*)/explain)",
                [this](const httplib::Request& req, httplib::Response& res) {
                  Explain(req.matches[1].str(), req, res);
                });
    server_.Get(R"(/api/v1/detectors/([^/]*)/candidate)",
                [this](const httplib::Request& req, httplib::Response& res) {
                  Candidate(req.matches[1].str(), res);
                });
    server_.Options(R"(/api/v1/.*)", [this](const httplib::Request&, httplib::Response& res) {
      if (!cors_.empty()) {
        res.set_header("Access-Control-Allow-Methods", "GET, OPTIONS");
        res.set_header("Access-Control-Allow-Headers", "Content-Type, Authorization");
      }
      res.status = 204;
    });
  }

  // Every path, known or not, is behind the same check. OPTIONS is the exception: a browser
  // sends its CORS preflight without credentials, and the answer (204, no body) tells nothing.
  httplib::Server::HandlerResponse Authorize(const httplib::Request& req, httplib::Response& res) {
    std::shared_ptr<const BasicAuth> auth = Auth();
    if (!auth_enabled_ || req.method == "OPTIONS")
      return httplib::Server::HandlerResponse::Unhandled;
    const BasicAuth::Result r =
        auth->Verify(req.get_header_value("Authorization"), req.remote_addr);
    if (r == BasicAuth::Result::kOk) return httplib::Server::HandlerResponse::Unhandled;
    // A refused client reconnects to try again: a connection cannot loop over guesses.
    res.set_header("Connection", "close");
    CloseAfterResponse();
    if (r == BasicAuth::Result::kBusy) {
      res.status = 503;
      res.set_header("Retry-After", "1");
      res.set_content("busy checking other credentials, retry\n", "text/plain; charset=utf-8");
    } else {
      res.status = 401;
      res.set_header("WWW-Authenticate", "Basic realm=\"isoscope\"");
      res.set_content("Unauthorized\n", "text/plain; charset=utf-8");
    }
    return httplib::Server::HandlerResponse::Handled;
  }

  std::shared_ptr<const BasicAuth> Auth() {
    std::lock_guard<std::mutex> lock(web_mu_);
    return auth_;
  }

  // Reloads the web config when it or a file it names changed (as exporter-toolkit does, so a
  // certificate rotation needs no restart). A broken new config is logged and the old one
  // keeps serving. Runs on an HTTP worker, at most once a second.
  void CheckWebConfig() {
    const std::string sig = FilesSignature(WebFiles(web_path_, web_));
    if (sig == web_sig_) return;
    web_sig_ = sig;
    auto loaded = LoadWebConfig(web_path_);
    if (!loaded.ok()) {
      log_.Error("web config changed but cannot be used; keeping the previous one",
                 {{"web_config", web_path_}, {"reason", loaded.status().message()}});
      return;
    }
    auto tls = MakeTlsContext(*loaded);
    if (!tls.ok()) {
      log_.Error("web config changed but cannot be used; keeping the previous one",
                 {{"web_config", web_path_}, {"reason", tls.status().message()}});
      return;
    }
    if (loaded->tls() != web_.tls() || loaded->auth() != web_.auth()) {
      log_.Warn(
          "web config: turning TLS or basic auth on or off needs a restart; reloading "
          "certificates and users only",
          {{"web_config", web_path_}});
    }
    if (web_.tls() && loaded->tls()) server_.SetTls(*tls);
    if (web_.auth() && loaded->auth()) {
      std::lock_guard<std::mutex> lock(web_mu_);
      auth_ = std::make_shared<const BasicAuth>(loaded->basic_auth_users);
    }
    web_.cert_file = loaded->cert_file;
    web_.key_file = loaded->key_file;
    web_.client_ca_file = loaded->client_ca_file;
    web_sig_ = FilesSignature(WebFiles(web_path_, web_));
    log_.Info("web config reloaded", {{"web_config", web_path_}});
  }

  // The page as is or gzipped, shared with the cache (no copy per scrape). A sized content
  // provider: httplib compresses set_content bodies itself on every request, and would
  // compress an already gzipped body again.
  void ServeMetrics(bool gzip, httplib::Response& res) {
    res.set_header("Vary", "Accept-Encoding");
    constexpr const char* kType = "text/plain; version=0.0.4; charset=utf-8";
    if (std::shared_ptr<const std::string> body = gzip ? MetricsPageGzip() : nullptr) {
      res.set_header("Content-Encoding", "gzip");
      res.set_content_provider(body->size(), kType,
                               [body](size_t offset, size_t length, httplib::DataSink& sink) {
                                 return sink.write(body->data() + offset, length);
                               });
      return;
    }
    std::shared_ptr<const PageChunks> page = MetricsPage();
    res.set_content_provider(page->size, kType,
                             [page](size_t offset, size_t length, httplib::DataSink& sink) {
                               const std::string_view rest = page->At(offset);
                               return sink.write(rest.data(), std::min(length, rest.size()));
                             });
  }

  // The plain page in chunks of about 1 MiB instead of one string: a page of 100,000 groups
  // (26 MB) is written without the copies of a string doubling its buffer, and without the
  // next page's buffer reserved beside the last one.
  struct PageChunks {
    static constexpr size_t kChunkBytes = size_t{1} << 20;
    std::vector<std::string> chunks;
    std::vector<size_t> starts;  // the page offset of each chunk's first byte
    size_t size = 0;
    void Append(std::string_view text) {
      if (chunks.empty() || chunks.back().size() + text.size() > kChunkBytes) {
        starts.push_back(size);
        chunks.emplace_back().reserve(std::max(kChunkBytes, text.size()));
      }
      chunks.back().append(text);
      size += text.size();
    }
    // The page from `offset` to the end of the chunk holding it.
    std::string_view At(size_t offset) const {
      const size_t k = static_cast<size_t>(std::upper_bound(starts.begin(), starts.end(), offset) -
                                           starts.begin()) -
                       1;
      return std::string_view(chunks[k]).substr(offset - starts[k]);
    }
  };

  // The current page gzipped, written again once it is older than kMetricsPageMaxAge: the
  // text goes straight into the compressor chunk by chunk (WriteMetrics), so a gzip scrape
  // never holds the whole text. nullptr if zlib fails; the page then goes out as is.
  std::shared_ptr<const std::string> MetricsPageGzip() {
    std::lock_guard<std::mutex> lock(gzip_mu_);
    const auto now = std::chrono::steady_clock::now();
    if (!gzip_page_ || now - gzip_time_ >= kMetricsPageMaxAge) {
      GzipStream gzip;
      WriteMetrics(*metrics_, [&gzip](std::string_view chunk) { gzip.Write(chunk); });
      auto packed = gzip.Finish();
      if (!packed.ok()) return nullptr;
      gzip_page_ = std::make_shared<const std::string>(std::move(packed).value());
      gzip_time_ = std::chrono::steady_clock::now();
#ifdef __GLIBC__
      // The registry's collected families and the compressor's buffers, freed by now.
      malloc_trim(0);
#endif
    }
    return gzip_page_;
  }

  // The current page, serialized again once it is older than kMetricsPageMaxAge; one
  // serialization at a time (concurrent scrapes wait for it instead of each doing it).
  std::shared_ptr<const PageChunks> MetricsPage() {
    std::lock_guard<std::mutex> lock(page_mu_);
    const auto now = std::chrono::steady_clock::now();
    if (!page_ || now - page_time_ >= kMetricsPageMaxAge) {
      page_.reset();  // freed now unless a scrape still sends it
      auto page = std::make_shared<PageChunks>();
      WriteMetrics(*metrics_, [&page](std::string_view chunk) { page->Append(chunk); });
      page_ = std::move(page);
      page_time_ = std::chrono::steady_clock::now();
#ifdef __GLIBC__
      // A page of 100,000 groups is tens of MB; the previous one is freed by now.
      malloc_trim(0);
#endif
    }
    return page_;
  }

  nlohmann::json DetectorsJson() const {
    nlohmann::json out = nlohmann::json::array();
    for (const DetectorView& v : daemon_.Views()) {
      nlohmann::json d;
      d["name"] = v.name;
      d["model_version"] =
          v.model_version.empty() ? nlohmann::json(nullptr) : nlohmann::json(v.model_version);
      d["state"] = DetectorStateName(v.state);
      d["reason"] = v.reason;
      d["groups_scored"] = v.groups_scored;
      d["groups_stale"] = v.groups_stale;
      d["last_cycle"] = v.last_cycle_ms == 0 ? nlohmann::json(nullptr)
                                             : nlohmann::json(FormatTime(v.last_cycle_ms));
      BundleStore store(daemon_.config().models_dir, v.name);
      nlohmann::json versions = nlohmann::json::array();
      auto list = store.List();
      if (list.ok()) {
        for (const StoredVersion& sv : *list) {
          versions.push_back({{"version", sv.version},
                              {"complete", sv.has_report},
                              {"created", FormatTime(sv.created_ms)},
                              {"latest", sv.is_latest},
                              {"active", sv.version == v.model_version}});
        }
      }
      d["versions"] = versions;
      d["report"] = nullptr;
      if (!v.model_version.empty()) {
        auto text = ReadFile(store.dir() + "/" + v.model_version + ".report.json",
                             ReadOptions{kMaxReportBytes, /*no_follow=*/true});
        if (text.ok()) {
          auto parsed = nlohmann::json::parse(*text, nullptr, false);
          if (!parsed.is_discarded()) d["report"] = parsed;
        }
      }
      out.push_back(d);
    }
    return out;
  }

  // The detector's index, or -1 once the answer says why not: 400 for a name no store could
  // hold, 404 for one the daemon does not have.
  int DetectorIndex(const std::string& name, httplib::Response& res) const {
    if (!BundleStore::ValidateName(name).ok()) {
      SendError(res, Status(ErrorCode::kInvalidArgument, kBadNameMessage));
      return -1;
    }
    const int index = daemon_.Find(name);
    if (index < 0) SendError(res, Status(ErrorCode::kNotFound, "no detector '" + name + "'"));
    return index;
  }

  void Bundle(const std::string& name, httplib::Response& res) const {
    const int index = DetectorIndex(name, res);
    if (index < 0) return;
    auto active = daemon_.Active(static_cast<size_t>(index));
    if (!active) {
      return SendError(
          res, Status(ErrorCode::kUnavailable, "detector '" + name + "' has no model loaded yet"));
    }
    res.set_header("X-Isoscope-Model-Version", active->version);
    res.set_header("Content-Disposition",
                   "attachment; filename=\"" + name + "-" + active->version + ".bundle\"");
    res.set_content(*active->bytes, "application/octet-stream");
  }

  // model: per: group: which model scored each group in the last cycle.
  void Groups(const std::string& name, httplib::Response& res) const {
    const int index = DetectorIndex(name, res);
    if (index < 0) return;
    auto views = daemon_.GroupModelViews(static_cast<size_t>(index));
    if (!views) {
      return SendError(res, Status(ErrorCode::kNotFound, "detector '" + name +
                                                             "' has one pooled model "
                                                             "(model: per: detector)"));
    }
    res.set_content(GroupModelsJson(name, *views), "application/json");
  }

  // ?group=<hash or key>: the group's own bundle, or the pooled one when it has none; the
  // X-Isoscope-Model-Source header says which (group, pooled) and X-Isoscope-Pooled-Reason why.
  void GroupBundle(const std::string& name, const httplib::Request& req,
                   httplib::Response& res) const {
    const int index = DetectorIndex(name, res);
    if (index < 0) return;
    auto views = daemon_.GroupModelViews(static_cast<size_t>(index));
    auto hash = GroupHashOfParam(req.get_param_value("group"),
                                 views ? *views : std::vector<GroupModelView>{});
    if (!hash.ok()) return SendError(res, hash.status());
    std::string reason;
    auto model = daemon_.GroupActive(static_cast<size_t>(index), *hash, &reason);
    if (!model) {
      return SendError(
          res, Status(ErrorCode::kUnavailable, "detector '" + name + "' has no model loaded yet"));
    }
    const bool own = reason.empty();
    std::shared_ptr<const std::string> bytes = model->bytes;
    if (!bytes) {  // a group's model keeps no copy: the file it was loaded from
      auto file = ReadFile(model->path, ReadOptions{kMaxBundleBytes, /*no_follow=*/true});
      if (!file.ok()) {
        return SendError(res, Status(ErrorCode::kUnavailable,
                                     "cannot read the group's bundle: " + file.status().message()));
      }
      bytes = std::make_shared<const std::string>(std::move(*file));
    }
    res.set_header("X-Isoscope-Model-Version", model->version);
    res.set_header("X-Isoscope-Model-Source", own ? "group" : "pooled");
    res.set_header("X-Isoscope-Group-Hash", BundleStore::GroupDirName(*hash));
    if (!own) res.set_header("X-Isoscope-Pooled-Reason", reason);
    res.set_header("Content-Disposition", "attachment; filename=\"" + name + "-" +
                                              (own ? BundleStore::GroupDirName(*hash) + "-" : "") +
                                              model->version + ".bundle\"");
    res.set_content(*bytes, "application/octet-stream");
  }

  // One group's per-feature attribution of its last scored row, computed for this request only
  // (quiet groups cost nothing until asked). ?group= is the group key, as in /history.
  void Explain(const std::string& name, const httplib::Request& req, httplib::Response& res) const {
    const int index = DetectorIndex(name, res);
    if (index < 0) return;
    // kNotFound: no such scored group; kUnavailable: nothing scored yet, or a warming row.
    auto e = daemon_.Explain(static_cast<size_t>(index), req.get_param_value("group"));
    if (!e.ok()) return SendError(res, e.status());
    res.set_content(GroupExplanationJson(name, *e), "application/json");
  }

  // The detector's candidate compared with its active model (promotion: manual or gate).
  void Candidate(const std::string& name, httplib::Response& res) const {
    const int index = DetectorIndex(name, res);
    if (index < 0) return;
    auto view = daemon_.Candidate(static_cast<size_t>(index));  // kNotFound: no candidate
    if (!view.ok()) return SendError(res, view.status());
    res.set_content(CandidateViewJson(*view), "application/json");
  }

  // Recent inputs of one detector (one group) as aligned arrays: what the what-if page
  // scores in the browser with the detector's own bundle.
  void History(const std::string& name, const httplib::Request& req, httplib::Response& res) const {
    const int index = DetectorIndex(name, res);
    if (index < 0) return;
    const DetectorConfig& det = daemon_.config().detectors[static_cast<size_t>(index)];
    double hours = 24;
    if (req.has_param("hours")) {
      char* end = nullptr;
      const std::string text = req.get_param_value("hours");
      hours = std::strtod(text.c_str(), &end);
      if (text.empty() || *end != '\0' || !std::isfinite(hours) || hours <= 0 ||
          hours * kHourMs > static_cast<double>(kMaxHistoryMs)) {
        return SendError(res, Status(ErrorCode::kInvalidArgument,
                                     "hours must be a number in (0, " +
                                         std::to_string(kMaxHistoryMs / kHourMs) + "]"));
      }
    }
    TimeMs end = now_();
    end -= ((end % det.step_ms) + det.step_ms) % det.step_ms;
    const TimeMs start = end - static_cast<TimeMs>(std::llround(hours * kHourMs));
    const TimeMs warmup = WarmupMs(static_cast<size_t>(index));
    auto rows = history_(det, start - warmup, end);
    if (!rows.ok()) {
      // The source (Prometheus, the replay CSV) failed, whatever its code: a bad gateway.
      return SendError(
          res, Status(ErrorCode::kBadInput, "cannot read the history: " + rows.status().message()));
    }
    size_t group = 0;
    if (req.has_param("group")) {
      const std::string g = req.get_param_value("group");
      const auto it = std::find(rows->groups.begin(), rows->groups.end(), g);
      if (it == rows->groups.end()) {
        return SendError(res, Status(ErrorCode::kNotFound, "no group " + g + " in the history"));
      }
      group = static_cast<size_t>(it - rows->groups.begin());
    }
    nlohmann::json times = nlohmann::json::array();
    std::vector<nlohmann::json> series(rows->series.size(), nlohmann::json::array());
    for (size_t r = 0; r < rows->rows(); ++r) {
      if (rows->group_of_row[r] != static_cast<int32_t>(group)) continue;
      times.push_back(rows->times[r]);
      for (size_t q = 0; q < rows->series.size(); ++q) {
        const double v = rows->series[q][r];
        series[q].push_back(std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr));
      }
    }
    nlohmann::json out;
    out["detector"] = name;
    out["step_ms"] = det.step_ms;
    out["warmup_ms"] = warmup;
    out["shown_from"] = start;
    out["incidents"] = IncidentsJson(start - warmup, end);
    out["start"] = FormatTime(start);
    out["end"] = FormatTime(end);
    out["groups"] = rows->groups;
    out["group"] =
        rows->groups.empty() ? nlohmann::json(nullptr) : nlohmann::json(rows->groups[group]);
    out["times"] = std::move(times);
    nlohmann::json by_name = nlohmann::json::object();
    for (size_t q = 0; q < det.queries.size() && q < series.size(); ++q) {
      by_name[det.queries[q].first] = std::move(series[q]);
    }
    out["series"] = std::move(by_name);
    res.set_content(Dump(out), "application/json");
  }

  // History the active model's features read before a point (0 while warming: the page then
  // shows the inputs only).
  TimeMs WarmupMs(size_t index) const {
    auto active = daemon_.Active(index);
    return active ? active->model.spec.warmup_ms() : 0;
  }

  nlohmann::json IncidentsJson(TimeMs from, TimeMs to) const {
    nlohmann::json list = nlohmann::json::array();
    for (const IncidentWindow& w : incidents_) {
      if (w.end_ms <= from || w.start_ms > to) continue;
      list.push_back({{"name", w.name}, {"start", w.start_ms}, {"end", w.end_ms}});
    }
    return list;
  }

  const Daemon& daemon_;
  HistoryFunction history_;
  std::vector<IncidentWindow> incidents_;
  std::function<TimeMs()> now_;
  std::shared_ptr<prometheus::Registry> registry_;
  std::shared_ptr<const ExporterMetrics> metrics_;  // the daemon's: /metrics
  std::string cors_;
  Logger log_;
  ExporterWebConfig web_;
  const bool auth_enabled_ = web_.auth();
  std::mutex web_mu_;
  std::shared_ptr<const BasicAuth> auth_;  // replaced when the web config's users change
  std::string web_path_;                   // empty: not watched
  std::string web_sig_;                    // HTTP workers, one at a time (GuardedServer)
  std::string tls_error_;
  GuardedServer server_;
  bool bound_ = false;
  std::string host_;  // the bound address, kept to open the socket again (Run)
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::mutex page_mu_;
  std::shared_ptr<const PageChunks> page_;
  std::chrono::steady_clock::time_point page_time_;
  std::mutex gzip_mu_;
  std::shared_ptr<const std::string> gzip_page_;
  std::chrono::steady_clock::time_point gzip_time_;
};

HttpServer::HttpServer(const Daemon& daemon, std::shared_ptr<prometheus::Registry> registry,
                       std::string cors_origin, Logger logger, ExporterWebConfig web)
    : impl_(std::make_unique<Impl>(daemon, std::move(registry), std::move(cors_origin),
                                   std::move(logger), std::move(web))) {}

HttpServer::~HttpServer() { Stop(); }

void HttpServer::SetHistory(HistoryFunction history, std::function<TimeMs()> now,
                            std::vector<IncidentWindow> incidents) {
  impl_->history_ = std::move(history);
  impl_->incidents_ = std::move(incidents);
  impl_->now_ = std::move(now);
  impl_->server_.Get(R"(/api/v1/detectors/([^/]*)/history)",
                     [this](const httplib::Request& req, httplib::Response& res) {
                       impl_->History(req.matches[1].str(), req, res);
                     });
}

Status HttpServer::ServeUi(const std::string& dir) {
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return Status(ErrorCode::kBadInput, "what-if page directory " + dir +
                                            " does not exist; build it (make test builds "
                                            "build/panel/dist) or pass --web.ui-dir");
  }
  impl_->server_.set_file_extension_and_mimetype_mapping("wasm", "application/wasm");
  if (!impl_->server_.set_mount_point("/", dir)) {
    return Status(ErrorCode::kBadInput, "cannot serve " + dir);
  }
  return Status::Ok();
}

Result<int> HttpServer::Bind(const std::string& listen_address) {
  auto addr = ParseListenAddress(listen_address);
  if (!addr.ok()) return addr.status();
  if (!impl_->tls_error_.empty()) {
    return Status(ErrorCode::kInvalidArgument,
                  "the TLS context could not be set up from tls_server_config (cert_file " +
                      impl_->web_.cert_file + ", key_file " + impl_->web_.key_file +
                      "): " + impl_->tls_error_);
  }
  int port = addr->second;
  if (port == 0) {
    port = impl_->server_.bind_to_any_port(addr->first);
    if (port <= 0) port = -1;
  } else if (!impl_->server_.bind_to_port(addr->first, port)) {
    port = -1;
  }
  if (port < 0) {
    return Status(ErrorCode::kBadInput, "cannot listen on " + listen_address +
                                            " (address in use, or not an address of this host)");
  }
  impl_->server_.RaiseBacklog();
  impl_->bound_ = true;
  impl_->host_ = addr->first;
  impl_->port_ = port;
  return port;
}

void HttpServer::WatchWebConfig(const std::string& path) {
  impl_->web_path_ = path;
  impl_->web_sig_ = FilesSignature(WebFiles(path, impl_->web_));
  impl_->server_.SetOnConnection([impl = impl_.get()] { impl->CheckWebConfig(); });
}

std::string HttpServer::ServeBytes(const std::string& input, const std::string& client_ip) {
  return impl_->server_.ServeBytes(input, client_ip);
}

// cpp-httplib 0.11.4 closes the listening socket and returns false on any accept() error but
// EMFILE, EINTR and EAGAIN: ENFILE, ENOBUFS, ENOMEM, EPERM. The daemon would go on scoring
// with no port, so the socket is opened again on the same address until Stop().
bool HttpServer::Run() {
  Impl& s = *impl_;
  if (!s.bound_) return false;
  while (!s.server_.listen_after_bind() && !s.stopping_) {
    const int err = errno;  // accept()'s, unless the pool's shutdown set another
    s.metrics_->http_listener_failures.Add({}).Increment();
    const std::string address = s.host_ + ":" + std::to_string(s.port_);
    s.log_.Error("the listening socket failed; opening it again",
                 {{"address", address}, {"last_error", std::strerror(err)}});
    for (int wait_ms = 100; !s.stopping_; wait_ms = std::min(2 * wait_ms, 10000)) {
      if (s.server_.bind_to_port(s.host_, s.port_)) {
        s.server_.RaiseBacklog();
        s.log_.Info("listening again on " + address, {{"address", address}});
        break;
      }
      s.log_.Error("cannot listen again; retrying",
                   {{"address", address}, {"retry_in_ms", std::to_string(wait_ms)}});
      for (int slept = 0; slept < wait_ms && !s.stopping_; slept += 100) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));  // Stop() is noticed
      }
    }
  }
  return true;
}

void HttpServer::Stop() {
  impl_->stopping_ = true;
  impl_->server_.stop();
}

}  // namespace isoscope::native
