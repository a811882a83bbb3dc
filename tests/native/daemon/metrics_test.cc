// The /metrics text of the group families (GroupFamilies, written by WriteMetrics) against the
// independent reference: prometheus-cpp's own TextSerializer on the same values held as
// prometheus-cpp gauges, which is how the daemon exported them before.

#include "metrics.h"

#include <gtest/gtest.h>
#include <prometheus/text_serializer.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace isoscope::native {
namespace {

using Fam = GroupFamilies::Family;

// A page as Prometheus reads it: per family its HELP and TYPE lines and its series lines,
// sorted (prometheus-cpp writes a family's series in hash order; Prometheus accepts any).
// A family that appears twice, or a series line outside a family, fails the test.
struct Page {
  std::vector<std::string> order;  // family names as they appear
  std::map<std::string, std::vector<std::string>> head, series;
};

Page Parse(const std::string& text) {
  Page p;
  std::istringstream in(text);
  std::string line, current;
  while (std::getline(in, line)) {
    if (line.rfind("# HELP ", 0) == 0) {
      current = line.substr(7, line.find(' ', 7) - 7);
      EXPECT_EQ(p.head.count(current), 0u) << "family listed twice: " << current;
      p.order.push_back(current);
      p.head[current].push_back(line);
    } else if (line.rfind("# TYPE ", 0) == 0) {
      p.head[current].push_back(line);
    } else if (!line.empty()) {
      EXPECT_FALSE(current.empty()) << line;
      EXPECT_EQ(line.rfind(current, 0), 0u) << "series outside its family: " << line;
      p.series[current].push_back(line);
    }
  }
  for (auto& [name, lines] : p.series) std::sort(lines.begin(), lines.end());
  return p;
}

// The same values twice: in the exporter's GroupFamilies, and as prometheus-cpp gauges of a
// second registry (the reference).
class Mirror {
 public:
  Mirror() : metrics_(std::make_shared<prometheus::Registry>()) {
    for (int f = 0; f < GroupFamilies::kFamilies; ++f) {
      ref_fam_[f] = &prometheus::BuildGauge()
                         .Name(GroupFamilies::Name(static_cast<Fam>(f)))
                         .Help(GroupFamilies::Help(static_cast<Fam>(f)))
                         .Register(ref_);
    }
  }
  size_t Add(const prometheus::Labels& labels) {
    groups_.push_back({labels, metrics_.groups.Add(labels), {}});
    return groups_.size() - 1;
  }
  void Set(size_t g, Fam f, double value) {
    metrics_.groups.Set(groups_[g].slot, f, value);
    prometheus::Gauge*& gauge = groups_[g].ref[f];
    if (gauge == nullptr) gauge = &ref_fam_[f]->Add(groups_[g].labels);
    gauge->Set(value);
  }
  void Clear(size_t g, Fam f1, Fam f2) {
    metrics_.groups.Clear(groups_[g].slot, f1, f2);
    for (Fam f : {f1, f2}) {
      if (groups_[g].ref[f] != nullptr) ref_fam_[f]->Remove(groups_[g].ref[f]);
      groups_[g].ref[f] = nullptr;
    }
  }
  void Remove(size_t g) {
    metrics_.groups.Remove(groups_[g].slot);
    for (prometheus::Gauge*& gauge : groups_[g].ref) {
      if (gauge != nullptr) ref_fam_[&gauge - groups_[g].ref]->Remove(gauge);
      gauge = nullptr;
    }
  }
  ExporterMetrics& metrics() { return metrics_; }
  // The old page: the exporter's registry and the reference gauges, both by prometheus-cpp.
  std::string Reference() {
    std::ostringstream out;
    prometheus::TextSerializer().Serialize(out, metrics_.registry->Collect());
    prometheus::TextSerializer().Serialize(out, ref_.Collect());
    return out.str();
  }

 private:
  struct Group {
    prometheus::Labels labels;
    GroupFamilies::Slot slot;
    prometheus::Gauge* ref[GroupFamilies::kFamilies];
  };
  ExporterMetrics metrics_;
  prometheus::Registry ref_;
  prometheus::Family<prometheus::Gauge>* ref_fam_[GroupFamilies::kFamilies];
  std::vector<Group> groups_;
};

void ExpectSamePage(const std::string& ours, const std::string& reference) {
  const Page a = Parse(ours), b = Parse(reference);
  EXPECT_EQ(a.head, b.head);
  EXPECT_EQ(a.series, b.series);
  EXPECT_EQ(a.order.size(), b.order.size());
}

TEST(GroupFamilies, PageEqualsPrometheusCppsForTheSameValues) {
  Mirror m;
  ExporterMetrics& em = m.metrics();
  em.threshold.Add({{"detector", "d"}}).Set(0.61);
  em.query_errors.Add({{"detector", "d"}}).Increment(3);
  em.query_duration.Add({{"detector", "d"}}, ExporterMetrics::DurationBuckets()).Observe(0.02);
  // Label values that need escaping, UTF-8, empty, and several labels (sorted by name).
  const std::vector<prometheus::Labels> labels = {
      {{"detector", "d"}, {"job", "api"}},
      {{"detector", "d"}, {"job", "quote\"back\\slash\nnewline"}},
      {{"detector", "d"}, {"job", ""}},
      {{"detector", "d"}, {"job", "caf\xc3\xa9 \xe2\x9c\x93"}},
      {{"shard", "1/3"}, {"detector", "d"}, {"job", "x"}, {"instance", "h:9090"}},
      {{"detector", "e"}, {"job", "api"}},
  };
  // Values where %.16g, shortest round trip and iostream defaults differ.
  const double values[] = {0.1,
                           0.30000000000000004,
                           1e21,
                           1e-7,
                           -0.0,
                           std::numeric_limits<double>::quiet_NaN(),
                           std::numeric_limits<double>::infinity(),
                           -std::numeric_limits<double>::infinity(),
                           123456789.125,
                           1.0 / 3,
                           2,
                           1e16,
                           12345678901234567.0,
                           5e-324,
                           std::numeric_limits<double>::max(),
                           0.5123456789012345678};
  size_t k = 0;
  for (const prometheus::Labels& l : labels) {
    const size_t g = m.Add(l);
    for (int f = 0; f < GroupFamilies::kFamilies; ++f) {
      m.Set(g, static_cast<Fam>(f), values[k++ % std::size(values)]);
    }
  }
  m.Set(1, GroupFamilies::kScore, 0.25);                            // set again
  m.Clear(2, GroupFamilies::kSurprise, GroupFamilies::kOnset);      // no surprise for one group
  m.Remove(3);                                                      // a group gone
  const size_t again = m.Add({{"detector", "d"}, {"job", "new"}});  // takes the freed slot
  m.Set(again, GroupFamilies::kScore, 0.75);
  ExpectSamePage(SerializeMetrics(em), m.Reference());

  // Where prometheus-cpp listed the group families when they were its gauges (registered
  // first): after the counters, before every other gauge and the histograms.
  const Page page = Parse(SerializeMetrics(em));
  const std::vector<std::string> want = {"isoscope_query_errors_total",
                                         "isoscope_http_listener_failures_total",
                                         "anomaly_score",
                                         "anomaly_is_anomaly",
                                         "anomaly_surprise",
                                         "anomaly_onset",
                                         "anomaly_threshold"};
  ASSERT_GE(page.order.size(), want.size());
  EXPECT_EQ(std::vector<std::string>(page.order.begin(), page.order.begin() + want.size()), want);
  EXPECT_EQ(page.order.back(), "isoscope_query_duration_seconds");
}

// Random bit patterns (every exponent, subnormals, NaNs) and random label bytes: the text must
// match prometheus-cpp's for each.
TEST(GroupFamilies, RandomValuesAndLabelsPrintAsPrometheusCpp) {
  Mirror m;
  std::mt19937_64 rng(7);
  const std::string alphabet = "az09_-.:/ \"\\\n{}=,\t\xc3\xa9";
  for (int i = 0; i < 3000; ++i) {
    std::string job;
    const size_t n = rng() % 12;
    for (size_t c = 0; c < n; ++c) job += alphabet[rng() % alphabet.size()];
    const size_t g = m.Add({{"detector", "d"}, {"job", job + "#" + std::to_string(i)}});
    for (int f = 0; f < GroupFamilies::kFamilies; ++f) {
      const uint64_t bits = rng();
      double v;
      std::memcpy(&v, &bits, sizeof v);
      if (f == 1) v = static_cast<double>(rng() % 2);  // is_anomaly: 0 or 1
      if (f == 2) v = std::ldexp(static_cast<double>(rng() % 100000), -(int)(rng() % 20));
      m.Set(g, static_cast<Fam>(f), v);
    }
  }
  ExpectSamePage(SerializeMetrics(m.metrics()), m.Reference());
}

TEST(GroupFamilies, WrittenInChunksThatJoinToThePage) {
  Mirror m;
  for (int i = 0; i < 5000; ++i) {
    const size_t g = m.Add({{"detector", "d"}, {"job", "job-" + std::to_string(i)}});
    m.Set(g, GroupFamilies::kScore, 0.5 + i * 1e-5);
  }
  std::string joined;
  size_t chunks = 0, largest = 0;
  WriteMetrics(m.metrics(), [&](std::string_view chunk) {
    joined.append(chunk);
    ++chunks;
    largest = std::max(largest, chunk.size());
  });
  EXPECT_EQ(joined, SerializeMetrics(m.metrics()));
  EXPECT_GT(chunks, 2u);  // 5,000 lines of ~50 bytes: several 64 KB chunks, not one string
  EXPECT_LT(largest, 80u * 1024);
  EXPECT_EQ(m.metrics().groups.Count(GroupFamilies::kScore), 5000u);
  EXPECT_EQ(m.metrics().groups.Count(GroupFamilies::kOnset), 0u);
  ExpectSamePage(joined, m.Reference());
}

TEST(GroupFamilies, LabelsRenderedAsTheTextFormatWantsThem) {
  EXPECT_EQ(RenderLabels({}), "");
  EXPECT_EQ(RenderLabels({{"job", "a\"b\\c\nd"}, {"detector", "x"}}),
            "{detector=\"x\",job=\"a\\\"b\\\\c\\nd\"}");
  std::string out;
  for (double v : {0.1, 1e21, -0.0, 2.0}) {
    AppendMetricValue(out, v);
    out += ' ';
  }
  EXPECT_EQ(out, "0.1 1e+21 -0 2 ");  // by hand: printf("%.16g")
}

}  // namespace
}  // namespace isoscope::native
