// isoscope replay: "would it have paged?" — scores a CSV with a bundle and replays the alert
// rules (core/alert.h) over the whole history, optionally against known incidents.
#include <cmath>
#include <cstdio>
#include <string>
#include <tuple>

#include "commands.h"
#include "csv.h"
#include "file_io.h"
#include "isoscope/alert.h"
#include "isoscope/text.h"
#include "time_parse.h"

namespace isoscope::native {

namespace {

std::string Minutes(TimeMs ms) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1fm", static_cast<double>(ms) / kMinuteMs);
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

// name,start,end,description (isoscope demo's incidents.csv); the description may hold commas.
Result<std::vector<IncidentWindow>> ReadIncidents(const std::string& path) {
  auto content = ReadFile(path);
  if (!content.ok()) return content.status();
  std::vector<IncidentWindow> out;
  size_t pos = 0, line_no = 0;
  const std::string& text = *content;
  while (pos < text.size()) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string::npos) eol = text.size();
    std::string line = text.substr(pos, eol - pos);
    pos = eol + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line_no == 1) continue;  // the header
    std::vector<std::string> cells;
    size_t start = 0;
    for (int i = 0; i < 3; ++i) {
      const size_t comma = line.find(',', start);
      cells.push_back(line.substr(start, comma == std::string::npos ? comma : comma - start));
      start = comma == std::string::npos ? line.size() : comma + 1;
    }
    auto bad = [&](const std::string& what) {
      return Status(ErrorCode::kBadInput,
                    path + ":" + std::to_string(line_no) + ": " + what +
                        " (expected name,start,end,description with ISO 8601 or epoch times)");
    };
    if (cells[0].empty()) return bad("missing incident name");
    const auto s = ParseTime(cells[1]);
    const auto e = ParseTime(cells[2]);
    if (!s || !e) return bad("bad start or end time");
    if (*e <= *s) return bad("the incident ends before it starts");
    out.push_back({cells[0], *s, *e});
  }
  return out;
}

}  // namespace

int RunReplay(const ReplayArgs& args) {
  auto fail = [](const Status& s) {
    std::fprintf(stderr, "isoscope replay: %s\n", s.message().c_str());
    return ExitCodeFor(s);
  };
  auto usage = [](const std::string& message) {
    std::fprintf(stderr, "isoscope replay: %s\n", message.c_str());
    return kExitUsage;
  };
  ReplayConfig config;
  const auto for_ms = ParseDuration(args.for_duration);
  const auto smooth_ms = ParseDuration(args.smooth);
  const auto eval_ms = ParseDuration(args.eval_interval);
  if (!for_ms || *for_ms < 0)
    return usage("--for: '" + args.for_duration + "' is not a duration like 3m");
  if (!smooth_ms || *smooth_ms <= 0)
    return usage("--smooth: '" + args.smooth + "' is not a positive duration like 5m");
  if (!eval_ms || *eval_ms <= 0)
    return usage("--eval-interval: '" + args.eval_interval +
                 "' is not a positive duration like 1m");
  config.warning.for_ms = config.critical.for_ms = *for_ms;
  config.smooth_ms = *smooth_ms;
  config.eval_interval_ms = *eval_ms;

  auto model = LoadBundle(args.bundle);
  if (!model.ok()) return fail(model.status());
  // The share behind the model's anomaly threshold, which "contamination" thresholds start from.
  double share = TrainedShare(*model);
  if (!args.contamination.empty()) {
    auto c = ParseContamination(args.contamination);
    if (!c.ok() || c->is_auto) {
      return usage("--contamination: '" + args.contamination + "' is not a share in (0, 0.5]");
    }
    auto threshold = model->ThresholdFor(c->value);
    if (!threshold.ok()) return fail(threshold.status());
    model->offset = -*threshold;
    share = c->value;
  }
  for (const auto& [flag, text, out] :
       {std::tuple{"--warning", &args.warning, &config.warning.threshold},
        std::tuple{"--critical", &args.critical, &config.critical.threshold}}) {
    auto t = ResolveAlertThreshold(*text, *model, share);
    if (!t.ok()) return usage(std::string(flag) + ": " + t.status().message());
    *out = *t;
  }
  auto scorer = ModelScorer::Create(*model);
  if (!scorer.ok()) return fail(scorer.status());
  std::vector<IncidentWindow> incidents;
  if (!args.incidents.empty()) {
    auto read = ReadIncidents(args.incidents);
    if (!read.ok()) return fail(read.status());
    incidents = std::move(*read);
  }

  auto content = ReadFile(args.csv);
  if (!content.ok()) return fail(content.status());
  CsvOptions csv_options;
  csv_options.time_column = args.time_column;
  csv_options.features = model->spec.inputs;
  auto data = ParseCsv(*content, csv_options, args.csv);
  if (!data.ok()) return fail(data.status());
  if (data->time_column.empty()) {
    return fail(Status(ErrorCode::kBadInput,
                       args.csv + " has no time column; replay needs one (--time-column)"));
  }
  std::vector<const double*> series;
  for (const auto& s : data->series) series.push_back(s.data());
  auto rows = BuildFeatureRows(model->spec, data->times.data(), series, data->rows);
  if (!rows.ok()) return fail(rows.status());
  const std::vector<RowScore> row_scores = scorer->ScoreRows(*rows);
  std::vector<double> scores(row_scores.size());
  size_t scored = 0, flagged = 0;
  for (size_t i = 0; i < row_scores.size(); ++i) {
    const RowScore& s = row_scores[i];
    scores[i] = s.ok() ? s.anomaly_score : std::nan("");
    scored += s.ok() ? 1 : 0;
    flagged += s.ok() && s.is_anomaly ? 1 : 0;
  }
  const double flagged_share = scored ? static_cast<double>(flagged) / scored : 0.0;

  auto r = Replay(data->times, scores, config, incidents);
  if (!r.ok()) {
    // Settings the core refuses are the command line's fault; data problems are not.
    return r.status().code() == ErrorCode::kInvalidArgument ? usage(r.status().message())
                                                            : fail(r.status());
  }

  if (args.json) {
    std::string j = "{";
    j += "\"model_version\":" + JsonString(model->model_version);
    j += ",\"threshold\":" + JsonNumber(model->threshold());
    j += ",\"rows\":" + std::to_string(row_scores.size());
    j += ",\"scored_rows\":" + std::to_string(scored);
    j += ",\"flagged_rows\":" + std::to_string(flagged);
    j += ",\"flagged_share\":" + JsonNumber(flagged_share);
    j += ",\"settings\":{\"warning\":" + JsonNumber(config.warning.threshold) +
         ",\"critical\":" + JsonNumber(config.critical.threshold) +
         ",\"for_seconds\":" + std::to_string(*for_ms / 1000) +
         ",\"smooth_seconds\":" + std::to_string(*smooth_ms / 1000) +
         ",\"eval_interval_seconds\":" + std::to_string(*eval_ms / 1000) + "}";
    j += ",\"start\":" + JsonString(FormatTime(r->start_ms));
    j += ",\"end\":" + JsonString(FormatTime(r->end_ms));
    j += ",\"evaluations\":" + std::to_string(r->evaluations);
    for (const auto& [name, sev] :
         {std::pair<const char*, const SeverityReplay*>{"warning", &r->warning},
          {"critical", &r->critical}}) {
      j += ",\"" + std::string(name) + "\":{";
      j += "\"pending_count\":" + std::to_string(sev->pending.size());
      j += ",\"firing_count\":" + std::to_string(sev->firing.size());
      j += ",\"firing_seconds\":" + std::to_string(sev->firing_ms / 1000);
      j += ",\"firings_per_week\":" + JsonNumber(sev->firings_per_week);
      for (const auto& [key, list] :
           {std::pair<const char*, const std::vector<AlertInterval>*>{"pending", &sev->pending},
            {"firing", &sev->firing}}) {
        j += ",\"" + std::string(key) + "\":[";
        for (size_t i = 0; i < list->size(); ++i) {
          const AlertInterval& a = (*list)[i];
          j += (i ? "," : "") + std::string("{\"start\":") + JsonString(FormatTime(a.start_ms)) +
               ",\"end\":" + JsonString(FormatTime(a.end_ms)) +
               ",\"open\":" + (a.open ? "true" : "false") + "}";
        }
        j += "]";
      }
      j += "}";
    }
    j += ",\"pages\":" + std::to_string(r->pages);
    j += ",\"pages_per_week\":" + JsonNumber(r->pages_per_week);
    if (!incidents.empty()) {
      j += ",\"false_pages\":" + std::to_string(r->false_pages);
      j += ",\"false_pages_per_week\":" + JsonNumber(r->false_pages_per_week);
    }
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
    j += "]}\n";
    std::fwrite(j.data(), 1, j.size(), stdout);
    return kExitOk;
  }

  std::printf("replay of %s with model %s: %zu rows (%zu scored), %s to %s, %zu evaluations\n",
              args.csv.c_str(), model->model_version.c_str(), row_scores.size(), scored,
              FormatTime(r->start_ms).c_str(), FormatTime(r->end_ms).c_str(), r->evaluations);
  std::printf(
      "is_anomaly threshold %s%s: %zu rows flagged (%.2f%%)\n",
      FormatShortest(model->threshold()).c_str(),
      args.contamination.empty() ? "" : (" (contamination " + args.contamination + ")").c_str(),
      flagged, 100.0 * flagged_share);
  std::printf("rules: avg_over_time(anomaly_score[%s]) every %s, for %s\n\n", args.smooth.c_str(),
              args.eval_interval.c_str(), args.for_duration.c_str());
  std::printf("%-9s %9s %8s %8s %14s %13s\n", "severity", "threshold", "pending", "firing",
              "firings/week", "time firing");
  struct Row {
    const char* name;
    double threshold;
    const SeverityReplay* sev;
  };
  for (const Row& row : {Row{"warning", config.warning.threshold, &r->warning},
                         Row{"critical", config.critical.threshold, &r->critical}}) {
    std::printf("%-9s %9s %8zu %8zu %14.2f %13s\n", row.name, FormatShortest(row.threshold).c_str(),
                row.sev->pending.size(), row.sev->firing.size(), row.sev->firings_per_week,
                Minutes(row.sev->firing_ms).c_str());
  }
  std::printf("\npages (critical firing starts): %zu, %.2f per week\n", r->pages,
              r->pages_per_week);
  if (!incidents.empty()) {
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
    std::printf("\n%zu of %zu incidents caught; false pages: %zu (%.2f per week)\n", caught,
                r->incidents.size(), r->false_pages, r->false_pages_per_week);
    std::printf("(caught = a page started between the incident start and end + for + smooth)\n");
  }
  return kExitOk;
}

}  // namespace isoscope::native
