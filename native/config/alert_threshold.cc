#include "alert_threshold.h"

#include <cmath>
#include <cstdlib>

#include "isoscope/text.h"

namespace isoscope::native {
namespace {

bool ParseFinite(const std::string& s, double* out) {
  if (s.empty()) return false;
  char* end = nullptr;
  *out = std::strtod(s.c_str(), &end);
  return end == s.c_str() + s.size() && std::isfinite(*out);
}

}  // namespace

AlertThreshold AlertThreshold::Score(double score) {
  return AlertThreshold{Kind::kScore, score, FormatShortest(score)};
}

Result<AlertThreshold> ParseAlertThreshold(const std::string& text) {
  auto bad = [&text](const std::string& why) {
    return Status(ErrorCode::kInvalidArgument,
                  "threshold '" + text + "': " + why +
                      " (give a score like 0.6, a share of training rows like 1%, "
                      "contamination or contamination/N, or a calibrated surprise like "
                      "surprise:4)");
  };
  AlertThreshold t;
  t.text = text;
  double v = 0;
  if (ParseFinite(text, &v)) {
    // 1 is allowed: no smoothed score exceeds it, so the severity never fires.
    if (v <= 0 || v > 1) return bad("anomaly scores lie in (0, 1]");
    t.kind = AlertThreshold::Kind::kScore;
    t.value = v;
    return t;
  }
  if (!text.empty() && text.back() == '%') {
    if (!ParseFinite(text.substr(0, text.size() - 1), &v) || v <= 0 || v > 50) {
      return bad("a share of training rows is a percentage in (0, 50]");
    }
    t.kind = AlertThreshold::Kind::kShare;
    t.value = v / 100;
    return t;
  }
  if (text == "contamination") {
    t.kind = AlertThreshold::Kind::kContamination;
    t.value = 1;
    return t;
  }
  if (text.rfind("contamination/", 0) == 0) {
    if (!ParseFinite(text.substr(14), &v) || v < 1) return bad("contamination/N needs N >= 1");
    t.kind = AlertThreshold::Kind::kContamination;
    t.value = v;
    return t;
  }
  if (text.rfind("surprise:", 0) == 0) {
    // 0 would page on every row (every surprise is >= 0); there is no upper bound, as a
    // tail probability can be as small as the model's training rows allow.
    if (!ParseFinite(text.substr(9), &v) || v <= 0) {
      return bad("surprise:N needs N > 0, e.g. surprise:4 for a tail probability of 1e-4");
    }
    t.kind = AlertThreshold::Kind::kSurprise;
    t.value = v;
    return t;
  }
  return bad("not understood");
}

Result<double> AlertThreshold::Resolve(const Model& model) const {
  if (kind == Kind::kScore) return value;
  if (kind == Kind::kSurprise) {
    if (model.calibration.count == 0) {
      return Status(ErrorCode::kInvalidArgument,
                    "threshold '" + text +
                        "': the model carries no score calibration (a bundle older than "
                        "format 1.3), so it has no surprise; retrain it with this isoscope");
    }
    return value;
  }
  const double share = kind == Kind::kShare ? value : TrainedShare(model) / value;
  auto bad = [this](const std::string& why) {
    return Status(ErrorCode::kInvalidArgument, "threshold '" + text + "': " + why);
  };
  if (!(share > 0)) return bad("the model has no training share to start from");
  auto threshold = model.ThresholdFor(share);
  if (!threshold.ok()) return bad(threshold.status().message());
  return *threshold;
}

bool AlertThreshold::AtLeastAsStrictAs(const AlertThreshold& other) const {
  if (kind != other.kind) return true;
  // A higher score or surprise, a smaller share or a larger divisor is stricter.
  return kind == Kind::kContamination ? value >= other.value
         : kind == Kind::kShare       ? value <= other.value
                                      : value >= other.value;
}

double TrainedShare(const Model& model) {
  return model.params.contamination.is_auto ? model.info.flagged_fraction
                                            : model.params.contamination.value;
}

}  // namespace isoscope::native
