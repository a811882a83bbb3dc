// isoscope.yml: parsed with yaml-cpp, checked key by key so that every problem is reported
// with its line and what to write instead. No yaml-cpp exception leaves this folder.
// The parts: config_schema.h (key tables, defaults), yaml_check.h (unknown keys, types,
// lines), config_validate.h (values, cross-field checks), config_checker.h (the sections).
#include "config.h"

#include <yaml-cpp/yaml.h>

#include <optional>
#include <string>

#include "config_checker.h"
#include "file_io.h"

namespace isoscope::native {

std::vector<ConfigProblem> CheckConfigText(std::string_view yaml_text, const std::string& file_name,
                                           Config* out) {
  const size_t slash = file_name.rfind('/');
  std::optional<std::string> base_dir;
  if (slash != std::string::npos) base_dir = file_name.substr(0, slash);  // "" for "/x.yml"

  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml_text));
  } catch (const YAML::ParserException& e) {
    const int line = e.mark.is_null() ? 1 : e.mark.line + 1;
    return {{line, "YAML syntax error at column " + std::to_string(e.mark.column + 1) + ": " +
                       e.msg + config_detail::SyntaxHint(yaml_text, e.mark.line)}};
  } catch (const YAML::Exception& e) {
    return {{1, std::string("YAML error: ") + e.what()}};
  }
  config_detail::ConfigChecker checker(yaml_text, base_dir);
  Config config;
  try {
    checker.CheckRoot(root, &config);
  } catch (const YAML::Exception& e) {  // not expected: every access above is type-checked
    checker.Add(e.mark.is_null() ? 1 : e.mark.line + 1, "", std::string("YAML error: ") + e.msg);
  }
  std::vector<ConfigProblem> problems = checker.TakeProblems();
  if (problems.empty() && out != nullptr) *out = std::move(config);
  return problems;
}

Result<Config> LoadConfig(const std::string& path) {
  auto text = ReadSmallFile(path, kMaxConfigFileBytes);
  if (!text.ok()) return text.status();
  Config config;
  const std::vector<ConfigProblem> problems = CheckConfigText(*text, path, &config);
  if (problems.empty()) return config;
  std::string message;
  for (const ConfigProblem& p : problems) {
    message +=
        (message.empty() ? "" : "\n") + path + ":" + std::to_string(p.line) + ": " + p.message;
  }
  return Status(ErrorCode::kInvalidArgument, message);
}

}  // namespace isoscope::native
