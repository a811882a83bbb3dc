#include "prom_json.h"

#include <charconv>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <utility>

namespace isoscope::native {
namespace {

using nlohmann::json;

Status Bad(std::string message) {
  return Status(ErrorCode::kBadInput, "Prometheus response: " + std::move(message));
}

/// At most `n` bytes of `text`, control characters shown as '?', for quoting a body.
std::string Snippet(std::string_view text, size_t n = 80) {
  std::string out;
  for (char c : text.substr(0, n)) {
    out += (static_cast<unsigned char>(c) < 0x20) ? '?' : c;
  }
  return text.size() > n ? out + "..." : out;
}

/// Parses `body` and checks the envelope: success status and the wanted resultType. On success
/// `*result` is data.result.
Status ParseEnvelope(std::string_view body, const char* want_type, json* doc, const json** result) {
  try {
    *doc = json::parse(body.begin(), body.end());
  } catch (const json::parse_error& e) {
    std::string what = e.what();
    // "[json.exception.parse_error.101] parse error at ..." -> "parse error at ..."
    if (size_t p = what.find("] "); what.rfind("[json.exception", 0) == 0 && p != what.npos) {
      what = what.substr(p + 2);
    }
    std::string message = "not valid JSON (" + what + ")";
    if (body.empty()) {
      message = "empty body";
    } else if (e.byte >= body.size()) {  // the parser ran out of input
      message += "; the body is truncated (" + std::to_string(body.size()) + " bytes)";
    } else {
      message += "; the body starts with '" + Snippet(body) + "'";
    }
    return Bad(message);
  } catch (const json::exception& e) {
    // A number beyond double range (e.g. 1e99999) is out_of_range.406, not a parse_error.
    std::string what = e.what();
    if (size_t p = what.find("] "); p != what.npos) {
      what = what.substr(p + 2);
    }
    return Bad("not valid JSON (" + what + "); the body starts with '" + Snippet(body) + "'");
  }
  if (!doc->is_object()) {
    return Bad("not a Prometheus API response (not a JSON object)");
  }
  auto status = doc->find("status");
  if (status == doc->end() || !status->is_string()) {
    return Bad("not a Prometheus API response (no \"status\" field)");
  }
  if (*status != "success") {
    if (auto text = PromErrorText(body)) {
      return Status(ErrorCode::kBadInput, "Prometheus error " + *text);
    }
    return Bad("status is '" + status->get<std::string>() + "', not 'success'");
  }
  auto data = doc->find("data");
  if (data == doc->end() || !data->is_object()) {
    return Bad("success without a \"data\" object");
  }
  auto type = data->find("resultType");
  if (type == data->end() || !type->is_string()) {
    return Bad("no data.resultType");
  }
  if (*type != want_type) {
    std::string hint;
    if (*type == "scalar" || *type == "string") {
      hint = std::string("; the query must select series") +
             (*want_type == 'v' ? ", e.g. wrap a number in vector(...)" : "");
    }
    return Bad("resultType is '" + type->get<std::string>() + "', expected '" + want_type + "'" +
               hint);
  }
  auto res = data->find("result");
  if (res == data->end() || !res->is_array()) {
    return Bad("data.result is not an array");
  }
  *result = &*res;
  return Status::Ok();
}

Status ParseLabels(const json& item, const std::string& where,
                   std::map<std::string, std::string>* labels) {
  if (!item.is_object()) {
    return Bad(where + " is not an object");
  }
  auto metric = item.find("metric");
  if (metric == item.end()) {
    return Status::Ok();  // Prometheus omits nothing here, but an empty label set is valid
  }
  if (!metric->is_object()) {
    return Bad(where + ".metric is not an object");
  }
  for (const auto& [name, value] : metric->items()) {
    if (!value.is_string()) {
      return Bad(where + ".metric." + name + " is not a string");
    }
    labels->emplace(name, value.get<std::string>());
  }
  return Status::Ok();
}

/// [<unix seconds as a number>, "<value>"] -> (ms, value).
Status ParsePoint(const json& point, const std::string& where, TimeMs* t, double* v) {
  if (!point.is_array() || point.size() != 2) {
    return Bad(where + " is not a [time, \"value\"] pair");
  }
  const json& ts = point[0];
  const json& val = point[1];
  if (!ts.is_number()) {
    return Bad(where + ": the time is not a number");
  }
  const double seconds = ts.get<double>();
  // 1e14 s is far beyond any real timestamp and keeps the milliseconds inside int64.
  if (!std::isfinite(seconds) || std::fabs(seconds) > 1e14) {
    return Bad(where + ": time " + ts.dump() + " is out of range");
  }
  if (!val.is_string()) {
    return Bad(where + ": the value is not a string");
  }
  const std::string& text = val.get_ref<const std::string&>();
  auto parsed = ParsePromValue(text);
  if (!parsed) {
    return Bad(where + ": value '" + Snippet(text, 40) + "' is not a number");
  }
  *t = static_cast<TimeMs>(std::llround(seconds * 1000.0));
  *v = *parsed;
  return Status::Ok();
}

}  // namespace

std::optional<double> ParsePromValue(std::string_view text) {
  if (text == "NaN") {
    return std::numeric_limits<double>::quiet_NaN();
  }
  if (text == "+Inf" || text == "Inf") {
    return std::numeric_limits<double>::infinity();
  }
  if (text == "-Inf") {
    return -std::numeric_limits<double>::infinity();
  }
  if (text.empty()) {
    return std::nullopt;
  }
  const char* first = text.data();
  const char* last = first + text.size();
  if (*first == '+') {
    ++first;
  }
  double value = 0;
  // from_chars also takes "inf"/"nan" spellings Prometheus never sends; only finite here.
  auto [ptr, ec] = std::from_chars(first, last, value, std::chars_format::general);
  if (ec != std::errc() || ptr != last || !std::isfinite(value)) {
    return std::nullopt;
  }
  return value;
}

std::optional<std::string> PromErrorText(std::string_view body) {
  json doc = json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object()) {
    return std::nullopt;
  }
  auto status = doc.find("status");
  auto error = doc.find("error");
  if (status == doc.end() || *status != "error" || error == doc.end() || !error->is_string()) {
    return std::nullopt;
  }
  auto type = doc.find("errorType");
  std::string text = (type != doc.end() && type->is_string()) ? type->get<std::string>() : "";
  return (text.empty() ? "" : text + ": ") + error->get<std::string>();
}

Result<std::vector<PromSeries>> ParseMatrix(std::string_view body) {
  json doc;
  const json* result = nullptr;
  if (Status s = ParseEnvelope(body, "matrix", &doc, &result); !s.ok()) {
    return s;
  }
  std::vector<PromSeries> out;
  out.reserve(result->size());
  for (size_t i = 0; i < result->size(); ++i) {
    const json& item = (*result)[i];
    const std::string where = "result[" + std::to_string(i) + "]";
    PromSeries series;
    if (Status s = ParseLabels(item, where, &series.labels); !s.ok()) {
      return s;
    }
    auto values = item.find("values");
    if (values == item.end()) {
      if (item.contains("histograms")) {
        return Bad(where + " holds native histograms, which isoscope cannot use; query a " +
                   "float series, e.g. histogram_quantile(...)");
      }
      out.push_back(std::move(series));  // a series without float samples
      continue;
    }
    if (!values->is_array()) {
      return Bad(where + ".values is not an array");
    }
    series.times.resize(values->size());
    series.values.resize(values->size());
    for (size_t j = 0; j < values->size(); ++j) {
      Status s = ParsePoint((*values)[j], where + ".values[" + std::to_string(j) + "]",
                            &series.times[j], &series.values[j]);
      if (!s.ok()) {
        return s;
      }
      if (j > 0 && series.times[j] <= series.times[j - 1]) {
        return Bad(where + ".values[" + std::to_string(j) + "]: times do not ascend");
      }
    }
    out.push_back(std::move(series));
  }
  return out;
}

Result<std::vector<PromSample>> ParseVector(std::string_view body) {
  json doc;
  const json* result = nullptr;
  if (Status s = ParseEnvelope(body, "vector", &doc, &result); !s.ok()) {
    return s;
  }
  std::vector<PromSample> out;
  out.reserve(result->size());
  for (size_t i = 0; i < result->size(); ++i) {
    const json& item = (*result)[i];
    const std::string where = "result[" + std::to_string(i) + "]";
    PromSample sample;
    if (Status s = ParseLabels(item, where, &sample.labels); !s.ok()) {
      return s;
    }
    auto value = item.find("value");
    if (value == item.end()) {
      if (item.contains("histogram")) {
        return Bad(where + " is a native histogram, which isoscope cannot use");
      }
      return Bad(where + " has no \"value\"");
    }
    if (Status s = ParsePoint(*value, where + ".value", &sample.time, &sample.value); !s.ok()) {
      return s;
    }
    out.push_back(std::move(sample));
  }
  return out;
}

}  // namespace isoscope::native
