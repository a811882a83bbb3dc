#include "exclusions.h"

#include <limits>

namespace isoscope::native {

void ExcludeWindows(const std::vector<TimeMs>& times, const std::vector<IncidentWindow>& windows,
                    const std::string& label, TrainOptions& options) {
  if (windows.empty()) return;
  options.exclusion_of_row.resize(times.size(), -1);
  const size_t first_reason = options.exclusion_reasons.size();
  for (const IncidentWindow& w : windows) options.exclusion_reasons.push_back(label + " " + w.name);
  for (size_t i = 0; i < times.size(); ++i) {
    if (options.exclusion_of_row[i] >= 0 || times[i] == std::numeric_limits<TimeMs>::min()) {
      continue;
    }
    for (size_t k = 0; k < windows.size(); ++k) {
      if (times[i] >= windows[k].start_ms && times[i] < windows[k].end_ms) {
        options.exclusion_of_row[i] = static_cast<int32_t>(first_reason + k);
        break;
      }
    }
  }
}

}  // namespace isoscope::native
