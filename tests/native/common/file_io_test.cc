#include "file_io.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

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

// `score --out /dev/null` once renamed a plain file over the device: a path that names a pipe
// or a device is written in place and stays what it was.
TEST(WriteFileAtomic, WritesIntoAPipeInPlaceAndLeavesItAPipe) {
  const std::string dir = TempDir();
  const std::string fifo = dir + "/pipe";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  const std::string got = dir + "/got";
  const pid_t reader = fork();
  ASSERT_GE(reader, 0);
  if (reader == 0) _exit(std::system(("cat '" + fifo + "' > '" + got + "'").c_str()) == 0 ? 0 : 1);
  ASSERT_TRUE(WriteFileAtomic(fifo, std::vector<std::string_view>{"hello ", "pipe\n"}).ok());
  int status = 0;
  ASSERT_EQ(waitpid(reader, &status, 0), reader);
  EXPECT_EQ(*ReadFile(got), "hello pipe\n");
  struct stat st {};
  ASSERT_EQ(stat(fifo.c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode));
  EXPECT_NE(access((fifo + ".tmp." + std::to_string(getpid())).c_str(), F_OK), 0);
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

TEST(AtomicFileWriter, ThePathIsTheOldFileUntilCommitThenTheWholeNewOne) {
  const std::string dir = TempDir();
  const std::string path = dir + "/scored.csv";
  const std::string tmp = path + ".tmp." + std::to_string(getpid());
  ASSERT_TRUE(WriteFileAtomic(path, "old\n").ok());
  {
    AtomicFileWriter file;
    ASSERT_TRUE(file.Open(path).ok());
    ASSERT_TRUE(file.Append("row,score\n").ok());
    ASSERT_TRUE(file.Append(std::string(1 << 20, 'x')).ok());
    EXPECT_EQ(*ReadFile(path), "old\n");  // written so far, but not in place yet
    EXPECT_EQ(access(tmp.c_str(), F_OK), 0);
  }  // given up before Commit (a failed score): the old file stays, no temp is left
  EXPECT_EQ(*ReadFile(path), "old\n");
  EXPECT_NE(access(tmp.c_str(), F_OK), 0);
  AtomicFileWriter file;
  ASSERT_TRUE(file.Open(path).ok());
  ASSERT_TRUE(file.Append("row,").ok());
  ASSERT_TRUE(file.Append("score\n").ok());
  ASSERT_TRUE(file.Commit().ok());
  EXPECT_EQ(*ReadFile(path), "row,score\n");
  EXPECT_NE(access(tmp.c_str(), F_OK), 0);
  EXPECT_FALSE(file.Append("late").ok());  // committed: closed
  std::system(("rm -rf " + dir).c_str());
}

// ReadFile reads into the room it reserved for the file: every size around its steps comes
// back byte for byte, and a file at the limit is read while one a byte over is refused.
TEST(ReadFile, ReadsEverySizeWholeAndHoldsToTheLimit) {
  const std::string dir = TempDir();
  for (size_t size : {size_t{0}, size_t{1}, size_t{15}, size_t{16}, size_t{65535}, size_t{65536},
                      size_t{65537}, size_t{200003}}) {
    std::string bytes(size, '\0');
    for (size_t i = 0; i < size; ++i) bytes[i] = static_cast<char>((i * 131 + size) % 251);
    const std::string path = dir + "/f" + std::to_string(size);
    ASSERT_TRUE(WriteFileAtomic(path, bytes).ok());
    auto read = ReadFile(path);
    ASSERT_TRUE(read.ok()) << read.status().ToString();
    EXPECT_EQ(*read, bytes) << size;
    if (size > 0) {
      EXPECT_TRUE(ReadSmallFile(path, size).ok()) << size;
      EXPECT_FALSE(ReadSmallFile(path, size - 1).ok()) << size;
    }
  }
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

namespace isoscope::native {
namespace {

TEST(ReadFile, RefusesWhatIsNotARegularFileAtOnce) {
  const std::string dir = TempDir();
  const std::string fifo = dir + "/fifo";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  for (const std::string& path : {std::string("/dev/zero"), fifo, dir}) {
    auto r = ReadFile(path);  // returns at once: no wait for a FIFO writer, no endless read
    ASSERT_FALSE(r.ok()) << path;
    EXPECT_EQ(r.status().code(), ErrorCode::kBadInput);
    EXPECT_NE(r.status().message().find("not a regular file"), std::string::npos) << path;
  }
  ASSERT_TRUE(WriteFileAtomic(dir + "/f", std::string(100, 'x')).ok());
  EXPECT_EQ(ReadFile(dir + "/f")->size(), 100u);
  EXPECT_FALSE(ReadFile(dir + "/f", ReadOptions{99, false}).ok());
  ASSERT_EQ(symlink((dir + "/f").c_str(), (dir + "/link").c_str()), 0);
  EXPECT_TRUE(ReadFile(dir + "/link").ok());
  auto nofollow = ReadFile(dir + "/link", ReadOptions{1000, true});
  ASSERT_FALSE(nofollow.ok());
  EXPECT_NE(nofollow.status().message().find("symbolic link"), std::string::npos);
  std::system(("rm -rf " + dir).c_str());
}

// The bundle header (core/BUNDLE_FORMAT.md: 26 bytes, body length big-endian at 22) decides
// how much is read: a 2 GB sparse file is refused without reading its body.
TEST(ReadBundleFile, SizeMustMatchTheHeaderBeforeTheBodyIsRead) {
  const std::string dir = TempDir();
  std::string header = std::string("\x95\xa8ISOSCOPE\xcd\x00\x01\xcd\x00\x02\xce", 17);
  header += std::string("\x00\x00\x00\x00", 4);      // CRC
  header += std::string("\xc6\x00\x00\x00\x04", 5);  // bin32 of 4 bytes
  ASSERT_EQ(header.size(), 26u);
  ASSERT_TRUE(WriteFileAtomic(dir + "/big.bundle", header).ok());
  ASSERT_EQ(truncate((dir + "/big.bundle").c_str(), off_t{2} << 30), 0);
  auto big = ReadBundleFile(dir + "/big.bundle");
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.status().code(), ErrorCode::kCorrupt);
  // 2 GiB minus the 30 bytes the header announces.
  EXPECT_NE(big.status().message().find("2147483618 unexpected bytes"), std::string::npos)
      << big.status().message();
  ASSERT_TRUE(WriteFileAtomic(dir + "/short.bundle", header + "ab").ok());
  EXPECT_EQ(ReadBundleFile(dir + "/short.bundle").status().code(), ErrorCode::kTruncated);
  ASSERT_TRUE(WriteFileAtomic(dir + "/exact.bundle", header + "abcd").ok());
  auto exact = ReadBundleFile(dir + "/exact.bundle");
  ASSERT_TRUE(exact.ok()) << exact.status().ToString();
  EXPECT_EQ(exact->size(), 30u);  // read whole; the checksum is DecodeBundle's to check
  ASSERT_TRUE(WriteFileAtomic(dir + "/zeros.bundle", std::string(64, '\0')).ok());
  EXPECT_EQ(ReadBundleFile(dir + "/zeros.bundle").status().code(), ErrorCode::kForeign);
  EXPECT_EQ(ReadBundleFile("/dev/zero").status().code(), ErrorCode::kBadInput);
  std::system(("rm -rf " + dir).c_str());
}

TEST(RemoveOrphanTemps, RemovesTempFilesOfDeadWritersOnly) {
  const std::string dir = TempDir();
  // A pid that no longer runs: a child that has exited and been reaped.
  const pid_t child = fork();
  if (child == 0) _exit(0);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  const std::string dead = dir + "/v.bundle.tmp." + std::to_string(child);
  const std::string mine = dir + "/v.report.json.tmp." + std::to_string(getpid());
  const std::string other = dir + "/notes.tmp.txt";
  for (const std::string& f : {dead, mine, other}) ASSERT_TRUE(WriteFileAtomic(f, "x").ok());
  EXPECT_EQ(RemoveOrphanTemps(dir), 1);
  EXPECT_NE(access(dead.c_str(), F_OK), 0);
  EXPECT_EQ(access(mine.c_str(), F_OK), 0);
  EXPECT_EQ(access(other.c_str(), F_OK), 0);
  std::system(("rm -rf " + dir).c_str());
}

TEST(Utf8, ValidatesAndEscapes) {
  EXPECT_TRUE(IsValidUtf8("latency_p95"));
  EXPECT_TRUE(IsValidUtf8("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"));  // é € 😀
  EXPECT_FALSE(IsValidUtf8("x\xff"));
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));          // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));      // surrogate U+D800
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\xe2\x82"));          // cut short
  EXPECT_EQ(EscapeBytes(std::string("a\xff\n\\b", 5)), "a\\xff\\x0a\\x5cb");
}

}  // namespace
}  // namespace isoscope::native
