// libFuzzer target: DecodeBundle on arbitrary bytes. It must return a Status, never crash;
// a model it accepts must be scorable.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "isoscope/bundle.h"
#include "isoscope/model.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  for (const bool canaries : {true, false}) {
    isoscope::DecodeOptions options;
    options.check_canaries = canaries;
    std::vector<std::string> warnings;
    auto model = isoscope::DecodeBundle(data, size, options, &warnings);
    if (!model.ok()) {
      continue;
    }
    // Sanity: a decoded model builds a scorer and scores one all-zero row.
    auto scorer = isoscope::ModelScorer::Create(*model);
    if (scorer.ok()) {
      const std::vector<double> row(model->spec.width(), 0.0);
      (void)scorer->ScoreFeatures(row.data());
    }
  }
  return 0;
}
