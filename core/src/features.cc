#include "isoscope/features.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>

namespace isoscope {
namespace {

constexpr int32_t kMinutesPerWeek = 7 * 24 * 60;
constexpr const char* kDayNames[7] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};

// Floor division, so times before 1970 land in the right week too.
int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) {
    --q;
  }
  return q;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) {
    s.remove_prefix(1);
  }
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) {
    s.remove_suffix(1);
  }
  return s;
}

int DayIndex(std::string_view name) {
  for (int i = 0; i < 7; ++i) {
    std::string_view d = kDayNames[i];
    if (name.size() == 3 &&
        std::tolower(static_cast<unsigned char>(name[0])) ==
            std::tolower(static_cast<unsigned char>(d[0])) &&
        name[1] == d[1] && name[2] == d[2]) {
      return i;
    }
  }
  return -1;
}

// "HH:MM" to minutes of the day; 24:00 is allowed as an end.
int ParseClock(std::string_view s) {
  s = Trim(s);
  if (s.size() != 5 || s[2] != ':') {
    return -1;
  }
  for (size_t i : {0, 1, 3, 4}) {
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) {
      return -1;
    }
  }
  const int h = (s[0] - '0') * 10 + (s[1] - '0');
  const int m = (s[3] - '0') * 10 + (s[4] - '0');
  if (m > 59 || h > 24 || (h == 24 && m != 0)) {
    return -1;
  }
  return h * 60 + m;
}

}  // namespace

int32_t MinuteOfWeek(TimeMs t) {
  const int64_t minutes = FloorDiv(t, kMinuteMs);
  // 1970-01-01 was a Thursday: Monday-based minute of week is offset by 3 days.
  const int64_t m = (minutes + 3 * 24 * 60) % kMinutesPerWeek;
  return static_cast<int32_t>(m < 0 ? m + kMinutesPerWeek : m);
}

int32_t HourOfWeek(TimeMs t) { return MinuteOfWeek(t) / 60; }

std::vector<WeeklyWindow> DefaultDeployWindows() {
  std::vector<WeeklyWindow> w;
  for (int day = 0; day < 5; ++day) {
    w.push_back({day * 1440 + 600, day * 1440 + 720});
  }
  return w;
}

Result<std::vector<WeeklyWindow>> ParseDeployWindows(std::string_view text) {
  std::vector<WeeklyWindow> out;
  auto error = [&](std::string_view part, const std::string& why) {
    return Status(ErrorCode::kInvalidArgument,
                  "deploy window '" + std::string(part) + "': " + why +
                      " (expected e.g. 'Mon-Fri 10:00-12:00', several separated by ';')");
  };
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t end = text.find_first_of(";,", pos);
    if (end == std::string_view::npos) {
      end = text.size();
    }
    std::string_view part = Trim(text.substr(pos, end - pos));
    pos = end + 1;
    if (part.empty()) {
      continue;
    }
    const size_t space = part.find(' ');
    if (space == std::string_view::npos) {
      return error(part, "missing the time range");
    }
    std::string_view days = Trim(part.substr(0, space));
    std::string_view clock = Trim(part.substr(space + 1));
    int d0 = -1, d1 = -1;
    const size_t dash = days.find('-');
    if (dash == std::string_view::npos) {
      d0 = d1 = DayIndex(days);
    } else {
      d0 = DayIndex(days.substr(0, dash));
      d1 = DayIndex(days.substr(dash + 1));
    }
    if (d0 < 0 || d1 < 0) {
      return error(part, "unknown day name (use Mon, Tue, Wed, Thu, Fri, Sat, Sun)");
    }
    const size_t cdash = clock.find('-');
    if (cdash == std::string_view::npos) {
      return error(part, "time range must look like 10:00-12:00");
    }
    const int c0 = ParseClock(clock.substr(0, cdash));
    const int c1 = ParseClock(clock.substr(cdash + 1));
    if (c0 < 0 || c1 < 0 || c0 == 24 * 60 || c0 == c1) {
      return error(part, "invalid or empty time range");
    }
    for (int d = d0;; d = (d + 1) % 7) {
      const int base = d * 1440;
      if (c1 > c0) {
        out.push_back({base + c0, base + c1});
      } else {  // crosses midnight into the next day (and Sunday into Monday)
        out.push_back({base + c0, base + 1440});
        const int next = ((d + 1) % 7) * 1440;
        if (c1 > 0) {
          out.push_back({next, next + c1});
        }
      }
      if (d == d1) {
        break;
      }
    }
  }
  if (out.empty()) {
    return error(text, "no window given");
  }
  return out;
}

std::string FormatDeployWindows(const std::vector<WeeklyWindow>& windows) {
  std::string out;
  for (const WeeklyWindow& w : windows) {
    const int day = w.start_minute / 1440;
    const int s = w.start_minute % 1440;
    const int e = w.end_minute - day * 1440;
    char buf[40];
    std::snprintf(buf, sizeof buf, "%s %02d:%02d-%02d:%02d", kDayNames[day % 7], s / 60, s % 60,
                  e / 60, e % 60);
    if (!out.empty()) {
      out += "; ";
    }
    out += buf;
  }
  return out;
}

namespace {

struct KindEntry {
  DerivedFeature::Kind kind;
  const char* name;
};
constexpr KindEntry kKinds[] = {
    {DerivedFeature::Kind::kHourOfWeek, "hour_of_week"},
    {DerivedFeature::Kind::kIsDeployWindow, "is_deploy_window"},
    {DerivedFeature::Kind::kLag, "lag"},
    {DerivedFeature::Kind::kDelta, "delta"},
    {DerivedFeature::Kind::kSeasonalDiff, "seasonal_diff"},
    {DerivedFeature::Kind::kRate, "rate"},
    {DerivedFeature::Kind::kZScore, "zscore"},
    {DerivedFeature::Kind::kRange, "range"},
    {DerivedFeature::Kind::kMean, "mean"},
    {DerivedFeature::Kind::kSeasonalMedianDiff, "seasonal_median_diff"},
    {DerivedFeature::Kind::kMedianDiff, "median_diff"},
};
constexpr const char* kKnownList =
    "hour_of_week, is_deploy_window, lag(x,k|1..k|D), delta(x,D), rate(x,D), zscore(x,D), "
    "seasonal_diff(x,1d|1w), seasonal_median_diff(x,P,K[,D]), range(x,D), mean(x,D), "
    "median_diff(x,D), "
    "raw=off, "
    "auto";
// Windows longer than a year are a configuration slip, and they keep time offsets within
// the exact range of the rate sums.
constexpr TimeMs kMaxWindowMs = 366 * kDayMs;

bool TemporalKind(DerivedFeature::Kind k) {
  return k != DerivedFeature::Kind::kHourOfWeek && k != DerivedFeature::Kind::kIsDeployWindow;
}

// Splits at commas outside parentheses.
std::vector<std::string_view> SplitTopLevel(std::string_view text) {
  std::vector<std::string_view> parts;
  int depth = 0;
  size_t start = 0;
  for (size_t i = 0; i <= text.size(); ++i) {
    if (i == text.size() || (text[i] == ',' && depth == 0)) {
      parts.push_back(Trim(text.substr(start, i - start)));
      start = i + 1;
    } else if (text[i] == '(') {
      ++depth;
    } else if (text[i] == ')') {
      --depth;
    }
  }
  return parts;
}

bool AllDigits(std::string_view s) {
  if (s.empty() || s.size() > 9) return false;
  for (char c : s) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

}  // namespace

bool ParseDerivedKind(std::string_view name, DerivedFeature::Kind* kind) {
  for (const KindEntry& e : kKinds) {
    if (name == e.name) {
      *kind = e.kind;
      return true;
    }
  }
  return false;
}

std::string DerivedFeature::KindName() const {
  for (const KindEntry& e : kKinds) {
    if (e.kind == kind) return e.name;
  }
  return "unknown";
}

std::string DerivedFeature::Name(const std::vector<std::string>& inputs) const {
  if (!temporal()) {
    return KindName();
  }
  const std::string in = input < static_cast<int32_t>(inputs.size())
                             ? inputs[static_cast<size_t>(input)]
                             : "input" + std::to_string(input);
  std::string name = KindName() + "(" + in + "," + FormatDurationMs(window_ms);
  if (kind == Kind::kSeasonalMedianDiff) {
    name += "," + std::to_string(periods);
    if (smooth_ms > 0) name += "," + FormatDurationMs(smooth_ms);
  }
  return name + ")";
}

Result<TimeMs> ParseDurationMs(std::string_view text, bool allow_zero) {
  text = Trim(text);
  size_t i = 0;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
    ++i;
  }
  const std::string_view unit = text.substr(i);
  TimeMs scale = 0;
  if (unit == "ms") scale = 1;
  if (unit == "s") scale = 1000;
  if (unit == "m") scale = kMinuteMs;
  if (unit == "h") scale = kHourMs;
  if (unit == "d") scale = kDayMs;
  if (unit == "w") scale = kWeekMs;
  if (i == 0 || i > 9 || scale == 0) {
    return Status(ErrorCode::kInvalidArgument,
                  "'" + std::string(text) +
                      "' is not a duration (write a whole number and a unit: 250ms, 30s, 5m, "
                      "1h, 1d, 1w)");
  }
  const TimeMs n = std::stoll(std::string(text.substr(0, i)));
  if (n <= 0 && !allow_zero) {
    return Status(ErrorCode::kInvalidArgument, "duration '" + std::string(text) + "' is zero");
  }
  return n * scale;
}

std::string FormatDurationMs(TimeMs ms) {
  for (const auto& [unit, suffix] : {std::pair<TimeMs, const char*>{kWeekMs, "w"},
                                     {kDayMs, "d"},
                                     {kHourMs, "h"},
                                     {kMinuteMs, "m"},
                                     {1000, "s"}}) {
    if (ms != 0 && ms % unit == 0) return std::to_string(ms / unit) + suffix;
  }
  return std::to_string(ms) + "ms";
}

namespace {

// Four weeks: three past weeks for the median baseline and one more to train on.
constexpr TimeMs kSeasonalAutoSpanMs = 4 * kWeekMs;

bool AutoSeasonal(const AutoContext& c) {
  const TimeMs step = c.step_ms > 0 ? c.step_ms : kMinuteMs;
  // Measured data must show the weekly cycle the baseline is for.
  return c.span_ms >= kSeasonalAutoSpanMs && step <= 10 * kMinuteMs && (!c.measured || c.weekly);
}

}  // namespace

bool AutoUsesRawInputs(const AutoContext& context) { return !AutoSeasonal(context); }

std::vector<DerivedFeature> AutoDerived(size_t n_inputs, const AutoContext& c) {
  using K = DerivedFeature::Kind;
  if (AutoSeasonal(c)) {
    // Per input, the level against the median of the same minute in the last three weeks:
    // once for the row alone (a spike, an error burst, a level shift show at once) and once
    // averaged over half an hour (at least 6 samples), where a slow leak stands out of the
    // noise within an hour or two. Weekly habits are in the baseline, so neither the raw
    // values nor hour_of_week / is_deploy_window are needed (docs/features.md).
    const TimeMs step = c.step_ms > 0 ? c.step_ms : kMinuteMs;
    const TimeMs smooth = std::clamp<TimeMs>(30 * kMinuteMs, 6 * step, 60 * step);
    std::vector<DerivedFeature> out;
    for (size_t j = 0; j < n_inputs; ++j) {
      DerivedFeature f{K::kSeasonalMedianDiff, static_cast<int32_t>(j), kWeekMs, 3, 0};
      out.push_back(f);
    }
    for (size_t j = 0; j < n_inputs; ++j) {
      DerivedFeature f{K::kSeasonalMedianDiff, static_cast<int32_t>(j), kWeekMs, 3, smooth};
      out.push_back(f);
    }
    return out;
  }
  // Calendar columns only where the data shows a calendar pattern (or, from a config, where
  // it could not be measured), deploy windows only when someone configured them: otherwise
  // they are columns the forest splits on for nothing.
  std::vector<DerivedFeature> out;
  if (!c.measured || c.daily || c.weekly) out.push_back({K::kHourOfWeek, -1, 0});
  if (c.deploy_windows) out.push_back({K::kIsDeployWindow, -1, 0});
  const TimeMs step = c.step_ms > 0 ? c.step_ms : kMinuteMs;
  // Short context: an hour at one-minute data, never fewer than 12 samples nor more than 120.
  const TimeMs short_w = std::clamp<TimeMs>(kHourMs, 12 * step, 120 * step);
  // Windows are worth their warm-up only when the history is much longer than they are.
  if (c.span_ms < std::max<TimeMs>(kDayMs, 24 * short_w)) {
    return out;
  }
  for (size_t j = 0; j < n_inputs; ++j) {
    const int32_t in = static_cast<int32_t>(j);
    out.push_back({K::kZScore, in, short_w});
    out.push_back({K::kRate, in, short_w});
    // A seasonal difference costs a period of rows: only for a cycle the history shows.
    if (c.span_ms >= 3 * kWeekMs && (!c.measured || c.weekly)) {
      out.push_back({K::kSeasonalDiff, in, kWeekMs});
    } else if (c.span_ms >= 3 * kDayMs && (!c.measured || c.daily)) {
      out.push_back({K::kSeasonalDiff, in, kDayMs});
    }
  }
  return out;
}

namespace {

// seasonal_median_diff's "period, periods[, smoothing]" into f; "" or what is wrong.
std::string ParseSeasonalArgs(std::string_view dur, const std::string& input, DerivedFeature* f) {
  const std::vector<std::string_view> parts = SplitTopLevel(dur);
  if (parts.size() < 2 || parts.size() > 3) {
    return "is written seasonal_median_diff(x, period, periods[, smoothing]), e.g. " +
           f->KindName() + "(" + input + ",1w,3,30m)";
  }
  auto period = ParseDurationMs(parts[0]);
  if (!period.ok()) return period.status().message();
  if (!AllDigits(parts[1]) || std::stoll(std::string(parts[1])) < 1 ||
      std::stoll(std::string(parts[1])) > kMaxSeasonalPeriods) {
    return "the number of past periods must be a whole number from 1 to " +
           std::to_string(kMaxSeasonalPeriods);
  }
  f->window_ms = *period;
  f->periods = static_cast<int32_t>(std::stoll(std::string(parts[1])));
  if (parts.size() == 3) {
    auto smooth = ParseDurationMs(parts[2]);
    if (!smooth.ok()) return smooth.status().message();
    f->smooth_ms = *smooth;
  }
  if (f->periods * f->window_ms > kMaxWindowMs) return "looks back more than 366d";
  if (f->smooth_ms > f->window_ms) return "the smoothing is longer than the period";
  return "";
}

// lag(x,k) or the shingle lag(x,a..b) in steps of the data (`step_ms`); "" or what is wrong.
std::string ParseLagSteps(std::string_view dur, size_t dots, int64_t step_ms, int64_t* first_step,
                          int64_t* last_step) {
  if (dots != std::string_view::npos) {
    if (!AllDigits(dur.substr(0, dots)) || !AllDigits(dur.substr(dots + 2))) {
      return "a shingle is written lag(x,1..k) with whole numbers";
    }
    *first_step = std::stoll(std::string(dur.substr(0, dots)));
    *last_step = std::stoll(std::string(dur.substr(dots + 2)));
  } else {
    *first_step = *last_step = std::stoll(std::string(dur));
  }
  if (*first_step < 1 || *last_step < *first_step || *last_step - *first_step >= 64) {
    return "lag steps must be 1 <= a <= b with at most 64 of them";
  }
  if (step_ms <= 0) {
    return "a lag in steps needs the data's step; give a duration instead, e.g. 5m";
  }
  return "";
}

// A temporal item, "kind(input,args)", into the features it names (a lag shingle names
// several), each with the name a duplicate is reported under.
Status ParseTemporalItem(std::string_view item, size_t open, const std::string& name,
                         const std::vector<std::string>& inputs, const AutoContext& auto_context,
                         DerivedFeature f,
                         std::vector<std::pair<DerivedFeature, std::string>>* out) {
  auto fail = [&name](const std::string& why) {
    return Status(ErrorCode::kInvalidArgument, "derived feature '" + name + "': " + why);
  };
  if (open == std::string_view::npos || item.back() != ')') {
    return fail("needs an input and a duration, e.g. " + f.KindName() + "(latency_p95,1h)");
  }
  const std::string_view args = item.substr(open + 1, item.size() - open - 2);
  const size_t comma = args.find(',');
  if (comma == std::string_view::npos) {
    return fail("needs an input and a duration, e.g. " + f.KindName() + "(latency_p95,1h)");
  }
  const std::string input(Trim(args.substr(0, comma)));
  const auto it = std::find(inputs.begin(), inputs.end(), input);
  if (it == inputs.end()) {
    std::string known;
    for (const std::string& s : inputs) known += (known.empty() ? "" : ", ") + s;
    return fail("no input called '" + input + "' (inputs: " + known + ")");
  }
  f.input = static_cast<int32_t>(it - inputs.begin());
  std::string_view dur = Trim(args.substr(comma + 1));
  if (f.kind == DerivedFeature::Kind::kSeasonalMedianDiff) {
    if (std::string why = ParseSeasonalArgs(dur, input, &f); !why.empty()) return fail(why);
    out->emplace_back(f, name);
    return Status::Ok();
  }
  int64_t first_step = 0;
  int64_t last_step = 0;
  const size_t dots = dur.find("..");
  if (f.kind == DerivedFeature::Kind::kLag && (AllDigits(dur) || dots != std::string_view::npos)) {
    std::string why = ParseLagSteps(dur, dots, auto_context.step_ms, &first_step, &last_step);
    if (!why.empty()) return fail(why);
    for (int64_t k = first_step; k <= last_step; ++k) {
      DerivedFeature g = f;
      g.window_ms = k * auto_context.step_ms;
      out->emplace_back(g, g.Name(inputs));
    }
    return Status::Ok();
  }
  auto window = ParseDurationMs(dur);
  if (!window.ok()) return fail(window.status().message());
  f.window_ms = *window;
  if (f.window_ms > kMaxWindowMs) return fail("windows are limited to 366d");
  out->emplace_back(f, name);
  return Status::Ok();
}

}  // namespace

Result<std::vector<DerivedFeature>> ParseDerivedList(std::string_view text,
                                                     const std::vector<std::string>& inputs,
                                                     const AutoContext& auto_context,
                                                     bool* raw_inputs) {
  std::vector<DerivedFeature> out;
  bool explicit_raw = false;
  bool raw = true;
  auto add = [&out](const DerivedFeature& f, const std::string& name) -> Status {
    for (const DerivedFeature& g : out) {
      if (g == f) {
        return Status(ErrorCode::kInvalidArgument,
                      "derived feature '" + name + "' is listed twice");
      }
    }
    out.push_back(f);
    return Status::Ok();
  };
  for (std::string_view item : SplitTopLevel(text)) {
    const std::string name(item);
    if (item.empty() || item == "none") {
      continue;
    }
    if (item == "raw=off" || item == "raw=on") {
      if (explicit_raw) {
        return Status(ErrorCode::kInvalidArgument, "raw=on/off is given twice");
      }
      explicit_raw = true;
      raw = item == "raw=on";
      continue;
    }
    if (item == "auto") {
      if (!explicit_raw) raw = AutoUsesRawInputs(auto_context);
      for (const DerivedFeature& f : AutoDerived(inputs.size(), auto_context)) {
        Status s = add(f, f.Name(inputs));
        if (!s.ok()) return s;
      }
      continue;
    }
    auto fail = [&name](const std::string& why) {
      return Status(ErrorCode::kInvalidArgument, "derived feature '" + name + "': " + why);
    };
    const size_t open = item.find('(');
    DerivedFeature f;
    if (!ParseDerivedKind(Trim(item.substr(0, open)), &f.kind)) {
      return Status(ErrorCode::kInvalidArgument,
                    "unknown derived feature '" + name + "' (known: " + kKnownList + ")");
    }
    if (!TemporalKind(f.kind)) {
      if (open != std::string_view::npos) return fail("takes no arguments");
      Status s = add(f, name);
      if (!s.ok()) return s;
      continue;
    }
    std::vector<std::pair<DerivedFeature, std::string>> named;
    Status parsed = ParseTemporalItem(item, open, name, inputs, auto_context, f, &named);
    if (!parsed.ok()) return parsed;
    for (const auto& [g, g_name] : named) {
      Status s = add(g, g_name);
      if (!s.ok()) return s;
    }
  }
  if (raw_inputs != nullptr) *raw_inputs = raw;
  return out;
}

std::vector<std::string> FeatureSpec::ColumnNames() const {
  std::vector<std::string> names = raw_inputs ? inputs : std::vector<std::string>{};
  for (const DerivedFeature& f : derived) {
    names.push_back(f.Name(inputs));
  }
  return names;
}

Status FeatureSpec::Validate() const {
  if (width() == 0) {
    return Status(ErrorCode::kInvalidArgument, "the feature spec has no features");
  }
  std::vector<std::string> names = ColumnNames();
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i].empty()) {
      return Status(ErrorCode::kInvalidArgument, "a feature has an empty name");
    }
    for (size_t j = 0; j < i; ++j) {
      if (names[i] == names[j]) {
        return Status(ErrorCode::kInvalidArgument, "feature name '" + names[i] + "' appears twice");
      }
    }
  }
  for (const DerivedFeature& f : derived) {
    if (f.input >= static_cast<int32_t>(inputs.size()) || f.input < -1) {
      return Status(ErrorCode::kInvalidArgument, "derived feature names a missing input");
    }
    if (TemporalKind(f.kind) != f.temporal()) {
      return Status(ErrorCode::kInvalidArgument,
                    "derived feature " + f.KindName() +
                        (f.temporal() ? " takes no input" : " needs an input"));
    }
    if (f.temporal() && (f.window_ms <= 0 || f.window_ms > kMaxWindowMs)) {
      return Status(ErrorCode::kInvalidArgument,
                    "derived feature " + f.Name(inputs) + " needs a window in (0, 366d]");
    }
    const bool median = f.kind == DerivedFeature::Kind::kSeasonalMedianDiff;
    if (median ? (f.periods < 1 || f.periods > kMaxSeasonalPeriods || f.smooth_ms < 0 ||
                  f.smooth_ms > f.window_ms || f.periods * f.window_ms > kMaxWindowMs)
               : (f.periods != 1 || f.smooth_ms != 0)) {
      return Status(ErrorCode::kInvalidArgument,
                    "derived feature " + f.Name(inputs) + " has periods or smoothing out of range");
    }
  }
  if (!raw_inputs && !has_temporal()) {
    return Status(
        ErrorCode::kInvalidArgument,
        "raw=off leaves only time-of-week columns; add temporal features or drop raw=off");
  }
  if (has_temporal() && step_ms <= 0) {
    return Status(ErrorCode::kInvalidArgument,
                  "temporal features need the data's step (FeatureSpec::step_ms)");
  }
  for (const WeeklyWindow& w : deploy_windows) {
    if (w.start_minute < 0 || w.end_minute > kMinutesPerWeek || w.start_minute >= w.end_minute) {
      return Status(ErrorCode::kInvalidArgument, "a deploy window is empty or out of the week");
    }
  }
  return Status::Ok();
}

double TimeFeature(const DerivedFeature& d, TimeMs t, const std::vector<WeeklyWindow>& deploy) {
  if (d.kind == DerivedFeature::Kind::kHourOfWeek) {
    return HourOfWeek(t);
  }
  const int32_t m = MinuteOfWeek(t);
  for (const WeeklyWindow& w : deploy) {
    if (m >= w.start_minute && m < w.end_minute) return 1;
  }
  return 0;
}

bool FeatureSpec::has_temporal() const {
  for (const DerivedFeature& f : derived) {
    if (f.temporal()) return true;
  }
  return false;
}

TimeMs FeatureSpec::max_lookback_ms() const {
  TimeMs m = 0;
  for (const DerivedFeature& f : derived) m = std::max(m, f.lookback_ms());
  return m;
}

TimeMs FeatureSpec::warmup_ms() const {
  const TimeMs lookback = max_lookback_ms();
  if (lookback == 0 || step_ms <= 0) return lookback;
  return (lookback + step_ms - 1) / step_ms * step_ms + step_ms;
}

bool FeatureSpec::needs_format_1_4() const {
  for (const DerivedFeature& f : derived) {
    if (f.kind == DerivedFeature::Kind::kMedianDiff) return true;
  }
  return false;
}

bool FeatureSpec::needs_format_1_2() const {
  if (!raw_inputs) return true;
  for (const DerivedFeature& f : derived) {
    if (f.kind == DerivedFeature::Kind::kSeasonalMedianDiff) return true;
  }
  return false;
}

TimeMs MedianStep(const TimeMs* times, size_t n) {
  std::vector<TimeMs> d;
  TimeMs prev = std::numeric_limits<TimeMs>::min();
  for (size_t i = 0; i < n; ++i) {
    if (times[i] == std::numeric_limits<TimeMs>::min()) continue;
    if (prev != std::numeric_limits<TimeMs>::min() && times[i] > prev) d.push_back(times[i] - prev);
    prev = times[i];
  }
  if (d.empty()) return 0;
  std::nth_element(d.begin(), d.begin() + static_cast<ptrdiff_t>(d.size() / 2), d.end());
  return d[d.size() / 2];
}

const char* RowIssueName(RowIssue issue) {
  switch (issue) {
    case RowIssue::kNone:
      return "ok";
    case RowIssue::kMissing:
      return "missing";
    case RowIssue::kNonFinite:
      return "non_finite";
    case RowIssue::kOutOfRange:
      return "out_of_range";
    case RowIssue::kNoTimestamp:
      return "no_timestamp";
    case RowIssue::kWarming:
      return "warming";
    case RowIssue::kOutOfOrder:
      return "out_of_order";
  }
  return "unknown";
}

std::string FeatureRows::Describe(const RowProblem& p, const FeatureSpec& spec) {
  // Warming names a vector column; the other issues name the input at fault.
  const std::vector<std::string> names =
      p.issue == RowIssue::kWarming ? spec.ColumnNames() : spec.inputs;
  const std::string col = p.column >= 0 && static_cast<size_t>(p.column) < names.size()
                              ? names[static_cast<size_t>(p.column)]
                              : std::string("?");
  switch (p.issue) {
    case RowIssue::kNone:
      return "ok";
    case RowIssue::kMissing:
      return "missing value in " + col;
    case RowIssue::kNonFinite:
      return "infinite value in " + col;
    case RowIssue::kOutOfRange:
      return "value beyond float32 range in " + col;
    case RowIssue::kNoTimestamp:
      return "no timestamp for time features";
    case RowIssue::kWarming:
      return "warming: not enough history yet for " + col;
    case RowIssue::kOutOfOrder:
      return "time not after the previous row's";
  }
  return "unknown";
}

RowProblem CheckRow(const double* row, size_t n_inputs) {
  for (size_t j = 0; j < n_inputs; ++j) {
    if (std::isnan(row[j])) {
      return {RowIssue::kMissing, static_cast<int32_t>(j)};
    }
    if (std::isinf(row[j])) {
      return {RowIssue::kNonFinite, static_cast<int32_t>(j)};
    }
  }
  return {};
}

namespace {

// BuildFeatureRows for a spec with temporal features: each group's rows through a stream of
// its own, in time order; out->rows and the sizes are set by the caller.
Status BuildTemporalRows(const FeatureSpec& spec, const TimeMs* times,
                         const std::vector<const double*>& series, const int32_t* group_of_row,
                         FeatureRows* out) {
  const size_t n = out->rows;
  const size_t k = spec.inputs.size();
  auto proto = FeatureStream::Create(spec);
  if (!proto.ok()) {
    return proto.status();
  }
  // One stream (and one time order) per group: a group's windows never see another's rows.
  struct Group {
    FeatureStream stream;
    TimeMs prev;
  };
  std::map<int32_t, Group> groups;
  std::vector<double> in(k);
  for (size_t i = 0; i < n; ++i) {
    const int32_t g = group_of_row == nullptr ? 0 : group_of_row[i];
    auto it = groups.find(g);
    if (it == groups.end()) {
      it = groups.emplace(g, Group{proto->Fresh(), std::numeric_limits<TimeMs>::min()}).first;
    }
    TimeMs& prev = it->second.prev;
    const TimeMs t = times[i];
    if (t != std::numeric_limits<TimeMs>::min()) {
      if (prev != std::numeric_limits<TimeMs>::min() && t <= prev) {
        return Status(ErrorCode::kInvalidArgument,
                      "temporal features need rows in increasing time order: row " +
                          std::to_string(i + 1) + " is not after the row before it" +
                          (group_of_row == nullptr ? "" : " of its group") +
                          "; sort the data by time and drop duplicate timestamps");
      }
      prev = t;
    }
    for (size_t j = 0; j < k; ++j) in[j] = series[j][i];
    out->problems[i] = it->second.stream.Push(t, in.data(), out->values.data() + i * out->width);
    if (out->problems[i].issue == RowIssue::kNone) ++out->usable;
  }
  return Status::Ok();
}

}  // namespace

Result<FeatureRows> BuildFeatureRows(const FeatureSpec& spec, const TimeMs* times,
                                     const std::vector<const double*>& series, size_t n,
                                     const int32_t* group_of_row) {
  Status valid = spec.Validate();
  if (!valid.ok()) {
    return valid;
  }
  if (series.size() != spec.inputs.size()) {
    return Status(ErrorCode::kInvalidArgument, "expected " + std::to_string(spec.inputs.size()) +
                                                   " input series, got " +
                                                   std::to_string(series.size()));
  }
  if (spec.needs_time() && times == nullptr) {
    return Status(ErrorCode::kInvalidArgument,
                  "time features (" + spec.derived.front().Name(spec.inputs) +
                      ") need a time column; name it with --time-column or drop the feature");
  }
  FeatureRows out;
  out.rows = n;
  out.width = spec.width();
  out.values.resize(n * out.width);
  out.problems.resize(n);
  const size_t k = spec.inputs.size();
  if (spec.has_temporal()) {
    Status built = BuildTemporalRows(spec, times, series, group_of_row, &out);
    if (!built.ok()) return built;
    return out;
  }
  for (size_t i = 0; i < n; ++i) {
    double* row = out.values.data() + i * out.width;
    for (size_t j = 0; j < k; ++j) {
      row[j] = series[j][i];
    }
    RowProblem p = CheckRow(row, k);
    if (p.issue == RowIssue::kNone && spec.needs_time() &&
        times[i] == std::numeric_limits<TimeMs>::min()) {
      p = {RowIssue::kNoTimestamp, -1};
    }
    out.problems[i] = p;
    if (p.issue != RowIssue::kNone) {
      continue;
    }
    ++out.usable;
    for (size_t f = 0; f < spec.derived.size(); ++f) {
      const DerivedFeature& d = spec.derived[f];
      row[k + f] = TimeFeature(d, times[i], spec.deploy_windows);
    }
  }
  return out;
}

}  // namespace isoscope
