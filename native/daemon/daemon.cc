#include "daemon.h"

#include <sys/stat.h>

#ifdef __GLIBC__
#include <malloc.h>
#endif

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <set>
#include <string_view>

#include "alert_tracker.h"
#include "bundle_file.h"
#include "file_io.h"
#include "group_models.h"
#include "isoscope/text.h"
#include "isoscope/threshold.h"
#include "prom_join.h"

namespace isoscope::native {

const char* DetectorStateName(DetectorState state) {
  switch (state) {
    case DetectorState::kWarming:
      return "warming";
    case DetectorState::kScored:
      return "scored";
    case DetectorState::kStale:
      return "stale";
  }
  return "stale";
}

namespace {

constexpr DetectorState kAllStates[] = {DetectorState::kWarming, DetectorState::kScored,
                                        DetectorState::kStale};

double SecondsSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

std::string JoinNames(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

std::string FileKey(const std::string& version, const std::string& path) {
  return BundleFileKey(version, path);
}

}  // namespace

namespace {

// Group keys back to back in one buffer, by index: read front to back when answers come in the
// same order as before, where a string per key would be a pointer chase each.
struct KeyList {
  std::string text;
  std::vector<size_t> end;  // key i is text[end[i - 1], end[i])
  void Add(std::string_view key) {
    text += key;
    end.push_back(text.size());
  }
  size_t size() const { return end.size(); }
  bool empty() const { return end.empty(); }
  std::string_view Key(size_t i) const {
    const size_t begin = i == 0 ? 0 : end[i - 1];
    return std::string_view(text).substr(begin, end[i] - begin);
  }
  // The index of `key` in a list in key order, or size().
  size_t Find(std::string_view key) const {
    size_t lo = 0, hi = size();
    while (lo < hi) {
      const size_t mid = lo + (hi - lo) / 2;
      if (Key(mid) < key) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return lo < size() && Key(lo) == key ? lo : size();
  }
};

// Indices of a KeyList's keys by key: open addressing over the indices, so a cycle's 100,000
// groups cost one block, where a map or hash map of strings made a node and a key each.
class KeyIndex {
 public:
  static constexpr uint32_t kNone = UINT32_MAX;
  uint32_t Find(std::string_view key, const KeyList& keys) const {
    if (slots_.empty()) return kNone;
    const size_t mask = slots_.size() - 1;
    for (size_t s = Hash(key) & mask;; s = (s + 1) & mask) {
      if (slots_[s] == kNone || keys.Key(slots_[s]) == key) return slots_[s];
    }
  }
  // Room for n keys without growing (an empty index only).
  void Reserve(size_t n) {
    size_t size = 16;
    while (size < 2 * n) size *= 2;
    if (count_ == 0 && size > slots_.size()) slots_.assign(size, kNone);
  }
  // Key i of `keys`, which is not in the index yet.
  void Insert(uint32_t i, const KeyList& keys) {
    if ((count_ + 1) * 2 > slots_.size()) Grow(keys);
    Place(i, keys);
    ++count_;
  }

 private:
  static size_t Hash(std::string_view key) { return std::hash<std::string_view>()(key); }
  void Place(uint32_t i, const KeyList& keys) {
    const size_t mask = slots_.size() - 1;
    size_t s = Hash(keys.Key(i)) & mask;
    while (slots_[s] != kNone) s = (s + 1) & mask;
    slots_[s] = i;
  }
  void Grow(const KeyList& keys) {
    std::vector<uint32_t> old(std::max<size_t>(16, slots_.size() * 2), kNone);
    old.swap(slots_);
    for (uint32_t i : old) {
      if (i != kNone) Place(i, keys);
    }
  }
  std::vector<uint32_t> slots_;  // kNone: free
  size_t count_ = 0;
};

}  // namespace

// The feature vectors a cycle scored, in key order: a key list and one block of rows, where a
// map of vectors cost a node, a key and a block per group (three allocations each, 100,000
// groups a cycle).
struct Daemon::ScoredRows {
  size_t width = 0;
  KeyList keys;
  std::vector<uint32_t> group;  // each row's group in the cycle (its index in Daemon::Cycle::vecs)
  std::vector<double> values;   // size() rows of `width`
  size_t size() const { return group.size(); }
  const double* Row(size_t i) const { return values.data() + i * width; }
  void Reserve(size_t rows, size_t key_bytes) {
    keys.text.reserve(key_bytes);
    keys.end.reserve(rows);
    group.reserve(rows);
    values.reserve(rows * width);
  }
  void Append(std::string_view key, uint32_t g, const double* row) {
    keys.Add(key);
    group.push_back(g);
    values.insert(values.end(), row, row + width);
  }
};

struct Daemon::Group {
  // detector + group_by labels, shared with the alert tracker (one copy per group).
  std::shared_ptr<const prometheus::Labels> labels;
  // The group's anomaly_score, anomaly_is_anomaly, anomaly_surprise and anomaly_onset.
  GroupFamilies::Slot slot = GroupFamilies::kNoSlot;
  bool scored = false;                           // anomaly_score is exported
  std::vector<prometheus::Gauge*> contribution;  // per input; only while alerting
  // The calibrated surprise of this group's rows under the model named surprise_version
  // (a new model starts again from its own training scores).
  std::unique_ptr<SurpriseStream> surprise_stream;
  std::string surprise_version;
  TimeMs surprise_time = std::numeric_limits<TimeMs>::min();  // the row last pushed
  double surprise_value = 0;
  double onset_value = 0;
  std::string stale_reason;  // last logged reason, empty when scored

  // Withdraws the group's per-row series (a stale or dropped group exports none).
  void RemoveGauges(ExporterMetrics& m) {
    m.groups.Remove(slot);
    slot = GroupFamilies::kNoSlot;
    scored = false;
    for (prometheus::Gauge* gauge : contribution) m.input_contribution.Remove(gauge);
    contribution.clear();
  }
  void RemoveSurprise(ExporterMetrics& m) {
    m.groups.Clear(slot, GroupFamilies::kSurprise, GroupFamilies::kOnset);
  }
};

// The rows the last cycle scored, by group key, and the model that scored them: what Explain
// reads, replaced whole every cycle. Flat and in key order: a map node, a shared vector and
// its block per group cost three allocations and ~270 bytes each at 100,000 groups.
struct Daemon::LastVectors {
  std::shared_ptr<const ActiveModel> model;
  size_t width = 0;
  KeyList keys;  // in key order, back to back: no string per group
  std::vector<TimeMs> times;
  std::vector<double> values;  // keys.size() rows of `width`

  void Append(std::string_view key, TimeMs t, const double* row) {
    keys.Add(key);
    times.push_back(t);
    values.insert(values.end(), row, row + width);
  }
};

struct Daemon::Prepared {
  std::shared_ptr<const ActiveModel> active;
  std::pair<double, double> thresholds;  // warning, critical, resolved for this model
};

struct Daemon::Detector {
  DetectorConfig config;
  BundleStore store;
  prometheus::Labels labels;  // {detector=name}

  // Written by the cycle thread only; read under mu_ by the HTTP threads.
  std::shared_ptr<const ActiveModel> active;
  DetectorState state = DetectorState::kWarming;
  std::string reason = "no model loaded yet";
  size_t groups_scored = 0;
  size_t groups_stale = 0;
  TimeMs last_cycle_ms = 0;

  // A loaded, checked model waiting for the cycle thread to switch to it (under mu_).
  std::unique_ptr<Prepared> prepared;
  // The last cycle's scored feature vectors (under mu_; replaced by the cycle thread).
  std::shared_ptr<const LastVectors> last;

  // The thread that prepares reloads only.
  std::string latest_key;    // version|mtime|size of the last target looked at
  std::string latest_error;  // last logged problem reading latest

  // Cycle thread only.
  std::string cycle_error;  // last logged query/scoring error of the whole detector
  std::map<std::string, Group> groups;
  // The scores of the last five minutes' cycles (anomaly_model_score_p95, anomaly_rate_5m): a
  // block per cycle with its time once, where an entry of (time, score, flag) per group cost
  // 24 bytes (12 MB at 100,000 groups and five cycles).
  struct WindowCycle {
    TimeMs t = 0;
    size_t anomalies = 0;
    std::vector<double> scores;
  };
  std::deque<WindowCycle> window;
  TimeMs next_due = 0;

  prometheus::Gauge* threshold = nullptr;
  prometheus::Gauge* p95 = nullptr;
  prometheus::Gauge* rate = nullptr;
  prometheus::Gauge* version_ts = nullptr;
  prometheus::Gauge* canary = nullptr;
  prometheus::Gauge* state_gauges[3] = {nullptr, nullptr, nullptr};
  prometheus::Counter* query_errors = nullptr;
  prometheus::Counter* scoring_errors = nullptr;
  prometheus::Counter* reload_errors = nullptr;
  prometheus::Counter* nonfinite = nullptr;
  prometheus::Counter* reloads = nullptr;
  prometheus::Histogram* query_duration = nullptr;
  prometheus::Histogram* scoring_duration = nullptr;
  std::unique_ptr<AlertTracker> alerts;  // anomaly_alert_*: see alert_tracker.h

  // Temporal features: one FeatureStream per group, for the model version in stream_version.
  struct Stream {
    FeatureStream features;
    RowScore last;
    RowProblem last_problem;
  };
  std::map<std::string, Stream> streams;
  std::string stream_version;

  // The last cycle's first answer: per sample position its group's index, the groups' keys
  // and shared labels. A group at the same position with the same key takes its labels again
  // instead of building them (100,000 label maps a cycle).
  struct FirstAnswer {
    KeyList keys;
    std::vector<uint32_t> order;
    std::vector<std::shared_ptr<const prometheus::Labels>> labels;
    std::vector<uint64_t> hashes;  // each group's GroupHash, kept with its labels
    std::vector<uint32_t> sorted;  // the groups' indices in key order
  } first_answer;

  // Champion and challenger (promotion: manual or gate).
  std::unique_ptr<Prepared> prepared_candidate;  // under mu_, as prepared
  bool candidate_gone = false;                   // under mu_: `candidate` was removed
  std::string candidate_key;                     // the thread that prepares reloads only
  std::unique_ptr<Challenge> challenge;          // cycle thread
  std::unique_ptr<Prepared> waiting_candidate;   // cycle thread: no active model to compare yet
  std::shared_ptr<const CandidateView> candidate_view;  // under mu_

  // model: per: group (null otherwise): the groups' own models, the last cycle's choice per
  // group (under mu_) and isoscope_group_models{source="group"|"pooled"}.
  std::unique_ptr<GroupModels> group_models;
  std::shared_ptr<const std::vector<GroupModelView>> group_views;
  prometheus::Gauge* group_source[2] = {nullptr, nullptr};  // group, pooled

  Detector(const DetectorConfig& c, const std::string& models_dir)
      : config(c), store(models_dir, c.name), labels{{"detector", c.name}} {}
};

// A candidate model compared with the active one (cycle thread only): both models' would-be
// behaviour on the same rows since the first cycle that scored both, and the series it exports.
struct Daemon::Challenge {
  std::shared_ptr<const ActiveModel> model;  // the candidate
  std::pair<double, double> thresholds;      // the candidate's, resolved from alerts:
  std::string champion_version;
  TimeMs since = 0;  // 0 until a cycle scores both
  TimeMs now = 0;    // the last cycle
  ModelTally champion, candidate;
  ShadowPager champion_pager, candidate_pager;
  std::map<std::string, std::unique_ptr<SurpriseStream>> surprise;  // the candidate's
  std::map<std::string, prometheus::Gauge*> scores;  // anomaly_candidate_score per group
  GateDecision gate;
  bool decided = false;     // the gate promoted or held: it does not decide again
  std::string write_error;  // the last logged failure to write the comparison file
  prometheus::Gauge* rows = nullptr;
  prometheus::Gauge* pages[2] = {nullptr, nullptr};  // active, candidate
  prometheus::Gauge* rate[2] = {nullptr, nullptr};
  prometheus::Gauge* p50[2] = {nullptr, nullptr};
  prometheus::Gauge* p99[2] = {nullptr, nullptr};
  std::vector<prometheus::Gauge*> gate_gauges;  // one per GateReasons()

  Challenge(const AlertsConfig& alerts, double champion_critical, const Prepared& p,
            std::string champion)
      : model(p.active),
        thresholds(p.thresholds),
        champion_version(std::move(champion)),
        champion_pager(alerts, champion_critical),
        candidate_pager(alerts, p.thresholds.second) {}

  void RemoveGauges(ExporterMetrics& m) {
    for (auto& [key, g] : scores) m.candidate_score.Remove(g);
    scores.clear();
    if (rows != nullptr) m.candidate_rows.Remove(rows);
    for (int r = 0; r < 2; ++r) {
      if (pages[r] != nullptr) m.candidate_pages.Remove(pages[r]);
      if (rate[r] != nullptr) m.candidate_rate.Remove(rate[r]);
      if (p50[r] != nullptr) m.candidate_p50.Remove(p50[r]);
      if (p99[r] != nullptr) m.candidate_p99.Remove(p99[r]);
    }
    for (prometheus::Gauge* g : gate_gauges) m.candidate_gate.Remove(g);
    gate_gauges.clear();
  }
};

Daemon::Daemon(Config config, QueryFunction query, std::shared_ptr<ExporterMetrics> metrics,
               Logger logger)
    : config_(std::move(config)),
      query_(std::move(query)),
      metrics_(std::move(metrics)),
      log_(std::move(logger)) {
  ExporterMetrics& m = *metrics_;
  m.shard_index.Add({}).Set(config_.shard.index);
  m.shard_count.Add({}).Set(config_.shard.count);
  for (const DetectorConfig& c : config_.detectors) {
    auto d = std::make_unique<Detector>(c, config_.models_dir);
    for (DetectorState s : kAllStates) {
      prometheus::Labels l = d->labels;
      l["state"] = DetectorStateName(s);
      d->state_gauges[static_cast<int>(s)] = &m.state.Add(l);
    }
    d->state_gauges[static_cast<int>(DetectorState::kWarming)]->Set(1);
    d->query_errors = &m.query_errors.Add(d->labels);
    d->scoring_errors = &m.scoring_errors.Add(d->labels);
    d->reload_errors = &m.reload_errors.Add(d->labels);
    d->nonfinite = &m.nonfinite_samples.Add(d->labels);
    d->reloads = &m.reloads.Add(d->labels);
    d->query_duration = &m.query_duration.Add(d->labels, ExporterMetrics::DurationBuckets());
    d->scoring_duration = &m.scoring_duration.Add(d->labels, ExporterMetrics::DurationBuckets());
    d->alerts = std::make_unique<AlertTracker>(c, metrics_.get());
    if (c.per_group) SetUpGroupModels(*d);
    dets_.push_back(std::move(d));
  }
}

Daemon::~Daemon() {
  for (auto& d : dets_) {
    if (d->challenge) d->challenge->RemoveGauges(*metrics_);
  }
}

int Daemon::Find(const std::string& name) const {
  for (size_t i = 0; i < dets_.size(); ++i) {
    if (dets_[i]->config.name == name) return static_cast<int>(i);
  }
  return -1;
}

std::shared_ptr<const ActiveModel> Daemon::Active(size_t index) const {
  std::lock_guard<std::mutex> lock(mu_);
  return dets_.at(index)->active;
}

bool Daemon::Ready(std::vector<std::string>* missing) const {
  std::lock_guard<std::mutex> lock(mu_);
  bool ready = true;
  for (const auto& d : dets_) {
    if (!d->active) {
      ready = false;
      if (missing != nullptr) missing->push_back(d->config.name);
    }
  }
  return ready;
}

std::vector<DetectorView> Daemon::Views() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<DetectorView> out;
  for (const auto& d : dets_) {
    DetectorView v;
    v.name = d->config.name;
    v.models_dir = d->store.dir();
    v.model_version = d->active ? d->active->version : "";
    v.state = d->state;
    v.reason = d->reason;
    v.groups_scored = d->groups_scored;
    v.groups_stale = d->groups_stale;
    v.last_cycle_ms = d->last_cycle_ms;
    out.push_back(std::move(v));
  }
  return out;
}

void Daemon::SetState(Detector& d, DetectorState state, const std::string& reason) {
  const bool changed = state != d.state;
  {
    std::lock_guard<std::mutex> lock(mu_);
    d.state = state;
    d.reason = reason;
  }
  for (DetectorState s : kAllStates) {
    d.state_gauges[static_cast<int>(s)]->Set(s == state ? 1 : 0);
  }
  if (changed) {
    LogFields f = {{"detector", d.config.name}, {"state", DetectorStateName(state)}};
    if (!reason.empty()) f.emplace_back("reason", reason);
    if (state == DetectorState::kScored) {
      log_.Info("detector state", f);
    } else {
      log_.Warn("detector state", f);
    }
  }
}

void Daemon::PollReloads(bool force) {
  PrepareReloads(force);
  ApplyReloads();
}

void Daemon::PrepareReloads(bool force) {
  for (auto& d : dets_) {
    PollReload(*d, force);
    PollCandidate(*d, force);
    if (d->group_models) PollGroupModels(*d, force);
  }
}

bool Daemon::ApplyReloads() {
  bool any = false;
  for (auto& d : dets_) {
    std::unique_ptr<Prepared> p;
    {
      std::lock_guard<std::mutex> lock(mu_);
      p = std::move(d->prepared);
    }
    if (p) {
      Activate(*d, *p);
      any = true;
    }
    ApplyCandidate(*d);
  }
  return any;
}

bool Daemon::HasActive(const Detector& d) const {
  std::lock_guard<std::mutex> lock(mu_);
  return d.active != nullptr;
}

void Daemon::Refuse(Detector& d, const std::string& version, const Status& why) {
  d.reload_errors->Increment();
  std::string serving;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (why.code() == ErrorCode::kCanaryMismatch) {
      if (d.canary == nullptr) d.canary = &metrics_->canary_ok.Add(d.labels);
      d.canary->Set(0);
    }
    if (d.active) serving = d.active->version;
  }
  LogFields f = {{"detector", d.config.name}, {"version", version}, {"reason", why.ToString()}};
  if (!serving.empty()) {
    f.emplace_back("serving", serving);
    log_.Error("model refused, keeping the previous one", f);
  } else {
    log_.Error("model refused", f);
  }
}

void Daemon::PollReload(Detector& d, bool force) {
  auto latest = d.store.Latest();
  if (!latest.ok()) {
    const std::string why = latest.status().message();
    struct stat lst {};
    if (why != d.latest_error) {
      d.latest_error = why;
      // `latest` exists but cannot be followed (a target outside the directory, not a
      // symlink): a refused model like any other, counted once per change.
      if (::lstat(d.store.LatestPath().c_str(), &lst) == 0) d.reload_errors->Increment();
      if (HasActive(d)) {
        log_.Warn("cannot read latest, keeping the loaded model",
                  {{"detector", d.config.name}, {"reason", why}});
      } else {
        log_.Warn("no model yet", {{"detector", d.config.name}, {"reason", why}});
      }
    }
    d.latest_key.clear();
    return;
  }
  d.latest_error.clear();
  const std::string& version = *latest;
  const std::string path = d.store.BundlePath(version);
  const std::string key = FileKey(version, path);
  if (key == d.latest_key && !force) return;
  d.latest_key = key;

  auto prepared = Load(d.config, d.store, version, path);
  if (!prepared.ok()) return Refuse(d, version, prepared.status());
  std::lock_guard<std::mutex> lock(mu_);
  d.prepared = std::move(*prepared);  // a newer one replaces one not switched to yet
}

Result<std::unique_ptr<Daemon::Prepared>> Daemon::Load(const DetectorConfig& config,
                                                       const BundleStore& store,
                                                       const std::string& version,
                                                       const std::string& path,
                                                       bool group_model) const {
  // Never blocks and reads at most what the header announces: a FIFO, a device, a symlink
  // out of the directory or a 2 GB file refuse at once instead of stalling every detector.
  auto bytes = store.ReadVersion(version);
  if (!bytes.ok()) return bytes.status();
  auto model = LoadBundleBytes(*bytes, path);
  if (!model.ok()) return model.status();
  // Every input the model needs must be one of the detector's queries.
  std::vector<std::string> absent;
  for (const std::string& input : model->spec.inputs) {
    bool found = false;
    for (const auto& q : config.queries) found = found || q.first == input;
    if (!found) absent.push_back(input);
  }
  if (!absent.empty()) {
    return Status(ErrorCode::kInvalidArgument,
                  "the model needs inputs the detector has no query for: " + JoinNames(absent) +
                      " (retrain after changing queries)");
  }
  auto scorer = ModelScorer::Create(*model);
  if (!scorer.ok()) return scorer.status();
  // Thresholds relative to the model (contamination/2, 1%) are fixed here, once per model.
  auto thresholds = ResolveThresholds(config.alerts, *model);
  if (!thresholds.ok()) return thresholds.status();

  std::shared_ptr<const Explainer> explainer;
  std::shared_ptr<const std::string> kept = std::make_shared<const std::string>(std::move(*bytes));
  if (!group_model) {
    auto e = Explainer::Create(*model);
    if (!e.ok()) return e.status();
    explainer = std::make_shared<const Explainer>(std::move(*e));
  } else {
    // A group's model only scores (explanations and alert thresholds use the pooled model)
    // and a daemon holds thousands: the scorer has the compiled forest, the canaries were
    // checked at decode, and /bundle?group= reads the file again (ActiveModel::bytes null).
    decltype(model->forest.trees)().swap(model->forest.trees);
    decltype(model->canaries)().swap(model->canaries);
    model->quantiles = {};  // thresholds are the pooled model's (resolved above for the log)
    kept.reset();
  }
  auto prepared = std::make_unique<Prepared>();
  prepared->active = std::make_shared<ActiveModel>(ActiveModel{
      version, path, std::move(kept), std::move(*model), std::move(*scorer), std::move(explainer)});
  prepared->thresholds = *thresholds;
  return prepared;
}

void Daemon::Activate(Detector& d, const Prepared& p) {
  const std::shared_ptr<const ActiveModel>& active = p.active;
  const std::string& version = active->version;
  const auto* thresholds = &p.thresholds;
  std::string previous;
  {
    std::lock_guard<std::mutex> lock(mu_);
    previous = d.active ? d.active->version : "";
    d.active = active;
  }
  d.reloads->Increment();
  if (d.threshold == nullptr) d.threshold = &metrics_->threshold.Add(d.labels);
  d.threshold->Set(active->scorer.threshold());
  d.alerts->SetThresholds(thresholds->first, thresholds->second);
  if (d.version_ts != nullptr) metrics_->version_timestamp.Remove(d.version_ts);
  prometheus::Labels vl = d.labels;
  vl["model_version"] = version;
  d.version_ts = &metrics_->version_timestamp.Add(vl);
  d.version_ts->Set(static_cast<double>(active->model.info.created_ms) / 1000.0);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (d.canary == nullptr) d.canary = &metrics_->canary_ok.Add(d.labels);
    d.canary->Set(1);
  }
  // Score with a new model right away; the same model reloaded (SIGHUP) keeps the schedule,
  // so a burst of SIGHUPs does not run extra cycles.
  if (previous != version) d.next_due = 0;
  LogFields f = {{"detector", d.config.name},
                 {"version", version},
                 {"path", active->path},
                 {"warning_threshold", FormatShortest(thresholds->first)},
                 {"critical_threshold", FormatShortest(thresholds->second)}};
  if (!previous.empty()) f.emplace_back("previous", previous);
  log_.Info("model loaded", f);
  if (d.state == DetectorState::kWarming) {
    SetState(d, DetectorState::kStale, "model loaded, not scored yet");
  }
  // A comparison is with one active model: a new one (a promotion, a rollback) starts it again.
  if (d.waiting_candidate) {
    StartChallenge(d, std::move(d.waiting_candidate));
  } else if (previous != version && d.challenge) {
    auto again = std::make_unique<Prepared>();
    again->active = d.challenge->model;
    again->thresholds = d.challenge->thresholds;
    StartChallenge(d, std::move(again));
  }
}

void Daemon::RemoveContributions(Group& g) {
  for (prometheus::Gauge* gauge : g.contribution) metrics_->input_contribution.Remove(gauge);
  g.contribution.clear();
}

void Daemon::PublishContributions(Detector& d, const ActiveModel* active, const ScoredRows& rows) {
  // Only pending or firing groups are explained: quiet groups cost nothing (no search each).
  const std::set<std::string> alerting = d.alerts->Alerting();
  size_t r = 0;
  for (auto& [key, g] : d.groups) {
    if (alerting.count(key) == 0) {
      RemoveContributions(g);
      continue;
    }
    // Both in key order: the row of `key`, if any, is at or after the last one found.
    while (r < rows.size() && rows.keys.Key(r) < key) ++r;
    const bool has_row = r < rows.size() && rows.keys.Key(r) == key;
    // A temporal group whose grid instant was scored in an earlier cycle keeps its values.
    if (!has_row && g.scored) continue;
    if (active == nullptr || !has_row) {
      RemoveContributions(g);
      continue;
    }
    const RowExplanation e = active->explainer->Explain(rows.Row(r));
    const std::vector<std::string>& inputs = active->model.spec.inputs;
    if (!e.ok() || e.per_input.size() != inputs.size()) {
      RemoveContributions(g);
      continue;
    }
    if (g.contribution.size() != inputs.size()) {
      RemoveContributions(g);
      for (const std::string& input : inputs) {
        prometheus::Labels labels = *g.labels;
        labels["input"] = input;
        g.contribution.push_back(&metrics_->input_contribution.Add(labels));
      }
    }
    for (size_t k = 0; k < inputs.size(); ++k) g.contribution[k]->Set(e.per_input[k]);
  }
}

void Daemon::KeepVectors(Detector& d, const std::shared_ptr<const ActiveModel>& active,
                         ScoredRows& rows, size_t scored, TimeMs t) {
  std::shared_ptr<const LastVectors> prev;
  {
    std::lock_guard<std::mutex> lock(mu_);
    prev = d.last;
  }
  const bool same_model = prev && active && prev->model == active;
  auto next = std::make_shared<LastVectors>();
  next->model = active;
  if (rows.size() > 0 && rows.size() == scored) {
    // Every group scored has its row of this cycle (none was scored on an earlier grid
    // instant): the rows are kept as they are, not copied beside them (~8 MB at 100,000).
    next->width = rows.width;
    next->keys = std::move(rows.keys);
    next->values = std::move(rows.values);
    next->times.assign(next->keys.size(), t);
    std::lock_guard<std::mutex> lock(mu_);
    d.last = std::move(next);
    return;
  }
  next->width = rows.size() > 0 ? rows.width : same_model ? prev->width : 0;
  next->keys.end.reserve(d.groups.size());
  next->times.reserve(d.groups.size());
  next->values.reserve(d.groups.size() * next->width);
  // This cycle's rows and, for groups scored on an earlier cycle's grid instant, the row kept
  // from then: every list in key order, merged in one walk.
  size_t v = 0, p = 0;
  for (const auto& [key, g] : d.groups) {
    for (; v < rows.size() && rows.keys.Key(v) < key; ++v) {
      next->Append(rows.keys.Key(v), t, rows.Row(v));
    }
    if (v < rows.size() && rows.keys.Key(v) == key) {
      next->Append(key, t, rows.Row(v++));
      continue;
    }
    if (!same_model || !g.scored) continue;
    while (p < prev->keys.size() && prev->keys.Key(p) < key) ++p;
    if (p < prev->keys.size() && prev->keys.Key(p) == key) {
      next->Append(key, prev->times[p], prev->values.data() + p * prev->width);
    }
  }
  for (; v < rows.size(); ++v) next->Append(rows.keys.Key(v), t, rows.Row(v));
  if (!active) next.reset();
  std::lock_guard<std::mutex> lock(mu_);
  d.last = std::move(next);
}

Result<GroupExplanation> Daemon::Explain(size_t index, const std::string& group) const {
  std::shared_ptr<const LastVectors> last;
  {
    std::lock_guard<std::mutex> lock(mu_);
    last = dets_.at(index)->last;
  }
  if (!last || last->keys.empty()) {
    return Status(ErrorCode::kUnavailable, "no group of detector " + dets_.at(index)->config.name +
                                               " was scored in the last cycle");
  }
  const size_t i = group.empty() ? 0 : last->keys.Find(group);
  if (i == last->keys.size()) {
    return Status(ErrorCode::kNotFound,
                  "group " + group + " was not scored in the last cycle (stale, warming, unknown)");
  }
  GroupExplanation out;
  out.group = std::string(last->keys.Key(i));
  out.time = last->times[i];
  out.model = last->model;
  const double* row = last->values.data() + i * last->width;
  out.features.assign(row, row + last->width);
  out.explanation = last->model->explainer->Explain(out.features.data());
  if (!out.explanation.ok()) {
    return Status(ErrorCode::kUnavailable, std::string("the row cannot be explained: ") +
                                               RowIssueName(out.explanation.issue));
  }
  return out;
}

void Daemon::DropGroups(Detector& d) {
  for (auto& [key, g] : d.groups) g.RemoveGauges(*metrics_);
  d.groups.clear();
}

double Daemon::PublishSurprise(Group& g, const ActiveModel& active, TimeMs t,
                               double anomaly_score) {
  if (active.model.calibration.count == 0) {  // a bundle older than format 1.3
    g.RemoveSurprise(*metrics_);
    return std::numeric_limits<double>::quiet_NaN();
  }
  if (!g.surprise_stream || g.surprise_version != active.version) {
    g.surprise_stream = std::make_unique<SurpriseStream>(active.model.calibration);
    g.surprise_version = active.version;
    g.surprise_time = std::numeric_limits<TimeMs>::min();
  }
  // A grid instant scored in an earlier cycle is published again, not counted twice.
  if (t != g.surprise_time) {
    g.surprise_value = g.surprise_stream->Push(anomaly_score);
    g.onset_value = g.surprise_stream->onset();
    g.surprise_time = t;
  }
  metrics_->groups.Set(g.slot, GroupFamilies::kSurprise, g.surprise_value, GroupFamilies::kOnset,
                       g.onset_value);
  return g.surprise_value;
}

void Daemon::PublishWindow(Detector& d, TimeMs now) {
  while (!d.window.empty() && d.window.front().t <= now - kScoreWindowMs) d.window.pop_front();
  if (d.window.empty()) {
    if (d.p95 != nullptr) metrics_->score_p95.Remove(d.p95);
    if (d.rate != nullptr) metrics_->rate_5m.Remove(d.rate);
    d.p95 = nullptr;
    d.rate = nullptr;
    return;
  }
  std::vector<double> scores;
  size_t anomalies = 0;
  for (const auto& w : d.window) {
    scores.insert(scores.end(), w.scores.begin(), w.scores.end());
    anomalies += w.anomalies;
  }
  if (d.p95 == nullptr) d.p95 = &metrics_->score_p95.Add(d.labels);
  if (d.rate == nullptr) d.rate = &metrics_->rate_5m.Add(d.labels);
  // numpy's "linear", as the core's threshold. PercentileLinear reads the order statistics lo
  // and lo + 1 only (q < 100): those two are put in place, not the whole window sorted
  // (500,000 scores at 100,000 groups and 5 cycles).
  const double virtual_index = static_cast<double>(scores.size() - 1) * (95 / 100.0);
  const auto lo = scores.begin() + static_cast<ptrdiff_t>(std::floor(virtual_index));
  std::nth_element(scores.begin(), lo, scores.end());
  if (lo + 1 < scores.end()) std::iter_swap(lo + 1, std::min_element(lo + 1, scores.end()));
  d.p95->Set(PercentileLinear(scores, 95));
  d.rate->Set(static_cast<double>(anomalies) / static_cast<double>(scores.size()));
}

void Daemon::RunCycle(size_t index, TimeMs now) {
  ScoreCycle(index, now);
#ifdef __GLIBC__
  // A cycle's query answers and rows (tens of MB at 10,000 groups) are freed by now; glibc
  // keeps such memory for reuse, which would make the transient the daemon's size for good.
  malloc_trim(0);
#endif
}

// A group's row of this cycle: its labels, why it is not scored, and its score (the inputs'
// values are in the cycle's flat block).
struct Daemon::GroupVec {
  std::shared_ptr<const prometheus::Labels> labels;
  uint32_t index = 0;  // in the cycle's vecs, its values, look-ups and keys
  bool has_score = false;
  RowScore score;
  std::string reason;
  uint64_t hash = 0;                   // GroupHash of labels (sharded or per: group)
  const ActiveModel* model = nullptr;  // the model that scored it (per: group)
  std::string pooled_reason;           // per: group: why the pooled model scored it
};

// One scoring cycle's working set, handed from step to step of ScoreCycle.
struct Daemon::Cycle {
  TimeMs now = 0;
  TimeMs t_eval = 0;  // the rows' time: `now`, or the latest step-grid instant (temporal)
  std::shared_ptr<const ActiveModel> active;
  std::vector<std::pair<size_t, std::vector<PromSample>>> results;  // (input index, samples)
  // The groups by index, in the order they appeared, their keys back to back in one buffer
  // and indexed by key, and per sample of the first query its group's index (kNoIndex: another
  // replica's). The other queries, look-ups included, usually answer in the same order, so
  // their sample i is checked against that group first, in memory read front to back. Flat:
  // a map of groups by key cost a node and a key per group and cycle.
  static constexpr uint32_t kNoIndex = KeyIndex::kNone;
  std::vector<GroupVec> vecs;
  KeyList keys;
  KeyIndex index;
  std::vector<uint32_t> order;
  // vecs' indices in key order, once every input has answered (SortByKey): the detector's
  // groups, streams and alerts are keyed maps, walked side by side with it.
  std::vector<uint32_t> sorted;
  std::set<std::string, std::less<>> other_shards;  // groups another replica scores
  // Per group (by index) the inputs' values and whether each input's query has answered: one
  // block each, not two small vectors per group.
  size_t n_inputs = 0;
  std::vector<double> values;
  std::vector<uint8_t> seen;
  double* Values(uint32_t i) { return values.data() + size_t{i} * n_inputs; }
  // Temporal models: per group (by index) the look-up keys' values at t - lag.
  size_t n_lookups = 0;
  std::vector<double> lookups;
  // Frees what was built per group once the groups are published: the rows for /explain are
  // made next, and this cycle's working set would otherwise stack on them (~60 MB at 100,000
  // groups). The scored feature vectors stay (contributions, /explain).
  void ReleaseGroups() {
    decltype(vecs)().swap(vecs);
    decltype(sorted)().swap(sorted);
    keys = KeyList();
    index = KeyIndex();
    decltype(order)().swap(order);
    decltype(values)().swap(values);
    decltype(seen)().swap(seen);
    decltype(lookups)().swap(lookups);
  }
  std::string_view Key(uint32_t i) const { return keys.Key(i); }
  // Room for as many groups as the last cycle had: blocks for 100,000 groups are not grown by
  // doubling (the old and the new block alive at once, the cycle's peak).
  void Reserve(size_t groups, size_t key_bytes) {
    vecs.reserve(groups);
    keys.text.reserve(key_bytes);
    keys.end.reserve(groups);
    index.Reserve(groups);
    order.reserve(groups);
    values.reserve(groups * n_inputs);
    seen.reserve(groups * n_inputs);
  }
  // `sorted`: the last cycle's order when the groups came in the same order (usually), else
  // sorted afresh.
  void SortByKey(const KeyList& last_keys, const std::vector<uint32_t>& last_sorted) {
    if (keys.end == last_keys.end && keys.text == last_keys.text) {
      sorted = last_sorted;
      return;
    }
    sorted.resize(vecs.size());
    for (uint32_t i = 0; i < sorted.size(); ++i) sorted[i] = i;
    std::sort(sorted.begin(), sorted.end(),
              [this](uint32_t a, uint32_t b) { return Key(a) < Key(b); });
  }
  ScoredRows rows;  // the scored feature vectors, kept after ReleaseGroups
  std::shared_ptr<const GroupModelMap> group_models;  // per: group: this cycle's models
  const FeatureSpec& spec() const { return active->model.spec; }
};

// New groups' history: per group a flat grid of n_rows rows (first, first + step, ...), each
// the inputs then the look-ups.
struct Daemon::HistoryGrid {
  size_t n_rows = 0;
  size_t n_inputs = 0;
  size_t n_columns = 0;
  TimeMs first = 0;
  std::map<std::string, std::vector<double>> cells;
};

// A cycle's groups by outcome, and the first stale group's reason (the detector's state).
struct Daemon::CycleCounts {
  size_t scored = 0;
  size_t stale = 0;
  size_t warming = 0;  // unscored only because temporal features lack history yet
  std::string first_reason;
};

namespace {

// The group of the i-th sample when it is the i-th of the first query's too (queries usually
// answer in the same order), else null: one comparison instead of a search.
template <typename Cycle>
uint32_t OrderedGuess(const Cycle& c, size_t i, const std::string& key) {
  if (i < c.order.size() && c.order[i] != Cycle::kNoIndex && c.Key(c.order[i]) == key) {
    return c.order[i];
  }
  return Cycle::kNoIndex;
}

// The PromQL of the model's input `input`, or null when the detector has no query for it.
const std::string* PromqlOf(const DetectorConfig& config, const FeatureSpec& spec, int32_t input) {
  for (const auto& [name, promql] : config.queries) {
    if (name == spec.inputs[static_cast<size_t>(input)]) return &promql;
  }
  return nullptr;
}

}  // namespace

void Daemon::ScoreCycle(size_t index, TimeMs now) {
  Detector& d = *dets_.at(index);
  Cycle c;
  c.now = now;
  c.t_eval = now;
  c.active = d.active;  // written by this thread only
  if (d.group_models) c.group_models = d.group_models->Snapshot();
  if (!c.active) {
    DropGroups(d);
    SetState(d, DetectorState::kWarming, "no model loaded yet");
    PublishWindow(d, now);
    FinishCycle(d, c, 0, 0);
    return;
  }
  const FeatureSpec& spec = c.spec();
  c.n_inputs = spec.inputs.size();
  // A model with temporal features sees rows on its training step grid, as the range queries
  // of training did: the cycle evaluates at the latest grid instant.
  if (spec.has_temporal()) c.t_eval = now - (((now % spec.step_ms) + spec.step_ms) % spec.step_ms);
  c.Reserve(d.first_answer.keys.size(), d.first_answer.keys.text.size());
  if (!QueryInputs(d, c)) return;  // 1. any failure makes every group stale
  BuildVectors(d, c);              // 2. one feature vector per group
  c.SortByKey(d.first_answer.keys, d.first_answer.sorted);
  const auto t0 = std::chrono::steady_clock::now();
  if (spec.has_temporal()) {  // 3. score
    ScoreTemporal(d, c);
  } else {
    ScoreInstant(d, c);
  }
  d.scoring_duration->Observe(SecondsSince(t0));
  if (d.group_models) PublishGroupModels(d, c);  // which model scored which group
  PublishGroups(d, c);  // 4. scores for scored groups, nothing for stale ones
}

void Daemon::FinishCycle(Detector& d, Cycle& c, size_t scored, size_t stale) {
  d.alerts->Evaluate(c.now);  // every path of a cycle ends here: one rule evaluation
  if (d.challenge) FinishChallenge(d, c.now);
  PublishContributions(d, c.active.get(), c.rows);
  KeepVectors(d, c.active, c.rows, scored, c.t_eval);
  std::lock_guard<std::mutex> lock(mu_);
  d.groups_scored = scored;
  d.groups_stale = stale;
  d.last_cycle_ms = c.now;
}

bool Daemon::QueryInputs(Detector& d, Cycle& c) {
  const FeatureSpec& spec = c.spec();
  for (const auto& [name, promql] : d.config.queries) {
    const auto it = std::find(spec.inputs.begin(), spec.inputs.end(), name);
    if (it == spec.inputs.end()) continue;  // a query the model does not use
    const auto t0 = std::chrono::steady_clock::now();
    auto r = query_(promql, c.t_eval);
    d.query_duration->Observe(SecondsSince(t0));
    if (!r.ok()) {
      d.query_errors->Increment();
      const std::string why = "query " + name + " failed: " + r.status().message();
      if (why != d.cycle_error) {
        d.cycle_error = why;
        log_.Error(
            "query failed, groups stale",
            {{"detector", d.config.name}, {"query", name}, {"reason", r.status().message()}});
      }
      const size_t stale = d.groups.size();
      DropGroups(d);
      SetState(d, DetectorState::kStale, why);
      PublishWindow(d, c.now);
      FinishCycle(d, c, 0, stale);
      return false;
    }
    size_t nonfinite = 0;
    for (const PromSample& smp : *r) nonfinite += std::isfinite(smp.value) ? 0 : 1;
    if (nonfinite > 0) d.nonfinite->Increment(static_cast<double>(nonfinite));
    c.results.emplace_back(static_cast<size_t>(it - spec.inputs.begin()), std::move(*r));
    // Into the groups' rows at once and freed: one answer alive at a time, not every input's
    // (about 17 MB each at 100,000 groups).
    BuildVectors(d, c);
  }
  if (!d.cycle_error.empty()) {
    log_.Info("queries recovered", {{"detector", d.config.name}});
    d.cycle_error.clear();
  }
  return true;
}

// A new group's vector: its labels (with the shard's), NaN values, and the reason it cannot be
// scored when a label value is not UTF-8. False: another replica's group.
bool Daemon::NewVector(const Detector& d, const prometheus::Labels& sample_labels,
                       GroupVec& v) const {
  const Shard& shard = config_.shard;
  // A new group; a group found where it was in the last first answer already has its labels
  // and hash (this replica's then and now).
  if (!v.labels) {
    prometheus::Labels labels = d.labels;
    for (const std::string& l : d.config.group_by) {
      auto f = sample_labels.find(l);
      labels.emplace(l, f == sample_labels.end() ? "" : f->second);
    }
    if (shard.configured || d.group_models) v.hash = GroupHash(labels);
    if (shard.configured) {
      if (!shard.Owns(v.hash)) return false;
      labels.emplace("shard", shard.Label());
    }
    v.labels = std::make_shared<const prometheus::Labels>(std::move(labels));
  }
  // Label values become exposition text, which must be UTF-8: such a group is stale.
  for (const auto& [name, value] : *v.labels) {
    if (v.reason.empty() && !IsValidUtf8(value)) {
      v.reason =
          "label " + name + " has a value that is not valid UTF-8: '" + EscapeBytes(value) + "'";
    }
  }
  return true;
}

// A group new this cycle, found at position `i` of the first answer (SIZE_MAX: in a later
// one): its index, or kNoIndex for another replica's group.
uint32_t Daemon::AddGroup(const Detector& d, Cycle& c, size_t i,
                          const prometheus::Labels& sample_labels, const std::string& key) const {
  GroupVec fresh;
  const Detector::FirstAnswer& last = d.first_answer;  // the group at this position then
  if (i < last.order.size() && last.order[i] != Cycle::kNoIndex &&
      last.keys.Key(last.order[i]) == key) {
    fresh.labels = last.labels[last.order[i]];
    fresh.hash = last.hashes[last.order[i]];
  }
  if (!NewVector(d, sample_labels, fresh)) {
    c.other_shards.emplace(key);
    return Cycle::kNoIndex;
  }
  fresh.index = static_cast<uint32_t>(c.vecs.size());
  c.values.resize(c.values.size() + c.n_inputs, std::numeric_limits<double>::quiet_NaN());
  c.seen.resize(c.values.size(), 0);
  c.vecs.push_back(std::move(fresh));
  c.keys.Add(key);
  c.index.Insert(c.vecs.back().index, c.keys);
  return c.vecs.back().index;
}

void Daemon::BuildVectors(const Detector& d, Cycle& c) const {
  const FeatureSpec& spec = c.spec();
  std::string key;  // one buffer for every sample's key
  for (size_t r = 0; r < c.results.size(); ++r) {
    const bool first = r == 0 && c.order.empty() && c.vecs.empty();  // the first answer
    const auto& [input, samples] = c.results[r];
    for (size_t i = 0; i < samples.size(); ++i) {
      const PromSample& s = samples[i];
      GroupKeyInto(s.labels, d.config.group_by, key);
      uint32_t found = OrderedGuess(c, i, key);
      if (found == Cycle::kNoIndex && c.other_shards.count(key) == 0) {
        found = c.index.Find(key, c.keys);
        if (found == Cycle::kNoIndex) found = AddGroup(d, c, first ? i : SIZE_MAX, s.labels, key);
      }
      // One entry per sample, so that position i stays sample i.
      if (first) c.order.push_back(found);
      if (found == Cycle::kNoIndex) continue;  // another replica's group
      GroupVec& v = c.vecs[found];
      uint8_t& seen = c.seen[size_t{v.index} * c.n_inputs + input];
      if (seen != 0 && v.reason.empty()) {
        v.reason = "query " + spec.inputs[input] + " returned several series for group " + key +
                   "; aggregate it, e.g. sum by (" + JoinNames(d.config.group_by) + ") (...)";
      }
      seen = 1;
      c.Values(v.index)[input] = s.value;
    }
  }
  std::vector<std::pair<size_t, std::vector<PromSample>>>().swap(c.results);  // all in vecs now
}

void Daemon::ScoreTemporal(Detector& d, Cycle& c) {
  if (d.stream_version != c.active->version) {  // a new model: new windows, refilled below
    d.streams.clear();
    d.stream_version = c.active->version;
  }
  // Both in key order: one walk, not a search per group.
  size_t v = 0;
  for (auto it = d.streams.begin(); it != d.streams.end();) {
    while (v < c.sorted.size() && c.Key(c.sorted[v]) < it->first) ++v;
    const bool gone = v == c.sorted.size() || c.Key(c.sorted[v]) != it->first;
    it = gone ? d.streams.erase(it) : std::next(it);
  }
  auto proto = FeatureStream::Create(c.spec(), /*external_lookups=*/true);
  if (!proto.ok()) {
    for (GroupVec& g : c.vecs) g.reason = "cannot build features: " + proto.status().message();
    return;
  }
  const std::vector<FeatureStream::LookupKey> keys = proto->LookupKeys();
  FetchLookups(d, c, keys);
  std::vector<std::string> fresh;
  auto st = d.streams.begin();
  for (uint32_t i : c.sorted) {
    const std::string_view key = c.Key(i);
    while (st != d.streams.end() && st->first < key) ++st;
    if (c.vecs[i].reason.empty() && (st == d.streams.end() || st->first != key)) {
      fresh.emplace_back(key);
      st = std::next(
          d.streams.emplace_hint(st, fresh.back(), Detector::Stream{proto->Fresh(), {}, {}}));
    }
  }
  if (!fresh.empty()) FillNewGroups(d, c, keys, fresh);
  ScoreStreams(d, c);
  decltype(c.lookups)().swap(c.lookups);  // read: its room serves the publishing that follows
}

// Look-ups (delta, seasonal_diff, lag) come from Prometheus at t - lag, so a group needs no week
// of history in memory: a failed look-up only leaves its groups warming.
void Daemon::FetchLookups(Detector& d, Cycle& c,
                          const std::vector<FeatureStream::LookupKey>& keys) {
  // Straight into one flat block, a row of keys.size() per group: no map per key (100,000
  // groups x 9 keys a cycle). A sample is first checked against the group at its position in
  // the first query's answer; only answers in another order are hashed by key.
  const size_t n = c.vecs.size();
  c.n_lookups = keys.size();
  c.lookups.assign(n * keys.size(), std::numeric_limits<double>::quiet_NaN());
  std::string key;
  for (size_t k = 0; k < keys.size(); ++k) {
    const std::string* promql = PromqlOf(d.config, c.spec(), keys[k].input);
    if (promql == nullptr) continue;
    auto r = query_(*promql, c.t_eval - keys[k].lag_ms);
    if (!r.ok()) {
      d.query_errors->Increment();
      continue;
    }
    for (size_t i = 0; i < r->size(); ++i) {
      const PromSample& smp = (*r)[i];
      GroupKeyInto(smp.labels, d.config.group_by, key);
      uint32_t index = OrderedGuess(c, i, key);
      if (index == Cycle::kNoIndex) index = c.index.Find(key, c.keys);
      if (index == Cycle::kNoIndex) continue;  // not a group of this cycle
      c.lookups[index * keys.size() + k] = smp.value;
    }
  }
}

// New groups: their windows filled with one range query per input over the longest window, and
// one per look-up key shifted by its lag (smoothed seasonal baselines average the look-ups of
// the window's rows too). The grid of rows is filled in chunks of time of at most
// fill_grid_bytes_ (48 MB): 100,000 new groups x 12 columns x 30 rows would be 288 MB at once, the
// start-up's peak; per chunk the queries cover its rows only (the same points, more queries).
void Daemon::FillNewGroups(Detector& d, Cycle& c, const std::vector<FeatureStream::LookupKey>& keys,
                           const std::vector<std::string>& fresh) {
  const FeatureSpec& spec = c.spec();
  TimeMs window = 0;
  bool fill_lookups = false;
  for (const DerivedFeature& f : spec.derived) {
    window = std::max(window, f.in_memory_ms());
    fill_lookups =
        fill_lookups || (f.kind == DerivedFeature::Kind::kSeasonalMedianDiff && f.smooth_ms > 0);
  }
  if (window <= 0) return;
  const size_t total_rows = static_cast<size_t>(window / spec.step_ms);
  HistoryGrid g;
  g.n_inputs = spec.inputs.size();
  g.n_columns = g.n_inputs + (fill_lookups ? keys.size() : 0);
  const size_t row_bytes = std::max<size_t>(fresh.size() * g.n_columns * sizeof(double), 1);
  const size_t chunk_rows = std::max<size_t>(std::min(fill_grid_bytes_ / row_bytes, total_rows), 1);
  std::vector<double> scratch(spec.width());
  auto push = [&] {  // the chunk's rows into each new group's stream, in time order
    for (auto& [key, cells] : g.cells) {
      if (cells.empty()) continue;
      FeatureStream& fs = d.streams.at(key).features;
      for (size_t row = 0; row < g.n_rows; ++row) {
        const double* values = cells.data() + row * g.n_columns;
        bool any = false;  // a row no query had stays out, as before: not a missing row
        for (size_t j = 0; j < g.n_columns; ++j) any = any || !std::isnan(values[j]);
        if (!any) continue;
        fs.Push(g.first + static_cast<TimeMs>(row) * spec.step_ms, values, scratch.data(),
                fill_lookups ? values + g.n_inputs : nullptr);
      }
      std::vector<double>().swap(cells);
    }
  };
  const TimeMs start = c.t_eval - static_cast<TimeMs>(total_rows) * spec.step_ms;
  for (size_t done = 0; done < total_rows; done += chunk_rows) {
    g.first = start + static_cast<TimeMs>(done) * spec.step_ms;
    g.n_rows = std::min(chunk_rows, total_rows - done);
    g.cells.clear();
    for (const std::string& key : fresh) g.cells[key];
    bool filled = true;
    for (size_t j = 0; j < g.n_columns && filled; ++j) filled = FillColumn(d, c, keys, j, g);
    push();
    if (!filled) break;  // logged; the new groups warm up as data arrives
  }
}

// Column j of the new groups' grid (an input, or a look-up key at its lag) from one range query.
// Per new group, a grid of the chunk's rows first, first + step, ..., each the inputs then the
// look-ups: flat, so 10,000 new groups cost one block each, not a map of rows. False: the query
// failed (logged; the new groups warm up as data arrives).
bool Daemon::FillColumn(Detector& d, const Cycle& c,
                        const std::vector<FeatureStream::LookupKey>& keys, size_t j,
                        HistoryGrid& g) {
  const FeatureSpec& spec = c.spec();
  const TimeMs step = spec.step_ms;
  const bool is_lookup = j >= g.n_inputs;
  const int32_t input = is_lookup ? keys[j - g.n_inputs].input : static_cast<int32_t>(j);
  const TimeMs lag = is_lookup ? keys[j - g.n_inputs].lag_ms : 0;
  const std::string* promql = PromqlOf(d.config, spec, input);
  if (promql == nullptr) return true;
  const TimeMs end = g.first + static_cast<TimeMs>(g.n_rows) * step;  // the chunk's rows: < end
  const TimeMs from = g.first - lag, to = end - step - lag;
  auto r = range_query_ ? range_query_(*promql, from, to, step)
                        : RangeByInstants(*promql, from, to, step);
  if (!r.ok()) {
    d.query_errors->Increment();
    log_.Warn("history fill failed; the new groups warm up as data arrives",
              {{"detector", d.config.name}, {"reason", r.status().message()}});
    return false;
  }
  for (const PromSeries& series : *r) {
    auto cell = g.cells.find(GroupKey(series.labels, d.config.group_by));
    if (cell == g.cells.end()) continue;  // not a new group of this replica
    if (cell->second.empty()) {
      cell->second.assign(g.n_rows * g.n_columns, std::numeric_limits<double>::quiet_NaN());
    }
    for (size_t i = 0; i < series.times.size(); ++i) {
      const TimeMs t = series.times[i] + lag;
      if (t < g.first || t >= end || (t - g.first) % step != 0) continue;
      cell->second[static_cast<size_t>((t - g.first) / step) * g.n_columns + j] = series.values[i];
    }
  }
  return true;
}

// Each group's stream takes this cycle's row once per grid instant and scores it.
void Daemon::ScoreStreams(Detector& d, Cycle& c) {
  const FeatureSpec& spec = c.spec();
  std::vector<double> out(spec.width());
  c.rows.width = spec.width();
  c.rows.Reserve(c.vecs.size(), c.keys.text.size());
  auto it = d.streams.begin();  // both in key order: walked together
  for (uint32_t i : c.sorted) {
    GroupVec& v = c.vecs[i];
    const std::string_view key = c.Key(i);
    if (!v.reason.empty()) continue;
    while (it != d.streams.end() && it->first < key) ++it;
    if (it == d.streams.end() || it->first != key) continue;  // none: ScoreTemporal makes one
    Detector::Stream& st = it->second;
    const ActiveModel& model = ModelFor(d, c, v);
    if (st.features.last_time() >= c.t_eval) {  // this grid instant is scored already
      if (st.last_problem.issue == RowIssue::kNone) {
        v.score = st.last;
        v.has_score = true;
      } else {
        v.reason = FeatureRows::Describe(st.last_problem, spec);
      }
      continue;
    }
    const double* lookups = c.n_lookups == 0 ? nullptr : c.lookups.data() + v.index * c.n_lookups;
    st.last_problem = st.features.Push(c.t_eval, c.Values(v.index), out.data(), lookups);
    if (st.last_problem.issue != RowIssue::kNone) {
      v.reason = FeatureRows::Describe(st.last_problem, spec);
      continue;
    }
    st.last = model.scorer.ScoreFeatures(out.data());
    if (!st.last.ok()) {
      st.last_problem = {st.last.issue, st.last.column};
      v.reason = std::string("no score: ") + RowIssueName(st.last.issue);
      continue;
    }
    v.score = st.last;
    v.has_score = true;
    c.rows.Append(key, v.index, out.data());  // in key order: appended at the end
  }
}

void Daemon::ScoreInstant(Detector& d, Cycle& c) {
  const FeatureSpec& spec = c.spec();
  c.rows.width = spec.width();
  c.rows.Reserve(c.vecs.size(), c.keys.text.size());
  for (uint32_t i : c.sorted) {
    GroupVec& v = c.vecs[i];
    if (!v.reason.empty()) continue;
    std::vector<const double*> series;
    for (size_t j = 0; j < c.n_inputs; ++j) series.push_back(c.Values(v.index) + j);
    auto rows = BuildFeatureRows(spec, &c.now, series, 1);
    if (!rows.ok()) {
      d.scoring_errors->Increment();
      v.reason = "cannot build features: " + rows.status().message();
      continue;
    }
    if (rows->problems[0].issue != RowIssue::kNone) {
      v.reason = FeatureRows::Describe(rows->problems[0], spec);
      continue;
    }
    const std::vector<RowScore> s = ModelFor(d, c, v).scorer.ScoreRows(*rows);
    if (s.empty() || !s[0].ok()) {
      v.reason = s.empty() ? "no score" : std::string("no score: ") + RowIssueName(s[0].issue);
      continue;
    }
    v.score = s[0];
    v.has_score = true;
    c.rows.Append(c.Key(i), v.index, rows->values.data());  // in key order: appended
  }
}

void Daemon::PublishGroups(Detector& d, Cycle& c) {
  // d.groups and c.sorted are both in key order: walked together, no search per group.
  size_t v = 0;
  for (auto it = d.groups.begin(); it != d.groups.end();) {
    while (v < c.sorted.size() && c.Key(c.sorted[v]) < it->first) ++v;
    if (v == c.sorted.size() || c.Key(c.sorted[v]) != it->first) {  // no query returns it now
      it->second.RemoveGauges(*metrics_);
      log_.Info("group gone", {{"detector", d.config.name}, {"group", it->first}});
      it = d.groups.erase(it);
    } else {
      ++it;
    }
  }
  CycleCounts n;
  Detector::WindowCycle window{c.now, 0, {}};
  window.scores.reserve(c.vecs.size());
  auto git = d.groups.begin();
  for (uint32_t i : c.sorted) {
    const GroupVec& v = c.vecs[i];
    while (git != d.groups.end() && git->first < c.Key(i)) ++git;
    if (git == d.groups.end() || git->first != c.Key(i)) {
      git = d.groups.try_emplace(git, std::string(c.Key(i)));
      git->second.labels = v.labels;
    }
    const std::string& key = git->first;
    Group& g = git->second;
    if (!v.has_score) {
      MarkStale(d, key, v.reason, g, n);
      continue;
    }
    ++n.scored;
    if (!g.stale_reason.empty()) {
      log_.Info("group scored again", {{"detector", d.config.name}, {"group", key}});
      g.stale_reason.clear();
    }
    if (g.slot == GroupFamilies::kNoSlot) g.slot = metrics_->groups.Add(*g.labels);
    g.scored = true;
    metrics_->groups.Set(g.slot, GroupFamilies::kScore, v.score.anomaly_score,
                         GroupFamilies::kIsAnomaly, v.score.is_anomaly ? 1 : 0);
    const ActiveModel& scored_by = v.model != nullptr ? *v.model : *c.active;
    const double surprise = PublishSurprise(g, scored_by, c.t_eval, v.score.anomaly_score);
    window.scores.push_back(v.score.anomaly_score);
    window.anomalies += v.score.is_anomaly ? 1 : 0;
    d.alerts->Observe(key, g.labels, c.now, v.score.anomaly_score, surprise);
  }
  if (!window.scores.empty()) d.window.push_back(std::move(window));
  if (d.challenge) ScoreCandidate(d, c);
  PublishWindow(d, c.now);
  if (c.vecs.empty() && c.other_shards.empty()) {
    SetState(d, DetectorState::kStale, "the queries returned no series");
  } else if (n.stale > 0 && n.warming == n.stale) {
    SetState(d, DetectorState::kWarming, n.first_reason);
  } else if (n.stale > 0) {
    SetState(d, DetectorState::kStale, n.first_reason);
  } else {
    SetState(d, DetectorState::kScored, "");
  }
  Detector::FirstAnswer& first = d.first_answer;  // for the next cycle's labels
  first.keys = std::move(c.keys);
  first.order = std::move(c.order);
  first.sorted = std::move(c.sorted);
  first.labels.clear();
  first.hashes.clear();
  for (const GroupVec& g : c.vecs) {
    first.labels.push_back(g.labels);
    first.hashes.push_back(g.hash);
  }
  c.ReleaseGroups();
  FinishCycle(d, c, n.scored, n.stale);
}

// A group without a score this cycle: no series, the reason logged once and counted.
void Daemon::MarkStale(const Detector& d, const std::string& key, const std::string& reason,
                       Group& g, CycleCounts& n) {
  ++n.stale;
  // Bytes that are not UTF-8 reach logs and the JSON API escaped.
  const std::string shown = IsValidUtf8(key) ? key : EscapeBytes(key);
  if (n.first_reason.empty()) n.first_reason = "group " + shown + ": " + reason;
  if (reason.rfind("warming", 0) == 0) ++n.warming;  // unscored only for want of history
  g.RemoveGauges(*metrics_);
  if (reason != g.stale_reason) {
    log_.Warn("group stale", {{"detector", d.config.name}, {"group", shown}, {"reason", reason}});
  }
  g.stale_reason = reason;
}

Result<std::vector<PromSeries>> Daemon::RangeByInstants(const std::string& promql, TimeMs start,
                                                        TimeMs end, TimeMs step) const {
  std::map<std::map<std::string, std::string>, PromSeries> by_labels;
  for (TimeMs t = start; t <= end; t += step) {
    auto r = query_(promql, t);
    if (!r.ok()) return r.status();
    for (const PromSample& smp : *r) {
      PromSeries& series = by_labels[smp.labels];
      series.labels = smp.labels;
      series.times.push_back(t);
      series.values.push_back(smp.value);
    }
  }
  std::vector<PromSeries> out;
  for (auto& [labels, series] : by_labels) out.push_back(std::move(series));
  return out;
}

TimeMs Daemon::RunDue(TimeMs now) {
  TimeMs next = std::numeric_limits<TimeMs>::max();
  for (size_t i = 0; i < dets_.size(); ++i) {
    Detector& d = *dets_[i];
    if (now >= d.next_due) {
      RunCycle(i, now);
      d.next_due = now + d.config.interval_ms;
    }
    next = std::min(next, d.next_due);
  }
  return next;
}

// ---- Champion and challenger -------------------------------------------------------------

void Daemon::PollCandidate(Detector& d, bool force) {
  if (!d.config.promotion.candidate()) return;
  auto version = d.store.Candidate();
  if (!version.ok()) {
    if (!d.candidate_key.empty()) {  // promoted or removed
      std::lock_guard<std::mutex> lock(mu_);
      d.prepared_candidate.reset();
      d.candidate_gone = true;
    }
    if (version.status().code() != ErrorCode::kNotFound && d.candidate_key != "!") {
      log_.Warn("cannot read candidate",
                {{"detector", d.config.name}, {"reason", version.status().message()}});
      d.candidate_key = "!";  // logged once until it changes
      return;
    }
    if (version.status().code() == ErrorCode::kNotFound) d.candidate_key.clear();
    return;
  }
  const std::string path = d.store.BundlePath(*version);
  const std::string key = FileKey(*version, path);
  if (key == d.candidate_key && !force) return;
  d.candidate_key = key;
  auto prepared = Load(d.config, d.store, *version, path);
  if (!prepared.ok()) return RefuseCandidate(d, *version, prepared.status().ToString());
  std::lock_guard<std::mutex> lock(mu_);
  d.prepared_candidate = std::move(*prepared);
  d.candidate_gone = false;
}

void Daemon::RefuseCandidate(Detector& d, const std::string& version, const std::string& why) {
  log_.Error("candidate refused, not compared",
             {{"detector", d.config.name}, {"candidate", version}, {"reason", why}});
  auto view = std::make_shared<CandidateView>();
  view->detector = d.config.name;
  view->promotion = PromotionModeName(d.config.promotion.mode);
  view->candidate_version = version;
  view->refused = why;
  view->after_ms = d.config.promotion.after_ms;
  std::lock_guard<std::mutex> lock(mu_);
  d.candidate_view = std::move(view);
}

void Daemon::ApplyCandidate(Detector& d) {
  std::unique_ptr<Prepared> p;
  bool gone = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    p = std::move(d.prepared_candidate);
    gone = d.candidate_gone;
    d.candidate_gone = false;
  }
  if (gone) EndChallenge(d, "candidate removed");
  if (!p) return;
  // A SIGHUP reloads the same candidate: its comparison carries on.
  if (d.challenge && d.challenge->model->version == p->active->version) return;
  StartChallenge(d, std::move(p));
}

void Daemon::StartChallenge(Detector& d, std::unique_ptr<Prepared> p) {
  if (d.challenge) d.challenge->RemoveGauges(*metrics_);
  d.challenge.reset();
  const std::string version = p->active->version;
  if (!d.active) {  // compared once there is an active model
    d.waiting_candidate = std::move(p);
    return;
  }
  if (d.active->version == version) return EndChallenge(d, "the candidate is the active model");
  // The comparison scores the active model's feature vectors: the candidate must build the same.
  if (!(p->active->model.spec == d.active->model.spec)) {
    return RefuseCandidate(d, version,
                           "its features differ from the active model's (" +
                               JoinNames(p->active->model.spec.ColumnNames()) + " vs " +
                               JoinNames(d.active->model.spec.ColumnNames()) +
                               "); promote it with isoscope promote, uncompared");
  }
  d.challenge =
      std::make_unique<Challenge>(d.config.alerts, d.alerts->Threshold(1), *p, d.active->version);
  log_.Info("candidate loaded, comparing",
            {{"detector", d.config.name},
             {"candidate", version},
             {"active", d.active->version},
             {"promotion", PromotionModeName(d.config.promotion.mode)}});
}

void Daemon::EndChallenge(Detector& d, const std::string& why) {
  d.waiting_candidate.reset();
  if (d.challenge) {
    log_.Info(
        "candidate comparison ended",
        {{"detector", d.config.name}, {"candidate", d.challenge->model->version}, {"reason", why}});
    d.challenge->RemoveGauges(*metrics_);
    d.challenge.reset();
    d.store.RemoveComparison();  // a candidate no longer compared shows nothing
  }
  std::lock_guard<std::mutex> lock(mu_);
  d.candidate_view.reset();
}

namespace {

void Tally(ModelTally& t, const RowScore& s) {
  ++t.scored;
  t.anomalies += s.is_anomaly ? 1 : 0;
  t.scores.Add(s.anomaly_score);
}

}  // namespace

void Daemon::ScoreCandidate(Detector& d, const Cycle& c) {
  Challenge& ch = *d.challenge;
  if (ch.champion_version != c.active->version) return;  // restarted at the next Activate
  const bool calibrated = ch.model->model.calibration.count > 0;
  for (size_t r = 0; r < c.rows.size(); ++r) {  // rows scored this cycle, once each
    const RowScore cand = ch.model->scorer.ScoreFeatures(c.rows.Row(r));
    if (!cand.ok()) continue;
    const std::string key(c.rows.keys.Key(r));
    const RowScore& champ = c.vecs[c.rows.group[r]].score;
    if (ch.since == 0) ch.since = c.now;
    Tally(ch.champion, champ);
    Tally(ch.candidate, cand);
    const Group& g = d.groups.at(key);
    double cand_value = cand.anomaly_score;
    if (ch.candidate_pager.on_surprise()) {
      auto& stream = ch.surprise[key];
      if (!stream && calibrated)
        stream = std::make_unique<SurpriseStream>(ch.model->model.calibration);
      cand_value =
          stream ? stream->Push(cand.anomaly_score) : std::numeric_limits<double>::quiet_NaN();
    }
    ch.champion_pager.Observe(
        key, c.now, ch.champion_pager.on_surprise() ? g.surprise_value : champ.anomaly_score);
    ch.candidate_pager.Observe(key, c.now, cand_value);
    prometheus::Gauge*& gauge = ch.scores[key];
    if (gauge == nullptr) {
      prometheus::Labels l = *g.labels;
      l["role"] = "candidate";
      gauge = &metrics_->candidate_score.Add(l);
    }
    gauge->Set(cand.anomaly_score);
  }
  // A group without a live score has no candidate score either.
  for (auto it = ch.scores.begin(); it != ch.scores.end();) {
    const auto g = d.groups.find(it->first);
    if (g == d.groups.end() || !g->second.scored) {
      metrics_->candidate_score.Remove(it->second);
      it = ch.scores.erase(it);
    } else {
      ++it;
    }
  }
}

void Daemon::FinishChallenge(Detector& d, TimeMs now) {
  Challenge& ch = *d.challenge;
  ch.now = now;
  if (ch.since != 0) {
    ch.champion.pages += ch.champion_pager.Evaluate(now);
    ch.candidate.pages += ch.candidate_pager.Evaluate(now);
  }
  RunGate(d, now);
  PublishChallenge(d, now);
}

void Daemon::PublishChallenge(Detector& d, TimeMs now) {
  Challenge& ch = *d.challenge;
  auto view = std::make_shared<CandidateView>();
  view->detector = d.config.name;
  view->promotion = PromotionModeName(d.config.promotion.mode);
  view->candidate_version = ch.model->version;
  view->since_ms = ch.since;
  view->updated_ms = now;
  view->after_ms = d.config.promotion.after_ms;
  view->rows = ch.candidate.scored;
  const TimeMs elapsed = ch.since == 0 ? 0 : now - ch.since;
  view->active = ViewOf(ch.champion_version, ch.champion, elapsed);
  view->candidate = ViewOf(ch.model->version, ch.candidate, elapsed);
  view->gate = ch.gate;
  {
    // The view before the gauges: whoever sees the gate's reason on /metrics finds it in the API.
    std::lock_guard<std::mutex> lock(mu_);
    d.candidate_view = view;
  }
  const prometheus::Labels& l = d.labels;
  if (ch.rows == nullptr) {
    ch.rows = &metrics_->candidate_rows.Add(l);
    for (int r = 0; r < 2; ++r) {
      prometheus::Labels rl = l;
      rl["role"] = r == 0 ? "active" : "candidate";
      ch.pages[r] = &metrics_->candidate_pages.Add(rl);
      ch.rate[r] = &metrics_->candidate_rate.Add(rl);
      // Two families, not a quantile label: promtool allows that label on summaries only.
      ch.p50[r] = &metrics_->candidate_p50.Add(rl);
      ch.p99[r] = &metrics_->candidate_p99.Add(rl);
    }
    for (const std::string& reason : GateReasons()) {
      prometheus::Labels gl = l;
      gl["reason"] = reason;
      ch.gate_gauges.push_back(&metrics_->candidate_gate.Add(gl));
    }
  }
  ch.rows->Set(static_cast<double>(view->rows));
  const TallyView* sides[2] = {&view->active, &view->candidate};
  for (int r = 0; r < 2; ++r) {
    ch.pages[r]->Set(static_cast<double>(sides[r]->pages));
    ch.rate[r]->Set(sides[r]->anomaly_rate);
    ch.p50[r]->Set(sides[r]->p50);
    ch.p99[r]->Set(sides[r]->p99);
  }
  for (size_t i = 0; i < GateReasons().size(); ++i) {
    ch.gate_gauges[i]->Set(GateReasons()[i] == ch.gate.reason ? 1 : 0);
  }
  // Beside `candidate` in the store, for isoscope candidates; a read-only store only logs.
  const Status written = WriteFileAtomic(d.store.ComparisonPath(), CandidateViewJson(*view));
  if (!written.ok() && written.message() != ch.write_error) {
    log_.Warn("cannot write the candidate comparison",
              {{"detector", d.config.name}, {"reason", written.message()}});
  }
  ch.write_error = written.ok() ? "" : written.message();
}

void Daemon::RunGate(Detector& d, TimeMs now) {
  Challenge& ch = *d.challenge;
  if (d.config.promotion.mode != PromotionConfig::Mode::kGate || ch.decided) return;
  const TimeMs elapsed = ch.since == 0 ? 0 : now - ch.since;
  ch.gate = DecideGate(d.config.promotion, elapsed, ch.champion, ch.candidate, true);
  if (ch.gate.verdict == GateDecision::Verdict::kWaiting) return;
  ch.decided = true;
  LogFields f = {{"detector", d.config.name},
                 {"candidate", ch.model->version},
                 {"active", ch.champion_version},
                 {"reason", ch.gate.reason},
                 {"detail", ch.gate.detail}};
  if (ch.gate.verdict == GateDecision::Verdict::kHold) {
    return log_.Warn("candidate held back by the gate, keeping the active model", f);
  }
  // Checksum and canaries again, then `latest` moves; the reload thread loads it as any retrain.
  auto promoted = d.store.Promote(ch.model->version);
  if (!promoted.ok()) {
    const bool bad_model = promoted.status().code() == ErrorCode::kCanaryMismatch ||
                           promoted.status().code() == ErrorCode::kCorrupt ||
                           promoted.status().code() == ErrorCode::kTruncated;
    ch.gate.verdict = GateDecision::Verdict::kHold;
    ch.gate.reason = bad_model ? "canary" : "promote_failed";
    ch.gate.detail = promoted.status().message();
    f[3].second = ch.gate.reason;
    f[4].second = ch.gate.detail;
    return log_.Error("candidate passed the gate but was not promoted, keeping the active model",
                      f);
  }
  log_.Info("candidate promoted by the gate", f);
}

Result<CandidateView> Daemon::Candidate(size_t index) const {
  const Detector& d = *dets_.at(index);
  std::lock_guard<std::mutex> lock(mu_);
  if (!d.candidate_view) {
    return Status(ErrorCode::kNotFound,
                  "detector " + d.config.name +
                      (d.config.promotion.candidate()
                           ? " has no candidate being compared"
                           : " promotes immediately (promotion: immediate): no candidate"));
  }
  return *d.candidate_view;
}

// model: per: group. The family is registered with the first such detector, so a daemon
// without one exports no isoscope_group_models.
void Daemon::SetUpGroupModels(Detector& d) {
  d.group_models =
      std::make_unique<GroupModels>(config_.models_dir, d.config.name, config_.shard, log_);
  auto& family = prometheus::BuildGauge()
                     .Name("isoscope_group_models")
                     .Help(
                         "Groups of a model: per: group detector scored in the last cycle, by "
                         "the model that scored them: source=\"group\" its own bundle, "
                         "source=\"pooled\" the detector's pooled model (no group bundle, "
                         "too little history at training, or a refused bundle)")
                     .Register(*metrics_->registry);
  for (int i = 0; i < 2; ++i) {
    prometheus::Labels l = d.labels;
    l["source"] = i == 0 ? "group" : "pooled";
    d.group_source[i] = &family.Add(l);
  }
  std::lock_guard<std::mutex> lock(mu_);
  d.group_views = std::make_shared<const std::vector<GroupModelView>>();
}

void Daemon::PollGroupModels(Detector& d, bool force) {
  const int refused = d.group_models->Poll(
      force,
      [&](const BundleStore& store, const std::string& version,
          const std::string& path) -> Result<std::shared_ptr<const ActiveModel>> {
        auto p = Load(d.config, store, version, path, /*group_model=*/true);
        if (!p.ok()) return p.status();
        return (*p)->active;
      });
  if (refused > 0) d.reload_errors->Increment(refused);
}

const ActiveModel& Daemon::ModelFor(const Detector& d, const Cycle& c, GroupVec& v) const {
  if (!c.group_models) return *c.active;
  v.model = d.group_models->Pick(*c.group_models, v.hash, *c.active, &v.pooled_reason);
  return *v.model;
}

void Daemon::PublishGroupModels(Detector& d, const Cycle& c) {
  auto views = std::make_shared<std::vector<GroupModelView>>();
  views->reserve(c.rows.size());
  size_t own = 0;
  for (uint32_t i : c.sorted) {
    const GroupVec& v = c.vecs[i];
    if (v.model == nullptr || !v.has_score) continue;  // not scored this cycle
    GroupModelView g;
    g.key = std::string(c.Key(i));
    for (const auto& [name, value] : *v.labels) {
      if (name != "shard") g.labels.emplace(name, value);
    }
    g.hash = v.hash;
    g.own_model = v.model != c.active.get();
    g.version = v.model->version;
    g.reason = g.own_model ? "" : v.pooled_reason;
    own += g.own_model ? 1 : 0;
    views->push_back(std::move(g));
  }
  d.group_source[0]->Set(static_cast<double>(own));
  d.group_source[1]->Set(static_cast<double>(views->size() - own));
  std::lock_guard<std::mutex> lock(mu_);
  d.group_views = std::move(views);
}

std::shared_ptr<const std::vector<GroupModelView>> Daemon::GroupModelViews(size_t index) const {
  std::lock_guard<std::mutex> lock(mu_);
  return dets_.at(index)->group_views;
}

std::shared_ptr<const ActiveModel> Daemon::GroupActive(size_t index, uint64_t hash,
                                                       std::string* reason) const {
  const Detector& d = *dets_.at(index);
  std::shared_ptr<const ActiveModel> pooled = Active(index);
  if (!pooled) return nullptr;
  if (!d.group_models) {
    *reason = "the detector has one pooled model (model: per: detector)";
    return pooled;
  }
  const std::shared_ptr<const GroupModelMap> map = d.group_models->Snapshot();
  const ActiveModel* m = d.group_models->Pick(*map, hash, *pooled, reason);
  return m == pooled.get() ? pooled : map->at(hash).model;
}

void ReturnBigBlocksToTheSystem() {
#ifdef __GLIBC__
  mallopt(M_MMAP_THRESHOLD, 256 * 1024);  // a fixed value also stops the raising
#endif
}

}  // namespace isoscope::native
