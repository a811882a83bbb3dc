#include "bundle_store.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <map>

#include "file_io.h"
#include "isoscope/bundle.h"
#include "support/small_model.h"

namespace isoscope::native {
namespace {

class BundleStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/isoscope_store_XXXXXX";
    root_ = mkdtemp(tmpl);
  }
  void TearDown() override { std::system(("rm -rf " + root_).c_str()); }

  // A distinct model per call: another seed and a later creation time.
  std::pair<std::string, std::string> NewModel(int i) {
    auto h = testing::MakeSmallHistory();
    FeatureSpec spec;
    spec.inputs = {"latency", "errors"};
    spec.derived.clear();
    TrainOptions options;
    options.params.n_estimators = 5;
    options.params.random_state = static_cast<uint32_t>(i);
    options.contamination_explicit = true;
    options.params.contamination = Contamination::Fraction(0.02);
    options.created_ms = h.times.back() + i * kHourMs;
    auto m = TrainModel(spec, nullptr, {h.a.data(), h.b.data()}, h.times.size(), options);
    EXPECT_TRUE(m.ok());
    return {m->model_version, EncodeBundle(*m)};
  }

  std::string root_;
};

TEST_F(BundleStoreTest, CandidateLeavesLatestAndPromoteMovesIt) {
  BundleStore store(root_ + "/models", "checkout");
  auto [v0, b0] = NewModel(0);
  auto [v1, b1] = NewModel(1);
  ASSERT_TRUE(store.Install(v0, 0, b0, "{}", 5, nullptr).ok());
  EXPECT_EQ(store.Candidate().status().code(), ErrorCode::kNotFound);
  ASSERT_TRUE(store.InstallCandidate(v1, b1, "{}", 5, nullptr).ok());
  EXPECT_EQ(*store.Latest(), v0);  // the candidate is not live
  EXPECT_EQ(*store.Candidate(), v1);
  // A symlink, as latest: readlink gives the bundle's name in the same directory.
  char target[256] = {};
  ASSERT_GT(::readlink(store.CandidatePath().c_str(), target, sizeof target - 1), 0);
  EXPECT_EQ(std::string(target), v1 + ".bundle");
  auto list = store.List();
  ASSERT_TRUE(list.ok());
  for (const StoredVersion& v : *list) {
    EXPECT_EQ(v.is_candidate, v.version == v1) << v.version;
    EXPECT_EQ(v.is_latest, v.version == v0) << v.version;
  }
  // Another version than the one decided on is refused; then the right one is promoted.
  EXPECT_EQ(store.Promote(v0).status().code(), ErrorCode::kInvalidArgument);
  auto promoted = store.Promote(v1);
  ASSERT_TRUE(promoted.ok()) << promoted.status().ToString();
  EXPECT_EQ(*promoted, v1);
  EXPECT_EQ(*store.Latest(), v1);
  EXPECT_EQ(store.Candidate().status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(store.Promote("").status().code(), ErrorCode::kNotFound);  // nothing left
}

TEST_F(BundleStoreTest, PromoteRefusesADamagedCandidateAndLatestStays) {
  BundleStore store(root_ + "/models", "checkout");
  auto [v0, b0] = NewModel(0);
  auto [v1, b1] = NewModel(1);
  ASSERT_TRUE(store.Install(v0, 0, b0, "{}", 5, nullptr).ok());
  ASSERT_TRUE(store.InstallCandidate(v1, b1, "{}", 5, nullptr).ok());
  // One flipped byte in the body: the header's CRC no longer matches.
  std::string bad = b1;
  bad[bad.size() - 10] = static_cast<char>(bad[bad.size() - 10] ^ 0x5a);
  ASSERT_TRUE(WriteFileAtomic(store.BundlePath(v1), bad).ok());
  auto promoted = store.Promote("");
  ASSERT_FALSE(promoted.ok());
  EXPECT_EQ(promoted.status().code(), ErrorCode::kCorrupt) << promoted.status().ToString();
  EXPECT_NE(promoted.status().message().find("refusing to promote " + v1), std::string::npos);
  EXPECT_EQ(*store.Latest(), v0);
  EXPECT_EQ(*store.Candidate(), v1);  // still there, to look at
}

TEST_F(BundleStoreTest, PruningKeepsTheCandidate) {
  BundleStore store(root_ + "/models", "checkout");
  auto [v0, b0] = NewModel(0);
  ASSERT_TRUE(store.Install(v0, 0, b0, "{}", 1, nullptr).ok());
  auto [v1, b1] = NewModel(1);
  ASSERT_TRUE(store.InstallCandidate(v1, b1, "{}", 1, nullptr).ok());
  // keep 1: the newest (the candidate) is kept, and so is the older latest.
  auto [v2, b2] = NewModel(2);
  std::vector<std::string> pruned;
  ASSERT_TRUE(store.Install(v2, 0, b2, "{}", 1, &pruned).ok());
  EXPECT_TRUE(pruned.size() == 1 && pruned[0] == v0) << pruned.size();
  struct stat st {};
  EXPECT_EQ(::stat(store.BundlePath(v1).c_str(), &st), 0);  // the candidate survived
  ASSERT_TRUE(store.ClearCandidate().ok());
  EXPECT_EQ(store.Candidate().status().code(), ErrorCode::kNotFound);
  EXPECT_TRUE(store.ClearCandidate().ok());  // clearing nothing is fine
}

TEST_F(BundleStoreTest, InstallPointsLatestAndPrunesOldVersions) {
  BundleStore store(root_ + "/models", "checkout");
  std::vector<std::string> versions;
  for (int i = 0; i < 7; ++i) {
    auto [version, bytes] = NewModel(i);
    versions.push_back(version);
    std::vector<std::string> pruned;
    ASSERT_TRUE(store.Install(version, 0, bytes, "{}", 5, &pruned).ok());
    EXPECT_EQ(*store.Latest(), version);
    EXPECT_EQ(pruned.size(), i >= 5 ? 1u : 0u);
  }
  auto list = store.List();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 5u);
  EXPECT_EQ(list->front().version, versions.back());
  EXPECT_TRUE(list->front().is_latest);
  EXPECT_EQ(list->back().version, versions[2]);
  EXPECT_NE(access(store.BundlePath(versions[0]).c_str(), F_OK), 0);
  EXPECT_EQ(access((store.dir() + "/" + versions[6] + ".report.json").c_str(), F_OK), 0);
  // `latest` is a symlink to the bundle itself, so tools can open it directly.
  auto bytes = ReadFile(store.LatestPath());
  ASSERT_TRUE(bytes.ok());
  EXPECT_TRUE(DecodeBundle(bytes->data(), bytes->size()).ok());
}

TEST_F(BundleStoreTest, RollbackToPreviousAndToANamedVersion) {
  BundleStore store(root_, "payments");
  std::vector<std::string> versions;
  for (int i = 0; i < 3; ++i) {
    auto [version, bytes] = NewModel(i);
    versions.push_back(version);
    ASSERT_TRUE(store.Install(version, 0, bytes, "{}", 5, nullptr).ok());
  }
  EXPECT_EQ(*store.Rollback(""), versions[1]);
  EXPECT_EQ(*store.Latest(), versions[1]);
  EXPECT_EQ(*store.Rollback(""), versions[0]);
  EXPECT_FALSE(store.Rollback("").ok()) << "nothing older than the oldest";
  EXPECT_EQ(*store.Rollback(versions[2]), versions[2]);
  auto missing = store.Rollback("20200101-deadbeef");
  EXPECT_EQ(missing.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(missing.status().message().find(versions[0]), std::string::npos);
}

TEST_F(BundleStoreTest, RollbackRefusesADamagedBundle) {
  BundleStore store(root_, "api");
  auto [v0, b0] = NewModel(0);
  auto [v1, b1] = NewModel(1);
  ASSERT_TRUE(store.Install(v0, 0, b0, "{}", 5, nullptr).ok());
  ASSERT_TRUE(store.Install(v1, 0, b1, "{}", 5, nullptr).ok());
  std::string damaged = b0;
  damaged[damaged.size() / 2] ^= 0x40;
  ASSERT_TRUE(WriteFileAtomic(store.BundlePath(v0), damaged).ok());
  auto r = store.Rollback(v0);
  EXPECT_EQ(r.status().code(), ErrorCode::kCorrupt);
  EXPECT_EQ(*store.Latest(), v1) << "latest must not move to a bad bundle";
}

TEST_F(BundleStoreTest, NoModelYetIsAClearError) {
  BundleStore store(root_, "empty");
  auto latest = store.Latest();
  ASSERT_FALSE(latest.ok());
  EXPECT_NE(latest.status().message().find("run isoscope train"), std::string::npos);
  EXPECT_TRUE(store.List()->empty());
}

TEST(BundleStoreName, NamesCannotEscapeTheModelsDirectory) {
  for (const char* bad : {"", "../etc", "a/b", "..", ".hidden", "x y",
                          "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}) {
    EXPECT_FALSE(BundleStore::ValidateName(bad).ok()) << bad;
  }
  for (const char* good : {"checkout", "api-gateway_2", "A"}) {
    EXPECT_TRUE(BundleStore::ValidateName(good).ok()) << good;
  }
  BundleStore store("/tmp", "../escape");
  EXPECT_EQ(store.Install("v", 0, "x", "{}", 5, nullptr).code(), ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace isoscope::native

namespace isoscope::native {
namespace {

// Listing with odd entries in the directory: a FIFO, a symlink out, a non-UTF-8 name and a
// 2 GB sparse file named *.bundle. It returns at once, lists only version names of regular
// files, and says which versions have their report.
TEST_F(BundleStoreTest, ListSkipsOddEntriesAndMarksReports) {
  BundleStore store(root_ + "/models", "checkout");
  auto [version, bytes] = NewModel(1);
  ASSERT_TRUE(store.Install(version, 0, bytes, "{}", 5, nullptr).ok());
  const std::string dir = store.dir();
  ASSERT_EQ(::mkfifo((dir + "/fifo.bundle").c_str(), 0600), 0);
  ASSERT_EQ(::symlink("/etc/passwd", (dir + "/evil.bundle").c_str()), 0);
  ASSERT_TRUE(WriteFileAtomic(dir + "/x\xff.bundle", bytes).ok());
  ASSERT_TRUE(WriteFileAtomic(dir + "/noreport.bundle", bytes).ok());
  ASSERT_TRUE(WriteFileAtomic(dir + "/sparse.bundle", "").ok());
  ASSERT_EQ(::truncate((dir + "/sparse.bundle").c_str(), off_t{2} << 30), 0);
  auto list = store.List();
  ASSERT_TRUE(list.ok());
  std::map<std::string, bool> listed;  // version -> has_report
  for (const StoredVersion& v : *list) listed[v.version] = v.has_report;
  EXPECT_EQ(listed,
            (std::map<std::string, bool>{{version, true}, {"noreport", false}, {"sparse", false}}));
  auto evil = store.ReadVersion("evil");
  ASSERT_FALSE(evil.ok());
  EXPECT_NE(evil.status().message().find("symbolic link"), std::string::npos);
  EXPECT_FALSE(store.ReadVersion("fifo").ok());
  EXPECT_FALSE(store.ReadVersion("../checkout/" + version).ok());
  EXPECT_EQ(*store.ReadVersion(version), bytes);
}

// Install writes the report before the bundle, so a failure in between leaves no bundle that
// looks complete; and it removes temp files that a killed install left behind.
TEST_F(BundleStoreTest, InstallWritesTheReportFirstAndCleansOrphans) {
  BundleStore store(root_ + "/models", "checkout");
  auto [v1, b1] = NewModel(1);
  ASSERT_TRUE(store.Install(v1, 0, b1, "{}", 5, nullptr).ok());
  const pid_t child = fork();
  if (child == 0) _exit(0);
  ASSERT_EQ(waitpid(child, nullptr, 0), child);
  const std::string orphan = store.dir() + "/x.bundle.tmp." + std::to_string(child);
  ASSERT_TRUE(WriteFileAtomic(orphan, "half").ok());
  // The bundle's place is taken by a directory: its write fails after the report's.
  auto [v2, b2] = NewModel(2);
  ASSERT_EQ(::mkdir(store.BundlePath(v2).c_str(), 0755), 0);
  ASSERT_EQ(::mkdir((store.BundlePath(v2) + "/x").c_str(), 0755), 0);
  EXPECT_FALSE(store.Install(v2, 0, b2, "{}", 5, nullptr).ok());
  EXPECT_NE(::access((store.dir() + "/" + v2 + ".report.json").c_str(), F_OK), 0);
  EXPECT_NE(::access(orphan.c_str(), F_OK), 0);
  EXPECT_EQ(*store.Latest(), v1);
}

}  // namespace
}  // namespace isoscope::native
