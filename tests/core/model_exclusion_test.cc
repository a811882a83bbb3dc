// Training exclusions (TrainOptions::exclusion_of_row): counts worked out by hand on a series at
// a 1m step, and point-feature training equal to training without the excluded rows.
#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "isoscope/model.h"

namespace isoscope {
namespace {

constexpr TimeMs kT0 = 1'700'000'040'000;

struct Series {
  std::vector<TimeMs> times;
  std::vector<double> x;
  explicit Series(size_t n) {
    for (size_t i = 0; i < n; ++i) {
      times.push_back(kT0 + static_cast<TimeMs>(i) * kMinuteMs);
      x.push_back(std::sin(static_cast<double>(i) * 0.37) * 10 + static_cast<double>(i % 7));
    }
  }
};

FeatureSpec Spec(const std::string& derived) {
  FeatureSpec spec;
  spec.inputs = {"x"};
  spec.step_ms = kMinuteMs;
  spec.derived = std::move(ParseDerivedList(derived, spec.inputs)).value();
  return spec;
}

std::map<std::string, int64_t> Dropped(const Model& m) {
  return {m.info.dropped_by_reason.begin(), m.info.dropped_by_reason.end()};
}

TrainOptions Excluding(size_t n, size_t from, size_t to, const std::string& reason) {
  TrainOptions o;
  o.params.random_state = 3;
  o.exclusion_of_row.assign(n, -1);
  o.exclusion_reasons = {reason};
  for (size_t i = from; i < to; ++i) o.exclusion_of_row[i] = 0;
  return o;
}

// mean(x,10m) reads (t - 10m, t]. Rows 0..8 warm up (their window starts before the data).
// Rows 500..509 are excluded; a row at 510..518 would still read one of them, so it re-warms
// (9 rows); row 519 reads 510..519 only and trains.
TEST(TrainExclusions, RollingWindowsReWarmAfterAnExcludedWindow) {
  const Series s(2000);
  auto m = TrainModel(Spec("mean(x,10m)"), s.times.data(), {s.x.data()}, s.times.size(),
                      Excluding(2000, 500, 510, "maintenance"));
  ASSERT_TRUE(m.ok()) << m.status().message();
  const auto d = Dropped(*m);
  EXPECT_EQ(d.at("excluded: maintenance"), 10);
  EXPECT_EQ(d.at("re-warming after an excluded window"), 9);
  EXPECT_EQ(m->info.rows_used, 2000 - 10 - 9 - 9);
}

// lag(x,30m) reads the one sample 30 minutes back: rows 530..539 read an excluded value and
// warm (10 rows, besides the 30 at the start); nothing re-warms (a look-up has no window).
TEST(TrainExclusions, LookUpsIntoAnExcludedWindowWarm) {
  const Series s(2000);
  auto m = TrainModel(Spec("lag(x,30m)"), s.times.data(), {s.x.data()}, s.times.size(),
                      Excluding(2000, 500, 510, "outage"));
  ASSERT_TRUE(m.ok()) << m.status().message();
  const auto d = Dropped(*m);
  EXPECT_EQ(d.at("excluded: outage"), 10);
  EXPECT_EQ(d.count("re-warming after an excluded window"), 0u);
  EXPECT_EQ(m->info.rows_used, 2000 - 10 - 30 - 10);
}

// With point features only, excluding rows is training without them: the same forest.
TEST(TrainExclusions, PointFeaturesTrainAsIfTheRowsWereAbsent) {
  const Series s(1500);
  const FeatureSpec spec = Spec("none");
  const TrainOptions with = Excluding(1500, 200, 700, "holiday");
  auto m = TrainModel(spec, s.times.data(), {s.x.data()}, 1500, with);
  std::vector<TimeMs> t2;
  std::vector<double> x2;
  for (size_t i = 0; i < 1500; ++i) {
    if (i < 200 || i >= 700) {
      t2.push_back(s.times[i]);
      x2.push_back(s.x[i]);
    }
  }
  TrainOptions without;
  without.params.random_state = 3;
  auto r = TrainModel(spec, t2.data(), {x2.data()}, t2.size(), without);
  ASSERT_TRUE(m.ok() && r.ok());
  EXPECT_EQ(m->info.rows_used, 1000);
  EXPECT_EQ(m->offset, r->offset);
  EXPECT_TRUE(m->forest.trees == r->forest.trees);
}

TEST(TrainExclusions, RefusesWhenTooLittleIsLeft) {
  const Series s(2000);
  // More than half of the rows excluded.
  auto half = TrainModel(Spec("none"), s.times.data(), {s.x.data()}, 2000,
                         Excluding(2000, 0, 1001, "incident"));
  EXPECT_EQ(half.status().code(), ErrorCode::kBadInput);
  EXPECT_NE(half.status().message().find("1001 of 2000 rows excluded"), std::string::npos);
  // Fewer than 256 usable rows: 400 rows, 150 excluded, 250 left.
  const Series small(400);
  auto few = TrainModel(Spec("none"), small.times.data(), {small.x.data()}, 400,
                        Excluding(400, 100, 250, "incident"));
  EXPECT_EQ(few.status().code(), ErrorCode::kBadInput);
  EXPECT_NE(few.status().message().find("250 usable rows left"), std::string::npos);
  // A reason index out of range is the caller's mistake.
  TrainOptions bad = Excluding(400, 0, 1, "x");
  bad.exclusion_of_row[5] = 3;
  EXPECT_EQ(
      TrainModel(Spec("none"), small.times.data(), {small.x.data()}, 400, bad).status().code(),
      ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace isoscope
