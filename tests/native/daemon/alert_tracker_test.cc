#include "alert_tracker.h"

#include <gtest/gtest.h>

#include <optional>

namespace isoscope::native {
namespace {

std::optional<double> Value(prometheus::Registry& registry, const std::string& name,
                            const prometheus::Labels& labels) {
  for (const auto& family : registry.Collect()) {
    if (family.name != name) continue;
    for (const auto& m : family.metric) {
      prometheus::Labels l;
      for (const auto& p : m.label) l[p.name] = p.value;
      if (l == labels) return m.gauge.value;
    }
  }
  return std::nullopt;
}

class AlertTrackerTest : public ::testing::Test {
 protected:
  AlertTrackerTest() : registry_(std::make_shared<prometheus::Registry>()), metrics_(registry_) {
    detector_.name = "checkout";
    detector_.alerts.warning = AlertThreshold::Score(0.6);
    detector_.alerts.critical = AlertThreshold::Score(0.8);
    detector_.alerts.for_ms = 20'000;
    detector_.alerts.smooth_ms = 30'000;  // three scores at a 10 s interval
  }
  std::optional<double> Get(const std::string& name, const char* severity) {
    return Value(*registry_, name,
                 {{"detector", "checkout"}, {"job", "api"}, {"severity", severity}});
  }

  DetectorConfig detector_;
  std::shared_ptr<prometheus::Registry> registry_;
  ExporterMetrics metrics_;
  const prometheus::Labels labels_ = {{"detector", "checkout"}, {"job", "api"}};
};

// Scores every 10 s; smoothed = mean of the scores in (t-30s, t]; warning > 0.6, critical >
// 0.8, for 20s. Expectations worked out by hand:
//   t   score  window        smoothed  warning            critical
//   0   0.7    {0}           0.7       pending (0 s)      inactive
//   10  0.7    {0,10}        0.7       pending (10 s)     inactive
//   20  0.9    {0,10,20}     0.7667    firing (20 s)      inactive
//   30  0.9    {10,20,30}    0.8333    firing (30 s)      pending (0 s)
//   40  0.9    {20,30,40}    0.9       firing             pending (10 s)
//   50  0.9    {30,40,50}    0.9       firing             firing (20 s)
//   60  -      {40,50}       0.9       firing             firing (30 s)   (group not scored)
//   70  -      {50}          0.9       firing             firing
//   80  -      {}            none      inactive           inactive
//   90  0.5    {90}          0.5       inactive           inactive
// An inactive severity has no series (as Prometheus's ALERTS): 10,000 quiet groups would
// otherwise add 40,000 series to every scrape.
TEST_F(AlertTrackerTest, SmoothsAndStepsLikeTheRules) {
  AlertTracker tracker(detector_, &metrics_);
  EXPECT_EQ(Value(*registry_, "anomaly_alert_for_seconds",
                  {{"detector", "checkout"}, {"severity", "warning"}}),
            20);
  const struct {
    int t;
    double score;  // < 0: no score this cycle
    std::optional<double> warning, critical, warning_s, critical_s;
  } rows[] = {
      {0, 0.7, 1, std::nullopt, 0, std::nullopt},
      {10, 0.7, 1, std::nullopt, 10, std::nullopt},
      {20, 0.9, 2, std::nullopt, 20, std::nullopt},
      {30, 0.9, 2, 1, 30, 0},
      {40, 0.9, 2, 1, 40, 10},
      {50, 0.9, 2, 2, 50, 20},
      {60, -1, 2, 2, 60, 30},
      {70, -1, 2, 2, 70, 40},
      {80, -1, std::nullopt, std::nullopt, std::nullopt, std::nullopt},
      {90, 0.5, std::nullopt, std::nullopt, std::nullopt, std::nullopt},
  };
  for (const auto& r : rows) {
    const TimeMs now = 1'767'225'600'000 + r.t * 1000;
    if (r.score >= 0) tracker.Observe("api", labels_, now, r.score);
    tracker.Evaluate(now);
    EXPECT_EQ(Get("anomaly_alert_state", "warning"), r.warning) << "t=" << r.t;
    EXPECT_EQ(Get("anomaly_alert_state", "critical"), r.critical) << "t=" << r.t;
    EXPECT_EQ(Get("anomaly_alert_pending_seconds", "warning"), r.warning_s) << "t=" << r.t;
    EXPECT_EQ(Get("anomaly_alert_pending_seconds", "critical"), r.critical_s) << "t=" << r.t;
  }
}

TEST_F(AlertTrackerTest, RemovesItsSeriesWhenDestroyed) {
  {
    AlertTracker tracker(detector_, &metrics_);
    tracker.Observe("api", labels_, 1000, 0.9);
    tracker.Evaluate(1000);
    EXPECT_EQ(Get("anomaly_alert_state", "critical"), 1);
  }
  EXPECT_FALSE(Get("anomaly_alert_state", "critical"));
  EXPECT_FALSE(Value(*registry_, "anomaly_alert_for_seconds",
                     {{"detector", "checkout"}, {"severity", "warning"}}));
}

TEST_F(AlertTrackerTest, KeepFiringForHoldsAfterTheScoreDrops) {
  detector_.alerts.for_ms = 0;
  detector_.alerts.smooth_ms = 10'000;
  detector_.alerts.keep_firing_for_ms = 20'000;
  AlertTracker tracker(detector_, &metrics_);
  // for 0 fires at once; after the drop at 10 s it keeps firing while now - 10 s < 20 s.
  const double scores[] = {0.9, 0.1, 0.1, 0.1};
  const std::optional<double> expected[] = {2, 2, 2, std::nullopt};
  for (int i = 0; i < 4; ++i) {
    const TimeMs now = i * 10'000;
    tracker.Observe("api", labels_, now, scores[i]);
    tracker.Evaluate(now);
    EXPECT_EQ(Get("anomaly_alert_state", "critical"), expected[i]) << "t=" << i * 10;
  }
}

// warning: surprise:3, critical: surprise:5; for 20s, smooth 30s, a row every 10 s. The
// score stays at 0.1 (below any score threshold): only the surprise can page. By hand:
//   t   surprise  window     smoothed  warning (> 3)     critical (> 5)
//   0   4         {4}        4         pending (0 s)     inactive
//   10  4         {4,4}      4         pending (10 s)    inactive
//   20  7         {4,4,7}    5         firing (20 s)     inactive (5 is not > 5)
//   30  7         {4,7,7}    6         firing            pending (0 s)
//   40  1         {7,7,1}    5         firing            inactive
//   50  1         {7,1,1}    3         inactive          inactive
TEST_F(AlertTrackerTest, SurpriseThresholdsFollowTheSmoothedSurprise) {
  detector_.alerts.warning = std::move(ParseAlertThreshold("surprise:3")).value();
  detector_.alerts.critical = std::move(ParseAlertThreshold("surprise:5")).value();
  AlertTracker tracker(detector_, &metrics_);
  const struct {
    int t;
    double surprise;
    std::optional<double> warning, critical;
  } rows[] = {{0, 4, 1, std::nullopt},  {10, 4, 1, std::nullopt},
              {20, 7, 2, std::nullopt}, {30, 7, 2, 1},
              {40, 1, 2, std::nullopt}, {50, 1, std::nullopt, std::nullopt}};
  for (const auto& r : rows) {
    const TimeMs now = r.t * 1000;
    tracker.Observe("api", labels_, now, 0.1, r.surprise);
    tracker.Evaluate(now);
    EXPECT_EQ(Get("anomaly_alert_state", "warning"), r.warning) << "t=" << r.t;
    EXPECT_EQ(Get("anomaly_alert_state", "critical"), r.critical) << "t=" << r.t;
  }
  EXPECT_EQ(tracker.Threshold(0), 3);
  EXPECT_EQ(tracker.Threshold(1), 5);
  // anomaly_alert_threshold is on the score's scale (dashboards draw it over the score).
  for (const char* severity : {"warning", "critical"}) {
    EXPECT_FALSE(Value(*registry_, "anomaly_alert_threshold",
                       {{"detector", "checkout"}, {"severity", severity}}))
        << severity;
  }
}

// warning > 0.6 on the score, critical > 5 on the surprise; for 20s, smooth 30s. By hand:
//   t   score  surprise  smoothed score  smoothed surprise  warning          critical
//   0   0.7    9         0.7             9                  pending (0 s)    pending (0 s)
//   10  0.5    9         0.6             9                  inactive         pending (10 s)
//   20  0.5    9         0.5667          9                  inactive         firing (20 s)
TEST_F(AlertTrackerTest, MixedSeveritiesEachFollowTheirSeries) {
  detector_.alerts.critical = std::move(ParseAlertThreshold("surprise:5")).value();
  AlertTracker tracker(detector_, &metrics_);
  const struct {
    int t;
    double score, surprise;
    std::optional<double> warning, critical;
  } rows[] = {{0, 0.7, 9, 1, 1}, {10, 0.5, 9, std::nullopt, 1}, {20, 0.5, 9, std::nullopt, 2}};
  for (const auto& r : rows) {
    const TimeMs now = r.t * 1000;
    tracker.Observe("api", labels_, now, r.score, r.surprise);
    tracker.Evaluate(now);
    EXPECT_EQ(Get("anomaly_alert_state", "warning"), r.warning) << "t=" << r.t;
    EXPECT_EQ(Get("anomaly_alert_state", "critical"), r.critical) << "t=" << r.t;
  }
  EXPECT_EQ(Value(*registry_, "anomaly_alert_threshold",
                  {{"detector", "checkout"}, {"severity", "warning"}}),
            0.6);
  EXPECT_FALSE(Value(*registry_, "anomaly_alert_threshold",
                     {{"detector", "checkout"}, {"severity", "critical"}}));
}

}  // namespace
}  // namespace isoscope::native
