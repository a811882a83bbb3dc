#include "commands.h"

#include <cerrno>
#include <cstring>

#include "file_io.h"
#include "isoscope/bundle.h"
#include "isoscope/text.h"
#include "time_parse.h"

namespace isoscope::native {

int ExitCodeFor(const Status& status) {
  switch (status.code()) {
    case ErrorCode::kOk:
      return kExitOk;
    case ErrorCode::kInvalidArgument:
      return kExitUsage;
    case ErrorCode::kTruncated:
    case ErrorCode::kCorrupt:
    case ErrorCode::kForeign:
    case ErrorCode::kUnsupportedVersion:
    case ErrorCode::kCanaryMismatch:
      return kExitBadModel;
    default:
      return kExitFailure;
  }
}

Status StdoutWriteError() {
  return Status(ErrorCode::kBadInput,
                std::string("cannot write to standard output") +
                    (errno != 0 ? std::string(": ") + std::strerror(errno) : std::string()));
}

Result<const DetectorConfig*> FindDetector(const Config& config, const std::string& name,
                                           const std::string& path) {
  const DetectorConfig* d = config.Find(name);
  if (d != nullptr) return d;
  std::string names;
  for (const DetectorConfig& c : config.detectors) names += (names.empty() ? "" : ", ") + c.name;
  return Status(ErrorCode::kInvalidArgument,
                "no detector '" + name + "' in " + path + " (it has: " + names + ")");
}

Result<double> ResolveAlertThreshold(const std::string& text, const Model& model, double share) {
  auto t = ParseAlertThreshold(text);
  if (!t.ok()) return t.status();
  if (t->kind != AlertThreshold::Kind::kContamination) return t->Resolve(model);
  AlertThreshold of_share = *t;  // the caller's share, e.g. replay's --contamination
  of_share.kind = AlertThreshold::Kind::kShare;
  of_share.value = share / t->value;
  return of_share.Resolve(model);
}

void PrintReport(std::FILE* out, const Model& m) {
  const TrainingInfo& i = m.info;
  std::fprintf(out, "model version     %s\n", m.model_version.c_str());
  std::fprintf(out, "engine            isoscope %s, bundle format %u.%u\n",
               i.engine_version.c_str(), kBundleFormatMajor, kBundleFormatMinor);
  std::fprintf(out, "created           %s\n", FormatTime(i.created_ms).c_str());
  if (!i.source.empty()) {
    std::fprintf(out, "source            %s\n", i.source.c_str());
  }
  if (!m.group.empty()) {  // a per-group model (model: per: group)
    std::string labels;
    for (const auto& [name, value] : m.group.labels) {
      labels += (labels.empty() ? "" : ",") + name + "=\"" + value + "\"";
    }
    std::fprintf(out, "group             {%s}, hash %s\n", labels.c_str(), m.group.hash.c_str());
  }
  std::fprintf(out, "rows              %lld used, %lld dropped (of %lld)\n",
               static_cast<long long>(i.rows_used), static_cast<long long>(i.rows_dropped),
               static_cast<long long>(i.rows_total));
  for (const auto& [reason, count] : i.dropped_by_reason) {
    std::fprintf(out, "  dropped         %lld rows: %s\n", static_cast<long long>(count),
                 reason.c_str());
  }
  if (i.has_time) {
    const double days = static_cast<double>(i.window_end_ms - i.window_start_ms) / kDayMs;
    std::fprintf(out, "time span         %s .. %s (%.1f days)\n",
                 FormatTime(i.window_start_ms).c_str(), FormatTime(i.window_end_ms).c_str(), days);
    std::fprintf(out, "hour-of-week      %d full weeks covered (every hour of the week seen)\n",
                 i.full_weeks);
  } else {
    std::fprintf(out, "time span         unknown (no time column)\n");
  }
  std::string columns;
  for (const std::string& c : m.spec.ColumnNames()) {
    columns += (columns.empty() ? "" : ", ") + c;
  }
  std::fprintf(out, "features          %s\n", columns.c_str());
  if (m.spec.step_ms > 0) {
    std::fprintf(out, "step              %s (look-ups accept the sample one step early)\n",
                 FormatDurationMs(m.spec.step_ms).c_str());
  }
  for (const DerivedFeature& d : m.spec.derived) {
    if (d.kind == DerivedFeature::Kind::kIsDeployWindow) {
      std::fprintf(out, "deploy windows    %s\n",
                   FormatDeployWindows(m.spec.deploy_windows).c_str());
    }
  }
  std::fprintf(out, "scaler            %s\n",
               m.scaler.kind == Scaler::Kind::kStandard ? "standard" : "none");
  const IForestParams& p = m.params;
  std::fprintf(out,
               "forest            %zu trees, max_samples %s (psi %d), max_features %s (%d of "
               "%d), bootstrap %s, random_state %u, %zu nodes\n",
               m.forest.trees.size(), p.max_samples.ToString().c_str(), m.forest.max_samples,
               p.max_features.ToString().c_str(), m.forest.max_features, m.forest.n_features,
               p.bootstrap ? "yes" : "no", p.random_state, m.forest.total_nodes());
  std::fprintf(out, "contamination     %s%s\n", p.contamination.ToString().c_str(),
               i.contamination_explicit ? "" : " (not given explicitly)");
  std::fprintf(out, "threshold         anomaly_score > %s is an anomaly (sklearn offset_ %s)\n",
               FormatShortest(m.threshold()).c_str(), FormatShortest(m.offset).c_str());
  std::fprintf(out, "flagged           %.2f%% of training rows at this threshold\n",
               100.0 * i.flagged_fraction);
  if (m.calibration.count > 0) {
    std::fprintf(out,
                 "calibration       surprise = -log10 P(a normal row scores this high), from %lld "
                 "training scores (mean %.4f, sd %.4f)\n",
                 static_cast<long long>(m.calibration.count), m.calibration.mean,
                 m.calibration.stddev);
  }
  std::fprintf(out, "canaries          %zu vectors, re-checked at every load\n", m.canaries.size());
  for (const std::string& w : i.warnings) {
    std::fprintf(out, "WARNING: %s\n", w.c_str());
  }
}

}  // namespace isoscope::native
