#include "model_json.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdlib>

#include "commands.h"
#include "file_io.h"
#include "isoscope/bundle.h"
#include "support/small_model.h"

namespace isoscope::native {
namespace {

nlohmann::json StumpJson() {
  return nlohmann::json::parse(R"({
    "n_features_in": 2, "max_samples_": 4, "max_features_": 2,
    "trees": [{"features": [0, 1], "children_left": [1, -1, -1], "children_right": [2, -1, -1],
               "feature": [1, -2, -2], "threshold": [0.5, -2.0, -2.0],
               "n_node_samples": [4, 1, 3]}]})");
}

TEST(ForestFromJson, ReadsSklearnArraysAndBakesPathLengths) {
  auto f = ForestFromJson(StumpJson());
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(f->trees.size(), 1u);
  EXPECT_EQ(f->leaf_c.size(), 2u);
  EXPECT_EQ(f->c_max_samples, AveragePathLength(4));
}

TEST(ForestFromJson, RejectsBrokenTrees) {
  auto j = StumpJson();
  j["trees"][0]["children_right"][0] = 9;
  EXPECT_FALSE(ForestFromJson(j).ok());
  j = StumpJson();
  j["trees"][0].erase("threshold");
  auto r = ForestFromJson(j);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("trees[0].threshold"), std::string::npos);
  j = StumpJson();
  j["trees"][0]["feature"][0] = 5;
  EXPECT_FALSE(ForestFromJson(j).ok());
}

TEST(ParamsFromJson, SklearnTypesMapToKinds) {
  auto p = ParamsFromJson(nlohmann::json::parse(
      R"({"n_estimators": 7, "max_samples": 0.5, "max_features": 3, "contamination": 0.02,
          "bootstrap": true, "random_state": 9})"));
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->max_samples.kind, MaxSamples::Kind::kFraction);
  EXPECT_EQ(p->max_features.kind, MaxFeatures::Kind::kCount);
  EXPECT_FALSE(p->contamination.is_auto);
  EXPECT_TRUE(p->bootstrap);
  auto q = ParamsFromJson(nlohmann::json::parse(R"({"max_samples": "auto", "max_features": 1.0,
                                                   "contamination": "auto"})"));
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->max_samples.kind, MaxSamples::Kind::kAuto);
  EXPECT_EQ(q->max_features.kind, MaxFeatures::Kind::kFraction);
  EXPECT_TRUE(q->contamination.is_auto);
}

}  // namespace
}  // namespace isoscope::native

namespace isoscope::native {
namespace {

// A bundle whose input name is not UTF-8 (written by an older train, or crafted): inspect
// --json prints it with U+FFFD instead of aborting on nlohmann's type_error.316.
TEST(InspectJson, NonUtf8NamesAreReplacedNotFatal) {
  auto h = testing::MakeSmallHistory();
  FeatureSpec spec;
  spec.inputs = {"lat\xff", "errors"};
  spec.derived.clear();
  TrainOptions options;
  options.params.n_estimators = 3;
  options.params.contamination = Contamination::Fraction(0.05);
  options.contamination_explicit = true;
  options.created_ms = h.times.back();
  auto m = TrainModel(spec, nullptr, {h.a.data(), h.b.data()}, h.times.size(), options);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  char tmpl[] = "/tmp/isoscope_inspect_XXXXXX";
  const std::string dir = mkdtemp(tmpl);
  ASSERT_TRUE(WriteFileAtomic(dir + "/m.bundle", EncodeBundle(*m)).ok());
  ::testing::internal::CaptureStdout();
  const int rc = RunInspect(InspectArgs{dir + "/m.bundle", true});
  const std::string out = ::testing::internal::GetCapturedStdout();
  EXPECT_EQ(rc, kExitOk);
  EXPECT_NE(out.find("\"lat\xef\xbf\xbd\""), std::string::npos);
  std::system(("rm -rf " + dir).c_str());
}

}  // namespace
}  // namespace isoscope::native
