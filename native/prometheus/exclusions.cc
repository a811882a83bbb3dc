#include "exclusions.h"

#include <algorithm>
#include <limits>

namespace isoscope::native {

void ExcludeWindows(const std::vector<TimeMs>& times, const std::vector<IncidentWindow>& windows,
                    const std::string& label, TrainOptions& options,
                    const std::vector<char>& only) {
  if (windows.empty()) return;
  options.exclusion_of_row.resize(times.size(), -1);
  const size_t first_reason = options.exclusion_reasons.size();
  for (const IncidentWindow& w : windows) options.exclusion_reasons.push_back(label + " " + w.name);
  for (size_t i = 0; i < times.size(); ++i) {
    if (options.exclusion_of_row[i] >= 0 || times[i] == std::numeric_limits<TimeMs>::min() ||
        (!only.empty() && !only[i])) {
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

void ExcludeWeekly(const std::vector<TimeMs>& times, const std::vector<WeeklyWindow>& weekly,
                   const std::string& reason, TrainOptions& options) {
  if (weekly.empty()) return;
  options.exclusion_of_row.resize(times.size(), -1);
  const int32_t index = static_cast<int32_t>(options.exclusion_reasons.size());
  options.exclusion_reasons.push_back(reason);
  for (size_t i = 0; i < times.size(); ++i) {
    if (options.exclusion_of_row[i] >= 0 || times[i] == std::numeric_limits<TimeMs>::min()) {
      continue;
    }
    const int32_t minute = MinuteOfWeek(times[i]);
    for (const WeeklyWindow& w : weekly) {
      if (minute >= w.start_minute && minute < w.end_minute) {
        options.exclusion_of_row[i] = index;
        break;
      }
    }
  }
}

std::vector<IncidentWindow> WindowsWhere(const std::vector<PromSeries>& series, TimeMs step_ms,
                                         TimeMs margin_ms, const std::string& name) {
  std::vector<std::pair<TimeMs, TimeMs>> spans;
  for (const PromSeries& s : series) {
    for (size_t i = 0; i < s.times.size(); ++i) {
      if (s.values[i] > 0) {
        spans.emplace_back(s.times[i] - margin_ms, s.times[i] + step_ms + margin_ms);
      }
    }
  }
  std::sort(spans.begin(), spans.end());
  std::vector<IncidentWindow> out;
  for (const auto& [start, end] : spans) {
    if (!out.empty() && start <= out.back().end_ms) {
      out.back().end_ms = std::max(out.back().end_ms, end);
    } else {
      out.push_back({name, start, end});
    }
  }
  return out;
}

}  // namespace isoscope::native
