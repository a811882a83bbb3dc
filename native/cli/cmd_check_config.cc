// `isoscope check-config --config FILE`: every problem of the file with its line, or a summary.
#include "commands.h"
#include "config.h"
#include "file_io.h"
#include "isoscope/text.h"

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
         group_by + "], derived [" + derived + "], step " + FormatDuration(d.step_ms) +
         ", lookback " + FormatDuration(d.lookback_ms) + ", interval " +
         FormatDuration(d.interval_ms) + ", " + std::to_string(d.params.n_estimators) +
         " trees, contamination " + d.params.contamination.ToString() + ", keep " +
         std::to_string(d.keep_versions) + " versions";
}

std::string AlertSummary(const AlertsConfig& a) {
  std::string s = "alerts: " + a.RecordName() + " = avg_over_time(anomaly_score[" +
                  FormatDuration(a.smooth_ms) + "]), warning > " + a.warning.text +
                  ", critical > " + a.critical.text + " for " + FormatDuration(a.for_ms) +
                  ", evaluated every " + FormatDuration(a.eval_interval_ms);
  if (a.keep_firing_for_ms > 0) s += ", keep firing " + FormatDuration(a.keep_firing_for_ms);
  return s + "; drift canary: anomaly_rate_5m < " + FormatShortest(a.drift.min_rate) + " for " +
         FormatDuration(a.drift.for_ms) + " in " + a.drift.peak_hours_text + " UTC; stale after " +
         FormatDuration(a.stale_after_ms) + ", model older than " +
         FormatDuration(a.max_model_age_ms);
}

}  // namespace

int RunCheckConfig(const CheckConfigArgs& args) {
  auto text = ReadSmallFile(args.config, kMaxConfigFileBytes);
  if (!text.ok()) {
    std::fprintf(stderr, "isoscope check-config: %s\n", text.status().message().c_str());
    return ExitCodeFor(text.status());
  }
  Config config;
  const std::vector<ConfigProblem> problems = CheckConfigText(*text, args.config, &config);
  if (!problems.empty()) {
    for (const ConfigProblem& p : problems) {
      std::fprintf(stderr, "%s:%d: %s\n", args.config.c_str(), p.line, p.message.c_str());
    }
    std::fprintf(stderr, "%s: %zu problem%s\n", args.config.c_str(), problems.size(),
                 problems.size() == 1 ? "" : "s");
    return kExitUsage;
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
              FormatDuration(config.prometheus.timeout_ms).c_str(), config.models_dir.c_str(),
              config.web.listen_address.c_str());
  for (const DetectorConfig& d : config.detectors) {
    std::printf("  %s\n", Summary(d).c_str());
    std::printf("    %s\n", AlertSummary(d.alerts).c_str());
    for (const std::string& w : AlertSampleWarnings(d)) {
      std::fprintf(stderr, "WARNING: %s\n", w.c_str());
    }
  }
  return kExitOk;
}

}  // namespace isoscope::native
