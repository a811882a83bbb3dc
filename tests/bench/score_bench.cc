// isoscope_bench write-data --out FILE [--days N]  origin-like 129,600 x 5 CSV (no time
//     column; N days at 60 s, 90 by default)
// isoscope_bench run --csv FILE [--repeat N]    JSON timings of fit, batch and one-row scoring
// isoscope_bench daemon [--groups N] [--cycles N] JSON figures of the daemon (daemon.h) in
//     process: one scoring cycle of N groups x 3 features from a synthetic query function (CPU
//     time), the /metrics page of those series (serialization, and real HTTP GETs against
//     the daemon's HttpServer, plain and with Accept-Encoding: gzip as Prometheus sends it),
//     and the process's RSS with them; with --per-group, `model: per: group` with one group
//     bundle per group (50 trees x 128 rows, the per-group defaults), loaded from the store
//   [--load-seconds S --wrk PATH --wrk-out FILE [--idle-cycles N]] then, with the daemon's
//     HttpServer still serving those series: a scoring cycle every second while idle (N, 10 by
//     default), and while
//     `wrk --latency` hammers /metrics for S seconds (its report goes to FILE); wall and CPU
//     time of those cycles in the JSON
// isoscope_bench explain [--rows N] [--repeat N]   JSON: per-row time of the exact attribution
//     (attribution.h) beside plain one-row scoring, 200 trees x 256 samples x 8 mixed columns
// isoscope_bench tune [--repeat N]   JSON: time of isoscope tune's search on 90 days at 60 s
// isoscope_bench score-bundle --bundle B --csv F [--repeat N]  JSON: median time of what the
//     WebAssembly panel does on the same files (BuildFeatureRows + ScoreRows with the bundle's
//     spec, derived features included), the native peer of wasm/panel's benchmark
#include <httplib.h>
#include <malloc.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "bundle_store.h"
#include "csv.h"
#include "daemon.h"
#include "demo_data.h"
#include "file_io.h"
#include "group_models.h"
#include "http_server.h"
#include "isoscope/attribution.h"
#include "isoscope/baseline.h"
#include "isoscope/bundle.h"
#include "isoscope/calibration.h"
#include "isoscope/features.h"
#include "isoscope/model.h"
#include "isoscope/text.h"
#include "isoscope/tune.h"
#include "metrics.h"
#include "model_json.h"
#include "shard.h"

using namespace isoscope;
using Clock = std::chrono::steady_clock;

namespace {

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

template <typename F>
std::vector<double> Time(int repeat, F&& f) {
  std::vector<double> out;
  for (int r = 0; r < repeat; ++r) {
    const auto t0 = Clock::now();
    f();
    out.push_back(std::chrono::duration<double>(Clock::now() - t0).count());
  }
  return out;
}

int WriteData(const std::string& out, int days) {
  const native::DemoData d = native::GenerateDemoData(days, 7);
  std::string text = "latency_p95,error_rate,cpu_throttle,hour_of_week,is_deploy_window\n";
  const auto deploys = DefaultDeployWindows();
  for (size_t i = 0; i < d.times.size(); ++i) {
    if (std::isnan(d.series[1][i])) {
      continue;  // the reference pipeline drops incomplete rows before fitting
    }
    const int32_t mow = MinuteOfWeek(d.times[i]);
    bool deploy = false;
    for (const auto& w : deploys) {
      deploy = deploy || (mow >= w.start_minute && mow < w.end_minute);
    }
    text += FormatShortest(d.series[0][i]) + "," + FormatShortest(d.series[1][i]) + "," +
            FormatShortest(d.series[2][i]) + "," + std::to_string(HourOfWeek(d.times[i])) + "," +
            (deploy ? "1" : "0") + "\n";
  }
  Status s = native::WriteFileAtomic(out, text);
  if (!s.ok()) {
    std::fprintf(stderr, "%s\n", s.message().c_str());
    return 1;
  }
  return 0;
}

int Run(const std::string& csv, int repeat) {
  auto text = native::ReadFile(csv);
  native::CsvOptions options;
  options.no_time = true;
  auto data = native::ParseCsv(*text, options, csv);
  if (!data.ok()) {
    std::fprintf(stderr, "%s\n", data.status().message().c_str());
    return 1;
  }
  const size_t n = data->rows, d = data->series.size();
  std::vector<double> rows(n * d);
  std::vector<float> x32(n * d);
  for (size_t i = 0; i < n; ++i) {
    for (size_t j = 0; j < d; ++j) {
      rows[i * d + j] = data->series[j][i];
      x32[i * d + j] = static_cast<float>(rows[i * d + j]);
    }
  }
  IForestParams params;
  params.n_estimators = 200;
  params.random_state = 42;
  Forest forest;
  const auto fit =
      Time(repeat, [&] { forest = std::move(FitForest(x32.data(), n, d, params)).value(); });

  // The whole `train` path: float64 rows in, scaler none, trees, offset at 0.02, canaries.
  FeatureSpec spec;
  spec.inputs = data->feature_names;
  spec.derived.clear();
  std::vector<const double*> series;
  for (const auto& s : data->series) {
    series.push_back(s.data());
  }
  TrainOptions train_options;
  train_options.params = params;
  train_options.params.contamination = Contamination::Fraction(0.02);
  train_options.scaler = Scaler::Kind::kNone;
  Model model;
  const auto train = Time(repeat, [&] {
    model = std::move(TrainModel(spec, nullptr, series, n, train_options)).value();
  });
  auto scorer = std::move(ModelScorer::Create(model)).value();

  std::vector<double> shuffled(rows.size());
  std::vector<size_t> order(n);
  for (size_t i = 0; i < n; ++i) {
    order[i] = (i * 7919) % n;  // a fixed permutation (7919 is prime, n is not its multiple)
  }
  for (size_t i = 0; i < n; ++i) {
    std::copy_n(rows.data() + order[i] * d, d, shuffled.data() + i * d);
  }
  double sink = 0;
  const auto batch = Time(
      repeat, [&] { sink += scorer.ScoreDense(rows.data(), nullptr, n)[n / 2].anomaly_score; });
  const auto batch_shuffled = Time(
      repeat, [&] { sink += scorer.ScoreDense(shuffled.data(), nullptr, n)[n / 2].anomaly_score; });
  const size_t single_calls = std::min<size_t>(n, 50000);
  const auto single = Time(repeat, [&] {
    for (size_t i = 0; i < single_calls; ++i) {
      sink += scorer.ScoreFeatures(shuffled.data() + i * d).anomaly_score;
    }
  });
  const std::string bundle = EncodeBundle(model);
  std::printf(
      "{\"rows\": %zu, \"features\": %zu, \"fit_s\": %.6f, \"fit_s_min\": %.6f, "
      "\"train_with_offset_s\": %.6f, \"batch_rows_per_s\": %.0f, "
      "\"batch_shuffled_rows_per_s\": %.0f, \"single_row_us\": %.4f, \"bundle_bytes\": %zu, "
      "\"forest_nodes\": %zu, \"scoring_nodes\": %zu, \"checksum\": %.6f}\n",
      n, d, Median(fit), *std::min_element(fit.begin(), fit.end()), Median(train),
      n / Median(batch), n / Median(batch_shuffled), Median(single) / single_calls * 1e6,
      bundle.size(), forest.total_nodes(), scorer.forest().node_count(), sink);
  return 0;
}

// A response body counted as it arrives, not kept.
httplib::ContentReceiver CountInto(size_t* bytes) {
  return [bytes](const char*, size_t n) {
    *bytes += n;
    return true;
  };
}

double ThreadCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// Starts VmHWM afresh from the current RSS (Linux: "5" to clear_refs), so a later read is the
// peak of what came after; false where the kernel refuses (the peak then covers the whole run).
bool ResetPeakRss() {
  FILE* f = std::fopen("/proc/self/clear_refs", "w");
  if (f == nullptr) return false;
  const bool ok = std::fputs("5", f) >= 0;
  return std::fclose(f) == 0 && ok;
}

// A field of /proc/self/status in MiB (VmRSS: now, VmHWM: peak).
double ProcStatusMib(const char* field) {
  auto text = native::ReadFile("/proc/self/status");
  if (!text.ok()) return -1;
  const size_t at = text->find(std::string(field) + ":");
  if (at == std::string::npos) return -1;
  return std::strtod(text->c_str() + at + std::strlen(field) + 1, nullptr) / 1024.0;
}

double HeapInUseMib() {
  const struct mallinfo2 m = mallinfo2();
  return static_cast<double>(m.uordblks + m.hblkhd) / 1048576.0;
}

// One detector, three queries grouped by job, scored every cycle from N synthetic series per
// query (as Prometheus would return them, minus HTTP and JSON).
struct LoadOptions {
  int seconds = 0;  ///< 0: no load phase
  std::string wrk = "wrk";
  std::string wrk_out;
  int connections = 16;
  int threads = 2;
  int idle_cycles = 10;  ///< cycles a second apart before the load
};

// model: per: group: one bundle per group job-0 .. job-(N-1), each the same fit at the per-group
// defaults (50 trees x 128 rows) labelled with its group, in models/bench/groups/<hash>/.
// Returns the bytes of one bundle, 0 on failure.
size_t InstallGroupModels(const std::string& models_dir, const FeatureSpec& spec,
                          const std::vector<const double*>& series, const TimeMs* times, size_t n,
                          size_t groups) {
  TrainOptions options;
  options.params.n_estimators = 50;
  options.params.max_samples = MaxSamples::Count(128);
  options.params.random_state = 42;
  options.params.contamination = Contamination::Fraction(0.02);
  options.contamination_explicit = true;
  auto model = TrainModel(spec, times, series, n, options);
  if (!model.ok()) return 0;
  size_t bytes = 0;
  for (size_t g = 0; g < groups; ++g) {
    const std::map<std::string, std::string> labels = {{"detector", "bench"},
                                                       {"job", "job-" + std::to_string(g)}};
    const uint64_t hash = native::GroupHash(labels);
    model->group.labels.assign(labels.begin(), labels.end());
    model->group.hash = native::BundleStore::GroupDirName(hash);
    const std::string b = EncodeBundle(*model);
    bytes = b.size();
    if (!native::BundleStore::ForGroup(models_dir, "bench", hash)
             .Install(model->model_version, model->info.created_ms, b, "{}", 5, nullptr)
             .ok()) {
      return 0;
    }
  }
  return bytes;
}

int Daemon(size_t groups, int cycles, const LoadOptions& load, bool seasonal, bool per_group) {
  native::ReturnBigBlocksToTheSystem();  // as `isoscope serve` starts
  char tmpl[] = "/tmp/isoscope_bench_daemon_XXXXXX";
  const std::string root = mkdtemp(tmpl);
  size_t group_bundle_bytes = 0;
  // The demo's model: 200 trees on 28 days of the built-in history, derived features on; or
  // with `seasonal`, 35 days and `auto` (seasonal baselines: each group holds a stream and
  // the daemon makes look-up queries every cycle).
  {
    const native::DemoData data = native::GenerateDemoData(seasonal ? 35 : 28, 7);
    FeatureSpec spec;
    spec.inputs = data.names;
    spec.inputs.resize(3);  // the detector's three queries (not the leak scenario's memory)
    if (seasonal) {
      spec.step_ms = MedianStep(data.times.data(), data.times.size());
      const AutoContext context{spec.step_ms, data.times.back() - data.times.front()};
      spec.derived =
          std::move(ParseDerivedList("auto", spec.inputs, context, &spec.raw_inputs)).value();
    } else {
      spec.derived =
          std::move(ParseDerivedList("hour_of_week,is_deploy_window", spec.inputs)).value();
    }
    TrainOptions options;
    options.params.n_estimators = 200;
    options.params.random_state = 42;
    options.params.contamination = Contamination::Fraction(0.02);
    options.contamination_explicit = true;
    std::vector<const double*> series;
    for (size_t k = 0; k < spec.inputs.size(); ++k) series.push_back(data.series[k].data());
    auto model = TrainModel(spec, data.times.data(), series, data.times.size(), options);
    if (!model.ok()) {
      std::fprintf(stderr, "%s\n", model.status().message().c_str());
      return 1;
    }
    native::BundleStore store(root + "/models", "bench");
    Status s = store.Install(model->model_version, model->info.created_ms, EncodeBundle(*model),
                             native::ModelToJson(*model, false).dump(1), 5, nullptr);
    if (!s.ok()) {
      std::fprintf(stderr, "%s\n", s.message().c_str());
      return 1;
    }
    if (per_group) {
      group_bundle_bytes = InstallGroupModels(root + "/models", spec, series, data.times.data(),
                                              data.times.size(), groups);
      if (group_bundle_bytes == 0) {
        std::fprintf(stderr, "cannot install the group models\n");
        return 1;
      }
    }
  }
  native::Config config;
  config.models_dir = root + "/models";
  native::DetectorConfig d;
  d.name = "bench";
  d.queries = {{"latency_p95", "q_latency"}, {"error_rate", "q_errors"}, {"cpu_throttle", "q_cpu"}};
  d.group_by = {"job"};
  d.per_group = per_group;
  config.detectors.push_back(d);

  // Sunday 2026-01-04 03:00 UTC, then one minute per cycle.
  const TimeMs t0 = 1767495600000;
  std::map<std::string, std::vector<native::PromSample>> answers;
  const double base[3] = {180, 0.004, 0.05};
  const char* queries[3] = {"q_latency", "q_errors", "q_cpu"};
  for (int q = 0; q < 3; ++q) {
    auto& v = answers[queries[q]];
    v.reserve(groups);
    for (size_t g = 0; g < groups; ++g) {
      native::PromSample s;
      s.labels = {{"job", "job-" + std::to_string(g)}};
      s.time = t0;
      s.value = base[q] * (1.0 + 0.1 * std::sin(static_cast<double>(g)));
      v.push_back(std::move(s));
    }
  }
  int cycle = 0;
  auto query = [&](const std::string& q, TimeMs) -> Result<std::vector<native::PromSample>> {
    std::vector<native::PromSample> out = answers.at(q);  // a fresh result, as a client's
    for (size_t g = 0; g < out.size(); ++g) {
      out[g].value *= 1.0 + 0.01 * std::sin(static_cast<double>(cycle + g));  // values move
    }
    return out;
  };
  auto registry = std::make_shared<prometheus::Registry>();
  auto metrics = std::make_shared<native::ExporterMetrics>(registry);
  const native::Logger quiet(
      [](const std::string&, const std::string&, const native::LogFields&) {});
  native::Daemon daemon(config, query, metrics, quiet);
  const auto load0 = Clock::now();
  daemon.PollReloads(true);
  const double load_s = std::chrono::duration<double>(Clock::now() - load0).count();
  if (!daemon.Ready(nullptr)) {
    std::fprintf(stderr, "the bench model did not load\n");
    return 1;
  }
  const double rss_before = ProcStatusMib("VmRSS");
  const double heap_before = HeapInUseMib();
  const double hwm_before = ProcStatusMib("VmHWM");  // training the model above
  std::vector<double> cpu, wall;
  size_t scored = 0;
  for (cycle = 0; cycle <= cycles; ++cycle) {  // cycle 0 creates the series: not counted
    const double c0 = ThreadCpuSeconds();
    const auto w0 = Clock::now();
    daemon.RunCycle(0, t0 + cycle * kMinuteMs);
    // Per cycle on stderr, to see where the peak comes from (cycle 0 fills the history).
    std::fprintf(stderr, "cycle %d: cpu %.3f s, rss %.1f MiB, peak %.1f MiB\n", cycle,
                 ThreadCpuSeconds() - c0, ProcStatusMib("VmRSS"), ProcStatusMib("VmHWM"));
    if (cycle == 0) continue;
    cpu.push_back(ThreadCpuSeconds() - c0);
    wall.push_back(std::chrono::duration<double>(Clock::now() - w0).count());
  }
  scored = daemon.Views()[0].groups_scored;
  size_t own_models = 0;  // groups scored by their own bundle (per: group)
  if (auto views = daemon.GroupModelViews(0)) {
    for (const native::GroupModelView& v : *views) own_models += v.own_model ? 1 : 0;
  }
  // Live heap bytes (glibc's count of allocated chunks) against RSS: what the groups hold,
  // apart from pages the allocator keeps after the cycles' temporaries are freed.
  const double heap_after_cycles = HeapInUseMib();
  const double rss_after_cycles = ProcStatusMib("VmRSS");
  const double hwm_after_cycles = ProcStatusMib("VmHWM");  // the cycles' peak, before scrapes

  std::string page;
  const auto serialize =
      Time(std::max(3, cycles), [&] { page = native::SerializeMetrics(*metrics); });
  // The bench's own copy of the page is not the daemon's memory: freed before the scrapes, and
  // the scrapes' bodies are counted as they arrive instead of kept (the client is Prometheus's
  // stand-in, in this process only to measure on loopback).
  const size_t page_bytes = page.size();
  page = std::string();
  // The peak from here on is the daemon's serving the page (and, for 10,000 groups, cycles
  // under load), not the bench's copies above.
  const bool peak_reset = ResetPeakRss();
  // A real scrape: the daemon's HttpServer on a free loopback port, GET /metrics.
  native::HttpServer server(daemon, registry, "", quiet);
  auto port = server.Bind("127.0.0.1:0");
  if (!port.ok()) {
    std::fprintf(stderr, "%s\n", port.status().message().c_str());
    return 1;
  }
  std::thread http([&server] { server.Run(); });
  httplib::Client client("127.0.0.1", *port);
  client.set_read_timeout(10, 0);
  size_t http_bytes = 0;
  for (int i = 0; i < 50 && !client.Get("/healthz"); ++i) usleep(20000);
  // Each scrape cold, as Prometheus's (one per interval): after the server's page cache has
  // expired (250 ms), so the time includes serializing (and compressing) the page.
  auto cold = [](auto&& get) {
    usleep(300000);
    get();
  };
  std::vector<double> scrape_cold, scrape_gzip;
  for (int i = 0; i < std::max(3, cycles); ++i) {
    cold([&] {
      const auto t = Clock::now();
      size_t bytes = 0;
      auto res = client.Get("/metrics", {{"Accept-Encoding", "identity"}}, CountInto(&bytes));
      scrape_cold.push_back(std::chrono::duration<double>(Clock::now() - t).count());
      http_bytes = res && res->status == 200 ? bytes : 0;
    });
  }
  // Back to back, as before (issue 4's figure): mostly the cached page.
  const auto scrape = Time(std::max(3, cycles), [&] {
    size_t bytes = 0;
    auto res = client.Get("/metrics", {{"Accept-Encoding", "identity"}}, CountInto(&bytes));
    http_bytes = res && res->status == 200 ? bytes : 0;
  });
  // As Prometheus scrapes: Accept-Encoding gzip, the body left compressed.
  client.set_decompress(false);
  size_t gzip_bytes = 0;
  for (int i = 0; i < std::max(3, cycles); ++i) {
    cold([&] {
      const auto t = Clock::now();
      size_t bytes = 0;
      auto res = client.Get("/metrics", {{"Accept-Encoding", "gzip"}}, CountInto(&bytes));
      scrape_gzip.push_back(std::chrono::duration<double>(Clock::now() - t).count());
      const bool packed =
          res && res->status == 200 && res->get_header_value("Content-Encoding") == "gzip";
      gzip_bytes = packed ? bytes : 0;
    });
  }
  // Load: a cycle every second, first idle, then under wrk; only cycles that ran entirely
  // while wrk was running count as loaded.
  std::vector<double> idle_wall, idle_cpu, load_wall, load_cpu;
  int wrk_rc = -1;
  if (load.seconds > 0) {
    auto one_cycle = [&](std::vector<double>* w, std::vector<double>* c) {
      const double c0 = ThreadCpuSeconds();
      const auto w0 = Clock::now();
      daemon.RunCycle(0, t0 + (++cycle) * kMinuteMs);
      c->push_back(ThreadCpuSeconds() - c0);
      w->push_back(std::chrono::duration<double>(Clock::now() - w0).count());
    };
    for (int i = 0; i < load.idle_cycles; ++i) {
      const auto next = Clock::now() + std::chrono::seconds(1);
      one_cycle(&idle_wall, &idle_cpu);
      std::this_thread::sleep_until(next);
    }
    const std::string cmd = load.wrk + " --latency -t" + std::to_string(load.threads) + " -c" +
                            std::to_string(load.connections) + " -d" +
                            std::to_string(load.seconds) +
                            "s --timeout 10s http://127.0.0.1:" + std::to_string(*port) +
                            "/metrics > '" + load.wrk_out + "' 2>&1";
    std::atomic<bool> running{true};
    std::thread wrk([&] {
      wrk_rc = std::system(cmd.c_str());
      running = false;
    });
    std::this_thread::sleep_for(std::chrono::seconds(2));  // wrk connected and at full speed
    while (running) {
      const auto next = Clock::now() + std::chrono::seconds(1);
      std::vector<double> w, c;
      one_cycle(&w, &c);
      if (running) {
        load_wall.push_back(w[0]);
        load_cpu.push_back(c[0]);
      }
      std::this_thread::sleep_until(next);
    }
    wrk.join();
  }
  server.Stop();
  http.join();
  const double rss = ProcStatusMib("VmRSS");
  // The peak of the cycles, or of serving the page after them, whichever is higher.
  const double hwm =
      peak_reset ? std::max(hwm_after_cycles, ProcStatusMib("VmHWM")) : ProcStatusMib("VmHWM");
  if (load.seconds > 0) {
    auto p90 = [](std::vector<double> v) {
      std::sort(v.begin(), v.end());
      return v.empty() ? 0.0 : v[v.size() * 9 / 10];
    };
    if (load_wall.empty()) load_wall = load_cpu = {0.0};
    std::printf(
        "{\"load_seconds\": %d, \"wrk_rc\": %d, \"wrk_connections\": %d, \"wrk_threads\": %d, "
        "\"idle_cycles\": %zu, \"idle_cycle_wall_s\": %.6f, \"idle_cycle_cpu_s\": %.6f, "
        "\"load_cycles\": %zu, \"load_cycle_wall_s\": %.6f, \"load_cycle_wall_p90_s\": %.6f, "
        "\"load_cycle_cpu_s\": %.6f, \"groups_scored\": %zu, \"page_bytes\": %zu}\n",
        load.seconds, wrk_rc, load.connections, load.threads, idle_wall.size(), Median(idle_wall),
        Median(idle_cpu), load_wall.size(), Median(load_wall), p90(load_wall), Median(load_cpu),
        daemon.Views()[0].groups_scored, page_bytes);
    std::fflush(stdout);
  }
  std::printf(
      "{\"groups\": %zu, \"features\": %zu, \"seasonal\": %s, \"groups_scored\": %zu, \"cycles\": "
      "%d, "
      "\"cycle_cpu_s\": %.6f, \"cycle_cpu_s_max\": %.6f, \"cycle_wall_s\": %.6f, "
      "\"serialize_s\": %.6f, \"scrape_http_s\": %.6f, \"scrape_cold_s\": %.6f, "
      "\"scrape_gzip_s\": %.6f, "
      "\"scrape_gzip_s_max\": %.6f, \"gzip_bytes\": %zu, \"page_bytes\": %zu, "
      "\"http_bytes\": %zu, \"rss_mib\": %.1f, \"rss_before_cycles_mib\": %.1f, "
      "\"peak_rss_mib\": %.1f, \"peak_rss_before_cycles_mib\": %.1f, "
      "\"heap_before_cycles_mib\": %.1f, \"heap_after_cycles_mib\": %.1f, "
      "\"rss_after_cycles_mib\": %.1f, \"peak_rss_after_cycles_mib\": %.1f, "
      "\"per_group\": %s, \"group_bundle_bytes\": %zu, \"groups_own_model\": %zu, "
      "\"model_load_s\": %.3f, \"peak_without_bench_copies\": %s}\n",
      groups, d.queries.size(), seasonal ? "true" : "false", scored, cycles, Median(cpu),
      *std::max_element(cpu.begin(), cpu.end()), Median(wall), Median(serialize), Median(scrape),
      Median(scrape_cold), Median(scrape_gzip),
      *std::max_element(scrape_gzip.begin(), scrape_gzip.end()), gzip_bytes, page_bytes, http_bytes,
      rss, rss_before, hwm, hwm_before, heap_before, heap_after_cycles, rss_after_cycles,
      hwm_after_cycles, per_group ? "true" : "false", group_bundle_bytes, own_models, load_s,
      peak_reset ? "true" : "false");
  std::system(("rm -rf '" + root + "'").c_str());
  return http_bytes > 0 && gzip_bytes > 0 && scored == groups ? 0 : 1;
}

int ScoreBundle(const std::string& bundle_path, const std::string& csv_path, int repeat) {
  auto bytes = native::ReadFile(bundle_path);
  auto text = native::ReadFile(csv_path);
  if (!bytes.ok() || !text.ok()) {
    std::fprintf(stderr, "isoscope_bench: cannot read %s or %s\n", bundle_path.c_str(),
                 csv_path.c_str());
    return 1;
  }
  auto model = DecodeBundle(bytes->data(), bytes->size());
  if (!model.ok()) {
    std::fprintf(stderr, "isoscope_bench: %s\n", model.status().ToString().c_str());
    return 1;
  }
  native::CsvOptions options;
  options.features = model->spec.inputs;
  auto data = native::ParseCsv(*text, options, csv_path);
  if (!data.ok()) {
    std::fprintf(stderr, "isoscope_bench: %s\n", data.status().ToString().c_str());
    return 1;
  }
  std::vector<const double*> series;
  for (const auto& s : data->series) series.push_back(s.data());
  double sink = 0;
  size_t scored = 0;
  size_t kept = 0;  // the surprise and baseline rows made, printed so that they are made
  // The fastest walk this CPU has, and the portable one (what the WebAssembly build compiles):
  // the panel's benchmark sets WASM against both. Each pass is the C++ work of the page's
  // scoreRows (wasm/src/bindings.cc): feature rows, scores, the calibrated surprise and the
  // z-score baseline; the page's share beyond it is moving arrays in and out of the WASM heap.
  auto time_walk = [&](ForestScorer::Walk walk) {
    auto scorer = std::move(ModelScorer::Create(*model, walk)).value();
    sink = 0;
    return Time(repeat, [&] {
      auto rows = BuildFeatureRows(model->spec, data->times.data(), series, data->rows);
      const auto scored_rows = scorer.ScoreRows(*rows);
      std::vector<double> scores(scored_rows.size());
      scored = 0;
      for (size_t i = 0; i < scored_rows.size(); ++i) {
        const RowScore& r = scored_rows[i];
        scores[i] = r.ok() ? r.anomaly_score : std::nan("");
        scored += r.ok() ? 1 : 0;
        sink += r.ok() ? r.anomaly_score : 0;
      }
      if (model->calibration.count > 0) {
        kept += SurpriseSeries(model->calibration, scores).size();
      }
      kept += RollingZScoreBaseline(data->times, series, kBaselineWindowMs).size();
    });
  };
  const auto portable = time_walk(ForestScorer::Walk::kScalar);
  const auto t = time_walk(ForestScorer::Walk::kFastest);
  std::printf(
      "{\"rows\": %zu, \"scored\": %zu, \"repeat\": %d, \"score_s\": %.6f, "
      "\"score_s_min\": %.6f, \"portable_score_s\": %.6f, \"checksum\": %.17g, "
      "\"surprise_and_baseline_rows\": %zu}\n",
      data->rows, scored, repeat, Median(t), *std::min_element(t.begin(), t.end()),
      Median(portable), sink, kept);
  return 0;
}

}  // namespace

// Issue 9's figures: the `auto` set over 90 days x 3 series (the demo's latency, errors and
// CPU), the bytes a daemon's stream holds per group once warm, and that for 10,000 groups.
int Features(int repeat) {
  const native::DemoData data = native::GenerateDemoData(90, 7);
  FeatureSpec spec;
  spec.inputs = {data.names[0], data.names[1], data.names[2]};
  spec.step_ms = MedianStep(data.times.data(), data.times.size());
  const AutoContext context{spec.step_ms, data.times.back() - data.times.front()};
  auto derived = ParseDerivedList("auto", spec.inputs, context, &spec.raw_inputs);
  if (!derived.ok()) {
    std::fprintf(stderr, "%s\n", derived.status().message().c_str());
    return 1;
  }
  spec.derived = *derived;
  const std::vector<const double*> series = {data.series[0].data(), data.series[1].data(),
                                             data.series[2].data()};
  size_t usable = 0;
  const std::vector<double> times = Time(repeat, [&] {
    auto rows = BuildFeatureRows(spec, data.times.data(), series, data.times.size());
    usable = rows.ok() ? rows->usable : 0;
  });
  // The daemon's stream: look-ups from outside, two hours of rows pushed.
  auto stream = FeatureStream::Create(spec, /*external_lookups=*/true);
  if (!stream.ok()) return 1;
  std::vector<double> out(spec.width()), lookups(stream->LookupKeys().size());
  const size_t start = data.times.size() - 120;
  for (size_t i = start; i < data.times.size(); ++i) {
    const double in[3] = {series[0][i], series[1][i], series[2][i]};
    for (size_t k = 0; k < lookups.size(); ++k) {
      const auto& key = stream->LookupKeys()[k];
      lookups[k] = series[static_cast<size_t>(key.input)]
                         [i - static_cast<size_t>(key.lag_ms / spec.step_ms)];
    }
    stream->Push(data.times[i], in, out.data(), lookups.data());
  }
  std::string names;
  for (const std::string& n : spec.ColumnNames()) names += (names.empty() ? "" : ", ") + n;
  std::printf(
      "{\"rows\":%zu,\"series\":3,\"columns\":%zu,\"usable_rows\":%zu,\"auto_ms\":%.3f,"
      "\"bytes_per_group\":%zu,\"lookups_per_group\":%zu,\"features\":\"%s\"}\n",
      data.times.size(), spec.width(), usable, Median(times) * 1e3, stream->MemoryBytes(),
      lookups.size(), names.c_str());
  return 0;
}

// 20,000 rows of 8 mixed columns (Gaussian, exponential, log-normal, 5 levels, 0.1-rounded,
// uniform, seasonal, Gaussian), as the attribution reference note measured its timings on.
std::vector<float> ExplainData(size_t n) {
  uint64_t state = 12345;
  auto uniform = [&] {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (static_cast<double>(state >> 11) + 0.5) / 9007199254740992.0;
  };
  auto gauss = [&] {
    return std::sqrt(-2 * std::log(uniform())) * std::cos(6.283185307 * uniform());
  };
  std::vector<float> x(n * 8);
  for (size_t i = 0; i < n; ++i) {
    const double v[8] = {gauss(),
                         -std::log(uniform()),
                         std::exp(0.5 * gauss()),
                         std::floor(5 * uniform()),
                         std::round(10 * gauss()) / 10,
                         uniform(),
                         std::sin(static_cast<double>(i) / 144 * 6.283185307) + 0.1 * gauss(),
                         3 + 2 * gauss()};
    for (size_t j = 0; j < 8; ++j) x[i * 8 + j] = static_cast<float>(v[j]);
  }
  return x;
}

int Explain(size_t rows, int repeat) {
  const size_t n = 20000, d = 8;
  const std::vector<float> x = ExplainData(n);
  IForestParams params;
  params.n_estimators = 200;
  params.max_samples = MaxSamples::Count(256);
  params.random_state = 0;
  const Forest forest = std::move(FitForest(x.data(), n, d, params)).value();
  const auto t0 = Clock::now();
  const ForestExplainer ex = std::move(ForestExplainer::Compile(forest)).value();
  const double compile_s = std::chrono::duration<double>(Clock::now() - t0).count();
  const ForestScorer scorer = std::move(ForestScorer::Compile(forest)).value();
  rows = std::min(rows, n);
  std::vector<double> phi(d);
  double sink = 0;
  // CPU time of this thread too: on a shared machine wall time counts other processes.
  std::vector<double> explain_cpu;
  const auto explain = Time(repeat, [&] {
    const double c0 = ThreadCpuSeconds();
    for (size_t i = 0; i < rows; ++i) {
      ex.PathShapley(x.data() + ((i * 7919) % n) * d, phi.data());
      sink += phi[i % d];
    }
    explain_cpu.push_back(ThreadCpuSeconds() - c0);
  });
  const auto score = Time(repeat, [&] {
    for (size_t i = 0; i < rows; ++i) sink += scorer.PathSum(x.data() + ((i * 7919) % n) * d);
  });
  std::printf(
      "{\"trees\": 200, \"max_samples\": 256, \"features\": 8, \"rows\": %zu, "
      "\"explain_us_per_row\": %.2f, \"explain_cpu_us_per_row\": %.2f, "
      "\"score_us_per_row\": %.3f, \"compile_ms\": %.2f, "
      "\"leaves\": %zu, \"checksum\": %.6f}\n",
      rows, Median(explain) / rows * 1e6, Median(explain_cpu) / rows * 1e6,
      Median(score) / rows * 1e6, compile_s * 1e3, ex.leaf_count(), sink);
  return 0;
}

// isoscope tune's search (core/tune.h) on 90 days at 60 s: a noisy score with a burst every
// ~3 days, 12 of them named incidents, and the CLI's default grid (4 windows x 5 for: x up to
// 32 thresholds). Issue 17's target: at most 2 s on one core.
int RunTuneBench(int repeat) {
  const size_t n = 90 * 1440;
  std::vector<TimeMs> times(n);
  std::vector<double> scores(n);
  uint64_t state = 17;
  auto uniform = [&state] {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<double>(state >> 11) * 0x1.0p-53;
  };
  std::vector<IncidentWindow> incidents;
  const TimeMs t0 = 1'785'715'200'000;  // 2026-08-03T00:00:00Z
  for (size_t i = 0; i < n; ++i) {
    times[i] = t0 + static_cast<TimeMs>(i) * kMinuteMs;
    const bool burst = i % 4321 < 15;
    scores[i] = 0.42 + 0.06 * uniform() + (burst ? 0.12 * uniform() + 0.08 : 0.0);
    if (i % 4321 == 0 && incidents.size() < 12) {
      incidents.push_back({"i" + std::to_string(i), times[i], times[i] + 15 * kMinuteMs});
    }
  }
  TuneRequest req;
  req.max_delay_ms = 15 * kMinuteMs;
  std::vector<double> cpu;
  size_t evaluated = 0, pages = 0;
  const auto wall = Time(repeat, [&] {
    const double c0 = ThreadCpuSeconds();
    auto r = TuneAlerts(times, scores, req, incidents);
    cpu.push_back(ThreadCpuSeconds() - c0);
    if (r.ok()) {
      evaluated = r->evaluated;
      pages = r->chosen.pages;
    }
  });
  std::printf(
      "{\"rows\": %zu, \"incidents\": %zu, \"settings_judged\": %zu, \"chosen_pages\": %zu, "
      "\"tune_s\": %.3f, \"tune_cpu_s\": %.3f}\n",
      n, incidents.size(), evaluated, pages, Median(wall), Median(cpu));
  return evaluated > 0 ? 0 : 1;
}

int main(int argc, char** argv) {
  if (argc >= 2 && std::strcmp(argv[1], "features") == 0) {
    const int repeat = argc >= 4 && std::strcmp(argv[2], "--repeat") == 0 ? std::atoi(argv[3]) : 9;
    return Features(std::max(1, repeat));
  }
  if (argc >= 2 && std::strcmp(argv[1], "tune") == 0) {
    const int repeat = argc >= 4 && std::strcmp(argv[2], "--repeat") == 0 ? std::atoi(argv[3]) : 5;
    return RunTuneBench(std::max(1, repeat));
  }
  if (argc >= 2 && std::strcmp(argv[1], "explain") == 0) {
    size_t rows = 2000;
    int repeat = 5;
    for (int i = 2; i + 1 < argc; i += 2) {
      if (std::strcmp(argv[i], "--rows") == 0) rows = std::strtoul(argv[i + 1], nullptr, 10);
      if (std::strcmp(argv[i], "--repeat") == 0) repeat = std::max(1, std::atoi(argv[i + 1]));
    }
    return Explain(std::max<size_t>(rows, 1), repeat);
  }
  if (argc >= 4 && std::strcmp(argv[1], "write-data") == 0 && std::strcmp(argv[2], "--out") == 0) {
    const int days = argc >= 6 && std::strcmp(argv[4], "--days") == 0 ? std::atoi(argv[5]) : 90;
    return WriteData(argv[3], std::max(1, days));
  }
  if (argc >= 4 && std::strcmp(argv[1], "run") == 0 && std::strcmp(argv[2], "--csv") == 0) {
    const int repeat = argc >= 6 && std::strcmp(argv[4], "--repeat") == 0 ? std::atoi(argv[5]) : 5;
    return Run(argv[3], std::max(1, repeat));
  }
  if (argc >= 6 && std::strcmp(argv[1], "score-bundle") == 0 &&
      std::strcmp(argv[2], "--bundle") == 0 && std::strcmp(argv[4], "--csv") == 0) {
    const int repeat = argc >= 8 && std::strcmp(argv[6], "--repeat") == 0 ? std::atoi(argv[7]) : 5;
    return ScoreBundle(argv[3], argv[5], std::max(1, repeat));
  }
  if (argc >= 2 && std::strcmp(argv[1], "daemon") == 0) {
    size_t groups = 10000;
    int cycles = 10;
    LoadOptions load;
    bool seasonal = false, per_group = false;
    for (int i = 2; i < argc; ++i) {
      if (std::strcmp(argv[i], "--seasonal") == 0) {
        seasonal = true;
        continue;
      }
      if (std::strcmp(argv[i], "--per-group") == 0) {
        per_group = true;
        continue;
      }
      if (i + 1 >= argc) break;
      const char* value = argv[i + 1];
      if (std::strcmp(argv[i], "--groups") == 0) groups = std::strtoul(value, nullptr, 10);
      if (std::strcmp(argv[i], "--cycles") == 0) cycles = std::max(1, std::atoi(value));
      if (std::strcmp(argv[i], "--load-seconds") == 0) load.seconds = std::atoi(value);
      if (std::strcmp(argv[i], "--wrk") == 0) load.wrk = value;
      if (std::strcmp(argv[i], "--wrk-out") == 0) load.wrk_out = value;
      if (std::strcmp(argv[i], "--connections") == 0) load.connections = std::atoi(value);
      if (std::strcmp(argv[i], "--idle-cycles") == 0)
        load.idle_cycles = std::max(1, std::atoi(value));
      ++i;
    }
    if (load.seconds > 0 && load.wrk_out.empty()) {
      std::fprintf(stderr, "--load-seconds needs --wrk-out FILE\n");
      return 2;
    }
    return Daemon(std::max<size_t>(1, groups), cycles, load, seasonal, per_group);
  }
  std::fprintf(stderr,
               "usage: isoscope_bench write-data --out FILE [--days N]\n"
               "       isoscope_bench run --csv FILE [--repeat N]\n"
               "       isoscope_bench daemon [--groups N] [--cycles N] [--seasonal] [--per-group] "
               "[--load-seconds S --wrk PATH --wrk-out FILE [--connections N] "
               "[--idle-cycles N]]\n"
               "       isoscope_bench score-bundle --bundle B --csv F [--repeat N]\n"
               "       isoscope_bench features [--repeat N]\n");
  return 2;
}
