#include "support/golden.h"

#include <dirent.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "model_json.h"

namespace isoscope::testing {

std::string GoldenPath(const std::string& relative) {
  return std::string(ISOSCOPE_GOLDEN_DIR) + "/" + relative;
}

std::string ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw std::runtime_error("cannot open " + path);
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> GoldenCaseNames() {
  std::vector<std::string> names;
  const std::string root = GoldenPath("sklearn");
  if (DIR* d = opendir(root.c_str())) {
    while (dirent* e = readdir(d)) {
      const std::string name = e->d_name;
      if (name[0] != '.' && std::ifstream(root + "/" + name + "/case.json").good()) {
        names.push_back(name);
      }
    }
    closedir(d);
  }
  std::sort(names.begin(), names.end());
  return names;
}

GoldenCase LoadGoldenCase(const std::string& name) {
  GoldenCase c;
  c.name = name;
  c.dir = GoldenPath("sklearn/" + name);
  c.config = nlohmann::json::parse(ReadText(c.dir + "/case.json"));
  c.model = nlohmann::json::parse(ReadText(c.dir + "/model.json"));
  native::CsvOptions options;
  options.no_time = true;
  auto train = native::ParseCsv(ReadText(c.dir + "/train.csv"), options, "train.csv");
  auto score = native::ParseCsv(ReadText(c.dir + "/score.csv"), options, "score.csv");
  if (!train.ok() || !score.ok()) {
    throw std::runtime_error("golden CSV of " + name + " does not parse");
  }
  c.train = std::move(train).value();
  c.score = std::move(score).value();
  native::CsvOptions expected_options;
  expected_options.no_time = true;
  auto expected =
      native::ParseCsv(ReadText(c.dir + "/expected.csv"), expected_options, "expected.csv");
  if (!expected.ok() || expected->feature_names.size() != 4) {
    throw std::runtime_error("expected.csv of " + name + " does not parse");
  }
  c.score_samples = expected->series[1];
  c.decision = expected->series[2];
  for (double p : expected->series[3]) {
    c.predict.push_back(static_cast<int>(p));
  }
  return c;
}

IForestParams ParamsOf(const GoldenCase& c) {
  auto p = native::ParamsFromJson(c.config);
  if (!p.ok()) {
    throw std::runtime_error("case.json of " + c.name + ": " + p.status().message());
  }
  return *p;
}

std::vector<double> RowMajor(const native::CsvData& data) {
  std::vector<double> out;
  out.reserve(data.rows * data.series.size());
  for (size_t i = 0; i < data.rows; ++i) {
    for (const auto& s : data.series) {
      out.push_back(s[i]);
    }
  }
  return out;
}

}  // namespace isoscope::testing
