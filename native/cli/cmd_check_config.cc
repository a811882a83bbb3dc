// `isoscope check-config --config FILE`: every problem of the file with its line, or a summary.
#include "commands.h"
#include "config.h"
#include "file_io.h"
#include "isoscope/text.h"
#include "rules_gen.h"

namespace isoscope::native {
namespace {

std::string Summary(const DetectorConfig& d) {
  std::string queries;
  for (const auto& [name, query] : d.queries) queries += (queries.empty() ? "" : ", ") + name;
  std::string group_by;
  for (const std::string& label : d.group_by) group_by += (group_by.empty() ? "" : ", ") + label;
  std::string derived;
  for (const DerivedFeature& f : d.spec.derived)
    derived += (derived.empty() ? "" : ", ") + f.Name(d.spec.inputs);
  return d.name + ": " + std::to_string(d.queries.size()) +
         (d.queries.size() == 1 ? " query (" : " queries (") + queries + "), group_by [" +
         group_by + "], derived [" + derived + "], step " + FormatDurationMs(d.step_ms) +
         ", lookback " + FormatDurationMs(d.lookback_ms) + ", interval " +
         FormatDurationMs(d.interval_ms) + ", " + std::to_string(d.params.n_estimators) +
         " trees, contamination " + d.params.contamination.ToString() + ", keep " +
         std::to_string(d.keep_versions) + " versions";
}

std::string AlertSummary(const AlertsConfig& a) {
  std::string s = "alerts: " + a.RecordName() + " = avg_over_time(anomaly_score[" +
                  FormatDurationMs(a.smooth_ms) + "]), warning > " + a.warning.text +
                  ", critical > " + a.critical.text + " for " + FormatDurationMs(a.for_ms) +
                  ", evaluated every " + FormatDurationMs(a.eval_interval_ms);
  if (a.keep_firing_for_ms > 0) s += ", keep firing " + FormatDurationMs(a.keep_firing_for_ms);
  if (a.warning.on_surprise() || a.critical.on_surprise()) {
    s += " (surprise:N on " + SurpriseRecordName(a) + " = avg_over_time(anomaly_surprise[" +
         FormatDurationMs(a.smooth_ms) + "]))";
  }
  return s + "; drift canary: anomaly_rate_5m < " + FormatShortest(a.drift.min_rate) + " for " +
         FormatDurationMs(a.drift.for_ms) + " in " + a.drift.peak_hours_text +
         " UTC; stale after " + FormatDurationMs(a.stale_after_ms) + ", model older than " +
         FormatDurationMs(a.max_model_age_ms);
}

// Shown only when not immediate, so that the summary of a file without promotion: is as before.
std::string PromotionSummary(const PromotionConfig& p) {
  std::string s =
      std::string("promotion: ") + PromotionModeName(p.mode) + " (train installs a candidate; ";
  if (p.mode == PromotionConfig::Mode::kManual) return s + "isoscope promote makes it latest)";
  return s + "the daemon promotes it after " + FormatDurationMs(p.after_ms) +
         " if its pages per week <= max(1, " + FormatShortest(p.pages_factor) +
         " x the active model's) and its anomaly rate is within [" + FormatShortest(p.rate_low) +
         ", " + FormatShortest(p.rate_high) + "] x the active model's)";
}

}  // namespace

Status RunCheckConfig(const CheckConfigArgs& args) {
  auto text = ReadSmallFile(args.config, kMaxConfigFileBytes);
  if (!text.ok()) {
    return text.status();
  }
  Config config;
  const std::vector<ConfigProblem> problems = CheckConfigText(*text, args.config, &config);
  if (!problems.empty()) {
    for (const ConfigProblem& p : problems) {
      std::fprintf(stderr, "%s:%d: %s\n", args.config.c_str(), p.line, p.message.c_str());
    }
    return Status(ErrorCode::kInvalidArgument, args.config + ": " +
                                                   std::to_string(problems.size()) + " problem" +
                                                   (problems.size() == 1 ? "" : "s"));
  }
  std::string names;
  for (const DetectorConfig& d : config.detectors) names += (names.empty() ? "" : ", ") + d.name;
  std::printf("%s: OK (%zu detector%s: %s)\n", args.config.c_str(), config.detectors.size(),
              config.detectors.size() == 1 ? "" : "s", names.c_str());
  std::printf("  prometheus %s%s, timeout %s; models in %s; web on %s\n",
              config.prometheus.url.c_str(),
              !config.prometheus.bearer_token.empty() ? " (bearer token)"
              : config.prometheus.has_basic_auth      ? " (basic auth)"
                                                      : "",
              FormatDurationMs(config.prometheus.timeout_ms).c_str(), config.models_dir.c_str(),
              config.web.listen_address.c_str());
  for (const DetectorConfig& d : config.detectors) {
    std::printf("  %s\n", Summary(d).c_str());
    std::printf("    %s\n", AlertSummary(d.alerts).c_str());
    if (d.promotion.candidate()) std::printf("    %s\n", PromotionSummary(d.promotion).c_str());
    if (d.per_group) {
      std::printf(
          "    per group: %d trees x max_samples %s per group with at least %lld rows, "
          "else the pooled model\n",
          d.group_n_estimators, d.group_max_samples.ToString().c_str(),
          static_cast<long long>(d.min_rows));
    }
    for (const std::string& w : AlertSampleWarnings(d)) {
      std::fprintf(stderr, "WARNING: %s\n", w.c_str());
    }
  }
  return Status::Ok();
}

}  // namespace isoscope::native
