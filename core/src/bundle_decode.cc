// Bundle reader: the only place msgpack exceptions are caught. Every field is type-checked
// and every size bounded before use, so a hostile or damaged file yields a Status, never a
// crash or a half-built model.
#include <msgpack.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <optional>

#include "detail/bundle_layout.h"
#include "isoscope/bundle.h"

namespace isoscope {
namespace {

using Obj = msgpack::object;

// Untrusted sizes beyond kMaxBundleBytes and the msgpack unpack limits. A decoded node takes
// about 28 bytes against 2 to 14 in the file, so without these a 256 MiB body could ask for
// gigabytes. 100,000 trees is also the largest n_estimators a configuration accepts; a tree
// grown on psi samples has at most 2 * psi - 1 nodes (every leaf holds a sample); 2^25 nodes
// in all is about 900 MiB decoded, far beyond any real model (200 trees of psi 256: ~100,000).
constexpr int64_t kMaxTrees = 100'000;
constexpr size_t kMaxForestNodes = size_t{1} << 25;

Status Corrupt(const std::string& what) {
  return Status(ErrorCode::kCorrupt, "bundle is corrupt: " + what);
}

uint64_t GetBe(const uint8_t* p, size_t bytes) {
  uint64_t v = 0;
  for (size_t k = 0; k < bytes; ++k) {
    v = (v << 8) | p[k];
  }
  return v;
}

// A typed view of one msgpack map; errors name the full field path.
class Fields {
 public:
  Fields(const Obj& obj, std::string path) : path_(std::move(path)) {
    if (obj.type == msgpack::type::MAP) {
      map_ = &obj.via.map;
    }
  }
  bool is_map() const { return map_ != nullptr; }
  const std::string& path() const { return path_; }

  const Obj* Find(const char* key) const {
    const size_t len = std::strlen(key);
    for (uint32_t i = 0; i < map_->size; ++i) {
      const Obj& k = map_->ptr[i].key;
      if (k.type == msgpack::type::STR && k.via.str.size == len &&
          std::memcmp(k.via.str.ptr, key, len) == 0) {
        return &map_->ptr[i].val;
      }
    }
    return nullptr;
  }

  Status Need(const char* key, const Obj** out) const {
    *out = Find(key);
    return *out ? Status::Ok() : Corrupt("field '" + Path(key) + "' is missing");
  }
  std::string Path(const char* key) const { return path_.empty() ? key : path_ + "." + key; }

  Status Int(const char* key, int64_t lo, int64_t hi, int64_t* out) const {
    const Obj* o = nullptr;
    Status s = Need(key, &o);
    if (!s.ok()) {
      return s;
    }
    if (o->type == msgpack::type::POSITIVE_INTEGER) {
      if (o->via.u64 > static_cast<uint64_t>(INT64_MAX)) {
        return Corrupt("field '" + Path(key) + "' is out of range");
      }
      *out = static_cast<int64_t>(o->via.u64);
    } else if (o->type == msgpack::type::NEGATIVE_INTEGER) {
      *out = o->via.i64;
    } else {
      return Corrupt("field '" + Path(key) + "' is not an integer");
    }
    if (*out < lo || *out > hi) {
      return Corrupt("field '" + Path(key) + "' = " + std::to_string(*out) + " is out of range");
    }
    return Status::Ok();
  }
  Status Double(const char* key, double* out) const {
    const Obj* o = nullptr;
    Status s = Need(key, &o);
    if (!s.ok()) {
      return s;
    }
    if (o->type != msgpack::type::FLOAT64 && o->type != msgpack::type::FLOAT32) {
      return Corrupt("field '" + Path(key) + "' is not a float");
    }
    *out = o->via.f64;
    return Status::Ok();
  }
  Status Bool(const char* key, bool* out) const {
    const Obj* o = nullptr;
    Status s = Need(key, &o);
    if (!s.ok()) {
      return s;
    }
    if (o->type != msgpack::type::BOOLEAN) {
      return Corrupt("field '" + Path(key) + "' is not a boolean");
    }
    *out = o->via.boolean;
    return Status::Ok();
  }
  Status String(const char* key, std::string* out) const {
    const Obj* o = nullptr;
    Status s = Need(key, &o);
    if (!s.ok()) {
      return s;
    }
    if (o->type != msgpack::type::STR) {
      return Corrupt("field '" + Path(key) + "' is not a string");
    }
    out->assign(o->via.str.ptr, o->via.str.size);
    return Status::Ok();
  }
  Status Map(const char* key, std::optional<Fields>* out) const {
    const Obj* o = nullptr;
    Status s = Need(key, &o);
    if (!s.ok()) {
      return s;
    }
    if (o->type != msgpack::type::MAP) {
      return Corrupt("field '" + Path(key) + "' is not a map");
    }
    out->emplace(*o, Path(key));
    return Status::Ok();
  }
  Status Array(const char* key, const msgpack::object_array** out) const {
    const Obj* o = nullptr;
    Status s = Need(key, &o);
    if (!s.ok()) {
      return s;
    }
    if (o->type != msgpack::type::ARRAY) {
      return Corrupt("field '" + Path(key) + "' is not an array");
    }
    *out = &o->via.array;
    return Status::Ok();
  }
  // A little-endian fixed-width array stored as bin.
  template <typename T, typename U>
  Status LeArray(const char* key, std::vector<U>* out) const {
    const Obj* o = nullptr;
    Status s = Need(key, &o);
    if (!s.ok()) {
      return s;
    }
    if (o->type != msgpack::type::BIN || o->via.bin.size % sizeof(T) != 0) {
      return Corrupt("field '" + Path(key) + "' is not an array of " + std::to_string(sizeof(T)) +
                     "-byte values");
    }
    const size_t n = o->via.bin.size / sizeof(T);
    out->resize(n);
    for (size_t i = 0; i < n; ++i) {
      T v;
      std::memcpy(&v, o->via.bin.ptr + i * sizeof(T), sizeof(T));
      (*out)[i] = static_cast<U>(v);
    }
    return Status::Ok();
  }

 private:
  const msgpack::object_map* map_ = nullptr;
  std::string path_;
};

#define RETURN_IF_ERROR(expr) \
  do {                        \
    Status _s = (expr);       \
    if (!_s.ok()) return _s;  \
  } while (0)

Status ReadParams(const Fields& f, IForestParams* p) {
  int64_t v = 0;
  RETURN_IF_ERROR(f.Int("n_estimators", 1, kMaxTrees, &v));
  p->n_estimators = static_cast<int32_t>(v);
  std::optional<Fields> ms, mf;
  RETURN_IF_ERROR(f.Map("max_samples", &ms));
  std::string kind;
  RETURN_IF_ERROR(ms->String("kind", &kind));
  if (kind == "fraction") {
    p->max_samples.kind = MaxSamples::Kind::kFraction;
    RETURN_IF_ERROR(ms->Double("value", &p->max_samples.fraction));
  } else if (kind == "count" || kind == "auto") {
    p->max_samples.kind = kind == "auto" ? MaxSamples::Kind::kAuto : MaxSamples::Kind::kCount;
    RETURN_IF_ERROR(ms->Int("value", 0, INT64_MAX, &p->max_samples.count));
  } else {
    return Corrupt("unknown max_samples kind '" + kind + "'");
  }
  RETURN_IF_ERROR(f.Map("max_features", &mf));
  RETURN_IF_ERROR(mf->String("kind", &kind));
  if (kind == "fraction") {
    p->max_features.kind = MaxFeatures::Kind::kFraction;
    RETURN_IF_ERROR(mf->Double("value", &p->max_features.fraction));
  } else if (kind == "count") {
    p->max_features.kind = MaxFeatures::Kind::kCount;
    RETURN_IF_ERROR(mf->Int("value", 0, INT64_MAX, &p->max_features.count));
  } else {
    return Corrupt("unknown max_features kind '" + kind + "'");
  }
  const Obj* c = nullptr;
  RETURN_IF_ERROR(f.Need("contamination", &c));
  if (c->type == msgpack::type::STR) {
    p->contamination = Contamination::Auto();
  } else {
    double value = 0;
    RETURN_IF_ERROR(f.Double("contamination", &value));
    p->contamination = Contamination::Fraction(value);
  }
  RETURN_IF_ERROR(f.Bool("bootstrap", &p->bootstrap));
  RETURN_IF_ERROR(f.Int("random_state", 0, UINT32_MAX, &v));
  p->random_state = static_cast<uint32_t>(v);
  return Status::Ok();
}

Status ReadSpec(const Fields& f, FeatureSpec* spec) {
  const msgpack::object_array* inputs = nullptr;
  RETURN_IF_ERROR(f.Array("inputs", &inputs));
  spec->inputs.clear();
  for (uint32_t i = 0; i < inputs->size; ++i) {
    if (inputs->ptr[i].type != msgpack::type::STR) {
      return Corrupt("features.inputs holds a non-string");
    }
    spec->inputs.emplace_back(inputs->ptr[i].via.str.ptr, inputs->ptr[i].via.str.size);
  }
  const msgpack::object_array* derived = nullptr;
  RETURN_IF_ERROR(f.Array("derived", &derived));
  spec->derived.clear();
  for (uint32_t i = 0; i < derived->size; ++i) {
    Fields d(derived->ptr[i], f.Path("derived") + "[" + std::to_string(i) + "]");
    if (!d.is_map()) {
      return Corrupt(d.path() + " is not a map");
    }
    std::string kind;
    RETURN_IF_ERROR(d.String("kind", &kind));
    DerivedFeature feature;
    if (!ParseDerivedKind(kind, &feature.kind)) {
      return Status(ErrorCode::kUnsupportedVersion,
                    "the bundle uses derived feature '" + kind +
                        "', which this isoscope does not know; upgrade isoscope");
    }
    int64_t v = 0;
    RETURN_IF_ERROR(d.Int("input", -1, INT32_MAX, &v));
    feature.input = static_cast<int32_t>(v);
    RETURN_IF_ERROR(d.Int("window_ms", 0, INT64_MAX, &feature.window_ms));
    if (feature.kind == DerivedFeature::Kind::kSeasonalMedianDiff) {
      int64_t periods = 0;
      RETURN_IF_ERROR(d.Int("periods", 1, INT32_MAX, &periods));
      feature.periods = static_cast<int32_t>(periods);
      RETURN_IF_ERROR(d.Int("smooth_ms", 0, INT64_MAX, &feature.smooth_ms));
    }
    spec->derived.push_back(feature);
  }
  std::vector<int32_t> flat;
  RETURN_IF_ERROR((f.LeArray<int32_t, int32_t>("deploy_windows", &flat)));
  if (flat.size() % 2 != 0) {
    return Corrupt("features.deploy_windows has an odd length");
  }
  spec->deploy_windows.clear();
  for (size_t i = 0; i < flat.size(); i += 2) {
    spec->deploy_windows.push_back({flat[i], flat[i + 1]});
  }
  spec->step_ms = 0;
  if (f.Find("step_ms") != nullptr) {
    RETURN_IF_ERROR(f.Int("step_ms", 0, INT64_MAX, &spec->step_ms));
  }
  spec->raw_inputs = true;
  if (const msgpack::object* raw = f.Find("raw_inputs"); raw != nullptr) {
    if (raw->type != msgpack::type::BOOLEAN) return Corrupt("features.raw_inputs is not a bool");
    spec->raw_inputs = raw->via.boolean;
  }
  Status valid = spec->Validate();
  return valid.ok() ? valid : Corrupt("feature spec: " + valid.message());
}

Status ReadScaler(const Fields& f, Scaler* s) {
  std::string kind;
  RETURN_IF_ERROR(f.String("kind", &kind));
  if (kind == "standard") {
    s->kind = Scaler::Kind::kStandard;
  } else if (kind == "none") {
    s->kind = Scaler::Kind::kNone;
  } else {
    return Corrupt("unknown scaler kind '" + kind + "'");
  }
  RETURN_IF_ERROR((f.LeArray<double, double>("mean", &s->mean)));
  RETURN_IF_ERROR((f.LeArray<double, double>("scale", &s->scale)));
  return Status::Ok();
}

// Rebuilds sklearn's children arrays of a tree from the pre-order leaf pattern of `feature`
// (kLeafFeature for a leaf) and the splits' thresholds in order.
Status RebuildChildren(const std::string& path, const std::vector<uint16_t>& feature,
                       const std::vector<double>& thresholds, Tree* tree) {
  const size_t n = feature.size();
  tree->children_left.assign(n, -1);
  tree->children_right.assign(n, -1);
  tree->feature.assign(n, -2);
  tree->threshold.assign(n, -2.0);
  std::vector<int32_t> open;  // splits still waiting for their right child
  size_t next_threshold = 0;
  for (size_t i = 0; i < n; ++i) {
    const auto id = static_cast<int32_t>(i);
    if (i > 0) {
      if (tree->children_left[i - 1] == -2) {  // previous node is a split: we are its left
        tree->children_left[i - 1] = id;
      } else if (!open.empty()) {
        tree->children_right[static_cast<size_t>(open.back())] = id;
        open.pop_back();
      } else {
        return Corrupt(path + " has nodes after the tree is complete");
      }
    }
    if (feature[i] != detail::kLeafFeature) {
      if (next_threshold >= thresholds.size()) {
        return Corrupt(path + " has fewer thresholds than splits");
      }
      tree->feature[i] = feature[i];
      tree->threshold[i] = thresholds[next_threshold++];
      tree->children_left[i] = -2;  // placeholder until the next node arrives
      open.push_back(id);
    }
  }
  if (!open.empty() || tree->children_left[n - 1] == -2 || next_threshold != thresholds.size()) {
    return Corrupt(path + " ends before every split has two children");
  }
  return Status::Ok();
}

Status ReadForest(const Fields& f, Forest* forest) {
  int64_t v = 0;
  RETURN_IF_ERROR(f.Int("n_features", 1, 65535, &v));
  forest->n_features = static_cast<int32_t>(v);
  RETURN_IF_ERROR(f.Int("max_samples", 1, INT32_MAX, &v));
  forest->max_samples = static_cast<int32_t>(v);
  RETURN_IF_ERROR(f.Int("max_features", 1, 65535, &v));
  forest->max_features = static_cast<int32_t>(v);
  RETURN_IF_ERROR(f.Double("c_max_samples", &forest->c_max_samples));
  std::vector<int32_t> leaf_n;
  std::vector<double> leaf_c;
  RETURN_IF_ERROR((f.LeArray<uint32_t, int32_t>("leaf_n", &leaf_n)));
  RETURN_IF_ERROR((f.LeArray<double, double>("leaf_c", &leaf_c)));
  if (leaf_n.size() != leaf_c.size()) {
    return Corrupt("forest leaf_n and leaf_c differ in length");
  }
  forest->leaf_c.clear();
  for (size_t i = 0; i < leaf_n.size(); ++i) {
    forest->leaf_c.emplace_back(leaf_n[i], leaf_c[i]);
  }
  const msgpack::object_array* trees = nullptr;
  RETURN_IF_ERROR(f.Array("trees", &trees));
  if (trees->size > kMaxTrees) {
    return Corrupt("forest has " + std::to_string(trees->size) + " trees, more than the limit of " +
                   std::to_string(kMaxTrees));
  }
  const auto max_tree_nodes =
      static_cast<size_t>(2 * static_cast<int64_t>(forest->max_samples) - 1);
  size_t total_nodes = 0;
  forest->trees.clear();
  forest->trees.reserve(trees->size);
  for (uint32_t t = 0; t < trees->size; ++t) {
    Fields tf(trees->ptr[t], "forest.trees[" + std::to_string(t) + "]");
    if (!tf.is_map()) {
      return Corrupt(tf.path() + " is not a map");
    }
    Tree tree;
    std::vector<uint16_t> feature;
    std::vector<double> thresholds;
    RETURN_IF_ERROR((tf.LeArray<uint16_t, int32_t>("features", &tree.features)));
    // Count the nodes from the encoded size before anything of that size is allocated.
    const Obj* feature_obj = nullptr;
    RETURN_IF_ERROR(tf.Need("feature", &feature_obj));
    if (feature_obj->type == msgpack::type::BIN) {
      const size_t nodes = feature_obj->via.bin.size / sizeof(uint16_t);
      if (nodes > max_tree_nodes) {
        return Corrupt(tf.path() + " has " + std::to_string(nodes) +
                       " nodes, more than the 2 * max_samples - 1 = " +
                       std::to_string(max_tree_nodes) + " a tree can have");
      }
      total_nodes += nodes;
      if (total_nodes > kMaxForestNodes) {
        return Corrupt("forest has more than " + std::to_string(kMaxForestNodes) +
                       " nodes in all, beyond the limit");
      }
    }
    RETURN_IF_ERROR((tf.LeArray<uint16_t, uint16_t>("feature", &feature)));
    RETURN_IF_ERROR((tf.LeArray<double, double>("threshold", &thresholds)));
    RETURN_IF_ERROR((tf.LeArray<uint32_t, int32_t>("n_node_samples", &tree.n_node_samples)));
    const size_t n = feature.size();
    if (n == 0 || tree.n_node_samples.size() != n) {
      return Corrupt(tf.path() + " node arrays are empty or differ in length");
    }
    RETURN_IF_ERROR(RebuildChildren(tf.path(), feature, thresholds, &tree));
    forest->trees.push_back(std::move(tree));
  }
  Status valid = ValidateForest(*forest);
  return valid.ok() ? valid : Corrupt(valid.message());
}

Status ReadInfo(const Fields& f, TrainingInfo* info) {
  RETURN_IF_ERROR(f.String("engine_version", &info->engine_version));
  RETURN_IF_ERROR(f.Int("created_ms", INT64_MIN, INT64_MAX, &info->created_ms));
  RETURN_IF_ERROR(f.Bool("has_time", &info->has_time));
  RETURN_IF_ERROR(f.Int("window_start_ms", INT64_MIN, INT64_MAX, &info->window_start_ms));
  RETURN_IF_ERROR(f.Int("window_end_ms", INT64_MIN, INT64_MAX, &info->window_end_ms));
  RETURN_IF_ERROR(f.Int("rows_total", 0, INT64_MAX, &info->rows_total));
  RETURN_IF_ERROR(f.Int("rows_used", 0, INT64_MAX, &info->rows_used));
  RETURN_IF_ERROR(f.Int("rows_dropped", 0, INT64_MAX, &info->rows_dropped));
  std::optional<Fields> dropped;
  RETURN_IF_ERROR(f.Map("dropped_by_reason", &dropped));
  const Obj* d = f.Find("dropped_by_reason");
  info->dropped_by_reason.clear();
  for (uint32_t i = 0; i < d->via.map.size; ++i) {
    const auto& kv = d->via.map.ptr[i];
    if (kv.key.type != msgpack::type::STR || kv.val.type != msgpack::type::POSITIVE_INTEGER) {
      return Corrupt("training.dropped_by_reason holds a bad entry");
    }
    info->dropped_by_reason.emplace_back(std::string(kv.key.via.str.ptr, kv.key.via.str.size),
                                         static_cast<int64_t>(kv.val.via.u64));
  }
  int64_t v = 0;
  RETURN_IF_ERROR(f.Int("full_weeks", 0, INT32_MAX, &v));
  info->full_weeks = static_cast<int32_t>(v);
  RETURN_IF_ERROR(f.Double("flagged_fraction", &info->flagged_fraction));
  RETURN_IF_ERROR(f.Bool("contamination_explicit", &info->contamination_explicit));
  RETURN_IF_ERROR(f.String("source", &info->source));
  const msgpack::object_array* warnings = nullptr;
  RETURN_IF_ERROR(f.Array("warnings", &warnings));
  info->warnings.clear();
  for (uint32_t i = 0; i < warnings->size; ++i) {
    if (warnings->ptr[i].type != msgpack::type::STR) {
      return Corrupt("training.warnings holds a non-string");
    }
    info->warnings.emplace_back(warnings->ptr[i].via.str.ptr, warnings->ptr[i].via.str.size);
  }
  return Status::Ok();
}

Status ReadCalibration(const Fields& f, ScoreCalibration* c) {
  RETURN_IF_ERROR(f.Int("count", 0, INT64_MAX, &c->count));
  RETURN_IF_ERROR(f.Double("mean", &c->mean));
  RETURN_IF_ERROR(f.Double("stddev", &c->stddev));
  if (!std::isfinite(c->mean) || !(c->stddev >= 0) || !std::isfinite(c->stddev)) {
    return Corrupt("calibration: mean and stddev must be finite, stddev >= 0");
  }
  return Status::Ok();
}

// A per-group model's label set (1.5): names unique and sorted, the hash 16 hex digits.
Status ReadGroup(const Fields& f, ModelGroup* g) {
  RETURN_IF_ERROR(f.String("hash", &g->hash));
  const bool hex = g->hash.size() == 16 && std::all_of(g->hash.begin(), g->hash.end(), [](char c) {
                     return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
                   });
  if (!hex) return Corrupt("group.hash must be 16 lowercase hex digits");
  std::optional<Fields> labels;
  RETURN_IF_ERROR(f.Map("labels", &labels));
  const Obj* l = f.Find("labels");
  g->labels.clear();
  for (uint32_t i = 0; i < l->via.map.size; ++i) {
    const auto& kv = l->via.map.ptr[i];
    if (kv.key.type != msgpack::type::STR || kv.val.type != msgpack::type::STR) {
      return Corrupt("group.labels holds a bad entry");
    }
    std::string name(kv.key.via.str.ptr, kv.key.via.str.size);
    if (!g->labels.empty() && !(g->labels.back().first < name)) {
      return Corrupt("group.labels must be sorted by name, each name once");
    }
    g->labels.emplace_back(std::move(name), std::string(kv.val.via.str.ptr, kv.val.via.str.size));
  }
  return Status::Ok();
}

Status ReadBody(const Fields& root, Model* m) {
  RETURN_IF_ERROR(root.String("model_version", &m->model_version));
  std::optional<Fields> params, spec, scaler, forest, quantiles, info;
  RETURN_IF_ERROR(root.Map("params", &params));
  RETURN_IF_ERROR(ReadParams(*params, &m->params));
  RETURN_IF_ERROR(root.Map("features", &spec));
  RETURN_IF_ERROR(ReadSpec(*spec, &m->spec));
  RETURN_IF_ERROR(root.Map("scaler", &scaler));
  RETURN_IF_ERROR(ReadScaler(*scaler, &m->scaler));
  RETURN_IF_ERROR(root.Map("forest", &forest));
  RETURN_IF_ERROR(ReadForest(*forest, &m->forest));
  RETURN_IF_ERROR(root.Double("offset", &m->offset));
  RETURN_IF_ERROR(root.Map("quantiles", &quantiles));
  RETURN_IF_ERROR(
      (quantiles->LeArray<double, double>("contamination", &m->quantiles.contamination)));
  RETURN_IF_ERROR((quantiles->LeArray<double, double>("threshold", &m->quantiles.threshold)));
  if (m->quantiles.contamination.size() != m->quantiles.threshold.size()) {
    return Corrupt("quantile table columns differ in length");
  }
  m->calibration = {};
  if (root.Find("calibration") != nullptr) {
    std::optional<Fields> cal;
    RETURN_IF_ERROR(root.Map("calibration", &cal));
    RETURN_IF_ERROR(ReadCalibration(*cal, &m->calibration));
  }
  const msgpack::object_array* canaries = nullptr;
  RETURN_IF_ERROR(root.Array("canaries", &canaries));
  m->canaries.clear();
  for (uint32_t i = 0; i < canaries->size; ++i) {
    Fields c(canaries->ptr[i], "canaries[" + std::to_string(i) + "]");
    if (!c.is_map()) {
      return Corrupt(c.path() + " is not a map");
    }
    Canary canary;
    RETURN_IF_ERROR(c.String("label", &canary.label));
    RETURN_IF_ERROR((c.LeArray<double, double>("features", &canary.features)));
    RETURN_IF_ERROR(c.Double("anomaly_score", &canary.anomaly_score));
    m->canaries.push_back(std::move(canary));
  }
  m->group = {};
  if (root.Find("group") != nullptr) {
    std::optional<Fields> group;
    RETURN_IF_ERROR(root.Map("group", &group));
    RETURN_IF_ERROR(ReadGroup(*group, &m->group));
  }
  RETURN_IF_ERROR(root.Map("training", &info));
  return ReadInfo(*info, &m->info);
}

std::string HexPrefix(const uint8_t* p, size_t size) {
  std::string out;
  char buf[4];
  for (size_t i = 0; i < size && i < 8; ++i) {
    std::snprintf(buf, sizeof buf, "%02x", p[i]);
    out += (i ? " " : "");
    out += buf;
  }
  return out;
}

}  // namespace

namespace {

// The 26-byte header (BUNDLE_FORMAT.md): magic, format version, checksum and body length,
// checked against the bytes at hand before the body is touched.
struct BundleHeader {
  uint16_t major = 0, minor = 0;
  uint32_t crc = 0;
  size_t body_len = 0;
  std::string version() const { return std::to_string(major) + "." + std::to_string(minor); }
};

Result<BundleHeader> ReadHeader(const uint8_t* p, size_t size) {
  const size_t magic_check = std::min(size, size_t{2} + detail::kMagicLen);
  uint8_t expect[2 + detail::kMagicLen];
  expect[0] = 0x95;
  expect[1] = 0xa0 | detail::kMagicLen;
  std::memcpy(expect + 2, detail::kMagic, detail::kMagicLen);
  if (std::memcmp(p, expect, magic_check) != 0) {
    return Status(ErrorCode::kForeign,
                  "not an isoscope bundle (it starts with bytes " + HexPrefix(p, size) +
                      "); expected a model file written by `isoscope train` or `isoscope "
                      "import-sklearn`");
  }
  if (size < detail::kHeaderSize) {
    return Status(ErrorCode::kTruncated, "bundle is truncated: " + std::to_string(size) +
                                             " bytes, shorter than its 26-byte header");
  }
  if (p[detail::kMajorOffset - 1] != 0xcd || p[detail::kMinorOffset - 1] != 0xcd ||
      p[detail::kCrcOffset - 1] != 0xce || p[detail::kLengthOffset - 1] != 0xc6) {
    return Corrupt("the header's field markers are damaged");
  }
  BundleHeader h;
  h.major = static_cast<uint16_t>(GetBe(p + detail::kMajorOffset, 2));
  h.minor = static_cast<uint16_t>(GetBe(p + detail::kMinorOffset, 2));
  h.crc = static_cast<uint32_t>(GetBe(p + detail::kCrcOffset, 4));
  h.body_len = GetBe(p + detail::kLengthOffset, 4);
  const uint16_t major = h.major;
  const size_t body_len = h.body_len;
  const std::string version = h.version();
  if (major != kBundleFormatMajor) {
    return Status(ErrorCode::kUnsupportedVersion,
                  "bundle format " + version +
                      " cannot be read by this isoscope, which reads "
                      "format " +
                      std::to_string(kBundleFormatMajor) + ".x" +
                      (major > kBundleFormatMajor ? "; upgrade isoscope to load it"
                                                  : "; re-train or convert the model"));
  }
  if (body_len > kMaxBundleBytes) {
    return Corrupt("declared body of " + std::to_string(body_len) + " bytes exceeds the " +
                   std::to_string(kMaxBundleBytes) + "-byte limit");
  }
  if (size < detail::kHeaderSize + body_len) {
    return Status(ErrorCode::kTruncated, "bundle is truncated: " + std::to_string(size) +
                                             " bytes, but its header "
                                             "says " +
                                             std::to_string(detail::kHeaderSize + body_len) +
                                             " (was the copy or the write interrupted?)");
  }
  if (size > detail::kHeaderSize + body_len) {
    return Corrupt(std::to_string(size - detail::kHeaderSize - body_len) +
                   " unexpected bytes after the end of the bundle");
  }
  return h;
}

// The msgpack body into `model`; no exception leaves.
Status ParseBody(const uint8_t* body, size_t body_len, Model* model) {
  try {
    size_t offset = 0;
    // Limits bound what a hostile body can make the parser allocate.
    const msgpack::unpack_limit limit(/*array=*/1u << 20, /*map=*/4096, /*str=*/1u << 20,
                                      /*bin=*/kMaxBundleBytes, /*ext=*/0, /*depth=*/16);
    msgpack::object_handle oh = msgpack::unpack(reinterpret_cast<const char*>(body), body_len,
                                                offset, nullptr, nullptr, limit);
    if (offset != body_len) {
      return Corrupt("the body has trailing bytes");
    }
    Fields root(oh.get(), "");
    if (!root.is_map()) {
      return Corrupt("the body is not a map");
    }
    return ReadBody(root, model);
  } catch (const std::exception& e) {
    return Corrupt(std::string("the body cannot be parsed (") + e.what() + ")");
  }
}

}  // namespace

Result<Model> DecodeBundle(const void* data, size_t size, const DecodeOptions& options,
                           std::vector<std::string>* warnings,
                           std::optional<ModelScorer>* scorer_out) {
  const auto* p = static_cast<const uint8_t*>(data);
  if (size == 0) {
    return Status(ErrorCode::kTruncated, "bundle is empty (0 bytes)");
  }
  auto header = ReadHeader(p, size);
  if (!header.ok()) return header.status();
  const size_t body_len = header->body_len;
  const uint8_t* body = p + detail::kHeaderSize;
  const uint32_t actual = Crc32(body, body_len);
  if (actual != header->crc) {
    return Corrupt("checksum mismatch (stored " + std::to_string(header->crc) + ", computed " +
                   std::to_string(actual) + "): the file was damaged after it was written");
  }
  if (header->minor > kBundleFormatMinor && warnings != nullptr) {
    warnings->push_back("bundle format " + header->version() + " is newer than this isoscope's " +
                        std::to_string(kBundleFormatMajor) + "." +
                        std::to_string(kBundleFormatMinor) +
                        "; fields this version does not know are ignored");
  }

  Model model;
  if (Status parsed = ParseBody(body, body_len, &model); !parsed.ok()) return parsed;

  auto scorer = ModelScorer::Create(model);
  if (!scorer.ok()) {
    return Corrupt(scorer.status().message());
  }
  if (options.check_canaries) {
    if (model.canaries.empty()) {
      return Status(ErrorCode::kCanaryMismatch, "the bundle has no canary vectors to check");
    }
    Status canary = scorer->CheckCanaries(model.canaries);
    if (!canary.ok()) {
      return canary;
    }
  }
  if (scorer_out != nullptr) *scorer_out = std::move(scorer).value();
  return model;
}

}  // namespace isoscope
