#!/usr/bin/python3
"""Write the scikit-learn golden cases that the C++ tests compare against.

  /usr/bin/python3 tools/gen_golden.py [--out tests/golden/sklearn]

Run once (with Debian's python3-sklearn 1.2.1); the output is committed and the tests never
regenerate it. Each case directory holds:
  train.csv     the training rows (header, numeric columns)
  score.csv     rows to score (same header)
  case.json     the IsolationForest constructor arguments used
  model.json    the fitted forest (tools/sklearn_export.py's format)
  expected.csv  row,score_samples,decision_function,predict from scikit-learn on score.csv
                (floats written with repr(), so strtod reads back the exact doubles)
scaler_pipeline/ also holds scaler.json (mean_, scale_, var_) and the joblib files a Python
pipeline keeps (pipeline.joblib, iforest.joblib + scaler.joblib) for tools/sklearn_export.py.

The model is fitted on the values parsed back from train.csv, so C++ reading the same text
sees exactly the data scikit-learn saw. Everything is drawn from one fixed-seed RandomState
in a fixed order, so a rerun rewrites byte-identical files; adding a case in the middle, or
drawing one more number anywhere, changes every case after it (and the committed
tests/golden/v1 bundles made from them would then need tools/make_golden_bundles.sh again).
"""
import argparse
import csv
import json
import os
import sys
import warnings

import joblib
import numpy as np
import sklearn
from sklearn.ensemble import IsolationForest
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sklearn_export import forest_json  # noqa: E402


def write_csv(path, names, X, fmt):
    np.savetxt(path, X, delimiter=",", header=",".join(names), comments="", fmt=fmt)
    return np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2, dtype=np.float64)


def fit_reporting_warnings(name, model, X):
    """Fit, and show any warning scikit-learn raises (max_samples_clamped warns on purpose)
    under the case's name instead of hiding it."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(X)
    for w in caught:
        print("  %s: scikit-learn %s: %s" % (name, w.category.__name__, w.message))
    return model


def node_count(forest):
    return sum(e.tree_.node_count for e in forest.estimators_)


def write_expected(path, model, S):
    ss, df, pr = model.score_samples(S), model.decision_function(S), model.predict(S)
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["row", "score_samples", "decision_function", "predict"])
        for i in range(len(S)):
            w.writerow([i, repr(float(ss[i])), repr(float(df[i])), int(pr[i])])


def gauss(rng, n, d, outliers=0.002):
    X = rng.normal(size=(n, d))
    k = max(1, int(n * outliers))
    X[rng.choice(n, k, replace=False)] += rng.normal(0, 6, (k, d))
    return X


def extra_rows(rng, X, k=200):
    """Rows to score beyond the training set: near the data, and far outside it."""
    near = X[rng.choice(len(X), k // 2)] + rng.normal(0, 0.1, (k // 2, X.shape[1])) * X.std(0)
    far = X.mean(0) + rng.normal(0, 5, (k - k // 2, X.shape[1])) * (X.std(0) + 1)
    return np.vstack([near, far])


def tiny_extra_rows(X):
    """Extra rows for the one- and two-row cases. They come from a RandomState of their own
    (seeded by the row count), so the shared stream, and every case drawn after these, stays
    exactly as first committed."""
    rng = np.random.RandomState(1000 + len(X))
    d = X.shape[1]
    near = X + rng.normal(0, 0.5, X.shape)
    far = X.mean(0) + rng.normal(0, 6, (40, d))  # both sides of every split, and beyond
    return np.vstack([near, far, X.mean(0)])


def origin_seasonal(rng):
    """90 days at 60 s of the origin pipeline's five features, starting Monday 00:00 UTC."""
    n = 90 * 1440
    minute = np.arange(n)
    mow = minute % 10080
    day, hour = mow // 1440, (mow % 1440) / 60.0
    load = 0.5 - 0.5 * np.cos(2 * np.pi * (hour - 2) / 24)
    load = np.where(day >= 5, load * 0.5, load)
    deploy = ((day < 5) & (hour >= 10) & (hour < 12)).astype(float)
    latency = 80 + 120 * load + 25 * deploy + rng.normal(0, 6, n)
    errors = 0.002 + 0.004 * load + 0.003 * deploy + np.abs(rng.normal(0, 0.0008, n))
    cpu = np.maximum(0, 0.02 + 0.15 * load + rng.normal(0, 0.01, n))
    for start, length in ((40 * 1440 + 120, 360), (70 * 1440 + 930, 5)):
        ramp = np.linspace(0, 1, length)
        latency[start:start + length] += 160 * ramp + (300 if length < 10 else 0)
        cpu[start:start + length] += 0.25 * ramp
    errors[80 * 1440 + 180:80 * 1440 + 200] = 0.03
    how = (mow // 60).astype(float)
    return np.column_stack([latency, errors, cpu, how, deploy])


def cases(rng):
    g = lambda n, d: gauss(rng, n, d)  # noqa: E731
    const = rng.normal(size=(2000, 1))
    cols = np.hstack([const, np.full((2000, 1), 7.0), const, 1e-9 * rng.uniform(size=(2000, 1)),
                      1e-6 * rng.uniform(size=(2000, 1)), 1000 + rng.uniform(0, 1e-4, (2000, 1)),
                      rng.randint(0, 4, (2000, 1)).astype(float)])
    return [
        ("basic_gauss", g(2000, 5), "%.9g", dict(n_estimators=100, random_state=0),
         "2000x5 standard normal with 0.2% outliers"),
        ("bootstrap", g(2000, 5), "%.9g", dict(n_estimators=50, bootstrap=True, random_state=11),
         "bootstrap: repeated rows become weights, n_node_samples counts unique rows"),
        ("max_features_frac", g(2000, 5), "%.9g",
         dict(n_estimators=50, max_features=0.6, random_state=7),
         "3 of 5 columns per tree (permutation draw of the columns)"),
        ("max_features_int_bootstrap", g(2000, 5), "%.9g",
         dict(n_estimators=50, max_features=3, bootstrap=True, random_state=3),
         "integer max_features with bootstrap"),
        ("contamination_float", g(2000, 5), "%.9g",
         dict(n_estimators=50, contamination=0.05, random_state=3),
         "offset_ from the numpy-linear percentile of training scores"),
        ("contamination_bootstrap", g(2000, 5), "%.9g",
         dict(n_estimators=50, contamination=0.01, bootstrap=True, random_state=5),
         "float contamination with bootstrap"),
        ("tiny_max_samples_2", g(500, 3), "%.9g", dict(n_estimators=30, max_samples=2,
                                                       random_state=1),
         "psi = 2, depth 1: every path is 1 edge = c(2), so every score is -0.5"),
        ("tiny_max_samples_1", g(500, 3), "%.9g", dict(n_estimators=30, max_samples=1,
                                                       random_state=1),
         "psi = 1: c(1) = 0, every score is -0.5"),
        ("max_samples_float", g(1000, 4), "%.9g",
         dict(n_estimators=20, max_samples=0.5, random_state=9),
         "psi = 500 rows by permutation, depth 9"),
        ("permutation_branch", g(300, 5), "%.9g", dict(n_estimators=20, random_state=5),
         "256 of 300 rows: the legacy permutation branch of sample_without_replacement"),
        ("max_samples_clamped", g(100, 3), "%.9g",
         dict(n_estimators=20, max_samples=1000, random_state=2),
         "max_samples above n is clamped to n (sklearn warns)"),
        ("constant_duplicate_columns", cols, "%.9g",
         dict(n_estimators=50, contamination=0.1, random_state=2),
         "constant, duplicate, 1e-9-range (never split), 1e-6-range, 1000+1e-4 and integer "
         "columns"),
        ("one_row", g(1, 3), "%.9g", dict(n_estimators=10, random_state=0),
         "a single row: psi = 1, root-only trees, every score is -0.5"),
        ("two_rows", g(2, 3), "%.9g", dict(n_estimators=10, random_state=0),
         "two rows: psi = 2, one split per tree, every score is -0.5"),
        ("discrete_ties", rng.randint(0, 5, (3000, 4)).astype(float), "%.9g",
         dict(n_estimators=50, contamination=0.02, random_state=13),
         "small integer values: many ties, thresholds at the node minimum"),
        ("origin_seasonal", origin_seasonal(rng), "%.6g",
         dict(n_estimators=200, contamination=0.02, random_state=42),
         "129,600 rows x (latency_p95, error_rate, cpu_throttle, hour_of_week, "
         "is_deploy_window), the origin pipeline's parameters"),
    ]


NAMES = {"origin_seasonal": ["latency_p95", "error_rate", "cpu_throttle", "hour_of_week",
                             "is_deploy_window"]}


def case_json(params):
    out = dict(n_estimators=100, max_samples="auto", contamination="auto", max_features=1.0,
               bootstrap=False, random_state=0)
    out.update(params)
    return out


def write_case(root, name, X, fmt, params, description, rng):
    d = os.path.join(root, name)
    os.makedirs(d, exist_ok=True)
    names = NAMES.get(name, ["x%d" % i for i in range(X.shape[1])])
    Xr = write_csv(os.path.join(d, "train.csv"), names, X, fmt)
    if name == "origin_seasonal":
        S = np.vstack([Xr[::13], extra_rows(rng, Xr, 500)])
    elif len(Xr) > 2:
        S = np.vstack([Xr, extra_rows(rng, Xr)])
    else:
        S = np.vstack([Xr, tiny_extra_rows(Xr)])
    Sr = write_csv(os.path.join(d, "score.csv"), names, S, fmt)
    args = case_json(params)
    model = fit_reporting_warnings(name, IsolationForest(**args), Xr)
    with open(os.path.join(d, "case.json"), "w") as fh:
        json.dump(dict(args, description=description), fh, indent=1)
    with open(os.path.join(d, "model.json"), "w") as fh:
        json.dump(forest_json(model, names), fh, separators=(",", ":"))
    write_expected(os.path.join(d, "expected.csv"), model, Sr)
    print("%-28s train %6d x %d  score %6d  nodes %6d  offset_ %r"
          % (name, len(Xr), Xr.shape[1], len(Sr), node_count(model), model.offset_))
    return dict(args, description=description, name=name, train_rows=len(Xr),
                features=Xr.shape[1], score_rows=len(Sr), nodes=node_count(model))


def write_scaler_case(root, rng):
    """StandardScaler + IsolationForest, saved as the joblib files a Python pipeline keeps."""
    name = "scaler_pipeline"
    d = os.path.join(root, name)
    os.makedirs(d, exist_ok=True)
    names = ["latency_ms", "error_ratio", "rps", "cpu", "queue"]
    scales = np.array([120.0, 0.004, 3500.0, 0.6, 12.0])
    X = gauss(rng, 3000, 5) * scales * 0.2 + scales
    Xr = write_csv(os.path.join(d, "train.csv"), names, X, "%.9g")
    Sr = write_csv(os.path.join(d, "score.csv"), names, np.vstack([Xr[:500], extra_rows(rng, Xr)]),
                   "%.9g")
    args = case_json(dict(n_estimators=100, contamination=0.02, random_state=4))
    scaler = StandardScaler().fit(Xr)
    forest = fit_reporting_warnings(name, IsolationForest(**args), scaler.transform(Xr))
    pipe = Pipeline([("scaler", scaler), ("iforest", forest)])
    joblib.dump(pipe, os.path.join(d, "pipeline.joblib"))
    joblib.dump(forest, os.path.join(d, "iforest.joblib"))
    joblib.dump(scaler, os.path.join(d, "scaler.joblib"))
    description = ("StandardScaler then IsolationForest on columns of very different scales; "
                   "joblib files as a Python pipeline saves them")
    with open(os.path.join(d, "case.json"), "w") as fh:
        json.dump(dict(args, description=description), fh, indent=1)
    with open(os.path.join(d, "model.json"), "w") as fh:
        json.dump(forest_json(forest, names, scaler), fh, separators=(",", ":"))
    with open(os.path.join(d, "scaler.json"), "w") as fh:
        json.dump({"mean_": list(map(float, scaler.mean_)),
                   "scale_": list(map(float, scaler.scale_)),
                   "var_": list(map(float, scaler.var_))}, fh, indent=1)
    # The whole pipeline scores the raw rows: what a Python service computes today.
    write_expected(os.path.join(d, "expected.csv"), pipe, Sr)
    print("%-28s train %6d x %d  score %6d  nodes %6d  offset_ %r"
          % (name, len(Xr), Xr.shape[1], len(Sr), node_count(forest), forest.offset_))
    return dict(args, description=description + " (scaler in model.json, scaler.json)",
                name=name, train_rows=len(Xr), features=Xr.shape[1], score_rows=len(Sr),
                nodes=node_count(forest))


def write_readme(root, summaries):
    """README.md beside the cases: how they were made, so nobody has to guess later."""
    lines = [
        "# scikit-learn golden cases",
        "",
        "Written by `/usr/bin/python3 tools/gen_golden.py` with scikit-learn %s and numpy %s "
        "(Debian's python3-sklearn). The files are committed; **the tests only read them and "
        "never regenerate them**. Rerunning the script rewrites byte-identical files (fixed "
        "seeds, fixed draw order); changing the script changes cases, and then the "
        "`tests/golden/v1` bundles must be remade with `tools/make_golden_bundles.sh`."
        % (sklearn.__version__, np.__version__),
        "",
        "Each case directory holds:",
        "",
        "- `train.csv`: header row, numeric columns. scikit-learn was fitted on the values "
        "`np.loadtxt` parses back from this text, so any correctly rounded `strtod` sees the "
        "same float64 values.",
        "- `score.csv`: rows to score, same header (the training rows plus extra rows near "
        "and far from the data; `origin_seasonal` has every 13th training row plus 500 extra).",
        "- `case.json`: the exact `IsolationForest(...)` constructor arguments, plus a "
        "description.",
        "- `model.json`: the fitted forest in `tools/sklearn_export.py`'s format "
        "(`isoscope-sklearn-import-v1`).",
        "- `expected.csv`: `row,score_samples,decision_function,predict` from scikit-learn on "
        "`score.csv`, floats written with `repr()`.",
        "- `scaler_pipeline/` also has `scaler.json` (`mean_`, `scale_`, `var_`), "
        "`pipeline.joblib` (a `Pipeline` of StandardScaler and IsolationForest) and the same two "
        "objects as `scaler.joblib` and `iforest.joblib`. Its `expected.csv` holds the "
        "pipeline's scores on the raw `score.csv`.",
        "",
        "| case | train rows x cols | score rows | nodes | n_estimators | max_samples | "
        "contamination | max_features | bootstrap | random_state | what it covers |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for c in summaries:
        lines.append("| `%s` | %d x %d | %d | %d | %d | %s | %s | %s | %s | %d | %s |" % (
            c["name"], c["train_rows"], c["features"], c["score_rows"], c["nodes"],
            c["n_estimators"], json.dumps(c["max_samples"]), json.dumps(c["contamination"]),
            json.dumps(c["max_features"]), json.dumps(c["bootstrap"]), c["random_state"],
            c["description"]))
    with open(os.path.join(root, "README.md"), "w") as fh:
        fh.write("\n".join(lines) + "\n")


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(here, "..", "tests", "golden", "sklearn"),
                    help="directory to write the case directories and README.md into "
                         "(default: tests/golden/sklearn)")
    a = ap.parse_args()
    rng = np.random.RandomState(20261124)
    print("scikit-learn %s, numpy %s" % (sklearn.__version__, np.__version__))
    summaries = [write_case(a.out, name, X, fmt, params, description, rng)
                 for name, X, fmt, params, description in cases(rng)]
    summaries.append(write_scaler_case(a.out, rng))
    write_readme(a.out, summaries)


if __name__ == "__main__":
    main()
