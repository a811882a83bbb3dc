// `isoscope candidates` and `isoscope promote`: champion and challenger from the command line
// (docs/lifecycle.md). Both read the detector's bundle store, where the daemon writes its
// comparison beside `candidate`: no network, and they work where the store is (a CronJob,
// kubectl exec) whether or not the daemon is reachable from there.
#include <cmath>
#include <nlohmann/json.hpp>

#include "bundle_store.h"
#include "challenger.h"
#include "commands.h"
#include "config.h"
#include "file_io.h"
#include "isoscope/text.h"
#include "time_parse.h"

namespace isoscope::native {
namespace {

// One detector's candidate as found in the store, with the daemon's comparison of that very
// candidate (not of an earlier one) when there is one.
struct Found {
  const DetectorConfig* detector = nullptr;
  std::string active;     // `latest`, or empty
  std::string candidate;  // `candidate`, or empty
  bool compared = false;
  CandidateView view;
};

Result<Found> Look(const Config& config, const DetectorConfig& d) {
  Found f;
  f.detector = &d;
  BundleStore store(config.models_dir, d.name);
  auto latest = store.Latest();
  if (latest.ok()) f.active = *latest;
  auto candidate = store.Candidate();
  if (!candidate.ok() && candidate.status().code() != ErrorCode::kNotFound) {
    return candidate.status();
  }
  if (!candidate.ok()) return f;
  f.candidate = *candidate;
  auto text = ReadSmallFile(store.ComparisonPath(), 1 << 20);
  if (!text.ok()) return f;  // not compared yet (no daemon, or not scored since)
  auto view = ParseCandidateView(*text);
  if (view.ok() && view->candidate_version == f.candidate && view->active.version == f.active) {
    f.compared = true;
    f.view = std::move(*view);
  } else if (view.ok() && view->candidate_version == f.candidate && !view->refused.empty()) {
    f.view = std::move(*view);  // refused by the daemon: the reason is worth showing
  }
  return f;
}

std::string Cell(double v) { return std::isfinite(v) ? FormatShortest(v) : "-"; }

void PrintSide(const char* role, const TallyView& t) {
  std::printf("  %-10s %-22s %6llu %10s %12s %8s %8s\n", role, t.version.c_str(),
              static_cast<unsigned long long>(t.pages),
              Cell(std::round(t.pages_per_week * 100) / 100).c_str(),
              Cell(std::round(t.anomaly_rate * 1e4) / 1e4).c_str(),
              Cell(std::round(t.p50 * 1e4) / 1e4).c_str(),
              Cell(std::round(t.p99 * 1e4) / 1e4).c_str());
}

void PrintFound(const Found& f) {
  const DetectorConfig& d = *f.detector;
  std::printf("%s (promotion: %s)\n", d.name.c_str(), PromotionModeName(d.promotion.mode));
  if (f.candidate.empty()) {
    std::printf("  no candidate; latest %s\n\n", f.active.empty() ? "(none)" : f.active.c_str());
    return;
  }
  if (!f.compared) {
    std::printf("  candidate %s, latest %s: %s\n\n", f.candidate.c_str(),
                f.active.empty() ? "(none)" : f.active.c_str(),
                f.view.refused.empty() ? "not compared yet (the daemon writes the comparison "
                                         "at its next cycle)"
                                       : ("refused by the daemon: " + f.view.refused).c_str());
    return;
  }
  const CandidateView& v = f.view;
  std::printf("  compared since %s on %llu rows (updated %s)\n", FormatTime(v.since_ms).c_str(),
              static_cast<unsigned long long>(v.rows), FormatTime(v.updated_ms).c_str());
  std::printf("  %-10s %-22s %6s %10s %12s %8s %8s\n", "role", "version", "pages", "pages/week",
              "anomaly_rate", "p50", "p99");
  PrintSide("active", v.active);
  PrintSide("candidate", v.candidate);
  if (d.promotion.mode == PromotionConfig::Mode::kGate) {
    std::printf("  gate: %s (%s)\n", v.gate.reason.c_str(), v.gate.detail.c_str());
  } else {
    std::printf("  promote with: isoscope promote --detector %s --config ...\n", d.name.c_str());
  }
  std::printf("\n");
}

nlohmann::json FoundJson(const Found& f) {
  nlohmann::json j = {{"detector", f.detector->name},
                      {"promotion", PromotionModeName(f.detector->promotion.mode)},
                      {"active_version", f.active},
                      {"candidate_version", f.candidate},
                      {"comparison", nullptr}};
  if (f.compared || !f.view.refused.empty()) {
    j["comparison"] = nlohmann::json::parse(CandidateViewJson(f.view));
  }
  return j;
}

}  // namespace

Status RunCandidates(const CandidatesArgs& args) {
  auto config = LoadConfig(args.config);
  if (!config.ok()) return config.status();
  std::vector<const DetectorConfig*> detectors;
  if (!args.detector.empty()) {
    auto d = FindDetector(*config, args.detector, args.config);
    if (!d.ok()) return d.status();
    detectors.push_back(*d);
  } else {
    for (const DetectorConfig& d : config->detectors) detectors.push_back(&d);
  }
  nlohmann::json all = nlohmann::json::array();
  for (const DetectorConfig* d : detectors) {
    auto found = Look(*config, *d);
    if (!found.ok()) return found.status();
    if (args.json) {
      all.push_back(FoundJson(*found));
    } else {
      PrintFound(*found);
    }
  }
  if (args.json) {
    std::printf("%s\n", all.dump(1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  }
  return Status::Ok();
}

Status RunPromote(const PromoteArgs& args) {
  auto config = LoadConfig(args.config);
  if (!config.ok()) return config.status();
  auto d = FindDetector(*config, args.detector, args.config);
  if (!d.ok()) return d.status();
  BundleStore store(config->models_dir, (*d)->name);
  auto before = store.Latest();
  auto promoted = store.Promote(args.version);  // checksum and canaries, then latest moves
  if (!promoted.ok()) {
    if (promoted.status().code() == ErrorCode::kNotFound) {  // nothing to do is not a failure
      return Status(ErrorCode::kBadInput,
                    promoted.status().message() + "; train with promotion: manual or gate first");
    }
    return promoted.status();
  }
  std::printf("%s: latest %s -> %s (candidate promoted; the daemon loads it at its next reload)\n",
              (*d)->name.c_str(), before.ok() ? before->c_str() : "(none)", promoted->c_str());
  return Status::Ok();
}

}  // namespace isoscope::native
