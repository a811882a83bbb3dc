#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "isoscope/features.h"
#include "isoscope/status.h"

namespace isoscope::native {

/// One stored model version of a detector.
struct StoredVersion {
  std::string version;  ///< YYYYMMDD-hash, also the file name stem
  TimeMs created_ms = 0;
  bool is_latest = false;
  bool is_candidate = false;  ///< `candidate` points at it (promotion: manual or gate)
  /// The training report is there too. Install writes the report before the bundle, so a
  /// bundle without one was not installed by isoscope (or predates this order).
  bool has_report = false;
};

/// The versioned bundles of one detector: models/<detector>/<version>.bundle, the training
/// report <version>.report.json beside it, and `latest`, a symlink to the active bundle that is
/// swapped atomically (readers see the old or the new target, never neither). Under
/// `promotion: manual` or `gate`, a retrain is installed as `candidate` instead, a symlink written
/// the same way, and `latest` moves only when the candidate is promoted. Every file is
/// written to a temporary name, fsynced and renamed, so a crash leaves no half file behind.
class BundleStore {
 public:
  BundleStore(std::string models_dir, std::string detector);
  /// The store of one group of a `model: per: group` detector,
  /// models/<detector>/groups/<16 hex digits of the group hash>/: the same files, links and
  /// atomic writes as the detector's own store.
  static BundleStore ForGroup(std::string models_dir, std::string detector, uint64_t group_hash);
  /// The group directories of a detector (their names, 16 hex digits, sorted); a name that is
  /// not 16 lowercase hex digits is not a group and is skipped. Empty without a groups/.
  static Result<std::vector<std::string>> ListGroups(const std::string& models_dir,
                                                     const std::string& detector);
  /// "%016x" of a group hash: its directory name.
  static std::string GroupDirName(uint64_t group_hash);
  /// Parses a directory name as GroupDirName writes it.
  static bool ParseGroupDirName(std::string_view name, uint64_t* group_hash);

  /// Letters, digits, '_' and '-', 1 to 64 of them: a detector name can never climb out of
  /// the models directory.
  static Status ValidateName(std::string_view detector);

  /// Writes the bundle and its report, points `latest` at it, then deletes the oldest versions
  /// beyond `keep` (never the latest). `pruned` receives the deleted versions.
  Status Install(const std::string& version, TimeMs created_ms, std::string_view bundle_bytes,
                 std::string_view report_json, int keep, std::vector<std::string>* pruned);
  /// As Install, but points `candidate` at the bundle and leaves `latest` alone. Pruning keeps
  /// the latest and the candidate.
  Status InstallCandidate(const std::string& version, std::string_view bundle_bytes,
                          std::string_view report_json, int keep, std::vector<std::string>* pruned);
  /// The version `candidate` points at; kNotFound when there is none.
  Result<std::string> Candidate() const;
  /// Makes the candidate `latest` and removes `candidate`. With `expected` non-empty, refuses
  /// (kInvalidArgument) unless the candidate is that version, so a decision taken on one
  /// candidate never promotes a newer one. The bundle must load (checksum, canaries: the
  /// decoder's errors) before `latest` moves. Returns the promoted version.
  Result<std::string> Promote(const std::string& expected);
  /// Removes `candidate` and its comparison (the bundle stays, as an older version would).
  Status ClearCandidate();
  /// Stored versions, newest first (by creation time recorded in each bundle).
  Result<std::vector<StoredVersion>> List() const;
  /// The version `latest` points at: a name `<version>.bundle` in this directory (a target with
  /// a '/' is refused, kCorrupt).
  Result<std::string> Latest() const;
  /// The bytes of a stored version, read as ReadBundleFile does and without following a
  /// symlink out of the directory (`latest` -> x.bundle -> /etc/shadow is refused).
  Result<std::string> ReadVersion(const std::string& version) const;
  /// Removes temp files of writers that crashed (kill -9 during an install). Install calls it.
  int RemoveOrphans() const;
  /// Points `latest` at `version` (previous one if empty). Returns the new latest version.
  Result<std::string> Rollback(const std::string& version);

  std::string dir() const { return dir_; }
  std::string BundlePath(const std::string& version) const;
  std::string LatestPath() const { return dir_ + "/latest"; }
  std::string CandidatePath() const { return dir_ + "/candidate"; }
  /// The daemon's comparison of the candidate with the active model (isoscope candidates).
  std::string ComparisonPath() const { return dir_ + "/candidate-comparison.json"; }
  void RemoveComparison() const;

 private:
  Status EnsureDir() const;
  Status PointLatest(const std::string& version) { return PointLink("latest", version); }
  // Points the symlink `link` (latest, candidate) at `version` atomically.
  Status PointLink(const std::string& link, const std::string& version);
  Status WriteVersion(const std::string& version, std::string_view bundle_bytes,
                      std::string_view report_json);
  Status Prune(int keep, std::vector<std::string>* pruned);
  // The version the symlink `link` names; `missing` is the answer when it does not exist.
  Result<std::string> ReadLink(const std::string& link, const Status& missing) const;

  std::string models_dir_;
  std::string detector_;
  std::string group_;  // 16 hex digits for a group's store, empty for the detector's
  std::string dir_;
};

}  // namespace isoscope::native
