#pragma once

#include <string>

#include "isoscope/iforest.h"
#include "isoscope/status.h"

namespace isoscope::native {

/// Parsing of sklearn-style parameter strings (the CLI's flags and the config's `model:`);
/// errors say what is accepted.
Result<MaxSamples> ParseMaxSamples(const std::string& text);
Result<MaxFeatures> ParseMaxFeatures(const std::string& text);
Result<Contamination> ParseContamination(const std::string& text);

}  // namespace isoscope::native
