#pragma once

#include <cmath>
#include <vector>

#include "isoscope/model.h"

namespace isoscope::testing {

// Three weeks of a small two-series history at 10-minute steps, with a few gaps, for
// tests that need a real trained model but not a particular one.
struct SmallHistory {
  std::vector<TimeMs> times;
  std::vector<double> a, b;
};

inline SmallHistory MakeSmallHistory(int days = 21, TimeMs start = 20458 * kDayMs) {
  SmallHistory h;
  for (int i = 0; i < days * 144; ++i) {
    const TimeMs t = start + static_cast<TimeMs>(i) * 10 * kMinuteMs;
    h.times.push_back(t);
    const double phase = 2 * 3.141592653589793 * (i % 144) / 144.0;
    h.a.push_back(100 + 30 * std::sin(phase) + (i * 7919 % 101) / 10.0);
    h.b.push_back(i % 500 == 7 ? std::nan("") : 0.01 + 0.002 * std::cos(phase) + (i % 13) * 1e-4);
  }
  return h;
}

inline Result<Model> TrainSmallModel(const SmallHistory& h, double contamination = 0.02) {
  FeatureSpec spec;
  spec.inputs = {"latency", "errors"};
  spec.derived = {{DerivedFeature::Kind::kHourOfWeek}, {DerivedFeature::Kind::kIsDeployWindow}};
  TrainOptions options;
  options.params.n_estimators = 50;
  options.params.random_state = 3;
  options.params.contamination = Contamination::Fraction(contamination);
  options.contamination_explicit = true;
  options.created_ms = h.times.back();
  return TrainModel(spec, h.times.data(), {h.a.data(), h.b.data()}, h.times.size(), options);
}

}  // namespace isoscope::testing
