// model: per: group and its per-group keys (config.h): read, defaults, line-numbered problems.
#include <gtest/gtest.h>

#include <string>

#include "config.h"

namespace isoscope::native {
namespace {

std::string Detector(const std::string& group_by, const std::string& model_lines) {
  return "prometheus:\n"
         "  url: http://127.0.0.1:9090\n"
         "models_dir: /tmp/models\n"
         "detectors:\n"
         "  - name: checkout\n"
         "    queries:\n"
         "      latency: up\n" +
         group_by +
         "    model:\n"
         "      contamination: 0.02\n" +
         model_lines;
}

std::string Dump(const std::vector<ConfigProblem>& problems) {
  std::string out;
  for (const ConfigProblem& p : problems) out += std::to_string(p.line) + ": " + p.message + "\n";
  return out;
}

bool Has(const std::vector<ConfigProblem>& problems, int line, const std::string& part) {
  for (const ConfigProblem& p : problems) {
    if (p.line == line && p.message.find(part) != std::string::npos) return true;
  }
  return false;
}

TEST(ConfigPerGroup, DefaultIsOnePooledModel) {
  Config c;
  const auto problems = CheckConfigText(Detector("", ""), "isoscope.yml", &c);
  ASSERT_TRUE(problems.empty()) << Dump(problems);
  EXPECT_FALSE(c.detectors[0].per_group);
}

TEST(ConfigPerGroup, PerGroupWithDefaults) {
  Config c;
  const auto problems =
      CheckConfigText(Detector("    group_by: [job]\n", "      per: group\n"), "isoscope.yml", &c);
  ASSERT_TRUE(problems.empty()) << Dump(problems);
  const DetectorConfig& d = c.detectors[0];
  EXPECT_TRUE(d.per_group);
  // The documented defaults (README, config.h): 50 trees of 128 rows, 1000 rows at least.
  EXPECT_EQ(d.group_n_estimators, 50);
  EXPECT_EQ(d.group_max_samples.kind, MaxSamples::Kind::kCount);
  EXPECT_EQ(d.group_max_samples.count, 128);
  EXPECT_EQ(d.min_rows, 1000);
  // The pooled model keeps its own parameters.
  EXPECT_EQ(d.params.n_estimators, 200);
}

TEST(ConfigPerGroup, EveryKeyIsRead) {
  Config c;
  const auto problems = CheckConfigText(
      Detector("    group_by: [job]\n",
               "      per: group\n      group_n_estimators: 20\n      group_max_samples: 0.5\n"
               "      min_rows: 300\n"),
      "isoscope.yml", &c);
  ASSERT_TRUE(problems.empty()) << Dump(problems);
  const DetectorConfig& d = c.detectors[0];
  EXPECT_EQ(d.group_n_estimators, 20);
  EXPECT_EQ(d.group_max_samples.kind, MaxSamples::Kind::kFraction);
  EXPECT_DOUBLE_EQ(d.group_max_samples.fraction, 0.5);
  EXPECT_EQ(d.min_rows, 300);
  Config explicit_detector;
  ASSERT_TRUE(
      CheckConfigText(Detector("", "      per: detector\n"), "isoscope.yml", &explicit_detector)
          .empty());
  EXPECT_FALSE(explicit_detector.detectors[0].per_group);
}

TEST(ConfigPerGroup, ProblemsHaveLines) {
  // Line 11 is the first line after contamination (line 10, or 11 with group_by on line 8).
  auto p = CheckConfigText(Detector("    group_by: [job]\n", "      per: pod\n"), "x.yml", nullptr);
  EXPECT_TRUE(Has(p, 11, "'pod' is not valid")) << Dump(p);
  p = CheckConfigText(Detector("", "      per: group\n"), "x.yml", nullptr);
  EXPECT_TRUE(Has(p, 10, "needs group_by")) << Dump(p);
  p = CheckConfigText(Detector("", "      min_rows: 10\n"), "x.yml", nullptr);
  EXPECT_TRUE(Has(p, 10, "applies only with per: group")) << Dump(p);
  p = CheckConfigText(Detector("    group_by: [job]\n",
                               "      per: group\n      group_n_estimators: 0\n"
                               "      group_max_samples: lots\n      min_rows: 1\n"),
                      "x.yml", nullptr);
  EXPECT_TRUE(Has(p, 12, "group_n_estimators")) << Dump(p);
  EXPECT_TRUE(Has(p, 13, "'lots' is not valid")) << Dump(p);
  EXPECT_TRUE(Has(p, 14, "min_rows")) << Dump(p);
  EXPECT_EQ(p.size(), 3u) << Dump(p);
}

}  // namespace
}  // namespace isoscope::native
