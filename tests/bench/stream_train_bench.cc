// make bench: peak memory of pooled training against the row count, streamed (StreamTrainer,
// rows in chunks, twice) and in memory (TrainModel), on synthetic rows generated on the fly
// (so that the input itself is not what is measured).
//   isoscope_stream_bench ROWS GROUPS stream|memory [N_ESTIMATORS] [CHUNK_STEPS]
// (CHUNK_STEPS: steps of every group per chunk, default 1440 = train --config's --chunk 1d)
// prints one JSON line: rows, groups, mode, usable rows, wall seconds, peak RSS (MiB).
#include <sys/resource.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "isoscope/model.h"
#include "isoscope/stream_train.h"

namespace {

using isoscope::TimeMs;
constexpr TimeMs kT0 = 1'700'006'400'000;  // a Monday 00:00 UTC
constexpr TimeMs kStep = 60'000;

// Input k of group g at step i: a daily wave at the group's own level, plus hashed noise.
double Value(size_t g, size_t i, int k) {
  uint64_t h = (g * 0x9E3779B97F4A7C15ull) ^ (i * 0xBF58476D1CE4E5B9ull) ^ uint64_t(k + 1);
  h ^= h >> 31;
  h *= 0x94D049BB133111EBull;
  h ^= h >> 29;
  const double noise = static_cast<double>(h % 10000) / 10000.0;
  const double level = 10.0 * static_cast<double>(g % 17 + 1) * (k + 1);
  return level * (1.0 + 0.3 * std::sin(static_cast<double>(i) * 2 * M_PI / 1440.0)) + noise;
}

isoscope::FeatureSpec Spec() {
  isoscope::FeatureSpec spec;
  spec.inputs = {"latency_p95", "error_rate", "cpu_throttle"};
  spec.step_ms = kStep;
  spec.derived = isoscope::ParseDerivedList(
                     "hour_of_week,mean(latency_p95,10m),delta(error_rate,5m)", spec.inputs)
                     .value();
  return spec;
}

// Rows of steps [from, to) of every group, group-major inside the chunk (train --config's
// order), into the given vectors.
struct Rows {
  std::vector<TimeMs> times;
  std::vector<double> a, b, c;
  std::vector<int32_t> group;
  void Fill(size_t groups, size_t from, size_t to) {
    times.clear(), a.clear(), b.clear(), c.clear(), group.clear();
    for (size_t g = 0; g < groups; ++g) {
      for (size_t i = from; i < to; ++i) {
        times.push_back(kT0 + static_cast<TimeMs>(i) * kStep);
        a.push_back(Value(g, i, 0));
        b.push_back(Value(g, i, 1));
        c.push_back(Value(g, i, 2));
        group.push_back(static_cast<int32_t>(g));
      }
    }
  }
  isoscope::TrainChunk Chunk() const {
    isoscope::TrainChunk ch;
    ch.times = times.data();
    ch.series = {a.data(), b.data(), c.data()};
    ch.n = times.size();
    ch.group_of_row = group.data();
    return ch;
  }
};

isoscope::Result<isoscope::Model> Streamed(const isoscope::TrainOptions& o, size_t groups,
                                           size_t steps, size_t chunk_steps) {
  auto trainer = isoscope::StreamTrainer::Create(Spec(), o);
  if (!trainer.ok()) return trainer.status();
  Rows rows;
  for (int pass = 0; pass < 2; ++pass) {
    for (size_t from = 0; from < steps; from += chunk_steps) {
      rows.Fill(groups, from, std::min(steps, from + chunk_steps));
      if (auto s = trainer->Feed(rows.Chunk()); !s.ok()) return s;
    }
    if (auto s = trainer->EndPass(); !s.ok()) return s;
  }
  return trainer->Finish();
}

isoscope::Result<isoscope::Model> InMemory(isoscope::TrainOptions o, size_t groups, size_t steps) {
  Rows rows;
  rows.Fill(groups, 0, steps);
  o.group_of_row = rows.group;
  return isoscope::TrainModel(Spec(), rows.times.data(),
                              {rows.a.data(), rows.b.data(), rows.c.data()}, rows.times.size(), o);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: %s ROWS GROUPS stream|memory [N_ESTIMATORS] [CHUNK_STEPS]\n",
                 argv[0]);
    return 2;
  }
  const size_t rows = std::strtoull(argv[1], nullptr, 10);
  const size_t groups = std::strtoull(argv[2], nullptr, 10);
  const std::string mode = argv[3];
  isoscope::TrainOptions o;
  o.params.n_estimators = argc > 4 ? std::atoi(argv[4]) : 200;
  o.params.random_state = 42;
  o.params.contamination = isoscope::Contamination::Fraction(0.02);
  o.contamination_explicit = true;
  const size_t steps = rows / groups;
  const auto t0 = std::chrono::steady_clock::now();
  const size_t chunk_steps = argc > 5 ? std::strtoull(argv[5], nullptr, 10) : 1440;
  auto model =
      mode == "stream" ? Streamed(o, groups, steps, chunk_steps) : InMemory(o, groups, steps);
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!model.ok()) {
    std::fprintf(stderr, "%s\n", model.status().ToString().c_str());
    return 1;
  }
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  std::printf(
      "{\"rows\": %zu, \"groups\": %zu, \"mode\": \"%s\", \"usable\": %lld, \"wall_s\": %.2f, "
      "\"peak_rss_mib\": %.1f, \"chunk_steps\": %zu, \"model_version\": \"%s\"}\n",
      steps * groups, groups, mode.c_str(), static_cast<long long>(model->info.rows_used), wall,
      static_cast<double>(ru.ru_maxrss) / 1024.0, chunk_steps, model->model_version.c_str());
  return 0;
}
