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

// The injected incidents, none in a history shorter than four weeks.
std::vector<Incident> DemoIncidents(TimeMs start, int days) {
  std::vector<Incident> out;
  // Incidents in the last three whole weeks, so a weekly retrain would have had normal weeks
  // first. at(3, 1, ...) is the Tuesday of the third-last whole week.
  const int64_t weeks = days / 7;
  auto at = [&](int weeks_back, int weekday, int hour, int minute) {
    return start + (weeks - weeks_back) * kWeekMs + weekday * kDayMs + hour * kHourMs +
           minute * kMinuteMs;
  };
  if (days >= 28) {
    out.push_back({"memory_leak",
                   "memory grows 12 MB/hour for 6 hours at night, under the GC "
                   "sawtooth, until a restart clears it",
                   at(3, 1, 1, 0), at(3, 1, 7, 0)});
    out.push_back({"latency_spike", "5 minutes of 4x latency and 6% errors at peak",
                   at(2, 3, 15, 30), at(2, 3, 15, 35)});
    out.push_back({"level_shift",
                   "a deploy at 11:30 leaves latency 45 ms higher and CPU throttling "
                   "up until it is rolled back at 14:30",
                   at(1, 2, 11, 30), at(1, 2, 14, 30)});
    out.push_back({"error_burst", "20 minutes of 3% errors at night, latency normal",
                   at(1, 4, 3, 0), at(1, 4, 3, 20)});
  }
  return out;
}

}  // namespace

DemoData GenerateDemoData(int days, uint32_t seed) {
  DemoData d;
  d.names = {"latency_p95", "error_rate", "cpu_throttle", "memory_mb"};
  d.series.resize(4);
  // Starts on a Monday so every week of history is whole.
  const TimeMs start = *ParseTime("2026-08-03T00:00:00Z");
  const int64_t n = static_cast<int64_t>(days) * 1440;
  d.incidents = DemoIncidents(start, days);
  const TimeMs gap_start = start + 20 * kDayMs + 13 * kHourMs;
  const TimeMs gap_end = gap_start + 45 * kMinuteMs;

  Noise noise(seed);
  const std::vector<WeeklyWindow> deploys = DefaultDeployWindows();
  double heap = 0;        // GC sawtooth: the heap grows, a collection drops it
  double gc_every = 8.0;  // minutes until the next collection
  double since_gc = 0;
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
    // Heap: 5 MB a minute between collections every 6-10 minutes (40 MB of sawtooth), on a
    // base that follows the load mildly (the weekly shape) and moves a little each deploy.
    since_gc += 1.0;
    if (since_gc >= gc_every) {
      since_gc = 0;
      heap = 0;
      gc_every = 6.0 + 4.0 * noise.Uniform();
    } else {
      heap += 5.0 + 0.5 * noise.Normal();
    }
    double memory = 1800.0 + 60.0 * load + (deploy ? 10.0 : 0.0) + heap + 1.5 * noise.Normal();
    for (const Incident& inc : d.incidents) {
      if (t < inc.start_ms || t >= inc.end_ms) {
        continue;
      }
      const double minutes = static_cast<double>(t - inc.start_ms) / kMinuteMs;
      if (inc.name == "memory_leak") {
        memory += 12.0 * minutes / 60.0;
      } else if (inc.name == "latency_spike") {
        latency *= 4.0;
        errors = 0.06 + 0.005 * noise.Normal();
      } else if (inc.name == "level_shift") {
        latency += 45.0;
        cpu += 0.08;
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
    d.series[3].push_back(std::round(memory * 1000.0) / 1000.0);
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
