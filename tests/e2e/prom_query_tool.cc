// prom_query_tool: PromClient from the command line, for the end-to-end tests against a real
// Prometheus. Prints one JSON line describing what came back; errors go to stderr with exit 1,
// wrong usage exits 2.
//
//   prom_query_tool --url URL --query Q --start T --end T --step D   (QueryRange)
//   prom_query_tool --url URL --query Q --time T                     (Query)
//   options: --retries N --backoff-ms N --timeout-ms N --bearer-token S --user U --password P
// Times are epoch seconds, epoch milliseconds or ISO 8601; durations like 60s or 1m.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "prom_client.h"
#include "time_parse.h"

namespace {

using isoscope::TimeMs;
using isoscope::native::PromClient;
using isoscope::native::PromClientOptions;
using nlohmann::json;

int Usage(const std::string& why) {
  std::fprintf(stderr,
               "prom_query_tool: %s\nusage: prom_query_tool --url URL --query Q (--start T "
               "--end T --step D | --time T) [--retries N] [--backoff-ms N] [--timeout-ms N] "
               "[--bearer-token S] [--user U --password P]\n",
               why.c_str());
  return 2;
}

json Number(double v) { return std::isfinite(v) ? json(v) : json(std::to_string(v)); }

}  // namespace

int main(int argc, char** argv) {
  std::map<std::string, std::string> args;
  for (int i = 1; i < argc; i += 2) {
    const std::string key = argv[i];
    if (key.rfind("--", 0) != 0 || i + 1 >= argc) {
      return Usage("expected --option value pairs, got '" + key + "'");
    }
    args[key.substr(2)] = argv[i + 1];
  }
  auto get = [&](const char* k) -> std::optional<std::string> {
    auto it = args.find(k);
    return it == args.end() ? std::nullopt : std::optional<std::string>(it->second);
  };
  auto time_arg = [&](const char* k) -> std::optional<TimeMs> {
    auto v = get(k);
    return v ? isoscope::native::ParseTime(*v) : std::nullopt;
  };
  PromClientOptions o;
  if (!get("url") || !get("query")) {
    return Usage("--url and --query are required");
  }
  o.url = *get("url");
  try {
    if (auto v = get("retries")) o.retries = std::stoi(*v);
    if (auto v = get("backoff-ms")) o.backoff_ms = std::stoll(*v);
    if (auto v = get("timeout-ms")) o.timeout_ms = std::stoll(*v);
  } catch (const std::exception&) {
    return Usage("--retries, --backoff-ms and --timeout-ms take integers");
  }
  if (auto v = get("bearer-token")) o.auth.bearer_token = *v;
  if (auto v = get("user")) o.auth.username = *v;
  if (auto v = get("password")) o.auth.password = *v;
  const std::string query = *get("query");

  PromClient client(o);
  const auto t0 = std::chrono::steady_clock::now();
  auto seconds = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  };
  json out;
  if (get("time")) {
    auto t = time_arg("time");
    if (!t) return Usage("bad --time");
    auto r = client.Query(query, *t);
    if (!r.ok()) {
      std::fprintf(stderr, "error: %s\n", r.status().message().c_str());
      return 1;
    }
    out["samples"] = r->size();
    out["seconds"] = seconds();
    json detail = json::array();
    for (const auto& s : *r) {
      detail.push_back({{"labels", s.labels}, {"time", s.time}, {"value", Number(s.value)}});
    }
    out["detail"] = detail;
  } else {
    auto start = time_arg("start");
    auto end = time_arg("end");
    auto step_text = get("step");
    std::optional<isoscope::TimeMs> step;
    if (step_text) {
      auto parsed = isoscope::ParseDurationMs(*step_text);
      if (parsed.ok()) step = *parsed;
    }
    if (!start || !end || !step) return Usage("--start, --end and --step are required");
    int chunks = 0;
    auto r = client.QueryRange(query, *start, *end, *step, [&](int done, int total) {
      chunks = total;
      std::fprintf(stderr, "chunk %d/%d\n", done, total);
    });
    if (!r.ok()) {
      std::fprintf(stderr, "error: %s\n", r.status().message().c_str());
      return 1;
    }
    out["seconds"] = seconds();
    out["chunks"] = chunks;
    out["series"] = r->size();
    size_t points = 0;
    json detail = json::array();
    for (const auto& s : *r) {
      points += s.times.size();
      json d = {{"labels", s.labels}, {"points", s.times.size()}};
      if (!s.times.empty()) {
        TimeMs min_delta = 0, max_delta = 0;
        for (size_t i = 1; i < s.times.size(); ++i) {
          const TimeMs delta = s.times[i] - s.times[i - 1];
          min_delta = i == 1 ? delta : std::min(min_delta, delta);
          max_delta = i == 1 ? delta : std::max(max_delta, delta);
        }
        d["first"] = s.times.front();
        d["last"] = s.times.back();
        d["min_delta"] = min_delta;
        d["max_delta"] = max_delta;
        d["first_value"] = Number(s.values.front());
        d["last_value"] = Number(s.values.back());
      }
      detail.push_back(d);
    }
    out["points"] = points;
    out["detail"] = detail;
  }
  std::printf("%s\n", out.dump().c_str());
  return 0;
}
