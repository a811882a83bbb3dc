#include "file_io.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

namespace isoscope::native {
namespace {

std::string TempDir() {
  char tmpl[] = "/tmp/isoscope_io_XXXXXX";
  return mkdtemp(tmpl);
}

TEST(WriteFileAtomic, ReplacesWholeFileAndLeavesNoTemp) {
  const std::string dir = TempDir();
  const std::string path = dir + "/model.bundle";
  ASSERT_TRUE(WriteFileAtomic(path, "old").ok());
  ASSERT_TRUE(WriteFileAtomic(path, "new contents").ok());
  EXPECT_EQ(*ReadFile(path), "new contents");
  EXPECT_NE(access((path + ".tmp." + std::to_string(getpid())).c_str(), F_OK), 0);
  std::system(("rm -rf " + dir).c_str());
}

TEST(WriteFileAtomic, FailureKeepsTheOldFile) {
  const std::string dir = TempDir();
  const std::string path = dir + "/model.bundle";
  ASSERT_TRUE(WriteFileAtomic(path, "old").ok());
  // A directory in the way of the rename makes the last step fail.
  const std::string blocked = dir + "/blocked";
  ASSERT_EQ(mkdir(blocked.c_str(), 0755), 0);
  ASSERT_EQ(mkdir((blocked + "/x").c_str(), 0755), 0);
  const Status s = WriteFileAtomic(blocked, "new");
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("blocked"), std::string::npos);
  EXPECT_EQ(*ReadFile(path), "old");
  Status missing_dir = WriteFileAtomic(dir + "/no/such/dir/file", "x");
  EXPECT_FALSE(missing_dir.ok());
  EXPECT_NE(missing_dir.message().find("No such file"), std::string::npos);
  std::system(("rm -rf " + dir).c_str());
}

TEST(ReadSmallFile, RefusesDevicesFifosAndLargeFiles) {
  EXPECT_FALSE(ReadSmallFile("/dev/zero", 1024).ok());
  const std::string dir = TempDir();
  const std::string fifo = dir + "/fifo";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  auto r = ReadSmallFile(fifo, 1024);  // must return at once, not wait for a writer
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("not a regular file"), std::string::npos);
  ASSERT_TRUE(WriteFileAtomic(dir + "/big", std::string(2048, 'x')).ok());
  EXPECT_FALSE(ReadSmallFile(dir + "/big", 1024).ok());
  ASSERT_TRUE(WriteFileAtomic(dir + "/token", "secret\n").ok());
  EXPECT_EQ(*ReadSmallFile(dir + "/token", 1024), "secret\n");
  std::system(("rm -rf " + dir).c_str());
}

TEST(ReadFile, SaysWhichFileAndWhy) {
  auto r = ReadFile("/nonexistent/isoscope.csv");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("/nonexistent/isoscope.csv"), std::string::npos);
}

}  // namespace
}  // namespace isoscope::native
