// model: per: group in the daemon (group_models.h): each group scored by its own bundle when
// one loads, by the pooled model otherwise; refused bundles (truncated, another group's, a
// pooled one) never drop a group; the gauge and the views say which model scored what.
#include "group_models.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <optional>

#include "daemon.h"
#include "file_io.h"
#include "isoscope/bundle.h"
#include "shard.h"
#include "support/exporter_values.h"
#include "support/small_model.h"

namespace isoscope::native {
namespace {

// Sunday 2026-01-04 03:00 UTC: outside the default deploy windows.
constexpr TimeMs kNow = 1767495600000;

PromSample Sample(const std::string& job, double value) {
  PromSample s;
  s.labels = {{"job", job}};
  s.time = kNow;
  s.value = value;
  return s;
}

// The group hash of {detector="checkout", job=J}, written out as tools/shard_hash.py does
// (shard.h's spec): FNV-1a 64 over "detector=checkout" 0xFF "job=J".
uint64_t HashOf(const std::string& job) {
  const std::string bytes = "detector=checkout\xffjob=" + job;
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return h;
}

class GroupModelsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/isoscope_groups_XXXXXX";
    root_ = mkdtemp(tmpl);
    config_.models_dir = root_ + "/models";
    DetectorConfig d;
    d.name = "checkout";
    d.queries = {{"latency", "latency_q"}, {"errors", "errors_q"}};
    d.group_by = {"job"};
    d.interval_ms = 10'000;
    d.per_group = true;
    config_.detectors.push_back(d);
    registry_ = std::make_shared<prometheus::Registry>();
    metrics_ = std::make_shared<ExporterMetrics>(registry_);
    // Four groups at levels 1x, 100x, 10000x of the pooled model's history (a: 100 +- 30).
    answers_["latency_q"] = {Sample("a", 120), Sample("b", 9500), Sample("c", 1.2e6),
                             Sample("d", 110)};
    answers_["errors_q"] = {Sample("a", 0.011), Sample("b", 0.012), Sample("c", 0.011),
                            Sample("d", 0.01)};
    daemon_ = std::make_unique<Daemon>(
        config_,
        [this](const std::string& q, TimeMs) -> Result<std::vector<PromSample>> {
          return answers_[q];
        },
        metrics_,
        Logger([this](const std::string& level, const std::string& msg, const LogFields& f) {
          std::string line = level + " " + msg;
          for (const auto& [k, v] : f) line += " " + k + "=" + v;
          logs_.push_back(line);
        }));
  }
  void TearDown() override { std::system(("rm -rf " + root_).c_str()); }

  // A model of the small history with latency scaled by `scale` (a group's level).
  Model Train(double scale, uint32_t seed) {
    auto h = testing::MakeSmallHistory();
    for (double& a : h.a) a *= scale;
    FeatureSpec spec;
    spec.inputs = {"latency", "errors"};
    spec.derived = {{DerivedFeature::Kind::kHourOfWeek}, {DerivedFeature::Kind::kIsDeployWindow}};
    TrainOptions options;
    options.params.n_estimators = 20;
    options.params.random_state = seed;
    options.params.contamination = Contamination::Fraction(0.1);
    options.contamination_explicit = true;
    options.created_ms = h.times.back();
    auto m = TrainModel(spec, h.times.data(), {h.a.data(), h.b.data()}, h.times.size(), options);
    EXPECT_TRUE(m.ok()) << m.status().ToString();
    return *m;
  }
  // Installs `m` as group `job`'s model (labels and hash inside, as train writes them).
  std::string InstallGroup(const std::string& job, Model m, uint64_t dir_hash = 0) {
    m.group.labels = {{"detector", "checkout"}, {"job", job}};
    m.group.hash = BundleStore::GroupDirName(HashOf(job));
    BundleStore store =
        BundleStore::ForGroup(config_.models_dir, "checkout", dir_hash ? dir_hash : HashOf(job));
    const std::string bytes = EncodeBundle(m);
    EXPECT_TRUE(store.Install(m.model_version, m.info.created_ms, bytes, "{}", 5, nullptr).ok());
    return bytes;
  }
  // anomaly_score of `job` as exported.
  std::optional<double> Score(const std::string& job) {
    return Value(*metrics_, "anomaly_score", {{"detector", "checkout"}, {"job", job}});
  }
  // The score the bundle `bytes` gives `job`'s row at kNow, decoded and scored on its own.
  double ScoreWith(const std::string& bytes, double latency, double errors) {
    auto m = DecodeBundle(bytes.data(), bytes.size());
    EXPECT_TRUE(m.ok()) << m.status().ToString();
    auto scorer = ModelScorer::Create(*m);
    const double x[4] = {latency, errors, static_cast<double>(HourOfWeek(kNow)), 0};
    return scorer->ScoreFeatures(x).anomaly_score;
  }

  std::string root_;
  Config config_;
  std::shared_ptr<prometheus::Registry> registry_;
  std::shared_ptr<ExporterMetrics> metrics_;
  std::map<std::string, std::vector<PromSample>> answers_;
  std::unique_ptr<Daemon> daemon_;
  std::vector<std::string> logs_;
};

TEST_F(GroupModelsTest, EachGroupIsScoredByItsOwnModelElseThePooledOne) {
  const Model pooled = Train(1, 42);
  const std::string pooled_bytes = EncodeBundle(pooled);
  ASSERT_TRUE(
      BundleStore(config_.models_dir, "checkout")
          .Install(pooled.model_version, pooled.info.created_ms, pooled_bytes, "{}", 5, nullptr)
          .ok());
  const std::string a = InstallGroup("a", Train(1, 7));
  const std::string b = InstallGroup("b", Train(80, 7));
  const std::string c = InstallGroup("c", Train(10000, 7));
  daemon_->PollReloads(false);
  daemon_->RunCycle(0, kNow);
  // Expected: each row scored by the bundle that should score it, on its own.
  EXPECT_DOUBLE_EQ(*Score("a"), ScoreWith(a, 120, 0.011));
  EXPECT_DOUBLE_EQ(*Score("b"), ScoreWith(b, 9500, 0.012));
  EXPECT_DOUBLE_EQ(*Score("c"), ScoreWith(c, 1.2e6, 0.011));
  EXPECT_DOUBLE_EQ(*Score("d"), ScoreWith(pooled_bytes, 110, 0.01));  // no bundle: pooled
  // The test discriminates: the pooled model would score b and c otherwise.
  EXPECT_NE(*Score("b"), ScoreWith(pooled_bytes, 9500, 0.012));
  EXPECT_NE(*Score("a"), ScoreWith(pooled_bytes, 120, 0.011));
  EXPECT_EQ(
      Value(*metrics_, "isoscope_group_models", {{"detector", "checkout"}, {"source", "group"}}),
      3.0);
  EXPECT_EQ(
      Value(*metrics_, "isoscope_group_models", {{"detector", "checkout"}, {"source", "pooled"}}),
      1.0);
  auto views = daemon_->GroupModelViews(0);
  ASSERT_TRUE(views);
  ASSERT_EQ(views->size(), 4u);
  for (const GroupModelView& v : *views) {
    const std::string job = v.labels.at("job");
    EXPECT_EQ(v.hash, HashOf(job)) << job;
    EXPECT_EQ(v.own_model, job != "d") << job;
    EXPECT_EQ(v.reason.empty(), job != "d") << job << " " << v.reason;
  }
  std::string reason;
  auto served = daemon_->GroupActive(0, HashOf("b"), &reason);
  ASSERT_TRUE(served);
  // A group's model keeps no copy of its bytes (thousands per daemon): the file it came from.
  EXPECT_EQ(served->bytes, nullptr);
  auto file = ReadFile(served->path);
  ASSERT_TRUE(file.ok());
  EXPECT_EQ(*file, b);
  EXPECT_TRUE(reason.empty());
  served = daemon_->GroupActive(0, HashOf("d"), &reason);
  EXPECT_EQ(*served->bytes, pooled_bytes);
  EXPECT_NE(reason.find("no group model"), std::string::npos) << reason;
}

TEST_F(GroupModelsTest, BadGroupBundlesAreRefusedAndTheGroupIsStillScored) {
  const Model pooled = Train(1, 42);
  const std::string pooled_bytes = EncodeBundle(pooled);
  ASSERT_TRUE(
      BundleStore(config_.models_dir, "checkout")
          .Install(pooled.model_version, pooled.info.created_ms, pooled_bytes, "{}", 5, nullptr)
          .ok());
  const std::string a = InstallGroup("a", Train(1, 7));
  const std::string b = InstallGroup("b", Train(80, 7));
  InstallGroup("a", Train(1, 9), HashOf("c"));  // a's bundle in c's directory: foreign
  {
    // A pooled bundle (no group labels) in d's directory.
    BundleStore store = BundleStore::ForGroup(config_.models_dir, "checkout", HashOf("d"));
    ASSERT_TRUE(store.Install(pooled.model_version, 0, pooled_bytes, "{}", 5, nullptr).ok());
  }
  {
    // a's next version fails its canary check (an expectation changed after training).
    Model bad = Train(1, 13);
    bad.canaries.at(0).anomaly_score += 0.01;
    InstallGroup("a", bad);
  }
  daemon_->PollReloads(false);
  daemon_->RunCycle(0, kNow);
  EXPECT_DOUBLE_EQ(*Score("b"), ScoreWith(b, 9500, 0.012));
  EXPECT_DOUBLE_EQ(*Score("c"), ScoreWith(pooled_bytes, 1.2e6, 0.011));
  EXPECT_DOUBLE_EQ(*Score("d"), ScoreWith(pooled_bytes, 110, 0.01));
  // a never had a good model loaded: the pooled one scores it.
  EXPECT_DOUBLE_EQ(*Score("a"), ScoreWith(pooled_bytes, 120, 0.011));
  EXPECT_EQ(Value(*metrics_, "isoscope_reload_errors_total", {{"detector", "checkout"}}), 3.0);
  bool canary_logged = false;
  for (const std::string& l : logs_) {
    canary_logged = canary_logged || (l.find("group model refused") != std::string::npos &&
                                      l.find("canary") != std::string::npos);
  }
  EXPECT_TRUE(canary_logged);
  // a's good version again: loaded at the next look.
  InstallGroup("a", Train(1, 7));
  daemon_->PollReloads(false);
  daemon_->RunCycle(0, kNow + 5'000);
  EXPECT_DOUBLE_EQ(*Score("a"), ScoreWith(a, 120, 0.011));

  // b's next version is truncated: refused, b keeps its last good model.
  BundleStore store_b = BundleStore::ForGroup(config_.models_dir, "checkout", HashOf("b"));
  Model b2 = Train(80, 11);
  b2.group.labels = {{"detector", "checkout"}, {"job", "b"}};
  b2.group.hash = BundleStore::GroupDirName(HashOf("b"));
  const std::string b2_bytes = EncodeBundle(b2);
  ASSERT_TRUE(store_b
                  .Install(b2.model_version, b2.info.created_ms,
                           b2_bytes.substr(0, b2_bytes.size() / 2), "{}", 5, nullptr)
                  .ok());
  daemon_->PollReloads(false);
  daemon_->RunCycle(0, kNow + 10'000);
  EXPECT_DOUBLE_EQ(*Score("b"), ScoreWith(b, 9500, 0.012));
  EXPECT_EQ(Value(*metrics_, "isoscope_reload_errors_total", {{"detector", "checkout"}}), 4.0);
  bool logged = false;
  for (const std::string& l : logs_) {
    logged = logged || (l.find("group model refused") != std::string::npos &&
                        l.find("truncated") != std::string::npos);
  }
  EXPECT_TRUE(logged);
  // Rolled back (the store's rollback on a group directory): the good version again, loaded.
  // (a truncated latest has no readable creation time: name the version to go back to)
  auto b_model = DecodeBundle(b.data(), b.size());
  ASSERT_TRUE(b_model.ok());
  auto back = store_b.Rollback(b_model->model_version);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  ASSERT_TRUE(
      store_b.Install(b2.model_version, b2.info.created_ms, b2_bytes, "{}", 5, nullptr).ok());
  daemon_->PollReloads(false);
  daemon_->RunCycle(0, kNow + 20'000);
  EXPECT_DOUBLE_EQ(*Score("b"), ScoreWith(b2_bytes, 9500, 0.012));
  EXPECT_DOUBLE_EQ(*Score("a"), ScoreWith(a, 120, 0.011));
  // Every group scored in every cycle: none dropped.
  for (const char* job : {"a", "b", "c", "d"}) EXPECT_TRUE(Score(job).has_value()) << job;
}

TEST_F(GroupModelsTest, AShardLoadsOnlyItsGroups) {
  const Model pooled = Train(1, 42);
  ASSERT_TRUE(BundleStore(config_.models_dir, "checkout")
                  .Install(pooled.model_version, 0, EncodeBundle(pooled), "{}", 5, nullptr)
                  .ok());
  for (const char* job : {"a", "b", "c", "d"}) InstallGroup(job, Train(1, 7));
  auto shard = ParseShard("1/2");
  ASSERT_TRUE(shard.ok());
  GroupModels groups(config_.models_dir, "checkout", *shard, Logger([](auto&&...) {}));
  int loads = 0;
  groups.Poll(false,
              [&](const BundleStore&, const std::string&,
                  const std::string&) -> Result<std::shared_ptr<const ActiveModel>> {
                ++loads;
                return Status(ErrorCode::kBadInput, "not needed");
              });
  int mine = 0;
  for (const char* job : {"a", "b", "c", "d"}) mine += HashOf(job) % 2 == 1 ? 1 : 0;
  EXPECT_EQ(loads, mine);
  EXPECT_EQ(groups.Snapshot()->size(), static_cast<size_t>(mine));
}

}  // namespace
}  // namespace isoscope::native
