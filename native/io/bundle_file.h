#pragma once

#include <optional>
#include <string>

#include "isoscope/model.h"
#include "isoscope/status.h"

namespace isoscope::native {

/// Loads and checks a bundle file (checksum, structure, canaries). `scorer`, if given, receives
/// the scorer the checks built (DecodeBundle), for a caller about to score.
Result<Model> LoadBundle(const std::string& path, std::optional<ModelScorer>* scorer = nullptr);
/// The same checks on bytes already read from `path` (named in messages): the daemon keeps
/// the exact bytes it loaded, to serve them.
Result<Model> LoadBundleBytes(const std::string& bytes, const std::string& path,
                              std::optional<ModelScorer>* scorer = nullptr);

}  // namespace isoscope::native
