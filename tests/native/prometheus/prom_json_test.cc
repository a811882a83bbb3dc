#include "prom_json.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

#include "file_io.h"

namespace isoscope::native {
namespace {

std::string Fixture(const std::string& name) {
  auto body = ReadFile(std::string(ISOSCOPE_PROM_FIXTURES) + "/" + name);
  EXPECT_TRUE(body.ok()) << body.status().ToString();
  return body.ok() ? *body : "";
}

using Labels = std::map<std::string, std::string>;

TEST(PromJson, MatrixTwoSeries) {
  auto r = ParseMatrix(Fixture("matrix_two_series.json"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 2u);
  const PromSeries& a = (*r)[0];
  EXPECT_EQ(a.labels, (Labels{{"__name__", "latency_p95"}, {"job", "checkout"}}));
  EXPECT_EQ(a.times, (std::vector<TimeMs>{1767225480000, 1767225540000, 1767225600000}));
  EXPECT_EQ(a.values, (std::vector<double>{0.15, 0.150021, 0.15004}));
  const PromSeries& b = (*r)[1];
  EXPECT_EQ(b.labels, (Labels{{"__name__", "latency_p95"}, {"job", "payments"}}));
  EXPECT_EQ(b.times, (std::vector<TimeMs>{1767225480000, 1767225600000}));
  EXPECT_EQ(b.values, (std::vector<double>{0.16, 0.16}));
}

TEST(PromJson, EmptyResults) {
  auto m = ParseMatrix(Fixture("matrix_empty.json"));
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_TRUE(m->empty());
  auto v = ParseVector(Fixture("vector_empty.json"));
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_TRUE(v->empty());
}

TEST(PromJson, SpecialValuesAndFractionalTimes) {
  auto r = ParseMatrix(Fixture("matrix_special_values.json"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 1u);
  const PromSeries& s = (*r)[0];
  EXPECT_EQ(s.labels, (Labels{{"job", "checkout"}}));
  EXPECT_EQ(s.times, (std::vector<TimeMs>{1767225600001, 1767225660500, 1767225720999,
                                          1767225780000, 1767225840000}));
  ASSERT_EQ(s.values.size(), 5u);
  EXPECT_TRUE(std::isnan(s.values[0]));
  EXPECT_EQ(s.values[1], std::numeric_limits<double>::infinity());
  EXPECT_EQ(s.values[2], -std::numeric_limits<double>::infinity());
  EXPECT_EQ(s.values[3], -0.25);
  EXPECT_EQ(s.values[4], 1e6);
}

TEST(PromJson, Vector) {
  auto r = ParseVector(Fixture("vector_two_samples.json"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0].labels, (Labels{{"__name__", "error_rate"}, {"job", "checkout"}}));
  EXPECT_EQ((*r)[0].time, 1767225600000);
  EXPECT_EQ((*r)[0].value, 0.2);
  EXPECT_EQ((*r)[1].labels, (Labels{{"__name__", "error_rate"}, {"job", "payments"}}));
  EXPECT_EQ((*r)[1].time, 1767225600123);
  EXPECT_TRUE(std::isnan((*r)[1].value));
}

TEST(PromJson, ErrorBodyQuotesPrometheus) {
  // Recorded from Prometheus 2.42 for the instant query 'rate(x[5m)'.
  const std::string body = Fixture("error_bad_data.json");
  auto m = ParseMatrix(body);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), ErrorCode::kBadInput);
  EXPECT_EQ(m.status().message(),
            "Prometheus error bad_data: invalid parameter \"query\": 1:10: parse error: "
            "unexpected \")\" in subquery or range, expected \":\" or \"]\"");
  auto v = ParseVector(body);
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().message(), m.status().message());
}

TEST(PromJson, TooManyPointsError) {
  auto m = ParseMatrix(Fixture("error_too_many_points.json"));
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), ErrorCode::kBadInput);
  EXPECT_EQ(m.status().message(),
            "Prometheus error bad_data: exceeded maximum resolution of 11,000 points per "
            "timeseries. Try decreasing the query resolution (?step=XX)");
}

TEST(PromJson, PromErrorText) {
  EXPECT_EQ(PromErrorText(Fixture("error_timeout.json")),
            "timeout: query timed out in expression evaluation");
  EXPECT_EQ(PromErrorText(R"({"status":"error","error":"no type"})"), "no type");
  EXPECT_EQ(PromErrorText(Fixture("matrix_two_series.json")), std::nullopt);
  EXPECT_EQ(PromErrorText(Fixture("proxy_error.html")), std::nullopt);
  EXPECT_EQ(PromErrorText(Fixture("truncated.json")), std::nullopt);
  EXPECT_EQ(PromErrorText(""), std::nullopt);
  EXPECT_EQ(PromErrorText(R"({"status":"error"})"), std::nullopt);
}

TEST(PromJson, MalformedJson) {
  auto m = ParseMatrix(Fixture("malformed.json"));
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), ErrorCode::kBadInput);
  EXPECT_NE(m.status().message().find("Prometheus response: not valid JSON (parse error at"),
            std::string::npos)
      << m.status().message();
  EXPECT_NE(m.status().message().find("body starts with '{\"status\":\"success\""),
            std::string::npos)
      << m.status().message();
}

TEST(PromJson, HtmlInsteadOfJson) {
  auto m = ParseMatrix(Fixture("proxy_error.html"));
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("body starts with '<html><head><title>502 Bad Gateway"),
            std::string::npos)
      << m.status().message();
}

TEST(PromJson, TruncatedBody) {
  const std::string body = Fixture("truncated.json");
  auto m = ParseMatrix(body);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), ErrorCode::kBadInput);
  EXPECT_NE(m.status().message().find("missing closing quote"), std::string::npos)
      << m.status().message();
  EXPECT_NE(m.status().message().find("the body is truncated (" + std::to_string(body.size()) +
                                      " bytes)"),
            std::string::npos)
      << m.status().message();
  auto cut = ParseMatrix(body.substr(0, 40));  // cut between tokens
  ASSERT_FALSE(cut.ok());
  EXPECT_NE(cut.status().message().find("the body is truncated (40 bytes)"), std::string::npos)
      << cut.status().message();
  auto e = ParseMatrix("");
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.status().message(), "Prometheus response: empty body");
}

TEST(PromJson, WrongResultType) {
  auto v = ParseVector(Fixture("scalar_result.json"));
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().code(), ErrorCode::kBadInput);
  EXPECT_EQ(v.status().message(),
            "Prometheus response: resultType is 'scalar', expected 'vector'; the query must "
            "select series, e.g. wrap a number in vector(...)");
  auto m = ParseMatrix(Fixture("vector_two_samples.json"));
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().message(), "Prometheus response: resultType is 'vector', expected 'matrix'");
  auto v2 = ParseVector(Fixture("matrix_two_series.json"));
  ASSERT_FALSE(v2.ok());
  EXPECT_EQ(v2.status().message(),
            "Prometheus response: resultType is 'matrix', expected 'vector'");
}

TEST(PromJson, BadValue) {
  auto m = ParseMatrix(Fixture("bad_value.json"));
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().message(),
            "Prometheus response: result[0].values[1]: value 'fast' is not a number");
}

TEST(PromJson, StructuralProblems) {
  struct Case {
    const char* body;
    const char* message;
  };
  const Case cases[] = {
      {"[]", "Prometheus response: not a Prometheus API response (not a JSON object)"},
      {"{}", "Prometheus response: not a Prometheus API response (no \"status\" field)"},
      {R"({"status":"success"})", "Prometheus response: success without a \"data\" object"},
      {R"({"status":"success","data":{}})", "Prometheus response: no data.resultType"},
      {R"({"status":"success","data":{"resultType":"matrix","result":{}}})",
       "Prometheus response: data.result is not an array"},
      {R"({"status":"success","data":{"resultType":"matrix","result":[{"metric":{"a":1}}]}})",
       "Prometheus response: result[0].metric.a is not a string"},
      {R"({"status":"success","data":{"resultType":"matrix","result":[{"values":[[1,"1",2]]}]}})",
       "Prometheus response: result[0].values[0] is not a [time, \"value\"] pair"},
      {R"({"status":"success","data":{"resultType":"matrix","result":[{"values":[["1","1"]]}]}})",
       "Prometheus response: result[0].values[0]: the time is not a number"},
      {R"({"status":"success","data":{"resultType":"matrix","result":[{"values":[[1,1]]}]}})",
       "Prometheus response: result[0].values[0]: the value is not a string"},
      {R"({"status":"success","data":{"resultType":"matrix","result":[{"values":[[1e300,"1"]]}]}})",
       "Prometheus response: result[0].values[0]: time 1e+300 is out of range"},
      {R"({"status":"success","data":{"resultType":"matrix","result":[{"values":[[2,"1"],[1,"1"]]}]}})",
       "Prometheus response: result[0].values[1]: times do not ascend"},
      {R"({"status":"success","data":{"resultType":"matrix","result":[{"histograms":[]}]}})",
       "Prometheus response: result[0] holds native histograms, which isoscope cannot use; query "
       "a float series, e.g. histogram_quantile(...)"},
      {R"({"status":"weird"})", "Prometheus response: status is 'weird', not 'success'"},
  };
  for (const Case& c : cases) {
    auto m = ParseMatrix(c.body);
    ASSERT_FALSE(m.ok()) << c.body;
    EXPECT_EQ(m.status().code(), ErrorCode::kBadInput) << c.body;
    EXPECT_EQ(m.status().message(), c.message) << c.body;
  }
  auto v = ParseVector(R"({"status":"success","data":{"resultType":"vector","result":[{}]}})");
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().message(), "Prometheus response: result[0] has no \"value\"");
}

TEST(PromJson, SeriesWithoutLabelsOrValues) {
  auto m = ParseMatrix(
      R"({"status":"success","data":{"resultType":"matrix","result":[{"metric":{}},{}]}})");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  ASSERT_EQ(m->size(), 2u);
  EXPECT_TRUE((*m)[0].labels.empty());
  EXPECT_TRUE((*m)[0].times.empty());
}

TEST(PromJson, ParsePromValue) {
  EXPECT_EQ(ParsePromValue("1"), 1.0);
  EXPECT_EQ(ParsePromValue("+2.5"), 2.5);
  EXPECT_EQ(ParsePromValue("-1e-3"), -1e-3);
  EXPECT_EQ(ParsePromValue("1.7976931348623157e+308"), 1.7976931348623157e308);
  EXPECT_EQ(ParsePromValue("Inf"), std::numeric_limits<double>::infinity());
  EXPECT_TRUE(std::isnan(*ParsePromValue("NaN")));
  for (const char* bad : {"", "+", "1x", " 1", "1 ", "nan", "inf", "1e999", "0x10", "--1"}) {
    EXPECT_EQ(ParsePromValue(bad), std::nullopt) << bad;
  }
}

}  // namespace
}  // namespace isoscope::native

namespace isoscope::native {
namespace {

// A label value that is not UTF-8 (RFC 8259 requires UTF-8 JSON) is a parse error, never an
// exception or a label that would make the exposition invalid.
TEST(ParseVector, RefusesLabelValuesThatAreNotUtf8) {
  const std::string body =
      "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[{\"metric\":"
      "{\"job\":\"a\xff\"},\"value\":[1767495600,\"1\"]}]}}";
  auto r = ParseVector(body);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kBadInput);
}

}  // namespace
}  // namespace isoscope::native
