#include <algorithm>
#include <cfloat>
#include <cmath>
#include <deque>
#include <limits>

#include "detail/exact_sum.h"
#include "isoscope/features.h"

namespace isoscope {
namespace {

constexpr TimeMs kNoTime = std::numeric_limits<TimeMs>::min();
// Rate sums use times relative to an anchor that moves in steps of 2^26 ms (18.6 hours):
// small enough that u = t - anchor keeps the slope's cancellation mild, and fixed by the
// clock alone, so every stream agrees on it whatever its start.
constexpr TimeMs kAnchorPeriodMs = TimeMs{1} << 26;
// z-scores beyond this carry no more information for the forest but would stretch the scaler.
constexpr double kZClip = 50.0;

int64_t FloorDivision(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) {
    --q;
  }
  return q;
}

struct Sample {
  TimeMs t;
  double x;
};

// u^2 for |u| < 2^40 as an exact sum of three doubles (each term has at most 40 significant
// bits), so sums of u^2 stay exact.
void AddSquare(detail::ExactSum& s, int64_t u, double sign) {
  if (u < 0) u = -u;
  const int64_t a = u >> 20;
  const int64_t b = u & ((int64_t{1} << 20) - 1);
  s.Add(sign * std::ldexp(static_cast<double>(a * a), 40));
  s.Add(sign * std::ldexp(static_cast<double>(2 * a * b), 20));
  s.Add(sign * static_cast<double>(b * b));
}

}  // namespace

struct FeatureStream::Impl {
  struct History {
    std::deque<Sample> s;
    uint64_t base = 0;  // absolute index of s.front()
    TimeMs first_t = kNoTime;
    TimeMs keep_ms = 0;
    uint64_t end() const { return base + s.size(); }
    const Sample& at(uint64_t i) const { return s[static_cast<size_t>(i - base)]; }
  };
  struct Window {
    int32_t input = -1;
    TimeMs w = 0;
    bool squares = false;
    bool slope = false;
    bool extremes = false;
    uint64_t left = 0;
    int64_t n = 0;
    detail::ExactSum sx, sxx, sux, suu;
    int64_t su = 0;
    TimeMs anchor = kNoTime;
    std::deque<uint64_t> maxq, minq;  // absolute indices, values decreasing / increasing
  };
  struct Lookup {
    LookupKey key;
    uint64_t pos = 0;  // samples with t <= now - lag
  };
  // seasonal_median_diff: the row's residual against the median of its look-ups, and the
  // residuals of the smoothing window.
  struct Residual {
    int32_t input = -1;
    std::vector<size_t> lookups;  // indices into `lookups`, one per past period
    TimeMs smooth = 0;
    std::deque<Sample> r;
    detail::ExactSum sum;
    bool have_now = false;
    double now = 0;
  };

  FeatureSpec spec;
  bool external = false;
  std::vector<History> hist;
  std::vector<Window> windows;
  std::vector<Lookup> lookups;
  std::vector<Residual> residuals;
  std::vector<LookupKey> keys;
  std::vector<int32_t> slot;  // per derived feature: its window or lookup index, or -1
  std::vector<char> pushed;   // per input, scratch of Push: did this row add a sample
  std::vector<char> valid;    // per input, scratch of Push: is this row's value usable
  std::vector<double> pasts;  // scratch of the medians
  TimeMs last = kNoTime;

  size_t LookupSlot(const LookupKey& key) {
    for (size_t k = 0; k < lookups.size(); ++k) {
      if (lookups[k].key.input == key.input && lookups[k].key.lag_ms == key.lag_ms) return k;
    }
    lookups.push_back({key, 0});
    keys.push_back(key);
    return lookups.size() - 1;
  }

  // The input's value at t - lag: the caller's, or the latest own sample in
  // (t - lag - step, t - lag]; NaN when there is none.
  double LookupValue(size_t li, TimeMs t, const double* external_values) const {
    constexpr double kNone = std::numeric_limits<double>::quiet_NaN();
    if (external) {
      if (external_values == nullptr) return kNone;
      const double v = external_values[li];
      return std::isfinite(v) && std::fabs(v) <= FLT_MAX ? v : kNone;
    }
    const Lookup& l = lookups[li];
    const History& h = hist[static_cast<size_t>(l.key.input)];
    if (l.pos > h.base && h.at(l.pos - 1).t > t - l.key.lag_ms - spec.step_ms) {
      return h.at(l.pos - 1).x;
    }
    return kNone;
  }

  void AdvanceResidual(Residual& res, TimeMs t, const double* inputs, const double* external) {
    res.have_now = false;
    if (valid[static_cast<size_t>(res.input)]) {
      pasts.clear();
      for (size_t li : res.lookups) {
        const double v = LookupValue(li, t, external);
        if (std::isnan(v)) break;
        pasts.push_back(v);
      }
      if (pasts.size() == res.lookups.size()) {
        std::sort(pasts.begin(), pasts.end());
        const size_t n = pasts.size();
        const double median =
            n % 2 == 1 ? pasts[n / 2] : 0.5 * pasts[n / 2 - 1] + 0.5 * pasts[n / 2];
        res.have_now = true;
        res.now = inputs[static_cast<size_t>(res.input)] - median;
      }
    }
    if (res.smooth <= 0) return;
    if (res.have_now) {
      res.r.push_back({t, res.now});
      res.sum.Add(res.now);
    }
    while (!res.r.empty() && res.r.front().t <= t - res.smooth) {
      res.sum.Subtract(res.r.front().x);
      res.r.pop_front();
    }
    if (res.r.empty()) res.sum.Clear();
  }

  void AddToWindow(Window& w, const History& h, uint64_t i, double sign) {
    const Sample& smp = h.at(i);
    w.sx.Add(sign * smp.x);
    if (w.squares) {
      w.sxx.Add(sign * (smp.x * smp.x));
    }
    if (w.slope) {
      const int64_t u = smp.t - w.anchor;
      w.su += sign > 0 ? u : -u;
      w.sux.Add(sign * (static_cast<double>(u) * smp.x));
      AddSquare(w.suu, u, sign);
    }
  }

  void Rebase(Window& w, const History& h, TimeMs anchor) {
    w.anchor = anchor;
    w.su = 0;
    w.sux.Clear();
    w.suu.Clear();
    for (uint64_t i = w.left; i < h.end(); ++i) {
      const int64_t u = h.at(i).t - anchor;
      w.su += u;
      w.sux.Add(static_cast<double>(u) * h.at(i).x);
      AddSquare(w.suu, u, 1.0);
    }
  }

  void Advance(Window& w, const History& h, TimeMs t, bool pushed) {
    if (w.slope) {
      const TimeMs anchor = FloorDivision(t, kAnchorPeriodMs) * kAnchorPeriodMs;
      if (anchor != w.anchor) {
        Rebase(w, h, anchor);  // covers the new sample too when one was pushed
        if (pushed) {
          const uint64_t i = h.end() - 1;
          w.sx.Add(h.at(i).x);
          if (w.squares) w.sxx.Add(h.at(i).x * h.at(i).x);
          ++w.n;
          PushExtremes(w, h, i);
          pushed = false;
        }
      }
    }
    if (pushed) {
      const uint64_t i = h.end() - 1;
      AddToWindow(w, h, i, 1.0);
      ++w.n;
      PushExtremes(w, h, i);
    }
    while (w.left < h.end() && h.at(w.left).t <= t - w.w) {
      AddToWindow(w, h, w.left, -1.0);
      --w.n;
      ++w.left;
    }
    if (w.n == 0) {  // empty: drop rounding-free but history-laden partials
      w.sx.Clear();
      w.sxx.Clear();
      w.sux.Clear();
      w.suu.Clear();
      w.su = 0;
    }
    if (w.extremes) {
      while (!w.maxq.empty() && w.maxq.front() < w.left) w.maxq.pop_front();
      while (!w.minq.empty() && w.minq.front() < w.left) w.minq.pop_front();
    }
  }

  void PushExtremes(Window& w, const History& h, uint64_t i) {
    if (!w.extremes) return;
    const double x = h.at(i).x;
    while (!w.maxq.empty() && h.at(w.maxq.back()).x <= x) w.maxq.pop_back();
    w.maxq.push_back(i);
    while (!w.minq.empty() && h.at(w.minq.back()).x >= x) w.minq.pop_back();
    w.minq.push_back(i);
  }
};

Result<FeatureStream> FeatureStream::Create(const FeatureSpec& spec, bool external_lookups) {
  Status valid = spec.Validate();
  if (!valid.ok()) {
    return valid;
  }
  auto impl = std::make_unique<Impl>();
  impl->spec = spec;
  impl->external = external_lookups;
  impl->hist.resize(spec.inputs.size());
  for (const DerivedFeature& d : spec.derived) {
    int32_t slot = -1;
    if (d.kind == DerivedFeature::Kind::kSeasonalMedianDiff) {
      Impl::Residual res;
      res.input = d.input;
      res.smooth = d.smooth_ms;
      for (int32_t k = 1; k <= d.periods; ++k) {
        res.lookups.push_back(impl->LookupSlot({d.input, k * d.window_ms}));
      }
      if (!external_lookups) {
        TimeMs& keep = impl->hist[static_cast<size_t>(d.input)].keep_ms;
        keep = std::max(keep, d.periods * d.window_ms + spec.step_ms);
      }
      slot = static_cast<int32_t>(impl->residuals.size());
      impl->residuals.push_back(std::move(res));
    } else if (d.temporal() && d.is_lookup()) {
      slot = static_cast<int32_t>(impl->LookupSlot({d.input, d.window_ms}));
      if (!external_lookups) {
        TimeMs& keep = impl->hist[static_cast<size_t>(d.input)].keep_ms;
        keep = std::max(keep, d.window_ms + spec.step_ms);
      }
    } else if (d.temporal()) {
      for (size_t k = 0; k < impl->windows.size(); ++k) {
        if (impl->windows[k].input == d.input && impl->windows[k].w == d.window_ms) {
          slot = static_cast<int32_t>(k);
        }
      }
      if (slot < 0) {
        slot = static_cast<int32_t>(impl->windows.size());
        Impl::Window w;
        w.input = d.input;
        w.w = d.window_ms;
        impl->windows.push_back(std::move(w));
      }
      Impl::Window& w = impl->windows[static_cast<size_t>(slot)];
      w.squares = w.squares || d.kind == DerivedFeature::Kind::kZScore;
      w.slope = w.slope || d.kind == DerivedFeature::Kind::kRate;
      w.extremes = w.extremes || d.kind == DerivedFeature::Kind::kRange;
      TimeMs& keep = impl->hist[static_cast<size_t>(d.input)].keep_ms;
      keep = std::max(keep, d.window_ms);
    }
    impl->slot.push_back(slot);
  }
  return FeatureStream(std::move(impl));
}

FeatureStream::FeatureStream(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
FeatureStream::FeatureStream(FeatureStream&&) noexcept = default;
FeatureStream& FeatureStream::operator=(FeatureStream&&) noexcept = default;
FeatureStream::~FeatureStream() = default;

const std::vector<FeatureStream::LookupKey>& FeatureStream::LookupKeys() const {
  return impl_->keys;
}

TimeMs FeatureStream::last_time() const { return impl_->last; }

size_t FeatureStream::MemoryBytes() const {
  size_t bytes = sizeof(Impl) + impl_->hist.capacity() * sizeof(Impl::History) +
                 impl_->windows.capacity() * sizeof(Impl::Window) +
                 impl_->lookups.capacity() * sizeof(Impl::Lookup);
  for (const Impl::History& h : impl_->hist) bytes += h.s.size() * sizeof(Sample);
  for (const Impl::Window& w : impl_->windows) {
    bytes += (w.maxq.size() + w.minq.size()) * sizeof(uint64_t);
  }
  for (const Impl::Residual& r : impl_->residuals) {
    bytes += sizeof(Impl::Residual) + r.r.size() * sizeof(Sample) +
             r.lookups.capacity() * sizeof(size_t);
  }
  return bytes;
}

RowProblem FeatureStream::Push(TimeMs t, const double* inputs, double* out, const double* lookups) {
  Impl& m = *impl_;
  if (t == kNoTime) {
    return {RowIssue::kNoTimestamp, -1};
  }
  if (m.last != kNoTime && t <= m.last) {
    return {RowIssue::kOutOfOrder, -1};
  }
  m.last = t;
  const size_t k = m.spec.inputs.size();
  const size_t off = m.spec.raw_inputs ? k : 0;  // where the derived columns start
  RowProblem problem;
  std::vector<char>& pushed = m.pushed;
  pushed.assign(k, 0);
  m.valid.assign(k, 0);
  for (size_t j = 0; j < k; ++j) {
    const double x = inputs[j];
    if (m.spec.raw_inputs) out[j] = x;
    if (std::isnan(x)) {
      if (problem.issue == RowIssue::kNone) problem = {RowIssue::kMissing, static_cast<int32_t>(j)};
      continue;
    }
    if (std::isinf(x)) {
      if (problem.issue == RowIssue::kNone) {
        problem = {RowIssue::kNonFinite, static_cast<int32_t>(j)};
      }
      continue;
    }
    if (std::fabs(x) > FLT_MAX) {  // the forest compares in float32; keeps window sums finite
      if (problem.issue == RowIssue::kNone) {
        problem = {RowIssue::kOutOfRange, static_cast<int32_t>(j)};
      }
      continue;
    }
    m.valid[j] = 1;
    Impl::History& h = m.hist[j];
    if (h.keep_ms > 0) {
      h.s.push_back({t, x});
      if (h.first_t == kNoTime) h.first_t = t;
      pushed[j] = 1;
    } else if (h.first_t == kNoTime) {
      h.first_t = t;
    }
  }
  for (Impl::Window& w : m.windows) {
    const size_t j = static_cast<size_t>(w.input);
    m.Advance(w, m.hist[j], t, pushed[j] != 0);
  }
  if (!m.external) {
    for (Impl::Lookup& l : m.lookups) {
      const Impl::History& h = m.hist[static_cast<size_t>(l.key.input)];
      if (l.pos < h.base) l.pos = h.base;
      while (l.pos < h.end() && h.at(l.pos).t <= t - l.key.lag_ms) ++l.pos;
    }
  }
  for (Impl::Residual& res : m.residuals) m.AdvanceResidual(res, t, inputs, lookups);
  // Drop history no window or look-up can reach any more.
  for (Impl::History& h : m.hist) {
    while (!h.s.empty() && h.s.front().t <= t - h.keep_ms) {
      h.s.pop_front();
      ++h.base;
    }
  }
  if (problem.issue != RowIssue::kNone) {
    return problem;
  }

  const TimeMs step = m.spec.step_ms;
  for (size_t f = 0; f < m.spec.derived.size(); ++f) {
    const DerivedFeature& d = m.spec.derived[f];
    const int32_t column = static_cast<int32_t>(off + f);
    double v = 0;
    if (!d.temporal()) {
      v = TimeFeature(d, t, m.spec.deploy_windows);
    } else if (d.kind == DerivedFeature::Kind::kSeasonalMedianDiff) {
      const Impl::Residual& res = m.residuals[static_cast<size_t>(m.slot[f])];
      if (!res.have_now) {
        return {RowIssue::kWarming, column};
      }
      if (res.smooth <= 0) {
        v = res.now;
      } else {
        // The window must reach back to its start: after a gap longer than the smoothing the
        // mean would stand on a few rows, so the row warms up again instead.
        if (res.r.front().t > t - res.smooth + step) {
          return {RowIssue::kWarming, column};
        }
        v = res.sum.Value() / static_cast<double>(res.r.size());
      }
    } else if (d.is_lookup()) {
      const double past = m.LookupValue(static_cast<size_t>(m.slot[f]), t, lookups);
      if (std::isnan(past)) {
        return {RowIssue::kWarming, column};
      }
      const double x = inputs[static_cast<size_t>(d.input)];
      v = d.kind == DerivedFeature::Kind::kLag ? past : x - past;
    } else {
      const Impl::Window& w = m.windows[static_cast<size_t>(m.slot[f])];
      const Impl::History& h = m.hist[static_cast<size_t>(d.input)];
      if (h.first_t == kNoTime || h.first_t > t - d.window_ms + step || w.n < 2) {
        return {RowIssue::kWarming, column};
      }
      const double n = static_cast<double>(w.n);
      const double sx = w.sx.Value();
      const double mean = sx / n;
      switch (d.kind) {
        case DerivedFeature::Kind::kMean:
          v = mean;
          break;
        case DerivedFeature::Kind::kZScore: {
          const double var = std::max(0.0, (w.sxx.Value() - sx * mean) / n);
          const double sd = std::max({std::sqrt(var), 1e-3 * std::fabs(mean), 1e-12});
          const double x = inputs[static_cast<size_t>(d.input)];
          v = std::clamp((x - mean) / sd, -kZClip, kZClip);
          break;
        }
        case DerivedFeature::Kind::kRate: {
          const double su = static_cast<double>(w.su);
          const double den = n * w.suu.Value() - su * su;
          const double num = n * w.sux.Value() - su * sx;
          v = den > 0 ? num / den * 1000.0 : 0.0;
          break;
        }
        case DerivedFeature::Kind::kRange:
          v = h.at(w.maxq.front()).x - h.at(w.minq.front()).x;
          break;
        default:
          break;
      }
    }
    out[off + f] = v;
  }
  return {};
}

}  // namespace isoscope
