#!/usr/bin/python3
"""Time scikit-learn's IsolationForest on a CSV: the baseline for tools/bench/run_bench.py.

  /usr/bin/python3 tools/bench_sklearn.py --csv FILE [--time-column NAME] [--n-estimators 200]
      [--contamination 0.02] [--random-state 42] [--repeat 5] [--batch-repeat 3]
      [--single 200] [--export-model model.json]

The CSV has a header row; every column except --time-column (skipped) is a numeric feature.
Everything runs on one thread (n_jobs=1), as the C++ figures it is compared with do.

Measured:
  fit_s, fit_s_min          median and fastest of --repeat fits. With a float contamination
                            a fit also scores every training row (to set offset_), so fit time
                            then includes one full score_samples pass; "auto" does not.
  batch_rows_per_s          rows / median time of score_samples over all rows, in file order
  batch_shuffled_rows_per_s the same over a fixed shuffle of the rows (no locality)
  single_row_us             median time of one score_samples call on one row, taken over
                            --single calls (the first rows, in order) in each of --repeat rounds
  peak_rss_mib              this process's peak RSS (ru_maxrss), imports included

Prints one JSON object with exactly these keys on stdout:
  {"sklearn_version", "rows", "features", "fit_s", "fit_s_min", "batch_rows_per_s",
   "batch_shuffled_rows_per_s", "single_row_us", "peak_rss_mib", "fit_offset_s"}
(fit_offset_s: median fit time at --fit-contamination; null without it)
Progress goes to stderr. --export-model writes the fitted forest in tools/sklearn_export.py's
JSON format, so the caller can check that its own trees are identical.
"""
import argparse
import json
import os
import resource
import statistics
import sys
import time

import numpy as np
import sklearn
from sklearn.ensemble import IsolationForest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sklearn_export import forest_json  # noqa: E402


def fail(message):
    print("bench_sklearn: " + message, file=sys.stderr)
    sys.exit(2)


def progress(message):
    print("bench_sklearn: " + message, file=sys.stderr, flush=True)


def timings(fn, repeat):
    """Wall time of each of `repeat` calls of fn."""
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def contamination_arg(text):
    if text == "auto":
        return text
    value = float(text)
    if not 0.0 < value <= 0.5:
        raise argparse.ArgumentTypeError("contamination must be 'auto' or in (0, 0.5]")
    return value


def positive_int(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be >= 1")
    return value


def read_features(path, time_column):
    """(names, X) with every column but time_column; exits 2 with a reason if it can't."""
    with open(path) as fh:
        names = [n.strip() for n in fh.readline().rstrip("\r\n").split(",")]
    if time_column is not None and time_column not in names:
        fail("--time-column %r is not in the header %s"
                 % (time_column, ",".join(names)))
    keep = [i for i, n in enumerate(names) if n != time_column]
    try:
        X = np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2, usecols=keep, dtype=np.float64)
    except ValueError as e:
        fail("%s: a feature column is not numeric (%s); name a timestamp "
                 "column with --time-column" % (path, e))
    return [names[i] for i in keep], X


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--csv", required=True, help="input CSV with a header row")
    ap.add_argument("--time-column", metavar="NAME", help="column to skip (not a feature)")
    ap.add_argument("--n-estimators", type=positive_int, default=200)
    ap.add_argument("--contamination", type=contamination_arg, default=0.02,
                    help="'auto' or a float in (0, 0.5] (default 0.02)")
    ap.add_argument("--random-state", type=int, default=42)
    ap.add_argument("--repeat", type=positive_int, default=5,
                    help="fits, and rounds of single-row calls (default 5)")
    ap.add_argument("--batch-repeat", type=positive_int, default=3,
                    help="full score_samples passes per order; one pass over 130 k rows takes "
                         "about 4 s (default 3)")
    ap.add_argument("--single", type=positive_int, default=200,
                    help="single-row calls per round (default 200)")
    ap.add_argument("--fit-contamination", type=contamination_arg, metavar="C",
                    help="also time --repeat fits at this float contamination (fit_offset_s): "
                         "such a fit scores every training row to set offset_, as "
                         "`isoscope train --contamination C` does")
    ap.add_argument("--export-model", metavar="FILE",
                    help="write the fitted forest as JSON (tools/sklearn_export.py format)")
    a = ap.parse_args()

    names, X = read_features(a.csv, a.time_column)
    n, d = X.shape
    progress("%s: %d rows x %d features (%s); scikit-learn %s"
             % (a.csv, n, d, ",".join(names), sklearn.__version__))
    clf = IsolationForest(n_estimators=a.n_estimators, contamination=a.contamination,
                          random_state=a.random_state, n_jobs=1)

    progress("fit x%d" % a.repeat)
    fit = timings(lambda: clf.fit(X), a.repeat)

    fit_offset = None
    if a.fit_contamination not in (None, "auto"):
        progress("fit with contamination %g x%d" % (a.fit_contamination, a.repeat))
        with_offset = IsolationForest(n_estimators=a.n_estimators,
                                      contamination=a.fit_contamination,
                                      random_state=a.random_state, n_jobs=1)
        fit_offset = timings(lambda: with_offset.fit(X), a.repeat)

    progress("score_samples, all rows in file order, x%d" % a.batch_repeat)
    batch = timings(lambda: clf.score_samples(X), a.batch_repeat)
    # A fixed shuffle: the same rows without the time order's locality.
    shuffled = X[np.random.RandomState(0).permutation(n)]
    progress("score_samples, shuffled rows, x%d" % a.batch_repeat)
    batch_shuffled = timings(lambda: clf.score_samples(shuffled), a.batch_repeat)

    # One row per call, as a live service scores each new sample: each call is timed on its
    # own and the median taken, so a stray slow call (GC, a noisy neighbour) does not count.
    rows = [X[i % n:i % n + 1] for i in range(a.single)]
    progress("%d single-row calls x%d" % (a.single, a.repeat))
    single = []
    for _ in range(a.repeat):
        for r in rows:
            single += timings(lambda: clf.score_samples(r), 1)

    if a.export_model:
        with open(a.export_model, "w") as fh:
            json.dump(forest_json(clf, names), fh, separators=(",", ":"))
        progress("wrote %s" % a.export_model)

    print(json.dumps({
        "sklearn_version": sklearn.__version__,
        "rows": n,
        "features": d,
        "fit_s": statistics.median(fit),
        "fit_s_min": min(fit),
        "batch_rows_per_s": n / statistics.median(batch),
        "batch_shuffled_rows_per_s": n / statistics.median(batch_shuffled),
        "single_row_us": statistics.median(single) * 1e6,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,  # KiB
        "fit_offset_s": statistics.median(fit_offset) if fit_offset else None,
    }))


if __name__ == "__main__":
    main()
