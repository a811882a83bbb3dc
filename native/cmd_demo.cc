// `isoscope demo`: the whole offline loop on built-in data, through the same code paths as
// the train and score commands, ending with which injected incidents were flagged.
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>

#include "commands.h"
#include "csv.h"
#include "demo_data.h"
#include "file_io.h"
#include "time_parse.h"

namespace isoscope::native {

int RunDemo(const DemoArgs& args) {
  auto fail = [](const Status& s) {
    std::fprintf(stderr, "isoscope demo: %s\n", s.message().c_str());
    return ExitCodeFor(s);
  };
  if (args.days < 21) {
    return fail(Status(ErrorCode::kInvalidArgument, "--days must be at least 21"));
  }
  std::string dir = args.out_dir;
  for (size_t pos = 1; pos <= dir.size(); ++pos) {
    if (pos == dir.size() || dir[pos] == '/') {
      const std::string part = dir.substr(0, pos);
      if (::mkdir(part.c_str(), 0755) != 0 && errno != EEXIST) {
        return fail(
            Status(ErrorCode::kBadInput, "cannot create '" + part + "': " + std::strerror(errno)));
      }
    }
  }
  const std::string history = dir + "/history.csv";
  const std::string incidents_path = dir + "/incidents.csv";
  const std::string bundle = dir + "/model.bundle";
  const std::string scores = dir + "/scores.csv";

  std::printf("== 1. built-in history: %d days at 60 s of latency_p95, error_rate, cpu_throttle\n",
              args.days);
  const DemoData data = GenerateDemoData(args.days, args.seed);
  for (const auto& [path, text] : {std::pair{history, DemoDataCsv(data)},
                                   std::pair{incidents_path, IncidentsCsv(data.incidents)}}) {
    Status s = WriteFileAtomic(path, text);
    if (!s.ok()) return fail(s);
  }
  std::printf("   wrote %s (%zu rows) and %s (%zu injected incidents)\n\n", history.c_str(),
              data.times.size(), incidents_path.c_str(), data.incidents.size());

  std::printf(
      "== 2. isoscope train --csv %s --out %s --n-estimators 200 --contamination 0.02 "
      "--random-state 42\n",
      history.c_str(), bundle.c_str());
  std::fflush(stdout);
  TrainArgs train;
  train.csv = history;
  train.out = bundle;
  train.n_estimators = 200;
  train.contamination = "0.02";
  train.random_state = 42;
  int rc = RunTrain(train);
  if (rc != kExitOk) return rc;

  std::printf("\n== 3. isoscope score --bundle %s --csv %s --out %s\n", bundle.c_str(),
              history.c_str(), scores.c_str());
  std::fflush(stdout);
  ScoreArgs score;
  score.bundle = bundle;
  score.csv = history;
  score.out = scores;
  rc = RunScore(score);
  std::fflush(stderr);
  if (rc != kExitOk) return rc;

  // Read back what score wrote, as a user's script would.
  auto text = ReadFile(scores);
  if (!text.ok()) return fail(text.status());
  CsvOptions options;
  options.time_column = "timestamp";
  options.features = {"anomaly_score", "is_anomaly"};
  auto scored = ParseCsv(*text, options, scores);
  if (!scored.ok()) return fail(scored.status());
  const auto& anomaly = scored->series[0];
  const auto& flagged = scored->series[1];

  std::printf(
      "\n== 4. injected incidents (raw per-sample scores; smoothing and for: come with "
      "the alert pipeline)\n");
  std::printf("   %-12s %-20s %6s %8s %9s %11s  %s\n", "incident", "start", "rows", "flagged",
              "max score", "first flag", "verdict");
  size_t caught = 0;
  for (const Incident& inc : data.incidents) {
    size_t rows = 0, hits = 0;
    double max_score = 0;
    TimeMs first = -1;
    for (size_t i = 0; i < scored->rows; ++i) {
      const TimeMs t = scored->times[i];
      if (t < inc.start_ms || t >= inc.end_ms || std::isnan(anomaly[i])) {
        continue;
      }
      ++rows;
      max_score = std::max(max_score, anomaly[i]);
      if (flagged[i] == 1.0) {
        ++hits;
        if (first < 0) first = t;
      }
    }
    char delay[32] = "-";
    if (first >= 0) {
      std::snprintf(delay, sizeof delay, "+%lld min",
                    static_cast<long long>((first - inc.start_ms) / kMinuteMs));
    }
    caught += hits > 0 ? 1 : 0;
    std::printf("   %-12s %-20s %6zu %8zu %9.3f %11s  %s\n", inc.name.c_str(),
                FormatTime(inc.start_ms).c_str(), rows, hits, max_score, delay,
                hits > 0 ? "FLAGGED" : "missed");
  }
  size_t outside = 0, outside_flagged = 0, flagged_in_deploy = 0;
  const auto deploys = DefaultDeployWindows();
  for (size_t i = 0; i < scored->rows; ++i) {
    const TimeMs t = scored->times[i];
    const bool in_incident =
        std::any_of(data.incidents.begin(), data.incidents.end(),
                    [&](const Incident& inc) { return t >= inc.start_ms && t < inc.end_ms; });
    if (!in_incident && !std::isnan(anomaly[i])) {
      ++outside;
      if (flagged[i] == 1.0) {
        ++outside_flagged;
        const int32_t mow = MinuteOfWeek(t);
        flagged_in_deploy += std::any_of(deploys.begin(), deploys.end(), [&](const auto& w) {
          return mow >= w.start_minute && mow < w.end_minute;
        });
      }
    }
  }
  std::printf(
      "   %zu of %zu incidents flagged; outside incidents %.2f%% of samples flagged "
      "(contamination 0.02 flags about 2%% by design)\n",
      caught, data.incidents.size(),
      outside ? 100.0 * static_cast<double>(outside_flagged) / outside : 0.0);
  if (outside_flagged > 0) {
    std::printf(
        "   %.0f%% of those fall in deploy windows: a rare 0/1 feature isolates quickly, so a\n"
        "   point forest calls every deploy unusual - the origin team's noisy pages. Raw\n"
        "   samples beyond the training range score like the most extreme training rows,\n"
        "   which is why a 5-minute spike can stay under the 2%% threshold.\n",
        100.0 * static_cast<double>(flagged_in_deploy) / outside_flagged);
  }
  std::printf("\nnext: isoscope inspect --bundle %s   |   scores in %s\n", bundle.c_str(),
              scores.c_str());
  return kExitOk;
}

}  // namespace isoscope::native
