// isoscope_bench write-data --out FILE          origin-like 129,600 x 5 CSV (no time column)
// isoscope_bench run --csv FILE [--repeat N]    JSON timings of fit, batch and one-row scoring
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "csv.h"
#include "demo_data.h"
#include "file_io.h"
#include "isoscope/bundle.h"
#include "isoscope/model.h"
#include "isoscope/text.h"

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

int WriteData(const std::string& out) {
  const native::DemoData d = native::GenerateDemoData(90, 7);
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

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 4 && std::strcmp(argv[1], "write-data") == 0 && std::strcmp(argv[2], "--out") == 0) {
    return WriteData(argv[3]);
  }
  if (argc >= 4 && std::strcmp(argv[1], "run") == 0 && std::strcmp(argv[2], "--csv") == 0) {
    const int repeat = argc >= 6 && std::strcmp(argv[4], "--repeat") == 0 ? std::atoi(argv[5]) : 5;
    return Run(argv[3], std::max(1, repeat));
  }
  std::fprintf(stderr,
               "usage: isoscope_bench write-data --out FILE\n"
               "       isoscope_bench run --csv FILE [--repeat N]\n");
  return 2;
}
