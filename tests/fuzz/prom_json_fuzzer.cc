// libFuzzer target: the Prometheus HTTP API response parsers on arbitrary bodies.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "prom_json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  auto matrix = isoscope::native::ParseMatrix(body);
  if (matrix.ok()) {
    for (const auto& series : *matrix) {
      if (series.times.size() != series.values.size()) {
        __builtin_trap();  // the documented invariant: one value per time
      }
    }
  }
  (void)isoscope::native::ParseVector(body);
  (void)isoscope::native::PromErrorText(body);
  // The first line (up to 64 bytes) as a sample value.
  (void)isoscope::native::ParsePromValue(body.substr(0, std::min<size_t>(64, body.find('\n'))));
  return 0;
}
