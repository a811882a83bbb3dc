// `isoscope rules`: writes each detector's Prometheus recording, alerting and model-health
// rules and its Grafana alert provisioning file (rules_gen.h), with flags overriding the
// config so that values chosen in the panel's what-if go straight in.
#include <sys/stat.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "commands.h"
#include "config.h"
#include "file_io.h"
#include "rules_gen.h"
#include "time_parse.h"

namespace isoscope::native {
namespace {

// Applies the flags given to one detector's alert settings.
Status ApplyOverrides(const RulesArgs& args, AlertsConfig* a) {
  auto duration = [](const std::string& flag, const std::string& text, TimeMs* out) {
    auto ms = ParseDurationMs(text, /*allow_zero=*/true);
    if (!ms.ok()) {
      return Status(ErrorCode::kInvalidArgument,
                    flag + " '" + text + "' is not a duration — e.g. " + flag + " 3m");
    }
    *out = *ms;
    return Status::Ok();
  };
  // A relative threshold is resolved by isoscope serve from the config, and the rules compare
  // with what it exports: a different one given here would compare with the wrong line.
  auto threshold = [](const std::string& flag, const std::string& text, AlertThreshold* out) {
    auto t = ParseAlertThreshold(text);
    if (!t.ok()) return Status(ErrorCode::kInvalidArgument, flag + ": " + t.status().message());
    if (t->relative() && !(t->kind == out->kind && t->value == out->value)) {
      return Status(ErrorCode::kInvalidArgument,
                    flag + " " + text +
                        ": isoscope serve resolves thresholds relative to the model from the "
                        "config's alerts: (now " +
                        out->text +
                        "), and the rules compare with what it exports; write it there and "
                        "reload serve, or give a score such as " +
                        flag + " 0.55");
    }
    *out = *t;
    return Status::Ok();
  };
  if (!args.warning.empty()) {
    Status s = threshold("--warning", args.warning, &a->warning);
    if (!s.ok()) return s;
  }
  if (!args.critical.empty()) {
    Status s = threshold("--critical", args.critical, &a->critical);
    if (!s.ok()) return s;
  }
  if (!args.for_duration.empty()) {
    Status s = duration("--for", args.for_duration, &a->for_ms);
    if (!s.ok()) return s;
  }
  if (!args.smooth.empty()) {
    Status s = duration("--smooth", args.smooth, &a->smooth_ms);
    if (!s.ok()) return s;
  }
  if (!args.keep_firing_for.empty()) {
    Status s = duration("--keep-firing-for", args.keep_firing_for, &a->keep_firing_for_ms);
    if (!s.ok()) return s;
  }
  if (!args.eval_interval.empty()) {
    Status s = duration("--eval-interval", args.eval_interval, &a->eval_interval_ms);
    if (!s.ok()) return s;
  }
  if (!args.record.empty()) a->record = args.record;
  return ValidateAlerts(*a);
}

}  // namespace

Status RunRules(const RulesArgs& args) {
  auto config = LoadConfig(args.config);
  if (!config.ok()) {
    return config.status();
  }
  std::vector<DetectorConfig> detectors;
  if (!args.detector.empty()) {
    auto d = FindDetector(*config, args.detector, args.config);
    if (!d.ok()) return d.status();
    detectors.push_back(**d);
  } else {
    detectors = config->detectors;
  }
  for (const DetectorConfig& d : detectors) {
    for (const std::string& w : AlertSampleWarnings(d)) {
      std::fprintf(stderr, "isoscope rules: WARNING: %s\n", w.c_str());
    }
  }
  GrafanaRuleOptions grafana;
  grafana.datasource_uid = args.grafana_datasource_uid;
  grafana.folder = args.grafana_folder;
  if (grafana.datasource_uid.empty() || grafana.folder.empty()) {
    return Status(ErrorCode::kInvalidArgument,
                  "--grafana-datasource-uid and --grafana-folder cannot be empty");
  }

  std::vector<RuleFile> files;
  for (DetectorConfig& d : detectors) {
    Status s = ApplyOverrides(args, &d.alerts);
    if (!s.ok()) {
      return Status(ErrorCode::kInvalidArgument, "detector " + d.name + ": " + s.message());
    }
    for (RuleFile& f : GenerateRuleFiles(d, grafana)) files.push_back(std::move(f));
  }

  if (args.out.empty()) {
    for (size_t i = 0; i < files.size(); ++i) {
      std::printf("%s# file: %s\n%s", i == 0 ? "" : "---\n", files[i].name.c_str(),
                  files[i].content.c_str());
    }
    return Status::Ok();
  }
  if (::mkdir(args.out.c_str(), 0755) != 0 && errno != EEXIST) {
    return Status(ErrorCode::kBadInput, "cannot create " + args.out + ": " + std::strerror(errno));
  }
  for (const RuleFile& f : files) {
    const std::string path = args.out + "/" + f.name;
    Status s = WriteFileAtomic(path, f.content);
    if (!s.ok()) {
      return Status(ErrorCode::kBadInput, s.message());
    }
    std::printf("wrote %s\n", path.c_str());
  }
  return Status::Ok();
}

}  // namespace isoscope::native
