#pragma once

// Pure parsing of Prometheus HTTP API responses (https://prometheus.io/docs/prometheus/latest/
// querying/api/): no I/O, no clocks, so it can be fed recorded bodies and fuzzed.

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "isoscope/features.h"
#include "isoscope/status.h"

namespace isoscope::native {

/// One series of a range query (resultType "matrix"). `times` ascend; `values[i]` belongs to
/// `times[i]`. Values are kept as Prometheus sent them, including NaN and ±Inf ("NaN", "+Inf",
/// "-Inf"): deciding what to do with them is the caller's business.
struct PromSeries {
  std::map<std::string, std::string> labels;  ///< the full label set, with __name__ if any
  std::vector<TimeMs> times;
  std::vector<double> values;
};

/// One sample of an instant query (resultType "vector").
struct PromSample {
  std::map<std::string, std::string> labels;
  TimeMs time = 0;
  double value = 0;
};

/// Parses a /api/v1/query_range body. Requires `"status":"success"` and resultType "matrix".
/// An error body (`{"status":"error","errorType":"bad_data","error":"..."}`) becomes a
/// kBadInput Status whose message quotes Prometheus ("Prometheus error bad_data: ...");
/// malformed or truncated JSON, a wrong resultType, or a malformed sample are kBadInput too.
Result<std::vector<PromSeries>> ParseMatrix(std::string_view body);

/// Parses a /api/v1/query body. Requires `"status":"success"` and resultType "vector"; errors
/// as for ParseMatrix.
Result<std::vector<PromSample>> ParseVector(std::string_view body);

/// When `body` is a Prometheus error envelope, "errorType: error" (e.g. "bad_data: parse error
/// at char 5: ..."); nullopt for anything else (a proxy's HTML page, a success body, garbage).
std::optional<std::string> PromErrorText(std::string_view body);

/// Parses a sample value as Prometheus formats it: a decimal or exponent number, "NaN",
/// "+Inf", "-Inf" (also "Inf"). nullopt for anything else.
std::optional<double> ParsePromValue(std::string_view text);

}  // namespace isoscope::native
