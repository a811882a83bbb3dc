#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "isoscope/model.h"
#include "isoscope/status.h"

namespace isoscope {

/// Bundle format version, independent of the software version. Readers load any 1.x file
/// (skipping fields they do not know) and refuse other majors. See core/BUNDLE_FORMAT.md.
constexpr uint16_t kBundleFormatMajor = 1;
/// 1.1 added temporal derived features and features.step_ms. A writer marks a bundle 1.1 only
/// when it uses them, so bundles a 1.0 reader can score stay 1.0. 1.2 added
/// seasonal_median_diff and features.raw_inputs (a 1.1 reader refuses the kind, or finds the
/// width wrong), written only when a spec uses them. 1.3 added `calibration` (the training
/// scores' count, mean and standard deviation, for the calibrated surprise), written whenever
/// the model has training scores; older readers ignore it and score as before. 1.4 added the
/// median_diff kind (a 1.3 reader refuses it), written only when a spec uses it. 1.5 added
/// `group` (the label set of a per-group model), an optional key older readers ignore.
constexpr uint16_t kBundleFormatMinor = 5;
/// Bundles larger than this are refused before parsing.
constexpr size_t kMaxBundleBytes = 256u << 20;

/// Serialises a model into bundle bytes (msgpack, checksummed).
std::string EncodeBundle(const Model& model);

struct DecodeOptions {
  bool check_canaries = true;  ///< re-score the canaries (always on when serving)
};

/// Parses bundle bytes into a model after checking magic, version, size, checksum, structure
/// and canaries. Never throws; a bad file gives kForeign, kTruncated, kCorrupt,
/// kUnsupportedVersion or kCanaryMismatch with a message that names the problem.
/// Non-fatal findings (a newer minor version) are appended to `warnings` if given. `scorer`, if
/// given, receives on success the ModelScorer the decode built for its checks, for a caller
/// about to score: the forest is then compiled once, not twice.
Result<Model> DecodeBundle(const void* data, size_t size, const DecodeOptions& options = {},
                           std::vector<std::string>* warnings = nullptr,
                           std::optional<ModelScorer>* scorer = nullptr);

/// "YYYYMMDD-xxxxxxxx": the creation date (UTC) and a hash of what decides the scores
/// (feature spec, scaler, forest, offset), so equal models get equal versions.
std::string ComputeModelVersion(const Model& model);

/// CRC-32 (IEEE 802.3, as zlib.crc32), the bundle body checksum.
uint32_t Crc32(const void* data, size_t size);

/// Civil date "YYYYMMDD" of a time in ms since the epoch, UTC.
std::string FormatDateYmd(TimeMs t);

}  // namespace isoscope
