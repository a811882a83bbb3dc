#include "daemon.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <numeric>
#include <optional>
#include <random>
#include <set>
#include <thread>

#include "file_io.h"
#include "isoscope/bundle.h"
#include "isoscope/calibration.h"
#include "isoscope/text.h"
#include "isoscope/version.h"
#include "support/exporter_values.h"
#include "support/small_model.h"

namespace isoscope::native {
namespace {

// Sunday 2026-01-04 03:00 UTC: outside the default deploy windows.
constexpr TimeMs kNow = 1767495600000;

PromSample Sample(const std::string& job, double value) {
  PromSample s;
  s.labels = {{"job", job}, {"instance", "x"}};
  s.time = kNow;
  s.value = value;
  return s;
}

class DaemonTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/isoscope_daemon_XXXXXX";
    root_ = mkdtemp(tmpl);
    config_.models_dir = root_ + "/models";
    DetectorConfig d;
    d.name = "checkout";
    d.queries = {{"latency", "latency_q"}, {"errors", "errors_q"}};
    d.group_by = {"job"};
    d.interval_ms = 10'000;
    config_.detectors.push_back(d);
    registry_ = std::make_shared<prometheus::Registry>();
    metrics_ = std::make_shared<ExporterMetrics>(registry_);
    answers_["latency_q"] = {Sample("checkout", 120), Sample("payments", 95)};
    answers_["errors_q"] = {Sample("checkout", 0.011), Sample("payments", 0.012)};
    MakeDaemon();
  }

  // (Re)creates daemon_ from config_, with the fake query function and the captured logs.
  void MakeDaemon() {
    daemon_ = std::make_unique<Daemon>(
        config_,
        [this](const std::string& q, TimeMs t) -> Result<std::vector<PromSample>> {
          ++queries_;
          last_query_time_ = t;
          if (!query_error_.empty()) return Status(ErrorCode::kBadInput, query_error_);
          return answers_[q];
        },
        metrics_,
        Logger([this](const std::string& level, const std::string& msg, const LogFields& f) {
          std::string line = level + " " + msg;
          for (const auto& [k, v] : f) line += " " + k + "=" + v;
          logs_.push_back(line);
        }));
  }

  void TearDown() override { std::system(("rm -rf " + root_).c_str()); }

  // Trains a small model (inputs latency, errors; hour_of_week, is_deploy_window) with `seed`
  // and installs it as latest.
  std::string InstallModel(uint32_t seed, TimeMs created_offset = 0, bool candidate = false,
                           double latency_shift = 0) {
    auto h = testing::MakeSmallHistory();
    for (double& a : h.a) a += latency_shift;
    FeatureSpec spec;
    spec.inputs = {"latency", "errors"};
    spec.derived = {{DerivedFeature::Kind::kHourOfWeek}, {DerivedFeature::Kind::kIsDeployWindow}};
    TrainOptions options;
    options.params.n_estimators = 20;
    options.params.random_state = seed;
    options.params.contamination = Contamination::Fraction(0.1);
    options.contamination_explicit = true;
    options.created_ms = h.times.back() + created_offset;
    auto m = TrainModel(spec, h.times.data(), {h.a.data(), h.b.data()}, h.times.size(), options);
    EXPECT_TRUE(m.ok()) << m.status().ToString();
    models_[m->model_version] = *m;
    BundleStore store(config_.models_dir, "checkout");
    EXPECT_TRUE((candidate
                     ? store.InstallCandidate(m->model_version, EncodeBundle(*m), "{}", 5, nullptr)
                     : store.Install(m->model_version, m->info.created_ms, EncodeBundle(*m), "{}",
                                     5, nullptr))
                    .ok());
    return m->model_version;
  }

  // The score of the model `version` for one feature vector at kNow, computed independently.
  double Expected(const std::string& version, double latency, double errors, TimeMs now = kNow) {
    const Model& m = models_.at(version);
    auto scorer = ModelScorer::Create(m);
    const double x[4] = {latency, errors, static_cast<double>(HourOfWeek(now)), 0};
    return scorer->ScoreFeatures(x).anomaly_score;
  }

  std::optional<double> Score(const std::string& job) {
    return Value(*metrics_, "anomaly_score", {{"detector", "checkout"}, {"job", job}});
  }
  std::optional<double> Det(const std::string& name) {
    return Value(*metrics_, name, {{"detector", "checkout"}});
  }
  std::optional<double> State(const std::string& state) {
    return Value(*metrics_, "anomaly_model_state", {{"detector", "checkout"}, {"state", state}});
  }
  int CountLogs(const std::string& needle) {
    int n = 0;
    for (const auto& l : logs_) n += l.find(needle) != std::string::npos ? 1 : 0;
    return n;
  }

  std::string root_;
  Config config_;
  std::shared_ptr<prometheus::Registry> registry_;
  std::shared_ptr<ExporterMetrics> metrics_;
  std::map<std::string, std::vector<PromSample>> answers_;
  std::string query_error_;
  int queries_ = 0;
  TimeMs last_query_time_ = 0;
  std::vector<std::string> logs_;
  std::map<std::string, Model> models_;
  std::unique_ptr<Daemon> daemon_;
};

TEST(FormatLogLine, LogfmtQuoting) {
  EXPECT_EQ(FormatLogLine(1767225600000, "info", "model loaded",
                          {{"detector", "checkout"}, {"reason", "a \"b\"\nc"}, {"empty", ""}}),
            "ts=2026-01-01T00:00:00Z level=info msg=\"model loaded\" detector=checkout "
            "reason=\"a \\\"b\\\"\\nc\" empty=\"\"");
}

TEST_F(DaemonTest, WarmingWithoutModelAndNotReady) {
  daemon_->PollReloads(true);
  std::vector<std::string> missing;
  EXPECT_FALSE(daemon_->Ready(&missing));
  EXPECT_EQ(missing, std::vector<std::string>{"checkout"});
  daemon_->RunCycle(0, kNow);
  EXPECT_EQ(queries_, 0);
  EXPECT_EQ(State("warming"), 1);
  EXPECT_EQ(State("scored"), 0);
  EXPECT_EQ(State("stale"), 0);
  EXPECT_FALSE(Score("checkout"));
  EXPECT_FALSE(Det("anomaly_threshold"));
  EXPECT_EQ(Det("isoscope_query_errors_total"), 0);
  EXPECT_EQ(Det("isoscope_reloads_total"), 0);
  EXPECT_EQ(Value(*metrics_, "isoscope_build_info", {{"version", kEngineVersion}}), 1);
}

TEST_F(DaemonTest, ScoresOneVectorPerGroupWithTheActiveModel) {
  const std::string v1 = InstallModel(1);
  daemon_->PollReloads(false);
  EXPECT_TRUE(daemon_->Ready(nullptr));
  EXPECT_EQ(Det("isoscope_reloads_total"), 1);
  EXPECT_EQ(Det("anomaly_model_canary_ok"), 1);
  EXPECT_DOUBLE_EQ(*Det("anomaly_threshold"), -models_.at(v1).offset);
  EXPECT_DOUBLE_EQ(*Value(*metrics_, "model_version_timestamp",
                          {{"detector", "checkout"}, {"model_version", v1}}),
                   static_cast<double>(models_.at(v1).info.created_ms) / 1000.0);
  EXPECT_EQ(CountLogs("info model loaded detector=checkout"), 1);

  EXPECT_EQ(daemon_->RunDue(kNow), kNow + 10'000);
  EXPECT_EQ(last_query_time_, kNow);
  EXPECT_EQ(queries_, 2);
  ASSERT_TRUE(Score("checkout"));
  ASSERT_TRUE(Score("payments"));
  EXPECT_EQ(*Score("checkout"), Expected(v1, 120, 0.011));
  EXPECT_EQ(*Score("payments"), Expected(v1, 95, 0.012));
  const double thr = -models_.at(v1).offset;
  EXPECT_EQ(
      *Value(*metrics_, "anomaly_is_anomaly", {{"detector", "checkout"}, {"job", "checkout"}}),
      *Score("checkout") > thr ? 1 : 0);
  // anomaly_surprise: each group's first row against the model's training scores alone,
  // -log10 of the Gaussian tail, written out here with erfc.
  const ScoreCalibration& cal = models_.at(v1).calibration;
  ASSERT_GT(cal.count, 0);
  for (const char* job : {"checkout", "payments"}) {
    const double z = (*Score(job) - cal.mean) / std::max(cal.stddev, 0.01);
    const auto got = Value(*metrics_, "anomaly_surprise", {{"detector", "checkout"}, {"job", job}});
    ASSERT_TRUE(got) << job;
    EXPECT_NEAR(*got, -std::log10(0.5 * std::erfc(z / std::sqrt(2.0))), 1e-9) << job;
  }
  EXPECT_EQ(State("scored"), 1);
  EXPECT_EQ(State("warming"), 0);
  EXPECT_EQ(State("stale"), 0);
  EXPECT_EQ(Value(*metrics_, "isoscope_query_duration_seconds", {{"detector", "checkout"}}), 2);
  EXPECT_EQ(Value(*metrics_, "isoscope_scoring_duration_seconds", {{"detector", "checkout"}}), 1);
  // Not due yet: nothing runs.
  daemon_->RunDue(kNow + 5'000);
  EXPECT_EQ(queries_, 2);
  auto views = daemon_->Views();
  ASSERT_EQ(views.size(), 1u);
  EXPECT_EQ(views[0].model_version, v1);
  EXPECT_EQ(views[0].groups_scored, 2u);
  EXPECT_EQ(views[0].state, DetectorState::kScored);
}

TEST_F(DaemonTest, MissingOrNonFiniteFeatureMakesTheGroupStaleWithoutAScore) {
  InstallModel(1);
  daemon_->PollReloads(false);
  daemon_->RunCycle(0, kNow);
  ASSERT_TRUE(Score("payments"));
  // payments vanishes from errors_q: missing feature.
  answers_["errors_q"] = {Sample("checkout", 0.011)};
  daemon_->RunCycle(0, kNow + 10'000);
  EXPECT_TRUE(Score("checkout"));
  EXPECT_FALSE(Score("payments"));
  EXPECT_FALSE(
      Value(*metrics_, "anomaly_is_anomaly", {{"detector", "checkout"}, {"job", "payments"}}));
  EXPECT_FALSE(
      Value(*metrics_, "anomaly_surprise", {{"detector", "checkout"}, {"job", "payments"}}));
  EXPECT_EQ(State("stale"), 1);
  EXPECT_EQ(State("scored"), 0);
  EXPECT_EQ(
      CountLogs(
          "group stale detector=checkout group={job=\"payments\"} reason=missing value in errors"),
      1);
  // Same reason again: not logged again. Then a non-finite value.
  daemon_->RunCycle(0, kNow + 20'000);
  EXPECT_EQ(CountLogs("group stale"), 1);
  answers_["errors_q"] = {Sample("checkout", 0.011), Sample("payments", INFINITY)};
  daemon_->RunCycle(0, kNow + 30'000);
  EXPECT_FALSE(Score("payments"));
  EXPECT_EQ(CountLogs("group stale"), 2);
  answers_["errors_q"] = {Sample("checkout", 0.011), Sample("payments", NAN)};
  daemon_->RunCycle(0, kNow + 40'000);
  EXPECT_FALSE(Score("payments"));
  // Back to normal.
  answers_["errors_q"] = {Sample("checkout", 0.011), Sample("payments", 0.012)};
  daemon_->RunCycle(0, kNow + 50'000);
  EXPECT_TRUE(Score("payments"));
  EXPECT_EQ(State("scored"), 1);
  EXPECT_EQ(Det("isoscope_scoring_errors_total"), 0);
}

TEST_F(DaemonTest, TwoSeriesForOneGroupMakeItStale) {
  InstallModel(1);
  daemon_->PollReloads(false);
  PromSample extra = Sample("checkout", 130);
  extra.labels["instance"] = "y";
  answers_["latency_q"].push_back(extra);
  daemon_->RunCycle(0, kNow);
  EXPECT_FALSE(Score("checkout"));
  EXPECT_TRUE(Score("payments"));
  EXPECT_EQ(State("stale"), 1);
  EXPECT_EQ(CountLogs("returned several series for group {job=\"checkout\"}"), 1);
}

TEST_F(DaemonTest, QueryErrorMakesEveryGroupStaleAndRecovers) {
  InstallModel(1);
  daemon_->PollReloads(false);
  daemon_->RunCycle(0, kNow);
  ASSERT_TRUE(Score("checkout"));
  query_error_ = "connection refused to 127.0.0.1:9";
  daemon_->RunCycle(0, kNow + 10'000);
  daemon_->RunCycle(0, kNow + 20'000);
  EXPECT_EQ(Det("isoscope_query_errors_total"), 2);
  EXPECT_FALSE(Score("checkout"));
  EXPECT_FALSE(Score("payments"));
  EXPECT_EQ(SeriesCount(*metrics_, "anomaly_score"), 0u);
  EXPECT_EQ(State("stale"), 1);
  EXPECT_EQ(CountLogs("query failed"), 1);  // once per change, not per cycle
  EXPECT_EQ(daemon_->Views()[0].state, DetectorState::kStale);
  query_error_.clear();
  daemon_->RunCycle(0, kNow + 30'000);
  EXPECT_TRUE(Score("checkout"));
  EXPECT_EQ(State("scored"), 1);
  EXPECT_EQ(CountLogs("queries recovered"), 1);
}

TEST_F(DaemonTest, RollingFiveMinuteWindowGivesP95AndRate) {
  const std::string v1 = InstallModel(1);
  daemon_->PollReloads(false);
  EXPECT_FALSE(Det("anomaly_model_score_p95"));  // no score yet: no value, not a fake one
  std::vector<double> scores;
  std::vector<int> flags;
  const double thr = -models_.at(v1).offset;
  for (int i = 0; i < 6; ++i) {
    const TimeMs t = kNow + i * kMinuteMs;
    answers_["latency_q"] = {Sample("checkout", 100 + 40 * i), Sample("payments", 90)};
    daemon_->RunCycle(0, t);
    for (const char* job : {"checkout", "payments"}) {
      scores.push_back(*Score(job));
      flags.push_back(*Score(job) > thr ? 1 : 0);
    }
  }
  // At kNow + 5 min the window (t > now - 5 min) holds cycles 1..5: the first two scores left.
  std::vector<double> window(scores.begin() + 2, scores.end());
  const double rate =
      static_cast<double>(std::accumulate(flags.begin() + 2, flags.end(), 0)) / window.size();
  // numpy.percentile(window, 95) of 10 scores: index 0.95 * 9 = 8.55 of the sorted window.
  ASSERT_EQ(window.size(), 10u);
  std::sort(window.begin(), window.end());
  EXPECT_DOUBLE_EQ(*Det("anomaly_model_score_p95"), window[8] + 0.55 * (window[9] - window[8]));
  EXPECT_DOUBLE_EQ(*Det("anomaly_rate_5m"), rate);
  // Five minutes of query errors empty the window: the gauges disappear.
  query_error_ = "down";
  daemon_->RunCycle(0, kNow + 10 * kMinuteMs + 1);
  EXPECT_FALSE(Det("anomaly_model_score_p95"));
  EXPECT_FALSE(Det("anomaly_rate_5m"));
}

TEST_F(DaemonTest, HotReloadReplacesTheModelAndItsVersionSeries) {
  const std::string v1 = InstallModel(1);
  daemon_->PollReloads(false);
  daemon_->RunCycle(0, kNow);
  EXPECT_EQ(*Score("checkout"), Expected(v1, 120, 0.011));
  daemon_->PollReloads(false);  // unchanged: nothing reloaded
  EXPECT_EQ(Det("isoscope_reloads_total"), 1);

  const std::string v2 = InstallModel(2, kHourMs);
  ASSERT_NE(v1, v2);
  daemon_->PollReloads(false);
  EXPECT_EQ(Det("isoscope_reloads_total"), 2);
  EXPECT_EQ(daemon_->Views()[0].model_version, v2);
  EXPECT_EQ(SeriesCount(*metrics_, "model_version_timestamp"), 1u);
  EXPECT_TRUE(Value(*metrics_, "model_version_timestamp",
                    {{"detector", "checkout"}, {"model_version", v2}}));
  EXPECT_EQ(daemon_->RunDue(kNow + 1), kNow + 1 + 10'000);  // due at once after a reload
  EXPECT_EQ(*Score("checkout"), Expected(v2, 120, 0.011));
  // SIGHUP: forced reload of the same bundle.
  daemon_->PollReloads(true);
  EXPECT_EQ(Det("isoscope_reloads_total"), 3);
}

// The scores and the is_anomaly of model `version` for one feature vector at kNow, computed
// independently of the daemon.
RowScore ScoreOf(const Model& m, double latency, double errors) {
  auto scorer = ModelScorer::Create(m);
  const double x[4] = {latency, errors, static_cast<double>(HourOfWeek(kNow)), 0};
  return scorer->ScoreFeatures(x);
}

TEST_F(DaemonTest, CandidateIsScoredOnTheSameRowsAndComparedUntilPromoted) {
  config_.detectors[0].promotion.mode = PromotionConfig::Mode::kManual;
  MakeDaemon();
  const std::string v1 = InstallModel(1);
  daemon_->PollReloads(false);
  daemon_->RunCycle(0, kNow);
  EXPECT_EQ(daemon_->Candidate(0).status().code(), ErrorCode::kNotFound);  // none yet
  const std::string v2 = InstallModel(2, kHourMs, /*candidate=*/true);
  daemon_->PollReloads(false);
  EXPECT_EQ(daemon_->Views()[0].model_version, v1);  // the candidate is not live
  daemon_->RunCycle(0, kNow + 10'000);
  // Its score, on the live row, as an independent scorer of that model gives it.
  const prometheus::Labels cand = {
      {"detector", "checkout"}, {"job", "checkout"}, {"role", "candidate"}};
  EXPECT_EQ(Value(*metrics_, "anomaly_candidate_score", cand), Expected(v2, 120, 0.011));
  EXPECT_EQ(*Score("checkout"), Expected(v1, 120, 0.011));  // the live series unchanged
  EXPECT_EQ(SeriesCount(*metrics_, "anomaly_candidate_score"), 2u);
  auto view = daemon_->Candidate(0);
  ASSERT_TRUE(view.ok()) << view.status().ToString();
  EXPECT_EQ(view->candidate_version, v2);
  EXPECT_EQ(view->active.version, v1);
  EXPECT_EQ(view->rows, 2u);  // two groups, one cycle since it arrived
  uint64_t want[2] = {0, 0};  // anomalies of v1, v2 on the two rows
  for (const auto& [latency, errors] : {std::pair{120.0, 0.011}, std::pair{95.0, 0.012}}) {
    want[0] += ScoreOf(models_.at(v1), latency, errors).is_anomaly ? 1 : 0;
    want[1] += ScoreOf(models_.at(v2), latency, errors).is_anomaly ? 1 : 0;
  }
  EXPECT_EQ(view->active.anomalies, want[0]);
  EXPECT_EQ(view->candidate.anomalies, want[1]);
  EXPECT_EQ(view->gate.reason, "waiting");  // manual: the gate never decides
  EXPECT_EQ(Value(*metrics_, "anomaly_candidate_rows", {{"detector", "checkout"}}), 2.0);
  // The comparison is in the store too, for isoscope candidates.
  auto file = ReadFile(config_.models_dir + "/checkout/candidate-comparison.json");
  ASSERT_TRUE(file.ok());
  auto parsed = ParseCandidateView(*file);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->candidate_version, v2);
  EXPECT_EQ(parsed->rows, 2u);

  BundleStore store(config_.models_dir, "checkout");
  ASSERT_TRUE(store.Promote(v2).ok());
  daemon_->PollReloads(false);
  EXPECT_EQ(daemon_->Views()[0].model_version, v2);
  EXPECT_EQ(daemon_->Candidate(0).status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(SeriesCount(*metrics_, "anomaly_candidate_score"), 0u);
  EXPECT_EQ(SeriesCount(*metrics_, "isoscope_candidate_gate"), 0u);
  struct stat st {};
  EXPECT_NE(::stat(store.ComparisonPath().c_str(), &st), 0);  // promoted: no comparison left
}

TEST_F(DaemonTest, GateHoldsBackACandidateThatFlagsWhatTheActiveModelDoesNot) {
  DetectorConfig& det = config_.detectors[0];
  det.promotion.mode = PromotionConfig::Mode::kGate;
  det.promotion.after_ms = 30'000;
  det.alerts.for_ms = 0;
  det.alerts.smooth_ms = 10'000;  // one score per window: the rule sees each score
  MakeDaemon();
  const std::string v1 = InstallModel(1);
  // Trained on latency 1000 higher. (An isolation forest sees a value beyond its training range
  // as its edge, so not every live row looks anomalous to it: counted below, independently.)
  const std::string bad = InstallModel(2, kHourMs, /*candidate=*/true, /*latency_shift=*/1000);
  daemon_->PollReloads(false);
  for (TimeMs t = 0; t <= 30'000; t += 10'000) daemon_->RunCycle(0, kNow + t);
  // Per model: the rows it flags and the groups whose score is above its critical threshold
  // (contamination/2 of its training rows, the default), from an independent scorer.
  auto count = [&](const Model& m, bool critical) {
    const double line = *m.ThresholdFor(0.05);
    uint64_t n = 0;
    for (const auto& [latency, errors] : {std::pair{120.0, 0.011}, std::pair{95.0, 0.012}}) {
      const RowScore r = ScoreOf(m, latency, errors);
      n += (critical ? r.anomaly_score > line : r.is_anomaly) ? 1 : 0;
    }
    return n;
  };
  const uint64_t bad_rows = count(models_.at(bad), false), v1_rows = count(models_.at(v1), false);
  ASSERT_EQ(v1_rows, 0u);   // the premise: the active model flags neither live row
  ASSERT_GE(bad_rows, 1u);  // ... and the candidate flags at least one
  auto view = daemon_->Candidate(0);
  ASSERT_TRUE(view.ok());
  EXPECT_EQ(view->candidate.anomalies, 4 * bad_rows);  // 4 cycles
  EXPECT_EQ(view->active.anomalies, 0u);
  // for: 0s: a group above its critical threshold pages at the first evaluation, once.
  EXPECT_EQ(view->candidate.pages, count(models_.at(bad), true));
  EXPECT_EQ(view->active.pages, 0u);
  EXPECT_EQ(SeriesCount(*metrics_, "anomaly_alert_state"), 0u);  // the daemon's own tracker
  // Pages first; otherwise 4 x bad_rows >= 4 anomalies against none is outside [0.5, 2] x 0 + 1.
  const std::string reason = view->candidate.pages > 0 ? "pages" : "anomaly_rate";
  EXPECT_EQ(view->gate.verdict, GateDecision::Verdict::kHold);
  EXPECT_EQ(view->gate.reason, reason);
  EXPECT_EQ(
      Value(*metrics_, "isoscope_candidate_gate", {{"detector", "checkout"}, {"reason", reason}}),
      1.0);
  EXPECT_EQ(Value(*metrics_, "isoscope_candidate_gate",
                  {{"detector", "checkout"}, {"reason", "waiting"}}),
            0.0);
  EXPECT_EQ(CountLogs("candidate held back by the gate, keeping the active model"), 1);
  BundleStore store(config_.models_dir, "checkout");
  EXPECT_EQ(*store.Latest(), v1);
  EXPECT_EQ(*store.Candidate(), bad);
  // Decided once: later cycles do not promote it.
  daemon_->RunCycle(0, kNow + 40'000);
  EXPECT_EQ(*store.Latest(), v1);
}

TEST_F(DaemonTest, CorruptBundleIsRefusedAndTheOldModelKeepsServing) {
  const std::string v1 = InstallModel(1);
  daemon_->PollReloads(false);
  // A bundle with one flipped byte, installed as latest.
  BundleStore store(config_.models_dir, "checkout");
  auto bytes = ReadFile(store.BundlePath(v1));
  ASSERT_TRUE(bytes.ok());
  std::string bad = *bytes;
  bad[bad.size() / 2] ^= 0x5a;
  ASSERT_TRUE(WriteFileAtomic(store.dir() + "/20991231-deadbeef.bundle", bad).ok());
  ASSERT_EQ(::unlink(store.LatestPath().c_str()), 0);
  ASSERT_EQ(::symlink("20991231-deadbeef.bundle", store.LatestPath().c_str()), 0);
  daemon_->PollReloads(false);
  daemon_->PollReloads(false);  // the same refused target is not retried
  EXPECT_EQ(Det("isoscope_reload_errors_total"), 1);
  EXPECT_EQ(Det("isoscope_reloads_total"), 1);
  EXPECT_EQ(
      CountLogs(
          "model refused, keeping the previous one detector=checkout version=20991231-deadbeef"),
      1);
  EXPECT_EQ(daemon_->Views()[0].model_version, v1);
  EXPECT_TRUE(daemon_->Ready(nullptr));
  daemon_->RunCycle(0, kNow);
  EXPECT_EQ(*Score("checkout"), Expected(v1, 120, 0.011));
  // A garbage file and an empty one are refused too.
  ASSERT_TRUE(WriteFileAtomic(store.dir() + "/20991231-deadbeef.bundle", "not a bundle").ok());
  daemon_->PollReloads(false);
  EXPECT_EQ(Det("isoscope_reload_errors_total"), 2);
  EXPECT_EQ(daemon_->Views()[0].model_version, v1);
  // The active bundle's bytes are the file's.
  EXPECT_EQ(*daemon_->Active(0)->bytes, *bytes);
}

TEST_F(DaemonTest, ModelWhoseInputsHaveNoQueryIsRefused) {
  config_.detectors[0].queries = {{"latency", "latency_q"}, {"other", "other_q"}};
  daemon_ = std::make_unique<Daemon>(
      config_,
      [](const std::string&, TimeMs) {
        return Result<std::vector<PromSample>>(std::vector<PromSample>{});
      },
      metrics_, Logger([this](const std::string&, const std::string& msg, const LogFields& f) {
        std::string line = msg;
        for (const auto& [k, v] : f) line += " " + k + "=" + v;
        logs_.push_back(line);
      }));
  InstallModel(1);
  daemon_->PollReloads(false);
  EXPECT_FALSE(daemon_->Ready(nullptr));
  EXPECT_EQ(CountLogs("no query for: errors"), 1);
}

}  // namespace
}  // namespace isoscope::native

namespace isoscope::native {
namespace {

// anomaly_alert_state from the same core functions as the rules: with smooth = interval the
// smoothed score is the latest score, so the walk below follows from score vs threshold alone.
TEST_F(DaemonTest, AlertStateWalksPendingFiringInactive) {
  AlertsConfig& a = config_.detectors[0].alerts;
  const std::string v = InstallModel(1);
  double high = Expected(v, 120, 0.011);
  double low = Expected(v, 95, 0.012);
  ASSERT_NE(high, low);
  std::vector<PromSample> high_latency = {Sample("checkout", 120)};
  std::vector<PromSample> high_errors = {Sample("checkout", 0.011)};
  std::vector<PromSample> low_latency = {Sample("checkout", 95)};
  std::vector<PromSample> low_errors = {Sample("checkout", 0.012)};
  if (high < low) {
    std::swap(high, low);
    std::swap(high_latency, low_latency);
    std::swap(high_errors, low_errors);
  }
  a.warning = a.critical = AlertThreshold::Score((high + low) / 2);
  a.for_ms = 20'000;
  a.smooth_ms = 10'000;
  daemon_.reset();
  MakeDaemon();
  daemon_->PollReloads(false);
  answers_["latency_q"] = high_latency;
  answers_["errors_q"] = high_errors;
  const prometheus::Labels w = {
      {"detector", "checkout"}, {"job", "checkout"}, {"severity", "warning"}};
  const prometheus::Labels c = {
      {"detector", "checkout"}, {"job", "checkout"}, {"severity", "critical"}};
  EXPECT_EQ(Value(*metrics_, "anomaly_alert_for_seconds",
                  {{"detector", "checkout"}, {"severity", "critical"}}),
            20);
  EXPECT_FALSE(Value(*metrics_, "anomaly_alert_state", c));  // nothing scored yet

  // (time offset, expected state 0/1/2, expected seconds pending)
  const struct {
    TimeMs offset;
    double state;
    double seconds;
  } walk[] = {{0, 1, 0}, {10'000, 1, 10}, {20'000, 2, 20}, {30'000, 2, 30}};
  for (const auto& step : walk) {
    daemon_->RunCycle(0, kNow + step.offset);
    EXPECT_EQ(Value(*metrics_, "anomaly_alert_state", c), step.state) << step.offset;
    EXPECT_EQ(Value(*metrics_, "anomaly_alert_state", w), step.state) << step.offset;
    EXPECT_EQ(Value(*metrics_, "anomaly_alert_pending_seconds", c), step.seconds) << step.offset;
  }
  // The score drops below the threshold: inactive at the next evaluation.
  answers_["latency_q"] = low_latency;
  answers_["errors_q"] = low_errors;
  daemon_->RunCycle(0, kNow + 40'000);
  EXPECT_FALSE(Value(*metrics_, "anomaly_alert_state", c));  // inactive: no series
  EXPECT_FALSE(Value(*metrics_, "anomaly_alert_pending_seconds", c));
  // Back above: a new episode starts pending. Then the queries fail: no score, and with the
  // 10s window no smoothed value at the next evaluation, so pending ends and, inactive with no
  // score in the window, the group's alert series go away.
  answers_["latency_q"] = high_latency;
  answers_["errors_q"] = high_errors;
  daemon_->RunCycle(0, kNow + 50'000);
  EXPECT_EQ(Value(*metrics_, "anomaly_alert_state", c), 1);
  query_error_ = "connection refused";
  daemon_->RunCycle(0, kNow + 60'000);
  EXPECT_FALSE(Value(*metrics_, "anomaly_alert_state", c));
  EXPECT_FALSE(Value(*metrics_, "anomaly_alert_pending_seconds", w));
  EXPECT_EQ(Value(*metrics_, "anomaly_alert_for_seconds",
                  {{"detector", "checkout"}, {"severity", "warning"}}),
            20);
}

// anomaly_input_contribution: only for a group whose alert is pending or firing, one series
// per input with its summed contribution to log2 of the score (the core's Explainer on the
// vector the daemon scored), gone when the alert ends. The quiet group exports nothing.
TEST_F(DaemonTest, InputContributionsOnlyForAlertingGroups) {
  AlertsConfig& a = config_.detectors[0].alerts;
  const std::string v = InstallModel(1);
  const double checkout = Expected(v, 120, 0.011);
  const double payments = Expected(v, 95, 0.012);
  ASSERT_NE(checkout, payments);
  const std::string loud = checkout > payments ? "checkout" : "payments";
  const std::string quiet = checkout > payments ? "payments" : "checkout";
  a.warning = a.critical = AlertThreshold::Score((checkout + payments) / 2);
  a.for_ms = 20'000;
  a.smooth_ms = 10'000;
  daemon_.reset();
  MakeDaemon();
  daemon_->PollReloads(false);
  daemon_->RunCycle(0, kNow);
  auto contribution = [&](const std::string& job, const std::string& input) {
    return Value(*metrics_, "anomaly_input_contribution",
                 {{"detector", "checkout"}, {"job", job}, {"input", input}});
  };
  // The loud group is pending: its inputs' contributions, as the Explainer gives them.
  auto explainer = Explainer::Create(models_.at(v));
  ASSERT_TRUE(explainer.ok());
  const double x[4] = {loud == "checkout" ? 120.0 : 95.0, loud == "checkout" ? 0.011 : 0.012,
                       static_cast<double>(HourOfWeek(kNow)), 0};
  const RowExplanation e = explainer->Explain(x);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(contribution(loud, "latency"), e.per_input[0]);
  EXPECT_EQ(contribution(loud, "errors"), e.per_input[1]);
  EXPECT_FALSE(contribution(quiet, "latency"));
  EXPECT_FALSE(contribution(quiet, "errors"));
  // The loud group gets the quiet group's values: its alert ends and the series go away.
  const double lat = quiet == "checkout" ? 120 : 95, err = quiet == "checkout" ? 0.011 : 0.012;
  answers_["latency_q"] = {Sample("checkout", lat), Sample("payments", lat)};
  answers_["errors_q"] = {Sample("checkout", err), Sample("payments", err)};
  daemon_->RunCycle(0, kNow + 10'000);
  EXPECT_FALSE(contribution(loud, "latency"));
  EXPECT_FALSE(contribution(loud, "errors"));
}

// The API's explanation of any scored group, quiet or not, computed when asked from the vector
// the cycle scored: that vector, the score an independent scorer gives it, contributions that
// add up to log2 of the score over the baseline; none before a cycle, after the groups went
// stale, or for a group the cycle did not score.
TEST_F(DaemonTest, ExplainsTheLastScoredRowOfAGroupOnRequest) {
  const std::string v = InstallModel(1);
  daemon_->PollReloads(false);
  EXPECT_EQ(daemon_->Explain(0, "").status().code(), ErrorCode::kUnavailable);
  daemon_->RunCycle(0, kNow);
  const struct {
    const char* job;
    double latency, errors;
  } groups[] = {{"checkout", 120, 0.011}, {"payments", 95, 0.012}};
  for (const auto& g : groups) {
    auto e = daemon_->Explain(0, std::string("{job=\"") + g.job + "\"}");
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    EXPECT_EQ(e->time, kNow);
    EXPECT_EQ(e->model->version, v);
    EXPECT_EQ(e->features,
              (std::vector<double>{g.latency, g.errors, static_cast<double>(HourOfWeek(kNow)), 0}));
    const double score = Expected(v, g.latency, g.errors);
    EXPECT_EQ(e->explanation.anomaly_score, score);
    const std::vector<double>& c = e->explanation.contribution;
    const double sum = std::accumulate(c.begin(), c.end(), 0.0);
    EXPECT_NEAR(std::log2(e->model->explainer->baseline_score()) + sum, std::log2(score), 1e-12);
    EXPECT_NEAR(e->explanation.per_input[0], c[0], 1e-15);  // latency's one column
  }
  // No group asked for: the first group (key order), as /history does.
  EXPECT_EQ(daemon_->Explain(0, "")->group, "{job=\"checkout\"}");
  EXPECT_EQ(daemon_->Explain(0, "{job=\"nosuch\"}").status().code(), ErrorCode::kNotFound);
  query_error_ = "connection refused";  // every group stale: nothing to explain
  daemon_->RunCycle(0, kNow + 10'000);
  EXPECT_EQ(daemon_->Explain(0, "{job=\"checkout\"}").status().code(), ErrorCode::kUnavailable);
}

// Three daemons with --shard 0/3, 1/3, 2/3 over the same answers: each group is scored by
// exactly one of them, with the score an unsharded daemon gives, labelled with its shard; the
// shard is exported; a replica whose share is empty is still "scored", not stale.
TEST_F(DaemonTest, ThreeShardsScoreEveryGroupExactlyOnce) {
  const std::string v1 = InstallModel(1);
  answers_["latency_q"].clear();
  answers_["errors_q"].clear();
  constexpr int kJobs = 24;
  for (int j = 0; j < kJobs; ++j) {
    answers_["latency_q"].push_back(Sample("job-" + std::to_string(j), 100 + j));
    answers_["errors_q"].push_back(Sample("job-" + std::to_string(j), 0.01));
  }
  std::map<std::string, int> owner;  // job -> shard index that scored it
  for (int i = 0; i < 3; ++i) {
    Config c = config_;
    c.shard = *ParseShard(std::to_string(i) + "/3");
    auto reg = std::make_shared<prometheus::Registry>();
    Daemon d(
        c,
        [this](const std::string& q, TimeMs) -> Result<std::vector<PromSample>> {
          return answers_[q];
        },
        std::make_shared<ExporterMetrics>(reg));
    d.PollReloads(false);
    d.RunDue(kNow);
    EXPECT_EQ(Value(*d.metrics(), "isoscope_shard_index", {}), i);
    EXPECT_EQ(Value(*d.metrics(), "isoscope_shards", {}), 3);
    EXPECT_EQ(
        Value(*d.metrics(), "anomaly_model_state", {{"detector", "checkout"}, {"state", "scored"}}),
        1);
    size_t scored_here = 0;
    for (int j = 0; j < kJobs; ++j) {
      const std::string job = "job-" + std::to_string(j);
      const bool mine = c.shard.Owns(GroupHash({{"detector", "checkout"}, {"job", job}}));
      auto s = Value(*d.metrics(), "anomaly_score",
                     {{"detector", "checkout"}, {"job", job}, {"shard", c.shard.Label()}});
      EXPECT_EQ(s.has_value(), mine) << job << " on shard " << i;
      if (!s) continue;
      ++scored_here;
      EXPECT_EQ(*s, Expected(v1, 100 + j, 0.01)) << job;
      EXPECT_TRUE(owner.emplace(job, i).second) << job << " scored twice";
    }
    EXPECT_EQ(SeriesCount(*d.metrics(), "anomaly_score"), scored_here);
    EXPECT_EQ(d.Views()[0].groups_scored, scored_here);
  }
  EXPECT_EQ(owner.size(), static_cast<size_t>(kJobs));

  // One group only, job=payments, owned by shard 1 of 3 (tools/shard_hash.py --shard 3
  // detector=checkout job=payments): shard 0 scores nothing and says so by state scored and no
  // series, not by stale.
  answers_["latency_q"] = {Sample("payments", 120)};
  answers_["errors_q"] = {Sample("payments", 0.011)};
  ASSERT_EQ(GroupHash({{"detector", "checkout"}, {"job", "payments"}}) % 3, 1u);
  Config c = config_;
  c.shard = *ParseShard("0/3");
  auto reg = std::make_shared<prometheus::Registry>();
  Daemon d(
      c,
      [this](const std::string& q, TimeMs) { return Result<std::vector<PromSample>>(answers_[q]); },
      std::make_shared<ExporterMetrics>(reg));
  d.PollReloads(false);
  d.RunDue(kNow);
  EXPECT_EQ(SeriesCount(*d.metrics(), "anomaly_score"), 0u);
  EXPECT_EQ(
      Value(*d.metrics(), "anomaly_model_state", {{"detector", "checkout"}, {"state", "scored"}}),
      1);
}

TEST_F(DaemonTest, UnshardedDaemonExportsShardZeroOfOneAndNoShardLabel) {
  InstallModel(1);
  daemon_->PollReloads(false);
  daemon_->RunDue(kNow);
  EXPECT_EQ(Value(*metrics_, "isoscope_shard_index", {}), 0);
  EXPECT_EQ(Value(*metrics_, "isoscope_shards", {}), 1);
  EXPECT_TRUE(Score("checkout"));
  EXPECT_TRUE(Score("payments"));
}

}  // namespace
}  // namespace isoscope::native

namespace isoscope::native {
namespace {

// The default thresholds are relative to the model: resolved at every load (the contamination
// boundary, which is the model's own anomaly threshold, and the boundary at half that share),
// exported for the generated rules, and a model they cannot be resolved for is refused.
TEST_F(DaemonTest, RelativeThresholdsFollowEveryModel) {
  auto threshold = [this](const char* severity) {
    return Value(*metrics_, "anomaly_alert_threshold",
                 {{"detector", "checkout"}, {"severity", severity}});
  };
  EXPECT_FALSE(threshold("warning")) << "unknown before a model";
  const std::string v1 = InstallModel(1);
  daemon_->PollReloads(false);
  ASSERT_EQ(daemon_->Views()[0].model_version, v1);
  EXPECT_EQ(threshold("warning"), models_.at(v1).threshold());
  EXPECT_EQ(threshold("warning"), Det("anomaly_threshold"));
  EXPECT_EQ(threshold("critical"), models_.at(v1).ThresholdFor(0.05).value());
  EXPECT_GT(*threshold("critical"), *threshold("warning"));
  const std::string v2 = InstallModel(2, 1000);
  daemon_->PollReloads(false);
  ASSERT_EQ(daemon_->Views()[0].model_version, v2);
  EXPECT_EQ(threshold("warning"), models_.at(v2).threshold());
  EXPECT_EQ(threshold("critical"), models_.at(v2).ThresholdFor(0.05).value());
  EXPECT_NE(models_.at(v1).threshold(), models_.at(v2).threshold());

  // 0.01% of training rows is below the quantile table's 0.05 %: refused, v2 keeps serving.
  config_.detectors[0].alerts.critical = std::move(ParseAlertThreshold("0.01%")).value();
  MakeDaemon();
  daemon_->PollReloads(false);
  EXPECT_FALSE(daemon_->Ready(nullptr));
  EXPECT_EQ(CountLogs("alerts.critical: threshold '0.01%'"), 1);
}

}  // namespace
}  // namespace isoscope::native

namespace isoscope::native {
namespace {

// Odd targets of `latest` (issue 23): each is refused at once (no blocking open, no read of a
// 2 GB file, no symlink followed out of the directory), counted once, and the loaded model
// keeps scoring.
TEST_F(DaemonTest, OddLatestTargetsAreRefusedCountedAndScoringGoesOn) {
  const std::string v1 = InstallModel(1);
  daemon_->PollReloads(false);
  BundleStore store(config_.models_dir, "checkout");
  const std::string dir = store.dir();
  auto point = [&](const std::string& target) {
    ::unlink(store.LatestPath().c_str());
    ASSERT_EQ(::symlink(target.c_str(), store.LatestPath().c_str()), 0);
  };
  const std::string secret = root_ + "/secret";
  ASSERT_TRUE(WriteFileAtomic(secret, "SECRET-BYTES").ok());
  ASSERT_EQ(::mkfifo((dir + "/fifo.bundle").c_str(), 0600), 0);
  ASSERT_EQ(::symlink(secret.c_str(), (dir + "/evil.bundle").c_str()), 0);
  {  // 2 GB, sparse: the header of v1, then holes
    auto head = ReadFile(store.BundlePath(v1));
    ASSERT_TRUE(head.ok());
    ASSERT_TRUE(WriteFileAtomic(dir + "/big.bundle", head->substr(0, 26)).ok());
    ASSERT_EQ(::truncate((dir + "/big.bundle").c_str(), off_t{2} << 30), 0);
  }
  double errors = 0;
  TimeMs now = kNow;
  for (const std::string& target : std::vector<std::string>{
           "fifo.bundle", "big.bundle", "evil.bundle", "../x.bundle", "x\xff.bundle", secret}) {
    point(target);
    const auto t0 = std::chrono::steady_clock::now();
    daemon_->PollReloads(false);
    daemon_->PollReloads(false);  // counted once per target
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(1)) << target;
    EXPECT_EQ(Det("isoscope_reload_errors_total"), ++errors) << target;
    EXPECT_EQ(daemon_->Views()[0].model_version, v1) << target;
    now += 10'000;
    daemon_->RunCycle(0, now);
    EXPECT_EQ(*Score("checkout"), Expected(v1, 120, 0.011, now)) << target;
  }
  for (const std::string& l : logs_) EXPECT_EQ(l.find("SECRET"), std::string::npos) << l;
  EXPECT_EQ(CountLogs("is a symbolic link"), 1);
  EXPECT_EQ(CountLogs("is not a regular file"), 1);
  EXPECT_EQ(CountLogs("x\\xff.bundle"), 1);  // escaped in the log
}

TEST_F(DaemonTest, NonFiniteSamplesAreCounted) {
  InstallModel(1);
  daemon_->PollReloads(false);
  answers_["errors_q"] = {Sample("checkout", NAN), Sample("payments", -INFINITY)};
  answers_["latency_q"] = {Sample("checkout", INFINITY), Sample("payments", 95)};
  daemon_->RunCycle(0, kNow);
  EXPECT_EQ(Value(*metrics_, "isoscope_nonfinite_samples_total", {{"detector", "checkout"}}), 3);
  answers_["errors_q"] = {Sample("checkout", 0.011), Sample("payments", 0.012)};
  answers_["latency_q"] = {Sample("checkout", 120), Sample("payments", 95)};
  daemon_->RunCycle(0, kNow + 10'000);
  EXPECT_EQ(Value(*metrics_, "isoscope_nonfinite_samples_total", {{"detector", "checkout"}}), 3);
}

// A forced reload (SIGHUP) of the model already serving keeps the cycle schedule: a burst of
// SIGHUPs runs no extra cycles. A new version is still scored at once.
TEST_F(DaemonTest, ForcedReloadOfTheSameModelKeepsTheSchedule) {
  InstallModel(1);
  daemon_->PollReloads(false);
  EXPECT_EQ(daemon_->RunDue(kNow), kNow + 10'000);
  const int before = queries_;
  for (int i = 0; i < 5; ++i) {
    daemon_->PollReloads(true);
    EXPECT_EQ(daemon_->RunDue(kNow + 1000 + i), kNow + 10'000);
  }
  EXPECT_EQ(queries_, before);
  EXPECT_EQ(Det("isoscope_reloads_total"), 6);
  InstallModel(2, kHourMs);
  daemon_->PollReloads(false);
  daemon_->RunDue(kNow + 2000);
  EXPECT_GT(queries_, before);
}

}  // namespace
}  // namespace isoscope::native

namespace isoscope::native {
namespace {

// Reloads prepared on another thread while cycles run (as serve does): the cycle thread
// switches models only in ApplyReloads, and every score is the one of the model active then.
// Run under ASan/TSan (make test-asan) this also checks the two halves share nothing unlocked.
TEST_F(DaemonTest, ReloadsPreparedOnAnotherThreadWhileCyclesRun) {
  const std::string v1 = InstallModel(1);
  daemon_->PollReloads(false);
  const std::string v2 = InstallModel(2, kHourMs);
  std::atomic<bool> done{false};
  std::thread reloader([&] {
    for (int i = 0; i < 20 && !done; ++i) daemon_->PrepareReloads(i % 2 == 0);
  });
  bool switched = false;
  for (int i = 0; i < 200; ++i) {
    switched = daemon_->ApplyReloads() || switched;
    const std::string active = daemon_->Active(0)->version;
    const TimeMs now = kNow + i * 10'000;
    daemon_->RunCycle(0, now);
    ASSERT_EQ(*Score("checkout"), Expected(active, 120, 0.011, now)) << i;
  }
  done = true;
  reloader.join();
  daemon_->ApplyReloads();
  EXPECT_EQ(daemon_->Active(0)->version, v2);
  EXPECT_NE(v1, v2);
}

}  // namespace
}  // namespace isoscope::native

namespace isoscope::native {
namespace {

// A group label value that is not UTF-8 (a replay CSV's label column, a broken relabelling)
// would make the exposition invalid: that group is stale with the bytes escaped in the reason.
TEST_F(DaemonTest, GroupWithNonUtf8LabelValueIsStale) {
  InstallModel(1);
  daemon_->PollReloads(false);
  answers_["latency_q"] = {Sample("checkout", 120), Sample("pay\xff", 95)};
  answers_["errors_q"] = {Sample("checkout", 0.011), Sample("pay\xff", 0.012)};
  daemon_->RunCycle(0, kNow);
  EXPECT_TRUE(Score("checkout"));
  EXPECT_FALSE(Score("pay\xff"));
  EXPECT_EQ(State("stale"), 1);
  EXPECT_EQ(CountLogs("label job has a value that is not valid UTF-8: 'pay\\xff'"), 1);
  EXPECT_NE(daemon_->Views()[0].reason.find("group {job=\"pay\\xff\"}"), std::string::npos)
      << daemon_->Views()[0].reason;
}

}  // namespace
}  // namespace isoscope::native

namespace isoscope::native {
namespace {

// anomaly_onset next to anomaly_surprise, from the same stream: row by row it equals the
// core's OnsetSeries (tested on its own in tests/core) over the scores the daemon exported,
// starting from the model's calibration, as the daemon's stream does.
TEST_F(DaemonTest, ExportsTheOnsetOfTheSurpriseStream) {
  const std::string v = InstallModel(1);
  daemon_->PollReloads(false);
  const ScoreCalibration& cal = models_.at(v).calibration;
  ASSERT_GT(cal.count, 0);
  const prometheus::Labels checkout = {{"detector", "checkout"}, {"job", "checkout"}};
  // Ordinary rows, a burst far outside training, then ordinary again.
  const double latencies[] = {120, 118, 121, 5000, 5000, 5000, 119, 120};
  std::vector<double> scores;
  std::vector<double> onsets;
  for (size_t i = 0; i < std::size(latencies); ++i) {
    answers_["latency_q"] = {Sample("checkout", latencies[i])};
    answers_["errors_q"] = {Sample("checkout", 0.011)};
    daemon_->RunCycle(0, kNow + static_cast<TimeMs>(i) * 10'000);
    ASSERT_TRUE(Score("checkout")) << i;
    scores.push_back(*Score("checkout"));
    const auto onset = Value(*metrics_, "anomaly_onset", checkout);
    ASSERT_TRUE(onset) << i;
    onsets.push_back(*onset);
    const std::vector<double> expected = OnsetSeries(cal, scores);
    EXPECT_EQ(*onset, expected.back()) << "row " << i;
    EXPECT_EQ(Value(*metrics_, "anomaly_surprise", checkout), SurpriseSeries(cal, scores).back())
        << "row " << i;
  }
  // Not a constant: the burst's first row is an onset, the rows inside it are not.
  EXPECT_GT(onsets[3], 0);
  EXPECT_EQ(onsets[4], 0);
  // A stale group exports neither.
  answers_["errors_q"] = {};
  daemon_->RunCycle(0, kNow + 100'000);
  EXPECT_FALSE(Value(*metrics_, "anomaly_onset", checkout));
  EXPECT_FALSE(Value(*metrics_, "anomaly_surprise", checkout));
}

// alerts: {warning, critical: surprise:T}: the daemon's alert state follows the surprise. With
// smooth = interval and for 0, a row fires exactly when its surprise is above T; T is halfway
// between an ordinary row's surprise and an outlier's, both computed by the core's
// SurpriseSeries on the exported scores.
TEST_F(DaemonTest, AlertStateFollowsTheSurpriseWhenSoConfigured) {
  const std::string v = InstallModel(1);
  const ScoreCalibration& cal = models_.at(v).calibration;
  const double ordinary = Expected(v, 120, 0.011);
  const double outlier = Expected(v, 5000, 0.011);
  const std::vector<double> expected = SurpriseSeries(cal, {ordinary, outlier});
  ASSERT_GT(expected[1], expected[0]);
  const std::string t = "surprise:" + FormatShortest((expected[0] + expected[1]) / 2);
  AlertsConfig& a = config_.detectors[0].alerts;
  a.warning = a.critical = std::move(ParseAlertThreshold(t)).value();
  a.for_ms = 0;
  a.smooth_ms = 10'000;
  daemon_.reset();
  MakeDaemon();
  daemon_->PollReloads(false);
  ASSERT_TRUE(daemon_->Ready(nullptr));
  const prometheus::Labels c = {
      {"detector", "checkout"}, {"job", "checkout"}, {"severity", "critical"}};
  answers_["latency_q"] = {Sample("checkout", 120)};
  answers_["errors_q"] = {Sample("checkout", 0.011)};
  daemon_->RunCycle(0, kNow);
  EXPECT_EQ(Score("checkout"), ordinary);
  EXPECT_FALSE(Value(*metrics_, "anomaly_alert_state", c)) << "below " << t;
  answers_["latency_q"] = {Sample("checkout", 5000)};
  daemon_->RunCycle(0, kNow + 10'000);
  EXPECT_EQ(Score("checkout"), outlier);
  EXPECT_EQ(Value(*metrics_, "anomaly_alert_state", c), 2) << "above " << t;
  // The surprise threshold is no score: not exported as one.
  EXPECT_FALSE(Value(*metrics_, "anomaly_alert_threshold",
                     {{"detector", "checkout"}, {"severity", "critical"}}));
}

}  // namespace
}  // namespace isoscope::native

namespace isoscope::native {
namespace {

// A surprise threshold needs the model's score calibration; a bundle without one (older than
// format 1.3) has no surprise, so the daemon refuses it and says why, as it does for a
// relative threshold it cannot resolve, and keeps serving the calibrated model.
TEST_F(DaemonTest, SurpriseThresholdRefusesAModelWithoutCalibration) {
  AlertsConfig& a = config_.detectors[0].alerts;
  a.critical = std::move(ParseAlertThreshold("surprise:4")).value();
  MakeDaemon();
  const std::string v1 = InstallModel(1);
  daemon_->PollReloads(false);
  ASSERT_EQ(daemon_->Views()[0].model_version, v1);
  Model old = models_.at(v1);
  old.calibration = {};
  old.model_version = "20260102-00000000";
  old.info.created_ms += 1000;
  BundleStore store(config_.models_dir, "checkout");
  ASSERT_TRUE(
      store.Install(old.model_version, old.info.created_ms, EncodeBundle(old), "{}", 5, nullptr)
          .ok());
  daemon_->PollReloads(false);
  EXPECT_EQ(daemon_->Views()[0].model_version, v1);
  EXPECT_EQ(CountLogs("alerts.critical: threshold 'surprise:4': the model carries no score "
                      "calibration"),
            1);
}

// Look-up answers (seasonal_diff's value a day back) reach their groups whatever order
// Prometheus answers in: the daemon checks each sample against the first query's order and
// searches by key only when that fails. Both daemons must score every group alike, and each
// group's look-up differs, so a look-up given to the wrong group would change its score.
TEST_F(DaemonTest, LookupsReachTheirGroupsInAnyAnswerOrder) {
  auto h = testing::MakeSmallHistory();
  FeatureSpec spec;
  spec.inputs = {"latency", "errors"};
  spec.step_ms = 10 * kMinuteMs;
  spec.derived = *ParseDerivedList("seasonal_diff(latency,1d)", spec.inputs);
  TrainOptions options;
  options.params.n_estimators = 20;
  options.params.random_state = 5;
  options.params.contamination = Contamination::Fraction(0.1);
  options.contamination_explicit = true;
  options.created_ms = h.times.back();
  auto m = TrainModel(spec, h.times.data(), {h.a.data(), h.b.data()}, h.times.size(), options);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  ASSERT_TRUE(BundleStore(config_.models_dir, "checkout")
                  .Install(m->model_version, m->info.created_ms, EncodeBundle(*m), "{}", 5, nullptr)
                  .ok());
  constexpr int kJobs = 40;
  // Now: latency 100 + j; a day back: 100 + 6 j (a residual of -5 j per group).
  auto answer = [](const std::string& q, TimeMs t, TimeMs now, bool reversed) {
    std::vector<PromSample> out;
    for (int j = 0; j < kJobs; ++j) {
      const double latency = 100 + (t >= now - kHourMs ? j : 6 * j);
      out.push_back(Sample("job-" + std::to_string(j), q == "latency_q" ? latency : 0.011));
    }
    if (reversed && t < now - kHourMs) std::reverse(out.begin(), out.end());  // look-ups only
    return Result<std::vector<PromSample>>(out);
  };
  std::vector<std::optional<double>> scores[2];
  for (int reversed = 0; reversed < 2; ++reversed) {
    TimeMs now = kNow;
    Daemon d(
        config_, [&](const std::string& q, TimeMs t) { return answer(q, t, now, reversed == 1); },
        std::make_shared<ExporterMetrics>(std::make_shared<prometheus::Registry>()));
    d.PollReloads(false);
    for (int cycle = 0; cycle < 2; ++cycle, now += 10 * kMinuteMs) d.RunCycle(0, now);
    for (int j = 0; j < kJobs; ++j) {
      scores[reversed].push_back(
          Value(*d.metrics(), "anomaly_score",
                {{"detector", "checkout"}, {"job", "job-" + std::to_string(j)}}));
      ASSERT_TRUE(scores[reversed].back().has_value()) << j;
    }
  }
  EXPECT_EQ(scores[0], scores[1]);
  std::set<double> distinct;
  for (const auto& s : scores[0]) distinct.insert(*s);
  EXPECT_GT(distinct.size(), 5u);  // the look-ups matter: groups score differently
}

// New groups' history filled in chunks of time (a small grid budget: one row per chunk, as at
// 100,000 groups) gives the same scores as filled at once: the same rows reach the streams in
// the same order. The model smooths seasonal baselines over 30 minutes, so the fill matters.
TEST_F(DaemonTest, HistoryFilledInChunksScoresAsFilledAtOnce) {
  auto h = testing::MakeSmallHistory();
  FeatureSpec spec;
  spec.inputs = {"latency", "errors"};
  spec.step_ms = 10 * kMinuteMs;
  spec.derived = *ParseDerivedList("seasonal_median_diff(latency,1d,2,30m)", spec.inputs);
  TrainOptions options;
  options.params.n_estimators = 20;
  options.params.random_state = 9;
  options.params.contamination = Contamination::Fraction(0.1);
  options.contamination_explicit = true;
  options.created_ms = h.times.back();
  auto m = TrainModel(spec, h.times.data(), {h.a.data(), h.b.data()}, h.times.size(), options);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  ASSERT_TRUE(BundleStore(config_.models_dir, "checkout")
                  .Install(m->model_version, m->info.created_ms, EncodeBundle(*m), "{}", 5, nullptr)
                  .ok());
  constexpr int kJobs = 12;
  auto answer = [](const std::string& q, TimeMs t) {
    std::vector<PromSample> out;
    for (int j = 0; j < kJobs; ++j) {
      const double x = static_cast<double>((t / (10 * kMinuteMs)) % 97) + 3.0 * j;
      out.push_back(Sample("job-" + std::to_string(j), q == "latency_q" ? 100 + x : 0.011));
    }
    return Result<std::vector<PromSample>>(out);
  };
  std::vector<std::optional<double>> scores[2];
  size_t queries[2] = {0, 0};
  for (int chunked = 0; chunked < 2; ++chunked) {
    Daemon d(
        config_,
        [&](const std::string& q, TimeMs t) {
          ++queries[chunked];
          return answer(q, t);
        },
        std::make_shared<ExporterMetrics>(std::make_shared<prometheus::Registry>()));
    if (chunked == 1) d.SetFillGridBytes(1);  // one row per chunk
    d.PollReloads(false);
    d.RunCycle(0, kNow);
    for (int j = 0; j < kJobs; ++j) {
      scores[chunked].push_back(
          Value(*d.metrics(), "anomaly_score",
                {{"detector", "checkout"}, {"job", "job-" + std::to_string(j)}}));
      ASSERT_TRUE(scores[chunked].back().has_value()) << j;
    }
  }
  EXPECT_EQ(scores[0], scores[1]);
  // The same instants were asked for (by instant queries, without a range query function).
  EXPECT_EQ(queries[0], queries[1]);
}

// The cycle's groups are found by index and by key (when answers come in another order), and
// the detector's keyed state is walked in key order: groups that come and go between cycles,
// answers in a new order every cycle (or the same order twice), and a group only one query
// returns, all keep each group's own score.
TEST_F(DaemonTest, GroupsComeAndGoInAnyOrderAcrossCycles) {
  const std::string version = InstallModel(11);
  daemon_->PollReloads(false);
  constexpr int kJobs = 30;
  std::mt19937 rng(3);
  auto latency = [](int j) { return 90.0 + 2 * j; };
  auto errors = [](int j) { return 0.01 + 0.0005 * j; };
  std::vector<int> present;
  for (int cycle = 0; cycle < 8; ++cycle) {
    const TimeMs now = kNow + cycle * 10'000;
    if (cycle % 2 == 0) {  // a new set in a new order; an odd cycle repeats the last one's
      present.clear();
      for (int j = 0; j < kJobs; ++j) {
        if ((j + cycle / 2) % 3 != 0) present.push_back(j);
      }
      std::shuffle(present.begin(), present.end(), rng);
    }
    answers_["latency_q"].clear();
    for (int j : present) {
      answers_["latency_q"].push_back(Sample("job-" + std::to_string(j), latency(j)));
    }
    std::vector<int> other = present;
    std::shuffle(other.begin(), other.end(), rng);
    answers_["errors_q"].clear();
    for (int j : other)
      answers_["errors_q"].push_back(Sample("job-" + std::to_string(j), errors(j)));
    answers_["errors_q"].push_back(Sample("errors-only", 0.01));  // no latency: stale
    daemon_->RunCycle(0, now);
    const DetectorView view = daemon_->Views()[0];
    EXPECT_EQ(view.groups_scored, present.size()) << cycle;
    EXPECT_EQ(view.groups_stale, 1u) << cycle;
    EXPECT_FALSE(Score("errors-only").has_value());
    for (int j = 0; j < kJobs; ++j) {
      const std::string job = "job-" + std::to_string(j);
      const bool there = std::find(present.begin(), present.end(), j) != present.end();
      const std::optional<double> score = Score(job);
      ASSERT_EQ(score.has_value(), there) << "cycle " << cycle << " " << job;
      if (there) {
        EXPECT_EQ(*score, Expected(version, latency(j), errors(j), now)) << cycle << " " << job;
      }
    }
  }
}

}  // namespace
}  // namespace isoscope::native
