#pragma once

// The detector runtime of `isoscope serve`: per detector, the active model (hot-reloaded from
// the bundle store's `latest`), one scoring cycle (instant queries -> one feature vector per
// group -> scores -> metrics), the rolling 5-minute window and the state machine
// warming -> scored <-> stale. Time is an argument and Prometheus is a function, so a test
// drives cycles with a fake query function and any `now`; the clock, the threads and the
// signals live in cmd_serve.cc.

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "bundle_store.h"
#include "challenger.h"
#include "config.h"
#include "isoscope/attribution.h"
#include "isoscope/model.h"
#include "logfmt.h"
#include "metrics.h"
#include "prom_json.h"

namespace isoscope::native {

/// An instant query at time t (ms): PromClient::Query in the daemon, a fake in tests.
using QueryFunction =
    std::function<Result<std::vector<PromSample>>(const std::string& promql, TimeMs t)>;

/// A range query [start, end] every `step` (ms): PromClient::QueryRange in the daemon. It fills
/// the windows of temporal features when a group first appears; without one the daemon asks
/// one instant query per step instead.
using RangeQueryFunction = std::function<Result<std::vector<PromSeries>>(
    const std::string& promql, TimeMs start, TimeMs end, TimeMs step)>;

enum class DetectorState { kWarming, kScored, kStale };
/// "warming", "scored", "stale" (the state label of anomaly_model_state).
const char* DetectorStateName(DetectorState state);

/// The rolling window of anomaly_model_score_p95 and anomaly_rate_5m.
constexpr TimeMs kScoreWindowMs = 5 * kMinuteMs;

/// A loaded, checked model and the bytes it came from (served to the Grafana panel).
struct ActiveModel {
  std::string version;
  std::string path;
  /// The bundle's bytes; null for a per-group model (read from `path` when asked for).
  std::shared_ptr<const std::string> bytes;
  Model model;
  ModelScorer scorer;
  /// Explains the groups whose alert is pending or firing (anomaly_input_contribution).
  std::shared_ptr<const Explainer> explainer;
};

/// One group's attribution of the row it was last scored on (GET
/// /api/v1/detectors/{name}/explain): computed when asked, from the feature vector the cycle
/// kept and the model that scored it.
struct GroupExplanation {
  std::string group;                         ///< group key, e.g. {job="checkout"}
  TimeMs time = 0;                           ///< the row's time (the grid instant scored)
  std::shared_ptr<const ActiveModel> model;  ///< the model that scored the row
  std::vector<double> features;              ///< the feature vector (spec width, unscaled)
  RowExplanation explanation;
};

/// What the HTTP API shows of one detector.
struct DetectorView {
  std::string name;
  std::string models_dir;     ///< models_dir/<name>
  std::string model_version;  ///< empty while warming
  DetectorState state = DetectorState::kWarming;
  std::string reason;  ///< why stale or warming; empty when scored
  size_t groups_scored = 0;
  size_t groups_stale = 0;
  TimeMs last_cycle_ms = 0;  ///< the `now` of the last cycle, 0 before the first
};

struct GroupModelView;
struct GroupModel;

class Daemon {
 public:
  Daemon(Config config, QueryFunction query, std::shared_ptr<ExporterMetrics> metrics,
         Logger logger = Logger());
  ~Daemon();
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  const Config& config() const { return config_; }
  /// The metrics the daemon exports (GET /metrics writes them: WriteMetrics).
  std::shared_ptr<const ExporterMetrics> metrics() const { return metrics_; }
  void SetRangeQuery(RangeQueryFunction range_query) { range_query_ = std::move(range_query); }
  /// The most bytes of new groups' history grid filled at once (in chunks of time beyond it);
  /// tests make it small to fill in many chunks.
  void SetFillGridBytes(size_t bytes) { fill_grid_bytes_ = bytes; }
  size_t size() const { return dets_.size(); }

  /// Looks at every detector's `latest` and loads the bundle it points at when the target
  /// (version, file time, size) changed since the last look, or always with `force` (SIGHUP).
  /// A bundle that fails to load (unreadable, checksum, canaries, inputs that the detector's
  /// queries do not provide) is refused: reload error counted, reason logged, and the previous
  /// model keeps serving. The same refused target is not retried until it changes or `force`.
  void PollReloads(bool force);
  /// PollReloads in two halves, for a daemon whose reloads must not delay scoring: the reading,
  /// decoding and checking of new bundles (one thread at a time, concurrently with RunDue and
  /// RunCycle), and the switch to the models it prepared (on the thread that runs the cycles).
  /// ApplyReloads returns true if a model was switched.
  void PrepareReloads(bool force);
  bool ApplyReloads();

  /// One scoring cycle of detector `index` at time `now` (ms): instant queries at `now`, one
  /// feature vector per group (derived features from `now`), scores and metrics.
  void RunCycle(size_t index, TimeMs now);

  /// Runs the cycle of every detector whose interval has come at `now` (a detector is due at
  /// once after start and after a new model is loaded). Returns when the next one is due.
  TimeMs RunDue(TimeMs now);

  /// True when every detector has a model; otherwise `missing` receives the others' names.
  bool Ready(std::vector<std::string>* missing) const;

  std::vector<DetectorView> Views() const;
  /// Index of the detector called `name`, or -1.
  int Find(const std::string& name) const;
  /// The active model of detector `index`, or null while warming.
  std::shared_ptr<const ActiveModel> Active(size_t index) const;
  /// Explains the row group `group` (its key; empty: the first group) was last scored on.
  /// kBadInput while no row of the detector was scored; kInvalidArgument for a group that the
  /// last cycle did not score. Safe from any thread: it reads the kept vectors under the lock
  /// and explains outside it.
  Result<GroupExplanation> Explain(size_t index, const std::string& group) const;
  /// model: per: group: which model scored each group in the last cycle (null for a detector
  /// without per: group; empty before the first cycle).
  std::shared_ptr<const std::vector<GroupModelView>> GroupModelViews(size_t index) const;
  /// model: per: group: the model that scores group `hash` now (its own, else the pooled one
  /// with the reason in `reason`); null while the detector has no pooled model.
  std::shared_ptr<const ActiveModel> GroupActive(size_t index, uint64_t hash,
                                                 std::string* reason) const;
  /// The candidate of detector `index` and its comparison with the active model (promotion:
  /// manual or gate); kNotFound when it has none.
  Result<CandidateView> Candidate(size_t index) const;

 private:
  struct Group;
  struct Detector;

  struct Prepared;
  void PollReload(Detector& d, bool force);  // prepares; the cycle thread activates
  void Activate(Detector& d, const Prepared& p);
  bool HasActive(const Detector& d) const;
  void ScoreCycle(size_t index, TimeMs now);  // RunCycle, before it hands memory back
  // ScoreCycle's steps (docs/design.md, the scoring cycle), on one cycle's working set.
  struct Cycle;
  struct GroupVec;
  struct HistoryGrid;
  struct CycleCounts;
  bool QueryInputs(Detector& d, Cycle& c);  // 1. false: a query failed, every group stale
  void BuildVectors(const Detector& d, Cycle& c) const;  // 2. one row per group
  bool NewVector(const Detector& d, const prometheus::Labels& sample_labels, GroupVec& v) const;
  uint32_t AddGroup(const Detector& d, Cycle& c, size_t i, const prometheus::Labels& sample_labels,
                    const std::string& key) const;
  void ScoreTemporal(Detector& d, Cycle& c);  // 3. score, with each group's feature stream
  void FetchLookups(Detector& d, Cycle& c, const std::vector<FeatureStream::LookupKey>& keys);
  void FillNewGroups(Detector& d, Cycle& c, const std::vector<FeatureStream::LookupKey>& keys,
                     const std::vector<std::string>& fresh);
  bool FillColumn(Detector& d, const Cycle& c, const std::vector<FeatureStream::LookupKey>& keys,
                  size_t j, HistoryGrid& g);
  void ScoreStreams(Detector& d, Cycle& c);
  void ScoreInstant(Detector& d, Cycle& c);   // 3. score, a model without temporal features
  void PublishGroups(Detector& d, Cycle& c);  // 4. export, alert state, detector state
  void MarkStale(const Detector& d, const std::string& key, const std::string& reason, Group& g,
                 CycleCounts& n);
  void FinishCycle(Detector& d, Cycle& c, size_t scored, size_t stale);
  void Refuse(Detector& d, const std::string& version, const Status& why);
  void SetState(Detector& d, DetectorState state, const std::string& reason);
  void DropGroups(Detector& d);
  // anomaly_input_contribution of the groups whose alert is pending or firing, from this
  // cycle's feature vectors; the other groups' series are removed.
  struct ScoredRows;
  void PublishContributions(Detector& d, const ActiveModel* active, const ScoredRows& rows);
  void RemoveContributions(Group& g);
  // Keeps this cycle's scored feature vectors (time `t`; `scored` groups had a score) for
  // Explain, taking `rows` over; groups scored on an earlier cycle's row keep that row.
  struct LastVectors;
  void KeepVectors(Detector& d, const std::shared_ptr<const ActiveModel>& active, ScoredRows& rows,
                   size_t scored, TimeMs t);
  void PublishWindow(Detector& d, TimeMs now);
  // Exports the group's anomaly_surprise and anomaly_onset; returns the surprise (NaN when the
  // bundle has no calibration) for the alert tracker.
  double PublishSurprise(Group& g, const ActiveModel& active, TimeMs t, double anomaly_score);
  // Champion and challenger (promotion: manual or gate; docs/lifecycle.md).
  struct Challenge;
  // `group_model`: a per-group model (group_models.h), kept lean: no explainer, no trees.
  Result<std::unique_ptr<Prepared>> Load(const DetectorConfig& config, const BundleStore& store,
                                         const std::string& version, const std::string& path,
                                         bool group_model = false) const;
  // model: per: group (group_models.h): set-up, reload, the model of one group this cycle,
  // and the cycle's choices published (gauge and API).
  void SetUpGroupModels(Detector& d);
  void PollGroupModels(Detector& d, bool force);
  const ActiveModel& ModelFor(const Detector& d, const Cycle& c, GroupVec& v) const;
  void PublishGroupModels(Detector& d, const Cycle& c);
  void PollCandidate(Detector& d, bool force);  // prepares, as PollReload
  void ApplyCandidate(Detector& d);             // the cycle thread's half
  void StartChallenge(Detector& d, std::unique_ptr<Prepared> candidate);
  void EndChallenge(Detector& d, const std::string& why);
  void RefuseCandidate(Detector& d, const std::string& version, const std::string& why);
  void ScoreCandidate(Detector& d, const Cycle& c);  // the rows the active model scored
  void FinishChallenge(Detector& d, TimeMs now);     // alert evaluation, metrics, view, gate
  void PublishChallenge(Detector& d, TimeMs now);
  void RunGate(Detector& d, TimeMs now);
  Result<std::vector<PromSeries>> RangeByInstants(const std::string& promql, TimeMs start,
                                                  TimeMs end, TimeMs step) const;

  Config config_;
  QueryFunction query_;
  RangeQueryFunction range_query_;
  size_t fill_grid_bytes_ = size_t{48} << 20;  // FillNewGroups: 48 MB
  std::shared_ptr<ExporterMetrics> metrics_;
  Logger log_;
  // Guards what Views/Ready/Active read (active, state, reason, counts), the models prepared
  // for activation, and the canary gauge (set by both halves of a reload).
  mutable std::mutex mu_;
  std::vector<std::unique_ptr<Detector>> dets_;
};

/// Process-wide, for `serve`: blocks of 256 KiB and up are mapped on their own and go back to
/// the system when freed. glibc's default raises that threshold to the largest block freed so
/// far (up to 32 MiB), after which a cycle's blocks and the /metrics page's chunks stay in the
/// heap and the peak of one cycle or scrape becomes the daemon's size.
void ReturnBigBlocksToTheSystem();

}  // namespace isoscope::native
