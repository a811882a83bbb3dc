// `isoscope rollback` and `isoscope install`: the detector's bundle store (bundle_store.h) from
// the command line; the daemon picks up the new `latest` at its next reload.
#include "bundle_store.h"
#include "commands.h"
#include "config.h"
#include "file_io.h"
#include "model_json.h"

namespace isoscope::native {

Status RunRollback(const RollbackArgs& args) {
  auto config = LoadConfig(args.config);
  if (!config.ok()) return config.status();
  if (config->Find(args.detector) == nullptr) {
    return Status(ErrorCode::kInvalidArgument,
                  "no detector '" + args.detector + "' in " + args.config);
  }
  BundleStore store(config->models_dir, args.detector);
  uint64_t group = 0;
  if (!args.group.empty()) {
    if (!BundleStore::ParseGroupDirName(args.group, &group)) {
      return Status(ErrorCode::kInvalidArgument,
                    "--group '" + args.group +
                        "': the group's hash, 16 lowercase hex digits (GET "
                        "/api/v1/detectors/" +
                        args.detector + "/groups lists them)");
    }
    store = BundleStore::ForGroup(config->models_dir, args.detector, group);
  }
  auto before = store.Latest();
  auto now = store.Rollback(args.to);
  if (!now.ok()) return now.status();
  std::printf("%s%s: latest %s -> %s\n", args.detector.c_str(),
              args.group.empty() ? "" : (" group " + args.group).c_str(),
              before.ok() ? before->c_str() : "(none)", now->c_str());
  return Status::Ok();
}

Status RunInstall(const InstallArgs& args) {
  auto config = LoadConfig(args.config);
  if (!config.ok()) return config.status();
  const DetectorConfig* det = config->Find(args.detector);
  if (det == nullptr) {
    return Status(ErrorCode::kInvalidArgument,
                  "no detector '" + args.detector + "' in " + args.config);
  }
  auto bytes = ReadBundleFile(args.bundle);
  if (!bytes.ok()) return bytes.status();
  auto model = LoadBundleBytes(*bytes, args.bundle);  // checksum, structure, canaries
  if (!model.ok()) return model.status();
  // The daemon would refuse it otherwise (daemon.cc, PollReload).
  std::string absent;
  for (const std::string& input : model->spec.inputs) {
    bool found = false;
    for (const auto& q : det->queries) found = found || q.first == input;
    if (!found) absent += (absent.empty() ? "" : ", ") + input;
  }
  if (!absent.empty()) {
    return Status(ErrorCode::kBadInput, args.bundle + " needs inputs detector " + det->name +
                                            " has no query for: " + absent);
  }
  BundleStore store(config->models_dir, det->name);
  std::vector<std::string> pruned;
  const std::string report =
      ModelToJson(*model, false).dump(1, ' ', false, nlohmann::json::error_handler_t::replace);
  // As train --config: under promotion manual or gate a candidate, unless there is no model yet.
  const bool candidate = det->promotion.candidate() && store.Latest().ok();
  Status installed = candidate ? store.InstallCandidate(model->model_version, *bytes, report,
                                                        det->keep_versions, &pruned)
                               : store.Install(model->model_version, model->info.created_ms, *bytes,
                                               report, det->keep_versions, &pruned);
  if (!installed.ok()) return installed;
  std::printf("installed         %s (%s)\n", store.BundlePath(model->model_version).c_str(),
              candidate ? "candidate; latest unchanged" : "latest");
  for (const std::string& v : pruned) {
    std::printf("pruned            %s (keeping %d versions)\n", v.c_str(), det->keep_versions);
  }
  return Status::Ok();
}

}  // namespace isoscope::native
