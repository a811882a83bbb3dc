// `isoscope dashboard`: the Grafana dashboard of a config's detectors (dashboard_gen.h),
// printed or written atomically for a dashboard provider to pick up.
#include <cstdio>

#include "commands.h"
#include "config.h"
#include "dashboard_gen.h"
#include "file_io.h"

namespace isoscope::native {

int RunDashboard(const DashboardArgs& args) {
  auto config = LoadConfig(args.config);
  if (!config.ok()) {
    std::fprintf(stderr, "isoscope dashboard: %s\n", config.status().message().c_str());
    return ExitCodeFor(config.status());
  }
  std::vector<DetectorConfig> detectors = config->detectors;
  if (!args.detector.empty()) {
    const DetectorConfig* d = config->Find(args.detector);
    if (d == nullptr) {
      std::string names;
      for (const DetectorConfig& c : config->detectors)
        names += (names.empty() ? "" : ", ") + c.name;
      std::fprintf(stderr, "isoscope dashboard: no detector '%s' in %s (it has: %s)\n",
                   args.detector.c_str(), args.config.c_str(), names.c_str());
      return kExitUsage;
    }
    detectors = {*d};
  }
  DashboardOptions options;
  options.title = args.title;
  options.uid = args.uid;
  options.daemon_url = args.daemon_url;
  const std::string text = GenerateDashboard(*config, detectors, options).dump(2) + "\n";
  if (args.out.empty()) {
    std::fputs(text.c_str(), stdout);
    return kExitOk;
  }
  Status s = WriteFileAtomic(args.out, text);
  if (!s.ok()) {
    std::fprintf(stderr, "isoscope dashboard: %s\n", s.message().c_str());
    return kExitFailure;
  }
  std::printf("wrote %s\n", args.out.c_str());
  return kExitOk;
}

}  // namespace isoscope::native
