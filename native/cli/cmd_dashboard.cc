// `isoscope dashboard`: the Grafana dashboard of a config's detectors (dashboard_gen.h),
// printed or written atomically for a dashboard provider to pick up.
#include <cstdio>

#include "commands.h"
#include "config.h"
#include "dashboard_gen.h"
#include "file_io.h"

namespace isoscope::native {

Status RunDashboard(const DashboardArgs& args) {
  auto config = LoadConfig(args.config);
  if (!config.ok()) {
    return config.status();
  }
  std::vector<DetectorConfig> detectors = config->detectors;
  if (!args.detector.empty()) {
    auto d = FindDetector(*config, args.detector, args.config);
    if (!d.ok()) return d.status();
    detectors = {**d};
  }
  DashboardOptions options;
  options.title = args.title;
  options.uid = args.uid;
  options.daemon_url = args.daemon_url;
  const std::string text = GenerateDashboard(*config, detectors, options).dump(2) + "\n";
  if (args.out.empty()) {
    std::fputs(text.c_str(), stdout);
    return Status::Ok();
  }
  Status s = WriteFileAtomic(args.out, text);
  if (!s.ok()) {
    return Status(ErrorCode::kBadInput, s.message());
  }
  std::printf("wrote %s\n", args.out.c_str());
  return Status::Ok();
}

}  // namespace isoscope::native
