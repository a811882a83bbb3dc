#include "config.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <string>

#include "file_io.h"
#include "time_parse.h"

namespace isoscope::native {
namespace {

const std::string kFixtures = std::string(ISOSCOPE_SOURCE_DIR) + "/tests/fixtures";

// The smallest valid file; tests replace one line of it to make one problem.
constexpr const char* kMinimal = R"(prometheus:
  url: http://127.0.0.1:9090
models_dir: /tmp/models
detectors:
  - name: checkout
    queries:
      latency: up
    model:
      contamination: 0.02
)";

std::vector<ConfigProblem> Check(const std::string& yaml, Config* out = nullptr) {
  return CheckConfigText(yaml, "isoscope.yml", out);
}

std::string Dump(const std::vector<ConfigProblem>& problems) {
  std::string out;
  for (const ConfigProblem& p : problems) {
    out += std::to_string(p.line) + ": " + p.message + "\n";
  }
  return out;
}

// True when a problem on `line` contains every one of `parts`.
::testing::AssertionResult Has(const std::vector<ConfigProblem>& problems, int line,
                               std::initializer_list<const char*> parts) {
  for (const ConfigProblem& p : problems) {
    if (p.line != line) continue;
    bool all = true;
    for (const char* part : parts) all = all && p.message.find(part) != std::string::npos;
    if (all) return ::testing::AssertionSuccess();
  }
  std::string wanted;
  for (const char* part : parts) wanted += std::string(" '") + part + "'";
  return ::testing::AssertionFailure()
         << "no problem on line " << line << " with" << wanted << "; got:\n"
         << Dump(problems);
}

std::string Replace(std::string text, const std::string& from, const std::string& to) {
  const size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  return at == std::string::npos ? text : text.replace(at, from.size(), to);
}

std::string TempDir() {
  char tmpl[] = "/tmp/isoscope_config_XXXXXX";
  return mkdtemp(tmpl);
}

TEST(Config, FullExampleReproducesTheOriginPipeline) {
  auto config = LoadConfig(kFixtures + "/isoscope.yml");
  ASSERT_TRUE(config.ok()) << config.status().message();
  EXPECT_EQ(config->prometheus.url, "http://127.0.0.1:9090");
  EXPECT_EQ(config->prometheus.timeout_ms, 30'000);
  EXPECT_EQ(config->prometheus.bearer_token, "");
  EXPECT_FALSE(config->prometheus.has_basic_auth);
  EXPECT_EQ(config->models_dir, "/var/lib/isoscope/models");
  EXPECT_EQ(config->web.listen_address, "127.0.0.1:8080");
  EXPECT_EQ(config->web.cors_origin, "");
  ASSERT_EQ(config->detectors.size(), 2u);

  const DetectorConfig& d = config->detectors[0];
  EXPECT_EQ(d.name, "checkout");
  EXPECT_EQ(d.line, 15);
  ASSERT_EQ(d.queries.size(), 3u);
  EXPECT_EQ(d.queries[0].first, "latency_p95");
  EXPECT_EQ(d.queries[0].second,
            "histogram_quantile(0.95, sum by (job, le) "
            "(rate(http_request_duration_seconds_bucket[5m])))");
  EXPECT_EQ(d.queries[1].first, "error_rate");
  EXPECT_EQ(d.queries[1].second,
            "sum by (job) (rate(http_requests_total{code=~\"5..\"}[5m])) / sum by (job) "
            "(rate(http_requests_total[5m]))");
  EXPECT_EQ(d.queries[2].first, "cpu_throttle");
  EXPECT_EQ(d.group_by, std::vector<std::string>{"job"});
  EXPECT_EQ(d.spec.inputs, (std::vector<std::string>{"latency_p95", "error_rate", "cpu_throttle"}));
  // derived: auto over 90 days at 60 s: per input, the seasonal baseline and its 30m mean.
  ASSERT_EQ(d.spec.derived.size(), 6u);
  EXPECT_EQ(d.spec.derived[0].kind, DerivedFeature::Kind::kSeasonalMedianDiff);
  EXPECT_EQ(d.spec.derived[5].smooth_ms, 30 * kMinuteMs);
  EXPECT_FALSE(d.spec.raw_inputs);
  EXPECT_EQ(d.spec.deploy_windows, DefaultDeployWindows());
  EXPECT_TRUE(d.spec.Validate().ok());
  EXPECT_EQ(d.step_ms, kMinuteMs);
  EXPECT_EQ(d.lookback_ms, 90 * kDayMs);
  EXPECT_EQ(d.interval_ms, kMinuteMs);
  EXPECT_EQ(d.keep_versions, 5);
  EXPECT_EQ(d.params.n_estimators, 200);
  EXPECT_FALSE(d.params.contamination.is_auto);
  EXPECT_EQ(d.params.contamination.value, 0.02);
  EXPECT_EQ(d.params.random_state, 42u);
  EXPECT_EQ(d.params.max_samples.kind, MaxSamples::Kind::kAuto);
  EXPECT_EQ(d.params.max_features.kind, MaxFeatures::Kind::kFraction);
  EXPECT_EQ(d.params.max_features.fraction, 1.0);
  EXPECT_FALSE(d.params.bootstrap);
  EXPECT_EQ(d.scaler, Scaler::Kind::kStandard);

  const DetectorConfig& q = config->detectors[1];
  EXPECT_EQ(q.name, "queue");
  EXPECT_EQ(q.params.contamination.value, 0.01);
  EXPECT_EQ(config->Find("queue"), &q);
  EXPECT_EQ(config->Find("checkout"), &d);
  EXPECT_EQ(config->Find("nope"), nullptr);
}

TEST(Config, TheReadmeExampleIsValid) {
  auto readme = ReadFile(std::string(ISOSCOPE_SOURCE_DIR) + "/README.md");
  ASSERT_TRUE(readme.ok());
  const size_t section = readme->find("## Configuration");
  ASSERT_NE(section, std::string::npos);
  const size_t start = readme->find("```yaml\n", section);
  ASSERT_NE(start, std::string::npos);
  const size_t end = readme->find("```\n", start + 8);
  ASSERT_NE(end, std::string::npos);
  const std::string yaml = readme->substr(start + 8, end - start - 8);
  Config from_readme;
  EXPECT_EQ(Dump(Check(yaml, &from_readme)), "");
  // ... and it is the fixture, so both stay in step.
  EXPECT_EQ(yaml, *ReadFile(kFixtures + "/isoscope.yml"));
}

TEST(Config, DefaultsApply) {
  Config c;
  ASSERT_EQ(Dump(Check(kMinimal, &c)), "");
  EXPECT_EQ(c.prometheus.timeout_ms, 30'000);
  EXPECT_EQ(c.web.listen_address, "127.0.0.1:8080");
  EXPECT_EQ(c.web.cors_origin, "");
  ASSERT_EQ(c.detectors.size(), 1u);
  const DetectorConfig& d = c.detectors[0];
  EXPECT_EQ(d.line, 5);
  EXPECT_TRUE(d.group_by.empty());
  EXPECT_EQ(d.spec.inputs, std::vector<std::string>{"latency"});
  EXPECT_EQ(d.spec.ColumnNames(),
            (std::vector<std::string>{"latency", "hour_of_week", "is_deploy_window"}));
  EXPECT_EQ(d.spec.deploy_windows, DefaultDeployWindows());
  EXPECT_EQ(d.step_ms, 60'000);
  EXPECT_EQ(d.lookback_ms, 90 * kDayMs);
  EXPECT_EQ(d.interval_ms, 60'000);
  EXPECT_EQ(d.keep_versions, 5);
  EXPECT_EQ(d.params.n_estimators, 200);
  EXPECT_EQ(d.params.random_state, 42u);
  EXPECT_EQ(d.params.max_samples.kind, MaxSamples::Kind::kAuto);
  EXPECT_EQ(d.params.max_features.fraction, 1.0);
  EXPECT_FALSE(d.params.bootstrap);
  EXPECT_EQ(d.scaler, Scaler::Kind::kStandard);
}

TEST(Config, ShardIsReadAndChecked) {
  Config c;
  ASSERT_EQ(Dump(Check(kMinimal, &c)), "");
  EXPECT_FALSE(c.shard.configured);
  ASSERT_EQ(Dump(Check(std::string(kMinimal) + "shard: \"1/3\"\n", &c)), "");
  EXPECT_TRUE(c.shard.configured);
  EXPECT_EQ(c.shard.index, 1);
  EXPECT_EQ(c.shard.count, 3);
  auto p = Check(std::string(kMinimal) + "shard: 3/3\n");
  EXPECT_TRUE(Has(p, 10, {"shard", "I must be 0 to N-1", "e.g. 0/3"}));
  p = Check(Replace(kMinimal, "      latency: up\n", "      latency: up\n    group_by: [shard]\n") +
            "shard: 0/2\n");
  EXPECT_TRUE(Has(p, 4, {"groups by a label named shard", "label_replace"}));
}

TEST(Config, EveryOptionalValueIsRead) {
  const std::string yaml = R"(prometheus:
  url: https://prom.example.com/prometheus/
  timeout: 2m
  bearer_token: s3cret
models_dir: models
web: {listen_address: ":9100", cors_origin: "https://grafana.example.com"}
detectors:
  - name: api-2_x
    queries: {a: up, b: 'sum(rate(x[5m]))'}
    group_by: [job, instance]
    derived: []
    deploy_windows: "Sat 09:00-10:00; Sun 22:00-02:00"
    step: 30s
    lookback: 2w
    interval: 15s
    keep_versions: 12
    model:
      n_estimators: 50
      contamination: auto
      random_state: 4294967295
      max_samples: 0.5
      max_features: 2
      bootstrap: TRUE
      scaler: none
)";
  Config c;
  ASSERT_EQ(Dump(CheckConfigText(yaml, "/etc/isoscope/isoscope.yml", &c)), "");
  EXPECT_EQ(c.prometheus.url, "https://prom.example.com/prometheus");
  EXPECT_EQ(c.prometheus.timeout_ms, 120'000);
  EXPECT_EQ(c.prometheus.bearer_token, "s3cret");
  EXPECT_EQ(c.models_dir, "/etc/isoscope/models");  // relative to the file's directory
  EXPECT_EQ(c.web.listen_address, ":9100");
  EXPECT_EQ(c.web.cors_origin, "https://grafana.example.com");
  const DetectorConfig& d = c.detectors.at(0);
  EXPECT_EQ(d.name, "api-2_x");
  EXPECT_EQ(d.queries[1].second, "sum(rate(x[5m]))");
  EXPECT_EQ(d.group_by, (std::vector<std::string>{"job", "instance"}));
  EXPECT_TRUE(d.spec.derived.empty());
  EXPECT_EQ(d.spec.deploy_windows, *ParseDeployWindows("Sat 09:00-10:00; Sun 22:00-02:00"));
  EXPECT_EQ(d.step_ms, 30'000);
  EXPECT_EQ(d.lookback_ms, 14 * kDayMs);
  EXPECT_EQ(d.interval_ms, 15'000);
  EXPECT_EQ(d.keep_versions, 12);
  EXPECT_EQ(d.params.n_estimators, 50);
  EXPECT_TRUE(d.params.contamination.is_auto);
  EXPECT_EQ(d.params.random_state, 4294967295u);
  EXPECT_EQ(d.params.max_samples.kind, MaxSamples::Kind::kFraction);
  EXPECT_EQ(d.params.max_samples.fraction, 0.5);
  EXPECT_EQ(d.params.max_features.kind, MaxFeatures::Kind::kCount);
  EXPECT_EQ(d.params.max_features.count, 2);
  EXPECT_TRUE(d.params.bootstrap);
  EXPECT_EQ(d.scaler, Scaler::Kind::kNone);
}

TEST(Config, MissingContaminationSaysWhatToWrite) {
  const std::string yaml =
      Replace(kMinimal, "      contamination: 0.02\n", "      n_estimators: 200\n");
  const auto problems = Check(yaml);
  ASSERT_EQ(problems.size(), 1u) << Dump(problems);
  EXPECT_EQ(problems[0].line, 8);
  EXPECT_EQ(problems[0].message,
            "detectors[0].model.contamination: missing — set the expected share of anomalies "
            "explicitly, e.g. contamination: 0.02");
  // No model at all: the same advice, on the detector's line.
  const std::string no_model =
      Replace(kMinimal, "    model:\n      contamination: 0.02\n", "    step: 60s\n");
  EXPECT_TRUE(Has(Check(no_model), 5, {"detectors[0].model: missing", "contamination: 0.02"}));
  EXPECT_TRUE(Has(Check(Replace(kMinimal, "contamination: 0.02", "contamination:")), 9,
                  {"contamination: empty", "contamination: 0.02"}));
}

TEST(Config, BadContaminationAndModelValues) {
  EXPECT_TRUE(Has(Check(Replace(kMinimal, "0.02", "0.7")), 9,
                  {"model.contamination: '0.7'", "(0, 0.5]", "contamination: 0.02"}));
  EXPECT_TRUE(Has(Check(Replace(kMinimal, "0.02", "2%")), 9, {"'2%'"}));
  const std::string model = Replace(kMinimal, "      contamination: 0.02\n",
                                    "      contamination: 0.02\n"  // 9
                                    "      n_estimators: 0\n"      // 10
                                    "      random_state: -1\n"     // 11
                                    "      max_samples: 0\n"       // 12
                                    "      max_features: 5\n"      // 13
                                    "      bootstrap: yes\n"       // 14
                                    "      scaler: minmax\n"       // 15
                                    "      n_estimators: 100\n");  // 16
  const auto problems = Check(model);
  EXPECT_TRUE(Has(problems, 10, {"n_estimators: 0 is out of range", "n_estimators: 200"}));
  EXPECT_TRUE(Has(problems, 11, {"random_state", "0 to 4294967295"}));
  EXPECT_TRUE(Has(problems, 12, {"max_samples: '0'", "auto"}));
  EXPECT_TRUE(Has(problems, 13, {"max_features: 5 is more than the 3 features", "at most 3"}));
  EXPECT_TRUE(Has(problems, 14, {"bootstrap: 'yes' is not true or false"}));
  EXPECT_TRUE(Has(problems, 15, {"scaler: 'minmax'", "standard", "none"}));
  EXPECT_TRUE(Has(problems, 16, {"n_estimators: given twice (first at line 10)"}));
  EXPECT_EQ(problems.size(), 7u) << Dump(problems);
}

TEST(Config, ExclusionsAreRead) {
  Config c;
  const std::string yaml = Replace(kMinimal, "    model:\n",
                                   "    exclude: [\"2026-10-06T01:00:00Z/2026-10-06T07:00:00Z\", "
                                   "\"Sat-Sun 00:00-06:00\"]\n"
                                   "    exclude_when: 'maintenance_mode > 0'\n"
                                   "    exclude_alerts: true\n"
                                   "    exclude_alerts_margin: 1h\n"
                                   "    model:\n");
  ASSERT_EQ(Dump(Check(yaml, &c)), "");
  const ExcludeConfig& x = c.detectors[0].exclude;
  ASSERT_EQ(x.windows.size(), 1u);
  EXPECT_EQ(x.windows[0].start_ms, 1'791'248'400'000);  // date -d 2026-10-06T01:00:00Z +%s
  EXPECT_EQ(x.windows[0].end_ms, 1'791'270'000'000);
  // Saturday and Sunday 00:00-06:00: minutes from Monday 00:00 UTC.
  ASSERT_EQ(x.weekly.size(), 2u);
  EXPECT_EQ(x.weekly[0].start_minute, 5 * 1440);
  EXPECT_EQ(x.weekly[0].end_minute, 5 * 1440 + 360);
  EXPECT_EQ(x.weekly[1].start_minute, 6 * 1440);
  EXPECT_EQ(x.when, "maintenance_mode > 0");
  EXPECT_TRUE(x.alerts);
  EXPECT_EQ(x.alerts_margin_ms, kHourMs);
  // Defaults: nothing excluded, a 30m margin.
  Config d;
  ASSERT_EQ(Dump(Check(kMinimal, &d)), "");
  EXPECT_FALSE(d.detectors[0].exclude.any());
  EXPECT_EQ(d.detectors[0].exclude.alerts_margin_ms, 30 * kMinuteMs);
}

TEST(Config, BadExclusions) {
  auto with = [](const std::string& lines) {
    return Check(Replace(kMinimal, "    model:\n", lines + "    model:\n"));
  };
  EXPECT_TRUE(Has(with("    exclude: [\"2026-10-07T00:00:00Z/2026-10-06T00:00:00Z\"]\n"), 8,
                  {"detectors[0].exclude[0]", "START before END"}));
  EXPECT_TRUE(Has(with("    exclude: [\"Funday 00:00-01:00\"]\n"), 8,
                  {"detectors[0].exclude[0]", "neither START/END nor a weekly window"}));
  EXPECT_TRUE(Has(with("    exclude: \"Sun 00:00-01:00\"\n"), 8, {"expected a list"}));
  EXPECT_TRUE(Has(with("    exclude_alerts: maybe\n"), 8, {"exclude_alerts"}));
}

TEST(Config, PromotionAndGateAreRead) {
  Config c;
  ASSERT_EQ(Dump(Check(Replace(kMinimal, "    model:\n",
                               "    promotion: gate\n"
                               "    gate: {after: 2h, rate_band: [0.25, 4], pages_factor: 2}\n"
                               "    model:\n"),
                       &c)),
            "");
  const PromotionConfig& p = c.detectors[0].promotion;
  EXPECT_EQ(p.mode, PromotionConfig::Mode::kGate);
  EXPECT_EQ(p.after_ms, 2 * kHourMs);
  EXPECT_EQ(p.rate_low, 0.25);
  EXPECT_EQ(p.rate_high, 4.0);
  EXPECT_EQ(p.pages_factor, 2.0);
  // Defaults: immediate; a gate of 3 days, the band [0.5, 2] and 1.5 x the pages.
  Config d;
  ASSERT_EQ(Dump(Check(kMinimal, &d)), "");
  EXPECT_EQ(d.detectors[0].promotion.mode, PromotionConfig::Mode::kImmediate);
  EXPECT_FALSE(d.detectors[0].promotion.candidate());
  Config m;
  ASSERT_EQ(
      Dump(Check(Replace(kMinimal, "    model:\n", "    promotion: manual\n    model:\n"), &m)),
      "");
  EXPECT_EQ(m.detectors[0].promotion.mode, PromotionConfig::Mode::kManual);
  EXPECT_EQ(m.detectors[0].promotion.after_ms, 3 * kDayMs);
  EXPECT_EQ(m.detectors[0].promotion.rate_low, 0.5);
  EXPECT_EQ(m.detectors[0].promotion.rate_high, 2.0);
  EXPECT_EQ(m.detectors[0].promotion.pages_factor, 1.5);
}

TEST(Config, BadPromotion) {
  auto with = [](const std::string& lines) {
    return Check(Replace(kMinimal, "    model:\n", lines + "    model:\n"));
  };
  EXPECT_TRUE(Has(with("    promotion: later\n"), 8,
                  {"detectors[0].promotion", "'later' is not a promotion mode", "manual"}));
  EXPECT_TRUE(Has(with("    promotion: manual\n    gate: {after: 1d}\n"), 9,
                  {"detectors[0].gate", "only with promotion: gate"}));
  EXPECT_TRUE(Has(with("    gate: {after: 1d}\n"), 8, {"only with promotion: gate"}));
  EXPECT_TRUE(Has(with("    promotion: gate\n    gate: {rate_band: [2, 0.5]}\n"), 9,
                  {"detectors[0].gate.rate_band", "0 <= low <= 1 <= high"}));
  EXPECT_TRUE(Has(with("    promotion: gate\n    gate: {rate_band: [0.5]}\n"), 9,
                  {"gate.rate_band", "two numbers"}));
  EXPECT_TRUE(Has(with("    promotion: gate\n    gate: {after: soon}\n"), 9, {"gate.after"}));
  EXPECT_TRUE(Has(with("    promotion: gate\n    gate: {afer: 1d}\n"), 9, {"afer", "after"}));
}

TEST(Config, BadDurations) {
  auto with = [](const std::string& lines) {
    return Check(Replace(kMinimal, "    model:\n", lines + "    model:\n"));
  };
  EXPECT_TRUE(
      Has(with("    step: 5 minutes\n"), 8,
          {"detectors[0].step: '5 minutes' is not a duration", "ms, s, m, h, d, w", "step: 1m"}));
  EXPECT_TRUE(Has(with("    step: 60\n"), 8, {"'60' has no unit", "step: 60s"}));
  EXPECT_TRUE(Has(with("    interval: 0s\n"), 8, {"interval: '0s' is too short", "at least 1s"}));
  EXPECT_TRUE(Has(with("    lookback: 12h\n"), 8, {"lookback: '12h' is too short", "1d"}));
  EXPECT_TRUE(Has(with("    lookback: [90d]\n"), 8, {"lookback: is a list", "lookback: 90d"}));
  EXPECT_TRUE(Has(with("    step: 2d\n    lookback: 1d\n"), 9, {"longer than step"}));
  EXPECT_TRUE(Has(Check(Replace(kMinimal, "  url: http://127.0.0.1:9090\n",
                                "  url: http://127.0.0.1:9090\n  timeout: soon\n")),
                  3, {"prometheus.timeout: 'soon' is not a duration", "timeout: 30s"}));
}

TEST(Config, BadDetectorNames) {
  for (const auto& [name, suggestion] :
       std::vector<std::pair<std::string, std::string>>{{"../x", "name: x"},
                                                        {"..", "name: checkout"},
                                                        {"a/b", "name: a_b"},
                                                        {"Checkout", "name: checkout"},
                                                        {"my service", "name: my_service"},
                                                        {"'.hidden'", "name: hidden"},
                                                        {"\"\"", "name: checkout"},
                                                        {std::string(65, 'a'), "name: aaaa"}}) {
    const auto problems = Check(Replace(kMinimal, "name: checkout", "name: " + name));
    EXPECT_TRUE(
        Has(problems, 5,
            {"detectors[0].name:", "cannot be a detector name", "a-z, 0-9", suggestion.c_str()}))
        << name;
  }
  EXPECT_TRUE(Has(Check(Replace(kMinimal, "name: checkout", "name:")), 5,
                  {"detectors[0].name: empty — e.g. name: checkout"}));
  EXPECT_TRUE(Has(Check(Replace(kMinimal, "  - name: checkout\n    queries", "  - queries")), 5,
                  {"detectors[0].name: missing"}));
}

TEST(Config, DuplicateDetectorNames) {
  const std::string yaml = std::string(kMinimal) +
                           "  - name: checkout\n"    // 10
                           "    queries: {x: up}\n"  // 11
                           "    model: {contamination: auto}\n";
  const auto problems = Check(yaml);
  ASSERT_EQ(problems.size(), 1u) << Dump(problems);
  EXPECT_TRUE(Has(problems, 10,
                  {"detectors[1].name: 'checkout' is already the name of the detector at line 5",
                   "its own name"}));
}

TEST(Config, UnknownKeysGetSuggestions) {
  const std::string yaml = R"(prometheus:
  ur: http://127.0.0.1:9090
  url: http://127.0.0.1:9090
modelsdir: /tmp/models
models_dir: /tmp/models
detectors:
  - name: checkout
    queries:
      latency: up
    lookbak: 90d
    contamination: 0.02
    model:
      contamination: 0.02
      n_estimaters: 100
      colour: blue
      <<: {bootstrap: true}
)";
  const auto problems = Check(yaml);
  EXPECT_TRUE(Has(problems, 2, {"prometheus.ur: unknown key — did you mean url?"}));
  EXPECT_TRUE(Has(problems, 4, {"modelsdir: unknown key — did you mean models_dir?"}));
  EXPECT_TRUE(Has(problems, 10, {"detectors[0].lookbak: unknown key — did you mean lookback?"}));
  EXPECT_TRUE(Has(problems, 11,
                  {"detectors[0].contamination: unknown key in a detector",
                   "contamination belongs under a detector's model:"}));
  EXPECT_TRUE(Has(problems, 14, {"n_estimaters: unknown key — did you mean n_estimators?"}));
  EXPECT_TRUE(Has(problems, 15, {"colour: unknown key", "n_estimators, contamination"}));
  EXPECT_TRUE(Has(problems, 16, {"merge keys (<<) are not supported"}));
  EXPECT_EQ(problems.size(), 7u) << Dump(problems);
}

TEST(Config, WrongTypes) {
  const std::string yaml = R"(prometheus: http://127.0.0.1:9090
models_dir: [a, b]
web: 8080
detectors:
  - name: [checkout]
    queries:
      - up
    group_by: job
    derived: hour_of_week
    keep_versions: five
    model: 0.02
  - just a string
)";
  const auto problems = Check(yaml);
  EXPECT_TRUE(Has(problems, 1, {"prometheus: is a single value", "mapping"}));
  EXPECT_TRUE(Has(problems, 2, {"models_dir: is a list, expected a single value"}));
  EXPECT_TRUE(Has(problems, 3, {"web: is a single value", "listen_address"}));
  EXPECT_TRUE(Has(problems, 5, {"detectors[0].name: is a list"}));
  EXPECT_TRUE(Has(problems, 6, {"detectors[0].queries: is a list", "feature names to PromQL"}));
  EXPECT_TRUE(Has(problems, 8, {"group_by: is a single value, expected a list", "[job]"}));
  EXPECT_TRUE(Has(problems, 9, {"derived: is a single value, expected a list", "[] for none"}));
  EXPECT_TRUE(Has(problems, 10, {"keep_versions: 'five' is not a whole number"}));
  EXPECT_TRUE(Has(problems, 11, {"model: is a single value", "contamination: 0.02"}));
  EXPECT_TRUE(Has(problems, 12, {"detectors[1]: is a single value", "- name: checkout"}));
  EXPECT_TRUE(Has(Check("- a\n- b\n"), 1, {"the file is a list"}));
  EXPECT_TRUE(Has(Check(""), 1, {"the file is empty"}));
  EXPECT_TRUE(Has(Check("# nothing\n"), 1, {"the file is empty"}));
  EXPECT_TRUE(Has(Check("prometheus: {url: 'http://p:1'}\nmodels_dir: /m\ndetectors: {a: 1}\n"), 3,
                  {"detectors: is a mapping", "list of detectors"}));
}

TEST(Config, MissingRequiredSections) {
  const auto problems = Check("web:\n  listen_address: 127.0.0.1:8080\n");
  EXPECT_TRUE(Has(problems, 1, {"prometheus: missing", "url: http://127.0.0.1:9090"}));
  EXPECT_TRUE(Has(problems, 1, {"models_dir: missing"}));
  EXPECT_TRUE(Has(problems, 1, {"detectors: missing"}));
  EXPECT_EQ(problems.size(), 3u) << Dump(problems);
  EXPECT_TRUE(Has(Check(Replace(kMinimal, "  url: http://127.0.0.1:9090\n", "  timeout: 5s\n")), 1,
                  {"prometheus.url: missing"}));
  EXPECT_TRUE(Has(Check("prometheus: {url: 'http://p:1'}\nmodels_dir: /m\ndetectors: []\n"), 3,
                  {"detectors: the list is empty"}));
}

TEST(Config, EmptyOrBrokenQueries) {
  EXPECT_TRUE(
      Has(Check(Replace(kMinimal, "    queries:\n      latency: up\n", "    queries: {}\n")), 6,
          {"detectors[0].queries: no query"}));
  EXPECT_TRUE(Has(Check(Replace(kMinimal, "    queries:\n      latency: up\n", "    queries:\n")),
                  6, {"detectors[0].queries: empty", "feature names to PromQL"}));
  EXPECT_TRUE(Has(Check(Replace(kMinimal, "latency: up", "latency: ''")), 7,
                  {"queries.latency: the query is empty"}));
  EXPECT_TRUE(
      Has(Check(Replace(kMinimal, "latency: up", "latency:")), 7, {"queries.latency: empty"}));
  EXPECT_TRUE(Has(Check(Replace(kMinimal, "latency: up", "latency: sum(rate(x[5m])")), 7,
                  {"brackets", "'(' at character 4 is never closed"}));
  EXPECT_TRUE(Has(Check(Replace(kMinimal, "latency: up", "latency: rate(x[5m)]")), 7,
                  {"')' at character 10 closes the '[' at character 7"}));
  EXPECT_TRUE(Has(Check(Replace(kMinimal, "latency: up", "9lives: up")), 7,
                  {"'9lives' cannot be a feature name"}));
  EXPECT_TRUE(Has(Check(Replace(kMinimal, "latency: up", "hour_of_week: up")), 7,
                  {"queries.hour_of_week: the name is also a derived feature"}));
  // Brackets inside strings do not count; the same name twice is a problem.
  const std::string two = Replace(kMinimal, "      latency: up\n",
                                  "      latency: 'up{job=\"a(\"}'\n      latency: up\n");
  const auto problems = Check(two);
  ASSERT_EQ(problems.size(), 1u) << Dump(problems);
  EXPECT_TRUE(Has(problems, 8, {"queries.latency: given twice (first at line 7)"}));
}

TEST(Config, GroupByDerivedAndDeployWindows) {
  auto with = [](const std::string& lines) {
    return Check(Replace(kMinimal, "    model:\n", lines + "    model:\n"));
  };
  const auto labels =
      with("    group_by:\n      - job\n      - 1abc\n      - job\n      - detector\n");
  EXPECT_TRUE(Has(labels, 10, {"group_by[1]: '1abc' is not a Prometheus label name"}));
  EXPECT_TRUE(Has(labels, 11, {"group_by[2]: 'job' is listed twice"}));
  EXPECT_TRUE(Has(labels, 12, {"'detector' is the label isoscope adds"}));
  EXPECT_TRUE(Has(with("    derived: [hour_of_day]\n"), 8,
                  {"derived[0]: 'hour_of_day' is not a derived feature", "hour_of_week"}));
  EXPECT_TRUE(Has(with("    derived: [hour_of_week, hour_of_week]\n"), 8, {"listed twice"}));
  EXPECT_TRUE(Has(with("    deploy_windows: Mon-Fri 25:00-26:00\n"), 8,
                  {"deploy_windows: deploy window 'Mon-Fri 25:00-26:00'"}));
  EXPECT_TRUE(Has(with("    keep_versions: 0\n"), 8, {"keep_versions: 0 is out of range"}));
  EXPECT_EQ(Dump(with("    group_by: []\n    derived: [is_deploy_window]\n")), "");
}

TEST(Config, BearerAndBasicAuthTogether) {
  const std::string yaml = Replace(kMinimal, "  url: http://127.0.0.1:9090\n",
                                   "  url: http://127.0.0.1:9090\n"
                                   "  bearer_token: abc\n"
                                   "  basic_auth:\n"
                                   "    username: u\n"
                                   "    password: p\n");
  const auto problems = Check(yaml);
  ASSERT_EQ(problems.size(), 1u) << Dump(problems);
  EXPECT_TRUE(Has(problems, 4,
                  {"prometheus.basic_auth: given together with bearer_token", "keep one of them"}));
  const std::string both_tokens =
      Replace(kMinimal, "  url: http://127.0.0.1:9090\n",
              "  url: http://127.0.0.1:9090\n  bearer_token: abc\n  bearer_token_file: /x\n");
  EXPECT_TRUE(Has(Check(both_tokens), 4, {"bearer_token_file: given together with bearer_token"}));
  const std::string no_password = Replace(kMinimal, "  url: http://127.0.0.1:9090\n",
                                          "  url: http://127.0.0.1:9090\n"
                                          "  basic_auth: {username: u}\n");
  EXPECT_TRUE(Has(Check(no_password), 3, {"basic_auth.password: missing", "password_file"}));
}

TEST(Config, SecretFilesAreReadAtLoadTime) {
  const std::string dir = TempDir();
  ASSERT_TRUE(WriteFileAtomic(dir + "/token", "tok-123\n").ok());
  ASSERT_TRUE(WriteFileAtomic(dir + "/password", "pw 456  \n").ok());
  ASSERT_TRUE(WriteFileAtomic(dir + "/empty", "\n").ok());
  const std::string with_token =
      Replace(kMinimal, "  url: http://127.0.0.1:9090\n",
              "  url: http://127.0.0.1:9090\n  bearer_token_file: token\n");
  ASSERT_TRUE(WriteFileAtomic(dir + "/isoscope.yml", with_token).ok());
  auto config = LoadConfig(dir + "/isoscope.yml");
  ASSERT_TRUE(config.ok()) << config.status().message();
  EXPECT_EQ(config->prometheus.bearer_token, "tok-123");
  EXPECT_EQ(config->prometheus.bearer_token_file, dir + "/token");

  const std::string with_password =
      Replace(kMinimal, "  url: http://127.0.0.1:9090\n",
              "  url: http://127.0.0.1:9090\n  basic_auth:\n    username: isoscope\n"
              "    password_file: " +
                  dir + "/password\n");
  Config c;
  ASSERT_EQ(Dump(CheckConfigText(with_password, "isoscope.yml", &c)), "");
  EXPECT_TRUE(c.prometheus.has_basic_auth);
  EXPECT_EQ(c.prometheus.username, "isoscope");
  EXPECT_EQ(c.prometheus.password, "pw 456");

  const std::string missing =
      Replace(kMinimal, "  url: http://127.0.0.1:9090\n",
              "  url: http://127.0.0.1:9090\n  bearer_token_file: " + dir + "/nope\n");
  EXPECT_TRUE(Has(Check(missing), 3, {"prometheus.bearer_token_file:", "/nope", "create it"}));
  const std::string empty =
      Replace(kMinimal, "  url: http://127.0.0.1:9090\n",
              "  url: http://127.0.0.1:9090\n  bearer_token_file: " + dir + "/empty\n");
  EXPECT_TRUE(Has(Check(empty), 3, {"empty", "write the secret into it"}));
  std::system(("rm -rf " + dir).c_str());
}

TEST(Config, BadUrls) {
  for (const auto& [url, expected] : std::vector<std::pair<std::string, std::string>>{
           {"127.0.0.1:9090", "no http:// or https:// — write url: http://127.0.0.1:9090"},
           {"ftp://prom:21", "scheme 'ftp' is not supported"},
           {"http://", "has no host"},
           {"http://:9090", "has no host"},
           {"http://prom:99999", "port '99999' is not a number from 1 to 65535"},
           {"'http://prom:'", "empty port"},
           {"http://user:pw@prom:9090", "credentials in the URL"},
           {"http://prom:9090/api/v1/query", "without /api/v1, e.g. url: http://prom:9090"},
           {"http://prom:9090/?x=1", "query or fragment"},
           {"'http://pro m:9090'", "blanks"},
           {"http://pro$m:9090", "is not a host name"}}) {
    EXPECT_TRUE(Has(Check(Replace(kMinimal, "url: http://127.0.0.1:9090", "url: " + url)), 2,
                    {"prometheus.url:", expected.c_str()}))
        << url;
  }
  for (const char* good : {"http://localhost:9090", "https://prom.example.com/prometheus",
                           "http://[::1]:9090", "http://prometheus"}) {
    EXPECT_EQ(Dump(Check(Replace(kMinimal, "http://127.0.0.1:9090", good))), "") << good;
  }
}

TEST(Config, WebSection) {
  auto with = [](const std::string& web) { return Check(std::string(kMinimal) + web); };
  EXPECT_TRUE(Has(with("web:\n  listen_address: 8080\n"), 11,
                  {"web.listen_address: '8080' has no port", "127.0.0.1:8080"}));
  EXPECT_TRUE(Has(with("web:\n  listen_address: localhost:http\n"), 11, {"port 'http'"}));
  EXPECT_TRUE(Has(with("web:\n  cors_origin: grafana.example.com\n"), 11,
                  {"web.cors_origin: 'grafana.example.com' is not an origin"}));
  EXPECT_TRUE(Has(with("web:\n  cors_origin: https://grafana.example.com/\n"), 11,
                  {"write cors_origin: https://grafana.example.com"}));
  EXPECT_EQ(Dump(with("web:\n  listen_address: '[::1]:8080'\n  cors_origin: '*'\n")), "");
  EXPECT_EQ(Dump(with("web:\n")), "");
}

TEST(Config, SyntaxErrorGivesLineAndColumn) {
  auto text = ReadFile(kFixtures + "/bad_syntax.yml");
  ASSERT_TRUE(text.ok());
  const auto problems = Check(*text);
  ASSERT_EQ(problems.size(), 1u) << Dump(problems);
  EXPECT_EQ(problems[0].line, 7);
  EXPECT_NE(problems[0].message.find("YAML syntax error at column"), std::string::npos);
  EXPECT_NE(problems[0].message.find("put quotes around values"), std::string::npos);
  const auto tab =
      Check("prometheus:\n  url: http://x:1\nmodels_dir: /m\ndetectors:\n\t- name: a\n");
  ASSERT_EQ(tab.size(), 1u) << Dump(tab);
  EXPECT_TRUE(Has(tab, 5, {"YAML syntax error", "indent with spaces only"}));
  EXPECT_TRUE(Has(Check("a: [1, 2\nb: 3\n"), 2, {"YAML syntax error at column"}));
}

TEST(Config, SeveralProblemsAreAllReportedInLineOrder) {
  auto text = ReadFile(kFixtures + "/bad_several.yml");
  ASSERT_TRUE(text.ok());
  const auto problems = Check(*text);
  std::vector<int> lines;
  for (const ConfigProblem& p : problems) lines.push_back(p.line);
  EXPECT_EQ(lines, (std::vector<int>{2, 3, 5, 8, 10, 11, 12, 13, 14, 16, 18, 22, 23}))
      << Dump(problems);
  EXPECT_TRUE(Has(problems, 2, {"prometheus.url: '127.0.0.1:9090' has no http://"}));
  EXPECT_TRUE(Has(problems, 3, {"prometheus.timeout: '30 seconds' is not a duration"}));
  EXPECT_TRUE(Has(problems, 5, {"basic_auth: given together with bearer_token"}));
  EXPECT_TRUE(Has(problems, 8, {"detectors[0].name: '../x' cannot be a detector name"}));
  EXPECT_TRUE(Has(problems, 10, {"latency_p95: the brackets of this PromQL do not match"}));
  EXPECT_TRUE(Has(problems, 11, {"did you mean lookback?"}));
  EXPECT_TRUE(Has(problems, 12, {"step: '60' has no unit"}));
  EXPECT_TRUE(Has(problems, 13, {"detectors[0].model.contamination: missing"}));
  EXPECT_TRUE(Has(problems, 14, {"n_estimators: 'many' is not a whole number"}));
  EXPECT_TRUE(Has(problems, 16, {"detectors[1].queries: no query"}));
  EXPECT_TRUE(Has(problems, 18, {"detectors[2].name: 'checkout' is already the name"}));
  EXPECT_TRUE(Has(problems, 22, {"detectors[2].model.contamination: '0.7'"}));
  EXPECT_TRUE(Has(problems, 23, {"webb: unknown key — did you mean web?"}));
}

TEST(Config, LoadConfigJoinsEveryProblemWithFileAndLine) {
  const std::string path = kFixtures + "/bad_several.yml";
  auto config = LoadConfig(path);
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().code(), ErrorCode::kInvalidArgument);
  const std::string m = config.status().message();
  EXPECT_EQ(m.rfind(path + ":2: prometheus.url:", 0), 0u) << m;
  EXPECT_NE(m.find("\n" + path + ":23: webb: unknown key"), std::string::npos) << m;
  EXPECT_EQ(std::count(m.begin(), m.end(), '\n'), 12);
  EXPECT_FALSE(LoadConfig(kFixtures + "/does_not_exist.yml").ok());
}

}  // namespace
}  // namespace isoscope::native

namespace isoscope::native {
namespace {

TEST(ConfigAlerts, DefaultsWithoutAnAlertsSection) {
  Config c;
  ASSERT_EQ(Dump(Check(kMinimal, &c)), "");
  const AlertsConfig& a = c.detectors[0].alerts;
  // Relative to the model: the share it was trained to flag, and half of it.
  EXPECT_EQ(a.warning.kind, AlertThreshold::Kind::kContamination);
  EXPECT_EQ(a.warning.value, 1);
  EXPECT_EQ(a.critical.kind, AlertThreshold::Kind::kContamination);
  EXPECT_EQ(a.critical.value, 2);
  EXPECT_EQ(a.for_ms, 3 * kMinuteMs);
  EXPECT_EQ(a.smooth_ms, 5 * kMinuteMs);
  EXPECT_EQ(a.keep_firing_for_ms, 0);
  EXPECT_EQ(a.eval_interval_ms, kMinuteMs);
  EXPECT_EQ(a.RecordName(), "job:anomaly_score:avg5m");
  EXPECT_EQ(a.drift.min_rate, 0.005);
  EXPECT_EQ(a.drift.for_ms, 30 * kMinuteMs);
  // Mon-Fri 09:00-18:00 UTC: Monday 540..1080 minutes, ..., Friday 4*1440 + 540.
  ASSERT_EQ(a.drift.peak_hours.size(), 5u);
  EXPECT_EQ(a.drift.peak_hours[0], (WeeklyWindow{540, 1080}));
  EXPECT_EQ(a.drift.peak_hours[4], (WeeklyWindow{4 * 1440 + 540, 4 * 1440 + 1080}));
  EXPECT_EQ(a.stale_after_ms, 15 * kMinuteMs);
  EXPECT_EQ(a.max_model_age_ms, 15 * kDayMs);
}

TEST(ConfigAlerts, EveryKeyIsRead) {
  Config c;
  const std::string yaml =
      Replace(kMinimal, "    model:\n",
              "    interval: 10m\n"
              "    alerts:\n"
              "      warning: 0.7\n"
              "      critical: 0.9\n"
              "      for: 5m\n"
              "      smooth: 10m\n"
              "      keep_firing_for: 2m\n"
              "      eval_interval: 30s\n"
              "      drift: {min_rate: 0.01, for: 1h, peak_hours: \"Sat 10:00-12:00\"}\n"
              "      max_model_age: 8d\n"
              "    model:\n");
  ASSERT_EQ(Dump(Check(yaml, &c)), "");
  const AlertsConfig& a = c.detectors[0].alerts;
  EXPECT_EQ(a.warning.kind, AlertThreshold::Kind::kScore);
  EXPECT_EQ(a.warning.value, 0.7);
  EXPECT_EQ(a.critical.value, 0.9);
  EXPECT_EQ(a.for_ms, 5 * kMinuteMs);
  EXPECT_EQ(a.smooth_ms, 10 * kMinuteMs);
  EXPECT_EQ(a.keep_firing_for_ms, 2 * kMinuteMs);
  EXPECT_EQ(a.eval_interval_ms, 30'000);
  EXPECT_EQ(a.RecordName(), "job:anomaly_score:avg10m");  // follows smooth
  EXPECT_EQ(a.drift.min_rate, 0.01);
  EXPECT_EQ(a.drift.for_ms, kHourMs);
  EXPECT_EQ(a.drift.peak_hours, (std::vector<WeeklyWindow>{{5 * 1440 + 600, 5 * 1440 + 720}}));
  EXPECT_EQ(a.drift.peak_hours_text, "Sat 10:00-12:00");
  EXPECT_EQ(a.stale_after_ms, 30 * kMinuteMs);  // not given: 3 intervals (> 15m)
  EXPECT_EQ(a.max_model_age_ms, 8 * kDayMs);
  ASSERT_EQ(Dump(Check(Replace(yaml, "      max_model_age: 8d\n",
                               "      stale_after: 20m\n      record: checkout:smooth\n"),
                       &c)),
            "");
  EXPECT_EQ(c.detectors[0].alerts.stale_after_ms, 20 * kMinuteMs);
  EXPECT_EQ(c.detectors[0].alerts.RecordName(), "checkout:smooth");
}

TEST(ConfigAlerts, ThresholdsRelativeToTheModel) {
  Config c;
  ASSERT_EQ(Dump(Check(Replace(kMinimal, "    model:\n",
                               "    alerts: {warning: 1.5%, critical: contamination/3}\n"
                               "    model:\n"),
                       &c)),
            "");
  const AlertsConfig& a = c.detectors[0].alerts;
  EXPECT_EQ(a.warning.kind, AlertThreshold::Kind::kShare);
  EXPECT_EQ(a.warning.value, 0.015);
  EXPECT_EQ(a.warning.text, "1.5%");
  EXPECT_EQ(a.critical.kind, AlertThreshold::Kind::kContamination);
  EXPECT_EQ(a.critical.value, 3);
}

TEST(ConfigAlerts, ProblemsHaveLinesAndSuggestions) {
  auto with = [](const std::string& lines) {
    return Check(Replace(kMinimal, "    model:\n", "    alerts:\n" + lines + "    model:\n"));
  };
  // Line 8 is "alerts:", so the first key under it is on line 9.
  EXPECT_TRUE(Has(with("      warning: 0.9\n      critical: 0.8\n"), 10,
                  {"alerts.critical: critical (0.8) is less strict than warning (0.9)"}));
  EXPECT_TRUE(Has(with("      warning: contamination/2\n      critical: contamination\n"), 10,
                  {"critical (contamination) is less strict than warning (contamination/2)"}));
  EXPECT_TRUE(Has(with("      warning: 0.5%\n      critical: 1%\n"), 10,
                  {"critical (1%) is less strict than warning (0.5%)"}));
  EXPECT_TRUE(
      Has(with("      warning: 0\n"), 9, {"alerts.warning: threshold '0'", "lie in (0, 1]"}));
  EXPECT_TRUE(Has(with("      critical: 1.5\n"), 9, {"threshold '1.5'", "lie in (0, 1]"}));
  EXPECT_TRUE(Has(with("      critical: 60%\n"), 9, {"percentage in (0, 50]"}));
  EXPECT_TRUE(Has(with("      critical: contamination/0.5\n"), 9, {"needs N >= 1"}));
  EXPECT_TRUE(Has(with("      critical: high\n"), 9,
                  {"threshold 'high': not understood", "contamination/N"}));
  EXPECT_TRUE(Has(with("      for: 3\n"), 9, {"alerts.for: '3' has no unit", "for: 3s"}));
  EXPECT_TRUE(
      Has(with("      smoth: 5m\n"), 9, {"alerts.smoth: unknown key — did you mean smooth?"}));
  EXPECT_TRUE(Has(with("      smooth: 30s\n"), 9, {"shorter than the detector's interval (1m)"}));
  EXPECT_TRUE(Has(with("      record: 'job anomaly'\n"), 9, {"not a Prometheus metric name"}));
  EXPECT_TRUE(
      Has(with("      drift: {min_rate: 1}\n"), 9, {"alerts.drift.min_rate", "alert always"}));
  EXPECT_TRUE(Has(with("      drift:\n        peak_hours: \"Mon-Fri 09:00-25:00\"\n"), 10,
                  {"alerts.drift.peak_hours", "Mon-Fri 09:00-25:00"}));
  EXPECT_TRUE(Has(with("      drift:\n        fo: 30m\n"), 10,
                  {"alerts.drift.fo: unknown key — did you mean for?"}));
  EXPECT_TRUE(Has(with("      min_rate: 0.01\n"), 9,
                  {"min_rate belongs under a detector's alerts.drift:"}));
  EXPECT_TRUE(Has(Check(Replace(kMinimal, "    model:\n", "    alerts: 0.65\n    model:\n")), 8,
                  {"detectors[0].alerts: is a single value", "mapping"}));
}

}  // namespace
}  // namespace isoscope::native

namespace isoscope::native {
namespace {

// derived: auto is chosen from the detector's step and lookback, as `isoscope train --derived
// auto` from a CSV of that step and span; temporal features run on the step's grid.
TEST(ConfigDerived, AutoFollowsStepAndLookback) {
  auto with = [](const std::string& lines, Config* c) {
    return Dump(Check(Replace(kMinimal, "    model:\n", lines + "    model:\n"), c));
  };
  Config c;
  ASSERT_EQ(with("    derived: auto\n", &c), "");
  const FeatureSpec& spec = c.detectors[0].spec;
  // 90 days at 60 s: the seasonal baselines, raw values off (docs/features.md).
  EXPECT_EQ(spec.ColumnNames(),
            (std::vector<std::string>{"seasonal_median_diff(latency,1w,3)",
                                      "seasonal_median_diff(latency,1w,3,30m)"}));
  EXPECT_FALSE(spec.raw_inputs);
  EXPECT_EQ(spec.step_ms, kMinuteMs);
  ASSERT_EQ(with("    derived: [auto]\n    lookback: 14d\n    step: 30s\n", &c), "");
  // Two weeks: the short-history set, raw values on, on a 30 s grid.
  EXPECT_TRUE(c.detectors[0].spec.raw_inputs);
  EXPECT_EQ(c.detectors[0].spec.step_ms, 30'000);
  EXPECT_EQ(c.detectors[0].spec.ColumnNames().front(), "latency");
  EXPECT_NE(c.detectors[0].spec.ColumnNames().size(), 1u);
}

TEST(ConfigDerived, TemporalFeaturesAndTheirProblems) {
  auto with = [](const std::string& lines, Config* c = nullptr) {
    return Check(Replace(kMinimal, "    model:\n", lines + "    model:\n"), c);
  };
  Config c;
  ASSERT_EQ(
      Dump(with("    derived: [hour_of_week, 'delta(latency,1h)', 'zscore(latency,1d)']\n", &c)),
      "");
  EXPECT_EQ(c.detectors[0].spec.ColumnNames(),
            (std::vector<std::string>{"latency", "hour_of_week", "delta(latency,1h)",
                                      "zscore(latency,1d)"}));
  EXPECT_EQ(c.detectors[0].spec.step_ms, kMinuteMs);
  ASSERT_EQ(Dump(with("    derived: [hour_of_week]\n", &c)), "");
  EXPECT_EQ(c.detectors[0].spec.step_ms, 0) << "no temporal feature: no grid";
  EXPECT_TRUE(Has(with("    derived: ['delta(cpu,1h)']\n"), 8,
                  {"derived[0]: 'delta(cpu,1h)' is not a derived feature", "cpu"}));
  EXPECT_TRUE(
      Has(with("    derived: ['delta(latency,1h)', 'delta(latency,1h)']\n"), 8, {"listed twice"}));
  EXPECT_TRUE(Has(with("    derived: sometimes\n"), 8, {"derived: auto"}));
}

// The defaults (smooth 5m, for 3m) hold 5 and 3 scores at one per minute, but on 5-minute
// data a single score each: both are named, with the 15m they need.
TEST(AlertSampleWarnings, RulesHoldingFewerThanThreeScoresAreNamed) {
  DetectorConfig d;
  d.name = "checkout";
  EXPECT_TRUE(AlertSampleWarnings(d).empty());
  d.step_ms = 5 * kMinuteMs;
  const std::vector<std::string> w = AlertSampleWarnings(d);
  ASSERT_EQ(w.size(), 2u);
  EXPECT_EQ(w[0],
            "checkout: alerts.smooth 5m holds fewer than 3 scores at one per 5m: a single "
            "outlier pages; use at least 15m");
  EXPECT_NE(w[1].find("alerts.for 3m"), std::string::npos);
  d.alerts.smooth_ms = d.alerts.for_ms = 15 * kMinuteMs;
  EXPECT_TRUE(AlertSampleWarnings(d).empty());
}

}  // namespace
}  // namespace isoscope::native

namespace isoscope::native {
namespace {

// n unknown keys cost about n, not n^2 (a scan per key for duplicates made 1.5 M keys run for
// minutes), and the report stops at 1000 problems with a count of the rest.
TEST(Config, ManyUnknownKeysAreLinearAndTheReportBounded) {
  auto config_with = [](int n) {
    std::string yaml = "prometheus:\n  url: http://127.0.0.1:9090\nmodels_dir: /tmp/models\n";
    for (int i = 0; i < n; ++i) yaml += "k" + std::to_string(i) + ": 1\n";
    yaml += "k0: 2\n";  // a duplicate is still found
    yaml +=
        "detectors:\n  - name: checkout\n    queries:\n      latency: up\n    model:\n      "
        "contamination: 0.02\n";
    return yaml;
  };
  auto seconds = [&](int n, std::vector<ConfigProblem>* out) {
    const std::string yaml = config_with(n);
    const auto t0 = std::chrono::steady_clock::now();
    *out = CheckConfigText(yaml, "isoscope.yml", nullptr);
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  };
  std::vector<ConfigProblem> small, large;
  const double t_small = seconds(5000, &small);
  const double t_large = seconds(50000, &large);
  EXPECT_LT(t_large, 25 * (t_small + 0.01)) << t_small << " s vs " << t_large << " s";
  ASSERT_EQ(large.size(), 1001u);
  EXPECT_EQ(large.back().message, "... and 49001 more problems not listed");
  bool duplicate = false;
  for (const ConfigProblem& p : small) {
    duplicate = duplicate || p.message.find("k0: given twice (first at line 4)") == 0;
  }
  EXPECT_TRUE(duplicate);
}

}  // namespace
}  // namespace isoscope::native
