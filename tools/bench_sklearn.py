#!/usr/bin/python3
"""Time scikit-learn's IsolationForest on a CSV, for tools/bench/run_bench.py.

  /usr/bin/python3 tools/bench_sklearn.py --csv FILE [--time-column NAME] [--n-estimators 200]
      [--contamination auto] [--random-state 42] [--repeat 5] [--single 200]
      [--export-model model.json]

All columns but the optional time column are features. One thread (n_jobs=1). Prints one
JSON object on stdout; progress goes to stderr.
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


def timed(fn, repeat):
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return statistics.median(out), min(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--csv", required=True)
    ap.add_argument("--time-column")
    ap.add_argument("--n-estimators", type=int, default=200)
    ap.add_argument("--contamination", default="auto")
    ap.add_argument("--random-state", type=int, default=42)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--single", type=int, default=200, help="one-row calls per repeat")
    ap.add_argument("--export-model", help="write the fitted forest as JSON")
    a = ap.parse_args()

    with open(a.csv) as fh:
        names = fh.readline().strip().split(",")
    keep = [i for i, n in enumerate(names) if n != a.time_column]
    X = np.loadtxt(a.csv, delimiter=",", skiprows=1, ndmin=2, usecols=keep)
    contamination = a.contamination if a.contamination == "auto" else float(a.contamination)
    clf = IsolationForest(n_estimators=a.n_estimators, contamination=contamination,
                          random_state=a.random_state, n_jobs=1)
    print("sklearn: fit x%d" % a.repeat, file=sys.stderr, flush=True)
    fit_med, fit_min = timed(lambda: clf.fit(X), a.repeat)
    shuffled = X[np.random.RandomState(0).permutation(len(X))]
    print("sklearn: score_samples", file=sys.stderr, flush=True)
    batch_med, _ = timed(lambda: clf.score_samples(X), a.repeat)
    shuf_med, _ = timed(lambda: clf.score_samples(shuffled), a.repeat)
    print("sklearn: %d one-row calls x%d" % (a.single, a.repeat), file=sys.stderr, flush=True)
    rows = [X[i:i + 1] for i in range(a.single)]
    single_med, _ = timed(lambda: [clf.score_samples(r) for r in rows], a.repeat)
    if a.export_model:
        with open(a.export_model, "w") as fh:
            json.dump(forest_json(clf, [names[i] for i in keep]), fh, separators=(",", ":"))
    print(json.dumps({
        "sklearn_version": sklearn.__version__,
        "rows": len(X),
        "features": X.shape[1],
        "fit_s": fit_med,
        "fit_s_min": fit_min,
        "batch_rows_per_s": len(X) / batch_med,
        "batch_shuffled_rows_per_s": len(X) / shuf_med,
        "single_row_us": single_med / a.single * 1e6,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
    }))


if __name__ == "__main__":
    main()
