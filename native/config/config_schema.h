#pragma once

// The schema of isoscope.yml: the keys each mapping accepts and the limits of its values
// (config.h lists every key with its default). Internal to native/config.

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace isoscope::native::config_detail {

// The keys each kind of mapping accepts, to spot typos and keys put at the wrong level.
struct Section {
  const char* where;  // how a message names the place, "under prometheus:"
  std::vector<std::string> keys;
};

extern const Section kRootSection;
extern const Section kPrometheusSection;
extern const Section kBasicAuthSection;
extern const Section kWebSection;
extern const Section kDetectorSection;
extern const Section kModelSection;
extern const Section kAlertsSection;
extern const Section kDriftSection;
extern const Section kGateSection;
// Every section, to say where a key put at the wrong level belongs.
extern const std::array<const Section*, 9> kAllSections;

// derived: when a detector does not say.
inline const char* const kDerivedNames[] = {"hour_of_week", "is_deploy_window"};
inline constexpr int64_t kMaxEstimators = 100'000;
inline constexpr int64_t kMaxKeepVersions = 1000;

}  // namespace isoscope::native::config_detail
