#!/bin/bash
# isoscope rules against real parts only (Debian's promtool and prometheus, the real binary):
#  1. every generated Prometheus file passes `promtool check rules`;
#  2. `promtool test rules` with the hand-computed tests/e2e/rules_promtool_test.yml: the
#     recording rule's avg_over_time, pending/firing with for:, the annotations (value and model
#     version), the drift canary only in peak hours, canary mismatch, missing model;
#  3. the Grafana provisioning file checked field by field (check_grafana_alerts.py);
#  4. flags override the config, and bad values are refused;
#  5. the rules loaded into a real Prometheus scraping a running `isoscope serve`: every rule
#     healthy, the recording rule produces the score's average, and a warning (threshold set
#     low by flag) fires with the model version in its description.
#   rules_e2e.sh ISOSCOPE [PYTHON3]   (PYTHON3: Debian's, with python3-yaml)
# shellcheck disable=SC2015  # `A && ok || bad`: ok always succeeds
set -u
ISOSCOPE=$1
PY=${2:-/usr/bin/python3}
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=prom_fixture.sh
source "$HERE/prom_fixture.sh"
"$PY" -c 'import yaml' 2>/dev/null ||
  { echo "FAIL: $PY cannot import yaml; install Debian's python3-yaml"; exit 1; }
# shellcheck source=serve_lib.sh
source "$HERE/serve_lib.sh"
e2e_begin rules SCRAPER_PID

# The detector of rules_promtool_test.yml, every alerts: key spelled out.
cat >"$W/isoscope.yml" <<YAML
prometheus:
  url: $PROM_URL
  timeout: 5s
models_dir: $W/models
detectors:
  - name: checkout
    queries:
      latency_p95: latency_p95
      error_rate: error_rate
      cpu_throttle: cpu_throttle
    group_by: [job]
    lookback: 14d
    interval: 1s
    model:
      n_estimators: 50
      contamination: 0.02
    alerts:
      warning: 0.65
      critical: 0.85
      for: 3m
      smooth: 5m
      keep_firing_for: 0s
      eval_interval: 1m
      record: job:anomaly_score:avg5m
      drift: {min_rate: 0.005, for: 30m, peak_hours: "Mon-Fri 09:00-18:00"}
      stale_after: 15m
      max_model_age: 15d
YAML

# 1-3. Generated files: promtool check, promtool test, Grafana schema.
G=$W/generated
"$ISOSCOPE" rules --config "$W/isoscope.yml" --out "$G" >"$W/rules.out" 2>&1 && ok ||
  { bad "isoscope rules --out"; sed 's/^/  | /' "$W/rules.out"; }
for f in recording.rules.yml alerting.rules.yml model-health.rules.yml grafana-alerting.yml; do
  [ -s "$G/checkout.$f" ] && ok || bad "checkout.$f written"
done
# promtool_dir DIR TEST LABEL: `promtool check rules` on every rules file in DIR, then
# `promtool test rules` with the hand-computed TEST (copied next to them).
promtool_dir() {
  local f
  for f in "$1"/*.rules.yml; do
    promtool check rules "$f" >"$W/check.out" 2>&1 && ok ||
      { bad "promtool check rules $(basename "$f") ($3)"; sed 's/^/  | /' "$W/check.out"; }
  done
  cp "$HERE/$2" "$1/"
  promtool test rules "$1/$2" >"$W/test.out" 2>&1 && ok ||
    { bad "promtool test rules $2 ($3)"; sed 's/^/  | /' "$W/test.out" | head -40; }
}
promtool_dir "$G" rules_promtool_test.yml "hand-computed expectations"
"$PY" "$HERE/check_grafana_alerts.py" "$G/checkout.grafana-alerting.yml" checkout 0.65 0.85 3m \
  prometheus >"$W/grafana.out" 2>&1 && ok ||
  { bad "Grafana provisioning file"; sed 's/^/  | /' "$W/grafana.out"; }
# The same detector with the defaults, thresholds relative to the model: the rules compare with
# the daemon's anomaly_alert_threshold (hand-computed in rules_promtool_relative_test.yml).
R=$W/relative
sed -e '/^      warning: 0.65$/d' -e '/^      critical: 0.85$/d' "$W/isoscope.yml" >"$W/relative.yml"
"$ISOSCOPE" rules --config "$W/relative.yml" --out "$R" >"$W/rel.out" 2>&1 && ok ||
  { bad "isoscope rules with relative thresholds"; sed 's/^/  | /' "$W/rel.out"; }
promtool_dir "$R" rules_promtool_relative_test.yml "relative thresholds"
"$PY" "$HERE/check_grafana_alerts.py" "$R/checkout.grafana-alerting.yml" checkout \
  contamination contamination/2 3m prometheus >"$W/grafana3.out" 2>&1 && ok ||
  { bad "Grafana provisioning file (relative)"; sed 's/^/  | /' "$W/grafana3.out"; }
# Thresholds on the calibrated surprise: the rules smooth anomaly_surprise and compare it with
# the fixed numbers (hand-computed in rules_promtool_surprise_test.yml).
S=$W/surprise
sed -e 's/^      warning: 0.65$/      warning: surprise:3/' \
  -e 's/^      critical: 0.85$/      critical: surprise:4/' "$W/isoscope.yml" >"$W/surprise.yml"
"$ISOSCOPE" rules --config "$W/surprise.yml" --out "$S" >"$W/sur.out" 2>&1 && ok ||
  { bad "isoscope rules with surprise thresholds"; sed 's/^/  | /' "$W/sur.out"; }
grep -qF "avg_over_time(anomaly_surprise{detector=\"checkout\"}[5m])" "$S/checkout.recording.rules.yml" &&
  ok || bad "the surprise's recording rule"
promtool_dir "$S" rules_promtool_surprise_test.yml "surprise thresholds"
"$PY" "$HERE/check_grafana_alerts.py" "$S/checkout.grafana-alerting.yml" checkout \
  surprise:3 surprise:4 3m prometheus >"$W/grafana4.out" 2>&1 && ok ||
  { bad "Grafana provisioning file (surprise)"; sed 's/^/  | /' "$W/grafana4.out"; }
"$ISOSCOPE" rules --config "$W/surprise.yml" --warning surprise:5 >"$W/bad.out" 2>&1
rc=$?
[ $rc = 2 ] && grep -q "critical (surprise:4) is less strict than warning (surprise:5)" "$W/bad.out" &&
  ok || { bad "a surprise warning above the critical refused (exit $rc)"; sed 's/^/  | /' "$W/bad.out"; }
"$ISOSCOPE" rules --config "$W/relative.yml" --critical contamination/3 >"$W/bad.out" 2>&1
rc=$?
[ $rc = 2 ] && grep -q "resolves thresholds relative to the model from the config" "$W/bad.out" && ok ||
  { bad "a relative --critical other than the config's refused (exit $rc)"; sed 's/^/  | /' "$W/bad.out"; }

# 4. Flags override the config; the panel's values go straight in.
O=$W/override
"$ISOSCOPE" rules --config "$W/isoscope.yml" --out "$O" --detector checkout --warning 0.7 \
  --critical 0.9 --for 5m --smooth 10m --grafana-datasource-uid prom-main >"$W/o.out" 2>&1 && ok ||
  { bad "rules with overrides"; sed 's/^/  | /' "$W/o.out"; }
grep -qF 'expr: '"'"'job:anomaly_score:avg5m{detector="checkout"} > 0.9'"'" "$O/checkout.alerting.rules.yml" &&
  grep -qF 'for: 5m' "$O/checkout.alerting.rules.yml" && ok || bad "--critical 0.9 --for 5m in the alerting rules"
grep -qF 'avg_over_time(anomaly_score{detector="checkout"}[10m])' "$O/checkout.recording.rules.yml" && ok ||
  bad "--smooth 10m in the recording rule"
"$PY" "$HERE/check_grafana_alerts.py" "$O/checkout.grafana-alerting.yml" checkout 0.7 0.9 5m \
  prom-main >"$W/grafana2.out" 2>&1 && ok ||
  { bad "Grafana file with overrides"; sed 's/^/  | /' "$W/grafana2.out"; }
for f in "$O"/*.rules.yml; do
  promtool check rules "$f" >/dev/null 2>&1 && ok || bad "promtool check rules $(basename "$f") (overrides)"
done
"$ISOSCOPE" rules --config "$W/isoscope.yml" --warning 0.9 --critical 0.8 >"$W/bad.out" 2>&1
rc=$?
[ $rc = 2 ] && grep -q "critical (0.8) is less strict than warning (0.9)" "$W/bad.out" && ok ||
  { bad "critical below warning refused with exit 2 (exit $rc)"; sed 's/^/  | /' "$W/bad.out"; }
"$ISOSCOPE" rules --config "$W/isoscope.yml" --detector nope >"$W/bad.out" 2>&1
rc=$?
[ $rc = 2 ] && grep -q "no detector 'nope'" "$W/bad.out" && ok || bad "unknown detector refused (exit $rc)"
"$ISOSCOPE" rules --config "$W/isoscope.yml" >"$W/stdout.out" 2>&1 &&
  [ "$(grep -c '^# file: ' "$W/stdout.out")" = 4 ] && ok || bad "without --out: four files on stdout"

# 5. A real Prometheus with the rules, scraping a running daemon. Fast settings so that it
# happens within seconds: evaluation every 1s, smoothing 5s, warning 0.01 (always exceeded).
"$ISOSCOPE" train --config "$W/isoscope.yml" --detector checkout --end "$PROM_END" >"$W/train.out" 2>&1 &&
  ok || { bad "train"; cat "$W/train.out"; exit 1; }
version=$(readlink "$W/models/checkout/latest")
version=${version%.bundle}
serve_start "$W/isoscope.yml" && ok || { bad "startup line 'listening on 127.0.0.1:PORT'"; exit 1; }
L=$W/live
"$ISOSCOPE" rules --config "$W/isoscope.yml" --out "$L" --eval-interval 1s --smooth 5s \
  --record job:anomaly_score:avg5s --warning 0.01 --critical 1 --for 2s >"$W/live.out" 2>&1 && ok ||
  { bad "rules for the live Prometheus"; sed 's/^/  | /' "$W/live.out"; }
S=$W/scraper
mkdir -p "$S"
cat >"$S/prom.yml" <<YAML
global: {scrape_interval: 1s, scrape_timeout: 1s, evaluation_interval: 1s}
rule_files: ['$L/*.rules.yml']
scrape_configs:
  - job_name: isoscope
    honor_labels: true
    static_configs:
      - targets: ['127.0.0.1:$PORT']
YAML
prometheus --config.file="$S/prom.yml" --storage.tsdb.path="$S/data" \
  --web.listen-address=127.0.0.1:0 </dev/null >"$S/prom.log" 2>&1 &
SCRAPER_PID=$!
scraper_alive() {
  kill -0 "$SCRAPER_PID" 2>/dev/null || { echo "  second prometheus exited"; return 1; }
}
scraper_port() {
  SPORT=$(grep -o 'msg="Listening on" address=127.0.0.1:[0-9]*' "$S/prom.log" 2>/dev/null | grep -o '[0-9]*$' | head -1)
  [ -n "$SPORT" ] || ! scraper_alive
}
scraper_ready() { curl -fs "http://127.0.0.1:$SPORT/-/ready" >/dev/null || ! scraper_alive; }
if wait_for 20 scraper_port && wait_for 20 scraper_ready && scraper_alive; then
  ok
else
  bad "second prometheus ready"
  sed 's/^/  | /' "$S/prom.log" | tail -10
fi
SURL=http://127.0.0.1:${SPORT:-1}
# rules_health: "GROUPS RULES UNHEALTHY" from /api/v1/rules.
rules_health() {
  curl -fs "$SURL/api/v1/rules" | "$PY" -c '
import json, sys
groups = json.load(sys.stdin)["data"]["groups"]
rules = [r for g in groups for r in g["rules"]]
bad = [r["name"] + ": " + (r.get("lastError") or r["health"]) for r in rules if r["health"] != "ok"]
print(len(groups), len(rules), len(bad), "; ".join(bad))'
}
all_healthy() {
  HEALTH=$(rules_health)
  [ "${HEALTH%% *}" = 3 ] && [ "$(echo "$HEALTH" | cut -d' ' -f2-3)" = "8 0" ]
}
wait_for 20 all_healthy && ok || bad "3 groups, 8 rules loaded and healthy (got: ${HEALTH:-})"
scraped() {
  curl -fs "$SURL/api/v1/query" --data-urlencode "query=$1" | "$PY" -c '
import json, sys
r = json.load(sys.stdin)["data"]["result"]
if len(r) == 1: print(r[0]["value"][1])'
}
recorded() {
  REC=$(scraped 'job:anomaly_score:avg5s{detector="checkout",job="checkout"}')
  [ -n "$REC" ]
}
t0=$SECONDS
wait_for 30 recorded && ok || bad "recording rule job:anomaly_score:avg5s produces values"
echo "recorded series present after $((SECONDS - t0)) s"
# The features do not change within the fixture's last 5 minutes, so the score is constant and
# its 5-second average equals it.
SCORE=$(metric 'anomaly_score{detector="checkout",job="checkout"}')
awk -v a="${REC:-x}" -v b="${SCORE:-y}" 'BEGIN { d = a - b; exit !(a != "" && b != "" && d < 1e-9 && d > -1e-9 && a > 0 && a <= 1) }' &&
  ok || bad "recorded average ($REC) equals the daemon's constant score ($SCORE)"
# The daemon's own view, from its config (warning 0.65 > this score): inactive, so no
# anomaly_alert_state series; for: 180 s; its thresholds as configured; and the page with these
# families still passes promtool check metrics.
[ -z "$(metric 'anomaly_alert_state{detector="checkout",job="checkout",severity="warning"}')" ] &&
  [ "$(metric 'anomaly_alert_threshold{detector="checkout",severity="critical"}')" = 0.85 ] &&
  [ "$(metric 'anomaly_alert_for_seconds{detector="checkout",severity="critical"}')" = 180 ] && ok ||
  bad "daemon: no anomaly_alert_state while inactive, anomaly_alert_for_seconds 180, threshold 0.85"
promtool check metrics < <(metrics) >"$W/promtool.out" 2>&1 && ok ||
  { bad "promtool check metrics with the alert families"; sed 's/^/  | /' "$W/promtool.out"; }
# firing_warning: the AnomalyScoreWarning alert for job checkout is firing and its description
# names the daemon's model version.
firing_warning() {
  curl -fs "$SURL/api/v1/alerts" | "$PY" -c '
import json, sys
want = sys.argv[1]
alerts = json.load(sys.stdin)["data"]["alerts"]
ok = [a for a in alerts if a["labels"].get("alertname") == "AnomalyScoreWarning"
      and a["labels"].get("job") == "checkout" and a["state"] == "firing"
      and ("Model version: " + want + ".") in a["annotations"].get("description", "")]
sys.exit(0 if ok else 1)' "$version"
}
wait_for 30 firing_warning && ok || bad "AnomalyScoreWarning fires with model version $version"
no_missing() {
  curl -fs "$SURL/api/v1/alerts" | "$PY" -c '
import json, sys
alerts = json.load(sys.stdin)["data"]["alerts"]
sys.exit(1 if [a for a in alerts if a["labels"]["alertname"] in
              ("AnomalyModelMissing", "AnomalyModelCanaryMismatch", "AnomalyScoreCritical")] else 0)'
}
no_missing && ok || bad "no missing-model, canary or critical alert while a good model serves"

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
