#include "alert_tracker.h"

#include <cmath>
#include <limits>
#include <vector>

namespace isoscope::native {
namespace {

constexpr const char* kSeverityNames[2] = {"warning", "critical"};

double StateValue(AlertPhase phase) {
  switch (phase) {
    case AlertPhase::kInactive:
      return 0;
    case AlertPhase::kPending:
      return 1;
    case AlertPhase::kFiring:
      return 2;
  }
  return 0;
}

}  // namespace

AlertTracker::AlertTracker(const DetectorConfig& detector, ExporterMetrics* metrics)
    : metrics_(metrics),
      smooth_ms_(detector.alerts.smooth_ms),
      detector_labels_{{"detector", detector.name}} {
  const AlertsConfig& a = detector.alerts;
  const double unknown = std::numeric_limits<double>::quiet_NaN();
  const AlertThreshold* given[2] = {&a.warning, &a.critical};
  for (int s = 0; s < 2; ++s) {
    const double threshold = given[s]->relative() ? unknown : given[s]->value;
    severities_[s] = {threshold, a.for_ms, a.keep_firing_for_ms};
    on_surprise_[s] = given[s]->on_surprise();
    prometheus::Labels l = detector_labels_;
    l["severity"] = kSeverityNames[s];
    for_gauge_[s] = &metrics_->alert_for_seconds.Add(l);
    for_gauge_[s]->Set(static_cast<double>(a.for_ms) / 1000.0);
  }
  if (!a.warning.relative() && !a.critical.relative())
    SetThresholds(a.warning.value, a.critical.value);
}

AlertTracker::~AlertTracker() {
  for (auto& [key, g] : groups_) RemoveSeries(g);
  for (prometheus::Gauge* gauge : for_gauge_) metrics_->alert_for_seconds.Remove(gauge);
  for (prometheus::Gauge* gauge : threshold_gauge_) {
    if (gauge != nullptr) metrics_->alert_threshold.Remove(gauge);
  }
}

void AlertTracker::SetThresholds(double warning, double critical) {
  const double t[2] = {warning, critical};
  for (int s = 0; s < 2; ++s) {
    severities_[s].threshold = t[s];
    if (on_surprise_[s]) continue;
    if (threshold_gauge_[s] == nullptr) {
      prometheus::Labels l = detector_labels_;
      l["severity"] = kSeverityNames[s];
      threshold_gauge_[s] = &metrics_->alert_threshold.Add(l);
    }
    threshold_gauge_[s]->Set(t[s]);
  }
}

Result<std::pair<double, double>> ResolveThresholds(const AlertsConfig& alerts,
                                                    const Model& model) {
  auto w = alerts.warning.Resolve(model);
  if (!w.ok())
    return Status(ErrorCode::kInvalidArgument, "alerts.warning: " + w.status().message());
  auto c = alerts.critical.Resolve(model);
  if (!c.ok()) {
    return Status(ErrorCode::kInvalidArgument, "alerts.critical: " + c.status().message());
  }
  return std::pair<double, double>{*w, *c};
}

void AlertTracker::RemoveSeries(Group& g) {
  for (int s = 0; s < 2; ++s) {
    if (g.state_gauge[s] != nullptr) metrics_->alert_state.Remove(g.state_gauge[s]);
    if (g.pending_gauge[s] != nullptr) metrics_->alert_pending_seconds.Remove(g.pending_gauge[s]);
    g.state_gauge[s] = nullptr;
    g.pending_gauge[s] = nullptr;
  }
}

void AlertTracker::Observe(const std::string& key,
                           const std::shared_ptr<const prometheus::Labels>& labels, TimeMs now,
                           double score, double surprise) {
  auto it = cursor_;
  if (it == groups_.end() || it->first != key) it = groups_.try_emplace(key).first;
  cursor_ = std::next(it);
  Group& g = it->second;
  if (g.labels != labels) g.labels = labels;
  if (!g.times.empty() && g.times.back() >= now) return;  // one score per group and instant
  g.times.push_back(now);
  g.scores.push_back(score);
  g.surprises.push_back(surprise);
}

void AlertTracker::Evaluate(TimeMs now) {
  cursor_ = groups_.end();  // erasing below may invalidate it
  for (auto it = groups_.begin(); it != groups_.end();) {
    Group& g = it->second;
    // AvgOverTime's window is (now - smooth, now]: older samples can never count again.
    // A window holds a handful of scores (smooth / interval): erasing the front is cheap.
    size_t old = 0;
    while (old < g.times.size() && g.times[old] <= now - smooth_ms_) ++old;
    g.times.erase(g.times.begin(), g.times.begin() + static_cast<ptrdiff_t>(old));
    g.scores.erase(g.scores.begin(), g.scores.begin() + static_cast<ptrdiff_t>(old));
    g.surprises.erase(g.surprises.begin(), g.surprises.begin() + static_cast<ptrdiff_t>(old));
    const std::vector<TimeMs>& times = g.times;
    auto smooth = [&](const std::vector<double>& values) {
      return times.empty() ? std::nullopt : AvgOverTime(times, values, now, smooth_ms_);
    };
    const std::optional<double> smoothed[2] = {smooth(g.scores), smooth(g.surprises)};
    bool active = false;
    for (int s = 0; s < 2; ++s) {
      // No threshold yet (relative, and no model loaded): nothing can be above it.
      const bool known = !std::isnan(severities_[s].threshold);
      const std::optional<double>& value = smoothed[on_surprise_[s] ? 1 : 0];
      g.state[s] = Step(severities_[s], g.state[s], known ? value : std::nullopt, now);
      active = active || g.state[s].phase != AlertPhase::kInactive;
    }
    if (times.empty() && !active) {
      RemoveSeries(g);
      it = groups_.erase(it);
      continue;
    }
    for (int s = 0; s < 2; ++s) {
      const AlertState& st = g.state[s];
      // Inactive has no series, as Prometheus's ALERTS: at 10,000 quiet groups the four
      // series per group would outweigh everything else on the page.
      if (st.phase == AlertPhase::kInactive) {
        if (g.state_gauge[s] != nullptr) {
          metrics_->alert_state.Remove(g.state_gauge[s]);
          metrics_->alert_pending_seconds.Remove(g.pending_gauge[s]);
          g.state_gauge[s] = g.pending_gauge[s] = nullptr;
        }
        continue;
      }
      if (g.state_gauge[s] == nullptr) {
        prometheus::Labels l = *g.labels;
        l["severity"] = kSeverityNames[s];
        g.state_gauge[s] = &metrics_->alert_state.Add(l);
        g.pending_gauge[s] = &metrics_->alert_pending_seconds.Add(l);
      }
      g.state_gauge[s]->Set(StateValue(st.phase));
      g.pending_gauge[s]->Set(static_cast<double>(now - st.active_since) / 1000.0);
    }
    ++it;
  }
  cursor_ = groups_.begin();  // the next cycle observes from the first group
}

std::set<std::string> AlertTracker::Alerting() const {
  std::set<std::string> out;
  for (const auto& [key, g] : groups_) {
    if (g.state[0].phase != AlertPhase::kInactive || g.state[1].phase != AlertPhase::kInactive) {
      out.insert(out.end(), key);
    }
  }
  return out;
}

AlertState AlertTracker::State(const std::string& key, int severity) const {
  auto it = groups_.find(key);
  return it == groups_.end() ? AlertState{} : it->second.state[severity];
}

}  // namespace isoscope::native
