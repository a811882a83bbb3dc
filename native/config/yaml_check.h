#pragma once

// The generic half of the isoscope.yml checker: a list of problems with their lines, the keys
// of a mapping (duplicates, unknown keys with a "did you mean"), and typed values (strings,
// durations, numbers, booleans, lists, secret files), each read with a message that says what
// to write instead. config_checker.h walks the file's sections with it. Internal to
// native/config.

#include <yaml-cpp/yaml.h>

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config.h"
#include "config_schema.h"

namespace isoscope::native::config_detail {

// One key of a mapping as written in the file.
struct Entry {
  std::string key;
  int line = 0;  // the key's line
  YAML::Node value;
};

const Entry* Get(const std::vector<Entry>& entries, const char* key);
std::string Join(const std::string& path, const std::string& key);
int LineOf(const YAML::Node& node, int fallback);
// "a list", "a mapping", "empty" or "a single value", for messages.
const char* KindOf(const YAML::Node& node);
std::string Lower(std::string_view s);
// What to check on `line` of `text` after a YAML syntax error there.
std::string SyntaxHint(std::string_view text, int line);

class YamlChecker {
 public:
  // `base_dir`: the directory relative paths are resolved against; nullopt = the current one.
  YamlChecker(std::string_view text, std::optional<std::string> base_dir)
      : text_(text), base_dir_(std::move(base_dir)) {}

  std::vector<ConfigProblem> TakeProblems();

  // The first kMaxProblems are kept; a file of a million bad keys gets a bounded report.
  void Add(int line, const std::string& path, const std::string& what);

 protected:
  // Problems so far, counting those not kept.
  size_t ProblemCount() const { return problems_.size() + dropped_; }

  // The line of a node; an empty one (a bare "-") is marked at the token after it, so its line
  // is the one of the last character before that token.
  int LineOfItem(const YAML::Node& node, int fallback) const;

  // Every key of a mapping, in order; duplicates and non-scalar keys are problems.
  std::vector<Entry> Entries(const YAML::Node& map, const std::string& path);

  // The known keys of a mapping; unknown keys are problems with a suggestion.
  std::vector<Entry> Fields(const YAML::Node& map, const std::string& path, const Section& section);

  // A mapping section, or a problem saying it must be one.
  bool IsMapping(const Entry& e, const std::string& path, const std::string& example);

  bool GetScalar(const YAML::Node& node, int line, const std::string& path,
                 const std::string& example, std::string* out);

  bool GetString(const Entry& e, const std::string& path, const std::string& example,
                 std::string* out);

  bool GetDuration(const Entry& e, const std::string& path, TimeMs min, TimeMs* out);

  bool GetInt(const Entry& e, const std::string& path, int64_t lo, int64_t hi,
              const std::string& example, int64_t* out);

  // A finite number in (lo, hi] (or [lo, hi] with `lo_inclusive`).
  bool GetNumber(const Entry& e, const std::string& path, double lo, double hi, bool lo_inclusive,
                 const std::string& example, double* out);

  bool GetBool(const Entry& e, const std::string& path, bool* out);

  // A list of non-empty strings, each with its line.
  bool GetList(const Entry& e, const std::string& path, const std::string& example,
               std::vector<std::pair<std::string, int>>* out);

  std::string Resolve(const std::string& path) const;

  // The first line of a secret file, without trailing blanks; a problem when unusable.
  bool ReadSecretFile(const Entry& e, const std::string& path, const std::string& file,
                      std::string* secret);

 private:
  std::string_view text_;
  std::optional<std::string> base_dir_;
  static constexpr size_t kMaxProblems = 1000;
  std::vector<ConfigProblem> problems_;
  size_t dropped_ = 0;
};

}  // namespace isoscope::native::config_detail
