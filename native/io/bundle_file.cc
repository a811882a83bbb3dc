#include "bundle_file.h"

#include <cstdio>
#include <vector>

#include "file_io.h"
#include "isoscope/bundle.h"

namespace isoscope::native {

Result<Model> LoadBundle(const std::string& path, std::optional<ModelScorer>* scorer) {
  // Header first: a FIFO, /dev/zero or a file whose size disagrees with its header is refused
  // before its body is read.
  auto bytes = ReadBundleFile(path);
  if (!bytes.ok()) {
    return bytes.status();
  }
  return LoadBundleBytes(*bytes, path, scorer);
}

Result<Model> LoadBundleBytes(const std::string& bytes, const std::string& path,
                              std::optional<ModelScorer>* scorer) {
  std::vector<std::string> warnings;
  auto model = DecodeBundle(bytes.data(), bytes.size(), DecodeOptions{}, &warnings, scorer);
  for (const std::string& w : warnings) {
    std::fprintf(stderr, "warning: %s: %s\n", path.c_str(), w.c_str());
  }
  if (!model.ok()) {
    return Status(model.status().code(), path + ": " + model.status().message());
  }
  return model;
}

}  // namespace isoscope::native
