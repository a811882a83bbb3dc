#include <algorithm>
#include <cfloat>
#include <cmath>
#include <limits>
#include <memory>

#include "detail/exact_sum.h"
#include "detail/ring.h"
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

// What a spec asks of a stream, worked out once and shared by every stream built from it
// (the daemon keeps one stream per group, thousands per model).
struct FeatureStream::Plan {
  struct WindowDef {
    int32_t input = -1;
    TimeMs w = 0;
    bool squares = false;
    bool slope = false;
    bool extremes = false;
  };
  // seasonal_median_diff's residual x - median(x(t - p), ..., x(t - K p)), shared by the
  // features that differ only in their smoothing.
  struct BaselineDef {
    int32_t input = -1;
    TimeMs period = 0;
    std::vector<uint32_t> lookups;  // indices into keys, one per past period
  };
  struct SmootherDef {
    uint32_t baseline = 0;
    TimeMs smooth = 0;
  };

  FeatureSpec spec;
  bool external = false;
  std::vector<TimeMs> keep_ms;  // per input: how much own history the stream holds
  std::vector<WindowDef> windows;
  std::vector<LookupKey> keys;
  std::vector<BaselineDef> baselines;
  std::vector<SmootherDef> smoothers;
  // Per derived feature: its window, look-up, baseline (unsmoothed) or smoother, or -1.
  std::vector<int32_t> slot;

  uint32_t LookupSlot(const LookupKey& key) {
    for (size_t k = 0; k < keys.size(); ++k) {
      if (keys[k].input == key.input && keys[k].lag_ms == key.lag_ms) {
        return static_cast<uint32_t>(k);
      }
    }
    keys.push_back(key);
    return static_cast<uint32_t>(keys.size() - 1);
  }
};

namespace {

// The input values a stream accepts: finite and within float32, which the forest compares in
// (and which keeps window sums finite).
bool Usable(double x) { return std::isfinite(x) && std::fabs(x) <= FLT_MAX; }

// The median of n <= kMaxSeasonalPeriods values, each kept as given (no arithmetic) for odd n.
double Median(double* v, size_t n) {
  if (n == 3) {
    // std::max(std::min(v0, v1), std::min(std::max(v0, v1), v2)), the same picks made on
    // indices: V8 compiles a select of two doubles to a branch, which mispredicts on noisy
    // data (the panel's feature rows took 19% longer that way); indices are integer selects.
    const size_t lo = v[1] < v[0] ? 1 : 0;
    const size_t hi = v[0] < v[1] ? 1 : 0;
    const size_t t = v[2] < v[hi] ? 2 : hi;
    return v[v[lo] < v[t] ? t : lo];
  }
  for (size_t i = 1; i < n; ++i) {  // insertion sort: n is a handful of past periods
    const double x = v[i];
    size_t j = i;
    for (; j > 0 && v[j - 1] > x; --j) v[j] = v[j - 1];
    v[j] = x;
  }
  return n % 2 == 1 ? v[n / 2] : 0.5 * v[n / 2 - 1] + 0.5 * v[n / 2];
}

}  // namespace

struct FeatureStream::Impl {
  struct History {
    detail::Ring<Sample> s;
    uint64_t base = 0;  // absolute index of s.front()
    TimeMs first_t = kNoTime;
    uint64_t end() const { return base + s.size(); }
    const Sample& at(uint64_t i) const { return s[static_cast<size_t>(i - base)]; }
  };
  struct Window {
    uint64_t left = 0;
    int64_t n = 0;
    detail::ExactSum sx, sxx, sux, suu;
    int64_t su = 0;
    TimeMs anchor = kNoTime;
    detail::Ring<uint64_t> maxq, minq;  // absolute indices, values decreasing / increasing
  };
  struct Residual {
    bool have = false;
    double now = 0;
  };
  // The smoothing windows' rows, shared by every smoother (the `auto` set has one per input,
  // all over the same rows): a row's time once, then each smoother's residual (NaN when it had
  // none that row; a residual is a difference of finite values, never NaN). A ring of
  // (time, value) per smoother held the times once per input, in a block each: 1,536 bytes a
  // daemon group against 1,024 here.
  struct SmoothRows {
    size_t width = 0;  // smoothers
    std::vector<TimeMs> times;
    std::vector<double> values;  // width per row
    size_t head = 0;             // slot of the oldest row
    size_t size = 0;
    uint64_t base = 0;  // absolute index of the oldest row
    uint64_t end() const { return base + size; }
    size_t Slot(uint64_t i) const {
      return (head + static_cast<size_t>(i - base)) & (times.size() - 1);
    }
    TimeMs time(uint64_t i) const { return times[Slot(i)]; }
    double value(uint64_t i, size_t k) const { return values[Slot(i) * width + k]; }
    // Room for at least n rows, a power of two, the rows kept in order.
    void Reserve(size_t n) {
      size_t cap = times.empty() ? 4 : times.size();
      while (cap < n) cap *= 2;
      if (cap == times.size()) return;
      std::vector<TimeMs> t(cap);
      std::vector<double> v(cap * width);
      for (size_t i = 0; i < size; ++i) {
        const size_t from = (head + i) & (times.size() - 1);
        t[i] = times[from];
        std::copy_n(values.begin() + static_cast<std::ptrdiff_t>(from * width), width,
                    v.begin() + static_cast<std::ptrdiff_t>(i * width));
      }
      times.swap(t);
      values.swap(v);
      head = 0;
    }
    // Appends a row; its values are written through the pointer returned.
    double* Push(TimeMs t) {
      if (size == times.size()) Reserve(size + 1);
      const size_t slot = (head + size) & (times.size() - 1);
      ++size;
      times[slot] = t;
      return values.data() + slot * width;
    }
    void DropBefore(uint64_t i) {
      for (; base < i && size > 0; ++base, --size) head = (head + 1) & (times.size() - 1);
    }
  };
  // One smoothing window over the shared rows: those from `left` on, `count` of them with a
  // residual of its own, summed exactly.
  struct Smoother {
    uint64_t left = 0;
    size_t count = 0;
    detail::ExactSum sum;
  };

  std::shared_ptr<const Plan> plan;
  std::vector<History> hist;
  std::vector<Window> windows;
  // Own look-ups only, per key: the samples with t <= now - lag, and the latest of them
  // (read once as the position passes it, not again from the ring for every row).
  struct LookupPos {
    uint64_t pos = 0;
    Sample last{kNoTime, 0};
  };
  std::vector<LookupPos> lookup_pos;
  std::vector<Residual> residuals;  // per baseline
  SmoothRows smooth_rows;
  std::vector<Smoother> smoothers;
  std::vector<double> scratch;  // median_diff's copy of a window, reused row after row
  TimeMs last = kNoTime;

  // The median of the history's samples from absolute index `left` on (the window's rows).
  double WindowMedian(const History& h, uint64_t left) {
    scratch.clear();
    for (uint64_t i = left; i < h.end(); ++i) scratch.push_back(h.at(i).x);
    const size_t n = scratch.size();
    auto mid = scratch.begin() + static_cast<std::ptrdiff_t>(n / 2);
    std::nth_element(scratch.begin(), mid, scratch.end());
    if (n % 2 == 1) return *mid;
    const double upper = *mid;
    const double lower = *std::max_element(scratch.begin(), mid);
    return 0.5 * lower + 0.5 * upper;
  }

  explicit Impl(std::shared_ptr<const Plan> p) : plan(std::move(p)) {
    hist.resize(plan->spec.inputs.size());
    windows.resize(plan->windows.size());
    if (!plan->external) lookup_pos.resize(plan->keys.size());
    residuals.resize(plan->baselines.size());
    smoothers.resize(plan->smoothers.size());
    smooth_rows.width = smoothers.size();
  }

  // The input's value at t - lag: the caller's, or the latest own sample in
  // (t - lag - step, t - lag]; NaN when there is none.
  double LookupValue(size_t li, TimeMs t, const double* external_values) const {
    constexpr double kNone = std::numeric_limits<double>::quiet_NaN();
    if (plan->external) {
      if (external_values == nullptr) return kNone;
      const double v = external_values[li];
      return Usable(v) ? v : kNone;
    }
    // A sample dropped from history is older than t - lag - step for every key, so `last`
    // never stands in for one.
    const LookupKey& key = plan->keys[li];
    const Sample& last = lookup_pos[li].last;
    if (last.t != kNoTime && last.t > t - key.lag_ms - plan->spec.step_ms) return last.x;
    return kNone;
  }

  void AdvanceResidual(size_t b, TimeMs t, const double* inputs, const double* external) {
    const Plan::BaselineDef& def = plan->baselines[b];
    Residual& res = residuals[b];
    res.have = false;
    const double x = inputs[static_cast<size_t>(def.input)];
    if (!Usable(x)) return;
    double pasts[kMaxSeasonalPeriods];
    const size_t n = def.lookups.size();
    for (size_t k = 0; k < n; ++k) {
      pasts[k] = LookupValue(def.lookups[k], t, external);
      if (std::isnan(pasts[k])) return;
    }
    res.have = true;
    res.now = x - Median(pasts, n);
  }

  // The row's residuals into the smoothing windows (a row only when one of them has one),
  // then each window's old rows out: its first row is always one with a residual of its own.
  void AdvanceSmoothers(TimeMs t) {
    const size_t n = smoothers.size();
    bool any = false;
    for (size_t k = 0; k < n && !any; ++k) any = residuals[plan->smoothers[k].baseline].have;
    if (any) {
      if (smooth_rows.times.empty()) {
        // A window holds one row per step: sized once, so thousands of streams do not leave
        // a trail of outgrown blocks behind while they fill.
        TimeMs longest = 0;
        for (const Plan::SmootherDef& def : plan->smoothers)
          longest = std::max(longest, def.smooth);
        const TimeMs step = plan->spec.step_ms;
        smooth_rows.Reserve(step > 0 ? static_cast<size_t>(longest / step) + 1 : 4);
      }
      double* row = smooth_rows.Push(t);
      for (size_t k = 0; k < n; ++k) {
        const Residual& res = residuals[plan->smoothers[k].baseline];
        row[k] = res.have ? res.now : std::numeric_limits<double>::quiet_NaN();
        if (!res.have) continue;
        smoothers[k].sum.Add(res.now);
        ++smoothers[k].count;
      }
    }
    uint64_t keep = smooth_rows.end();
    for (size_t k = 0; k < n; ++k) {
      Smoother& sm = smoothers[k];
      const TimeMs from = t - plan->smoothers[k].smooth;
      for (; sm.left < smooth_rows.end(); ++sm.left) {
        const double x = smooth_rows.value(sm.left, k);
        if (std::isnan(x)) continue;  // not this window's row: skipped, nothing to subtract
        if (smooth_rows.time(sm.left) > from) break;
        sm.sum.Subtract(x);
        --sm.count;
      }
      if (sm.count == 0) sm.sum.Clear();
      keep = std::min(keep, sm.left);
    }
    smooth_rows.DropBefore(keep);
  }

  static void AddToWindow(const Plan::WindowDef& def, Window& w, const History& h, uint64_t i,
                          double sign) {
    const Sample& smp = h.at(i);
    w.sx.Add(sign * smp.x);
    if (def.squares) {
      w.sxx.Add(sign * (smp.x * smp.x));
    }
    if (def.slope) {
      const int64_t u = smp.t - w.anchor;
      w.su += sign > 0 ? u : -u;
      w.sux.Add(sign * (static_cast<double>(u) * smp.x));
      AddSquare(w.suu, u, sign);
    }
  }

  static void Rebase(Window& w, const History& h, TimeMs anchor) {
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

  static void Advance(const Plan::WindowDef& def, Window& w, const History& h, TimeMs t,
                      bool pushed) {
    if (def.slope) {
      const TimeMs anchor = FloorDivision(t, kAnchorPeriodMs) * kAnchorPeriodMs;
      if (anchor != w.anchor) {
        Rebase(w, h, anchor);  // covers the new sample too when one was pushed
        if (pushed) {
          const uint64_t i = h.end() - 1;
          w.sx.Add(h.at(i).x);
          if (def.squares) w.sxx.Add(h.at(i).x * h.at(i).x);
          ++w.n;
          PushExtremes(def, w, h, i);
          pushed = false;
        }
      }
    }
    if (pushed) {
      const uint64_t i = h.end() - 1;
      AddToWindow(def, w, h, i, 1.0);
      ++w.n;
      PushExtremes(def, w, h, i);
    }
    while (w.left < h.end() && h.at(w.left).t <= t - def.w) {
      AddToWindow(def, w, h, w.left, -1.0);
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
    if (def.extremes) {
      while (!w.maxq.empty() && w.maxq.front() < w.left) w.maxq.pop_front();
      while (!w.minq.empty() && w.minq.front() < w.left) w.minq.pop_front();
    }
  }

  // The row's inputs into the histories, windows, look-ups, baselines and smoothers, raw
  // inputs copied to `out` when the spec keeps them; the first unusable input, if any.
  RowProblem Absorb(TimeMs t, const double* inputs, double* out, const double* lookups) {
    const Plan& p = *plan;
    const size_t k = p.spec.inputs.size();
    RowProblem problem;
    for (size_t j = 0; j < k; ++j) {
      const double x = inputs[j];
      if (p.spec.raw_inputs) out[j] = x;
      if (!Usable(x)) {
        if (problem.issue == RowIssue::kNone) {
          problem = {std::isnan(x)   ? RowIssue::kMissing
                     : std::isinf(x) ? RowIssue::kNonFinite
                                     : RowIssue::kOutOfRange,
                     static_cast<int32_t>(j)};
        }
        continue;
      }
      History& h = hist[j];
      if (h.first_t == kNoTime) h.first_t = t;
      if (p.keep_ms[j] > 0) h.s.push_back({t, x});
    }
    for (size_t w = 0; w < p.windows.size(); ++w) {
      const Plan::WindowDef& def = p.windows[w];
      const size_t j = static_cast<size_t>(def.input);
      Advance(def, windows[w], hist[j], t, Usable(inputs[j]));
    }
    if (!p.external) {
      for (size_t l = 0; l < p.keys.size(); ++l) {
        const LookupKey& key = p.keys[l];
        const History& h = hist[static_cast<size_t>(key.input)];
        LookupPos& lp = lookup_pos[l];
        if (lp.pos < h.base) lp.pos = h.base;
        const TimeMs until = t - key.lag_ms;
        while (lp.pos < h.end()) {
          const Sample& smp = h.at(lp.pos);
          if (smp.t > until) break;
          lp.last = smp;
          ++lp.pos;
        }
      }
    }
    for (size_t b = 0; b < p.baselines.size(); ++b) AdvanceResidual(b, t, inputs, lookups);
    if (!p.smoothers.empty()) AdvanceSmoothers(t);
    // Drop history no window or look-up can reach any more.
    for (size_t j = 0; j < k; ++j) {
      History& h = hist[j];
      while (!h.s.empty() && h.s.front().t <= t - p.keep_ms[j]) {
        h.s.pop_front();
        ++h.base;
      }
    }
    return problem;
  }

  // A rolling-window feature (mean, zscore, rate, range, median_diff) of a warm window.
  double WindowFeature(const DerivedFeature& d, const Window& w, const History& h,
                       const double* inputs) {
    double v = 0;
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
      case DerivedFeature::Kind::kMedianDiff:
        v = inputs[static_cast<size_t>(d.input)] - WindowMedian(h, w.left);
        break;
      default:
        break;
    }
    return v;
  }

  static void PushExtremes(const Plan::WindowDef& def, Window& w, const History& h, uint64_t i) {
    if (!def.extremes) return;
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
  auto plan = std::make_shared<Plan>();
  plan->spec = spec;
  plan->external = external_lookups;
  plan->keep_ms.assign(spec.inputs.size(), 0);
  for (const DerivedFeature& d : spec.derived) {
    int32_t slot = -1;
    if (d.kind == DerivedFeature::Kind::kSeasonalMedianDiff) {
      int32_t b = -1;
      for (size_t k = 0; k < plan->baselines.size(); ++k) {
        const Plan::BaselineDef& def = plan->baselines[k];
        if (def.input == d.input && def.period == d.window_ms &&
            def.lookups.size() == static_cast<size_t>(d.periods)) {
          b = static_cast<int32_t>(k);
        }
      }
      if (b < 0) {
        Plan::BaselineDef def;
        def.input = d.input;
        def.period = d.window_ms;
        for (int32_t k = 1; k <= d.periods; ++k) {
          def.lookups.push_back(plan->LookupSlot({d.input, k * d.window_ms}));
        }
        b = static_cast<int32_t>(plan->baselines.size());
        plan->baselines.push_back(std::move(def));
      }
      if (!external_lookups) {
        TimeMs& keep = plan->keep_ms[static_cast<size_t>(d.input)];
        keep = std::max(keep, d.periods * d.window_ms + spec.step_ms);
      }
      if (d.smooth_ms > 0) {
        slot = static_cast<int32_t>(plan->smoothers.size());
        plan->smoothers.push_back({static_cast<uint32_t>(b), d.smooth_ms});
      } else {
        slot = b;
      }
    } else if (d.temporal() && d.is_lookup()) {
      slot = static_cast<int32_t>(plan->LookupSlot({d.input, d.window_ms}));
      if (!external_lookups) {
        TimeMs& keep = plan->keep_ms[static_cast<size_t>(d.input)];
        keep = std::max(keep, d.window_ms + spec.step_ms);
      }
    } else if (d.temporal()) {
      for (size_t k = 0; k < plan->windows.size(); ++k) {
        if (plan->windows[k].input == d.input && plan->windows[k].w == d.window_ms) {
          slot = static_cast<int32_t>(k);
        }
      }
      if (slot < 0) {
        slot = static_cast<int32_t>(plan->windows.size());
        Plan::WindowDef w;
        w.input = d.input;
        w.w = d.window_ms;
        plan->windows.push_back(w);
      }
      Plan::WindowDef& w = plan->windows[static_cast<size_t>(slot)];
      w.squares = w.squares || d.kind == DerivedFeature::Kind::kZScore;
      w.slope = w.slope || d.kind == DerivedFeature::Kind::kRate;
      w.extremes = w.extremes || d.kind == DerivedFeature::Kind::kRange;
      TimeMs& keep = plan->keep_ms[static_cast<size_t>(d.input)];
      keep = std::max(keep, d.window_ms);
    }
    plan->slot.push_back(slot);
  }
  return FeatureStream(std::make_unique<Impl>(std::move(plan)));
}

FeatureStream::FeatureStream(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
FeatureStream::FeatureStream(FeatureStream&&) noexcept = default;
FeatureStream& FeatureStream::operator=(FeatureStream&&) noexcept = default;
FeatureStream::~FeatureStream() = default;

FeatureStream FeatureStream::Fresh() const {
  return FeatureStream(std::make_unique<Impl>(impl_->plan));
}

const std::vector<FeatureStream::LookupKey>& FeatureStream::LookupKeys() const {
  return impl_->plan->keys;
}

TimeMs FeatureStream::last_time() const { return impl_->last; }

size_t FeatureStream::MemoryBytes() const {
  const Impl& m = *impl_;
  size_t bytes = sizeof(FeatureStream) + sizeof(Impl) + m.hist.capacity() * sizeof(Impl::History) +
                 m.windows.capacity() * sizeof(Impl::Window) +
                 m.lookup_pos.capacity() * sizeof(Impl::LookupPos) +
                 m.residuals.capacity() * sizeof(Impl::Residual) +
                 m.smoothers.capacity() * sizeof(Impl::Smoother);
  for (const Impl::History& h : m.hist) bytes += h.s.capacity() * sizeof(Sample);
  for (const Impl::Window& w : m.windows) {
    bytes += (w.maxq.capacity() + w.minq.capacity()) * sizeof(uint64_t) + w.sx.heap_bytes() +
             w.sxx.heap_bytes() + w.sux.heap_bytes() + w.suu.heap_bytes();
  }
  bytes += m.smooth_rows.times.capacity() * sizeof(TimeMs) +
           m.smooth_rows.values.capacity() * sizeof(double);
  for (const Impl::Smoother& s : m.smoothers) bytes += s.sum.heap_bytes();
  bytes += m.scratch.capacity() * sizeof(double);
  return bytes;
}

RowProblem FeatureStream::Push(TimeMs t, const double* inputs, double* out, const double* lookups) {
  Impl& m = *impl_;
  const Plan& plan = *m.plan;
  if (t == kNoTime) {
    return {RowIssue::kNoTimestamp, -1};
  }
  if (m.last != kNoTime && t <= m.last) {
    return {RowIssue::kOutOfOrder, -1};
  }
  m.last = t;
  const size_t k = plan.spec.inputs.size();
  const size_t off = plan.spec.raw_inputs ? k : 0;  // where the derived columns start
  const RowProblem problem = m.Absorb(t, inputs, out, lookups);
  if (problem.issue != RowIssue::kNone) {
    return problem;
  }

  const TimeMs step = plan.spec.step_ms;
  for (size_t f = 0; f < plan.spec.derived.size(); ++f) {
    const DerivedFeature& d = plan.spec.derived[f];
    const int32_t column = static_cast<int32_t>(off + f);
    const size_t slot = static_cast<size_t>(plan.slot[f]);
    double v = 0;
    if (!d.temporal()) {
      v = TimeFeature(d, t, plan.spec.deploy_windows);
    } else if (d.kind == DerivedFeature::Kind::kSeasonalMedianDiff && d.smooth_ms <= 0) {
      const Impl::Residual& res = m.residuals[slot];
      if (!res.have) {
        return {RowIssue::kWarming, column};
      }
      v = res.now;
    } else if (d.kind == DerivedFeature::Kind::kSeasonalMedianDiff) {
      const Plan::SmootherDef& def = plan.smoothers[slot];
      const Impl::Smoother& sm = m.smoothers[slot];
      // The row's own residual must exist, and the window must reach back to its start:
      // after a gap longer than the smoothing the mean would stand on a few rows, so the row
      // warms up again instead.
      if (!m.residuals[def.baseline].have || m.smooth_rows.time(sm.left) > t - def.smooth + step) {
        return {RowIssue::kWarming, column};
      }
      v = sm.sum.Value() / static_cast<double>(sm.count);
    } else if (d.is_lookup()) {
      const double past = m.LookupValue(slot, t, lookups);
      if (std::isnan(past)) {
        return {RowIssue::kWarming, column};
      }
      const double x = inputs[static_cast<size_t>(d.input)];
      v = d.kind == DerivedFeature::Kind::kLag ? past : x - past;
    } else {
      const Impl::Window& w = m.windows[slot];
      const Impl::History& h = m.hist[static_cast<size_t>(d.input)];
      if (h.first_t == kNoTime || h.first_t > t - d.window_ms + step || w.n < 2) {
        return {RowIssue::kWarming, column};
      }
      v = m.WindowFeature(d, w, h, inputs);
    }
    out[off + f] = v;
  }
  return {};
}

}  // namespace isoscope
