#pragma once

// The walk of isoscope.yml, section by section: every key read with yaml_check.h's typed
// getters, every value checked with config_validate.h, the result written into config.h's
// structs. Internal to native/config; CheckConfigText (config.cc) drives it.

#include <string>
#include <utility>
#include <vector>

#include "config.h"
#include "yaml_check.h"

namespace isoscope::native::config_detail {

class ConfigChecker : public YamlChecker {
 public:
  using YamlChecker::YamlChecker;

  void CheckRoot(const YAML::Node& root, Config* cfg);

 private:
  void CheckPrometheus(const Entry& section, PrometheusConfig* p);

  void CheckWeb(const Entry& section, WebConfig* w);

  void CheckDetectors(const Entry& section, std::vector<DetectorConfig>* out);

  // The parts of a detector: its name, group_by:, deploy_windows: and derived:.
  void CheckName(const std::vector<Entry>& f, const std::string& path, DetectorConfig* d);
  void CheckGroupBy(const Entry& section, const std::string& path, DetectorConfig* d);
  void CheckDeployWindows(const Entry& section, const std::string& path, DetectorConfig* d);
  void CheckDerived(const std::vector<Entry>& f, const std::string& path,
                    const std::vector<int>& query_lines, DetectorConfig* d);
  void CheckDetector(const YAML::Node& node, const std::string& path, DetectorConfig* d);

  // exclude: items are "START/END" (absolute) or weekly windows ("Sat 00:00-06:00").
  void CheckExcludeItem(const std::string& item, int line, const std::string& path,
                        ExcludeConfig* out);

  void CheckExclude(const std::vector<Entry>& f, const std::string& path, DetectorConfig* d);

  // promotion: immediate|manual|gate, and gate: {after, rate_band, pages_factor}.
  void CheckPromotion(const std::vector<Entry>& f, const std::string& path, DetectorConfig* d);
  void CheckGate(const Entry& section, const std::string& path, PromotionConfig* p);
  void CheckRateBand(const Entry& e, const std::string& path, PromotionConfig* p);

  void CheckQueries(const Entry& e, const std::string& path,
                    std::vector<std::pair<std::string, std::string>>* out, std::vector<int>* lines);

  void CheckAlerts(const Entry& section, const std::string& path, DetectorConfig* d);

  void CheckDrift(const Entry& section, const std::string& path, DriftConfig* drift);

  // Parts of prometheus: and of model:.
  void CheckBasicAuth(const Entry& section, const std::string& path, const char* other_credentials,
                      PrometheusConfig* p);
  void CheckMaxFeatures(const Entry& section, const std::string& path, DetectorConfig* d);
  void CheckScaler(const Entry& section, const std::string& path, DetectorConfig* d);
  void CheckModel(const Entry& section, const std::string& path, DetectorConfig* d);
  void CheckModelPer(const std::vector<Entry>& f, const std::string& path, DetectorConfig* d);
};

}  // namespace isoscope::native::config_detail
