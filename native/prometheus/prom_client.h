#pragma once

// A client of the Prometheus HTTP API (/api/v1/query_range and /api/v1/query) with chunking,
// retries and error messages that say what failed where. httplib.h stays inside prom_client.cc.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "isoscope/features.h"
#include "isoscope/status.h"
#include "prom_json.h"

namespace isoscope::native {

/// Credentials: a bearer token (sent as `Authorization: Bearer <token>`) or HTTP basic auth
/// (username and password). Set at most one of the two.
struct PromAuth {
  std::string bearer_token;
  std::string username, password;
};

struct PromClientOptions {
  /// Base URL: "http://host:port" or "https://host:port", optionally with a path prefix
  /// ("https://example.com/prometheus") under which /api/v1/... lives. Credentials in the URL
  /// ("http://user:pass@host") are used as basic auth when `auth` names no user.
  std::string url;
  PromAuth auth;
  /// Per request: the deadline for connecting and for the whole answer.
  int64_t timeout_ms = 30000;
  /// Extra attempts after the first on a transport error (refused, timeout, truncated body)
  /// or an HTTP 5xx / 429 answer; 4xx answers are never retried.
  int retries = 3;
  /// Sleep before the first retry; doubled before each further retry.
  int64_t backoff_ms = 500;
  /// How to sleep between attempts; empty means really sleep (tests inject a recorder).
  std::function<void(int64_t ms)> sleep;
};

/// One request of a chunked range query: evaluation times start, start + step, ..., <= end.
struct PromRangeChunk {
  TimeMs start = 0;
  TimeMs end = 0;
};

/// The most steps one range request spans. Prometheus refuses more than 11,000 points per
/// series ("exceeded maximum resolution of 11,000 points per timeseries").
constexpr int64_t kPromMaxStepsPerChunk = 10000;

/// Splits the evaluation times start, start + step, ..., <= end into requests of at most
/// `max_steps` steps each (max_steps + 1 points): chunk i covers [s, s + k*step] and the next
/// starts at s + (k+1)*step, so no point is fetched twice. The last chunk ends at the last
/// evaluation time (<= end). Empty when end < start or step <= 0 or max_steps < 0.
std::vector<PromRangeChunk> PlanRangeChunks(TimeMs start, TimeMs end, TimeMs step,
                                            int64_t max_steps = kPromMaxStepsPerChunk);

/// Milliseconds as the seconds Prometheus takes, with millisecond decimals: 1767225600000 ->
/// "1767225600.000", -1500 -> "-1.500".
std::string PromSeconds(TimeMs t);

/// A Prometheus HTTP API client. Every failure is a Status whose message names the URL path,
/// the query (and for range queries the chunk's time span) and what happened, e.g.
/// "GET http://127.0.0.1:9090/api/v1/query_range, query 'up', ...: connection refused to
/// 127.0.0.1:9090 after 4 attempts" or "...: Prometheus answered 400 bad_data: parse error at
/// char 5: ...". Codes: kInvalidArgument for unusable options or arguments (bad URL, step <= 0),
/// kBadInput for everything Prometheus or the network did.
///
/// One connection is kept alive between requests; an instance is not safe for concurrent use
/// (give each thread its own).
class PromClient {
 public:
  explicit PromClient(PromClientOptions options);
  ~PromClient();
  PromClient(PromClient&&) noexcept;
  PromClient& operator=(PromClient&&) noexcept;
  PromClient(const PromClient&) = delete;
  PromClient& operator=(const PromClient&) = delete;

  /// Ok when the options are usable; otherwise why not (every query returns it too).
  const Status& status() const;

  /// GET /api/v1/query_range over [start, end] at `step` (all in ms), in chunks from
  /// PlanRangeChunks so no request exceeds Prometheus's 11,000-points-per-series limit.
  /// Chunks are merged per label set (a series is identified by its full label map), points in
  /// time order; series are ordered by label set as Prometheus orders them. After each chunk
  /// `progress(done_chunks, total_chunks)` is called if set. The first failing chunk ends the
  /// query.
  Result<std::vector<PromSeries>> QueryRange(const std::string& query, TimeMs start, TimeMs end,
                                             TimeMs step,
                                             const std::function<void(int, int)>& progress = {});

  /// GET /api/v1/query at time `t` (ms). Prometheus looks back 5 minutes for each series, so
  /// `t` should be at most that far after the last sample wanted.
  Result<std::vector<PromSample>> Query(const std::string& query, TimeMs t);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace isoscope::native
