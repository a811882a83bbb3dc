// libFuzzer target: ParseCsv on arbitrary text, with and without a time column.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "csv.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view content(reinterpret_cast<const char*>(data), size);
  isoscope::native::CsvOptions options;
  auto csv = isoscope::native::ParseCsv(content, options, "fuzz.csv");
  if (csv.ok()) {
    // The documented shape: one series per feature, each rows long.
    if (csv->series.size() != csv->feature_names.size()) {
      __builtin_trap();
    }
    for (const auto& s : csv->series) {
      if (s.size() != csv->rows) {
        __builtin_trap();
      }
    }
    if (!csv->time_column.empty() && csv->times.size() != csv->rows) {
      __builtin_trap();
    }
  }
  options.no_time = true;
  (void)isoscope::native::ParseCsv(content, options, "fuzz.csv");
  return 0;
}
