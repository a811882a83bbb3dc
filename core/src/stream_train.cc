// StreamTrainer: TrainModel's steps split into two passes over the rows, so that only the
// rows the forest draws (known from the usable-row count alone, see PlanForest) and a sample
// for the offset stay in memory. Each step reuses TrainModel's own helpers
// (detail/train_steps.h), so the two paths cannot drift apart.
#include "isoscope/stream_train.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include "detail/train_steps.h"
#include "isoscope/version.h"

namespace isoscope {

struct StreamTrainer::Impl {
  FeatureSpec spec;
  TrainOptions options;
  size_t sample_k = 0;
  size_t width = 0;
  TimeMs span = 0;
  int pass = 1;
  std::unique_ptr<FeatureStream> proto;  // temporal specs: the plan every group's stream shares
  struct Group {
    std::unique_ptr<FeatureStream> stream;
    TimeMs prev = std::numeric_limits<TimeMs>::min();
    detail::ExclusionState exclusion;
  };
  std::map<int32_t, Group> groups;  // this pass's per-group state
  size_t rows_seen = 0;             // rows fed in this pass
  size_t usable_seen = 0;           // usable rows fed in this pass
  // Facts of pass 1.
  size_t rows_total = 0;
  size_t used = 0;
  size_t excluded = 0;
  bool any_exclusions = false;
  std::map<std::string, int64_t> dropped;
  detail::WeekCells cells;
  bool has_time = false;
  TimeMs t_min = 0, t_max = 0;
  ScalerAccumulator scaler{Scaler::Kind::kNone, 0};
  // Pass 2: the forest's rows and the score sample, unscaled, row-major.
  ForestPlan plan;  // drawn when pass 2 starts (not at the end of pass 1: see PassTwoBytes)
  bool planned = false;
  size_t next_plan = 0;
  std::vector<double> plan_rows;
  size_t next_sample = 0;
  std::vector<double> sample_rows;

  size_t SampleIndex(size_t j) const {
    return used <= sample_k ? j : static_cast<size_t>((uint64_t{j} * used) / sample_k);
  }
  size_t SampleCount() const { return std::min(used, sample_k); }

  Group& GroupOf(int32_t g) {
    auto it = groups.find(g);
    if (it == groups.end()) {
      it = groups.emplace(g, Group{}).first;
      if (proto) it->second.stream = std::make_unique<FeatureStream>(proto->Fresh());
    }
    return it->second;
  }
  Result<FeatureRows> BuildRows(const TrainChunk& c, const std::vector<const double*>& series);
  void OnUsable(const double* row, const TimeMs* t);
  Status StartPassTwo();
};

// The forest's rows are drawn as pass 2 starts, so that trainers waiting for their turn at
// pass 2 (train_groups.h's batches) hold pass 1's sums only.
Status StreamTrainer::Impl::StartPassTwo() {
  if (planned) return Status::Ok();
  auto drawn = PlanForest(used, width, options.params);
  if (!drawn.ok()) return drawn.status();
  plan = std::move(drawn).value();
  // PlanForest grows these by push_back: the slack would count in every trainer of a batch.
  plan.rows.shrink_to_fit();
  plan.y.shrink_to_fit();
  plan_rows.reserve(plan.rows.size() * width);
  sample_rows.reserve(SampleCount() * width);
  planned = true;
  return Status::Ok();
}

namespace {

// The chunk's inputs with excluded rows as missing values (TrainModel's MaskExcluded).
std::vector<const double*> Masked(const TrainChunk& c, std::vector<std::vector<double>>& storage) {
  if (c.exclusion_of_row == nullptr) return c.series;
  std::vector<const double*> out;
  for (const double* s : c.series) {
    storage.emplace_back(s, s + c.n);
    for (size_t i = 0; i < c.n; ++i) {
      if (c.exclusion_of_row[i] >= 0) storage.back()[i] = std::nan("");
    }
    out.push_back(storage.back().data());
  }
  return out;
}

}  // namespace

// The chunk's feature rows: BuildFeatureRows for specs without temporal features (rows are
// independent); for temporal ones, BuildTemporalRows's loop over streams that outlive chunks.
Result<FeatureRows> StreamTrainer::Impl::BuildRows(const TrainChunk& c,
                                                   const std::vector<const double*>& series) {
  if (!proto) return BuildFeatureRows(spec, c.times, series, c.n, nullptr);
  FeatureRows out;
  out.rows = c.n;
  out.width = width;
  out.values.resize(c.n * width);
  out.problems.resize(c.n);
  std::vector<double> in(series.size());
  for (size_t i = 0; i < c.n; ++i) {
    Group& g = GroupOf(c.group_of_row == nullptr ? 0 : c.group_of_row[i]);
    const TimeMs t = c.times[i];
    if (t != std::numeric_limits<TimeMs>::min()) {
      if (g.prev != std::numeric_limits<TimeMs>::min() && t <= g.prev) {
        return Status(ErrorCode::kInvalidArgument,
                      "temporal features need rows in increasing time order: row " +
                          std::to_string(rows_seen + i + 1) + " is not after the row before it" +
                          (c.group_of_row == nullptr ? "" : " of its group") +
                          "; sort the data by time and drop duplicate timestamps");
      }
      g.prev = t;
    }
    for (size_t j = 0; j < in.size(); ++j) in[j] = series[j][i];
    out.problems[i] = g.stream->Push(t, in.data(), out.values.data() + i * width);
    if (out.problems[i].issue == RowIssue::kNone) ++out.usable;
  }
  return out;
}

void StreamTrainer::Impl::OnUsable(const double* row, const TimeMs* t) {
  scaler.Add(row);
  if (pass == 1) {
    ++used;
    if (t != nullptr) {
      cells.Add(*t);
      t_min = has_time ? std::min(t_min, *t) : *t;
      t_max = has_time ? std::max(t_max, *t) : *t;
      has_time = true;
    }
    return;
  }
  const size_t i = usable_seen++;
  if (next_plan < plan.rows.size() && static_cast<size_t>(plan.rows[next_plan]) == i) {
    plan_rows.insert(plan_rows.end(), row, row + width);
    ++next_plan;
  }
  if (next_sample < SampleCount() && SampleIndex(next_sample) == i) {
    sample_rows.insert(sample_rows.end(), row, row + width);
    ++next_sample;
  }
}

Result<StreamTrainer> StreamTrainer::Create(const FeatureSpec& spec, const TrainOptions& options,
                                            size_t score_sample_rows) {
  if (Status s = spec.Validate(); !s.ok()) return s;
  if (score_sample_rows < 1) {
    return Status(ErrorCode::kInvalidArgument, "the score sample needs at least one row");
  }
  auto impl = std::make_unique<Impl>();
  impl->spec = spec;
  impl->options = options;
  impl->options.group_of_row.clear();
  impl->options.exclusion_of_row.clear();
  impl->sample_k = score_sample_rows;
  impl->width = spec.width();
  impl->span = detail::RollingSpan(spec);
  impl->scaler = ScalerAccumulator(options.scaler, impl->width);
  if (spec.has_temporal()) {
    auto proto = FeatureStream::Create(spec);
    if (!proto.ok()) return proto.status();
    impl->proto = std::make_unique<FeatureStream>(std::move(proto).value());
  }
  return StreamTrainer(std::move(impl));
}

StreamTrainer::StreamTrainer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
StreamTrainer::StreamTrainer(StreamTrainer&&) noexcept = default;
StreamTrainer& StreamTrainer::operator=(StreamTrainer&&) noexcept = default;
StreamTrainer::~StreamTrainer() = default;

int StreamTrainer::pass() const { return impl_->pass; }
size_t StreamTrainer::usable_rows() const { return impl_->used; }

Status StreamTrainer::Feed(const TrainChunk& c) {
  Impl& m = *impl_;
  if (m.pass > 2) return Status(ErrorCode::kInvalidArgument, "both passes are over");
  if (c.series.size() != m.spec.inputs.size()) {
    return Status(ErrorCode::kInvalidArgument, "expected " + std::to_string(m.spec.inputs.size()) +
                                                   " input series, got " +
                                                   std::to_string(c.series.size()));
  }
  if (m.spec.needs_time() && c.times == nullptr && c.n > 0) {
    return Status(ErrorCode::kInvalidArgument, "time features need a time column");
  }
  const std::vector<std::string>& reasons =
      c.exclusion_reasons != nullptr ? *c.exclusion_reasons : m.options.exclusion_reasons;
  if (m.pass == 2) {
    if (Status s = m.StartPassTwo(); !s.ok()) return s;
  }
  std::vector<std::vector<double>> storage;
  auto rows = m.BuildRows(c, Masked(c, storage));
  if (!rows.ok()) return rows.status();
  for (size_t i = 0; i < c.n; ++i) {
    const TimeMs* t = c.times ? c.times + i : nullptr;
    if (c.exclusion_of_row != nullptr) {
      m.any_exclusions = true;
      const int32_t e = c.exclusion_of_row[i];
      if (e < -1 || e >= static_cast<int32_t>(reasons.size())) {
        return Status(ErrorCode::kInvalidArgument, "exclusion_of_row names an unknown reason");
      }
      Impl::Group& g = m.GroupOf(c.group_of_row == nullptr ? 0 : c.group_of_row[i]);
      const std::string why = detail::ExclusionDrop(e, reasons, t, m.span, g.exclusion);
      if (!why.empty()) {
        if (m.pass == 1) {
          ++m.dropped[why];
          m.excluded += e >= 0 ? 1 : 0;
        }
        continue;
      }
    }
    const double* row = rows->values.data() + i * m.width;
    const RowProblem p = detail::TrainingRowProblem(rows->problems[i], row, m.width);
    if (p.issue != RowIssue::kNone) {
      if (m.pass == 1) ++m.dropped[FeatureRows::Describe(p, m.spec)];
      continue;
    }
    m.OnUsable(row, t);
  }
  m.rows_seen += c.n;
  return Status::Ok();
}

Status StreamTrainer::EndPass() {
  Impl& m = *impl_;
  if (m.pass == 1) {
    m.rows_total = m.rows_seen;
    if (Status s = detail::CheckEnoughLeft(m.any_exclusions, m.rows_total, m.used, m.excluded);
        !s.ok())
      return s;
    if (m.used == 0) {
      return Status(
          ErrorCode::kBadInput,
          "no usable training rows: all " + std::to_string(m.rows_total) +
              " rows have missing or invalid values" +
              (m.dropped.empty() ? std::string() : " (" + m.dropped.begin()->first + ")"));
    }
    // The plan's own checks, before pass 2 pulls the data again.
    if (auto psi = ResolveMaxSamples(m.options.params.max_samples, static_cast<int64_t>(m.used));
        !psi.ok())
      return psi.status();
    m.scaler.StartSecondPass();
  } else if (m.pass == 2) {
    if (Status s = m.StartPassTwo(); !s.ok()) return s;
    if (m.rows_seen != m.rows_total || m.usable_seen != m.used) {
      return Status(ErrorCode::kInvalidArgument,
                    "the second pass saw " + std::to_string(m.rows_seen) + " rows (" +
                        std::to_string(m.usable_seen) + " usable), the first " +
                        std::to_string(m.rows_total) + " (" + std::to_string(m.used) +
                        "): the data changed between the passes");
    }
  } else {
    return Status(ErrorCode::kInvalidArgument, "both passes are over");
  }
  m.groups.clear();
  m.rows_seen = 0;
  ++m.pass;
  return Status::Ok();
}

Result<Model> StreamTrainer::Finish() {
  Impl& m = *impl_;
  if (m.pass != 3) return Status(ErrorCode::kInvalidArgument, "both passes must end first");
  Model model;
  model.spec = m.spec;
  model.params = m.options.params;
  model.info.engine_version = kEngineVersion;
  model.info.created_ms = m.options.created_ms;
  model.info.contamination_explicit = m.options.contamination_explicit;
  model.info.source = m.options.source;
  model.info.rows_total = static_cast<int64_t>(m.rows_total);
  model.info.rows_used = static_cast<int64_t>(m.used);
  model.info.rows_dropped = static_cast<int64_t>(m.rows_total - m.used);
  for (const auto& [reason, count] : m.dropped) {
    model.info.dropped_by_reason.emplace_back(reason, count);
  }
  auto scaler = m.scaler.Finish();
  if (!scaler.ok()) return scaler.status();
  model.scaler = std::move(scaler).value();
  auto x32 = detail::ScaledFloat32(model.scaler, m.spec, m.plan_rows, m.plan.rows.size());
  if (!x32.ok()) return x32.status();
  auto forest = FitForestOnPlan(m.plan, x32->data(), m.options.for_ranges);
  if (!forest.ok()) return forest.status();
  model.forest = std::move(forest).value();
  if (m.has_time) {
    model.info.has_time = true;
    model.info.window_start_ms = m.t_min;
    model.info.window_end_ms = m.t_max;
    model.info.full_weeks = m.cells.FullWeeks();
  }
  Status finished = FinishModel(model, m.sample_rows, false, m.options.score_dense);
  if (!finished.ok()) return finished;
  model.info.warnings = detail::TrainingWarnings(model, m.used, m.options.contamination_explicit);
  if (m.used > m.sample_k) {
    model.info.warnings.push_back(
        "offset, quantile table, calibration, flagged fraction and canaries come from an evenly "
        "spaced sample of " +
        std::to_string(m.sample_k) + " of the " + std::to_string(m.used) +
        " usable rows (the forest and scaler from all of them)");
  }
  return model;
}

size_t StreamTrainer::PassTwoBytes() const {
  const Impl& m = *impl_;
  if (m.pass < 2 || m.used == 0) return 0;
  auto psi = ResolveMaxSamples(m.options.params.max_samples, static_cast<int64_t>(m.used));
  const size_t draws = static_cast<size_t>(std::max(m.options.params.n_estimators, 0)) *
                       static_cast<size_t>(psi.ok() ? *psi : 0);
  const size_t drawn_rows = std::min(draws, m.used);  // rows, y, the row values
  const size_t per_row = sizeof(int64_t) + sizeof(double) + m.width * sizeof(double);
  return draws * sizeof(int64_t) + drawn_rows * per_row +
         m.SampleCount() * m.width * sizeof(double);
}

size_t StreamTrainer::MemoryBytes() const {
  const Impl& m = *impl_;
  size_t bytes =
      (m.plan_rows.capacity() + m.sample_rows.capacity() + m.plan.y.capacity()) * sizeof(double) +
      m.plan.rows.capacity() * sizeof(int64_t);
  for (const auto& t : m.plan.trees) bytes += t.draws.capacity() * sizeof(int64_t);
  for (const auto& [g, state] : m.groups) {
    bytes += sizeof(state) + (state.stream ? state.stream->MemoryBytes() : 0);
  }
  return bytes;
}

}  // namespace isoscope
