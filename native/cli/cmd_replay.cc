// isoscope replay: "would it have paged?" — scores a CSV with a bundle (or takes the scores
// of score's or backtest's output as given) and replays the alert rules (core/alert.h) over
// the whole history, optionally against known incidents.
#include <sys/stat.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <optional>
#include <string>
#include <tuple>

#include "commands.h"
#include "csv.h"
#include "file_io.h"
#include "incidents.h"
#include "isoscope/alert.h"
#include "isoscope/baseline.h"
#include "isoscope/calibration.h"
#include "isoscope/text.h"
#include "parallel_score.h"
#include "scored_csv.h"
#include "time_parse.h"
#include "time_rules.h"

namespace isoscope::native {

namespace {

Status Usage(const std::string& message) { return Status(ErrorCode::kInvalidArgument, message); }

std::string Minutes(TimeMs ms) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1fm", static_cast<double>(ms) / kMinuteMs);
  return buf;
}

// A length of time in the unit that reads best: 15.0m, 36.5h, 62.0d.
std::string Span(TimeMs ms) {
  if (ms < kHourMs) return Minutes(ms);
  char buf[32];
  if (ms < 2 * kDayMs) {
    std::snprintf(buf, sizeof(buf), "%.1fh", static_cast<double>(ms) / kHourMs);
  } else {
    std::snprintf(buf, sizeof(buf), "%.1fd", static_cast<double>(ms) / kDayMs);
  }
  return buf;
}

// A rate per week for the text report; "-" when no time was scored.
std::string Rate(double per_week) {
  if (std::isnan(per_week)) return "-";
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.2f", per_week);
  return buf;
}

std::string JsonString(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\u%04x", c);
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string JsonNumber(double v) { return std::isfinite(v) ? FormatShortest(v) : "null"; }

std::string JsonDelay(const std::optional<TimeMs>& ms) {
  return ms ? std::to_string(*ms / 1000) : "null";
}

// A model's stretch of a CSV of scores: from its first row on, the rules use its thresholds.
struct ModelSpan {
  std::string version;
  TimeMs from_ms = 0;
  double warning = 0;
  double critical = 0;
  double threshold = std::nan("");  ///< its is_anomaly threshold; NaN without its bundle
};

// What the report says about where the scores came from.
struct ScoreSummary {
  bool as_given = false;      ///< a CSV of scores, not scored here
  std::string model_version;  ///< "" = several or none (null in JSON; as_given only)
  double threshold = std::nan("");
  size_t rows = 0, scored = 0;
  std::optional<size_t> flagged;  ///< unknown without is_anomaly and the models
  std::string flagged_basis;      ///< as_given: how flagged was counted
  std::vector<ModelSpan> models;  ///< as_given: one per model change, in time order
  bool warning_varies = false, critical_varies = false;
  TimeRules time;        ///< what the time rules found (repeated times, zone-less times)
  TimeMs scored_ms = 0;  ///< the time the rules had a score to judge (ReplayResult::scored_ms)
  /// The plain rolling z-score rule on the same inputs and rules (re-score mode only).
  std::optional<ReplayResult> baseline;
};

// The baseline's verdict, in the same terms as the forest's.
std::string BaselineJson(const ReplayResult& b, bool with_incidents) {
  std::string j = ",\"baseline\":{\"rule\":\"max |z| over the last 24h per input\"";
  j += ",\"warning\":" + JsonNumber(kBaselineWarningZ) +
       ",\"critical\":" + JsonNumber(kBaselineCriticalZ);
  j += ",\"pages\":" + std::to_string(b.pages) +
       ",\"pages_per_week\":" + JsonNumber(b.pages_per_week);
  if (with_incidents) {
    j += ",\"false_pages\":" + std::to_string(b.false_pages) +
         ",\"false_pages_per_week\":" + JsonNumber(b.false_pages_per_week);
  }
  j += ",\"incidents\":[";
  for (size_t i = 0; i < b.incidents.size(); ++i) {
    const IncidentOutcome& o = b.incidents[i];
    j += (i ? "," : "") + std::string("{\"name\":") + JsonString(o.name) +
         ",\"caught\":" + (o.caught ? "true" : "false") +
         ",\"page_delay_seconds\":" + JsonDelay(o.page_delay_ms) + "}";
  }
  return j + "]}";
}

void PrintBaseline(const ReplayResult& b, bool with_incidents) {
  std::printf(
      "\nbaseline (max |z| of the inputs over the last 24h, warning > %g, critical > %g, same "
      "rules): %zu pages, %s per week\n",
      kBaselineWarningZ, kBaselineCriticalZ, b.pages, Rate(b.pages_per_week).c_str());
  if (!with_incidents) return;
  size_t caught = 0;
  for (const IncidentOutcome& o : b.incidents) {
    caught += o.caught ? 1 : 0;
    std::printf("  %-16s %-7s %12s\n", o.name.c_str(), o.caught ? "yes" : "no",
                o.page_delay_ms ? ("+" + Minutes(*o.page_delay_ms)).c_str() : "-");
  }
  std::printf("baseline: %zu of %zu incidents caught; false pages: %zu (%s per week)\n", caught,
              b.incidents.size(), b.false_pages, Rate(b.false_pages_per_week).c_str());
}

// The rules' settings besides the thresholds.
struct Durations {
  TimeMs for_ms, smooth_ms, eval_ms;
  /// Both thresholds are surprise:N: the rules smooth the calibrated surprise, not the score.
  bool on_surprise = false;
};

// The rules' settings in the JSON report; "series" is what they smooth.
std::string SettingsJson(const ReplayConfig& config, const Durations& d, const ScoreSummary& s) {
  return ",\"settings\":{\"warning\":" +
         (s.warning_varies ? "null" : JsonNumber(config.warning.threshold)) +
         ",\"critical\":" + (s.critical_varies ? "null" : JsonNumber(config.critical.threshold)) +
         ",\"for_seconds\":" + std::to_string(d.for_ms / 1000) +
         ",\"smooth_seconds\":" + std::to_string(d.smooth_ms / 1000) +
         ",\"eval_interval_seconds\":" + std::to_string(d.eval_ms / 1000) +
         ",\"series\":" + (d.on_surprise ? "\"surprise\"}" : "\"anomaly_score\"}");
}

// One severity's replay as JSON: counts, rates and its pending and firing intervals.
std::string SeverityJson(const char* name, const SeverityReplay& sev) {
  std::string j = ",\"" + std::string(name) + "\":{";
  j += "\"pending_count\":" + std::to_string(sev.pending.size());
  j += ",\"firing_count\":" + std::to_string(sev.firing.size());
  j += ",\"firing_seconds\":" + std::to_string(sev.firing_ms / 1000);
  j += ",\"firings_per_week\":" + JsonNumber(sev.firings_per_week);
  for (const auto& [key, list] :
       {std::pair<const char*, const std::vector<AlertInterval>*>{"pending", &sev.pending},
        {"firing", &sev.firing}}) {
    j += ",\"" + std::string(key) + "\":[";
    for (size_t i = 0; i < list->size(); ++i) {
      const AlertInterval& a = (*list)[i];
      j += (i ? "," : "") + std::string("{\"start\":") + JsonString(FormatTime(a.start_ms)) +
           ",\"end\":" + JsonString(FormatTime(a.end_ms)) +
           ",\"open\":" + (a.open ? "true" : "false") + "}";
    }
    j += "]";
  }
  return j + "}";
}

// Each incident: caught or not, and the delays of its first warning and first page.
std::string IncidentsJson(const ReplayResult& result) {
  const ReplayResult* r = &result;
  std::string j;
  j += ",\"incidents\":[";
  for (size_t i = 0; i < r->incidents.size(); ++i) {
    const IncidentOutcome& o = r->incidents[i];
    j += (i ? "," : "") + std::string("{\"name\":") + JsonString(o.name) +
         ",\"start\":" + JsonString(FormatTime(o.start_ms)) +
         ",\"end\":" + JsonString(FormatTime(o.end_ms)) +
         ",\"caught\":" + (o.caught ? "true" : "false") +
         ",\"warning_delay_seconds\":" + JsonDelay(o.warning_delay_ms) +
         ",\"page_delay_seconds\":" + JsonDelay(o.page_delay_ms) + "}";
  }
  j += "]";
  return j;
}

// The models of a scores-as-given replay, each from its first row on, with its thresholds.
std::string ModelsJson(const ScoreSummary& s) {
  std::string j;
  if (s.as_given) {
    j += ",\"scores_as_given\":true,\"models\":[";
    for (size_t i = 0; i < s.models.size(); ++i) {
      const ModelSpan& m = s.models[i];
      j += (i ? "," : "") + std::string("{\"model_version\":") + JsonString(m.version) +
           ",\"from\":" + JsonString(FormatTime(m.from_ms)) +
           ",\"warning\":" + JsonNumber(m.warning) + ",\"critical\":" + JsonNumber(m.critical) +
           ",\"threshold\":" + JsonNumber(m.threshold) + "}";
    }
    j += "]";
  }
  return j;
}

// replay --json: the whole result, one object.
std::string ReportJson(const ReplayConfig& config, const Durations& d, const ReplayResult& result,
                       const std::vector<IncidentWindow>& incidents, const ScoreSummary& s) {
  const ReplayResult* r = &result;
  const double flagged_share =
      s.flagged && s.scored ? static_cast<double>(*s.flagged) / s.scored : 0.0;
  std::string j = "{";
  j += "\"model_version\":" +
       (s.as_given && s.model_version.empty() ? std::string("null") : JsonString(s.model_version));
  j += ",\"threshold\":" + JsonNumber(s.threshold);
  j += ",\"rows\":" + std::to_string(s.rows);
  j += ",\"repeated_time_rows\":" + std::to_string(s.time.repeated());
  j +=
      ",\"time_without_zone\":" +
      (s.time.zoneless_example.empty() ? std::string("null") : JsonString(s.time.zoneless_example));
  j += ",\"scored_rows\":" + std::to_string(s.scored);
  j += ",\"flagged_rows\":" + (s.flagged ? std::to_string(*s.flagged) : "null");
  j += ",\"flagged_share\":" + (s.flagged ? JsonNumber(flagged_share) : "null");
  j += SettingsJson(config, d, s);
  j += ModelsJson(s);
  j += ",\"start\":" + JsonString(FormatTime(r->start_ms));
  j += ",\"end\":" + JsonString(FormatTime(r->end_ms));
  j += ",\"evaluations\":" + std::to_string(r->evaluations);
  j += ",\"replayed_seconds\":" + std::to_string((r->end_ms - r->start_ms) / 1000);
  j += ",\"scored_seconds\":" + std::to_string(s.scored_ms / 1000);
  j += SeverityJson("warning", r->warning);
  j += SeverityJson("critical", r->critical);
  j += ",\"pages\":" + std::to_string(r->pages);
  j += ",\"pages_per_week\":" + JsonNumber(r->pages_per_week);
  if (!incidents.empty()) {
    j += ",\"false_pages\":" + std::to_string(r->false_pages);
    j += ",\"false_pages_per_week\":" + JsonNumber(r->false_pages_per_week);
  }
  j += IncidentsJson(*r);
  if (s.baseline) j += BaselineJson(*s.baseline, !incidents.empty());
  return j + "}\n";
}

// The text report's first lines: what was replayed, and how many rows were flagged.
void PrintHeader(const ReplayArgs& args, const ReplayResult& result, const ScoreSummary& s) {
  const ReplayResult* r = &result;
  const double flagged_share =
      s.flagged && s.scored ? static_cast<double>(*s.flagged) / s.scored : 0.0;
  if (!s.as_given) {
    std::printf("replay of %s with model %s: %zu rows (%zu scored), %s to %s, %zu evaluations\n",
                args.csv.c_str(), s.model_version.c_str(), s.rows, s.scored,
                FormatTime(r->start_ms).c_str(), FormatTime(r->end_ms).c_str(), r->evaluations);
    std::printf(
        "is_anomaly threshold %s%s: %zu rows flagged (%.2f%%)\n",
        FormatShortest(s.threshold).c_str(),
        args.contamination.empty() ? "" : (" (contamination " + args.contamination + ")").c_str(),
        *s.flagged, 100.0 * flagged_share);
  } else {
    const std::string models = s.models.size() == 1 ? "model " + s.models[0].version
                               : s.models.empty()   ? std::string("no model_version")
                                                    : std::to_string(s.models.size()) + " models";
    std::printf(
        "replay of %s, scores as given (%s): %zu rows (%zu scored), %s to %s, %zu "
        "evaluations\n",
        args.csv.c_str(), models.c_str(), s.rows, s.scored, FormatTime(r->start_ms).c_str(),
        FormatTime(r->end_ms).c_str(), r->evaluations);
    if (s.flagged) {
      std::printf("is_anomaly %s: %zu rows flagged (%.2f%%)\n", s.flagged_basis.c_str(), *s.flagged,
                  100.0 * flagged_share);
    } else {
      std::printf("is_anomaly: unknown (no is_anomaly column; --bundles gives the models)\n");
    }
  }
}

// The incident table: caught or not, and the delays of the first warning and page.
void PrintIncidents(const ReplayResult& result) {
  const ReplayResult* r = &result;
  std::printf("\n%-16s %-21s %-7s %14s %12s\n", "incident", "start", "caught", "first warning",
              "first page");
  size_t caught = 0;
  for (const IncidentOutcome& o : r->incidents) {
    caught += o.caught ? 1 : 0;
    std::printf("%-16s %-21s %-7s %14s %12s\n", o.name.c_str(), FormatTime(o.start_ms).c_str(),
                o.caught ? "yes" : "no",
                o.warning_delay_ms ? ("+" + Minutes(*o.warning_delay_ms)).c_str() : "-",
                o.page_delay_ms ? ("+" + Minutes(*o.page_delay_ms)).c_str() : "-");
  }
  std::printf("\n%zu of %zu incidents caught; false pages: %zu (%s per week)\n", caught,
              r->incidents.size(), r->false_pages, Rate(r->false_pages_per_week).c_str());
  std::printf("(caught = a page started between the incident start and end + for + smooth)\n");
}

Status Report(const ReplayArgs& args, const ReplayConfig& config, const Durations& d,
              const ReplayResult& result, const std::vector<IncidentWindow>& incidents,
              const ScoreSummary& s) {
  const ReplayResult* r = &result;
  if (args.json) {
    const std::string j = ReportJson(config, d, result, incidents, s);
    std::fwrite(j.data(), 1, j.size(), stdout);
    return Status::Ok();
  }
  PrintHeader(args, result, s);
  for (const std::string& note : s.time.Notes())
    std::printf("%s: %s\n", args.csv.c_str(), note.c_str());
  std::printf("rules: avg_over_time(%s[%s]) every %s, for %s\n",
              d.on_surprise ? "surprise" : "anomaly_score", args.smooth.c_str(),
              args.eval_interval.c_str(), args.for_duration.c_str());
  std::printf(
      "scored time: %s of %s (evaluations with a score to smooth; warming and gaps left out); "
      "rates are per week of scored time\n\n",
      Span(s.scored_ms).c_str(), Span(r->end_ms - r->start_ms).c_str());
  std::printf("%-9s %9s %8s %8s %14s %13s\n", "severity", "threshold", "pending", "firing",
              "firings/week", "time firing");
  struct Row {
    const char* name;
    double threshold;
    bool varies;
    const SeverityReplay* sev;
  };
  for (const Row& row :
       {Row{"warning", config.warning.threshold, s.warning_varies, &r->warning},
        Row{"critical", config.critical.threshold, s.critical_varies, &r->critical}}) {
    std::printf("%-9s %9s %8zu %8zu %14s %13s\n", row.name,
                row.varies ? "per model" : FormatShortest(row.threshold).c_str(),
                row.sev->pending.size(), row.sev->firing.size(),
                Rate(row.sev->firings_per_week).c_str(), Minutes(row.sev->firing_ms).c_str());
  }
  if (s.as_given && !s.models.empty()) {
    std::printf("\n%-20s %-21s %-19s %-19s %s\n", "model", "from", "warning", "critical",
                "is_anomaly threshold");
    for (const ModelSpan& m : s.models) {
      std::printf("%-20s %-21s %-19s %-19s %s\n", m.version.c_str(), FormatTime(m.from_ms).c_str(),
                  FormatShortest(m.warning).c_str(), FormatShortest(m.critical).c_str(),
                  std::isnan(m.threshold) ? "-" : FormatShortest(m.threshold).c_str());
    }
  }
  std::printf("\npages (critical firing starts): %zu, %s per week\n", r->pages,
              Rate(r->pages_per_week).c_str());
  if (!incidents.empty()) PrintIncidents(result);
  if (s.baseline) PrintBaseline(*s.baseline, !incidents.empty());
  return Status::Ok();
}

}  // namespace

namespace {

// Replay (core/alert.h); its rates are per week of scored time (ReplayResult::scored_ms).
Result<ReplayResult> ReplayOverScoredTime(const std::vector<TimeMs>& times,
                                          const std::vector<double>& scores,
                                          const ReplayConfig& config,
                                          const std::vector<IncidentWindow>& incidents,
                                          ScoreSummary& summary) {
  auto r = Replay(times, scores, config, incidents);
  if (r.ok()) summary.scored_ms = r->scored_ms;
  return r;
}

// The re-score mode: the bundle scores the CSV's inputs (as `isoscope score` would).
// Rules that hold fewer than three samples page on one outlier: `avg_over_time(...[5m])` over
// 5-minute data averages a single row.
void WarnFewSamples(const Durations& d, TimeMs step_ms) {
  if (step_ms <= 0) return;
  for (const auto& [flag, ms] : {std::pair<const char*, TimeMs>{"--smooth", d.smooth_ms},
                                 std::pair<const char*, TimeMs>{"--for", d.for_ms}}) {
    if (ms < 3 * step_ms) {
      std::fprintf(stderr,
                   "WARNING: %s %s holds fewer than 3 samples at the model's step of %s: one "
                   "outlier pages; use at least %s\n",
                   flag, FormatDurationMs(ms).c_str(), FormatDurationMs(step_ms).c_str(),
                   FormatDurationMs(3 * step_ms).c_str());
    }
  }
}

// Whether the rules run on the surprise: both thresholds surprise:N. One series feeds both
// severities in the core's Replay, so a score and a surprise cannot be mixed here.
Result<bool> RulesOnSurprise(const ReplayArgs& args) {
  auto w = ParseAlertThreshold(args.warning);
  if (!w.ok()) return Usage("--warning: " + w.status().message());
  auto c = ParseAlertThreshold(args.critical);
  if (!c.ok()) return Usage("--critical: " + c.status().message());
  if (w->on_surprise() != c->on_surprise()) {
    return Usage("--warning " + args.warning + " and --critical " + args.critical +
                 ": replay runs both severities on one series, the score or the surprise; give "
                 "both as surprise:N (e.g. --warning surprise:3 --critical surprise:4) or "
                 "neither");
  }
  return w->on_surprise();
}

Status ReplayRescored(const ReplayArgs& args, const std::string& content, ReplayConfig config,
                      const Durations& d, const std::vector<IncidentWindow>& incidents) {
  auto model = LoadBundle(args.bundle);
  if (!model.ok()) return model.status();
  // The share behind the model's anomaly threshold, which "contamination" thresholds start from.
  double share = TrainedShare(*model);
  if (!args.contamination.empty()) {
    auto c = ParseContamination(args.contamination);
    if (!c.ok() || c->is_auto) {
      return Usage("--contamination: '" + args.contamination + "' is not a share in (0, 0.5]");
    }
    auto threshold = model->ThresholdFor(c->value);
    if (!threshold.ok()) return threshold.status();
    model->offset = -*threshold;
    share = c->value;
  }
  for (const auto& [flag, text, out] :
       {std::tuple{"--warning", &args.warning, &config.warning.threshold},
        std::tuple{"--critical", &args.critical, &config.critical.threshold}}) {
    auto t = ResolveAlertThreshold(*text, *model, share);
    if (!t.ok()) return Usage(std::string(flag) + ": " + t.status().message());
    *out = *t;
  }
  auto scorer = ModelScorer::Create(*model);
  if (!scorer.ok()) return scorer.status();
  WarnFewSamples(d, model->spec.step_ms);

  CsvOptions csv_options;
  csv_options.time_column = args.time_column;
  csv_options.features = model->spec.inputs;
  auto data = ParseCsv(content, csv_options, args.csv);
  if (!data.ok()) return data.status();
  if (data->time_column.empty()) {
    return Status(ErrorCode::kBadInput,
                  args.csv + " has no time column; replay needs one (--time-column)");
  }
  ScoreSummary summary;
  auto time_rules = ApplyTimeRules(*data, args.csv);
  if (!time_rules.ok()) return time_rules.status();
  summary.time = std::move(*time_rules);
  std::vector<const double*> series;
  for (const auto& s : data->series) series.push_back(s.data());
  auto rows = BuildFeatureRows(model->spec, data->times.data(), series, data->rows);
  if (!rows.ok()) return rows.status();
  const std::vector<RowScore> row_scores = ParallelScoreRows(*scorer, *rows);
  std::vector<double> scores(row_scores.size());
  summary.model_version = model->model_version;
  summary.threshold = model->threshold();
  summary.rows = summary.time.rows;
  size_t flagged = 0;
  for (size_t i = 0; i < row_scores.size(); ++i) {
    const RowScore& s = row_scores[i];
    scores[i] = s.ok() ? s.anomaly_score : std::nan("");
    summary.scored += s.ok() ? 1 : 0;
    flagged += s.ok() && s.is_anomaly ? 1 : 0;
  }
  summary.flagged = flagged;
  // The surprise as `isoscope score` writes it (the thresholds resolved: the model has one).
  if (d.on_surprise) scores = SurpriseSeries(model->calibration, scores);

  auto r = ReplayOverScoredTime(data->times, scores, config, incidents, summary);
  // The same rules over the plain z-score of the raw inputs: does the forest earn its place?
  ReplayConfig plain = config;
  plain.threshold_changes.clear();
  plain.warning.threshold = kBaselineWarningZ;
  plain.critical.threshold = kBaselineCriticalZ;
  auto baseline = Replay(data->times, RollingZScoreBaseline(data->times, series, kBaselineWindowMs),
                         plain, incidents);
  if (baseline.ok()) summary.baseline = std::move(*baseline);
  if (!r.ok()) {
    // Settings the core refuses are the command line's fault; data problems are not.
    return r.status();
  }
  return Report(args, config, d, *r, incidents, summary);
}

// --contamination as a share, or none when not given.
Result<std::optional<double>> ContaminationFlag(const ReplayArgs& args) {
  if (args.contamination.empty()) return std::optional<double>();
  auto c = ParseContamination(args.contamination);
  if (!c.ok() || c->is_auto) {
    return Usage("--contamination: '" + args.contamination + "' is not a share in (0, 0.5]");
  }
  return std::optional<double>(c->value);
}

// --warning and --critical of a scores-as-given replay: scores hold for every model; relative
// thresholds resolve per model version.
struct GivenThresholds {
  double fixed[2] = {0, 0};
  bool relative[2] = {false, false};
  std::pair<const char*, const std::string*> flags[2];
};

// Checks the thresholds before anything is loaded: a relative one (and --contamination) needs
// the models that scored the rows.
Result<GivenThresholds> ParseGivenThresholds(const ReplayArgs& args, bool have_models,
                                             bool contamination) {
  GivenThresholds g;
  g.flags[0] = {"--warning", &args.warning};
  g.flags[1] = {"--critical", &args.critical};
  for (int k = 0; k < 2; ++k) {
    auto t = ParseAlertThreshold(*g.flags[k].second);
    if (!t.ok()) return Usage(std::string(g.flags[k].first) + ": " + t.status().message());
    g.relative[k] = t->relative();
    if (!g.relative[k]) g.fixed[k] = t->value;
  }
  if (have_models) return g;
  for (int k = 0; k < 2; ++k) {
    if (g.relative[k]) {
      return Usage(std::string(g.flags[k].first) + " '" + *g.flags[k].second +
                   "' is relative to the model that scored each row, and " + args.csv +
                   " holds scores only: pass --bundles DIR (the bundles backtest "
                   "--save-bundles DIR kept) or --bundle B, or give a score like " +
                   (k == 0 ? "0.65" : "0.85"));
    }
  }
  if (contamination) {
    return Usage(
        "--contamination re-chooses each model's is_anomaly threshold: pass "
        "--bundles DIR (backtest --save-bundles DIR) or --bundle B");
  }
  return g;
}

// The models by version: --bundle's, and those of --bundles DIR, loaded as rows need them.
class ModelsByVersion {
 public:
  explicit ModelsByVersion(const ReplayArgs& args) : args_(args) {}

  Status LoadSingle() {
    if (args_.bundle.empty()) return Status::Ok();
    auto m = LoadBundle(args_.bundle);
    if (!m.ok()) return m.status();
    single_ = m->model_version;
    models_.emplace(single_, std::move(*m));
    return Status::Ok();
  }
  const std::string& single() const { return single_; }
  const Model& at(const std::string& version) const { return models_.at(version); }

  Result<const Model*> For(const std::string& version) {
    auto it = models_.find(version);
    if (it != models_.end()) return &it->second;
    if (args_.bundles.empty()) {
      return Status(ErrorCode::kInvalidArgument,
                    "rows scored by model " + version + ", but --bundle is model " + single_ +
                        ": pass --bundles DIR to replay several models");
    }
    const std::string path = args_.bundles + "/" + version + ".bundle";
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) {
      return Status(ErrorCode::kInvalidArgument,
                    "no bundle for model " + version + " in --bundles " + args_.bundles +
                        " (expected " + path + ", as backtest --save-bundles writes it)");
    }
    auto m = LoadBundle(path);
    if (!m.ok()) return m.status();
    if (m->model_version != version) {
      return Status(ErrorCode::kInvalidArgument,
                    path + " holds model " + m->model_version + ", not " + version);
    }
    return &models_.emplace(version, std::move(*m)).first->second;
  }

 private:
  const ReplayArgs& args_;
  std::map<std::string, Model> models_;
  std::string single_;
};

// A model's thresholds from its first row on: the fixed ones, the relative ones resolved for
// it, and its is_anomaly threshold (re-chosen with --contamination).
Status ResolveSpan(const GivenThresholds& g, const Model& m,
                   const std::optional<double>& contamination, ModelSpan& span) {
  const double share = contamination ? *contamination : TrainedShare(m);
  double* out[2] = {&span.warning, &span.critical};
  for (int k = 0; k < 2; ++k) {
    if (!g.relative[k]) continue;
    auto t = ResolveAlertThreshold(*g.flags[k].second, m, share);
    if (!t.ok()) {
      return Usage(std::string(g.flags[k].first) + ": model " + span.version + ": " +
                   t.status().message());
    }
    *out[k] = *t;
  }
  span.threshold = m.threshold();
  if (contamination) {
    auto t = m.ThresholdFor(*contamination);
    if (!t.ok()) return t.status();
    span.threshold = *t;
  }
  return Status::Ok();
}

// Every row's model: its model_version, or without that column --bundle's model. Fills
// summary.models (one span per run of rows of one model) and each row's span (-1: none).
Status SpanRows(const ReplayArgs& args, const ScoredCsv& data, const GivenThresholds& g,
                const std::optional<double>& contamination, ModelsByVersion* models,
                ScoreSummary& summary, std::vector<int>& span_of) {
  const size_t n = data.times.size();
  const bool have_models = !args.bundle.empty() || !args.bundles.empty();
  span_of.assign(n, -1);
  for (size_t i = 0; i < n; ++i) {
    const std::string& version = data.has_model_version ? data.model_versions[i] : models->single();
    const bool scored = !std::isnan(data.scores[i]);
    summary.scored += scored ? 1 : 0;
    if (version.empty()) {
      if (scored && have_models) {
        return Status(ErrorCode::kBadInput, args.csv + ": row " +
                                                std::to_string(summary.time.kept[i]) +
                                                " has a score but no model_version");
      }
      continue;
    }
    if (summary.models.empty() || summary.models.back().version != version) {
      ModelSpan span;
      span.version = version;
      span.from_ms = data.times[i];
      span.warning = g.fixed[0];
      span.critical = g.fixed[1];
      if (have_models) {
        auto model = models->For(version);
        if (!model.ok()) return model.status();
        if (Status s = ResolveSpan(g, **model, contamination, span); !s.ok()) return s;
      }
      summary.models.push_back(span);
    }
    span_of[i] = static_cast<int>(summary.models.size()) - 1;
  }
  return Status::Ok();
}

// The rules: the first model's thresholds, then each model's from its first row on.
void ApplySpans(const GivenThresholds& g, const ModelsByVersion& models, ReplayConfig& config,
                ScoreSummary& summary) {
  config.warning.threshold = g.fixed[0];
  config.critical.threshold = g.fixed[1];
  if (!summary.models.empty()) {
    config.warning.threshold = summary.models[0].warning;
    config.critical.threshold = summary.models[0].critical;
    for (size_t k = 1; k < summary.models.size(); ++k) {
      const ModelSpan& m = summary.models[k];
      config.threshold_changes.push_back({m.from_ms, m.warning, m.critical});
    }
  }
  for (const ModelSpan& m : summary.models) {
    summary.warning_varies |= m.warning != config.warning.threshold;
    summary.critical_varies |= m.critical != config.critical.threshold;
  }
  if (summary.models.size() == 1) {
    summary.model_version = summary.models[0].version;
    summary.threshold = summary.models[0].threshold;
  } else if (summary.models.empty() && !models.single().empty()) {
    summary.model_version = models.single();
    summary.threshold = models.at(models.single()).threshold();
  }
}

// is_anomaly: re-chosen per model with --contamination, else as the CSV says, else from the
// models' own thresholds when every scored row has one.
void CountFlagged(const ReplayArgs& args, const ScoredCsv& data, const std::vector<int>& span_of,
                  const std::optional<double>& contamination, ScoreSummary& summary) {
  size_t flagged = 0;
  for (size_t i = 0; i < data.times.size(); ++i) {
    if (std::isnan(data.scores[i])) continue;
    if (!contamination && !data.is_anomaly.empty()) {
      flagged += data.is_anomaly[i] == 1 ? 1 : 0;
    } else if (span_of[i] >= 0 && !std::isnan(summary.models[span_of[i]].threshold)) {
      flagged += data.scores[i] > summary.models[span_of[i]].threshold ? 1 : 0;
    } else {
      return;  // unknown
    }
  }
  summary.flagged = flagged;
  summary.flagged_basis = contamination
                              ? "threshold per model for contamination " + args.contamination
                          : !data.is_anomaly.empty() ? std::string("as scored")
                                                     : std::string("by each model's threshold");
}

// The scores-as-given mode: a CSV of scores (score's or backtest's output) is not scored
// again. Thresholds relative to a model resolve per model version from --bundles (or
// --bundle), and at each model change the rules take the new model's thresholds.
Status ReplayAsGiven(const ReplayArgs& args, const std::string& content, ReplayConfig config,
                     const Durations& d, const std::vector<IncidentWindow>& incidents) {
  auto data = ParseScoredCsv(content, args.time_column, args.csv);
  if (!data.ok()) return data.status();
  auto time_rules = ApplyTimeRules(*data, args.csv);
  if (!time_rules.ok()) return time_rules.status();
  auto given = ContaminationFlag(args);
  if (!given.ok()) return given.status();
  const std::optional<double> contamination = *given;
  const bool have_models = !args.bundle.empty() || !args.bundles.empty();
  auto g = ParseGivenThresholds(args, have_models, contamination.has_value());
  if (!g.ok()) return g.status();
  ModelsByVersion models(args);
  if (Status s = models.LoadSingle(); !s.ok()) return s;

  ScoreSummary summary;
  summary.as_given = true;
  summary.rows = time_rules->rows;
  summary.time = std::move(*time_rules);
  std::vector<int> span_of;
  Status spanned = SpanRows(args, *data, *g, contamination, &models, summary, span_of);
  if (!spanned.ok()) return spanned;
  ApplySpans(*g, models, config, summary);
  CountFlagged(args, *data, span_of, contamination, summary);
  auto r = ReplayOverScoredTime(data->times, d.on_surprise ? data->surprises : data->scores, config,
                                incidents, summary);
  if (!r.ok()) return r.status();
  return Report(args, config, d, *r, incidents, summary);
}

}  // namespace

Status RunReplay(const ReplayArgs& args) {
  ReplayConfig config;
  const auto for_ms = ParseDurationMs(args.for_duration, /*allow_zero=*/true);
  const auto smooth_ms = ParseDurationMs(args.smooth);
  const auto eval_ms = ParseDurationMs(args.eval_interval);
  if (!for_ms.ok()) return Usage("--for: '" + args.for_duration + "' is not a duration like 3m");
  if (!smooth_ms.ok())
    return Usage("--smooth: '" + args.smooth + "' is not a positive duration like 5m");
  if (!eval_ms.ok())
    return Usage("--eval-interval: '" + args.eval_interval +
                 "' is not a positive duration like 1m");
  config.warning.for_ms = config.critical.for_ms = *for_ms;
  config.smooth_ms = *smooth_ms;
  config.eval_interval_ms = *eval_ms;
  auto on_surprise = RulesOnSurprise(args);
  if (!on_surprise.ok()) return on_surprise.status();
  const Durations d{*for_ms, *smooth_ms, *eval_ms, *on_surprise};
  if (!args.bundle.empty() && !args.bundles.empty()) {
    return Usage("give --bundle B (one model) or --bundles DIR (a model per version), not both");
  }

  std::vector<IncidentWindow> incidents;
  if (!args.incidents.empty()) {
    auto read = ReadIncidents(args.incidents);
    if (!read.ok()) return read.status();
    incidents = std::move(*read);
  }
  auto content = ReadFile(args.csv);
  if (!content.ok()) return content.status();
  if (HasScoreColumn(*content)) {
    if (d.on_surprise && !HasSurpriseColumn(*content)) {
      return Usage(args.csv +
                   " has no surprise column to replay surprise:N thresholds on: score it with "
                   "isoscope score or backtest and a bundle of format 1.3 or later");
    }
    return ReplayAsGiven(args, *content, config, d, incidents);
  }
  if (args.bundle.empty()) {
    return Usage(args.csv +
                 " has no anomaly_score column, so its inputs must be scored: give --bundle B "
                 "(or pass the output of isoscope score or backtest)");
  }
  if (!args.bundles.empty()) {
    return Usage("--bundles goes with a CSV of scores (backtest's output); to score " + args.csv +
                 "'s inputs give --bundle B");
  }
  return ReplayRescored(args, *content, config, d, incidents);
}

}  // namespace isoscope::native
