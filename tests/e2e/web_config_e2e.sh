#!/bin/bash
# isoscope serve --web.config.file, locked down, against real parts: certificates made by
# `openssl`, bcrypt hashes by `htpasswd` (apache2-utils) and python3-bcrypt (not by isoscope),
# curl as the client, and a real Prometheus (Debian's) scraping /metrics over TLS with basic
# auth. Covers: 401 without or with wrong credentials on every endpoint, 200 with the right ones,
# plain HTTP refused on the TLS port, path traversal in the detector name (raw and URL-encoded)
# answered 400/404 without reading the file, request size limits, and bad web config files
# refused at startup with exit code 2 and the field named.
#   web_config_e2e.sh ISOSCOPE
set -u
ISOSCOPE=$1
HERE=$(cd "$(dirname "$0")" && pwd)
for tool in openssl htpasswd; do
  command -v "$tool" >/dev/null || { echo "$tool not found: make deps-test"; exit 1; }
done
# shellcheck source=prom_fixture.sh
source "$HERE/prom_fixture.sh"
# shellcheck source=serve_lib.sh
source "$HERE/serve_lib.sh"
e2e_begin web SCRAPER_PID

# Certificates: a CA, and a server certificate for 127.0.0.1 signed by it (as in production,
# where Prometheus trusts the CA, not the leaf); a second key that matches nothing.
T=$W/tls
mkdir -p "$T"
{
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
    -subj /CN=isoscope-test-ca -keyout "$T/ca.key" -out "$T/ca.crt" &&
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
      -subj /CN=127.0.0.1 -keyout "$T/server.key" -out "$T/server.csr" &&
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >"$T/ext.cnf" &&
    openssl x509 -req -in "$T/server.csr" -CA "$T/ca.crt" -CAkey "$T/ca.key" -CAcreateserial \
      -days 2 -extfile "$T/ext.cnf" -out "$T/server.crt" &&
    openssl genpkey -algorithm ec -pkeyopt ec_paramgen_curve:prime256v1 -out "$T/other.key"
} >"$T/openssl.log" 2>&1 && ok || { bad "openssl test certificates"; cat "$T/openssl.log"; exit 1; }

PASS='scrape me, 15s'
# cost 10: what `htpasswd -B` users deploy; a cheap cost 4 for the second user ($2b$ from python).
HASH=$(htpasswd -nbBC 10 prometheus "$PASS" | cut -d: -f2-)
HASH_B=$(/usr/bin/python3 -c 'import bcrypt; print(bcrypt.hashpw(b"grafana-pw", bcrypt.gensalt(4)).decode())' 2>/dev/null)
case "$HASH" in '$2y$10$'*) ok ;; *) bad "htpasswd bcrypt hash: '$HASH'" ;; esac
[ -z "$HASH_B" ] && HASH_B=$(htpasswd -nbBC 4 x grafana-pw | cut -d: -f2-)
cat >"$W/web.yml" <<YAML
tls_server_config:
  cert_file: tls/server.crt   # relative to this file
  key_file: $T/server.key
basic_auth_users:
  prometheus: '$HASH'
  grafana: '$HASH_B'
YAML

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
    group_by: [job]
    lookback: 7d
    interval: 1s
    model:
      n_estimators: 20
      contamination: 0.02
YAML
"$ISOSCOPE" train --config "$W/isoscope.yml" --detector checkout --end "$PROM_END" >"$W/train.out" 2>&1 &&
  ok || { bad "train"; cat "$W/train.out"; exit 1; }
# A file a traversal would reach from models/checkout/: models/../secret.bundle and ../../.
echo "TOPSECRET-isoscope-traversal" >"$W/secret.bundle"
echo "TOPSECRET-isoscope-traversal" >"$W/models/secret.bundle"

# --- Bad web config files: exit code 2 before listening, the field named. ---
# bad_web NAME FIELD_TEXT YAML: serve with that web config must exit 2 naming FIELD_TEXT.
bad_web() {
  printf '%s\n' "$3" >"$W/bad_$1.yml"
  timeout 10 "$ISOSCOPE" serve --config "$W/isoscope.yml" --web.listen-address 127.0.0.1:0 \
    --web.config.file "$W/bad_$1.yml" >"$W/bad_$1.out" 2>&1
  local rc=$?
  if [ "$rc" = 2 ] && grep -qF -- "$2" "$W/bad_$1.out"; then ok; else
    bad "bad web config $1: exit $rc (want 2), output naming '$2':"
    sed 's/^/  | /' "$W/bad_$1.out" | head -5
  fi
}
bad_web missing_key "tls_server_config.key_file" "tls_server_config: {cert_file: $T/server.crt}"
bad_web typo "tls_server_config.certfile" "tls_server_config: {certfile: $T/server.crt, key_file: $T/server.key}"
bad_web wrong_key "tls_server_config.key_file" "tls_server_config: {cert_file: $T/server.crt, key_file: $T/other.key}"
bad_web no_cert_file "tls_server_config.cert_file" "tls_server_config: {cert_file: $T/nope.crt, key_file: $T/server.key}"
bad_web key_as_cert "tls_server_config.cert_file" "tls_server_config: {cert_file: $T/server.key, key_file: $T/server.key}"
bad_web plain_password "basic_auth_users.prometheus" "basic_auth_users: {prometheus: hunter2}"
bad_web yaml "not valid YAML" "basic_auth_users: {prometheus: [}"
bad_web unknown_top "basic_auth: unknown field" "basic_auth: {prometheus: x}"
timeout 10 "$ISOSCOPE" serve --config "$W/isoscope.yml" --web.config.file "$W/none.yml" \
  >"$W/bad_none.out" 2>&1
[ $? = 2 ] && grep -q -- "--web.config.file" "$W/bad_none.out" && ok || bad "missing web config file: exit 2"

# --- The locked-down daemon. ---
SERVE_SCHEME=https  # read by serve_start (serve_lib.sh)
export SERVE_SCHEME
serve_start "$W/isoscope.yml" --web.config.file "$W/web.yml" && ok ||
  { bad "startup with --web.config.file"; exit 1; }
grep -q 'tls=true' "$W/serve.log" && grep -q 'basic_auth=true' "$W/serve.log" && ok ||
  bad "startup log says tls=true basic_auth=true"
C=(curl -s --cacert "$T/ca.crt" -o /dev/null -w '%{http_code}')
AUTH=(-u "prometheus:$PASS")
ready() { [ "$("${C[@]}" "${AUTH[@]}" "$URL/readyz")" = 200 ]; }
wait_for 20 ready && ok || bad "/readyz 200 with credentials"
for path in /metrics /healthz /readyz /api/v1/detectors /api/v1/detectors/checkout/bundle \
  /no/such/path; do
  code=$("${C[@]}" "$URL$path")
  [ "$code" = 401 ] && ok || bad "no credentials: $path answered $code, want 401"
  code=$("${C[@]}" -u "prometheus:wrong" "$URL$path")
  [ "$code" = 401 ] && ok || bad "wrong password: $path answered $code, want 401"
  code=$("${C[@]}" -u "mallory:$PASS" "$URL$path")
  [ "$code" = 401 ] && ok || bad "unknown user: $path answered $code, want 401"
done
# A CORS preflight carries no credentials and gets no data: 204, empty body.
out=$(curl -s --cacert "$T/ca.crt" -X OPTIONS -w '%{http_code}' "$URL/api/v1/detectors")
[ "$out" = 204 ] && ok || bad "OPTIONS preflight without credentials: '$out', want 204 and no body"
hdr=$(curl -s --cacert "$T/ca.crt" -D - -o /dev/null "$URL/metrics")
grep -qi '^WWW-Authenticate: Basic' <<<"$hdr" && ok || bad "401 carries WWW-Authenticate: Basic"
body=$(curl -s --cacert "$T/ca.crt" "$URL/metrics")
! grep -q anomaly <<<"$body" && ok || bad "401 body leaks metrics"
for path in /metrics /healthz /readyz /api/v1/detectors /api/v1/detectors/checkout/bundle; do
  code=$("${C[@]}" "${AUTH[@]}" "$URL$path")
  [ "$code" = 200 ] && ok || bad "right password: $path answered $code, want 200"
done
# A wrong password costs its client address a second in which no new credentials are checked
# (cached ones still pass, as the loop above shows): the wrong ones above came from 127.0.0.1 too.
sleep 1.2
[ "$("${C[@]}" -u grafana:grafana-pw "$URL/api/v1/detectors")" = 200 ] && ok ||
  bad "second user (\$2b\$ hash from python3-bcrypt) 200"
v=$(readlink "$W/models/checkout/latest")
cmp -s <(curl -s --cacert "$T/ca.crt" "${AUTH[@]}" "$URL/api/v1/detectors/checkout/bundle") \
  "$W/models/checkout/$v" && ok || bad "bundle bytes over TLS equal the latest bundle"
# Plain HTTP on the TLS port gets no answer; TLS without trusting the CA fails verification.
code=$(curl -s -m 5 -o /dev/null -w '%{http_code}' "${AUTH[@]}" "http://127.0.0.1:$PORT/metrics")
[ "$code" != 200 ] && ok || bad "plain HTTP on the TLS port answered 200"
curl -s -m 5 -o /dev/null "${AUTH[@]}" "$URL/metrics" && bad "TLS accepted without the CA" || ok

# --- Path traversal in the detector name: 400 or 404, never the file. ---
for name in '..' '%2e%2e' '%2E%2E' '..%2fsecret' '%2e%2e%2fsecret' '%2e%2e%2f%2e%2e%2fsecret' \
  '..%2f..%2fsecret' '%2e%2e%5csecret' 'checkout%00' '.latest' 'CHECKOUT' 'checkout%2f..%2f..%2fsecret'; do
  out=$(curl -s --path-as-is --cacert "$T/ca.crt" "${AUTH[@]}" -w '\n%{http_code}' \
    "$URL/api/v1/detectors/$name/bundle")
  code=${out##*$'\n'}
  echo "  detector name $name -> $code"
  if { [ "$code" = 400 ] || [ "$code" = 404 ]; } && ! grep -q TOPSECRET <<<"$out"; then ok; else
    bad "traversal name '$name': answered $code (want 400/404) or leaked the file"
  fi
done
for path in '/api/v1/detectors/../../secret.bundle' '/api/v1/detectors/%2e%2e/%2e%2e/secret.bundle' \
  '/../../secret.bundle' '/%2e%2e/%2e%2e/secret.bundle'; do
  out=$(curl -s --path-as-is --cacert "$T/ca.crt" "${AUTH[@]}" -w '\n%{http_code}' "$URL$path")
  code=${out##*$'\n'}
  echo "  path $path -> $code"
  if { [ "$code" = 400 ] || [ "$code" = 404 ]; } && ! grep -q TOPSECRET <<<"$out"; then ok; else
    bad "traversal path '$path': answered $code or leaked the file"
  fi
done

# --- Request size limits: no endpoint takes a body (a POST is refused, 405, before its body
# is read), a request head over 16 KiB is cut (431); the daemon keeps answering. ---
head -c 100000 /dev/zero | tr '\0' a >"$W/big.txt"
code=$("${C[@]}" "${AUTH[@]}" -X POST --data-binary @"$W/big.txt" "$URL/metrics")
[ "$code" = 405 ] && ok || bad "100 kB POST body: answered $code, want 405"
code=$("${C[@]}" "${AUTH[@]}" -H "X-Big: $(head -c 100000 "$W/big.txt")" "$URL/metrics")
echo "  100 kB header -> $code"
[ "$code" != 200 ] && ok || bad "100 kB header: answered 200"
code=$("${C[@]}" "${AUTH[@]}" "$URL/metrics?$(head -c 20000 "$W/big.txt")")
echo "  20 kB URI -> $code"
[ "$code" != 200 ] && ok || bad "20 kB URI: answered 200"
ready && ok || bad "daemon still answers after oversized requests"

# --- A real Prometheus scrapes /metrics over TLS with basic auth (the matching tls_config);
# a second job with a wrong password is the control: it must be down. ---
S=$W/scraper
mkdir -p "$S"
printf '%s' "$PASS" >"$S/password"
cat >"$S/prom.yml" <<YAML
global: {scrape_interval: 1s, scrape_timeout: 1s, evaluation_interval: 15s}
scrape_configs:
  - job_name: isoscope
    scheme: https
    tls_config: {ca_file: $T/ca.crt}
    basic_auth: {username: prometheus, password_file: $S/password}
    static_configs: [{targets: ['127.0.0.1:$PORT']}]
  - job_name: wrong_password
    scheme: https
    tls_config: {ca_file: $T/ca.crt}
    basic_auth: {username: prometheus, password: nope}
    static_configs: [{targets: ['127.0.0.1:$PORT']}]
  - job_name: no_tls
    scheme: http
    basic_auth: {username: prometheus, password_file: $S/password}
    static_configs: [{targets: ['127.0.0.1:$PORT']}]
YAML
prometheus --config.file="$S/prom.yml" --storage.tsdb.path="$S/data" \
  --web.listen-address=127.0.0.1:0 </dev/null >"$S/prom.log" 2>&1 &
SCRAPER_PID=$!
scraper_port() {
  SPORT=$(grep -o 'msg="Listening on" address=127.0.0.1:[0-9]*' "$S/prom.log" 2>/dev/null | grep -o '[0-9]*$' | head -1)
  [ -n "$SPORT" ] || ! kill -0 "$SCRAPER_PID" 2>/dev/null
}
wait_for 20 scraper_port
SURL=http://127.0.0.1:${SPORT:-1}
# up JOB: the value of up{job=JOB} in the scraping Prometheus, empty until scraped.
up() {
  curl -fs "$SURL/api/v1/query" --data-urlencode "query=up{job=\"$1\"}" | /usr/bin/python3 -c '
import json, sys
r = json.load(sys.stdin)["data"]["result"]
if len(r) == 1: print(r[0]["value"][1])' 2>/dev/null
}
all_scraped() { [ -n "$(up isoscope)" ] && [ -n "$(up wrong_password)" ] && [ -n "$(up no_tls)" ]; }
wait_for 30 all_scraped && ok || { bad "scraping Prometheus reports up for its 3 jobs"; tail -5 "$S/prom.log"; }
[ "$(up isoscope)" = 1 ] && ok || bad "TLS + basic auth scrape: up{job=isoscope} = '$(up isoscope)', want 1"
[ "$(up wrong_password)" = 0 ] && ok || bad "wrong password scrape: up = '$(up wrong_password)', want 0"
[ "$(up no_tls)" = 0 ] && ok || bad "plain HTTP scrape: up = '$(up no_tls)', want 0"
stored() {
  curl -fs "$SURL/api/v1/query" --data-urlencode 'query=count(anomaly_score{job="isoscope"}) or count(anomaly_score)' |
    grep -q '"value"'
}
wait_for 20 stored && ok || bad "anomaly_score stored by the TLS scraper"

stop_pid "$SERVE_PID"
SERVE_PID=""

# --- Mutual TLS: client_auth_type RequireAndVerifyClientCert with client_ca_file. ---
{
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=prometheus \
    -keyout "$T/client.key" -out "$T/client.csr" &&
    openssl x509 -req -in "$T/client.csr" -CA "$T/ca.crt" -CAkey "$T/ca.key" -CAcreateserial \
      -days 2 -out "$T/client.crt"
} >>"$T/openssl.log" 2>&1 && ok || bad "openssl client certificate"
cat >"$W/web_mtls.yml" <<YAML
tls_server_config:
  cert_file: $T/server.crt
  key_file: $T/server.key
  client_auth_type: RequireAndVerifyClientCert
  client_ca_file: $T/ca.crt
  min_version: TLS12
YAML
serve_start "$W/isoscope.yml" --web.config.file "$W/web_mtls.yml" && ok || bad "startup with mutual TLS"
code=$("${C[@]}" -m 5 "$URL/healthz")
[ "$code" != 200 ] && ok || bad "mutual TLS: a client without a certificate got 200"
# 20 s: under ASan with both cores busy a TLS handshake with a client certificate took over 5 s.
code=$("${C[@]}" -m 20 --cert "$T/client.crt" --key "$T/client.key" "$URL/healthz")
[ "$code" = 200 ] && ok || bad "mutual TLS: the client certificate signed by client_ca_file got $code"
stop_pid "$SERVE_PID"
SERVE_PID=""
echo "web_config_e2e: $passed passed, $failed failed"
[ "$failed" = 0 ]
