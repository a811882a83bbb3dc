#!/usr/bin/python3
"""make bench: isoscope against scikit-learn on the same origin-scale data, in the same run.

Data: 90 days at 60 s (129,555 complete rows) x 5 origin features (latency p95, error rate,
CPU throttling, hour of week, deploy-window flag), written by `isoscope_bench write-data`.
Model: 200 trees, max_samples auto, random_state 42, as in the origin pipeline.

Prints each figure, its ratio to scikit-learn, and whether it meets the target of the core
issue; exits non-zero if the trees differ from scikit-learn's (speed targets are reported,
not enforced: a shared machine's noise should not fail a build).

Then the daemon's figures (issue 4), each with its target:
- `isoscope_bench daemon`: the daemon (native/daemon/daemon.h) in process with 10,000 groups x 3
  features from a synthetic query function (10,000 series per query, copied per cycle as a
  client's fresh result; no HTTP or JSON): CPU time of one scoring cycle (median of 10, after a
  first cycle that creates the series), the /metrics page of those series (serialization, and
  a real HTTP GET against the daemon's HttpServer on loopback), and the process's RSS after
  that;
- `tools/bench/train_prom_bench.sh`: `isoscope train --config` against a local, real
  Prometheus (tests/e2e/prom_fixture.sh, backfilled 91 days at 60 s), 90 days x 3 series:
  wall time of pull plus fit plus install;
- load (issue 7): `isoscope_bench daemon --load-seconds 60`: wrk (Debian) hammers /metrics of
  the daemon's HttpServer publishing those 10,000 groups (2 series each, 20,000+ lines) for 60 s
  over loopback; errors (socket errors, non-2xx), p50/p99 latency and requests per second from
  wrk's report; and a scoring cycle every second, idle (10) and under that load: the median
  cycle time under load must stay within 2x the idle one. Both run on the same machine, so on
  2 cores wrk, the HTTP threads and the cycle share the CPU.
"""
import argparse
import csv
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def run(cmd, **kw):
    print("$ " + " ".join(cmd), file=sys.stderr, flush=True)
    return subprocess.run(cmd, check=True, text=True, stdout=subprocess.PIPE, **kw).stdout


def peak_rss_mib(cmd):
    """Peak RSS of a command, from GNU time's verbose report."""
    out = subprocess.run(["/usr/bin/time", "-v"] + cmd, check=True, text=True,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE).stderr
    kib = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", out).group(1))
    return kib / 1024.0


def trees_identical(ours_path, sklearn_path):
    ours = json.load(open(ours_path))["trees"]
    ref = json.load(open(sklearn_path))["trees"]
    if len(ours) != len(ref):
        return False, "tree counts differ: %d vs %d" % (len(ours), len(ref))
    keys = ("features", "children_left", "children_right", "feature", "threshold",
            "n_node_samples")
    for i, (a, b) in enumerate(zip(ours, ref)):
        for k in keys:
            if a[k] != b[k]:
                return False, "tree %d differs in %s" % (i, k)
    return True, "%d trees, every array identical" % len(ours)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.path.join(ROOT, "build"), help="CMake build directory")
    ap.add_argument("--repeat", type=int, default=5, help="repeats per timing (median is used)")
    ap.add_argument("--daemon-only", action="store_true",
                    help="only the daemon's figures (no scikit-learn comparison)")
    ap.add_argument("--no-prometheus", action="store_true",
                    help="skip training from a local Prometheus")
    ap.add_argument("--load-seconds", type=int, default=60,
                    help="seconds of wrk against /metrics (0: skip the load figures)")
    ap.add_argument("--load-only", action="store_true", help="only the load figures")
    ap.add_argument("--temporal-only", action="store_true",
                    help="only the temporal-feature and backtest figures")
    ap.add_argument("--tiny", action="store_true",
                    help="the whole driver at a tiny size in seconds (ctest bench.driver_tiny): "
                         "2 days of data, one repeat, few groups, 2 s of load, no Prometheus; "
                         "the figures mean nothing, a broken driver fails")
    a = ap.parse_args()
    if a.tiny:
        a.repeat, a.no_prometheus, a.load_seconds = 1, True, min(a.load_seconds, 2)
    a.days = 2 if a.tiny else 90
    a.groups = 200 if a.tiny else 10000
    a.big_groups = 1000 if a.tiny else 100000
    if a.temporal_only:
        return temporal_figures(a)
    if a.load_only:
        return load_figures(a)
    if a.daemon_only:
        return max(daemon_figures(a), big_daemon_figures(a), load_figures(a))
    bench_bin = os.path.join(a.build, "tests", "bench", "isoscope_bench")
    isoscope = os.path.join(a.build, "native", "isoscope")
    work = tempfile.mkdtemp(prefix="isoscope_bench_")
    data = os.path.join(work, "origin.csv")
    run([bench_bin, "write-data", "--out", data, "--days", str(a.days)])

    print("== scikit-learn (Debian python3-sklearn), one thread", file=sys.stderr)
    sk_model = os.path.join(work, "sklearn_model.json")
    sk = json.loads(run(["/usr/bin/python3", os.path.join(ROOT, "tools", "bench_sklearn.py"),
                         "--csv", data, "--n-estimators", "200", "--contamination", "auto",
                         "--random-state", "42", "--repeat", str(a.repeat),
                         "--fit-contamination", "0.02", "--export-model", sk_model]
                        + (["--batch-repeat", "1", "--single", "20"] if a.tiny else [])))
    print("== isoscope", file=sys.stderr)
    ours = json.loads(run([bench_bin, "run", "--csv", data, "--repeat", str(a.repeat)]))
    cli = cli_timings(a, isoscope, work, data)

    bundle = os.path.join(work, "model.bundle")
    train_cmd = [isoscope, "train", "--csv", data, "--out", bundle, "--scaler", "none",
                 "--derived", "none", "--n-estimators", "200", "--random-state", "42",
                 "--contamination", "0.02", "--quiet"]
    rss = peak_rss_mib(train_cmd)
    score_rss = peak_rss_mib([isoscope, "score", "--bundle", bundle, "--csv", data, "--out",
                              os.path.join(work, "scored_rss.csv"), "--quiet"])
    bundle_bytes = os.path.getsize(bundle)
    inspect_json = os.path.join(work, "ours.json")
    with open(inspect_json, "w") as fh:
        fh.write(run([isoscope, "inspect", "--bundle", bundle, "--json"]))
    same, detail = trees_identical(inspect_json, sk_model)
    sk_batch_s = ours["rows"] / sk["batch_rows_per_s"]

    rows = [
        ("fit, 200 trees (median)", "%.1f ms" % (ours["fit_s"] * 1e3),
         "%.1f ms" % (sk["fit_s"] * 1e3), sk["fit_s"] / ours["fit_s"], ">= 20x",
         sk["fit_s"] / ours["fit_s"] >= 20),
        ("batch scoring, time order", "%.0f k rows/s" % (ours["batch_rows_per_s"] / 1e3),
         "%.1f k rows/s" % (sk["batch_rows_per_s"] / 1e3),
         ours["batch_rows_per_s"] / sk["batch_rows_per_s"], ">= 20x and >= 600 k/s",
         ours["batch_rows_per_s"] >= 20 * sk["batch_rows_per_s"]
         and ours["batch_rows_per_s"] >= 600e3),
        ("batch scoring, shuffled", "%.0f k rows/s" % (ours["batch_shuffled_rows_per_s"] / 1e3),
         "%.1f k rows/s" % (sk["batch_shuffled_rows_per_s"] / 1e3),
         ours["batch_shuffled_rows_per_s"] / sk["batch_shuffled_rows_per_s"],
         ">= 20x and >= 600 k/s",
         ours["batch_shuffled_rows_per_s"] >= 20 * sk["batch_shuffled_rows_per_s"]
         and ours["batch_shuffled_rows_per_s"] >= 600e3),
        ("one row", "%.2f us" % ours["single_row_us"], "%.0f us" % sk["single_row_us"],
         sk["single_row_us"] / ours["single_row_us"], "<= 1 us", ours["single_row_us"] <= 1.0),
        ("CLI train, whole process", "%.0f ms" % (cli["train_s"] * 1e3),
         "%.0f ms" % (sk["fit_offset_s"] * 1e3), sk["fit_offset_s"] / cli["train_s"], ">= 25x",
         sk["fit_offset_s"] / cli["train_s"] >= 25),
        ("CLI score, whole process", "%.0f ms" % (cli["score_s"] * 1e3),
         "%.0f ms" % (sk_batch_s * 1e3), sk_batch_s / cli["score_s"], ">= 25x",
         sk_batch_s / cli["score_s"] >= 25),
        ("bundle size", "%.0f KB" % (bundle_bytes / 1e3), "-", None, "<= 500 KB",
         bundle_bytes <= 500e3),
        ("peak RSS of isoscope train", "%.1f MiB" % rss,
         "%.1f MiB" % sk["peak_rss_mib"], sk["peak_rss_mib"] / rss, "<= 64 MB",
         rss * 1048576 <= 64e6),
        # Each chunk's text is freed once written: 31 MiB on the origin data, 40 with every
        # chunk's text kept to the end.
        ("peak RSS of isoscope score", "%.1f MiB" % score_rss, "-", None, "<= 64 MB",
         score_rss * 1048576 <= 64e6),
    ]
    print()
    print("isoscope vs scikit-learn %s | %d rows x %d features, 200 trees, random_state 42"
          % (sk["sklearn_version"], ours["rows"], ours["features"]))
    print("%-28s %16s %16s %9s  %-22s %s" % ("", "isoscope", "scikit-learn", "ratio",
                                            "target", "met"))
    for name, o, s, ratio, target, met in rows:
        print("%-28s %16s %16s %9s  %-22s %s" % (name, o, s,
                                                "%.0fx" % ratio if ratio else "-", target,
                                                "yes" if met else "NO"))
    print("trees identical to scikit-learn: %s (%s)" % ("yes" if same else "NO", detail))
    print("full train incl. offset at contamination 0.02 and canaries: %.0f ms; scoring layout "
          "%d nodes (sklearn arrays %d)" % (ours["train_with_offset_s"] * 1e3,
                                            ours["scoring_nodes"], ours["forest_nodes"]))
    print("CLI: `isoscope train` (CSV in, 200 trees, offset at 0.02, quantiles, canaries, bundle "
          "out) against scikit-learn's fit at contamination 0.02 in process; `isoscope score` "
          "(bundle and CSV in, scored CSV out, %d rows) against score_samples in process; "
          "median wall of %d runs on %d hardware threads (CPU of all threads: train %.0f ms, "
          "score %.0f ms)" % (ours["rows"], cli["repeat"], os.cpu_count(),
                              cli["train_cpu_s"] * 1e3, cli["score_cpu_s"] * 1e3))
    daemon_rc = max(daemon_figures(a), big_daemon_figures(a), load_figures(a),
                    temporal_figures(a), explain_figures(a), tune_figures(a))
    return 0 if same and daemon_rc == 0 else 1


def cli_timings(a, isoscope, work, data):
    """Wall time of whole `isoscope train` and `isoscope score` processes (median of repeat)."""
    bundle = os.path.join(work, "cli.bundle")
    scored = os.path.join(work, "cli_scored.csv")
    train = [isoscope, "train", "--csv", data, "--out", bundle, "--scaler", "none", "--derived",
             "none", "--n-estimators", "200", "--random-state", "42", "--contamination", "0.02",
             "--quiet"]
    score = [isoscope, "score", "--bundle", bundle, "--csv", data, "--out", scored, "--quiet"]
    out = {"repeat": max(a.repeat, 3)}
    for key, cmd in (("train", train), ("score", score)):
        times, cpu = [], []
        for _ in range(out["repeat"]):
            r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
            t0 = time.monotonic()
            subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
            times.append(time.monotonic() - t0)
            r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu.append(r1.ru_utime + r1.ru_stime - r0.ru_utime - r0.ru_stime)
        out[key + "_s"] = sorted(times)[len(times) // 2]
        out[key + "_cpu_s"] = sorted(cpu)[len(cpu) // 2]
    return out


def tune_figures(a):
    """Issue 17: isoscope tune's search over 90 days at 60 s, target <= 2 s on one core."""
    bench_bin = os.path.join(a.build, "tests", "bench", "isoscope_bench")
    t = json.loads(run([bench_bin, "tune", "--repeat", str(a.repeat)]))
    met = t["tune_cpu_s"] <= 2.0
    print("tune (alert budget search, %d rows, %d settings judged): %.3f s wall, %.3f s CPU; "
          "target <= 2 s CPU: %s" % (t["rows"], t["settings_judged"], t["tune_s"],
                                     t["tune_cpu_s"], "yes" if met else "NO"))
    return 0  # a missed speed target is reported above, not a failed run


def explain_figures(a):
    """Exact attribution (issue 20) beside plain one-row scoring: 200 trees x 256 x 8."""
    bench_bin = os.path.join(a.build, "tests", "bench", "isoscope_bench")
    ex = json.loads(run([bench_bin, "explain", "--rows", "20" if a.tiny else "2000", "--repeat",
                         str(a.repeat)]))
    # One core's work: the thread's CPU time (wall time also counts whatever else the shared
    # machine runs; both are printed).
    met = ex["explain_cpu_us_per_row"] <= 1000.0
    print("explain one row (exact TreeSHAP, 200 trees x 256 x 8 features): %.0f us wall, "
          "%.0f us CPU (one row scored: %.2f us); target <= 1000 us CPU: %s"
          % (ex["explain_us_per_row"], ex["explain_cpu_us_per_row"], ex["score_us_per_row"],
             "yes" if met else "NO"))
    return 0  # a missed speed target is reported above, not a failed run


def temporal_figures(a):
    """Issue 9: the `auto` set for 129,600 rows x 3 series, the daemon's bytes per group, and a
    90-day walk-forward backtest with weekly retraining, each against its target."""
    bench_bin = os.path.join(a.build, "tests", "bench", "isoscope_bench")
    isoscope = os.path.join(a.build, "native", "isoscope")
    print("== temporal features and backtest", file=sys.stderr)
    f = json.loads(run([bench_bin, "features", "--repeat", "1" if a.tiny else "9"]))
    work = tempfile.mkdtemp(prefix="isoscope_backtest_")
    run([isoscope, "demo", "--out-dir", work])
    history = os.path.join(work, "history.csv")
    out = os.path.join(work, "backtest.csv")
    times = []
    for _ in range(1 if a.tiny else 3):
        t0 = time.monotonic()
        run([isoscope, "backtest", "--csv", history, "--out", out, "--initial", "28d",
             "--retrain-every", "7d", "--train-window", "90d", "--n-estimators", "200",
             "--contamination", "0.02", "--derived", "auto", "-q"])
        times.append(time.monotonic() - t0)
    with open(out) as fh:
        # By name: columns after model_version (surprise) came later.
        reader = csv.DictReader(fh)
        versions = {r["model_version"] for r in reader} - {""}
    backtest_s = sorted(times)[len(times) // 2]
    group_bytes = f["bytes_per_group"]
    # The whole daemon with a seasonal (`auto`) model and 10,000 groups: streams filled at
    # start-up, nine look-up queries a cycle; the daemon's budget is 100 MB RSS.
    d = json.loads(run([bench_bin, "daemon", "--groups", str(a.groups), "--cycles", "10",
                        "--seasonal"]).strip().splitlines()[-1])
    rss = max(d["rss_mib"], d["peak_rss_mib"]) * 1048576
    rows = [
        ("auto set, %d rows x 3 series" % f["rows"], "%.2f ms" % f["auto_ms"], "< 20 ms",
         f["auto_ms"] < 20),
        ("stream state per group", "%d B" % group_bytes, "-", True),
        ("streams of %d groups" % a.groups, "%.1f MB" % (group_bytes * a.groups / 1e6), "-",
         True),
        ("daemon, %d groups, peak RSS" % a.groups, "%.1f MB" % (rss / 1e6), "< 100 MB",
         rss < 100e6),
        ("daemon, scoring cycle CPU", "%.0f ms" % (d["cycle_cpu_s"] * 1e3), "-", True),
        ("backtest 90 d, weekly retrain", "%.2f s" % backtest_s, "< 5 s", backtest_s < 5),
    ]
    print()
    print("temporal features | %d columns: %s" % (f["columns"], f["features"]))
    print("%-32s %16s  %-10s %s" % ("", "isoscope", "target", "met"))
    for name, value, target, met in rows:
        print("%-32s %16s  %-10s %s" % (name, value, target, "yes" if met else "NO"))
    print("backtest: %d models (200 trees each), median of 3 runs; the daemon fetches %d "
          "look-ups per group and cycle from Prometheus instead of keeping weeks in memory"
          % (len(versions), f["lookups_per_group"]))
    return 0


def wrk_seconds(text):
    """'635.91us', '1.23ms', '2.00s' -> seconds."""
    m = re.match(r"([0-9.]+)(us|ms|s|m)$", text)
    return float(m.group(1)) * {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}[m.group(2)]


def parse_wrk(report):
    """The figures of a `wrk --latency` report (wrk 4.1)."""
    out = {"p50_s": None, "p99_s": None, "requests": 0, "rps": 0.0, "socket_errors": 0,
           "non_2xx": 0}
    for line in report.splitlines():
        line = line.strip()
        m = re.match(r"(50|99)(?:\.0+)?%\s+(\S+)$", line)
        if m:
            out["p%s_s" % m.group(1)] = wrk_seconds(m.group(2))
        m = re.match(r"(\d+) requests in", line)
        if m:
            out["requests"] = int(m.group(1))
        m = re.match(r"Requests/sec:\s+([0-9.]+)", line)
        if m:
            out["rps"] = float(m.group(1))
        m = re.match(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", line)
        if m:
            out["socket_errors"] = sum(int(x) for x in m.groups())
        m = re.match(r"Non-2xx or 3xx responses: (\d+)", line)
        if m:
            out["non_2xx"] = int(m.group(1))
    return out


# wrk runs from one address: http_guard caps a client at 8 open connections, and a connection
# wrk closes still counts until the server sees it close, so 4 stay clear of the cap (16, or
# even 8, drew 503s by design, counted as errors).
WRK_CONNECTIONS = 4


def load_figures(a):
    """wrk against /metrics of a.groups groups; cycle time idle and under load (issue 7)."""
    if a.load_seconds <= 0:
        return 0
    bench_bin = os.path.join(a.build, "tests", "bench", "isoscope_bench")
    wrk_out = os.path.join(tempfile.mkdtemp(prefix="isoscope_load_"), "wrk.txt")
    print("== load: wrk -t2 -c%d -d%ds against /metrics, %d groups"
          % (WRK_CONNECTIONS, a.load_seconds, a.groups), file=sys.stderr)
    out = run([bench_bin, "daemon", "--groups", str(a.groups), "--cycles", "3", "--load-seconds",
               str(a.load_seconds), "--wrk", "wrk", "--wrk-out", wrk_out, "--idle-cycles",
               "2" if a.tiny else "10", "--connections", str(WRK_CONNECTIONS)])
    d = [json.loads(l) for l in out.splitlines() if '"load_seconds"' in l][0]
    report = open(wrk_out).read()
    w = parse_wrk(report)
    ratio = d["load_cycle_wall_s"] / d["idle_cycle_wall_s"] if d["idle_cycle_wall_s"] else 0
    errors = w["socket_errors"] + w["non_2xx"]
    ok_wrk = d["wrk_rc"] == 0 and w["requests"] > 0 and w["p99_s"] is not None
    print()
    print("isoscope serve under load | wrk %d threads, %d connections, %d s, /metrics of %d "
          "groups (%.2f MB page), loopback, same 2-core machine"
          % (d["wrk_threads"], d["wrk_connections"], d["load_seconds"], d["groups_scored"],
             d["page_bytes"] / 1e6))
    rows = [
        ("wrk errors (socket + non-2xx)", "%d" % errors, "0", errors == 0 and ok_wrk),
        ("requests/s", "%.1f" % w["rps"], "-", True),
        ("latency p50", "%.2f ms" % ((w["p50_s"] or 0) * 1e3), "-", True),
        ("latency p99", "%.2f ms" % ((w["p99_s"] or 0) * 1e3), "-", True),
        ("scoring cycle idle (median)", "%.1f ms" % (d["idle_cycle_wall_s"] * 1e3), "-", True),
        ("scoring cycle under load (median)", "%.1f ms" % (d["load_cycle_wall_s"] * 1e3),
         "<= 2x idle", ratio <= 2.0),
        ("  ratio load / idle", "%.2fx" % ratio, "<= 2x", ratio <= 2.0),
    ]
    print("%-34s %14s  %-10s %s" % ("", "isoscope", "target", "met"))
    for name, value, target, met in rows:
        print("%-34s %14s  %-10s %s" % (name, value, target, "yes" if met else "NO"))
    print("%d requests in %d s; %d cycles under load (p90 %.1f ms), %d idle; cycle CPU idle "
          "%.1f ms, under load %.1f ms"
          % (w["requests"], d["load_seconds"], d["load_cycles"], d["load_cycle_wall_p90_s"] * 1e3,
             d["idle_cycles"], d["idle_cycle_cpu_s"] * 1e3, d["load_cycle_cpu_s"] * 1e3))
    if not ok_wrk:
        print("wrk did not run cleanly (exit %d); its report:\n%s" % (d["wrk_rc"], report))
    # Errors fail the bench; the 2x target is reported like the other speed targets.
    return 0 if errors == 0 and ok_wrk else 1


def big_daemon_figures(a):
    """Issue 18: one replica with 100,000 groups x 3 inputs and the `auto` seasonal set."""
    bench_bin = os.path.join(a.build, "tests", "bench", "isoscope_bench")
    print("== isoscope daemon, %d groups x 3 inputs, auto set" % a.big_groups, file=sys.stderr)
    d = json.loads(run([bench_bin, "daemon", "--groups", str(a.big_groups), "--cycles", "3",
                        "--seasonal"]).strip().splitlines()[-1])
    rss = max(d["rss_mib"], d["peak_rss_mib"]) * 1048576
    per_group = (d["rss_mib"] - d["rss_before_cycles_mib"]) * 1048576 / d["groups"]
    rows = [
        ("scoring cycle, CPU (median)", "%.0f ms" % (d["cycle_cpu_s"] * 1e3), "< 1 s per 60 s",
         d["cycle_cpu_s"] < 1.0),
        ("scoring cycle, CPU (worst)", "%.0f ms" % (d["cycle_cpu_s_max"] * 1e3), "< 1 s",
         d["cycle_cpu_s_max"] < 1.0),
        ("/metrics GET, cold, plain", "%.0f ms" % (d["scrape_cold_s"] * 1e3), "< 1 s",
         d["scrape_cold_s"] < 1.0),
        ("/metrics GET, cold, gzip", "%.0f ms" % (d["scrape_gzip_s"] * 1e3), "< 1 s",
         d["scrape_gzip_s"] < 1.0),
        ("  page plain / gzip", "%.1f / %.1f MB" % (d["http_bytes"] / 1e6, d["gzip_bytes"] / 1e6),
         "gzip", d["gzip_bytes"] > 0),
        ("peak RSS", "%.0f MB" % (rss / 1e6), "< 512 MB", rss < 512e6),
        ("RSS per group (after cycles)", "%.0f B" % per_group, "-", True),
    ]
    heap_group = ((d["heap_after_cycles_mib"] - d["heap_before_cycles_mib"]) * 1048576
                  / d["groups"]) if "heap_after_cycles_mib" in d else 0
    print()
    print("isoscope serve, one replica | %d groups x %d inputs, `auto` seasonal set, 200 trees; "
          "%d-cycle median" % (d["groups"], d["features"], d["cycles"]))
    print("%-32s %16s  %-15s %s" % ("", "isoscope", "target", "met"))
    for name, value, target, met in rows:
        print("%-32s %16s  %-15s %s" % (name, value, target, "yes" if met else "NO"))
    print("scored %d of %d groups per cycle (wall %.0f ms); RSS %.0f MiB before the first cycle, "
          "%.0f MiB after; /metrics serialization %.0f ms; a cold GET comes after the page "
          "cache (250 ms) expired, as Prometheus's one scrape per interval"
          % (d["groups_scored"], d["groups"], d["cycle_wall_s"] * 1e3, d["rss_before_cycles_mib"],
             d["rss_mib"], d["serialize_s"] * 1e3))
    if heap_group:
        print("bytes per group: %.0f B live heap after the cycles (the feature stream's share "
              "is the temporal figures' 'stream state per group'; the rest: labels, gauges of "
              "three families, alert and surprise state, the daemon's maps), %.0f B of RSS (the "
              "difference: pages malloc keeps from the cycles' temporaries); the /metrics page "
              "%.0f B plain, %.0f B gzipped"
              % (heap_group, (d["rss_after_cycles_mib"] - d["rss_before_cycles_mib"])
                 * 1048576 / d["groups"], d["http_bytes"] / d["groups"],
                 d["gzip_bytes"] / d["groups"]))
    return 0 if d["groups_scored"] == d["groups"] and d["gzip_bytes"] > 0 else 1


def daemon_figures(a):
    """The exporter daemon's figures (issue 4). Returns non-zero only if a run failed."""
    bench_bin = os.path.join(a.build, "tests", "bench", "isoscope_bench")
    isoscope = os.path.join(a.build, "native", "isoscope")
    print("== isoscope daemon, %d groups x 3 features" % a.groups, file=sys.stderr)
    d = json.loads(run([bench_bin, "daemon", "--groups", str(a.groups), "--cycles", "10"]))
    rows = [
        ("scoring cycle, CPU (median)", "%.1f ms" % (d["cycle_cpu_s"] * 1e3), "< 100 ms",
         d["cycle_cpu_s"] < 0.1),
        ("scoring cycle, CPU (worst)", "%.1f ms" % (d["cycle_cpu_s_max"] * 1e3), "< 100 ms",
         d["cycle_cpu_s_max"] < 0.1),
        ("/metrics serialization", "%.1f ms" % (d["serialize_s"] * 1e3), "< 50 ms",
         d["serialize_s"] < 0.05),
        ("/metrics HTTP GET, loopback", "%.1f ms" % (d["scrape_http_s"] * 1e3), "< 50 ms",
         d["scrape_http_s"] < 0.05),
        ("/metrics GET, cold, plain", "%.1f ms" % (d["scrape_cold_s"] * 1e3), "-", True),
        ("/metrics GET, cold, gzip", "%.1f ms" % (d["scrape_gzip_s"] * 1e3), "-", True),
        ("RSS with %d groups" % d["groups"], "%.1f MiB" % d["rss_mib"], "< 100 MB",
         d["rss_mib"] * 1048576 < 100e6),
        ("peak RSS (cycles and scrapes)", "%.1f MiB" % d["peak_rss_mib"], "< 100 MB",
         d["peak_rss_mib"] * 1048576 < 100e6),
    ]
    failed = d["groups_scored"] != d["groups"] or d["http_bytes"] == 0 or d["gzip_bytes"] == 0
    prom = None
    if a.no_prometheus:
        prom_note = "skipped (--no-prometheus)"
    else:
        print("== isoscope train --config from a local Prometheus", file=sys.stderr)
        try:
            prom = json.loads(run([os.path.join(HERE, "train_prom_bench.sh"), isoscope]))
            prom_note = ""
        except (subprocess.CalledProcessError, ValueError) as e:
            prom_note = "FAILED (%s; needs Debian's prometheus, promtool, curl)" % e
            failed = True
    if prom:
        rows.append(("train from Prometheus, 90 d", "%.2f s" % prom["train_wall_s"], "< 15 s",
                     prom["train_wall_s"] < 15))
    print()
    print("isoscope serve and train --config | %d groups x %d features, 200 trees; "
          "%d-cycle median" % (d["groups"], d["features"], d["cycles"]))
    print("%-32s %16s  %-10s %s" % ("", "isoscope", "target", "met"))
    for name, value, target, met in rows:
        print("%-32s %16s  %-10s %s" % (name, value, target, "yes" if met else "NO"))
    print("scored %d of %d groups per cycle (wall %.1f ms); /metrics page %.2f MB; RSS %.1f MiB "
          "with the model loaded, before the first cycle (peak %.1f MiB then, training the bench "
          "model in process)"
          % (d["groups_scored"], d["groups"], d["cycle_wall_s"] * 1e3, d["page_bytes"] / 1e6,
             d["rss_before_cycles_mib"], d["peak_rss_before_cycles_mib"]))
    if prom:
        print("train from Prometheus: %d rows x 3 series, %d query_range requests (two passes); pull and join "
              "%.2f s, fit and install %.2f s (fixture backfill and startup %.1f s, not counted)"
              % (prom["rows"], prom["requests"], prom["pull_s"], prom["fit_and_install_s"],
                 prom["fixture_setup_s"]))
    else:
        print("train from Prometheus: " + prom_note)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
