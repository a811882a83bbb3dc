#!/usr/bin/python3
"""Export a fitted scikit-learn IsolationForest (and its StandardScaler) to the JSON file that
`isoscope import-sklearn --model MODEL.json` reads, so a Python pipeline can move to isoscope
and keep its exact scores.

  /usr/bin/python3 tools/sklearn_export.py --model iforest.joblib [--scaler scaler.joblib] \\
      [--feature-names a,b,c] --out model.json

--model is a joblib (or plain pickle) file holding either an IsolationForest or a Pipeline of
[StandardScaler, IsolationForest] (or of [IsolationForest] alone). --scaler names a separately
saved StandardScaler; it cannot be combined with a Pipeline that already has one.

Feature names: --feature-names, else the forest's (or scaler's) feature_names_in_ (set when
it was fitted on a pandas DataFrame), else x0, x1, ...

Run it with the Python whose scikit-learn pickled the model (Debian's python3-sklearn 1.2.1
here): unpickling across scikit-learn versions is not reliable.

Output ("format": "isoscope-sklearn-import-v1"): the forest as scikit-learn's own per-tree
arrays in its node order, thresholds as float64 written with repr() so strtod gives back the
exact double. The scaler block always has full-length "mean" and "scale": with_mean=False is
written as mean 0 and with_std=False (scale_ None) as scale 1, so a reader can always apply
(x - mean) / scale, which is exactly what StandardScaler.transform computes.

Exit status: 0 written, 2 the input is not something this tool can export (message on stderr).
"""
import argparse
import json
import numbers
import os
import pickle
import sys

import sklearn
from sklearn.ensemble import IsolationForest
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

FORMAT = "isoscope-sklearn-import-v1"


def fail(message):
    print("sklearn_export: " + message, file=sys.stderr)
    sys.exit(2)


def load(path):
    """joblib.load, else pickle.load (plain pickle.dump files are common too)."""
    if not os.path.isfile(path):
        fail("%s: no such file" % path)
    import joblib
    try:
        return joblib.load(path)
    except Exception as joblib_error:  # not a joblib file: maybe a plain pickle
        try:
            with open(path, "rb") as fh:
                return pickle.load(fh)
        except Exception as pickle_error:
            fail("%s: cannot load it with joblib (%s: %s) nor pickle (%s: %s)"
                 % (path, type(joblib_error).__name__, joblib_error,
                    type(pickle_error).__name__, pickle_error))


def plain(value):
    """A parameter as a JSON scalar: numpy ints/floats become Python ones, "auto" stays."""
    if isinstance(value, (bool, str)) or value is None:
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)  # keeps a decimal point in JSON: 1.0 stays a fraction, not 1
    return value


def scaler_json(scaler, n_features):
    """StandardScaler as mean/scale; with_mean=False is written as 0, with_std=False as 1."""
    mean = [float(v) for v in scaler.mean_] \
        if scaler.with_mean and getattr(scaler, "mean_", None) is not None else [0.0] * n_features
    scale = [float(v) for v in scaler.scale_] \
        if scaler.with_std and getattr(scaler, "scale_", None) is not None else [1.0] * n_features
    return {"kind": "standard", "mean": mean, "scale": scale,
            "with_mean": bool(scaler.with_mean), "with_std": bool(scaler.with_std)}


def forest_json(forest, names, scaler=None):
    """The fitted forest (and optional scaler) as the import JSON, as a dict."""
    trees = []
    for est, feats in zip(forest.estimators_, forest.estimators_features_):
        t = est.tree_
        trees.append({
            "features": [int(v) for v in feats],
            "children_left": t.children_left.tolist(),
            "children_right": t.children_right.tolist(),
            "feature": t.feature.tolist(),
            "threshold": t.threshold.tolist(),  # Python floats: json writes repr(), exact
            "n_node_samples": t.n_node_samples.tolist(),
        })
    params = forest.get_params()
    # An int seed reproduces the forest; a RandomState instance or None does not.
    seed = params["random_state"]
    seed = int(seed) if isinstance(seed, numbers.Integral) and not isinstance(seed, bool) else None
    return {
        "format": FORMAT,
        "sklearn_version": sklearn.__version__,
        "feature_names": list(names),
        "n_features_in": int(forest.n_features_in_),
        "max_samples_": int(forest.max_samples_),
        "max_features_": int(forest._max_features),
        # Trees see X[:, features] only when they were given a subset of the columns.
        "subsample_features": bool(forest._max_features != forest.n_features_in_),
        "offset_": float(forest.offset_),
        "contamination": plain(forest.contamination),
        "params": {
            "n_estimators": int(params["n_estimators"]),
            "max_samples": plain(params["max_samples"]),
            "contamination": plain(params["contamination"]),
            "max_features": plain(params["max_features"]),
            "bootstrap": bool(params["bootstrap"]),
            "random_state": seed,
        },
        "scaler": None if scaler is None else scaler_json(scaler, int(forest.n_features_in_)),
        "trees": trees,
    }


def split_model(obj, path):
    """(scaler or None, forest) from what --model held; exits 2 on anything else."""
    if isinstance(obj, IsolationForest):
        return None, obj
    if isinstance(obj, Pipeline):
        steps = [s for _, s in obj.steps if s is not None and s != "passthrough"]
        kinds = [type(s).__name__ for s in steps]
        if len(steps) == 2 and isinstance(steps[0], StandardScaler) \
                and isinstance(steps[1], IsolationForest):
            return steps[0], steps[1]
        if len(steps) == 1 and isinstance(steps[0], IsolationForest):
            return None, steps[0]
        fail("%s holds a Pipeline with steps %s; expected [StandardScaler, IsolationForest] "
             "or [IsolationForest]" % (path, kinds))
    fail("%s holds a %s.%s; expected an IsolationForest or a Pipeline of [StandardScaler, "
         "IsolationForest]" % (path, type(obj).__module__, type(obj).__name__))


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True, metavar="FILE",
                    help="joblib/pickle of an IsolationForest or of a Pipeline "
                         "[StandardScaler, IsolationForest]")
    ap.add_argument("--scaler", metavar="FILE",
                    help="joblib/pickle of the StandardScaler applied before the forest")
    ap.add_argument("--feature-names", metavar="A,B,C",
                    help="comma-separated input column names, in the model's column order")
    ap.add_argument("--out", required=True, metavar="FILE", help="JSON file to write")
    a = ap.parse_args()

    scaler, forest = split_model(load(a.model), a.model)
    if a.scaler:
        if scaler is not None:
            fail("--scaler was given but %s already contains a StandardScaler" % a.model)
        scaler = load(a.scaler)
        if not isinstance(scaler, StandardScaler):
            fail("%s holds a %s; --scaler expects a StandardScaler"
                 % (a.scaler, type(scaler).__name__))
    if not hasattr(forest, "estimators_"):
        fail("the IsolationForest in %s is not fitted (no estimators_)" % a.model)
    d = int(forest.n_features_in_)
    if scaler is not None:
        if not hasattr(scaler, "n_features_in_"):
            fail("the StandardScaler is not fitted (no n_features_in_)")
        if int(scaler.n_features_in_) != d:
            fail("the StandardScaler has %d features but the IsolationForest has %d"
                 % (scaler.n_features_in_, d))

    if a.feature_names:
        names = [n.strip() for n in a.feature_names.split(",")]
        if any(not n for n in names):
            fail("--feature-names %r has an empty name" % a.feature_names)
    elif hasattr(forest, "feature_names_in_"):
        names = [str(n) for n in forest.feature_names_in_]
    elif scaler is not None and hasattr(scaler, "feature_names_in_"):
        # In a Pipeline the forest sees the scaler's numpy output, so only the scaler
        # remembers the DataFrame's column names.
        names = [str(n) for n in scaler.feature_names_in_]
    else:
        names = ["x%d" % i for i in range(d)]
    if len(names) != d:
        fail("%d feature names given (%s) but the model has %d features"
             % (len(names), ",".join(names), d))
    if len(set(names)) != len(names):
        fail("feature names must be distinct: %s" % ",".join(names))

    with open(a.out, "w") as fh:
        json.dump(forest_json(forest, names, scaler), fh, separators=(",", ":"))
    print("wrote %s: %d trees, %d features (%s)%s, offset_ %r" % (
        a.out, len(forest.estimators_), d, ",".join(names),
        " + StandardScaler" if scaler is not None else "", float(forest.offset_)))


if __name__ == "__main__":
    main()
