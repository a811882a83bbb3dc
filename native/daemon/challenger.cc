#include "challenger.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include <nlohmann/json.hpp>

#include "isoscope/text.h"

namespace isoscope::native {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::string Num(double v) { return FormatShortest(std::round(v * 1000) / 1000); }

}  // namespace

void ScoreHistogram::Add(double score) {
  if (std::isnan(score)) return;
  const double clamped = std::clamp(score, 0.0, 1.0);
  const int bin = std::min(kBins - 1, static_cast<int>(clamped * kBins));
  ++bins_[static_cast<size_t>(bin)];
  ++count_;
}

double ScoreHistogram::Quantile(double q) const {
  if (count_ == 0) return kNaN;
  // Nearest rank: the ceil(q * n)-th smallest score (at least the first).
  const uint64_t rank =
      std::max<uint64_t>(1, static_cast<uint64_t>(std::ceil(q * static_cast<double>(count_))));
  uint64_t seen = 0;
  for (int b = 0; b < kBins; ++b) {
    seen += bins_[static_cast<size_t>(b)];
    if (seen >= rank) return (b + 0.5) / kBins;
  }
  return 1.0;
}

double ModelTally::rate() const {
  return scored == 0 ? kNaN : static_cast<double>(anomalies) / static_cast<double>(scored);
}

double ModelTally::PagesPerWeek(TimeMs elapsed_ms) const {
  if (elapsed_ms <= 0) return kNaN;
  return static_cast<double>(pages) * static_cast<double>(kWeekMs) /
         static_cast<double>(elapsed_ms);
}

ShadowPager::ShadowPager(const AlertsConfig& alerts, double critical_threshold)
    : config_{critical_threshold, alerts.for_ms, alerts.keep_firing_for_ms},
      smooth_ms_(alerts.smooth_ms),
      on_surprise_(alerts.critical.on_surprise()) {}

void ShadowPager::Observe(const std::string& key, TimeMs now, double value) {
  Group& g = groups_[key];
  if (!g.times.empty() && g.times.back() >= now) return;
  g.times.push_back(now);
  g.values.push_back(value);
}

uint64_t ShadowPager::Evaluate(TimeMs now) {
  uint64_t started = 0;
  for (auto it = groups_.begin(); it != groups_.end();) {
    Group& g = it->second;
    size_t old = 0;  // AvgOverTime's window is (now - smooth, now]
    while (old < g.times.size() && g.times[old] <= now - smooth_ms_) ++old;
    g.times.erase(g.times.begin(), g.times.begin() + static_cast<ptrdiff_t>(old));
    g.values.erase(g.values.begin(), g.values.begin() + static_cast<ptrdiff_t>(old));
    const std::optional<double> smoothed =
        g.times.empty() ? std::nullopt : AvgOverTime(g.times, g.values, now, smooth_ms_);
    const AlertPhase before = g.state.phase;
    g.state = Step(config_, g.state, std::isnan(config_.threshold) ? std::nullopt : smoothed, now);
    if (before != AlertPhase::kFiring && g.state.phase == AlertPhase::kFiring) ++started;
    if (g.times.empty() && g.state.phase == AlertPhase::kInactive) {
      it = groups_.erase(it);
    } else {
      ++it;
    }
  }
  return started;
}

const std::vector<std::string>& GateReasons() {
  static const std::vector<std::string> kReasons = {
      "waiting", "no_rows", "passed", "canary", "pages", "anomaly_rate", "promote_failed"};
  return kReasons;
}

namespace {

GateDecision Decision(GateDecision::Verdict verdict, const char* reason, std::string detail) {
  GateDecision d;
  d.verdict = verdict;
  d.reason = reason;
  d.detail = std::move(detail);
  return d;
}

}  // namespace

GateDecision DecideGate(const PromotionConfig& promotion, TimeMs elapsed_ms,
                        const ModelTally& champion, const ModelTally& candidate, bool canaries_ok) {
  using V = GateDecision::Verdict;
  if (elapsed_ms < promotion.after_ms) {
    return Decision(V::kWaiting, "waiting",
                    "compared for " +
                        FormatDurationMs(std::max<TimeMs>(0, elapsed_ms) / 1000 * 1000) + " of " +
                        FormatDurationMs(promotion.after_ms));
  }
  if (candidate.scored == 0) {
    return Decision(V::kWaiting, "no_rows", "no row scored by both models yet");
  }
  if (!canaries_ok) {
    return Decision(V::kHold, "canary", "the candidate does not reproduce its canaries");
  }
  // Pages per week, compared as counts over the same time: the "1" of max(1, ...) is one page
  // per week of comparison.
  const double weeks = static_cast<double>(elapsed_ms) / static_cast<double>(kWeekMs);
  const double limit =
      std::max(weeks, promotion.pages_factor * static_cast<double>(champion.pages));
  if (static_cast<double>(candidate.pages) > limit) {
    return Decision(V::kHold, "pages",
                    "the candidate would have paged " + Num(candidate.PagesPerWeek(elapsed_ms)) +
                        " times a week, more than max(1, " + Num(promotion.pages_factor) + " x " +
                        Num(champion.PagesPerWeek(elapsed_ms)) + ") for the active model");
  }
  // Both models scored the same rows: the rates compare as counts, give or take one row, so
  // that a champion with no anomaly at all does not make every candidate fail.
  const double champ = static_cast<double>(champion.anomalies);
  const double cand = static_cast<double>(candidate.anomalies);
  if (cand < promotion.rate_low * champ - 1 || cand > promotion.rate_high * champ + 1) {
    return Decision(V::kHold, "anomaly_rate",
                    "the candidate's anomaly rate " + Num(candidate.rate()) + " is outside [" +
                        Num(promotion.rate_low) + ", " + Num(promotion.rate_high) +
                        "] x the active model's " + Num(champion.rate()));
  }
  return Decision(V::kPromote, "passed",
                  "pages a week " + Num(candidate.PagesPerWeek(elapsed_ms)) + " (active " +
                      Num(champion.PagesPerWeek(elapsed_ms)) + "), anomaly rate " +
                      Num(candidate.rate()) + " (active " + Num(champion.rate()) + ")");
}

TallyView ViewOf(const std::string& version, const ModelTally& tally, TimeMs elapsed_ms) {
  TallyView v;
  v.version = version;
  v.pages = tally.pages;
  v.pages_per_week = tally.PagesPerWeek(elapsed_ms);
  v.anomalies = tally.anomalies;
  v.anomaly_rate = tally.rate();
  v.p50 = tally.scores.Quantile(0.5);
  v.p99 = tally.scores.Quantile(0.99);
  return v;
}

namespace {

using nlohmann::json;

json Number(double v) { return std::isfinite(v) ? json(v) : json(); }

double NumberOr(const json& j, const char* key) {
  return j.contains(key) && j[key].is_number() ? j[key].get<double>() : kNaN;
}

json TallyJson(const TallyView& t) {
  return {{"version", t.version},
          {"pages", t.pages},
          {"pages_per_week", Number(t.pages_per_week)},
          {"anomalies", t.anomalies},
          {"anomaly_rate", Number(t.anomaly_rate)},
          {"score_p50", Number(t.p50)},
          {"score_p99", Number(t.p99)}};
}

TallyView ParseTally(const json& j) {
  TallyView t;
  t.version = j.value("version", "");
  t.pages = j.value("pages", uint64_t{0});
  t.pages_per_week = NumberOr(j, "pages_per_week");
  t.anomalies = j.value("anomalies", uint64_t{0});
  t.anomaly_rate = NumberOr(j, "anomaly_rate");
  t.p50 = NumberOr(j, "score_p50");
  t.p99 = NumberOr(j, "score_p99");
  return t;
}

const char* VerdictName(GateDecision::Verdict v) {
  switch (v) {
    case GateDecision::Verdict::kPromote:
      return "promote";
    case GateDecision::Verdict::kHold:
      return "hold";
    case GateDecision::Verdict::kWaiting:
      break;
  }
  return "waiting";
}

}  // namespace

std::string CandidateViewJson(const CandidateView& v) {
  json j = {{"detector", v.detector},
            {"promotion", v.promotion},
            {"candidate_version", v.candidate_version},
            {"refused", v.refused},
            {"since_ms", v.since_ms},
            {"updated_ms", v.updated_ms},
            {"rows", v.rows},
            {"active", TallyJson(v.active)},
            {"candidate", TallyJson(v.candidate)}};
  j["gate"] = {{"after_seconds", static_cast<double>(v.after_ms) / 1000.0},
               {"verdict", VerdictName(v.gate.verdict)},
               {"reason", v.gate.reason},
               {"detail", v.gate.detail}};
  return j.dump(1, ' ', false, json::error_handler_t::replace);
}

Result<CandidateView> ParseCandidateView(const std::string& text) {
  const json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("active") || !j.contains("candidate") || !j.contains("gate")) {
    return Status(ErrorCode::kBadInput, "not a candidate comparison (JSON object expected)");
  }
  try {
    CandidateView v;
    v.detector = j.value("detector", "");
    v.promotion = j.value("promotion", "");
    v.candidate_version = j.value("candidate_version", "");
    v.refused = j.value("refused", "");
    v.since_ms = j.value("since_ms", TimeMs{0});
    v.updated_ms = j.value("updated_ms", TimeMs{0});
    v.rows = j.value("rows", uint64_t{0});
    v.active = ParseTally(j["active"]);
    v.candidate = ParseTally(j["candidate"]);
    const json& g = j["gate"];
    v.after_ms = static_cast<TimeMs>(std::llround(NumberOr(g, "after_seconds") * 1000));
    const std::string verdict = g.value("verdict", "waiting");
    v.gate.verdict = verdict == "promote" ? GateDecision::Verdict::kPromote
                     : verdict == "hold"  ? GateDecision::Verdict::kHold
                                          : GateDecision::Verdict::kWaiting;
    v.gate.reason = g.value("reason", "");
    v.gate.detail = g.value("detail", "");
    return v;
  } catch (const json::exception& e) {
    return Status(ErrorCode::kBadInput, std::string("bad candidate comparison: ") + e.what());
  }
}

}  // namespace isoscope::native
