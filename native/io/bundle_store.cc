#include "bundle_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <mutex>
#include <tuple>

#include "file_io.h"
#include "isoscope/bundle.h"

namespace isoscope::native {
namespace {

constexpr char kBundleSuffix[] = ".bundle";
constexpr char kReportSuffix[] = ".report.json";

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() > suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

Status Errno(const std::string& what, const std::string& path) {
  return Status(ErrorCode::kBadInput, what + " '" + path + "': " + std::strerror(errno));
}

// Version names as isoscope writes them (YYYYMMDD-hash, or names given to import): a file
// named otherwise (non-UTF-8 bytes, spaces) is not a version and is not listed.
bool IsVersionName(const std::string& v) {
  return !v.empty() && v.size() <= 128 && v[0] != '.' &&
         std::all_of(v.begin(), v.end(), [](char c) {
           return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '-' || c == '.';
         });
}

// Creation times of listed bundles by file identity: listing (GET /api/v1/detectors, every
// install) reads a bundle once, not at every request. A rewritten file changes identity.
class CreatedCache {
 public:
  using Key = std::tuple<dev_t, ino_t, int64_t, int64_t, off_t>;  // dev, ino, mtime, size
  bool Find(const Key& key, TimeMs* created) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = map_.find(key);
    if (it == map_.end()) return false;
    *created = it->second;
    return true;
  }
  void Put(const Key& key, TimeMs created) {
    std::lock_guard<std::mutex> lock(mu_);
    if (map_.size() >= 4096) map_.clear();  // bounded; a miss only costs one read
    map_[key] = created;
  }

 private:
  std::mutex mu_;
  std::map<Key, TimeMs> map_;
};

CreatedCache& Cache() {
  static CreatedCache cache;
  return cache;
}

// Makes renames and unlinks in `dir` durable.
void SyncDir(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

}  // namespace

BundleStore::BundleStore(std::string models_dir, std::string detector)
    : models_dir_(std::move(models_dir)),
      detector_(std::move(detector)),
      dir_(models_dir_ + "/" + detector_) {}

BundleStore BundleStore::ForGroup(std::string models_dir, std::string detector,
                                  uint64_t group_hash) {
  BundleStore store(std::move(models_dir), std::move(detector));
  store.group_ = GroupDirName(group_hash);
  store.dir_ = store.models_dir_ + "/" + store.detector_ + "/groups/" + store.group_;
  return store;
}

std::string BundleStore::GroupDirName(uint64_t group_hash) {
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(group_hash));
  return hex;
}

bool BundleStore::ParseGroupDirName(std::string_view name, uint64_t* group_hash) {
  if (name.size() != 16) return false;
  uint64_t h = 0;
  for (char c : name) {
    int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    if (v < 0) return false;
    h = h << 4 | static_cast<uint64_t>(v);
  }
  *group_hash = h;
  return true;
}

Result<std::vector<std::string>> BundleStore::ListGroups(const std::string& models_dir,
                                                         const std::string& detector) {
  Status valid = ValidateName(detector);
  if (!valid.ok()) return valid;
  const std::string dir = models_dir + "/" + detector + "/groups";
  std::vector<std::string> out;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) {
    if (errno == ENOENT) return out;
    return Errno("cannot list", dir);
  }
  while (const dirent* e = ::readdir(d)) {
    uint64_t h = 0;
    if (ParseGroupDirName(e->d_name, &h)) out.emplace_back(e->d_name);
  }
  ::closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

Status BundleStore::ValidateName(std::string_view detector) {
  const bool ok = !detector.empty() && detector.size() <= 64 &&
                  std::all_of(detector.begin(), detector.end(), [](char c) {
                    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                           (c >= '0' && c <= '9') || c == '_' || c == '-';
                  });
  if (!ok) {
    return Status(ErrorCode::kInvalidArgument,
                  "detector name '" + std::string(detector) +
                      "' must be 1 to 64 letters, digits, '_' or '-' (it names a directory)");
  }
  return Status::Ok();
}

std::string BundleStore::BundlePath(const std::string& version) const {
  return dir_ + "/" + version + kBundleSuffix;
}

Status BundleStore::EnsureDir() const {
  Status valid = ValidateName(detector_);
  if (!valid.ok()) {
    return valid;
  }
  std::vector<std::string> dirs = {models_dir_, models_dir_ + "/" + detector_};
  if (!group_.empty()) {  // models/<detector>/groups/<hash>
    dirs.push_back(dirs.back() + "/groups");
    dirs.push_back(dir_);
  }
  for (const std::string& d : dirs) {
    if (::mkdir(d.c_str(), 0755) != 0 && errno != EEXIST) {
      return Errno("cannot create the models directory", d);
    }
  }
  return Status::Ok();
}

Status BundleStore::PointLink(const std::string& link, const std::string& version) {
  // A new symlink under a temporary name, renamed over `link`: rename is atomic.
  const std::string tmp = dir_ + "/." + link + ".tmp." + std::to_string(::getpid());
  const std::string path = dir_ + "/" + link;
  ::unlink(tmp.c_str());
  if (::symlink((version + kBundleSuffix).c_str(), tmp.c_str()) != 0) {
    return Errno("cannot create", tmp);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    Status s = Errno("cannot move into place", path);
    ::unlink(tmp.c_str());
    return s;
  }
  SyncDir(dir_);
  return Status::Ok();
}

Status BundleStore::WriteVersion(const std::string& version, std::string_view bundle_bytes,
                                 std::string_view report_json) {
  Status s = EnsureDir();
  if (!s.ok()) return s;
  RemoveOrphans();
  // The report first: a crash or ENOSPC in between leaves a report without a bundle (never
  // listed), not a bundle that looks complete without its report.
  const std::string report = dir_ + "/" + version + kReportSuffix;
  s = WriteFileAtomic(report, report_json);
  if (!s.ok()) return s;
  s = WriteFileAtomic(BundlePath(version), bundle_bytes);
  if (!s.ok()) ::unlink(report.c_str());
  return s;
}

Status BundleStore::Prune(int keep, std::vector<std::string>* pruned) {
  auto versions = List();
  if (!versions.ok()) return versions.status();
  int seen = 0;
  for (const StoredVersion& v : *versions) {  // newest first
    if (++seen <= std::max(1, keep) || v.is_latest || v.is_candidate) {
      continue;
    }
    ::unlink(BundlePath(v.version).c_str());
    ::unlink((dir_ + "/" + v.version + kReportSuffix).c_str());
    if (pruned != nullptr) {
      pruned->push_back(v.version);
    }
  }
  return Status::Ok();
}

Status BundleStore::Install(const std::string& version, TimeMs created_ms,
                            std::string_view bundle_bytes, std::string_view report_json, int keep,
                            std::vector<std::string>* pruned) {
  (void)created_ms;  // stored inside the bundle; List() reads it from there
  Status s = WriteVersion(version, bundle_bytes, report_json);
  if (!s.ok()) return s;
  s = PointLatest(version);
  if (!s.ok()) return s;
  return Prune(keep, pruned);
}

Status BundleStore::InstallCandidate(const std::string& version, std::string_view bundle_bytes,
                                     std::string_view report_json, int keep,
                                     std::vector<std::string>* pruned) {
  Status s = WriteVersion(version, bundle_bytes, report_json);
  if (!s.ok()) return s;
  s = PointLink("candidate", version);
  if (!s.ok()) return s;
  return Prune(keep, pruned);
}

Result<std::string> BundleStore::Candidate() const {
  return ReadLink("candidate",
                  Status(ErrorCode::kNotFound, "detector '" + detector_ + "' has no candidate (" +
                                                   CandidatePath() + " does not exist)"));
}

Status BundleStore::ClearCandidate() {
  if (::unlink(CandidatePath().c_str()) != 0 && errno != ENOENT) {
    return Errno("cannot remove", CandidatePath());
  }
  RemoveComparison();  // of a candidate that is gone: nothing to show
  SyncDir(dir_);
  return Status::Ok();
}

void BundleStore::RemoveComparison() const { ::unlink(ComparisonPath().c_str()); }

Result<std::string> BundleStore::Promote(const std::string& expected) {
  auto candidate = Candidate();
  if (!candidate.ok()) return candidate.status();
  if (!expected.empty() && *candidate != expected) {
    return Status(ErrorCode::kInvalidArgument, "the candidate of detector '" + detector_ +
                                                   "' is now " + *candidate + ", not " + expected);
  }
  auto bytes = ReadVersion(*candidate);
  if (!bytes.ok()) return bytes.status();
  auto model = DecodeBundle(bytes->data(), bytes->size());  // checksum and canaries
  if (!model.ok()) {
    return Status(model.status().code(),
                  "refusing to promote " + *candidate + ": " + model.status().message());
  }
  Status s = PointLatest(*candidate);
  if (!s.ok()) return s;
  s = ClearCandidate();
  if (!s.ok()) return s;
  return *candidate;
}

Result<std::vector<StoredVersion>> BundleStore::List() const {
  Status valid = ValidateName(detector_);
  if (!valid.ok()) return valid;
  DIR* d = ::opendir(dir_.c_str());
  if (d == nullptr) {
    if (errno == ENOENT) {
      return std::vector<StoredVersion>{};
    }
    return Errno("cannot list", dir_);
  }
  std::vector<std::string> names;
  while (dirent* e = ::readdir(d)) {
    const std::string name = e->d_name;
    if (EndsWith(name, kBundleSuffix)) {
      std::string version = name.substr(0, name.size() - std::strlen(kBundleSuffix));
      if (IsVersionName(version)) names.push_back(std::move(version));
    }
  }
  ::closedir(d);
  auto latest = Latest();
  auto candidate = Candidate();
  std::vector<StoredVersion> out;
  for (const std::string& v : names) {
    StoredVersion sv;
    sv.version = v;
    sv.is_latest = latest.ok() && *latest == v;
    sv.is_candidate = candidate.ok() && *candidate == v;
    struct stat st {};
    sv.has_report = ::stat((dir_ + "/" + v + kReportSuffix).c_str(), &st) == 0;
    if (::lstat(BundlePath(v).c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
      continue;  // a symlink, FIFO or directory named *.bundle is not a stored version
    }
    const CreatedCache::Key key{st.st_dev, st.st_ino, st.st_mtim.tv_sec, st.st_mtim.tv_nsec,
                                st.st_size};
    if (!Cache().Find(key, &sv.created_ms)) {
      auto bytes = ReadVersion(v);
      if (bytes.ok()) {
        // Only the creation time is needed: skip the canary re-scoring here.
        auto model = DecodeBundle(bytes->data(), bytes->size(), DecodeOptions{false});
        if (model.ok()) sv.created_ms = model->info.created_ms;
      }
      Cache().Put(key, sv.created_ms);
    }
    out.push_back(sv);
  }
  std::sort(out.begin(), out.end(), [](const StoredVersion& a, const StoredVersion& b) {
    return a.created_ms != b.created_ms ? a.created_ms > b.created_ms : a.version > b.version;
  });
  return out;
}

Result<std::string> BundleStore::Latest() const {
  return ReadLink("latest", Status(ErrorCode::kBadInput,
                                   "detector '" + detector_ + "' has no model yet (" +
                                       LatestPath() + " does not exist); run isoscope train"));
}

Result<std::string> BundleStore::ReadLink(const std::string& link, const Status& missing) const {
  const std::string path = dir_ + "/" + link;
  char target[512];
  const ssize_t n = ::readlink(path.c_str(), target, sizeof target - 1);
  if (n < 0) {
    if (errno == ENOENT) return missing;
    return Errno("cannot read", path);
  }
  std::string name(target, static_cast<size_t>(n));
  const std::string version =
      EndsWith(name, kBundleSuffix) ? name.substr(0, name.size() - std::strlen(kBundleSuffix)) : "";
  if (!IsVersionName(version)) {
    return Status(ErrorCode::kCorrupt, path + " points at '" + EscapeBytes(name) +
                                           "', not at a bundle in its own directory");
  }
  return version;
}

Result<std::string> BundleStore::ReadVersion(const std::string& version) const {
  if (!IsVersionName(version)) {
    return Status(ErrorCode::kCorrupt, "'" + version + "' is not a version name");
  }
  return ReadBundleFile(BundlePath(version), /*no_follow=*/true);
}

int BundleStore::RemoveOrphans() const { return RemoveOrphanTemps(dir_); }

Result<std::string> BundleStore::Rollback(const std::string& version) {
  auto versions = List();
  if (!versions.ok()) return versions.status();
  if (versions->empty()) {
    return Status(ErrorCode::kBadInput,
                  "detector '" + detector_ + "' has no stored versions in " + dir_);
  }
  std::string target = version;
  if (target.empty()) {
    auto it = std::find_if(versions->begin(), versions->end(),
                           [](const StoredVersion& v) { return v.is_latest; });
    if (it == versions->end() || it + 1 == versions->end()) {
      return Status(ErrorCode::kBadInput,
                    "no version older than the latest to roll back to; stored: " +
                        std::to_string(versions->size()));
    }
    target = (it + 1)->version;
  } else if (std::none_of(versions->begin(), versions->end(),
                          [&](const StoredVersion& v) { return v.version == target; })) {
    std::string known;
    for (const StoredVersion& v : *versions) {
      known += (known.empty() ? "" : ", ") + v.version;
    }
    return Status(ErrorCode::kInvalidArgument,
                  "no version '" + target + "' for detector '" + detector_ + "'; stored: " + known);
  }
  // The target must still be a good model before anything points at it.
  auto bytes = ReadVersion(target);
  if (!bytes.ok()) return bytes.status();
  auto model = DecodeBundle(bytes->data(), bytes->size());
  if (!model.ok()) {
    return Status(model.status().code(),
                  "refusing to roll back to " + target + ": " + model.status().message());
  }
  Status s = PointLatest(target);
  if (!s.ok()) return s;
  return target;
}

}  // namespace isoscope::native
