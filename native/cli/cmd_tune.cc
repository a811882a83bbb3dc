// isoscope tune: alert settings for an alert budget. Scores a history with a bundle (or takes
// score's/backtest's scores as given), runs the core search (core/tune.h) and prints the
// frontier, then the chosen settings as the `alerts:` of isoscope.yml and as `rules` flags.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "commands.h"
#include "config.h"
#include "csv.h"
#include "file_io.h"
#include "incidents.h"
#include "isoscope/features.h"
#include "isoscope/model.h"
#include "isoscope/text.h"
#include "isoscope/tune.h"
#include "scored_csv.h"
#include "time_parse.h"
#include "time_rules.h"

namespace isoscope::native {

namespace {

// The history's times and scores, with what the report says about them.
struct History {
  std::vector<TimeMs> times;
  std::vector<double> scores;
  std::string source;  ///< "model V" or "scores as given"
  TimeMs step_ms = 0;  ///< the model's step, or the scores' median step
};

// The typical step of a CSV of scores: the median gap between rows (0 with fewer than 2).
TimeMs MedianStep(const std::vector<TimeMs>& times) {
  std::vector<TimeMs> gaps;
  for (size_t i = 1; i < times.size(); ++i) gaps.push_back(times[i] - times[i - 1]);
  if (gaps.empty()) return 0;
  std::nth_element(gaps.begin(), gaps.begin() + gaps.size() / 2, gaps.end());
  return gaps[gaps.size() / 2];
}

Result<History> ScoreWithBundle(const TuneArgs& args, const std::string& content) {
  auto model = LoadBundle(args.bundle);
  if (!model.ok()) return model.status();
  auto scorer = ModelScorer::Create(*model);
  if (!scorer.ok()) return scorer.status();
  CsvOptions options;
  options.time_column = args.time_column;
  options.features = model->spec.inputs;
  auto data = ParseCsv(content, options, args.csv);
  if (!data.ok()) return data.status();
  if (data->time_column.empty()) {
    return Status(ErrorCode::kBadInput, args.csv + " has no time column (--time-column)");
  }
  if (auto rules = ApplyTimeRules(*data, args.csv); !rules.ok()) return rules.status();
  std::vector<const double*> series;
  for (const auto& s : data->series) series.push_back(s.data());
  auto rows = BuildFeatureRows(model->spec, data->times.data(), series, data->rows);
  if (!rows.ok()) return rows.status();
  History h;
  for (const RowScore& s : scorer->ScoreRows(*rows)) {
    h.scores.push_back(s.ok() ? s.anomaly_score : std::nan(""));
  }
  h.times = data->times;
  h.source = "model " + model->model_version;
  h.step_ms = model->spec.step_ms;
  return h;
}

Result<History> ReadHistory(const TuneArgs& args) {
  auto content = ReadFile(args.csv);
  if (!content.ok()) return content.status();
  if (!HasScoreColumn(*content)) {
    if (args.bundle.empty()) {
      return Status(ErrorCode::kInvalidArgument,
                    args.csv + " has no anomaly_score column: give --bundle B to score it");
    }
    return ScoreWithBundle(args, *content);
  }
  auto data = ParseScoredCsv(*content, args.time_column, args.csv);
  if (!data.ok()) return data.status();
  if (auto rules = ApplyTimeRules(*data, args.csv); !rules.ok()) return rules.status();
  History h;
  h.times = data->times;
  h.scores = data->scores;
  h.source = "scores as given";
  h.step_ms = MedianStep(h.times);
  return h;
}

// As the config writes durations, with 0 as "0s" rather than "0ms".
std::string Duration(TimeMs ms) { return ms == 0 ? "0s" : FormatDurationMs(ms); }

// "1/week", "2/day", "0.5" (per week).
std::optional<double> ParseBudget(const std::string& text) {
  const size_t slash = text.find('/');
  const std::string number = text.substr(0, slash);
  const std::string unit = slash == std::string::npos ? "week" : text.substr(slash + 1);
  char* end = nullptr;
  const double v = std::strtod(number.c_str(), &end);
  if (number.empty() || *end != '\0' || !std::isfinite(v) || v <= 0) return std::nullopt;
  if (unit == "week" || unit == "w") return v;
  if (unit == "day" || unit == "d") return v * 7;
  return std::nullopt;
}

Result<std::vector<TimeMs>> ParseDurations(const std::string& flag, const std::string& text) {
  std::vector<TimeMs> out;
  for (const std::string& part : SplitList(text)) {
    // 0s parses, so that the request's own check can say why it is too short.
    const auto d = ParseDurationMs(part, /*allow_zero=*/true);
    if (!d.ok()) {
      return Status(ErrorCode::kInvalidArgument,
                    flag + ": '" + part + "' is not a duration like 5m (a list: 5m,10m)");
    }
    out.push_back(*d);
  }
  if (out.empty()) return Status(ErrorCode::kInvalidArgument, flag + " lists no duration");
  return out;
}

// Rules whose for: or smoothing holds fewer than three samples page on one outlier (replay
// and rules warn the same way), so such values are not searched.
std::vector<TimeMs> WithEnoughSamples(const std::vector<TimeMs>& values, TimeMs step_ms) {
  std::vector<TimeMs> out;
  for (TimeMs v : values) {
    if (v >= 3 * step_ms) out.push_back(v);
  }
  return out;
}

Result<TuneRequest> RequestFromArgs(const TuneArgs& args, TimeMs step_ms) {
  TuneRequest req;
  const auto budget = ParseBudget(args.budget);
  const auto warning_budget = ParseBudget(args.warning_budget);
  if (!budget) {
    return Status(ErrorCode::kInvalidArgument,
                  "--budget: '" + args.budget + "' is not a rate like 1/week or 2/day");
  }
  if (!warning_budget) {
    return Status(ErrorCode::kInvalidArgument,
                  "--warning-budget: '" + args.warning_budget + "' is not a rate like 5/week");
  }
  req.budget_per_week = *budget;
  req.warning_budget_per_week = *warning_budget;
  if (!args.max_delay.empty()) {
    const auto d = ParseDurationMs(args.max_delay, /*allow_zero=*/true);
    if (!d.ok()) return Status(ErrorCode::kInvalidArgument, "--max-delay: not a duration");
    req.max_delay_ms = *d;
  }
  const auto eval = ParseDurationMs(args.eval_interval);
  if (!eval.ok()) {
    return Status(ErrorCode::kInvalidArgument, "--eval-interval: not a positive duration");
  }
  req.eval_interval_ms = *eval;
  auto fors = ParseDurations("--for", args.for_grid);
  if (!fors.ok()) return fors.status();
  auto smooth = ParseDurations("--smooth", args.smooth_grid);
  if (!smooth.ok()) return smooth.status();
  req.for_ms = WithEnoughSamples(*fors, step_ms);
  req.smooth_ms = WithEnoughSamples(*smooth, step_ms);
  for (const auto& [flag, list] :
       {std::pair<const char*, const std::vector<TimeMs>*>{"--for", &req.for_ms},
        {"--smooth", &req.smooth_ms}}) {
    if (list->empty()) {
      return Status(ErrorCode::kInvalidArgument,
                    std::string(flag) + ": every value holds fewer than 3 samples at the step of " +
                        Duration(step_ms) + "; use at least " + Duration(3 * step_ms));
    }
  }
  return req;
}

std::string Rate(double per_week) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.2f", per_week);
  return buf;
}

std::string AlertsYaml(const TuneCandidate& c, TimeMs eval_ms) {
  return "alerts:\n  warning: " + FormatShortest(c.warning) +
         "\n  critical: " + FormatShortest(c.critical) + "\n  for: " + Duration(c.for_ms) +
         "\n  smooth: " + Duration(c.smooth_ms) + "\n  eval_interval: " + Duration(eval_ms) + "\n";
}

std::string RulesFlags(const TuneCandidate& c, TimeMs eval_ms) {
  return "--warning " + FormatShortest(c.warning) + " --critical " + FormatShortest(c.critical) +
         " --for " + Duration(c.for_ms) + " --smooth " + Duration(c.smooth_ms) +
         " --eval-interval " + Duration(eval_ms);
}

std::string CandidateJson(const TuneCandidate& c) {
  return "{\"warning\":" + FormatShortest(c.warning) +
         ",\"critical\":" + FormatShortest(c.critical) +
         ",\"for_seconds\":" + std::to_string(c.for_ms / 1000) +
         ",\"smooth_seconds\":" + std::to_string(c.smooth_ms / 1000) +
         ",\"pages\":" + std::to_string(c.pages) +
         ",\"pages_per_week\":" + FormatShortest(c.pages_per_week) +
         ",\"warnings\":" + std::to_string(c.warnings) + ",\"caught\":" + std::to_string(c.caught) +
         ",\"total_delay_seconds\":" + std::to_string(c.total_delay_ms / 1000) +
         ",\"false_pages\":" + std::to_string(c.false_pages) + "}";
}

void PrintJson(const TuneResult& r, const TuneRequest& req, size_t incidents) {
  std::string j = "{\"budget_per_week\":" + FormatShortest(req.budget_per_week) +
                  ",\"incidents\":" + std::to_string(incidents) +
                  ",\"evaluated\":" + std::to_string(r.evaluated) +
                  ",\"chosen\":" + CandidateJson(r.chosen) + ",\"frontier\":[";
  for (size_t i = 0; i < r.frontier.size(); ++i) {
    j += (i ? "," : "") + CandidateJson(r.frontier[i]);
  }
  j += "],\"rules_flags\":\"" + RulesFlags(r.chosen, req.eval_interval_ms) + "\"}\n";
  std::fwrite(j.data(), 1, j.size(), stdout);
}

void PrintText(const TuneArgs& args, const History& h, const TuneResult& r, const TuneRequest& req,
               size_t incidents) {
  std::printf("tune of %s (%s): %zu rows, %.1fd of scored time; %zu settings judged\n",
              args.csv.c_str(), h.source.c_str(), h.times.size(),
              static_cast<double>(r.replay.scored_ms) / kDayMs, r.evaluated);
  std::printf("budget: %s pages per week of scored time%s\n\n", Rate(req.budget_per_week).c_str(),
              req.max_delay_ms >= 0
                  ? (", incidents count when paged within " + Duration(req.max_delay_ms)).c_str()
                  : "");
  std::printf("%10s %6s %8s %12s %10s %10s %6s %7s\n", "pages/wk", "pages", "caught", "total delay",
              "critical", "warning", "for", "smooth");
  for (const TuneCandidate& c : r.frontier) {
    const bool chosen = c.critical == r.chosen.critical && c.for_ms == r.chosen.for_ms &&
                        c.smooth_ms == r.chosen.smooth_ms;
    std::printf(
        "%10s %6zu %8s %12s %10.4f %10.4f %6s %7s%s\n", Rate(c.pages_per_week).c_str(), c.pages,
        incidents ? (std::to_string(c.caught) + "/" + std::to_string(incidents)).c_str() : "-",
        incidents ? Duration(c.total_delay_ms).c_str() : "-", c.critical, c.warning,
        Duration(c.for_ms).c_str(), Duration(c.smooth_ms).c_str(), chosen ? "  <- chosen" : "");
  }
  const TuneCandidate& c = r.chosen;
  std::printf("\nchosen: %zu pages (%s per week), %zu warnings (%s per week)", c.pages,
              Rate(c.pages_per_week).c_str(), c.warnings, Rate(c.warnings_per_week).c_str());
  if (incidents) {
    std::printf(", %zu of %zu incidents caught, %zu false pages", c.caught, incidents,
                c.false_pages);
  }
  std::printf("\n\n# isoscope.yml, under the detector:\n%s",
              AlertsYaml(c, req.eval_interval_ms).c_str());
  std::printf("\n# or: isoscope rules --config isoscope.yml %s\n",
              RulesFlags(c, req.eval_interval_ms).c_str());
}

}  // namespace

Status RunTune(const TuneArgs& args) {
  auto history = ReadHistory(args);
  if (!history.ok()) return history.status();
  auto req = RequestFromArgs(args, history->step_ms);
  // Every way a request fails is a flag's value: a usage error.
  if (!req.ok()) return Status(ErrorCode::kInvalidArgument, req.status().message());
  std::vector<IncidentWindow> incidents;
  if (!args.incidents.empty()) {
    auto read = ReadIncidents(args.incidents);
    if (!read.ok()) return read.status();
    incidents = std::move(*read);
  }
  auto r = TuneAlerts(history->times, history->scores, *req, incidents);
  if (!r.ok()) return r.status();
  if (!args.out.empty()) {
    const Status s = WriteFileAtomic(args.out, AlertsYaml(r->chosen, req->eval_interval_ms));
    if (!s.ok()) return s;
  }
  if (args.json) {
    PrintJson(*r, *req, incidents.size());
  } else {
    PrintText(args, *history, *r, *req, incidents.size());
  }
  return Status::Ok();
}

}  // namespace isoscope::native
