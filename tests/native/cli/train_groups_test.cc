// train --config's per-group trainers (train_groups.h), on hand-made joined chunks: each group of
// the shard gets the model TrainModel fits on that group's rows alone (the in-memory path, which
// the golden corpus ties to scikit-learn), in models/<detector>/groups/<hash>/ with its labels;
// a group under min_rows and another shard's groups get none.
#include "train_groups.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "bundle_store.h"
#include "file_io.h"
#include "isoscope/bundle.h"

namespace isoscope::native {
namespace {

constexpr TimeMs kStart = 20458 * kDayMs;

// FNV-1a 64 of "detector=fleet" 0xFF "job=J" (shard.h's spec, written out here).
uint64_t HashOf(const std::string& job) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : "detector=fleet\xffjob=" + job) h = (h ^ c) * 0x100000001b3ull;
  return h;
}

// Group `job`'s values at row i (levels 1, 100, 10000 by group).
double Latency(int g, int i) {
  return std::pow(100.0, g) * (1 + 0.3 * std::sin(i / 20.0)) + (i * 7919 % 13) * 0.01;
}
double Errors(int g, int i) { return 0.01 * (g + 1) + (i % 11) * 1e-4; }

const std::vector<std::string> kJobs = {"a", "b", "c", "tiny"};
int RowsOf(size_t g) { return kJobs[g] == "tiny" ? 50 : 1500; }

// One chunk [from, to) of every group's rows, as JoinByGroup orders them: by group key, time.
JoinedRows Chunk(int from, int to) {
  JoinedRows j;
  j.series.resize(2);
  for (size_t g = 0; g < kJobs.size(); ++g) {
    j.groups.push_back("{job=\"" + kJobs[g] + "\"}");
    j.group_labels.push_back({{"job", kJobs[g]}});
    for (int i = from; i < std::min(to, RowsOf(g)); ++i) {
      j.times.push_back(kStart + i * kMinuteMs);
      j.group_of_row.push_back(static_cast<int32_t>(g));
      j.series[0].push_back(Latency(static_cast<int>(g), i));
      j.series[1].push_back(Errors(static_cast<int>(g), i));
    }
  }
  return j;
}

class TrainGroupsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/isoscope_train_groups_XXXXXX";
    root_ = mkdtemp(tmpl);
    det_.name = "fleet";
    det_.group_by = {"job"};
    det_.per_group = true;
    det_.group_n_estimators = 10;
    det_.group_max_samples = MaxSamples::Count(64);
    det_.min_rows = 100;
    det_.spec.inputs = {"latency", "errors"};
    det_.spec.derived = {{DerivedFeature::Kind::kHourOfWeek}};
    base_.params.n_estimators = 200;  // the pooled model's: replaced for groups
    base_.params.random_state = 7;
    base_.params.contamination = Contamination::Fraction(0.05);
    base_.contamination_explicit = true;
    base_.created_ms = kStart + 2 * kDayMs;
  }
  void TearDown() override { std::system(("rm -rf " + root_).c_str()); }

  // What train --config does: pass 1, then pass 2 (pulled again) and install per batch.
  GroupTrainSummary Train(const Shard& shard, size_t memory_bytes = size_t{1} << 30) {
    GroupTrainers t(det_, base_, shard, /*quiet=*/true, memory_bytes);
    FeedPass(t);
    batches_ = t.batches();
    do {
      FeedPass(t);
      t.InstallBatch(root_ + "/models");
    } while (t.NextBatch());
    return t.Summary(root_ + "/models");
  }
  void FeedPass(GroupTrainers& t) {
    for (int from = 0; from < 1500; from += 400) {  // four chunks
      const JoinedRows j = Chunk(from, from + 400);
      EXPECT_TRUE(t.Feed(j, TrainOptions{}).ok());
    }
    t.EndPass();
  }

  // TrainModel on group g's rows alone, with the group parameters.
  Model Reference(int g) {
    std::vector<TimeMs> times;
    std::vector<double> lat, err;
    for (int i = 0; i < RowsOf(static_cast<size_t>(g)); ++i) {
      times.push_back(kStart + i * kMinuteMs);
      lat.push_back(Latency(g, i));
      err.push_back(Errors(g, i));
    }
    TrainOptions o = base_;
    o.params.n_estimators = 10;
    o.params.max_samples = MaxSamples::Count(64);
    auto m = TrainModel(det_.spec, times.data(), {lat.data(), err.data()}, times.size(), o);
    EXPECT_TRUE(m.ok()) << m.status().ToString();
    return *m;
  }

  // Every group but tiny has, in its own directory, the model of its own rows.
  void ExpectEachGroupsOwnModel() {
    std::vector<std::string> expected;
    for (const char* job : {"a", "b", "c"})
      expected.push_back(BundleStore::GroupDirName(HashOf(job)));
    std::sort(expected.begin(), expected.end());
    auto dirs = BundleStore::ListGroups(root_ + "/models", "fleet");
    ASSERT_TRUE(dirs.ok());
    EXPECT_EQ(*dirs, expected);
    for (int g = 0; g < 3; ++g) {
      BundleStore store = BundleStore::ForGroup(root_ + "/models", "fleet", HashOf(kJobs[g]));
      auto latest = store.Latest();
      ASSERT_TRUE(latest.ok()) << latest.status().ToString();
      auto bytes = store.ReadVersion(*latest);
      ASSERT_TRUE(bytes.ok());
      auto m = DecodeBundle(bytes->data(), bytes->size());
      ASSERT_TRUE(m.ok()) << m.status().ToString();
      const Model ref = Reference(g);
      // Same scaler, forest and offset: the model version hashes exactly those.
      EXPECT_EQ(m->model_version, ref.model_version) << kJobs[g];
      EXPECT_EQ(m->offset, ref.offset) << kJobs[g];
      EXPECT_EQ(m->forest.trees.size(), 10u);
      EXPECT_EQ(m->info.rows_used, 1500);
      EXPECT_EQ(m->group.hash, BundleStore::GroupDirName(HashOf(kJobs[g])));
      const std::vector<std::pair<std::string, std::string>> labels = {{"detector", "fleet"},
                                                                       {"job", kJobs[g]}};
      EXPECT_EQ(m->group.labels, labels);
    }
  }

  std::string root_;
  size_t batches_ = 0;
  DetectorConfig det_;
  TrainOptions base_;
};

TEST_F(TrainGroupsTest, EachGroupGetsTheModelOfItsOwnRows) {
  const GroupTrainSummary s = Train(Shard{});
  EXPECT_EQ(batches_, 1u);
  EXPECT_EQ(s.trained, 3u);
  EXPECT_EQ(s.too_few_rows, 1u);  // tiny: 50 rows < min_rows 100
  EXPECT_EQ(s.failed, 0u);
  ExpectEachGroupsOwnModel();
  // The levels differ by orders of magnitude: so do the groups' scalers.
  EXPECT_NE(Reference(0).scaler.mean[0], Reference(2).scaler.mean[0]);
}

// Pass 2 in batches (each group's draws and sample are ~60 KB here: 10 trees x 64 rows, 1,500
// sampled rows, 2 features): the same models as one batch, every group in exactly one batch.
TEST_F(TrainGroupsTest, BatchesOfGroupsGiveEachGroupItsOwnModel) {
  const GroupTrainSummary s = Train(Shard{}, 100 * 1024);
  EXPECT_EQ(batches_, 3u);
  EXPECT_EQ(s.trained, 3u);
  EXPECT_EQ(s.too_few_rows, 1u);
  EXPECT_EQ(s.failed, 0u);
  ExpectEachGroupsOwnModel();
}

TEST_F(TrainGroupsTest, ABatchWhoseRowsChangedFallsBackAndTheOthersStillTrain) {
  GroupTrainers t(det_, base_, Shard{}, /*quiet=*/true, 100 * 1024);
  FeedPass(t);
  ASSERT_EQ(t.batches(), 3u);
  FeedPass(t);  // batch 1 (group a)
  t.InstallBatch(root_ + "/models");
  ASSERT_TRUE(t.NextBatch());
  // Batch 2 (group b) sees one chunk too few: its pass 2 does not match pass 1.
  for (int from = 0; from < 1200; from += 400) {
    ASSERT_TRUE(t.Feed(Chunk(from, from + 400), TrainOptions{}).ok());
  }
  t.EndPass();
  t.InstallBatch(root_ + "/models");
  ASSERT_TRUE(t.NextBatch());
  FeedPass(t);  // batch 3 (group c)
  t.InstallBatch(root_ + "/models");
  EXPECT_FALSE(t.NextBatch());
  const GroupTrainSummary s = t.Summary(root_ + "/models");
  EXPECT_EQ(s.trained, 2u);
  EXPECT_EQ(s.failed, 1u);
  auto dirs = BundleStore::ListGroups(root_ + "/models", "fleet");
  ASSERT_TRUE(dirs.ok());
  EXPECT_EQ(dirs->size(), 2u);
  EXPECT_EQ(std::count(dirs->begin(), dirs->end(), BundleStore::GroupDirName(HashOf("b"))), 0);
}

TEST_F(TrainGroupsTest, AShardTrainsOnlyItsGroups) {
  auto shard = ParseShard("1/2");
  ASSERT_TRUE(shard.ok());
  const GroupTrainSummary s = Train(*shard);
  size_t mine = 0, tiny_mine = HashOf("tiny") % 2 == 1 ? 1 : 0;
  std::vector<std::string> expected;
  for (const char* job : {"a", "b", "c"}) {
    if (HashOf(job) % 2 == 1) {
      ++mine;
      expected.push_back(BundleStore::GroupDirName(HashOf(job)));
    }
  }
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(s.trained, mine);
  EXPECT_EQ(s.too_few_rows, tiny_mine);
  EXPECT_EQ(s.other_shards, 4 - mine - tiny_mine);
  auto dirs = BundleStore::ListGroups(root_ + "/models", "fleet");
  ASSERT_TRUE(dirs.ok());
  EXPECT_EQ(*dirs, expected);
}

}  // namespace
}  // namespace isoscope::native
