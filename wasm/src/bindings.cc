// The core's JavaScript API (embind). Design rules, all for the browser's sake:
// - Nothing aborts: every error becomes {code, message} (ErrorCodeName + Status message).
// - Nothing needs freeing: functions take the bundle bytes and return plain objects and
//   typed-array copies. A one-slot cache keeps the last decoded model, keyed by the bytes
//   themselves, so passing the same bundle again costs a compare, not a decode. It holds at
//   most one model and is replaced when another bundle comes; there is no handle to leak.
// - Only the core's public functions are called (DecodeBundle, ModelScorer, BuildFeatureRows,
//   Replay, TuneAlerts), so a change in the core's feature set reaches the browser by recompiling.
#include <emscripten/bind.h>
#include <emscripten/val.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "isoscope/alert.h"
#include "isoscope/attribution.h"
#include "isoscope/baseline.h"
#include "isoscope/bundle.h"
#include "isoscope/calibration.h"
#include "isoscope/features.h"
#include "isoscope/model.h"
#include "isoscope/tune.h"
#include "isoscope/version.h"

namespace isoscope::wasm {
namespace {

using emscripten::val;

val ErrorObject(const Status& s) {
  val out = val::object();
  out.set("code", std::string(ErrorCodeName(s.code())));
  out.set("message", s.message());
  return out;
}

val ErrorObject(ErrorCode code, const std::string& message) {
  return ErrorObject(Status(code, message));
}

template <typename T>
val CopyOut(const std::vector<T>& v) {
  // A view into the wasm heap, sliced: the copy survives memory growth and later calls.
  return val(emscripten::typed_memory_view(v.size(), v.data())).call<val>("slice");
}

val Strings(const std::vector<std::string>& v) {
  val out = val::array();
  for (size_t i = 0; i < v.size(); ++i) out.set(i, v[i]);
  return out;
}

bool IsObject(const val& v) { return !v.isNull() && v.typeOf().as<std::string>() == "object"; }

// A JS number array or typed array into a vector (one bulk copy for typed arrays).
std::vector<double> Doubles(const val& array) {
  return emscripten::convertJSArrayToNumberVector<double>(array);
}

struct LoadedModel {
  std::string bytes;
  Model model;
  ModelScorer scorer;
  std::unique_ptr<Explainer> explainer;  // compiled on the first explainRows call
};

// The one-slot cache described at the top. Module state of the wasm instance, not of the core.
std::unique_ptr<LoadedModel>& Slot() {
  static std::unique_ptr<LoadedModel> slot;
  return slot;
}

// Decodes (with canaries) unless the bytes equal the cached bundle's. Null + status on error.
const LoadedModel* Load(const std::string& bytes, Status* status) {
  std::unique_ptr<LoadedModel>& slot = Slot();
  if (slot && slot->bytes == bytes) return slot.get();
  auto model = DecodeBundle(bytes.data(), bytes.size());
  if (!model.ok()) {
    *status = model.status();
    return nullptr;
  }
  auto scorer = ModelScorer::Create(*model);
  if (!scorer.ok()) {
    *status = scorer.status();
    return nullptr;
  }
  // DecodeBundle has checked the canaries already; checking with the compiled scorer too
  // proves the scorer this module will use reproduces them.
  Status canaries = scorer->CheckCanaries(model->canaries);
  if (!canaries.ok()) {
    *status = canaries;
    return nullptr;
  }
  slot = std::make_unique<LoadedModel>(
      LoadedModel{bytes, std::move(*model), std::move(*scorer), nullptr});
  return slot.get();
}

val Info(const LoadedModel& m) {
  const Model& model = m.model;
  val out = val::object();
  out.set("ok", true);
  out.set("engineVersion", std::string(kEngineVersion));
  out.set("modelVersion", model.model_version);
  out.set("featureNames", Strings(model.spec.ColumnNames()));
  out.set("inputs", Strings(model.spec.inputs));
  out.set("needsTime", model.spec.needs_time());
  out.set("stepMs", static_cast<double>(model.spec.step_ms));
  out.set("warmupMs", static_cast<double>(model.spec.warmup_ms()));
  out.set("threshold", model.threshold());
  const Contamination& c = model.params.contamination;
  out.set("contamination", c.is_auto ? val::null() : val(c.value));
  out.set("contaminationText", c.ToString());
  out.set("trainedFlaggedFraction", model.info.flagged_fraction);
  val q = val::object();
  q.set("contamination", CopyOut(model.quantiles.contamination));
  q.set("threshold", CopyOut(model.quantiles.threshold));
  out.set("quantiles", q);
  out.set("nEstimators", model.params.n_estimators);
  out.set("source", model.info.source);
  out.set("createdMs", static_cast<double>(model.info.created_ms));
  return out;
}

val LoadBundle(const std::string& bytes) {
  Status status;
  const LoadedModel* m = Load(bytes, &status);
  return m ? Info(*m) : ErrorObject(status);
}

val ThresholdFor(const std::string& bytes, double contamination) {
  Status status;
  const LoadedModel* m = Load(bytes, &status);
  if (!m) return ErrorObject(status);
  auto t = m->model.ThresholdFor(contamination);
  if (!t.ok()) return ErrorObject(t.status());
  return val(*t);
}

// JS times (ms since the epoch, as numbers; NaN = no timestamp) into core times.
std::vector<TimeMs> Times(const val& times) {
  std::vector<double> t = Doubles(times);
  std::vector<TimeMs> out(t.size());
  for (size_t i = 0; i < t.size(); ++i) {
    out[i] = std::isfinite(t[i]) ? static_cast<TimeMs>(std::llround(t[i]))
                                 : std::numeric_limits<TimeMs>::min();
  }
  return out;
}

// The model's input columns of `series` ({input name: numbers}), aligned with the times;
// names every missing input.
Result<std::vector<std::vector<double>>> Columns(const Model& model, const val& series, size_t n) {
  if (!IsObject(series)) {
    return Status(ErrorCode::kInvalidArgument, "series must be an object {input name: numbers}");
  }
  std::vector<std::vector<double>> columns;
  std::vector<std::string> missing;
  for (const std::string& name : model.spec.inputs) {
    val column = series[name];
    if (column.isUndefined() || column.isNull()) {
      missing.push_back(name);
      continue;
    }
    columns.push_back(Doubles(column));
    if (columns.back().size() != n) {
      return Status(ErrorCode::kInvalidArgument, "series '" + name + "' has " +
                                                     std::to_string(columns.back().size()) +
                                                     " values but there are " + std::to_string(n) +
                                                     " timestamps; align the series first");
    }
  }
  if (!missing.empty()) {
    std::string names;
    for (const std::string& s : missing) names += (names.empty() ? "" : ", ") + s;
    return Status(ErrorCode::kBadInput,
                  "the model needs input series that are not given: " + names);
  }
  return columns;
}

std::vector<const double*> Pointers(const std::vector<std::vector<double>>& columns) {
  std::vector<const double*> pointers;
  for (const auto& c : columns) pointers.push_back(c.data());
  return pointers;
}

// Builds the feature rows of `series`, with the core times in times_out.
Result<FeatureRows> Rows(const Model& model, const val& times, const val& series,
                         std::vector<TimeMs>* times_out,
                         std::vector<std::vector<double>>* columns_out = nullptr) {
  *times_out = Times(times);
  const size_t n = times_out->size();
  auto columns = Columns(model, series, n);
  if (!columns.ok()) return columns.status();
  auto rows = BuildFeatureRows(model.spec, times_out->data(), Pointers(*columns), n);
  if (columns_out != nullptr) *columns_out = std::move(*columns);
  return rows;
}

val IssuesOut(const FeatureRows& rows, val out) {
  std::vector<uint8_t> issues(rows.rows);
  std::vector<int32_t> columns(rows.rows);
  for (size_t i = 0; i < rows.rows; ++i) {
    issues[i] = static_cast<uint8_t>(rows.problems[i].issue);
    columns[i] = rows.problems[i].column;
  }
  out.set("issues", CopyOut(issues));
  out.set("issueColumns", CopyOut(columns));
  out.set("usable", static_cast<double>(rows.usable));
  return out;
}

val BuildRows(const std::string& bytes, const val& times, const val& series) {
  Status status;
  const LoadedModel* m = Load(bytes, &status);
  if (!m) return ErrorObject(status);
  std::vector<TimeMs> t;
  auto rows = Rows(m->model, times, series, &t);
  if (!rows.ok()) return ErrorObject(rows.status());
  val out = val::object();
  out.set("ok", true);
  out.set("rows", static_cast<double>(rows->rows));
  out.set("width", static_cast<double>(rows->width));
  out.set("values", CopyOut(rows->values));
  return IssuesOut(*rows, out);
}

val ScoreRows(const std::string& bytes, const val& times, const val& series) {
  Status status;
  const LoadedModel* m = Load(bytes, &status);
  if (!m) return ErrorObject(status);
  std::vector<TimeMs> t;
  std::vector<std::vector<double>> columns;
  auto rows = Rows(m->model, times, series, &t, &columns);
  if (!rows.ok()) return ErrorObject(rows.status());
  const std::vector<RowScore> scored = m->scorer.ScoreRows(*rows);
  std::vector<double> scores(scored.size());
  std::vector<uint8_t> is_anomaly(scored.size());
  for (size_t i = 0; i < scored.size(); ++i) {
    scores[i] = scored[i].ok() ? scored[i].anomaly_score : std::nan("");
    is_anomaly[i] = scored[i].ok() && scored[i].is_anomaly ? 1 : 0;
  }
  val out = val::object();
  out.set("ok", true);
  out.set("scores", CopyOut(scores));
  out.set("isAnomaly", CopyOut(is_anomaly));
  out.set("threshold", m->model.threshold());
  // The calibrated surprise, row by row in order as `isoscope score` and the daemon compute
  // it (NaN where a row has no score); null for a bundle without calibration (format < 1.3).
  out.set("surprise", m->model.calibration.count > 0
                          ? CopyOut(SurpriseSeries(m->model.calibration, scores))
                          : val::null());
  // The plain rule beside the forest, as isoscope replay's baseline: the largest |z| of the
  // inputs against their last 24 hours (core/include/isoscope/baseline.h).
  // Null when a row has no timestamp: the 24-hour window is a span of time.
  const bool timed = std::none_of(t.begin(), t.end(),
                                  [](TimeMs x) { return x == std::numeric_limits<TimeMs>::min(); });
  out.set("baseline", timed
                          ? CopyOut(RollingZScoreBaseline(t, Pointers(columns), kBaselineWindowMs))
                          : val::null());
  return IssuesOut(*rows, out);
}

// Exact per-feature attribution (attribution.h) of the rows `which` (indices; null or
// undefined: every row), for the point under the cursor or a page's rows. contributions is
// rows x width, row-major, each feature's share of log2 of the score (NaN where a row has no
// score or was not asked for); topInput is the index of the input with the largest summed
// contribution (-1 if none).
val ExplainRows(const std::string& bytes, const val& times, const val& series, const val& which) {
  Status status;
  LoadedModel* m = const_cast<LoadedModel*>(Load(bytes, &status));
  if (!m) return ErrorObject(status);
  if (!m->explainer) {
    auto explainer = Explainer::Create(m->model);
    if (!explainer.ok()) return ErrorObject(explainer.status());
    m->explainer = std::make_unique<Explainer>(std::move(*explainer));
  }
  std::vector<TimeMs> t;
  auto rows = Rows(m->model, times, series, &t);
  if (!rows.ok()) return ErrorObject(rows.status());
  std::vector<double> picked;
  if (which.isNull() || which.isUndefined()) {
    for (size_t i = 0; i < rows->rows; ++i) picked.push_back(static_cast<double>(i));
  } else {
    picked = Doubles(which);
  }
  const size_t width = rows->width;
  std::vector<double> contributions(rows->rows * width, std::nan(""));
  std::vector<int32_t> top(rows->rows, -1);
  for (double d : picked) {
    if (!(d >= 0 && d < static_cast<double>(rows->rows))) {
      return ErrorObject(ErrorCode::kInvalidArgument, "row index out of range");
    }
    const auto i = static_cast<size_t>(d);
    if (rows->problems[i].issue != RowIssue::kNone) continue;
    const RowExplanation e = m->explainer->Explain(rows->values.data() + i * width);
    if (!e.ok()) continue;
    std::copy(e.contribution.begin(), e.contribution.end(), contributions.begin() + i * width);
    top[i] = e.top_input;
  }
  val out = val::object();
  out.set("ok", true);
  out.set("width", static_cast<double>(width));
  out.set("features", Strings(m->model.spec.ColumnNames()));
  out.set("inputs", Strings(m->model.spec.inputs));
  out.set("columnInputs", CopyOut(m->explainer->column_inputs()));
  out.set("baselineScore", m->explainer->baseline_score());
  out.set("contributions", CopyOut(contributions));
  out.set("topInput", CopyOut(top));
  return IssuesOut(*rows, out);
}

// Names of the row issue codes, index = code, so JS can label Uint8Array issue codes.
val IssueNames() {
  val out = val::array();
  for (int code = 0; code < 256; ++code) {
    const char* name = RowIssueName(static_cast<RowIssue>(code));
    if (std::string(name) == "unknown") break;
    out.set(code, std::string(name));
  }
  return out;
}

double Number(const val& o, const char* key, double fallback) {
  val v = o[key];
  return v.isNumber() ? v.as<double>() : fallback;
}

val Intervals(const std::vector<AlertInterval>& list) {
  std::vector<double> start(list.size()), end(list.size());
  std::vector<uint8_t> open(list.size());
  for (size_t i = 0; i < list.size(); ++i) {
    start[i] = static_cast<double>(list[i].start_ms);
    end[i] = static_cast<double>(list[i].end_ms);
    open[i] = list[i].open ? 1 : 0;
  }
  val out = val::object();
  out.set("start", CopyOut(start));
  out.set("end", CopyOut(end));
  out.set("open", CopyOut(open));
  return out;
}

val Severity(const SeverityReplay& s) {
  val out = val::object();
  out.set("pending", Intervals(s.pending));
  out.set("firing", Intervals(s.firing));
  out.set("firingMs", static_cast<double>(s.firing_ms));
  out.set("firingsPerWeek", s.firings_per_week);
  return out;
}

val OptionalMs(const std::optional<TimeMs>& v) {
  return v ? val(static_cast<double>(*v)) : val::null();
}

// [{name, startMs, endMs}] (null or undefined: none) into incident windows.
std::vector<IncidentWindow> Incidents(const val& incidents) {
  std::vector<IncidentWindow> windows;
  if (incidents.isUndefined() || incidents.isNull()) return windows;
  const unsigned n = incidents["length"].as<unsigned>();
  for (unsigned i = 0; i < n; ++i) {
    val w = incidents[i];
    IncidentWindow iw;
    iw.name = w["name"].isString() ? w["name"].as<std::string>() : "incident " + std::to_string(i);
    iw.start_ms = static_cast<TimeMs>(Number(w, "startMs", 0));
    iw.end_ms = static_cast<TimeMs>(Number(w, "endMs", 0));
    windows.push_back(iw);
  }
  return windows;
}

// settings: {warning, critical, forMs, smoothMs, evalIntervalMs, warningForMs?,
// criticalForMs?}; incidents: [{name, startMs, endMs}] (optional).
val ReplayScores(const val& times, const val& scores, const val& settings, const val& incidents) {
  if (!IsObject(settings)) {
    return ErrorObject(ErrorCode::kInvalidArgument, "replay settings must be an object");
  }
  ReplayConfig config;
  const double defaults_for = static_cast<double>(config.warning.for_ms);
  const double for_ms = Number(settings, "forMs", defaults_for);
  config.warning.threshold = Number(settings, "warning", config.warning.threshold);
  config.critical.threshold = Number(settings, "critical", config.critical.threshold);
  const double warning_for = Number(settings, "warningForMs", for_ms);
  const double critical_for = Number(settings, "criticalForMs", for_ms);
  const double smooth = Number(settings, "smoothMs", static_cast<double>(config.smooth_ms));
  const double eval =
      Number(settings, "evalIntervalMs", static_cast<double>(config.eval_interval_ms));
  for (double d : {warning_for, critical_for, smooth, eval}) {
    if (!std::isfinite(d) || d < 0 || d > 1e15) {
      return ErrorObject(ErrorCode::kInvalidArgument,
                         "replay durations must be finite numbers of milliseconds >= 0");
    }
  }
  config.warning.for_ms = static_cast<TimeMs>(warning_for);
  config.critical.for_ms = static_cast<TimeMs>(critical_for);
  config.smooth_ms = static_cast<TimeMs>(smooth);
  config.eval_interval_ms = static_cast<TimeMs>(eval);

  const std::vector<IncidentWindow> windows = Incidents(incidents);
  const std::vector<TimeMs> t = Times(times);
  const std::vector<double> s = Doubles(scores);
  auto r = Replay(t, s, config, windows);
  if (!r.ok()) return ErrorObject(r.status());
  val out = val::object();
  out.set("ok", true);
  out.set("startMs", static_cast<double>(r->start_ms));
  out.set("endMs", static_cast<double>(r->end_ms));
  out.set("evaluations", static_cast<double>(r->evaluations));
  out.set("scoredMs", static_cast<double>(r->scored_ms));
  out.set("warning", Severity(r->warning));
  out.set("critical", Severity(r->critical));
  out.set("pages", static_cast<double>(r->pages));
  out.set("pagesPerWeek", r->pages_per_week);
  out.set("falsePages", static_cast<double>(r->false_pages));
  out.set("falsePagesPerWeek", r->false_pages_per_week);
  val list = val::array();
  for (size_t i = 0; i < r->incidents.size(); ++i) {
    const IncidentOutcome& o = r->incidents[i];
    val x = val::object();
    x.set("name", o.name);
    x.set("startMs", static_cast<double>(o.start_ms));
    x.set("endMs", static_cast<double>(o.end_ms));
    x.set("caught", o.caught);
    x.set("warningDelayMs", OptionalMs(o.warning_delay_ms));
    x.set("pageDelayMs", OptionalMs(o.page_delay_ms));
    list.set(i, x);
  }
  out.set("incidents", list);
  return out;
}

// A list of durations in ms ({forMs: [...]}); `out` unchanged when the key is absent. False when
// an entry is not a finite duration >= 0.
bool Durations(const val& settings, const char* key, std::vector<TimeMs>& out) {
  val list = settings[key];
  if (list.isUndefined() || list.isNull()) return true;
  out.clear();
  for (double d : Doubles(list)) {
    if (!std::isfinite(d) || d < 0 || d > 1e15) return false;
    out.push_back(static_cast<TimeMs>(d));
  }
  return true;
}

val Candidate(const TuneCandidate& c) {
  val out = val::object();
  out.set("warning", c.warning);
  out.set("critical", c.critical);
  out.set("forMs", static_cast<double>(c.for_ms));
  out.set("smoothMs", static_cast<double>(c.smooth_ms));
  out.set("pages", static_cast<double>(c.pages));
  out.set("pagesPerWeek", c.pages_per_week);
  out.set("warnings", static_cast<double>(c.warnings));
  out.set("warningsPerWeek", c.warnings_per_week);
  out.set("caught", static_cast<double>(c.caught));
  out.set("totalDelayMs", static_cast<double>(c.total_delay_ms));
  out.set("falsePages", static_cast<double>(c.false_pages));
  return out;
}

// settings: {budgetPerWeek, warningBudgetPerWeek?, maxDelayMs? (-1 or absent: none),
// evalIntervalMs?, forMs?: number[], smoothMs?: number[]}; the defaults are TuneRequest's,
// which are `isoscope tune`'s.
val TuneScores(const val& times, const val& scores, const val& settings, const val& incidents) {
  if (!IsObject(settings)) {
    return ErrorObject(ErrorCode::kInvalidArgument, "tune settings must be an object");
  }
  TuneRequest req;
  req.budget_per_week = Number(settings, "budgetPerWeek", req.budget_per_week);
  req.warning_budget_per_week =
      Number(settings, "warningBudgetPerWeek", req.warning_budget_per_week);
  const double max_delay = Number(settings, "maxDelayMs", -1);
  const double eval = Number(settings, "evalIntervalMs", static_cast<double>(req.eval_interval_ms));
  if (!std::isfinite(max_delay) || !std::isfinite(eval) || eval > 1e15 || max_delay > 1e15 ||
      !Durations(settings, "forMs", req.for_ms) ||
      !Durations(settings, "smoothMs", req.smooth_ms)) {
    return ErrorObject(ErrorCode::kInvalidArgument,
                       "tune durations must be finite numbers of milliseconds >= 0");
  }
  req.max_delay_ms = max_delay < 0 ? -1 : static_cast<TimeMs>(max_delay);
  req.eval_interval_ms = static_cast<TimeMs>(eval);
  auto r = TuneAlerts(Times(times), Doubles(scores), req, Incidents(incidents));
  if (!r.ok()) return ErrorObject(r.status());
  val out = val::object();
  out.set("ok", true);
  out.set("chosen", Candidate(r->chosen));
  val frontier = val::array();
  for (size_t i = 0; i < r->frontier.size(); ++i) frontier.set(i, Candidate(r->frontier[i]));
  out.set("frontier", frontier);
  out.set("evaluated", static_cast<double>(r->evaluated));
  out.set("scoredMs", static_cast<double>(r->replay.scored_ms));
  return out;
}

// The bindings never let an exception reach JS (it would arrive as an opaque exception): the core
// does not throw, and anything else (allocation failure) is reported as an internal error.
template <typename F>
val Guard(F&& f) {
  try {
    return f();
  } catch (const std::exception& e) {
    return ErrorObject(ErrorCode::kInternal, std::string("internal error: ") + e.what());
  } catch (...) {
    return ErrorObject(ErrorCode::kInternal, "internal error");
  }
}

}  // namespace
}  // namespace isoscope::wasm

EMSCRIPTEN_BINDINGS(isoscope) {
  using namespace isoscope::wasm;
  using emscripten::val;
  emscripten::function(
      "loadBundle", +[](const std::string& b) { return Guard([&] { return LoadBundle(b); }); });
  emscripten::function(
      "thresholdFor",
      +[](const std::string& b, double c) { return Guard([&] { return ThresholdFor(b, c); }); });
  emscripten::function(
      "buildFeatureRows", +[](const std::string& b, val t, val s) {
        return Guard([&] { return BuildRows(b, t, s); });
      });
  emscripten::function(
      "scoreRows", +[](const std::string& b, val t, val s) {
        return Guard([&] { return ScoreRows(b, t, s); });
      });
  emscripten::function(
      "explainRows", +[](const std::string& b, val t, val s, val which) {
        return Guard([&] { return ExplainRows(b, t, s, which); });
      });
  emscripten::function(
      "replay", +[](val t, val s, val settings, val incidents) {
        return Guard([&] { return ReplayScores(t, s, settings, incidents); });
      });
  emscripten::function(
      "tuneAlerts", +[](val t, val s, val settings, val incidents) {
        return Guard([&] { return TuneScores(t, s, settings, incidents); });
      });
  emscripten::function(
      "issueNames", +[]() { return Guard([] { return IssueNames(); }); });
  emscripten::function(
      "engineVersion", +[]() { return std::string(isoscope::kEngineVersion); });
}
