// The walk of isoscope.yml section by section (config_checker.h). No yaml-cpp exception leaves
// native/config: every access is type-checked first, and config.cc catches the rest.
#include "config_checker.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>
#include <string>
#include <tuple>

#include "config_schema.h"
#include "config_validate.h"
#include "model_params.h"
#include "shard.h"
#include "time_parse.h"

namespace isoscope::native::config_detail {

void ConfigChecker::CheckRoot(const YAML::Node& root, Config* cfg) {
  if (root.IsNull()) {
    Add(1, "",
        "the file is empty — write prometheus:, models_dir: and detectors: (the README's "
        "Configuration section has a full example)");
    return;
  }
  if (!root.IsMap()) {
    Add(LineOf(root, 1), "",
        std::string("the file is ") + KindOf(root) +
            " — it must be a mapping with the keys prometheus:, models_dir:, detectors: and "
            "optionally web:");
    return;
  }
  const std::vector<Entry> f = Fields(root, "", kRootSection);
  if (const Entry* e = Get(f, "prometheus")) {
    CheckPrometheus(*e, &cfg->prometheus);
  } else {
    Add(1, "prometheus",
        "missing — say where Prometheus is, e.g. prometheus: {url: http://127.0.0.1:9090}");
  }
  if (const Entry* e = Get(f, "models_dir")) {
    std::string dir;
    if (GetString(*e, "models_dir", "models_dir: /var/lib/isoscope/models", &dir)) {
      if (dir.empty()) {
        Add(e->line, "models_dir", "empty — e.g. models_dir: /var/lib/isoscope/models");
      } else if (dir[0] == '~') {
        Add(e->line, "models_dir", "'~' is not expanded — write the full path");
      } else {
        cfg->models_dir = Resolve(dir);
      }
    }
  } else {
    Add(1, "models_dir",
        "missing — say where model bundles are kept, e.g. models_dir: /var/lib/isoscope/models");
  }
  if (const Entry* e = Get(f, "web")) {
    CheckWeb(*e, &cfg->web);
  }
  if (const Entry* e = Get(f, "shard")) {
    std::string text;
    if (GetString(*e, "shard", "shard: 0/3", &text)) {
      auto shard = ParseShard(text);
      if (shard.ok()) {
        cfg->shard = *shard;
      } else {
        Add(e->line, "shard", shard.status().message());
      }
    }
  }
  if (const Entry* e = Get(f, "detectors")) {
    CheckDetectors(*e, &cfg->detectors);
    if (cfg->shard.configured) {
      const std::string clash = ShardLabelClash(*cfg);
      if (!clash.empty()) Add(e->line, "shard", clash);
    }
  } else {
    Add(1, "detectors",
        "missing — add at least one detector (name, queries and model.contamination); see "
        "the README's Configuration section");
  }
}

// basic_auth: under prometheus:; `other_credentials` names the bearer token key also given.
void ConfigChecker::CheckBasicAuth(const Entry& section, const std::string& path,
                                   const char* other_credentials, PrometheusConfig* p) {
  const Entry* e = &section;
  const std::string auth_path = Join(path, "basic_auth");
  if (other_credentials != nullptr) {
    Add(e->line, auth_path,
        "given together with " + std::string(other_credentials) +
            " — Prometheus takes one kind of credentials; keep one of them");
  }
  if (IsMapping(*e, auth_path, "basic_auth: {username: isoscope, password_file: /etc/pw}")) {
    p->has_basic_auth = true;
    const std::vector<Entry> a = Fields(e->value, auth_path, kBasicAuthSection);
    if (const Entry* u = Get(a, "username")) {
      if (GetString(*u, Join(auth_path, "username"), "username: isoscope", &p->username) &&
          p->username.empty()) {
        Add(u->line, Join(auth_path, "username"), "empty — e.g. username: isoscope");
      }
    } else {
      Add(e->line, Join(auth_path, "username"), "missing — e.g. username: isoscope");
    }
    const Entry* pw = Get(a, "password");
    const Entry* pw_file = Get(a, "password_file");
    if (pw && pw_file) {
      Add(pw_file->line, Join(auth_path, "password_file"),
          "given together with password (line " + std::to_string(pw->line) +
              ") — keep one of them");
    } else if (pw) {
      GetString(*pw, Join(auth_path, "password"), "password: secret", &p->password);
    } else if (pw_file) {
      std::string file;
      if (GetString(*pw_file, Join(auth_path, "password_file"),
                    "password_file: /etc/isoscope/password", &file)) {
        p->password_file = Resolve(file);
        ReadSecretFile(*pw_file, Join(auth_path, "password_file"), p->password_file, &p->password);
      }
    } else {
      Add(e->line, Join(auth_path, "password"),
          "missing — give password: or, better, password_file: /etc/isoscope/password");
    }
  }
}

void ConfigChecker::CheckPrometheus(const Entry& section, PrometheusConfig* p) {
  const std::string path = "prometheus";
  p->line = section.line;
  if (!IsMapping(section, path, "prometheus: {url: http://127.0.0.1:9090}")) return;
  const std::vector<Entry> f = Fields(section.value, path, kPrometheusSection);
  if (const Entry* e = Get(f, "url")) {
    std::string url;
    if (GetString(*e, Join(path, "url"), "url: http://127.0.0.1:9090", &url)) {
      const std::string why =
          url.empty() ? "empty — e.g. url: http://127.0.0.1:9090" : CheckUrl(url);
      if (!why.empty()) {
        Add(e->line, Join(path, "url"), why);
      } else {
        const size_t host_end = url.find('/', url.find("://") + 3);
        while (host_end != std::string::npos && url.size() > host_end && url.back() == '/') {
          url.pop_back();
        }
        p->url = url;
      }
    }
  } else {
    Add(section.line, Join(path, "url"), "missing — e.g. url: http://127.0.0.1:9090");
  }
  if (const Entry* e = Get(f, "timeout")) {
    GetDuration(*e, Join(path, "timeout"), 1, &p->timeout_ms);
  }
  const Entry* token = Get(f, "bearer_token");
  const Entry* token_file = Get(f, "bearer_token_file");
  if (token && token_file) {
    Add(token_file->line, Join(path, "bearer_token_file"),
        "given together with bearer_token (line " + std::to_string(token->line) +
            ") — keep one of them");
  } else if (token) {
    if (GetString(*token, Join(path, "bearer_token"), "bearer_token: <token>", &p->bearer_token) &&
        p->bearer_token.empty()) {
      Add(token->line, Join(path, "bearer_token"), "empty — give the token, or remove the key");
    }
  } else if (token_file) {
    std::string file;
    if (GetString(*token_file, Join(path, "bearer_token_file"),
                  "bearer_token_file: /etc/isoscope/token", &file)) {
      if (file.empty()) {
        Add(token_file->line, Join(path, "bearer_token_file"),
            "empty — e.g. bearer_token_file: /etc/isoscope/token");
      } else {
        p->bearer_token_file = Resolve(file);
        ReadSecretFile(*token_file, Join(path, "bearer_token_file"), p->bearer_token_file,
                       &p->bearer_token);
      }
    }
  }
  if (const Entry* e = Get(f, "basic_auth")) {
    const char* bearer = token ? "bearer_token" : token_file ? "bearer_token_file" : nullptr;
    CheckBasicAuth(*e, path, bearer, p);
  }
}

void ConfigChecker::CheckWeb(const Entry& section, WebConfig* w) {
  const std::string path = "web";
  if (section.value.IsNull()) return;  // "web:" alone keeps the defaults
  if (!IsMapping(section, path, "web: {listen_address: 127.0.0.1:8080}")) return;
  const std::vector<Entry> f = Fields(section.value, path, kWebSection);
  if (const Entry* e = Get(f, "listen_address")) {
    std::string address;
    if (GetString(*e, Join(path, "listen_address"), "listen_address: 127.0.0.1:8080", &address)) {
      const std::string why = CheckListenAddress(address);
      if (!why.empty()) {
        Add(e->line, Join(path, "listen_address"), why);
      } else {
        w->listen_address = address;
      }
    }
  }
  if (const Entry* e = Get(f, "cors_origin")) {
    std::string origin;
    if (e->value.IsNull()) {
      w->cors_origin.clear();
    } else if (GetString(*e, Join(path, "cors_origin"), "cors_origin: https://grafana.example.com",
                         &origin)) {
      const std::string why = CheckCorsOrigin(origin);
      if (!why.empty()) {
        Add(e->line, Join(path, "cors_origin"), why);
      } else {
        w->cors_origin = origin;
      }
    }
  }
}

void ConfigChecker::CheckDetectors(const Entry& section, std::vector<DetectorConfig>* out) {
  const std::string example = "detectors: [{name: checkout, queries: {...}, model: {...}}]";
  if (!section.value.IsSequence()) {
    Add(section.line, "detectors",
        std::string(section.value.IsNull() ? "empty" : std::string("is ") + KindOf(section.value)) +
            " — it must be a list of detectors, each starting with '- name: ...' (see the "
            "README's Configuration section)");
    return;
  }
  if (section.value.size() == 0) {
    Add(section.line, "detectors", "the list is empty — add at least one detector");
    return;
  }
  std::map<std::string, int> names;
  size_t i = 0;
  for (auto it = section.value.begin(); it != section.value.end(); ++it, ++i) {
    const std::string path = "detectors[" + std::to_string(i) + "]";
    const int line = LineOfItem(*it, section.line);
    if (!it->IsMap()) {
      Add(line, path,
          std::string("is ") + KindOf(*it) +
              " — each detector is a mapping: '- name: checkout' with queries: and model: "
              "indented under it");
      continue;
    }
    DetectorConfig d;
    d.line = line;
    CheckDetector(*it, path, &d);
    if (!d.name.empty()) {
      auto [seen, fresh] = names.emplace(d.name, line);
      if (!fresh) {
        Add(line, Join(path, "name"),
            "'" + d.name + "' is already the name of the detector at line " +
                std::to_string(seen->second) +
                " — each detector needs its own name (it is its models directory)");
      }
    }
    out->push_back(std::move(d));
  }
}

void ConfigChecker::CheckName(const std::vector<Entry>& f, const std::string& path,
                              DetectorConfig* d) {
  if (const Entry* e = Get(f, "name")) {
    std::string name;
    if (GetString(*e, Join(path, "name"), "name: checkout", &name)) {
      if (IsName(name, true) && name.size() <= 64) {
        d->name = name;
      } else {
        Add(e->line, Join(path, "name"),
            "'" + name +
                "' cannot be a detector name: it becomes a directory under models_dir — use 1 "
                "to 64 of a-z, 0-9, '_' and '-', e.g. name: " +
                SuggestDetectorName(name));
      }
    }
  } else {
    Add(d->line, Join(path, "name"), "missing — e.g. name: checkout (a-z, 0-9, '_', '-')");
  }
}

void ConfigChecker::CheckGroupBy(const Entry& section, const std::string& path, DetectorConfig* d) {
  std::vector<std::pair<std::string, int>> labels;
  if (GetList(section, Join(path, "group_by"), "group_by: [job]", &labels)) {
    for (size_t i = 0; i < labels.size(); ++i) {
      const auto& [label, line] = labels[i];
      const std::string p = Join(path, "group_by") + "[" + std::to_string(i) + "]";
      if (!IsName(label, false)) {
        Add(line, p, "'" + label + "' is not a Prometheus label name ([a-zA-Z_][a-zA-Z0-9_]*)");
      } else if (label.rfind("__", 0) == 0) {
        Add(line, p, "'" + label + "': labels starting with __ are internal to Prometheus");
      } else if (label == "detector") {
        Add(line, p,
            "'detector' is the label isoscope adds to its own metrics — group by another "
            "label");
      } else if (std::find(d->group_by.begin(), d->group_by.end(), label) != d->group_by.end()) {
        Add(line, p, "'" + label + "' is listed twice — keep one");
      } else {
        d->group_by.push_back(label);
      }
    }
  }
}

void ConfigChecker::CheckDeployWindows(const Entry& section, const std::string& path,
                                       DetectorConfig* d) {
  std::string text;
  if (GetString(section, Join(path, "deploy_windows"), "deploy_windows: \"Mon-Fri 10:00-12:00\"",
                &text)) {
    auto windows = ParseDeployWindows(text);
    if (!windows.ok()) {
      Add(section.line, Join(path, "deploy_windows"), windows.status().message());
    } else if (windows->empty()) {
      Add(section.line, Join(path, "deploy_windows"),
          "no window given — e.g. deploy_windows: \"Mon-Fri 10:00-12:00\", or leave "
          "is_deploy_window out of derived:");
    } else {
      d->spec.deploy_windows = std::move(windows).value();
    }
  }
}

// derived: read after step and lookback, which `auto` is chosen from and temporal features
// are computed on; a query may not have the name of a derived feature.
void ConfigChecker::CheckDerived(const std::vector<Entry>& f, const std::string& path,
                                 const std::vector<int>& query_lines, DetectorConfig* d) {
  std::vector<std::string> derived_items(std::begin(kDerivedNames), std::end(kDerivedNames));
  int derived_line = 0;
  // Nothing to measure in a config: `auto` goes by step and lookback, and adds
  // is_deploy_window only when this detector names its deploy windows.
  AutoContext context{d->step_ms, d->lookback_ms};
  context.deploy_windows = Get(f, "deploy_windows") != nullptr;
  const std::string kDerivedExample = "derived: auto, or derived: [hour_of_week, delta(x,1h)]";
  if (const Entry* e = Get(f, "derived")) {
    derived_items.clear();
    derived_line = e->line;
    std::vector<std::pair<std::string, int>> items;
    if (e->value.IsScalar() && e->value.as<std::string>() == "auto") {
      derived_items.push_back("auto");
    } else if (GetList(*e, Join(path, "derived"), kDerivedExample, &items)) {
      for (size_t i = 0; i < items.size(); ++i) {
        const auto& [name, line] = items[i];
        const std::string p = Join(path, "derived") + "[" + std::to_string(i) + "]";
        auto parsed = ParseDerivedList(name, d->spec.inputs, context);
        if (!parsed.ok()) {
          Add(line, p,
              "'" + name + "' is not a derived feature: " + parsed.status().message() +
                  " — e.g. hour_of_week, delta(" +
                  (d->spec.inputs.empty() ? std::string("x") : d->spec.inputs.front()) +
                  ",1h), or auto for the recommended set");
        } else if (std::find(derived_items.begin(), derived_items.end(), name) !=
                   derived_items.end()) {
          Add(line, p, "'" + name + "' is listed twice — keep one");
        } else {
          derived_items.push_back(name);
        }
      }
    }
  }
  std::string derived_text;
  for (const std::string& n : derived_items) {
    derived_text += (derived_text.empty() ? "" : ",") + n;
  }
  if (auto derived = ParseDerivedList(derived_text, d->spec.inputs, context, &d->spec.raw_inputs);
      derived.ok()) {
    d->spec.derived = std::move(derived).value();
    // Temporal features run on the training step's grid, as the daemon scores.
    d->spec.step_ms = d->spec.has_temporal() ? d->step_ms : 0;
    if (Status v = d->spec.Validate(); !v.ok()) {
      Add(derived_line, Join(path, "derived"), v.message());
    }
  } else if (derived_line > 0) {
    Add(derived_line, Join(path, "derived"), derived.status().message());
  }
  for (size_t i = 0; i < d->queries.size(); ++i) {
    const std::string& name = d->queries[i].first;
    for (const DerivedFeature& f : d->spec.derived) {
      if (f.Name(d->spec.inputs) == name) {
        Add(query_lines[i], Join(Join(path, "queries"), name),
            "the name is also a derived feature — rename the query, or drop " + name +
                " from derived:");
      }
    }
  }
}

void ConfigChecker::CheckDetector(const YAML::Node& node, const std::string& path,
                                  DetectorConfig* d) {
  const size_t problems_before = ProblemCount();
  std::vector<int> query_lines;  // the line of each of d->queries
  const std::vector<Entry> f = Fields(node, path, kDetectorSection);
  CheckName(f, path, d);

  if (const Entry* e = Get(f, "queries")) {
    CheckQueries(*e, Join(path, "queries"), &d->queries, &query_lines);
  } else {
    Add(d->line, Join(path, "queries"),
        "missing — name at least one PromQL feature query, e.g. queries: {error_rate: "
        "'sum by (job) (rate(http_requests_total{code=~\"5..\"}[5m]))'}");
  }
  for (const auto& [name, query] : d->queries) d->spec.inputs.push_back(name);

  if (const Entry* e = Get(f, "group_by")) CheckGroupBy(*e, path, d);

  if (const Entry* e = Get(f, "deploy_windows")) CheckDeployWindows(*e, path, d);

  if (const Entry* e = Get(f, "step")) GetDuration(*e, Join(path, "step"), 1000, &d->step_ms);
  if (const Entry* e = Get(f, "lookback")) {
    if (GetDuration(*e, Join(path, "lookback"), kDayMs, &d->lookback_ms) &&
        d->lookback_ms <= d->step_ms) {
      Add(e->line, Join(path, "lookback"), "must be longer than step — e.g. lookback: 90d");
    }
  }

  // derived: after step and lookback, which `auto` is chosen from and temporal features
  // are computed on.
  CheckDerived(f, path, query_lines, d);

  if (const Entry* e = Get(f, "interval")) {
    GetDuration(*e, Join(path, "interval"), 1000, &d->interval_ms);
  }
  if (const Entry* e = Get(f, "keep_versions")) {
    int64_t v = d->keep_versions;
    if (GetInt(*e, Join(path, "keep_versions"), 1, kMaxKeepVersions, "keep_versions: 5", &v)) {
      d->keep_versions = static_cast<int>(v);
    }
  }

  if (const Entry* e = Get(f, "model")) {
    CheckModel(*e, Join(path, "model"), d);
  } else {
    Add(d->line, Join(path, "model"),
        "missing — give at least the expected share of anomalies, e.g. model: "
        "{contamination: 0.02}");
  }

  d->alerts.stale_after_ms = std::max<TimeMs>(15 * kMinuteMs, 3 * d->interval_ms);
  if (const Entry* e = Get(f, "alerts")) CheckAlerts(*e, Join(path, "alerts"), d);
  CheckExclude(f, path, d);
  CheckPromotion(f, path, d);

  if (ProblemCount() == problems_before) {
    Status valid = d->spec.Validate();
    if (!valid.ok()) Add(d->line, path, valid.message());
  }
}

// exclude: items are "START/END" (absolute) or weekly windows ("Sat 00:00-06:00").
void ConfigChecker::CheckExcludeItem(const std::string& item, int line, const std::string& path,
                                     ExcludeConfig* out) {
  const size_t slash = item.find('/');
  if (slash != std::string::npos) {
    const auto s = ParseTime(item.substr(0, slash));
    const auto e = ParseTime(item.substr(slash + 1));
    if (!s || !e || *e <= *s) {
      Add(line, path,
          "'" + item +
              "' is not START/END with START before END — e.g. "
              "2026-10-06T01:00:00Z/2026-10-06T07:00:00Z");
      return;
    }
    out->windows.push_back({item, *s, *e});
    return;
  }
  auto weekly = ParseDeployWindows(item);
  if (!weekly.ok() || weekly->empty()) {
    Add(line, path,
        "'" + item + "' is neither START/END nor a weekly window like \"Sat-Sun 00:00-06:00\"" +
            (weekly.ok() ? std::string() : ": " + weekly.status().message()));
    return;
  }
  out->weekly.insert(out->weekly.end(), weekly->begin(), weekly->end());
  out->weekly_text.push_back(item);
}

void ConfigChecker::CheckExclude(const std::vector<Entry>& f, const std::string& path,
                                 DetectorConfig* d) {
  ExcludeConfig& x = d->exclude;
  if (const Entry* e = Get(f, "exclude")) {
    std::vector<std::pair<std::string, int>> items;
    const std::string example =
        "exclude: [\"2026-10-06T01:00:00Z/2026-10-06T07:00:00Z\", \"Sun 02:00-04:00\"]";
    if (GetList(*e, Join(path, "exclude"), example, &items)) {
      for (size_t i = 0; i < items.size(); ++i) {
        CheckExcludeItem(items[i].first, items[i].second,
                         Join(path, "exclude") + "[" + std::to_string(i) + "]", &x);
      }
    }
  }
  if (const Entry* e = Get(f, "exclude_when")) {
    GetString(*e, Join(path, "exclude_when"), "exclude_when: 'maintenance_mode > 0'", &x.when);
  }
  if (const Entry* e = Get(f, "exclude_alerts")) {
    GetBool(*e, Join(path, "exclude_alerts"), &x.alerts);
  }
  if (const Entry* e = Get(f, "exclude_alerts_margin")) {
    GetDuration(*e, Join(path, "exclude_alerts_margin"), 0, &x.alerts_margin_ms);
  }
}

void ConfigChecker::CheckPromotion(const std::vector<Entry>& f, const std::string& path,
                                   DetectorConfig* d) {
  PromotionConfig& p = d->promotion;
  if (const Entry* e = Get(f, "promotion")) {
    std::string mode;
    if (GetString(*e, Join(path, "promotion"), "promotion: manual", &mode)) {
      if (mode == "immediate") {
        p.mode = PromotionConfig::Mode::kImmediate;
      } else if (mode == "manual") {
        p.mode = PromotionConfig::Mode::kManual;
      } else if (mode == "gate") {
        p.mode = PromotionConfig::Mode::kGate;
      } else {
        Add(e->line, Join(path, "promotion"),
            "'" + mode +
                "' is not a promotion mode — use immediate (train makes the model live), manual "
                "(isoscope promote does) or gate (the daemon does once the candidate passes)");
      }
    }
  }
  const Entry* gate = Get(f, "gate");
  if (gate == nullptr) return;
  if (p.mode != PromotionConfig::Mode::kGate) {
    Add(gate->line, Join(path, "gate"),
        "applies only with promotion: gate — add promotion: gate, or remove gate:");
    return;
  }
  CheckGate(*gate, Join(path, "gate"), &p);
}

void ConfigChecker::CheckGate(const Entry& section, const std::string& path, PromotionConfig* p) {
  if (section.value.IsNull()) return;  // "gate:" alone keeps the defaults
  if (!IsMapping(section, path, "gate: {after: 3d, rate_band: [0.5, 2.0]}")) return;
  const std::vector<Entry> f = Fields(section.value, path, kGateSection);
  if (const Entry* e = Get(f, "after")) GetDuration(*e, Join(path, "after"), 1000, &p->after_ms);
  if (const Entry* e = Get(f, "rate_band")) CheckRateBand(*e, Join(path, "rate_band"), p);
  if (const Entry* e = Get(f, "pages_factor")) {
    GetNumber(*e, Join(path, "pages_factor"), 0, 1000, false, "pages_factor: 1.5",
              &p->pages_factor);
  }
}

// rate_band: [low, high], 0 <= low <= 1 <= high: the band must hold the active model's own rate.
void ConfigChecker::CheckRateBand(const Entry& e, const std::string& path, PromotionConfig* p) {
  const std::string example = "rate_band: [0.5, 2.0]";
  std::vector<std::pair<std::string, int>> items;
  if (!GetList(e, path, example, &items)) return;
  double v[2] = {0, 0};
  bool ok = items.size() == 2;
  for (size_t i = 0; ok && i < 2; ++i) {
    char* end = nullptr;
    v[i] = std::strtod(items[i].first.c_str(), &end);
    ok = end != nullptr && *end == '\0' && std::isfinite(v[i]);
  }
  if (!ok || v[0] < 0 || v[0] > 1 || v[1] < 1) {
    Add(e.line, path,
        "must be two numbers [low, high] with 0 <= low <= 1 <= high (ratios of the candidate's "
        "anomaly rate to the active model's) — e.g. " +
            example);
    return;
  }
  p->rate_low = v[0];
  p->rate_high = v[1];
}

void ConfigChecker::CheckQueries(const Entry& e, const std::string& path,
                                 std::vector<std::pair<std::string, std::string>>* out,
                                 std::vector<int>* lines) {
  if (!e.value.IsMap()) {
    Add(e.line, path,
        std::string(e.value.IsNull() ? "empty" : std::string("is ") + KindOf(e.value)) +
            " — it must map feature names to PromQL, one per line, e.g. "
            "queries: {latency_p95: 'histogram_quantile(0.95, ...)'}");
    return;
  }
  std::vector<Entry> entries = Entries(e.value, path);
  if (entries.empty()) {
    Add(e.line, path, "no query — name at least one PromQL feature query");
    return;
  }
  for (const Entry& q : entries) {
    const std::string p = Join(path, q.key);
    bool ok = true;
    if (!IsName(q.key, false)) {
      Add(q.line, p,
          "'" + q.key +
              "' cannot be a feature name — use letters, digits and '_', not starting with a "
              "digit, e.g. latency_p95");
      ok = false;
    }
    std::string query;
    if (!GetString(q, p, q.key + ": 'sum by (job) (rate(http_requests_total[5m]))'", &query)) {
      continue;
    }
    const size_t first = query.find_first_not_of(" \t\r\n");
    if (first == std::string::npos) {
      Add(q.line, p, "the query is empty — write the PromQL expression for this feature");
      continue;
    }
    const std::string why = CheckBrackets(query);
    if (!why.empty()) {
      Add(q.line, p,
          "the brackets of this PromQL do not match: " + why +
              " (a value starting with '{' or containing ': ' or ' #' needs quotes)");
      ok = false;
    }
    if (ok) {
      out->emplace_back(q.key, query);
      lines->push_back(q.line);
    }
  }
}

void ConfigChecker::CheckAlerts(const Entry& section, const std::string& path, DetectorConfig* d) {
  if (section.value.IsNull()) return;  // "alerts:" alone keeps the defaults
  if (!IsMapping(section, path,
                 "alerts: {warning: contamination, critical: contamination/2, for: 3m}"))
    return;
  const std::vector<Entry> f = Fields(section.value, path, kAlertsSection);
  AlertsConfig& a = d->alerts;
  const Entry* warning = Get(f, "warning");
  const Entry* critical = Get(f, "critical");
  bool thresholds_ok = true;
  for (const auto& [e, name, out] : {std::tuple{warning, "warning", &a.warning},
                                     std::tuple{critical, "critical", &a.critical}}) {
    if (e == nullptr) continue;
    const std::string key = std::string(name);
    std::string text;
    if (!GetString(*e, Join(path, key), key + ": contamination", &text)) {
      thresholds_ok = false;
      continue;
    }
    auto t = ParseAlertThreshold(text);
    if (!t.ok()) {
      Add(e->line, Join(path, key), t.status().message());
      thresholds_ok = false;
      continue;
    }
    *out = *t;
  }
  if (thresholds_ok && !a.critical.AtLeastAsStrictAs(a.warning)) {
    const Entry* at = critical ? critical : warning;
    Add(at->line, Join(path, critical ? "critical" : "warning"),
        "critical (" + a.critical.text + ") is less strict than warning (" + a.warning.text +
            ") — the page must need at least the score that warns; e.g. warning: "
            "contamination, critical: contamination/2, or warning: 0.55, critical: 0.6");
  }
  if (const Entry* e = Get(f, "for")) GetDuration(*e, Join(path, "for"), 0, &a.for_ms);
  if (const Entry* e = Get(f, "smooth")) {
    if (GetDuration(*e, Join(path, "smooth"), 1000, &a.smooth_ms) && a.smooth_ms < d->interval_ms) {
      Add(e->line, Join(path, "smooth"),
          "shorter than the detector's interval (" + FormatDurationMs(d->interval_ms) +
              "): most windows would hold no score — use at least the interval, e.g. "
              "smooth: 5m");
    }
  }
  if (const Entry* e = Get(f, "keep_firing_for")) {
    GetDuration(*e, Join(path, "keep_firing_for"), 0, &a.keep_firing_for_ms);
  }
  if (const Entry* e = Get(f, "eval_interval")) {
    GetDuration(*e, Join(path, "eval_interval"), 1000, &a.eval_interval_ms);
  }
  if (const Entry* e = Get(f, "record")) {
    std::string record;
    if (GetString(*e, Join(path, "record"), "record: job:anomaly_score:avg5m", &record)) {
      if (!IsMetricName(record)) {
        Add(e->line, Join(path, "record"),
            "'" + record +
                "' is not a Prometheus metric name ([a-zA-Z_:][a-zA-Z0-9_:]*) — e.g. record: "
                "job:anomaly_score:avg5m");
      } else {
        a.record = record;
      }
    }
  }
  if (const Entry* e = Get(f, "stale_after")) {
    GetDuration(*e, Join(path, "stale_after"), 1000, &a.stale_after_ms);
  }
  if (const Entry* e = Get(f, "max_model_age")) {
    GetDuration(*e, Join(path, "max_model_age"), kHourMs, &a.max_model_age_ms);
  }
  if (const Entry* e = Get(f, "drift")) CheckDrift(*e, Join(path, "drift"), &a.drift);
}

void ConfigChecker::CheckDrift(const Entry& section, const std::string& path, DriftConfig* drift) {
  if (section.value.IsNull()) return;
  if (!IsMapping(section, path, "drift: {min_rate: 0.005, for: 30m}")) return;
  const std::vector<Entry> f = Fields(section.value, path, kDriftSection);
  if (const Entry* e = Get(f, "min_rate")) {
    double v = drift->min_rate;
    if (GetNumber(*e, Join(path, "min_rate"), 0, 1, false, "min_rate: 0.005", &v)) {
      if (v >= 1) {
        Add(e->line, Join(path, "min_rate"),
            "1 would alert always (the rate is never above 1) — use a small share, e.g. "
            "min_rate: 0.005");
      } else {
        drift->min_rate = v;
      }
    }
  }
  if (const Entry* e = Get(f, "for")) GetDuration(*e, Join(path, "for"), 0, &drift->for_ms);
  if (const Entry* e = Get(f, "peak_hours")) {
    std::string text;
    if (GetString(*e, Join(path, "peak_hours"), "peak_hours: \"Mon-Fri 09:00-18:00\"", &text)) {
      auto windows = ParseDeployWindows(text);
      if (!windows.ok()) {
        Add(e->line, Join(path, "peak_hours"), windows.status().message());
      } else if (windows->empty()) {
        Add(e->line, Join(path, "peak_hours"),
            "no window given — e.g. peak_hours: \"Mon-Fri 09:00-18:00\" (weekly, UTC)");
      } else {
        drift->peak_hours = std::move(windows).value();
        drift->peak_hours_text = text;
      }
    }
  }
}

void ConfigChecker::CheckMaxFeatures(const Entry& section, const std::string& path,
                                     DetectorConfig* d) {
  const Entry* e = &section;
  IForestParams& p = d->params;
  std::string text;
  if (GetString(*e, Join(path, "max_features"), "max_features: 1.0", &text)) {
    auto v = ParseMaxFeatures(text);
    if (!v.ok()) {
      Add(e->line, Join(path, "max_features"),
          "'" + text +
              "' is not valid — use a column count like 3, or a fraction in (0, 1] like 0.6 "
              "or 1.0");
    } else if (v->kind == MaxFeatures::Kind::kCount &&
               v->count > static_cast<int64_t>(d->spec.width()) && d->spec.width() > 0) {
      Add(e->line, Join(path, "max_features"),
          std::to_string(v->count) + " is more than the " + std::to_string(d->spec.width()) +
              " features of this detector — use at most " + std::to_string(d->spec.width()) +
              ", or a fraction like 1.0");
    } else {
      p.max_features = *v;
    }
  }
}

void ConfigChecker::CheckScaler(const Entry& section, const std::string& path, DetectorConfig* d) {
  const Entry* e = &section;
  std::string text;
  if (GetString(*e, Join(path, "scaler"), "scaler: standard", &text)) {
    if (text == "standard") {
      d->scaler = Scaler::Kind::kStandard;
    } else if (text == "none") {
      d->scaler = Scaler::Kind::kNone;
    } else {
      Add(e->line, Join(path, "scaler"),
          "'" + text + "' is not a scaler — use standard (sklearn StandardScaler) or none");
    }
  }
}

void ConfigChecker::CheckModel(const Entry& section, const std::string& path, DetectorConfig* d) {
  if (!IsMapping(section, path, "model: {n_estimators: 200, contamination: 0.02}")) return;
  const std::vector<Entry> f = Fields(section.value, path, kModelSection);
  IForestParams& p = d->params;
  if (const Entry* e = Get(f, "n_estimators")) {
    int64_t v = p.n_estimators;
    if (GetInt(*e, Join(path, "n_estimators"), 1, kMaxEstimators, "n_estimators: 200", &v)) {
      p.n_estimators = static_cast<int32_t>(v);
    }
  }
  const std::string contamination_hint =
      "set the expected share of anomalies explicitly, e.g. contamination: 0.02";
  if (const Entry* e = Get(f, "contamination")) {
    std::string text;
    if (e->value.IsNull()) {
      Add(e->line, Join(path, "contamination"), "empty — " + contamination_hint);
    } else if (GetString(*e, Join(path, "contamination"), "contamination: 0.02", &text)) {
      auto c = ParseContamination(text);
      if (c.ok()) {
        p.contamination = *c;
      } else {
        Add(e->line, Join(path, "contamination"),
            "'" + text +
                "' is not a share of anomalies — use a number in (0, 0.5] such as "
                "contamination: 0.02, or auto (threshold 0.5)");
      }
    }
  } else {
    Add(section.line, Join(path, "contamination"), "missing — " + contamination_hint);
  }
  if (const Entry* e = Get(f, "random_state")) {
    int64_t v = p.random_state;
    if (GetInt(*e, Join(path, "random_state"), 0, 4294967295LL, "random_state: 42", &v)) {
      p.random_state = static_cast<uint32_t>(v);
    }
  }
  if (const Entry* e = Get(f, "max_samples")) {
    std::string text;
    if (GetString(*e, Join(path, "max_samples"), "max_samples: auto", &text)) {
      auto v = ParseMaxSamples(text);
      if (v.ok()) {
        p.max_samples = *v;
      } else {
        Add(e->line, Join(path, "max_samples"),
            "'" + text +
                "' is not valid — use auto (min(256, rows)), a row count like 256, or a "
                "fraction in (0, 1] like 0.5");
      }
    }
  }
  if (const Entry* e = Get(f, "max_features")) CheckMaxFeatures(*e, path, d);
  if (const Entry* e = Get(f, "bootstrap")) GetBool(*e, Join(path, "bootstrap"), &p.bootstrap);
  if (const Entry* e = Get(f, "scaler")) CheckScaler(*e, path, d);
  CheckModelPer(f, path, d);
}

// model.per and the per-group keys, which mean something only with per: group.
void ConfigChecker::CheckModelPer(const std::vector<Entry>& f, const std::string& path,
                                  DetectorConfig* d) {
  if (const Entry* e = Get(f, "per")) {
    std::string text;
    if (GetString(*e, Join(path, "per"), "per: group", &text)) {
      if (text == "group" || text == "detector") {
        d->per_group = text == "group";
      } else {
        Add(e->line, Join(path, "per"),
            "'" + text +
                "' is not valid — use detector (one pooled model) or group (one model per "
                "group, the pooled one for groups with too little history)");
      }
    }
    if (d->per_group && d->group_by.empty()) {
      Add(e->line, Join(path, "per"),
          "group needs group_by: — without it the detector has one group, which the pooled "
          "model already is");
    }
  }
  for (const char* key : {"group_n_estimators", "group_max_samples", "min_rows"}) {
    const Entry* e = Get(f, key);
    if (e != nullptr && !d->per_group) {
      Add(e->line, Join(path, key), "applies only with per: group");
    }
  }
  if (const Entry* e = Get(f, "group_n_estimators")) {
    int64_t v = d->group_n_estimators;
    if (GetInt(*e, Join(path, "group_n_estimators"), 1, kMaxEstimators, "group_n_estimators: 50",
               &v)) {
      d->group_n_estimators = static_cast<int32_t>(v);
    }
  }
  if (const Entry* e = Get(f, "group_max_samples")) {
    std::string text;
    if (GetString(*e, Join(path, "group_max_samples"), "group_max_samples: 128", &text)) {
      auto v = ParseMaxSamples(text);
      if (v.ok()) {
        d->group_max_samples = *v;
      } else {
        Add(e->line, Join(path, "group_max_samples"),
            "'" + text +
                "' is not valid — use auto (min(256, rows)), a row count like 128, or a "
                "fraction in (0, 1] like 0.5");
      }
    }
  }
  if (const Entry* e = Get(f, "min_rows")) {
    GetInt(*e, Join(path, "min_rows"), 2, 1000000000, "min_rows: 1000", &d->min_rows);
  }
}

}  // namespace isoscope::native::config_detail
