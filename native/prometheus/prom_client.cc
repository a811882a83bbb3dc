#include "prom_client.h"

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <httplib.h>
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <exception>
#include <thread>

#include "isoscope/version.h"
#include "time_parse.h"

namespace isoscope::native {
namespace {

using Clock = std::chrono::steady_clock;

int64_t MsSince(Clock::time_point t0) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count();
}

/// "30 s", "0.25 s".
std::string SecondsText(int64_t ms) {
  if (ms % 1000 == 0) {
    return std::to_string(ms / 1000) + " s";
  }
  std::string s = PromSeconds(ms);
  while (s.back() == '0') {
    s.pop_back();
  }
  return s + " s";
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

/// At most `n` bytes of a body for an error message, control characters as spaces.
std::string Excerpt(const std::string& body, size_t n = 200) {
  std::string out;
  for (char c : body.substr(0, n)) {
    out += (static_cast<unsigned char>(c) < 0x20) ? ' ' : c;
  }
  return body.size() > n ? out + "..." : out;
}

/// The parts of a base URL the client needs.
struct ParsedUrl {
  std::string scheme;  ///< "http" or "https"
  std::string host;    ///< without brackets
  int port = 0;
  std::string prefix;  ///< path before /api/v1, without a trailing slash
  std::string user, password;
  std::string authority() const {
    const bool v6 = host.find(':') != std::string::npos;
    return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
  }
  /// For messages: never shows credentials.
  std::string base() const { return scheme + "://" + authority() + prefix; }
};

Result<ParsedUrl> ParseUrl(const std::string& url) {
  auto bad = [&](const std::string& why) {
    return Status(ErrorCode::kInvalidArgument,
                  "Prometheus URL '" + url + "': " + why + "; write e.g. http://127.0.0.1:9090");
  };
  ParsedUrl u;
  const size_t sep = url.find("://");
  if (sep == std::string::npos) {
    return bad("no scheme");
  }
  u.scheme = Lower(url.substr(0, sep));
  if (u.scheme != "http" && u.scheme != "https") {
    return bad("scheme must be http or https");
  }
  if (url.find_first_of("?#") != std::string::npos) {
    return bad("a query string or fragment is not allowed");
  }
  std::string rest = url.substr(sep + 3);
  const size_t slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  if (slash != std::string::npos) {
    u.prefix = rest.substr(slash);
    while (!u.prefix.empty() && u.prefix.back() == '/') {
      u.prefix.pop_back();
    }
  }
  if (const size_t at = authority.rfind('@'); at != std::string::npos) {
    const std::string userinfo = authority.substr(0, at);
    authority = authority.substr(at + 1);
    const size_t colon = userinfo.find(':');
    u.user = userinfo.substr(0, colon);
    u.password = colon == std::string::npos ? "" : userinfo.substr(colon + 1);
  }
  std::string port_text;
  if (!authority.empty() && authority[0] == '[') {
    const size_t close = authority.find(']');
    if (close == std::string::npos) {
      return bad("unclosed '[' in the host");
    }
    u.host = authority.substr(1, close - 1);
    std::string after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') {
        return bad("unexpected text after ']'");
      }
      port_text = after.substr(1);
    }
  } else {
    const size_t colon = authority.find(':');
    u.host = authority.substr(0, colon);
    if (colon != std::string::npos) {
      port_text = authority.substr(colon + 1);
    }
  }
  if (u.host.empty()) {
    return bad("no host");
  }
  if (port_text.empty()) {
    u.port = u.scheme == "https" ? 443 : 80;
  } else {
    if (port_text.size() > 5 || !std::all_of(port_text.begin(), port_text.end(),
                                             [](char c) { return c >= '0' && c <= '9'; })) {
      return bad("port '" + port_text + "' is not a number");
    }
    u.port = std::stoi(port_text);
    if (u.port < 1 || u.port > 65535) {
      return bad("port " + port_text + " is out of range");
    }
  }
  return u;
}

/// Why a TCP connection to host:port fails right now, in words: "connection refused to
/// 127.0.0.1:9090", "cannot resolve host 'x': ...". Used only to explain httplib's
/// Error::Connection, which does not say.
std::string ExplainConnectFailure(const ParsedUrl& u, int64_t timeout_ms) {
  // A short probe: it only has to tell refused from unreachable or unresolvable.
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* list = nullptr;
  const std::string port = std::to_string(u.port);
  if (int rc = getaddrinfo(u.host.c_str(), port.c_str(), &hints, &list); rc != 0) {
    return "cannot resolve host '" + u.host + "': " + gai_strerror(rc);
  }
  int err = 0;
  for (addrinfo* a = list; a != nullptr; a = a->ai_next) {
    int fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) {
      err = errno;
      continue;
    }
    int rc = connect(fd, a->ai_addr, a->ai_addrlen);
    if (rc != 0 && errno == EINPROGRESS) {
      pollfd p{fd, POLLOUT, 0};
      rc = poll(&p, 1, static_cast<int>(std::clamp<int64_t>(timeout_ms, 1, 2000)));
      if (rc == 0) {
        errno = ETIMEDOUT;
        rc = -1;
      } else if (rc > 0) {
        socklen_t len = sizeof(int);
        int so_error = 0;
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &len);
        errno = so_error;
        rc = so_error == 0 ? 0 : -1;
      }
    }
    err = rc == 0 ? 0 : errno;
    close(fd);
    if (err == 0) {
      break;
    }
  }
  freeaddrinfo(list);
  if (err == ECONNREFUSED) {
    return "connection refused to " + u.authority();
  }
  if (err == ETIMEDOUT) {
    return "timed out connecting to " + u.authority();
  }
  if (err == 0) {
    return "could not connect to " + u.authority() + " (it accepts connections again now)";
  }
  return "cannot connect to " + u.authority() + ": " + Lower(std::strerror(err));
}

/// What one attempt came to.
struct Outcome {
  enum Kind { kOk, kRetry, kFail } kind = kOk;
  std::string body;              ///< kOk: the 2xx body
  std::string message;           ///< kRetry / kFail: what happened
  bool explain_connect = false;  ///< the message should come from ExplainConnectFailure
};

}  // namespace

std::vector<PromRangeChunk> PlanRangeChunks(TimeMs start, TimeMs end, TimeMs step,
                                            int64_t max_steps) {
  std::vector<PromRangeChunk> chunks;
  if (end < start || step <= 0 || max_steps < 0) {
    return chunks;
  }
  // Unsigned arithmetic: no overflow whatever the range. Evaluation times are start + i*step
  // for i <= last_index, and i*step <= end - start.
  const uint64_t base = static_cast<uint64_t>(start);
  const uint64_t ustep = static_cast<uint64_t>(step);
  const uint64_t last_index = (static_cast<uint64_t>(end) - base) / ustep;
  const uint64_t steps = static_cast<uint64_t>(max_steps);
  for (uint64_t first = 0;;) {
    const uint64_t last = last_index - first <= steps ? last_index : first + steps;
    chunks.push_back(
        {static_cast<TimeMs>(base + first * ustep), static_cast<TimeMs>(base + last * ustep)});
    if (last == last_index) {
      return chunks;
    }
    first = last + 1;
  }
}

std::string PromSeconds(TimeMs t) {
  const bool negative = t < 0;
  // Through uint64 so that INT64_MIN has a magnitude too.
  const uint64_t mag = negative ? 0 - static_cast<uint64_t>(t) : static_cast<uint64_t>(t);
  std::string frac = std::to_string(mag % 1000);
  frac.insert(0, 3 - frac.size(), '0');
  return (negative ? "-" : "") + std::to_string(mag / 1000) + "." + frac;
}

class PromClient::Impl {
 public:
  explicit Impl(PromClientOptions options) : options_(std::move(options)) {
    if (options_.timeout_ms <= 0) {
      status_ = Status(ErrorCode::kInvalidArgument, "Prometheus timeout must be positive");
      return;
    }
    if (options_.retries < 0 || options_.backoff_ms < 0) {
      status_ = Status(ErrorCode::kInvalidArgument,
                       "Prometheus retries and backoff must not be negative");
      return;
    }
    auto url = ParseUrl(options_.url);
    if (!url.ok()) {
      status_ = url.status();
      return;
    }
    url_ = std::move(url).value();
    PromAuth& auth = options_.auth;
    if (auth.username.empty() && !url_.user.empty()) {
      auth.username = url_.user;
      auth.password = url_.password;
    }
    if (!auth.bearer_token.empty() && !auth.username.empty()) {
      status_ = Status(ErrorCode::kInvalidArgument,
                       "Prometheus auth: give a bearer token or basic auth, not both");
      return;
    }
    try {
      client_ = std::make_unique<httplib::Client>(url_.scheme + "://" + url_.authority());
    } catch (const std::exception& e) {
      status_ =
          Status(ErrorCode::kInvalidArgument, "Prometheus URL '" + options_.url + "': " + e.what());
      return;
    }
    if (!client_->is_valid()) {
      status_ = Status(ErrorCode::kInvalidArgument,
                       "Prometheus URL '" + options_.url + "' cannot be used (" + url_.scheme +
                           " not supported by this cpp-httplib build?)");
      return;
    }
    const auto timeout = std::chrono::milliseconds(options_.timeout_ms);
    client_->set_connection_timeout(timeout);
    client_->set_read_timeout(timeout);
    client_->set_write_timeout(timeout);
    client_->set_keep_alive(true);
    client_->set_follow_location(false);
    client_->set_default_headers({{"User-Agent", std::string("isoscope/") + kEngineVersion},
                                  {"Accept", "application/json"}});
    if (!auth.bearer_token.empty()) {
      client_->set_bearer_token_auth(auth.bearer_token);
    } else if (!auth.username.empty()) {
      client_->set_basic_auth(auth.username, auth.password);
    }
  }

  const Status& status() const { return status_; }

  /// "GET http://host:port/prefix/api/v1/query (query 'up' at ...): ", to start a message.
  std::string Where(const std::string& api_path, const std::string& context) const {
    return "GET " + url_.base() + api_path + " (" + context + "): ";
  }

  /// GET prefix + api_path with `params`, retried as the options say; the 2xx body or a Status
  /// whose message starts with "GET <url> (<context>): ".
  Result<std::string> Get(const std::string& api_path, const httplib::Params& params,
                          const std::string& context) {
    if (!status_.ok()) {
      return status_;
    }
    const std::string where = Where(api_path, context);
    const int attempts = 1 + options_.retries;
    int64_t backoff = options_.backoff_ms;
    for (int attempt = 1;; ++attempt) {
      Outcome out = Attempt(url_.prefix + api_path, params);
      if (out.kind == Outcome::kOk) {
        return std::move(out.body);
      }
      if (out.kind == Outcome::kFail || attempt >= attempts) {
        std::string message =
            out.explain_connect ? ExplainConnectFailure(url_, options_.timeout_ms) : out.message;
        if (out.kind == Outcome::kRetry && attempt > 1) {
          message += " after " + std::to_string(attempt) + " attempts";
        }
        return Status(ErrorCode::kBadInput, where + message);
      }
      Sleep(backoff);
      backoff = backoff > INT64_MAX / 2 ? backoff : backoff * 2;
    }
  }

 private:
  void Sleep(int64_t ms) {
    if (options_.sleep) {
      options_.sleep(ms);
    } else if (ms > 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(ms));
    }
  }

  Outcome Attempt(const std::string& path, const httplib::Params& params) {
    const auto t0 = Clock::now();
    const int64_t timeout = options_.timeout_ms;
    const std::string timed_out = "timed out after " + SecondsText(timeout);
    // The read timeout bounds each wait for data; the progress callback bounds the whole answer.
    auto within_deadline = [&](uint64_t, uint64_t) { return MsSince(t0) < timeout; };
    httplib::Result res(nullptr, httplib::Error::Unknown);
    try {
      res = client_->Get(path, params, httplib::Headers{}, within_deadline);
    } catch (const std::exception& e) {
      return {Outcome::kRetry, "", std::string("request failed: ") + e.what()};
    }
    // Near the timeout, a connect or read failure is the timeout.
    const bool late = MsSince(t0) * 20 >= timeout * 19;
    using httplib::Error;
    switch (res.error()) {
      case Error::Success:
        break;
      case Error::Connection:
        if (late) {
          return {Outcome::kRetry, "",
                  "timed out connecting to " + url_.authority() + " after " + SecondsText(timeout)};
        }
        return {Outcome::kRetry, "", "", true};
      case Error::ConnectionTimeout:
      case Error::Canceled:
        return {Outcome::kRetry, "", timed_out};
      case Error::Read:
        return {Outcome::kRetry, "",
                late ? timed_out
                     : "the connection to " + url_.authority() +
                           " broke before the answer was complete (truncated)"};
      case Error::Write:
        return {Outcome::kRetry, "",
                late ? timed_out : "could not send the request to " + url_.authority()};
      case Error::SSLConnection:
        return {Outcome::kRetry, "", "TLS connection to " + url_.authority() + " failed"};
      case Error::SSLServerVerification:
        return {Outcome::kFail, "",
                "the TLS certificate of " + url_.authority() + " could not be verified"};
      case Error::SSLLoadingCerts:
        return {Outcome::kFail, "", "could not load the TLS CA certificates"};
      default:
        return {Outcome::kRetry, "",
                "request to " + url_.authority() + " failed: " + httplib::to_string(res.error())};
    }
    const int code = res->status;
    if (code >= 200 && code < 300) {
      return {Outcome::kOk, std::move(res->body), ""};
    }
    std::string message = "Prometheus answered " + std::to_string(code);
    if (auto text = PromErrorText(res->body)) {
      message += " " + *text;
    } else if (!res->body.empty()) {
      message += ": " + Excerpt(res->body);
    }
    if (code == 401 || code == 403) {
      message += " (check the bearer token or basic auth)";
    } else if (code == 404) {
      message += " (is " + url_.base() + " the Prometheus base URL, path prefix included?)";
    } else if (code >= 300 && code < 400 && res->has_header("Location")) {
      message += " (redirect to " + res->get_header_value("Location") + "; use that URL)";
    }
    const bool transient = code >= 500 || code == 429;
    return {transient ? Outcome::kRetry : Outcome::kFail, "", message};
  }

  PromClientOptions options_;
  Status status_;
  ParsedUrl url_;
  std::unique_ptr<httplib::Client> client_;
};

namespace {

std::string QuoteQuery(const std::string& query) {
  constexpr size_t kMax = 300;
  return "query '" + (query.size() > kMax ? query.substr(0, kMax) + "..." : query) + "'";
}

/// A parse failure of a 2xx body, with the request's context in front.
Status InContext(const Status& s, const std::string& where) {
  return Status(s.code(), where + s.message());
}

// VictoriaMetrics, unless asked not to cache, moves a range's start to a multiple of the step
// (other timestamps than asked for) and evaluates queries near now 30 s earlier
// (-search.latencyOffset), so "now" misses the newest samples. nocache=1 turns both off;
// Prometheus, Thanos and Mimir ignore parameters they do not know.
constexpr const char* kNoCache = "1";

}  // namespace

PromClient::PromClient(PromClientOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}
PromClient::~PromClient() = default;
PromClient::PromClient(PromClient&&) noexcept = default;
PromClient& PromClient::operator=(PromClient&&) noexcept = default;

const Status& PromClient::status() const { return impl_->status(); }

Result<std::vector<PromSeries>> PromClient::QueryRange(
    const std::string& query, TimeMs start, TimeMs end, TimeMs step,
    const std::function<void(int, int)>& progress) {
  if (!impl_->status().ok()) {
    return impl_->status();
  }
  if (step <= 0) {
    return Status(ErrorCode::kInvalidArgument,
                  "range " + QuoteQuery(query) + ": step must be positive");
  }
  if (end < start) {
    return Status(ErrorCode::kInvalidArgument, "range " + QuoteQuery(query) + ": end " +
                                                   FormatTime(end) + " is before start " +
                                                   FormatTime(start));
  }
  // Refuse before planning what no memory could hold: 10,000 chunks are 100 million points per
  // series (90 days at 60 s are 13 chunks).
  constexpr uint64_t kMaxChunks = 10000;
  const uint64_t steps =
      (static_cast<uint64_t>(end) - static_cast<uint64_t>(start)) / static_cast<uint64_t>(step);
  if (steps / (kPromMaxStepsPerChunk + 1) >= kMaxChunks) {
    return Status(ErrorCode::kInvalidArgument,
                  "range " + QuoteQuery(query) + ": " + FormatTime(start) + " to " +
                      FormatTime(end) + " at step " + SecondsText(step) +
                      " is too many points; use a larger step or a shorter range");
  }
  const std::vector<PromRangeChunk> chunks = PlanRangeChunks(start, end, step);
  const int total = static_cast<int>(chunks.size());
  std::map<std::map<std::string, std::string>, PromSeries> merged;
  for (int i = 0; i < total; ++i) {
    const PromRangeChunk& c = chunks[i];
    std::string context = QuoteQuery(query) + ", " + FormatTime(c.start) + " to " +
                          FormatTime(c.end) + " step " + SecondsText(step);
    if (total > 1) {
      context += ", chunk " + std::to_string(i + 1) + "/" + std::to_string(total);
    }
    auto body = impl_->Get("/api/v1/query_range",
                           {{"query", query},
                            {"start", PromSeconds(c.start)},
                            {"end", PromSeconds(c.end)},
                            {"step", PromSeconds(step)},
                            {"nocache", kNoCache}},
                           context);
    if (!body.ok()) {
      return body.status();
    }
    auto parsed = ParseMatrix(*body);
    if (!parsed.ok()) {
      return InContext(parsed.status(), impl_->Where("/api/v1/query_range", context));
    }
    for (PromSeries& s : *parsed) {
      auto [it, inserted] = merged.try_emplace(s.labels);
      PromSeries& dst = it->second;
      if (inserted) {
        dst = std::move(s);
        continue;
      }
      dst.times.insert(dst.times.end(), s.times.begin(), s.times.end());
      dst.values.insert(dst.values.end(), s.values.begin(), s.values.end());
    }
    if (progress) {
      progress(i + 1, total);
    }
  }
  std::vector<PromSeries> out;
  out.reserve(merged.size());
  for (auto& [labels, series] : merged) {
    out.push_back(std::move(series));
  }
  return out;
}

Result<std::vector<PromSample>> PromClient::Query(const std::string& query, TimeMs t) {
  const std::string context = QuoteQuery(query) + " at " + FormatTime(t);
  auto body =
      impl_->Get("/api/v1/query",
                 {{"query", query}, {"time", PromSeconds(t)}, {"nocache", kNoCache}}, context);
  if (!body.ok()) {
    return body.status();
  }
  auto parsed = ParseVector(*body);
  if (!parsed.ok()) {
    return InContext(parsed.status(), impl_->Where("/api/v1/query", context));
  }
  return parsed;
}

}  // namespace isoscope::native
