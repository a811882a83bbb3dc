#include "model_params.h"

#include <cmath>
#include <cstdlib>

namespace isoscope::native {
namespace {

bool ParseNumber(const std::string& s, double* out, bool* is_integer) {
  if (s.empty()) {
    return false;
  }
  char* end = nullptr;
  *out = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size() || !std::isfinite(*out)) {
    return false;
  }
  *is_integer = s.find_first_of(".eE") == std::string::npos;
  return true;
}

}  // namespace

Result<MaxSamples> ParseMaxSamples(const std::string& text) {
  if (text == "auto") {
    return MaxSamples::Auto();
  }
  double v = 0;
  bool integer = false;
  if (ParseNumber(text, &v, &integer)) {
    if (integer && v >= 1) {
      return MaxSamples::Count(static_cast<int64_t>(v));
    }
    if (!integer && v > 0 && v <= 1) {
      return MaxSamples::Fraction(v);
    }
  }
  return Status(ErrorCode::kInvalidArgument,
                "--max-samples '" + text +
                    "': use auto (min(256, rows)), a row count like 256, or a fraction in "
                    "(0, 1] written with a point, like 0.5");
}

Result<MaxFeatures> ParseMaxFeatures(const std::string& text) {
  double v = 0;
  bool integer = false;
  if (ParseNumber(text, &v, &integer)) {
    if (integer && v >= 1) {
      return MaxFeatures::Count(static_cast<int64_t>(v));
    }
    if (!integer && v > 0 && v <= 1) {
      return MaxFeatures::Fraction(v);
    }
  }
  return Status(ErrorCode::kInvalidArgument,
                "--max-features '" + text +
                    "': use a column count like 3, or a fraction in (0, 1] like 0.6 or 1.0");
}

Result<Contamination> ParseContamination(const std::string& text) {
  if (text == "auto") {
    return Contamination::Auto();
  }
  double v = 0;
  bool integer = false;
  if (ParseNumber(text, &v, &integer) && v > 0 && v <= 0.5) {
    return Contamination::Fraction(v);
  }
  return Status(ErrorCode::kInvalidArgument,
                "--contamination '" + text +
                    "': use the expected share of anomalies in (0, 0.5], like 0.02, or auto "
                    "(threshold 0.5, which flags far more than you expect on seasonal data)");
}

}  // namespace isoscope::native
