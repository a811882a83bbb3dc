// libFuzzer target: ParseScoredCsv (replay's reader of score/backtest output) on arbitrary text.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "scored_csv.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view content(reinterpret_cast<const char*>(data), size);
  (void)isoscope::native::HasScoreColumn(content);
  auto csv = isoscope::native::ParseScoredCsv(content, "", "fuzz.csv");
  if (csv.ok()) {
    // The documented shape: every column rows long, scores finite or NaN (no score).
    const size_t n = csv->times.size();
    if (n == 0 || csv->scores.size() != n) __builtin_trap();
    if (!csv->is_anomaly.empty() && csv->is_anomaly.size() != n) __builtin_trap();
    if (csv->has_model_version != (csv->model_versions.size() == n)) __builtin_trap();
    for (double s : csv->scores) {
      if (std::isinf(s)) __builtin_trap();
    }
  }
  return 0;
}
