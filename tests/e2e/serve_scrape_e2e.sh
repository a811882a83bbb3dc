#!/bin/bash
# isoscope serve as Prometheus sees it, against real parts only (Debian's prometheus and
# promtool, the real binary): a second Prometheus scraping the daemon stores anomaly_score with
# the value the daemon shows; rollback while serving (the daemon follows `latest` back); a
# bundle whose checksum is valid but whose canary expectation was changed is refused
# (inspect exits 3, canary_ok 0, reload error counted and logged, the old model keeps serving),
# and canary_ok returns to 1 once `latest` points at a good bundle again.
#   serve_scrape_e2e.sh ISOSCOPE [PYTHON3]   (PYTHON3: Debian's, with python3-msgpack)
# shellcheck disable=SC2015  # `A && ok || bad`: ok always succeeds
set -u
ISOSCOPE=$1
PY=${2:-/usr/bin/python3}
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=prom_fixture.sh
source "$HERE/prom_fixture.sh"
"$PY" -c 'import msgpack' 2>/dev/null ||
  { echo "FAIL: $PY cannot import msgpack; install Debian's python3-msgpack"; exit 1; }
# shellcheck source=serve_lib.sh
source "$HERE/serve_lib.sh"
e2e_begin scrape SCRAPER_PID
M=$W/models/checkout
latest() { readlink "$M/latest"; }
# swap_latest TARGET: atomically (rename over it), so the daemon never sees `latest` missing.
swap_latest() { ln -s "$1" "$M/.latest.tmp" && mv -T "$M/.latest.tmp" "$M/latest"; }
# same_number A B: both non-empty and equal as float64.
same_number() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a != "" && b != "" && a + 0 == b + 0) }'; }
# api_versions: "MODEL_VERSION ACTIVE" of detector checkout from /api/v1/detectors.
api_versions() {
  curl -fs "$URL/api/v1/detectors" | "$PY" -c '
import json, sys
d = [x for x in json.load(sys.stdin) if x["name"] == "checkout"][0]
active = [v["version"] for v in d["versions"] if v.get("active")]
print(d["model_version"], ",".join(active) or "-")'
}
# serving VERSION: the daemon's model_version label, its API and its bundle bytes say VERSION.
serving() {
  [ -n "$(metric "model_version_timestamp{detector=\"checkout\",model_version=\"$1\"}")" ] &&
    [ "$(metrics | grep -c '^model_version_timestamp{')" = 1 ] &&
    [ "$(api_versions)" = "$1 $1" ] &&
    cmp -s <(curl -fs "$URL/api/v1/detectors/checkout/bundle") "$M/$1.bundle"
}

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
    keep_versions: 5
    model:
      n_estimators: 50
      contamination: 0.02
YAML

"$ISOSCOPE" train --config "$W/isoscope.yml" --detector checkout --end "$PROM_END" >"$W/train1.out" 2>&1 &&
  ok || { bad "first train"; cat "$W/train1.out"; exit 1; }
v1=$(latest)
v1=${v1%.bundle}

serve_start "$W/isoscope.yml" && ok || { bad "startup line 'listening on 127.0.0.1:PORT'"; exit 1; }
scored() { [ -n "$(metric 'anomaly_score{detector="checkout",job="checkout"}')" ]; }
wait_for 10 scored && ok || bad "daemon scores job checkout"
metrics >"$W/metrics.txt"
promtool check metrics <"$W/metrics.txt" >"$W/promtool.out" 2>&1 && ok ||
  { bad "promtool check metrics"; sed 's/^/  | /' "$W/promtool.out"; }
# Prometheus asks for gzip (Accept-Encoding: gzip), as below: the page comes gzipped once and
# inflates (gzip(1), not the daemon's code) to a page promtool accepts.
curl -fs -D "$W/gzip.headers" -H 'Accept-Encoding: gzip' -o "$W/metrics.gz" "$URL/metrics"
grep -qi '^content-encoding: gzip' "$W/gzip.headers" && gzip -dc "$W/metrics.gz" >"$W/gunzipped.txt" &&
  promtool check metrics <"$W/gunzipped.txt" >/dev/null 2>&1 &&
  grep -q '^anomaly_score{detector="checkout",job="checkout"} ' "$W/gunzipped.txt" && ok ||
  bad "/metrics gzipped for Accept-Encoding: gzip, and inflates to a valid page"

# 1. A second Prometheus (its own config and data dir, ephemeral port) scrapes the daemon every
# second. honor_labels keeps the daemon's own `job` group label (job="checkout"); the target's
# `up` series gets job="isoscope".
S=$W/scraper
mkdir -p "$S"
cat >"$S/prom.yml" <<YAML
global: {scrape_interval: 1s, scrape_timeout: 1s, evaluation_interval: 15s}
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
# scraped QUERY: the value of the single series QUERY returns from the second Prometheus (now).
scraped() {
  curl -fs "$SURL/api/v1/query" --data-urlencode "query=$1" | "$PY" -c '
import json, sys
r = json.load(sys.stdin)["data"]["result"]
if len(r) == 1: print(r[0]["value"][1])'
}
stored() { [ -n "$(scraped 'anomaly_score{detector="checkout",job="checkout"}')" ]; }
t0=$SECONDS
wait_for 20 stored && ok || bad "second Prometheus stores anomaly_score{detector=\"checkout\",job=\"checkout\"}"
echo "anomaly_score stored by the scraper after $((SECONDS - t0)) s"
stored_equals_live() {
  local q='anomaly_score{detector="checkout",job="checkout"}'
  STORED=$(scraped "$q")
  LIVE=$(metric "$q")
  same_number "$STORED" "$LIVE"
}
wait_for 5 stored_equals_live && ok ||
  bad "stored anomaly_score equals the daemon's /metrics (stored '${STORED:-}', /metrics '${LIVE:-}')"
[ "$(scraped 'up{job="isoscope"}')" = 1 ] && ok || bad "scrape target up == 1"
[ -n "$(scraped "model_version_timestamp{detector=\"checkout\",model_version=\"$v1\"}")" ] && ok ||
  bad "second Prometheus stores model_version_timestamp of $v1"

# 2. Rollback while serving: a second train moves latest, the daemon follows; rollback moves it
# back, the daemon follows again and counts the reload.
"$ISOSCOPE" train --config "$W/isoscope.yml" --detector checkout --end $((PROM_END - 3600)) >"$W/train2.out" 2>&1 &&
  ok || { bad "second train"; sed 's/^/  | /' "$W/train2.out"; }
v2=$(latest)
v2=${v2%.bundle}
[ "$v1" != "$v2" ] && ok || bad "second train gives a new version ($v2)"
wait_for 10 serving "$v2" && ok || bad "daemon serves $v2 after the second train (api: $(api_versions))"
reloads_before=$(metric 'isoscope_reloads_total{detector="checkout"}')
"$ISOSCOPE" rollback --config "$W/isoscope.yml" --detector checkout >"$W/rollback.out" 2>&1 && ok ||
  { bad "isoscope rollback"; sed 's/^/  | /' "$W/rollback.out"; }
[ "$(latest)" = "$v1.bundle" ] && ok || bad "rollback points latest at $v1 (got $(latest))"
wait_for 10 serving "$v1" && ok || bad "daemon serves $v1 again after rollback (api: $(api_versions))"
reloads_after=$(metric 'isoscope_reloads_total{detector="checkout"}')
awk -v a="${reloads_before:-x}" -v b="${reloads_after:-x}" 'BEGIN { exit !(a ~ /^[0-9]+$/ && b + 0 > a + 0) }' &&
  ok || bad "isoscope_reloads_total rises on rollback ($reloads_before -> $reloads_after)"
grep -q "msg=\"model loaded\" detector=checkout version=$v1 .*previous=$v2" "$W/serve.log" && ok ||
  bad "rollback reload logged"
wait_for 5 scored && ok || bad "scoring with $v1 after rollback"
rolled_back_scraped() { [ -n "$(scraped "model_version_timestamp{detector=\"checkout\",model_version=\"$v1\"}")" ] &&
  [ -z "$(scraped "model_version_timestamp{detector=\"checkout\",model_version=\"$v2\"}")" ]; }
wait_for 10 rolled_back_scraped && ok || bad "second Prometheus sees model_version $v1 again"

# 3. Canary mismatch: a copy of the active bundle with canaries[0].anomaly_score changed by 1e-9
# (the tolerance is 1e-12), re-packed with every float as float64 and a valid CRC and length.
bad_version=20990101-deadbeef
if canary=$("$PY" - "$M/$v1.bundle" "$M/$bad_version.bundle" <<'PYEOF'
import struct, sys, zlib
import msgpack

src, dst = sys.argv[1], sys.argv[2]
data = open(src, "rb").read()
head, (crc, n) = data[:16], struct.unpack(">xIxI", data[16:26])
assert data[0] == 0x95 and data[1:10] == b"\xa8ISOSCOPE", "not an isoscope bundle"
assert data[16] == 0xce and data[21] == 0xc6, "unexpected header encoding"
body = data[26:]
assert len(body) == n and zlib.crc32(body) == crc, "source bundle length/CRC"
obj = msgpack.unpackb(body, raw=False, strict_map_key=False)
pack = lambda o: msgpack.packb(o, use_bin_type=True, use_single_float=False)
# The round trip must be exact: same key order, floats stay float64, bins stay bins.
assert pack(obj) == body, "msgpack round trip changed the body"
c = obj["canaries"][0]
assert isinstance(c["anomaly_score"], float)
c["anomaly_score"] += 1e-9
new = pack(obj)
assert len(new) == len(body)  # only the 8 bytes of one float64 differ
with open(dst, "wb") as f:
    f.write(head + struct.pack(">BIBI", 0xce, zlib.crc32(new), 0xc6, len(new)) + new)
print(c["label"])
PYEOF
); then ok; else bad "tampered bundle written"; fi
"$ISOSCOPE" inspect --bundle "$M/$bad_version.bundle" >"$W/inspect.out" 2>"$W/inspect.err"
rc=$?
[ $rc = 3 ] && grep -q "canary '$canary'" "$W/inspect.err" && ok ||
  { bad "inspect exits 3 naming canary '$canary' (exit $rc)"; sed 's/^/  | /' "$W/inspect.out" "$W/inspect.err" | head -5; }
errors_before=$(metric 'isoscope_reload_errors_total{detector="checkout"}')
[ "$(metric 'anomaly_model_canary_ok{detector="checkout"}')" = 1 ] && ok || bad "canary_ok 1 before the swap"
swap_latest "$bad_version.bundle"
canary_bad() { [ "$(metric 'anomaly_model_canary_ok{detector="checkout"}')" = 0 ]; }
wait_for 10 canary_bad && ok || bad "anomaly_model_canary_ok becomes 0"
errors_after=$(metric 'isoscope_reload_errors_total{detector="checkout"}')
awk -v a="${errors_before:-x}" -v b="${errors_after:-x}" 'BEGIN { exit !(a ~ /^[0-9]+$/ && b + 0 == a + 1) }' &&
  ok || bad "isoscope_reload_errors_total +1 ($errors_before -> $errors_after)"
grep "msg=\"model refused, keeping the previous one\" detector=checkout version=$bad_version " "$W/serve.log" |
  grep -q "canary_mismatch: .*canary '$canary' scores .*serving=$v1" && ok || bad "refusal logged naming canary '$canary'"
serving "$v1" && ok || bad "still serving $v1 (api: $(api_versions))"
sleep 1.2  # more than one interval: the refused target is not retried, and scoring goes on
scored && ok || bad "still scoring after the refusal"
[ "$(metric 'isoscope_reload_errors_total{detector="checkout"}')" = "$errors_after" ] && ok ||
  bad "refused target not retried"
promtool check metrics < <(metrics) >"$W/promtool.out" 2>&1 && ok ||
  { bad "promtool check metrics after the refusal"; sed 's/^/  | /' "$W/promtool.out"; }
swap_latest "$v1.bundle"
canary_good() { [ "$(metric 'anomaly_model_canary_ok{detector="checkout"}')" = 1 ] && serving "$v1"; }
wait_for 10 canary_good && ok || bad "anomaly_model_canary_ok back to 1 with latest -> $v1"
[ "$(scraped 'up{job="isoscope"}')" = 1 ] && ok || bad "scrape target still up"

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
