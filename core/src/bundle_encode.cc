// Bundle writer. Numbers that decide scores are written as float64 / fixed-width little-endian
// arrays in msgpack bin fields, so the file is compact and every target reads the same bits.
#include <msgpack.hpp>

#include <cstring>

#include "detail/bundle_layout.h"
#include "isoscope/bundle.h"

namespace isoscope {
namespace {

// msgpack-c packs integral doubles as integers; bundle floats are always float64 (0xcb),
// so readers see fixed types and -0.0 keeps its sign.
class Packer : public msgpack::packer<msgpack::sbuffer> {
 public:
  explicit Packer(msgpack::sbuffer* buf) : msgpack::packer<msgpack::sbuffer>(buf), buf_(buf) {}
  void pack_double(double v) {
    uint64_t bits;
    std::memcpy(&bits, &v, sizeof bits);
    char out[9];
    out[0] = static_cast<char>(0xcb);
    for (int i = 0; i < 8; ++i) {
      out[1 + i] = static_cast<char>((bits >> (56 - 8 * i)) & 0xFF);
    }
    buf_->write(out, sizeof out);
  }

 private:
  msgpack::sbuffer* buf_;
};

void Key(Packer& pk, const char* key) {
  const size_t len = std::strlen(key);
  pk.pack_str(static_cast<uint32_t>(len));
  pk.pack_str_body(key, static_cast<uint32_t>(len));
}

void Str(Packer& pk, const std::string& s) {
  pk.pack_str(static_cast<uint32_t>(s.size()));
  pk.pack_str_body(s.data(), static_cast<uint32_t>(s.size()));
}

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "bundle arrays are little-endian and copied as is; add byte swapping first");

template <typename T>
void AppendLe(std::string& out, T v) {
  char bytes[sizeof(T)];
  std::memcpy(bytes, &v, sizeof(T));
  out.append(bytes, sizeof(T));
}

template <typename T, typename U>
void LeArray(Packer& pk, const std::vector<U>& values) {
  std::string raw;
  raw.reserve(values.size() * sizeof(T));
  for (const U& v : values) {
    AppendLe<T>(raw, static_cast<T>(v));
  }
  pk.pack_bin(static_cast<uint32_t>(raw.size()));
  pk.pack_bin_body(raw.data(), static_cast<uint32_t>(raw.size()));
}

void PackParams(Packer& pk, const IForestParams& p) {
  pk.pack_map(6);
  Key(pk, "n_estimators");
  pk.pack_int32(p.n_estimators);
  Key(pk, "max_samples");
  pk.pack_map(2);
  Key(pk, "kind");
  Str(pk, p.max_samples.kind == MaxSamples::Kind::kAuto    ? "auto"
          : p.max_samples.kind == MaxSamples::Kind::kCount ? "count"
                                                           : "fraction");
  Key(pk, "value");
  if (p.max_samples.kind == MaxSamples::Kind::kFraction) {
    pk.pack_double(p.max_samples.fraction);
  } else {
    pk.pack_int64(p.max_samples.count);
  }
  Key(pk, "max_features");
  pk.pack_map(2);
  Key(pk, "kind");
  Str(pk, p.max_features.kind == MaxFeatures::Kind::kCount ? "count" : "fraction");
  Key(pk, "value");
  if (p.max_features.kind == MaxFeatures::Kind::kCount) {
    pk.pack_int64(p.max_features.count);
  } else {
    pk.pack_double(p.max_features.fraction);
  }
  Key(pk, "contamination");
  if (p.contamination.is_auto) {
    Str(pk, "auto");
  } else {
    pk.pack_double(p.contamination.value);
  }
  Key(pk, "bootstrap");
  p.bootstrap ? pk.pack_true() : pk.pack_false();
  Key(pk, "random_state");
  pk.pack_uint32(p.random_state);
}

void PackSpec(Packer& pk, const FeatureSpec& spec) {
  const bool temporal = spec.has_temporal();
  pk.pack_map((temporal ? 4 : 3) + (spec.raw_inputs ? 0 : 1));
  Key(pk, "inputs");
  pk.pack_array(static_cast<uint32_t>(spec.inputs.size()));
  for (const std::string& s : spec.inputs) {
    Str(pk, s);
  }
  Key(pk, "derived");
  pk.pack_array(static_cast<uint32_t>(spec.derived.size()));
  for (const DerivedFeature& f : spec.derived) {
    const bool median = f.kind == DerivedFeature::Kind::kSeasonalMedianDiff;
    pk.pack_map(median ? 5 : 3);
    Key(pk, "kind");
    Str(pk, f.KindName());
    Key(pk, "input");
    pk.pack_int32(f.input);
    Key(pk, "window_ms");
    pk.pack_int64(f.window_ms);
    if (median) {
      Key(pk, "periods");
      pk.pack_int32(f.periods);
      Key(pk, "smooth_ms");
      pk.pack_int64(f.smooth_ms);
    }
  }
  Key(pk, "deploy_windows");
  std::vector<int32_t> flat;
  for (const WeeklyWindow& w : spec.deploy_windows) {
    flat.push_back(w.start_minute);
    flat.push_back(w.end_minute);
  }
  LeArray<int32_t>(pk, flat);
  if (temporal) {
    Key(pk, "step_ms");
    pk.pack_int64(spec.step_ms);
  }
  if (!spec.raw_inputs) {
    Key(pk, "raw_inputs");
    pk.pack_false();
  }
}

void PackScaler(Packer& pk, const Scaler& s) {
  pk.pack_map(3);
  Key(pk, "kind");
  Str(pk, s.kind == Scaler::Kind::kStandard ? "standard" : "none");
  Key(pk, "mean");
  LeArray<double>(pk, s.mean);
  Key(pk, "scale");
  LeArray<double>(pk, s.scale);
}

void PackForest(Packer& pk, const Forest& f) {
  pk.pack_map(7);
  Key(pk, "n_features");
  pk.pack_int32(f.n_features);
  Key(pk, "max_samples");
  pk.pack_int32(f.max_samples);
  Key(pk, "max_features");
  pk.pack_int32(f.max_features);
  Key(pk, "c_max_samples");
  pk.pack_double(f.c_max_samples);
  std::vector<int32_t> leaf_n;
  std::vector<double> leaf_c;
  for (const auto& [n, c] : f.leaf_c) {
    leaf_n.push_back(n);
    leaf_c.push_back(c);
  }
  Key(pk, "leaf_n");
  LeArray<uint32_t>(pk, leaf_n);
  Key(pk, "leaf_c");
  LeArray<double>(pk, leaf_c);
  Key(pk, "trees");
  pk.pack_array(static_cast<uint32_t>(f.trees.size()));
  for (const Tree& t : f.trees) {
    // Nodes are in sklearn's pre-order, so children are implied by which nodes are leaves;
    // only split thresholds are stored.
    std::vector<uint16_t> feature;
    std::vector<double> threshold;
    for (size_t i = 0; i < t.node_count(); ++i) {
      if (t.children_left[i] == -1) {
        feature.push_back(detail::kLeafFeature);
      } else {
        feature.push_back(static_cast<uint16_t>(t.feature[i]));
        threshold.push_back(t.threshold[i]);
      }
    }
    pk.pack_map(4);
    Key(pk, "features");
    LeArray<uint16_t>(pk, t.features);
    Key(pk, "feature");
    LeArray<uint16_t>(pk, feature);
    Key(pk, "threshold");
    LeArray<double>(pk, threshold);
    Key(pk, "n_node_samples");
    LeArray<uint32_t>(pk, t.n_node_samples);
  }
}

void PackQuantiles(Packer& pk, const QuantileTable& q) {
  pk.pack_map(2);
  Key(pk, "contamination");
  LeArray<double>(pk, q.contamination);
  Key(pk, "threshold");
  LeArray<double>(pk, q.threshold);
}

void PackCalibration(Packer& pk, const ScoreCalibration& c) {
  pk.pack_map(3);
  Key(pk, "count");
  pk.pack_int64(c.count);
  Key(pk, "mean");
  pk.pack_double(c.mean);
  Key(pk, "stddev");
  pk.pack_double(c.stddev);
}

void PackCanaries(Packer& pk, const std::vector<Canary>& canaries) {
  pk.pack_array(static_cast<uint32_t>(canaries.size()));
  for (const Canary& c : canaries) {
    pk.pack_map(3);
    Key(pk, "label");
    Str(pk, c.label);
    Key(pk, "features");
    LeArray<double>(pk, c.features);
    Key(pk, "anomaly_score");
    pk.pack_double(c.anomaly_score);
  }
}

void PackInfo(Packer& pk, const TrainingInfo& i) {
  pk.pack_map(14);
  Key(pk, "engine_version");
  Str(pk, i.engine_version);
  Key(pk, "created_ms");
  pk.pack_int64(i.created_ms);
  Key(pk, "has_time");
  i.has_time ? pk.pack_true() : pk.pack_false();
  Key(pk, "window_start_ms");
  pk.pack_int64(i.window_start_ms);
  Key(pk, "window_end_ms");
  pk.pack_int64(i.window_end_ms);
  Key(pk, "rows_total");
  pk.pack_int64(i.rows_total);
  Key(pk, "rows_used");
  pk.pack_int64(i.rows_used);
  Key(pk, "rows_dropped");
  pk.pack_int64(i.rows_dropped);
  Key(pk, "dropped_by_reason");
  pk.pack_map(static_cast<uint32_t>(i.dropped_by_reason.size()));
  for (const auto& [reason, count] : i.dropped_by_reason) {
    Str(pk, reason);
    pk.pack_int64(count);
  }
  Key(pk, "full_weeks");
  pk.pack_int32(i.full_weeks);
  Key(pk, "flagged_fraction");
  pk.pack_double(i.flagged_fraction);
  Key(pk, "contamination_explicit");
  i.contamination_explicit ? pk.pack_true() : pk.pack_false();
  Key(pk, "source");
  Str(pk, i.source);
  Key(pk, "warnings");
  pk.pack_array(static_cast<uint32_t>(i.warnings.size()));
  for (const std::string& w : i.warnings) {
    Str(pk, w);
  }
}

void PutBe(std::string& out, size_t offset, uint64_t v, size_t bytes) {
  for (size_t k = 0; k < bytes; ++k) {
    out[offset + k] = static_cast<char>((v >> (8 * (bytes - 1 - k))) & 0xFF);
  }
}

}  // namespace

std::string ComputeModelVersion(const Model& model) {
  msgpack::sbuffer buf;
  Packer pk(&buf);
  pk.pack_array(4);
  PackSpec(pk, model.spec);
  PackScaler(pk, model.scaler);
  PackForest(pk, model.forest);
  pk.pack_double(model.offset);
  // FNV-1a 64: a short, stable name for the content, not a security property.
  uint64_t h = 14695981039346656037ull;
  for (size_t i = 0; i < buf.size(); ++i) {
    h ^= static_cast<uint8_t>(buf.data()[i]);
    h *= 1099511628211ull;
  }
  char hex[16];
  std::snprintf(hex, sizeof hex, "%08x", static_cast<unsigned>(h >> 32));
  return FormatDateYmd(model.info.created_ms) + "-" + hex;
}

// group: {labels: {name: value, ...} sorted by name, hash: 16 hex digits}.
void PackGroup(Packer& pk, const ModelGroup& g) {
  pk.pack_map(2);
  Key(pk, "labels");
  pk.pack_map(static_cast<uint32_t>(g.labels.size()));
  for (const auto& [name, value] : g.labels) {
    Str(pk, name);
    Str(pk, value);
  }
  Key(pk, "hash");
  Str(pk, g.hash);
}

std::string EncodeBundle(const Model& model) {
  msgpack::sbuffer body;
  Packer pk(&body);
  const bool calibrated = model.calibration.count > 0;
  const bool grouped = !model.group.empty();
  pk.pack_map(10 + (calibrated ? 1 : 0) + (grouped ? 1 : 0));
  Key(pk, "model_version");
  Str(pk, model.model_version);
  Key(pk, "params");
  PackParams(pk, model.params);
  Key(pk, "features");
  PackSpec(pk, model.spec);
  Key(pk, "scaler");
  PackScaler(pk, model.scaler);
  Key(pk, "forest");
  PackForest(pk, model.forest);
  Key(pk, "offset");
  pk.pack_double(model.offset);
  Key(pk, "quantiles");
  PackQuantiles(pk, model.quantiles);
  if (calibrated) {
    Key(pk, "calibration");
    PackCalibration(pk, model.calibration);
  }
  Key(pk, "canaries");
  PackCanaries(pk, model.canaries);
  Key(pk, "training");
  PackInfo(pk, model.info);
  if (grouped) {
    Key(pk, "group");
    PackGroup(pk, model.group);
  }
  Key(pk, "format_note");
  Str(pk, "isoscope model bundle; see core/BUNDLE_FORMAT.md");

  std::string out(detail::kHeaderSize, '\0');
  out[0] = static_cast<char>(0x95);
  out[1] = static_cast<char>(0xa0 | detail::kMagicLen);
  std::memcpy(&out[2], detail::kMagic, detail::kMagicLen);
  out[detail::kMajorOffset - 1] = static_cast<char>(0xcd);
  PutBe(out, detail::kMajorOffset, kBundleFormatMajor, 2);
  out[detail::kMinorOffset - 1] = static_cast<char>(0xcd);
  // The oldest minor that holds the spec, so older readers load what they can compute.
  // A calibration is an optional key: a 1.2 reader still scores the bundle, with a warning.
  // The group is optional too: an older reader scores a group's bundle as any other.
  const uint16_t minor = grouped                         ? 5
                         : model.spec.needs_format_1_4() ? 4
                         : calibrated                    ? 3
                         : model.spec.needs_format_1_2() ? 2
                         : model.spec.has_temporal()     ? 1
                                                         : 0;
  PutBe(out, detail::kMinorOffset, minor, 2);
  out[detail::kCrcOffset - 1] = static_cast<char>(0xce);
  PutBe(out, detail::kCrcOffset, Crc32(body.data(), body.size()), 4);
  out[detail::kLengthOffset - 1] = static_cast<char>(0xc6);
  PutBe(out, detail::kLengthOffset, body.size(), 4);
  out.append(body.data(), body.size());
  return out;
}

}  // namespace isoscope
