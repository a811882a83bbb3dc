#include "isoscope/features.h"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <limits>

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

std::string DerivedFeature::Name() const {
  switch (kind) {
    case Kind::kHourOfWeek:
      return "hour_of_week";
    case Kind::kIsDeployWindow:
      return "is_deploy_window";
  }
  return "unknown";
}

Result<std::vector<DerivedFeature>> ParseDerivedList(std::string_view text,
                                                     const std::vector<std::string>& inputs) {
  (void)inputs;  // temporal features that name an input resolve against these
  std::vector<DerivedFeature> out;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t end = text.find(',', pos);
    if (end == std::string_view::npos) {
      end = text.size();
    }
    std::string_view name = Trim(text.substr(pos, end - pos));
    pos = end + 1;
    if (name.empty() || name == "none") {
      continue;
    }
    DerivedFeature f;
    if (name == "hour_of_week") {
      f.kind = DerivedFeature::Kind::kHourOfWeek;
    } else if (name == "is_deploy_window") {
      f.kind = DerivedFeature::Kind::kIsDeployWindow;
    } else {
      return Status(ErrorCode::kInvalidArgument, "unknown derived feature '" + std::string(name) +
                                                     "' (known: hour_of_week, is_deploy_window)");
    }
    for (const DerivedFeature& g : out) {
      if (g == f) {
        return Status(ErrorCode::kInvalidArgument,
                      "derived feature '" + std::string(name) + "' is listed twice");
      }
    }
    out.push_back(f);
  }
  return out;
}

std::vector<std::string> FeatureSpec::ColumnNames() const {
  std::vector<std::string> names = inputs;
  for (const DerivedFeature& f : derived) {
    names.push_back(f.Name());
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
  }
  for (const WeeklyWindow& w : deploy_windows) {
    if (w.start_minute < 0 || w.end_minute > kMinutesPerWeek || w.start_minute >= w.end_minute) {
      return Status(ErrorCode::kInvalidArgument, "a deploy window is empty or out of the week");
    }
  }
  return Status::Ok();
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
  }
  return "unknown";
}

std::string FeatureRows::Describe(const RowProblem& p, const FeatureSpec& spec) {
  const std::vector<std::string> names = spec.ColumnNames();
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

Result<FeatureRows> BuildFeatureRows(const FeatureSpec& spec, const TimeMs* times,
                                     const std::vector<const double*>& series, size_t n) {
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
                  "time features (" + spec.derived.front().Name() +
                      ") need a time column; name it with --time-column or drop the feature");
  }
  FeatureRows out;
  out.rows = n;
  out.width = spec.width();
  out.values.resize(n * out.width);
  out.problems.resize(n);
  const size_t k = spec.inputs.size();
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
      double v = 0;
      switch (d.kind) {
        case DerivedFeature::Kind::kHourOfWeek:
          v = HourOfWeek(times[i]);
          break;
        case DerivedFeature::Kind::kIsDeployWindow: {
          const int32_t m = MinuteOfWeek(times[i]);
          for (const WeeklyWindow& w : spec.deploy_windows) {
            if (m >= w.start_minute && m < w.end_minute) {
              v = 1;
              break;
            }
          }
          break;
        }
      }
      row[k + f] = v;
    }
  }
  return out;
}

}  // namespace isoscope
