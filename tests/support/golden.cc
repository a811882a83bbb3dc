#include "support/golden.h"

#include <dirent.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

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

GoldenTable ParseGoldenCsv(const std::string& text, const std::string& name) {
  GoldenTable t;
  std::istringstream in(text);
  std::string line;
  if (!std::getline(in, line)) throw std::runtime_error(name + " is empty");
  std::istringstream header(line);
  for (std::string cell; std::getline(header, cell, ',');) t.feature_names.push_back(cell);
  t.series.resize(t.feature_names.size());
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    std::istringstream row(line);
    size_t k = 0;
    for (std::string cell; std::getline(row, cell, ','); ++k) {
      // strtod is correctly rounded in glibc: the double Python wrote, bit for bit.
      char* end = nullptr;
      const double v = std::strtod(cell.c_str(), &end);
      if (cell.empty() || end != cell.c_str() + cell.size() || k >= t.series.size()) {
        throw std::runtime_error(name + ": bad row '" + line + "'");
      }
      t.series[k].push_back(v);
    }
    if (k != t.series.size()) throw std::runtime_error(name + ": short row '" + line + "'");
    ++t.rows;
  }
  return t;
}

GoldenCase LoadGoldenCase(const std::string& name) {
  GoldenCase c;
  c.name = name;
  c.dir = GoldenPath("sklearn/" + name);
  c.config = nlohmann::json::parse(ReadText(c.dir + "/case.json"));
  c.model = nlohmann::json::parse(ReadText(c.dir + "/model.json"));
  c.train = ParseGoldenCsv(ReadText(c.dir + "/train.csv"), name + "/train.csv");
  c.score = ParseGoldenCsv(ReadText(c.dir + "/score.csv"), name + "/score.csv");
  const GoldenTable expected =
      ParseGoldenCsv(ReadText(c.dir + "/expected.csv"), name + "/expected.csv");
  if (expected.feature_names.size() != 4) {
    throw std::runtime_error("expected.csv of " + name + " does not have 4 columns");
  }
  c.score_samples = expected.series[1];
  c.decision = expected.series[2];
  for (double p : expected.series[3]) {
    c.predict.push_back(static_cast<int>(p));
  }
  return c;
}

// case.json holds IsolationForest's constructor arguments as scikit-learn takes them.
IForestParams ParamsOf(const GoldenCase& c) {
  const nlohmann::json& j = c.config;
  IForestParams p;
  if (j.contains("n_estimators")) p.n_estimators = j["n_estimators"].get<int32_t>();
  if (j.contains("max_samples")) {
    const nlohmann::json& v = j["max_samples"];
    p.max_samples = v.is_string()           ? MaxSamples::Auto()
                    : v.is_number_integer() ? MaxSamples::Count(v.get<int64_t>())
                                            : MaxSamples::Fraction(v.get<double>());
  }
  if (j.contains("max_features")) {
    const nlohmann::json& v = j["max_features"];
    p.max_features = v.is_number_integer() ? MaxFeatures::Count(v.get<int64_t>())
                                           : MaxFeatures::Fraction(v.get<double>());
  }
  if (j.contains("contamination")) {
    const nlohmann::json& v = j["contamination"];
    p.contamination =
        v.is_string() ? Contamination::Auto() : Contamination::Fraction(v.get<double>());
  }
  if (j.contains("bootstrap")) p.bootstrap = j["bootstrap"].get<bool>();
  if (j.contains("random_state") && !j["random_state"].is_null()) {
    p.random_state = j["random_state"].get<uint32_t>();
  }
  return p;
}

std::vector<double> RowMajor(const GoldenTable& data) {
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
