#include "demo_data.h"

#include <cmath>
#include <limits>
#include <random>

#include "isoscope/text.h"
#include "time_parse.h"

namespace isoscope::native {
namespace {

constexpr double kPi = 3.14159265358979323846;

// Box-Muller on mt19937_64: std::normal_distribution differs between standard libraries.
class Noise {
 public:
  explicit Noise(uint32_t seed) : rng_(seed) {}
  double Uniform() { return (static_cast<double>(rng_() >> 11) + 0.5) / 9007199254740992.0; }
  double Normal() {
    const double u = Uniform(), v = Uniform();
    return std::sqrt(-2.0 * std::log(u)) * std::cos(2.0 * kPi * v);
  }

 private:
  std::mt19937_64 rng_;
};

}  // namespace

DemoData GenerateDemoData(int days, uint32_t seed) {
  DemoData d;
  d.names = {"latency_p95", "error_rate", "cpu_throttle"};
  d.series.resize(3);
  // Starts on a Monday so every week of history is whole.
  const TimeMs start = *ParseTime("2026-08-03T00:00:00Z");
  const int64_t n = static_cast<int64_t>(days) * 1440;
  const TimeMs end = start + n * kMinuteMs;
  // Incidents near the end of history, so a weekly retrain would have had normal weeks first.
  auto at = [&](int day_from_end, int hour, int minute) {
    return end - static_cast<TimeMs>(day_from_end) * kDayMs + hour * kHourMs + minute * kMinuteMs;
  };
  if (days >= 21) {
    d.incidents.push_back({"slow_drift",
                           "latency and CPU throttling creep up over 6 hours at night "
                           "(a leak) until a restart clears it",
                           at(19, 1, 0), at(19, 7, 0)});
    d.incidents.push_back({"sharp_spike", "5 minutes of 4x latency and 6% errors at peak",
                           at(11, 15, 30), at(11, 15, 35)});
    d.incidents.push_back({"error_burst", "20 minutes of 3% errors at night, latency normal",
                           at(5, 3, 0), at(5, 3, 20)});
  }
  const TimeMs gap_start = start + 20 * kDayMs + 13 * kHourMs;
  const TimeMs gap_end = gap_start + 45 * kMinuteMs;

  Noise noise(seed);
  const std::vector<WeeklyWindow> deploys = DefaultDeployWindows();
  for (int64_t i = 0; i < n; ++i) {
    const TimeMs t = start + i * kMinuteMs;
    const int32_t mow = MinuteOfWeek(t);
    const int day = mow / 1440;
    const double hour = (mow % 1440) / 60.0;
    // Daily load peaking at 14:00 UTC, half as high on weekends.
    double load = 0.5 - 0.5 * std::cos(2.0 * kPi * (hour - 2.0) / 24.0);
    if (day >= 5) {
      load *= 0.5;
    }
    if (day == 0 && hour >= 7.0 && hour < 10.0) {
      load += 0.35 * (hour - 7.0) / 3.0;  // Monday-morning ramp: busy, not broken
    }
    bool deploy = false;
    for (const WeeklyWindow& w : deploys) {
      deploy = deploy || (mow >= w.start_minute && mow < w.end_minute);
    }
    double latency = 80.0 + 120.0 * load + (deploy ? 25.0 : 0.0) + 6.0 * noise.Normal();
    double errors =
        0.002 + 0.004 * load + (deploy ? 0.003 : 0.0) + std::fabs(0.0008 * noise.Normal());
    double cpu = 0.02 + 0.15 * load + 0.01 * noise.Normal();
    for (const Incident& inc : d.incidents) {
      if (t < inc.start_ms || t >= inc.end_ms) {
        continue;
      }
      const double f = static_cast<double>(t - inc.start_ms) / (inc.end_ms - inc.start_ms);
      if (inc.name == "slow_drift") {
        latency += 160.0 * f;
        cpu += 0.25 * f;
      } else if (inc.name == "sharp_spike") {
        latency *= 4.0;
        errors = 0.06 + 0.005 * noise.Normal();
      } else if (inc.name == "error_burst") {
        errors = 0.03 + 0.003 * noise.Normal();
      }
    }
    if (t >= gap_start && t < gap_end) {
      errors = std::numeric_limits<double>::quiet_NaN();  // a scrape gap: no value, not zero
    }
    d.times.push_back(t);
    d.series[0].push_back(std::round(latency * 1000.0) / 1000.0);
    d.series[1].push_back(std::isnan(errors) ? errors : std::round(errors * 1e6) / 1e6);
    d.series[2].push_back(std::round(std::max(0.0, cpu) * 1e5) / 1e5);
  }
  return d;
}

std::string DemoDataCsv(const DemoData& data) {
  std::string out = "timestamp";
  for (const std::string& name : data.names) {
    out += "," + name;
  }
  out += "\n";
  for (size_t i = 0; i < data.times.size(); ++i) {
    out += FormatTime(data.times[i]);
    for (const auto& s : data.series) {
      out += ',';
      if (!std::isnan(s[i])) {
        out += FormatShortest(s[i]);
      }
    }
    out += '\n';
  }
  return out;
}

std::string IncidentsCsv(const std::vector<Incident>& incidents) {
  std::string out = "name,start,end,description\n";
  for (const Incident& i : incidents) {
    out += i.name + "," + FormatTime(i.start_ms) + "," + FormatTime(i.end_ms) + "," +
           i.description + "\n";
  }
  return out;
}

}  // namespace isoscope::native
