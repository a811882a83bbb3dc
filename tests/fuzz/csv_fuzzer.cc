// libFuzzer target: ParseCsv on arbitrary text, with and without a time column, and the
// time rules (time_rules.h) on what it reads.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "csv.h"
#include "time_rules.h"

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
    // The time rules every command applies next: what is kept is strictly ascending, every
    // column keeps as many rows, and every dropped row maps to a later kept one.
    auto rules = isoscope::native::ApplyTimeRules(*csv, "fuzz.csv");
    if (rules.ok()) {
      for (size_t i = 1; i < csv->times.size(); ++i) {
        if (csv->times[i] <= csv->times[i - 1]) __builtin_trap();
      }
      for (const auto& s : csv->series) {
        if (s.size() != csv->rows || rules->kept.size() != csv->rows) __builtin_trap();
      }
      const auto of = rules->KeptRowOf();
      for (size_t row = 0; row < of.size(); ++row) {
        if (of[row] < row) __builtin_trap();
      }
    }
  }
  options.no_time = true;
  (void)isoscope::native::ParseCsv(content, options, "fuzz.csv");
  return 0;
}
