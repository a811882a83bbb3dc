// The commands called in process: each returns a Status (the one error edge is main(), which
// prints it and exits with ExitCodeFor); the end-to-end script runs the binary.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "commands.h"
#include "file_io.h"

namespace isoscope::native {
namespace {

const std::string kFixtures = std::string(ISOSCOPE_SOURCE_DIR) + "/tests/fixtures";

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/isoscope_commands_XXXXXX";
    path_ = mkdtemp(tmpl);
  }
  ~TempDir() { std::system(("rm -rf " + path_).c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// README.md, "Exit codes": 0 ok, 1 the work failed, 2 wrong usage, 3 a damaged, foreign, too
// new or canary-failing model file.
TEST(ExitCodeFor, TheReadmeTable) {
  EXPECT_EQ(ExitCodeFor(Status::Ok()), 0);
  EXPECT_EQ(ExitCodeFor(Status(ErrorCode::kBadInput, "")), 1);
  EXPECT_EQ(ExitCodeFor(Status(ErrorCode::kInternal, "")), 1);
  EXPECT_EQ(ExitCodeFor(Status(ErrorCode::kInvalidArgument, "")), 2);
  for (ErrorCode c : {ErrorCode::kTruncated, ErrorCode::kCorrupt, ErrorCode::kForeign,
                      ErrorCode::kUnsupportedVersion, ErrorCode::kCanaryMismatch}) {
    EXPECT_EQ(ExitCodeFor(Status(c, "")), 3);
  }
}

TEST(RunCheckConfig, TheExampleConfigPasses) {
  ::testing::internal::CaptureStdout();
  const Status s = RunCheckConfig({kFixtures + "/isoscope.yml"});
  const std::string out = ::testing::internal::GetCapturedStdout();
  EXPECT_TRUE(s.ok()) << s.message();
  EXPECT_NE(out.find("OK (2 detectors: checkout, queue)"), std::string::npos) << out;
}

TEST(RunCheckConfig, ProblemsAreAUsageErrorCountedInTheMessage) {
  ::testing::internal::CaptureStderr();
  const Status s = RunCheckConfig({kFixtures + "/bad_several.yml"});
  const std::string listed = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(s.code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(ExitCodeFor(s), 2);
  EXPECT_EQ(s.message(), kFixtures + "/bad_several.yml: 13 problems");
  // The problems themselves are the command's report, one line each.
  size_t lines = 0;
  for (char c : listed) lines += c == '\n' ? 1 : 0;
  EXPECT_EQ(lines, 13u) << listed;
}

TEST(RunInspect, AMissingOrForeignFileIsAnErrorNotAPrint) {
  TempDir dir;
  ::testing::internal::CaptureStderr();
  const Status missing = RunInspect({dir.path() + "/none.bundle", false});
  ASSERT_TRUE(
      WriteFileAtomic(dir.path() + "/text.bundle", "not a bundle at all, just text\n").ok());
  const Status foreign = RunInspect({dir.path() + "/text.bundle", false});
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");  // main prints, once
  EXPECT_FALSE(missing.ok());
  EXPECT_EQ(ExitCodeFor(missing), 1);
  EXPECT_NE(missing.message().find("none.bundle"), std::string::npos) << missing.message();
  EXPECT_EQ(ExitCodeFor(foreign), 3) << foreign.ToString();
}

TEST(RunTrain, BadFlagsAreUsageErrors) {
  TrainArgs args;
  args.csv = kFixtures + "/does_not_matter.csv";
  args.out = "/nonexistent/m.bundle";
  args.n_estimators = 0;
  const Status s = RunTrain(args);
  EXPECT_EQ(s.code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "--n-estimators must be between 1 and 100000");
  args.n_estimators = 10;
  args.contamination = "0.7";
  EXPECT_EQ(RunTrain(args).code(), ErrorCode::kInvalidArgument);
}

TEST(RunReplay, OneModelSourceOnly) {
  ReplayArgs args;
  args.bundle = "a.bundle";
  args.bundles = "dir";
  args.csv = "x.csv";
  const Status s = RunReplay(args);
  EXPECT_EQ(s.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(s.message().find("not both"), std::string::npos) << s.message();
  args.bundles.clear();
  args.for_duration = "3 minutes";
  EXPECT_EQ(RunReplay(args).message(), "--for: '3 minutes' is not a duration like 3m");
}

TEST(RunRules, AnUnknownDetectorNamesTheKnownOnes) {
  RulesArgs args;
  args.config = kFixtures + "/isoscope.yml";
  args.detector = "nope";
  const Status s = RunRules(args);
  EXPECT_EQ(s.code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "no detector 'nope' in " + args.config + " (it has: checkout, queue)");
}

}  // namespace
}  // namespace isoscope::native
