#include "isoscope/tune.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <tuple>

namespace isoscope {

namespace {

// Upper-tail shares of evaluations above a candidate threshold: 10^-1 .. 10^-4 in steps of
// 10^0.1 (each step about 26 % fewer evaluations above it).
constexpr int kTailSteps = 31;

// The frontier stops at this many times the budget: settings that page ten times too often
// are not a choice anyone makes, and the table stays readable.
constexpr double kFrontierCap = 10;

// One smoothing window's view of the history: the smoothed score at every evaluation (NaN:
// no score in the window), exactly as Replay computes it, and the weeks of scored time.
struct Smoothed {
  TimeMs smooth_ms = 0;
  std::vector<double> value;
  double weeks = 0;
  std::vector<double> thresholds;  ///< candidate critical thresholds, ascending, distinct
};

// A maximal stretch of evaluations at which the smoothed score is above a threshold.
struct Run {
  size_t first = 0;
  size_t length = 0;
};

Status CheckRequest(const TuneRequest& r) {
  if (!(r.budget_per_week > 0) || !std::isfinite(r.budget_per_week) ||
      !(r.warning_budget_per_week > 0) || !std::isfinite(r.warning_budget_per_week)) {
    return Status(ErrorCode::kInvalidArgument, "the budgets must be positive numbers per week");
  }
  if (r.eval_interval_ms <= 0 || r.for_ms.empty() || r.smooth_ms.empty()) {
    return Status(ErrorCode::kInvalidArgument,
                  "tune needs a positive evaluation interval and at least one for: and one "
                  "smoothing window");
  }
  for (TimeMs f : r.for_ms) {
    if (f < 0) return Status(ErrorCode::kInvalidArgument, "for: must not be negative");
  }
  for (TimeMs s : r.smooth_ms) {
    if (s <= 0) return Status(ErrorCode::kInvalidArgument, "smoothing windows must be positive");
  }
  return Status::Ok();
}

std::vector<double> CandidateThresholds(std::vector<double> sorted) {
  std::sort(sorted.begin(), sorted.end());
  std::vector<double> out;
  if (sorted.empty()) return out;
  const double n = static_cast<double>(sorted.size());
  for (int i = 0; i < kTailSteps; ++i) {
    const double share = std::pow(10.0, -1.0 - 0.1 * i);
    const size_t above = static_cast<size_t>(std::floor(share * n));
    out.push_back(sorted[sorted.size() - 1 - std::min(above, sorted.size() - 1)]);
  }
  out.push_back(sorted.back());  // nothing is above the maximum: never pages
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

Smoothed Smooth(const std::vector<TimeMs>& times, const std::vector<double>& scores,
                TimeMs smooth_ms, TimeMs eval_ms) {
  Smoothed s;
  s.smooth_ms = smooth_ms;
  std::vector<double> present;
  WindowAverage average(times, scores, smooth_ms);
  for (TimeMs now = times.front(); now <= times.back(); now += eval_ms) {
    const std::optional<double> v = average.At(now);
    s.value.push_back(v ? *v : std::nan(""));
    if (v) present.push_back(*v);
  }
  s.weeks = static_cast<double>(present.size()) * static_cast<double>(eval_ms) /
            static_cast<double>(kWeekMs);
  s.thresholds = CandidateThresholds(std::move(present));
  return s;
}

std::vector<Run> RunsAbove(const std::vector<double>& smoothed, double threshold) {
  std::vector<Run> runs;
  for (size_t k = 0; k < smoothed.size(); ++k) {
    if (!(smoothed[k] > threshold)) continue;  // NaN: no value, the condition does not hold
    if (!runs.empty() && runs.back().first + runs.back().length == k) {
      ++runs.back().length;
    } else {
      runs.push_back({k, 1});
    }
  }
  return runs;
}

// Firing starts of a rule with this for: Step goes pending at a run's first evaluation and
// firing at the first one at least for after it, if the run lasts that long.
std::vector<TimeMs> FiringStarts(const std::vector<Run>& runs, TimeMs for_ms, TimeMs t0,
                                 TimeMs eval_ms) {
  const size_t wait = static_cast<size_t>((for_ms + eval_ms - 1) / eval_ms);
  std::vector<TimeMs> starts;
  for (const Run& r : runs) {
    if (r.length > wait) starts.push_back(t0 + static_cast<TimeMs>(r.first + wait) * eval_ms);
  }
  return starts;
}

// Incidents caught and false pages, with Replay's window (start .. end + for + smoothing).
void JudgeIncidents(const std::vector<TimeMs>& pages, const std::vector<IncidentWindow>& incidents,
                    TimeMs max_delay_ms, TuneCandidate& c) {
  const TimeMs grace = c.for_ms + c.smooth_ms;
  for (const IncidentWindow& inc : incidents) {
    auto first = std::lower_bound(pages.begin(), pages.end(), inc.start_ms);
    if (first == pages.end() || *first > inc.end_ms + grace) continue;
    const TimeMs delay = *first - inc.start_ms;
    if (max_delay_ms >= 0 && delay > max_delay_ms) continue;
    ++c.caught;
    c.total_delay_ms += delay;
  }
  if (incidents.empty()) return;
  for (TimeMs p : pages) {
    bool explained = false;
    for (const IncidentWindow& inc : incidents) {
      explained = explained || (p >= inc.start_ms && p <= inc.end_ms + grace);
    }
    c.false_pages += explained ? 0 : 1;
  }
}

// Whether `a` is to be preferred to `b` at the same number of pages (and, in the choice, as
// the tie-break after the incident criteria): caught, delay, then the quickest settings.
bool BetterAtEqualPages(const TuneCandidate& a, const TuneCandidate& b) {
  return std::make_tuple(-static_cast<long long>(a.caught), a.total_delay_ms, a.smooth_ms, a.for_ms,
                         a.critical) < std::make_tuple(-static_cast<long long>(b.caught),
                                                       b.total_delay_ms, b.smooth_ms, b.for_ms,
                                                       b.critical);
}

// The choice within the budget. With incidents: most caught, least delay, fewest pages (the
// same catch for less noise). Without: the most pages the budget allows (sensitivity).
bool BetterChoice(const TuneCandidate& a, const TuneCandidate& b, bool with_incidents) {
  if (a.caught != b.caught) return a.caught > b.caught;
  if (a.total_delay_ms != b.total_delay_ms) return a.total_delay_ms < b.total_delay_ms;
  if (a.pages != b.pages) return with_incidents ? a.pages < b.pages : a.pages > b.pages;
  return BetterAtEqualPages(a, b);
}

// Quality is lexicographic: more incidents caught, then less total delay (a delay total is
// only comparable between settings that catch as many). `a` dominates `b` when it pages no more
// and is no worse, one of the two strictly.
bool Dominates(const TuneCandidate& a, const TuneCandidate& b) {
  const auto quality = [](const TuneCandidate& c) {
    return std::make_tuple(c.caught, -c.total_delay_ms);
  };
  return a.pages <= b.pages && quality(a) >= quality(b) &&
         (a.pages < b.pages || quality(a) > quality(b));
}

std::vector<TuneCandidate> Frontier(std::vector<TuneCandidate> all, double budget,
                                    bool with_incidents) {
  std::sort(all.begin(), all.end(), [](const TuneCandidate& a, const TuneCandidate& b) {
    return a.pages != b.pages ? a.pages < b.pages : BetterAtEqualPages(a, b);
  });
  std::vector<TuneCandidate> out;
  for (size_t i = 0; i < all.size(); ++i) {
    const TuneCandidate& c = all[i];
    if (i > 0 && all[i - 1].pages == c.pages) continue;  // the best of its page count only
    if (c.pages_per_week > kFrontierCap * budget) break;
    bool dominated = false;
    for (const TuneCandidate& k : out) dominated = dominated || Dominates(k, c);
    if (!with_incidents || !dominated) out.push_back(c);
  }
  return out;
}

// The warning threshold for a chosen critical one: the lowest candidate not above it whose
// warnings stay within their budget (the critical threshold itself when none does).
void ChooseWarning(const Smoothed& s, const TuneRequest& req, TimeMs t0, TuneCandidate& c) {
  c.warning = c.critical;
  for (double t : s.thresholds) {
    if (t > c.critical) break;
    const size_t n = FiringStarts(RunsAbove(s.value, t), c.for_ms, t0, req.eval_interval_ms).size();
    if (static_cast<double>(n) / s.weeks <= req.warning_budget_per_week) {
      c.warning = t;
      break;
    }
  }
  c.warnings =
      FiringStarts(RunsAbove(s.value, c.warning), c.for_ms, t0, req.eval_interval_ms).size();
  c.warnings_per_week = static_cast<double>(c.warnings) / s.weeks;
}

}  // namespace

Result<TuneResult> TuneAlerts(const std::vector<TimeMs>& times, const std::vector<double>& scores,
                              const TuneRequest& request,
                              const std::vector<IncidentWindow>& incidents) {
  if (Status s = CheckRequest(request); !s.ok()) return s;
  // Replay checks the history (lengths, order, size, incidents) once, with default rules.
  ReplayConfig probe;
  probe.eval_interval_ms = request.eval_interval_ms;
  if (auto r = Replay(times, scores, probe, incidents); !r.ok()) return r.status();

  const TimeMs t0 = times.front();
  std::vector<Smoothed> smoothed;
  std::vector<TuneCandidate> all;
  for (TimeMs w : request.smooth_ms) {
    smoothed.push_back(Smooth(times, scores, w, request.eval_interval_ms));
    const Smoothed& s = smoothed.back();
    if (s.weeks <= 0) continue;
    for (double t : s.thresholds) {
      const std::vector<Run> runs = RunsAbove(s.value, t);
      for (TimeMs f : request.for_ms) {
        TuneCandidate c;
        c.critical = t;
        c.for_ms = f;
        c.smooth_ms = w;
        const std::vector<TimeMs> pages = FiringStarts(runs, f, t0, request.eval_interval_ms);
        c.pages = pages.size();
        c.pages_per_week = static_cast<double>(c.pages) / s.weeks;
        JudgeIncidents(pages, incidents, request.max_delay_ms, c);
        all.push_back(c);
      }
    }
  }
  if (all.empty()) {
    return Status(ErrorCode::kBadInput, "no scored time: no evaluation has a score to smooth");
  }
  const bool with_incidents = !incidents.empty();
  const TuneCandidate* best = nullptr;
  for (const TuneCandidate& c : all) {
    if (c.pages_per_week > request.budget_per_week) continue;
    if (best == nullptr || BetterChoice(c, *best, with_incidents)) best = &c;
  }
  // The maximum threshold never pages, so some candidate is always within the budget.
  TuneResult out;
  out.evaluated = all.size();
  out.chosen = *best;
  out.frontier = Frontier(all, request.budget_per_week, with_incidents);
  for (const Smoothed& s : smoothed) {
    for (TuneCandidate& c : out.frontier) {
      if (s.smooth_ms == c.smooth_ms) ChooseWarning(s, request, t0, c);
    }
    if (s.smooth_ms == out.chosen.smooth_ms) ChooseWarning(s, request, t0, out.chosen);
  }

  ReplayConfig config;
  config.warning = {out.chosen.warning, out.chosen.for_ms, 0};
  config.critical = {out.chosen.critical, out.chosen.for_ms, 0};
  config.smooth_ms = out.chosen.smooth_ms;
  config.eval_interval_ms = request.eval_interval_ms;
  auto replay = Replay(times, scores, config, incidents);
  if (!replay.ok()) return replay.status();
  // The search's shortcut must agree with the replay it stands for.
  if (replay->pages != out.chosen.pages || replay->warning.firing.size() != out.chosen.warnings) {
    return Status(ErrorCode::kInternal, "tune: the search and the replay disagree on the pages");
  }
  out.replay = std::move(*replay);
  return out;
}

}  // namespace isoscope
