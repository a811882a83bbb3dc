#include "isoscope/bundle.h"

#include <gtest/gtest.h>

#include <zlib.h>

#include <cmath>
#include <cstdint>
#include <optional>
#include <random>
#include <string>

#include "detail/bundle_layout.h"
#include "support/golden.h"
#include "support/small_model.h"

namespace isoscope {
namespace {

class BundleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto m = testing::TrainSmallModel(testing::MakeSmallHistory());
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    model_ = std::move(m).value();
    bytes_ = EncodeBundle(model_);
  }
  Result<Model> Decode(const std::string& bytes, std::vector<std::string>* warnings = nullptr) {
    return DecodeBundle(bytes.data(), bytes.size(), DecodeOptions{}, warnings);
  }
  // Re-seals a body after editing it, so the checksum passes and deeper checks are reached.
  static std::string Reseal(std::string bytes) {
    const uint32_t crc =
        Crc32(bytes.data() + detail::kHeaderSize, bytes.size() - detail::kHeaderSize);
    for (int k = 0; k < 4; ++k) {
      bytes[detail::kCrcOffset + k] = static_cast<char>((crc >> (24 - 8 * k)) & 0xFF);
    }
    return bytes;
  }
  Model model_;
  std::string bytes_;
};

// The scorer the decode built for its canary check is the one a caller would build itself.
TEST_F(BundleTest, HandsOutTheScorerItBuiltForItsChecks) {
  std::optional<ModelScorer> scorer;
  auto back = DecodeBundle(bytes_.data(), bytes_.size(), DecodeOptions{}, nullptr, &scorer);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  ASSERT_TRUE(scorer.has_value());
  auto own = ModelScorer::Create(*back);
  ASSERT_TRUE(own.ok());
  for (const Canary& c : back->canaries) {
    EXPECT_EQ(scorer->ScoreFeatures(c.features.data()).anomaly_score,
              own->ScoreFeatures(c.features.data()).anomaly_score)
        << c.label;
  }
  EXPECT_EQ(scorer->threshold(), own->threshold());
  std::optional<ModelScorer> none;
  EXPECT_FALSE(DecodeBundle(bytes_.data(), 10, DecodeOptions{}, nullptr, &none).ok());
  EXPECT_FALSE(none.has_value());
}

TEST_F(BundleTest, RoundTripKeepsEveryField) {
  auto back = Decode(bytes_);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  const Model& m = *back;
  EXPECT_EQ(m.model_version, model_.model_version);
  EXPECT_EQ(m.spec, model_.spec);
  EXPECT_EQ(m.scaler.mean, model_.scaler.mean);
  EXPECT_EQ(m.scaler.scale, model_.scaler.scale);
  ASSERT_EQ(m.forest.trees.size(), model_.forest.trees.size());
  for (size_t t = 0; t < m.forest.trees.size(); ++t) {
    ASSERT_TRUE(m.forest.trees[t] == model_.forest.trees[t]) << "tree " << t;
  }
  EXPECT_EQ(m.forest.leaf_c, model_.forest.leaf_c);
  EXPECT_EQ(m.forest.c_max_samples, model_.forest.c_max_samples);
  EXPECT_EQ(m.offset, model_.offset);
  EXPECT_EQ(m.quantiles.threshold, model_.quantiles.threshold);
  EXPECT_EQ(m.canaries.size(), model_.canaries.size());
  EXPECT_EQ(m.info.rows_used, model_.info.rows_used);
  EXPECT_EQ(m.info.dropped_by_reason, model_.info.dropped_by_reason);
  EXPECT_EQ(m.params.contamination.value, model_.params.contamination.value);
  // Canonical: encoding the decoded model gives the same bytes.
  EXPECT_TRUE(EncodeBundle(m) == bytes_);
}

TEST_F(BundleTest, IsCompactAndStartsWithMagicAndVersion) {
  EXPECT_EQ(bytes_.substr(2, 8), "ISOSCOPE");
  EXPECT_EQ(static_cast<uint8_t>(bytes_[detail::kMajorOffset + 1]), kBundleFormatMajor);
  // A model version is a stable function of the content.
  EXPECT_EQ(ComputeModelVersion(model_), model_.model_version);
}

TEST_F(BundleTest, EveryTruncationIsReportedAsTruncated) {
  for (size_t len = 0; len < bytes_.size(); len += 1 + len / 7) {
    auto r = Decode(bytes_.substr(0, len));
    ASSERT_FALSE(r.ok()) << len;
    const ErrorCode code = r.status().code();
    EXPECT_EQ(code, ErrorCode::kTruncated) << "length " << len << ": " << r.status().ToString();
  }
}

TEST_F(BundleTest, AnyFlippedBodyByteFailsTheChecksum) {
  for (size_t pos = detail::kHeaderSize; pos < bytes_.size(); pos += 997) {
    std::string bad = bytes_;
    bad[pos] = static_cast<char>(bad[pos] ^ 0x10);
    auto r = Decode(bad);
    ASSERT_EQ(r.status().code(), ErrorCode::kCorrupt) << pos;
    EXPECT_NE(r.status().message().find("checksum"), std::string::npos);
  }
}

TEST_F(BundleTest, ForeignFilesAreNamedAsSuch) {
  for (const std::string& foreign :
       {std::string("\x89PNG\r\n\x1a\n0000000000000000000000"), std::string("{\"trees\": []}"),
        std::string("ISOSCOPE but not msgpack")}) {
    auto r = Decode(foreign);
    EXPECT_EQ(r.status().code(), ErrorCode::kForeign) << foreign;
    EXPECT_NE(r.status().message().find("not an isoscope bundle"), std::string::npos);
  }
  EXPECT_EQ(Decode("").status().code(), ErrorCode::kTruncated);
}

TEST_F(BundleTest, NewerMajorIsRefusedNewerMinorLoadsWithAWarning) {
  std::string major = bytes_;
  major[detail::kMajorOffset + 1] = 2;
  major[detail::kMinorOffset + 1] = 0;  // "2.0", whatever minor the fixture was written as
  auto r = Decode(major);
  EXPECT_EQ(r.status().code(), ErrorCode::kUnsupportedVersion);
  EXPECT_NE(r.status().message().find("2.0"), std::string::npos);
  EXPECT_NE(r.status().message().find("upgrade"), std::string::npos);

  std::string minor = bytes_;
  minor[detail::kMinorOffset + 1] = 7;
  std::vector<std::string> warnings;
  auto ok = Decode(minor, &warnings);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("1.7"), std::string::npos);
}

TEST_F(BundleTest, TrailingBytesAreCorruption) {
  EXPECT_EQ(Decode(bytes_ + "x").status().code(), ErrorCode::kCorrupt);
}

TEST_F(BundleTest, ChangedCanaryExpectationFailsTheLoad) {
  Model m = model_;
  m.canaries[0].anomaly_score += 1e-6;
  auto r = Decode(EncodeBundle(m));
  EXPECT_EQ(r.status().code(), ErrorCode::kCanaryMismatch);
}

TEST_F(BundleTest, ChangedForestFailsTheCanaries) {
  // A model whose trees changed (an engine or file bug) must not load silently.
  Model m = model_;
  for (Tree& t : m.forest.trees) {
    for (double& thr : t.threshold) {
      if (thr != -2.0) {
        thr = thr * 0.5 + 0.25;
      }
    }
  }
  auto r = Decode(EncodeBundle(m));
  EXPECT_EQ(r.status().code(), ErrorCode::kCanaryMismatch) << r.status().ToString();
}

TEST_F(BundleTest, StructuralDamageUnderAValidChecksumIsCorrupt) {
  // Rename a required key inside the body and re-seal: the parser must say which field.
  std::string bad = bytes_;
  const size_t pos = bad.find("c_max_samples");
  ASSERT_NE(pos, std::string::npos);
  bad[pos] = 'x';
  auto r = Decode(Reseal(bad));
  EXPECT_EQ(r.status().code(), ErrorCode::kCorrupt);
  EXPECT_NE(r.status().message().find("forest.c_max_samples"), std::string::npos)
      << r.status().message();
}

TEST_F(BundleTest, TreeWithMoreNodesThanMaxSamplesAllowsIsCorrupt) {
  // A tree grown on psi samples has at most 2 * psi - 1 nodes; claim psi = 2 (3 nodes at most).
  Model m = model_;
  ASSERT_GT(m.forest.trees[0].node_count(), 3u);
  m.forest.max_samples = 2;
  const std::string bytes = EncodeBundle(m);
  auto r = Decode(bytes);
  EXPECT_EQ(r.status().code(), ErrorCode::kCorrupt);
  EXPECT_NE(r.status().message().find("forest.trees[0] has"), std::string::npos)
      << r.status().message();
  EXPECT_NE(r.status().message().find("2 * max_samples - 1 = 3"), std::string::npos)
      << r.status().message();
}

TEST_F(BundleTest, MoreThanAHundredThousandTreesIsCorrupt) {
  // One-leaf trees keep the file small; the count alone is refused, before the trees are read.
  Model m = model_;
  Tree leaf;
  leaf.features = m.forest.trees[0].features;
  leaf.children_left = {-1};
  leaf.children_right = {-1};
  leaf.feature = {-2};
  leaf.threshold = {-2.0};
  leaf.n_node_samples = {1};
  m.forest.trees.assign(100'001, leaf);
  m.params.n_estimators = 100;
  const std::string bytes = EncodeBundle(m);
  auto r = Decode(bytes);
  EXPECT_EQ(r.status().code(), ErrorCode::kCorrupt);
  EXPECT_NE(r.status().message().find("forest has 100001 trees, more than the limit of 100000"),
            std::string::npos)
      << r.status().message();
}

TEST_F(BundleTest, GarbageBodiesNeverCrash) {
  // Deterministic pseudo-random bodies under valid headers and checksums.
  uint32_t state = 12345;
  for (int round = 0; round < 300; ++round) {
    std::string bad = bytes_;
    for (int k = 0; k < 1 + round % 20; ++k) {
      state = state * 1664525u + 1013904223u;
      const size_t pos = detail::kHeaderSize + state % (bad.size() - detail::kHeaderSize);
      bad[pos] = static_cast<char>(state >> 24);
    }
    auto r = Decode(Reseal(bad));
    if (!r.ok()) {
      EXPECT_NE(r.status().code(), ErrorCode::kOk);
      EXPECT_FALSE(r.status().message().empty());
    }
  }
}

TEST(GoldenBundles, FormatV1FilesStillLoadAndScoreLikeScikitLearn) {
  // tests/golden/v1/*.bundle were written once by tools/make_golden_bundles.sh (isoscope
  // import-sklearn of golden sklearn models); the expected scores are sklearn's own.
  for (const char* name : {"basic_gauss", "scaler_pipeline"}) {
    SCOPED_TRACE(name);
    const std::string bytes =
        testing::ReadText(testing::GoldenPath(std::string("v1/") + name + ".bundle"));
    auto m = DecodeBundle(bytes.data(), bytes.size());
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    auto scorer = ModelScorer::Create(*m);
    ASSERT_TRUE(scorer.ok());
    const auto c = testing::LoadGoldenCase(name);
    const std::vector<double> rows = testing::RowMajor(c.score);
    const auto scores = scorer->ScoreDense(rows.data(), nullptr, c.score.rows);
    for (size_t i = 0; i < scores.size(); ++i) {
      ASSERT_TRUE(scores[i].ok());
      ASSERT_NEAR(-scores[i].anomaly_score, c.score_samples[i], 1e-12) << i;
      if (std::fabs(c.decision[i]) >= 1e-12) {
        ASSERT_EQ(scores[i].is_anomaly, c.predict[i] == -1) << i;
      }
    }
  }
}

}  // namespace
}  // namespace isoscope

namespace isoscope {
namespace {

// 10 trees on 3,000 minutes of a noisy sine, for the format tests below.
Result<Model> TrainOnWave(const FeatureSpec& spec) {
  std::vector<TimeMs> times;
  std::vector<double> x;
  for (int i = 0; i < 3000; ++i) {
    times.push_back(1'790'000'000'000 + i * kMinuteMs);
    x.push_back(std::sin(i / 30.0) + (i % 7) * 0.01);
  }
  TrainOptions options;
  options.params.n_estimators = 10;
  return TrainModel(spec, times.data(), {x.data()}, x.size(), options);
}

// Format 1.1: temporal features and step_ms survive the round trip; a bundle without them
// stays 1.0 so older readers keep loading it.
TEST(BundleTemporal, RoundTripsTheSpecAndMarksMinorOne) {
  FeatureSpec spec;
  spec.inputs = {"x"};
  spec.step_ms = kMinuteMs;
  spec.derived = *ParseDerivedList("hour_of_week,delta(x,5m),rate(x,30m),lag(x,1..2)", spec.inputs,
                                   {kMinuteMs, 0});
  auto model = TrainOnWave(spec);
  ASSERT_TRUE(model.ok()) << model.status().message();
  model->calibration = {};  // the 1.3 key, tested below; without it the spec decides
  const std::string bytes = EncodeBundle(*model);
  EXPECT_EQ(static_cast<uint8_t>(bytes[15]), 1) << "minor version byte";
  auto back = DecodeBundle(bytes.data(), bytes.size());
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->spec, spec);
  EXPECT_EQ(back->spec.ColumnNames()[3], "rate(x,30m)");

  FeatureSpec point;
  point.inputs = {"x"};
  auto plain = TrainOnWave(point);
  ASSERT_TRUE(plain.ok());
  plain->calibration = {};
  EXPECT_EQ(static_cast<uint8_t>(EncodeBundle(*plain)[15]), 0);
}

// Format 1.2: seasonal_median_diff's periods and smoothing, and raw inputs left out of the
// vector, survive the round trip and mark the bundle 1.2.
TEST(BundleTemporal, SeasonalMedianAndRawOffMarkMinorTwo) {
  FeatureSpec spec;
  spec.inputs = {"x"};
  spec.step_ms = kMinuteMs;
  spec.derived = *ParseDerivedList("seasonal_median_diff(x,1h,2),seasonal_median_diff(x,1h,3,10m)",
                                   spec.inputs, {kMinuteMs, 0}, &spec.raw_inputs);
  spec.raw_inputs = false;
  auto model = TrainOnWave(spec);
  ASSERT_TRUE(model.ok()) << model.status().message();
  EXPECT_EQ(model->forest.n_features, 2);
  model->calibration = {};
  const std::string bytes = EncodeBundle(*model);
  EXPECT_EQ(static_cast<uint8_t>(bytes[15]), 2) << "minor version byte";
  auto back = DecodeBundle(bytes.data(), bytes.size());
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->spec, spec);
  EXPECT_EQ(back->spec.ColumnNames(),
            (std::vector<std::string>{"seasonal_median_diff(x,1h,2)",
                                      "seasonal_median_diff(x,1h,3,10m)"}));
}

// Format 1.4: median_diff survives the round trip and marks the bundle 1.4 (a 1.3 reader
// does not know the kind), calibrated or not.
TEST(BundleTemporal, MedianDiffMarksMinorFour) {
  FeatureSpec spec;
  spec.inputs = {"x"};
  spec.step_ms = kMinuteMs;
  spec.derived = *ParseDerivedList("median_diff(x,30m),delta(x,1m)", spec.inputs, {kMinuteMs, 0});
  auto model = TrainOnWave(spec);
  ASSERT_TRUE(model.ok()) << model.status().message();
  const std::string bytes = EncodeBundle(*model);
  EXPECT_EQ(static_cast<uint8_t>(bytes[15]), 4) << "minor version byte";
  auto back = DecodeBundle(bytes.data(), bytes.size());
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->spec, spec);
  EXPECT_EQ(back->spec.ColumnNames()[1], "median_diff(x,30m)");
  model->calibration = {};
  EXPECT_EQ(static_cast<uint8_t>(EncodeBundle(*model)[15]), 4);
}

// Format 1.3: a trained model carries its training scores' calibration, computed from the
// very scores the training rows get (checked here by scoring them again), and the bundle is
// marked 1.3; a bundle without the key (1.2 and older) loads with no calibration.
TEST(BundleCalibration, TrainedModelCarriesItAndRoundTrips) {
  FeatureSpec spec;
  spec.inputs = {"x"};
  auto model = TrainOnWave(spec);
  ASSERT_TRUE(model.ok()) << model.status().message();
  std::vector<double> x;
  for (int i = 0; i < 3000; ++i) x.push_back(std::sin(i / 30.0) + (i % 7) * 0.01);
  auto scorer = ModelScorer::Create(*model);
  ASSERT_TRUE(scorer.ok());
  double sum = 0, sum2 = 0;
  for (double v : x) {
    const double a = scorer->ScoreFeatures(&v).anomaly_score;
    sum += a;
    sum2 += a * a;
  }
  const double mean = sum / 3000, sd = std::sqrt(sum2 / 3000 - mean * mean);
  EXPECT_EQ(model->calibration.count, 3000);
  EXPECT_NEAR(model->calibration.mean, mean, 1e-12);
  EXPECT_NEAR(model->calibration.stddev, sd, 1e-9);

  const std::string bytes = EncodeBundle(*model);
  EXPECT_EQ(static_cast<uint8_t>(bytes[15]), 3) << "minor version byte";
  auto back = DecodeBundle(bytes.data(), bytes.size());
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->calibration, model->calibration);

  model->calibration = {};
  const std::string old = EncodeBundle(*model);
  auto old_back = DecodeBundle(old.data(), old.size());
  ASSERT_TRUE(old_back.ok()) << old_back.status().message();
  EXPECT_EQ(old_back->calibration.count, 0);
}

// A per-group model's label set (format 1.5): written as `group`, read back, marked minor 5; a
// bundle without it (every older one) has an empty group; a bad hash or unsorted labels are
// corrupt, named by field.
TEST(BundleGroup, LabelsRoundTripAndMarkMinorFive) {
  FeatureSpec spec;
  spec.inputs = {"x"};
  auto model = TrainOnWave(spec);
  ASSERT_TRUE(model.ok()) << model.status().message();
  const std::string pooled = EncodeBundle(*model);
  EXPECT_EQ(static_cast<uint8_t>(pooled[15]), 3) << "no group: minor as before";
  auto pooled_back = DecodeBundle(pooled.data(), pooled.size());
  ASSERT_TRUE(pooled_back.ok());
  EXPECT_TRUE(pooled_back->group.empty());

  model->group.labels = {{"detector", "fleet"}, {"job", "checkout-0"}};
  model->group.hash = "0123456789abcdef";
  const std::string bytes = EncodeBundle(*model);
  EXPECT_EQ(static_cast<uint8_t>(bytes[15]), 5) << "minor version byte";
  EXPECT_NE(bytes.find("checkout-0"), std::string::npos);
  std::vector<std::string> warnings;
  auto back = DecodeBundle(bytes.data(), bytes.size(), {}, &warnings);
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_TRUE(warnings.empty());
  EXPECT_EQ(back->group.labels, model->group.labels);
  EXPECT_EQ(back->group.hash, "0123456789abcdef");
  // The forest and scores are the pooled encoding's: the group only labels the bundle.
  EXPECT_EQ(back->model_version, pooled_back->model_version);

  Model bad = *model;
  bad.group.hash = "0123456789ABCDEF";
  std::string b = EncodeBundle(bad);
  auto r = DecodeBundle(b.data(), b.size());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kCorrupt);
  EXPECT_NE(r.status().message().find("group.hash"), std::string::npos) << r.status().message();
  bad = *model;
  bad.group.labels = {{"job", "a"}, {"detector", "fleet"}};
  b = EncodeBundle(bad);
  r = DecodeBundle(b.data(), b.size());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("group.labels"), std::string::npos) << r.status().message();
}

// The bundle checksum is zlib.crc32's, which a bundle written by Python carries: the catalogue's
// check value, then zlib itself over every length and alignment the eight-byte steps meet.
TEST(Crc32, IsZlibsCrc32) {
  EXPECT_EQ(Crc32("123456789", 9), 0xCBF43926u);
  EXPECT_EQ(Crc32("", 0), 0u);
  std::mt19937 gen(7);
  std::string bytes(400000 + 16, '\0');
  for (char& b : bytes) b = static_cast<char>(gen() & 0xFF);
  const auto* p = reinterpret_cast<const Bytef*>(bytes.data());
  for (size_t offset = 0; offset < 8; ++offset) {
    for (size_t size = 0; size < 40; ++size) {
      ASSERT_EQ(Crc32(bytes.data() + offset, size), crc32(0L, p + offset, static_cast<uInt>(size)))
          << offset << " " << size;
    }
  }
  EXPECT_EQ(Crc32(bytes.data() + 3, 400000), crc32(0L, p + 3, 400000u));
}

}  // namespace
}  // namespace isoscope
