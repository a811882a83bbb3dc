#include "isoscope/alert.h"

#include <algorithm>
#include <cmath>

namespace isoscope {

namespace {

constexpr size_t kMaxEvaluations = 20'000'000;

Status CheckAlertConfig(const AlertConfig& c, const char* name) {
  if (!std::isfinite(c.threshold)) {
    return Status(ErrorCode::kInvalidArgument, std::string(name) + " threshold must be finite");
  }
  if (c.for_ms < 0 || c.keep_firing_for_ms < 0) {
    return Status(ErrorCode::kInvalidArgument,
                  std::string(name) + " for and keep_firing_for must not be negative");
  }
  return Status::Ok();
}

// Records the phase changes of one evaluation as interval starts and ends.
void Track(SeverityReplay& out, AlertPhase before, AlertPhase after, TimeMs now) {
  if (before == after) {
    return;
  }
  if (before == AlertPhase::kPending) {
    out.pending.back().end_ms = now;
  } else if (before == AlertPhase::kFiring) {
    out.firing.back().end_ms = now;
  }
  if (after == AlertPhase::kPending) {
    out.pending.push_back({now, now, false});
  } else if (after == AlertPhase::kFiring) {
    if (before == AlertPhase::kInactive) {
      // for: 0 goes straight to firing: a pending episode of zero length.
      out.pending.push_back({now, now, false});
    }
    out.firing.push_back({now, now, false});
  }
}

void Close(SeverityReplay& out, AlertPhase phase, TimeMs end, double weeks) {
  if (phase == AlertPhase::kPending) {
    out.pending.back() = {out.pending.back().start_ms, end, true};
  } else if (phase == AlertPhase::kFiring) {
    out.firing.back() = {out.firing.back().start_ms, end, true};
  }
  for (const AlertInterval& f : out.firing) {
    out.firing_ms += f.end_ms - f.start_ms;
  }
  out.firings_per_week = static_cast<double>(out.firing.size()) / weeks;
}

// The first firing start in [from, to], if any.
std::optional<TimeMs> FirstStartIn(const std::vector<AlertInterval>& firing, TimeMs from,
                                   TimeMs to) {
  for (const AlertInterval& f : firing) {
    if (f.start_ms >= from && f.start_ms <= to) {
      return f.start_ms;
    }
  }
  return std::nullopt;
}

// The mean of the non-NaN values in [lo, hi); none: no value.
std::optional<double> MeanOfPresent(const std::vector<double>& values, size_t lo, size_t hi) {
  double sum = 0;
  size_t n = 0;
  for (size_t i = lo; i < hi; ++i) {
    if (!std::isnan(values[i])) {
      sum += values[i];
      ++n;
    }
  }
  if (n == 0) {
    return std::nullopt;
  }
  return sum / static_cast<double>(n);
}

}  // namespace

std::optional<double> AvgOverTime(const std::vector<TimeMs>& times,
                                  const std::vector<double>& values, TimeMs t, TimeMs window) {
  // Left-open: the first sample strictly after t - window, up to the last at or before t.
  auto lo = std::upper_bound(times.begin(), times.end(), t - window);
  auto hi = std::upper_bound(lo, times.end(), t);
  return MeanOfPresent(values, static_cast<size_t>(lo - times.begin()),
                       static_cast<size_t>(hi - times.begin()));
}

std::optional<double> WindowAverage::At(TimeMs t) {
  // upper_bound's answers, found by walking on from the last call's.
  const size_t n = times_.size();
  while (lo_ < n && times_[lo_] <= t - window_) ++lo_;
  hi_ = std::max(hi_, lo_);
  while (hi_ < n && times_[hi_] <= t) ++hi_;
  return MeanOfPresent(values_, lo_, hi_);
}

const char* AlertPhaseName(AlertPhase phase) {
  switch (phase) {
    case AlertPhase::kInactive:
      return "inactive";
    case AlertPhase::kPending:
      return "pending";
    case AlertPhase::kFiring:
      return "firing";
  }
  return "inactive";
}

AlertState Step(const AlertConfig& config, AlertState state, std::optional<double> smoothed,
                TimeMs now) {
  const bool holds = smoothed.has_value() && *smoothed > config.threshold;
  if (holds) {
    state.last_true = now;
    state.keep_firing_since = -1;
    if (state.phase == AlertPhase::kInactive) {
      state.phase = AlertPhase::kPending;
      state.active_since = now;
    }
    if (state.phase == AlertPhase::kPending && now - state.active_since >= config.for_ms) {
      state.phase = AlertPhase::kFiring;
    }
    return state;
  }
  if (state.phase == AlertPhase::kFiring && config.keep_firing_for_ms > 0) {
    if (state.keep_firing_since < 0) {
      state.keep_firing_since = now;
    }
    if (now - state.keep_firing_since < config.keep_firing_for_ms) {
      return state;
    }
  }
  state.phase = AlertPhase::kInactive;
  state.keep_firing_since = -1;
  return state;
}

namespace {

// The arguments of Replay: equal lengths, ascending times, valid rules, changes and incidents.
Status CheckReplayInputs(const std::vector<TimeMs>& times, const std::vector<double>& scores,
                         const ReplayConfig& config, const std::vector<IncidentWindow>& incidents) {
  if (times.size() != scores.size()) {
    return Status(ErrorCode::kInvalidArgument, "times and scores differ in length");
  }
  if (times.empty()) {
    return Status(ErrorCode::kBadInput, "no samples to replay");
  }
  for (size_t i = 1; i < times.size(); ++i) {
    if (times[i] <= times[i - 1]) {
      return Status(ErrorCode::kBadInput,
                    "sample times must be strictly ascending (row " + std::to_string(i) + ")");
    }
  }
  for (const Status& s : {CheckAlertConfig(config.warning, "warning"),
                          CheckAlertConfig(config.critical, "critical")}) {
    if (!s.ok()) {
      return s;
    }
  }
  if (config.smooth_ms <= 0 || config.eval_interval_ms <= 0) {
    return Status(ErrorCode::kInvalidArgument,
                  "the smoothing window and the evaluation interval must be positive");
  }
  const TimeMs span = times.back() - times.front();
  if (span / config.eval_interval_ms >= static_cast<TimeMs>(kMaxEvaluations)) {
    return Status(ErrorCode::kInvalidArgument,
                  "the evaluation interval is too short for this history (more than 20 "
                  "million evaluations)");
  }
  for (size_t i = 0; i < config.threshold_changes.size(); ++i) {
    const ThresholdChange& c = config.threshold_changes[i];
    if (!std::isfinite(c.warning) || !std::isfinite(c.critical)) {
      return Status(ErrorCode::kInvalidArgument,
                    "threshold change " + std::to_string(i) + ": thresholds must be finite");
    }
    if (i > 0 && c.from_ms <= config.threshold_changes[i - 1].from_ms) {
      return Status(ErrorCode::kInvalidArgument,
                    "threshold changes must be strictly ascending in time (change " +
                        std::to_string(i) + ")");
    }
  }
  for (const IncidentWindow& inc : incidents) {
    if (inc.end_ms <= inc.start_ms) {
      return Status(ErrorCode::kInvalidArgument,
                    "incident '" + inc.name + "' must end after it starts");
    }
  }
  return Status::Ok();
}

// Each incident's first warning and page (within the incident or the smoothing and for:
// after it), and the pages no incident explains.
void MatchIncidents(const ReplayConfig& config, const std::vector<IncidentWindow>& incidents,
                    double weeks, ReplayResult* r) {
  const TimeMs grace = config.critical.for_ms + config.smooth_ms;
  for (const IncidentWindow& inc : incidents) {
    IncidentOutcome o;
    o.name = inc.name;
    o.start_ms = inc.start_ms;
    o.end_ms = inc.end_ms;
    const TimeMs last = inc.end_ms + grace;
    if (auto w = FirstStartIn(r->warning.firing, inc.start_ms, last)) {
      o.warning_delay_ms = *w - inc.start_ms;
    }
    if (auto p = FirstStartIn(r->critical.firing, inc.start_ms, last)) {
      o.page_delay_ms = *p - inc.start_ms;
      o.caught = true;
    }
    r->incidents.push_back(o);
  }
  if (!incidents.empty()) {
    for (const AlertInterval& page : r->critical.firing) {
      bool explained = false;
      for (const IncidentWindow& inc : incidents) {
        explained =
            explained || (page.start_ms >= inc.start_ms && page.start_ms <= inc.end_ms + grace);
      }
      r->false_pages += explained ? 0 : 1;
    }
    r->false_pages_per_week = static_cast<double>(r->false_pages) / weeks;
  }
}

}  // namespace

Result<ReplayResult> Replay(const std::vector<TimeMs>& times, const std::vector<double>& scores,
                            const ReplayConfig& config,
                            const std::vector<IncidentWindow>& incidents) {
  if (Status s = CheckReplayInputs(times, scores, config, incidents); !s.ok()) return s;

  ReplayResult r;
  r.start_ms = times.front();
  AlertState warning, critical;
  AlertConfig warning_rule = config.warning, critical_rule = config.critical;
  size_t next_change = 0;
  TimeMs now = r.start_ms;
  WindowAverage smooth(times, scores, config.smooth_ms);
  for (; now <= times.back(); now += config.eval_interval_ms) {
    for (; next_change < config.threshold_changes.size() &&
           config.threshold_changes[next_change].from_ms <= now;
         ++next_change) {
      warning_rule.threshold = config.threshold_changes[next_change].warning;
      critical_rule.threshold = config.threshold_changes[next_change].critical;
    }
    const std::optional<double> smoothed = smooth.At(now);
    if (smoothed) r.scored_ms += config.eval_interval_ms;
    const AlertState w = Step(warning_rule, warning, smoothed, now);
    const AlertState c = Step(critical_rule, critical, smoothed, now);
    Track(r.warning, warning.phase, w.phase, now);
    Track(r.critical, critical.phase, c.phase, now);
    warning = w;
    critical = c;
    ++r.evaluations;
  }
  r.end_ms = now;  // the last evaluation + one interval
  // Rates per week of scored time; NaN (no rate, not zero) when nothing was scored.
  const double weeks = r.scored_ms > 0
                           ? static_cast<double>(r.scored_ms) / static_cast<double>(kWeekMs)
                           : std::nan("");
  Close(r.warning, warning.phase, r.end_ms, weeks);
  Close(r.critical, critical.phase, r.end_ms, weeks);
  r.pages = r.critical.firing.size();
  r.pages_per_week = r.critical.firings_per_week;

  MatchIncidents(config, incidents, weeks, &r);
  return r;
}

}  // namespace isoscope
