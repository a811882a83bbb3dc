#!/usr/bin/python3
"""Export a fitted scikit-learn IsolationForest (and StandardScaler) to JSON for
`isoscope import-sklearn`, so a Python pipeline can move to isoscope with identical scores.

  /usr/bin/python3 tools/sklearn_export.py --model iforest.joblib [--scaler scaler.joblib] \\
      [--feature-names a,b,c] --out model.json

--model may also hold a Pipeline of [StandardScaler, IsolationForest]. Run it with the Python
that has the scikit-learn the model was pickled with (Debian's python3-sklearn here).
"""
import argparse
import json
import pickle
import sys

import sklearn
from sklearn.ensemble import IsolationForest
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

FORMAT = "isoscope-sklearn-import-v1"


def load(path):
    try:
        import joblib
        return joblib.load(path)
    except Exception:  # not a joblib file: maybe a plain pickle
        with open(path, "rb") as fh:
            return pickle.load(fh)


def fail(message):
    print("sklearn_export: " + message, file=sys.stderr)
    sys.exit(2)


def scaler_json(scaler, n_features):
    """StandardScaler as mean/scale; with_mean=False means 0, with_std=False means 1."""
    mean = list(map(float, scaler.mean_)) if scaler.with_mean and scaler.mean_ is not None \
        else [0.0] * n_features
    scale = list(map(float, scaler.scale_)) if scaler.with_std and scaler.scale_ is not None \
        else [1.0] * n_features
    return {"kind": "standard", "mean": mean, "scale": scale,
            "with_mean": bool(scaler.with_mean), "with_std": bool(scaler.with_std)}


def forest_json(forest, names, scaler=None):
    """The fitted forest as plain arrays in scikit-learn's own node order."""
    trees = []
    for est, feats in zip(forest.estimators_, forest.estimators_features_):
        t = est.tree_
        trees.append({
            "features": [int(v) for v in feats],
            "children_left": t.children_left.tolist(),
            "children_right": t.children_right.tolist(),
            "feature": t.feature.tolist(),
            "threshold": t.threshold.tolist(),
            "n_node_samples": t.n_node_samples.tolist(),
        })
    params = forest.get_params()
    contamination = forest.contamination
    return {
        "format": FORMAT,
        "sklearn_version": sklearn.__version__,
        "feature_names": list(names),
        "n_features_in": int(forest.n_features_in_),
        "max_samples_": int(forest.max_samples_),
        "max_features_": int(forest._max_features),
        "subsample_features": bool(forest._max_features != forest.n_features_in_),
        "offset_": float(forest.offset_),
        "contamination": contamination if contamination == "auto" else float(contamination),
        "params": {
            "n_estimators": int(params["n_estimators"]),
            "max_samples": params["max_samples"],
            "contamination": params["contamination"],
            "max_features": params["max_features"],
            "bootstrap": bool(params["bootstrap"]),
            "random_state": params["random_state"] if isinstance(params["random_state"], int)
            else None,
        },
        "scaler": None if scaler is None else scaler_json(scaler, int(forest.n_features_in_)),
        "trees": trees,
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True,
                    help="joblib/pickle of an IsolationForest or a Pipeline(StandardScaler, "
                         "IsolationForest)")
    ap.add_argument("--scaler", help="joblib/pickle of the StandardScaler applied before it")
    ap.add_argument("--feature-names", help="comma separated input names (default: the "
                                            "model's feature_names_in_, else x0, x1, ...)")
    ap.add_argument("--out", required=True, help="JSON file to write")
    a = ap.parse_args()

    obj = load(a.model)
    scaler = load(a.scaler) if a.scaler else None
    if isinstance(obj, Pipeline):
        steps = [s for _, s in obj.steps if s != "passthrough"]
        if len(steps) == 2 and isinstance(steps[0], StandardScaler) and \
                isinstance(steps[1], IsolationForest):
            scaler, forest = steps
        elif len(steps) == 1 and isinstance(steps[0], IsolationForest):
            forest = steps[0]
        else:
            fail("the pipeline has steps %s; expected [StandardScaler, IsolationForest] or "
                 "[IsolationForest]" % [type(s).__name__ for s in steps])
    elif isinstance(obj, IsolationForest):
        forest = obj
    else:
        fail("%s holds a %s; expected an IsolationForest or a Pipeline"
             % (a.model, type(obj).__name__))
    if scaler is not None and not isinstance(scaler, StandardScaler):
        fail("the scaler is a %s; only StandardScaler is supported" % type(scaler).__name__)
    if not hasattr(forest, "estimators_"):
        fail("the IsolationForest is not fitted")

    d = int(forest.n_features_in_)
    if a.feature_names:
        names = [n.strip() for n in a.feature_names.split(",") if n.strip()]
    elif hasattr(forest, "feature_names_in_"):
        names = [str(n) for n in forest.feature_names_in_]
    elif scaler is not None and hasattr(scaler, "feature_names_in_"):
        names = [str(n) for n in scaler.feature_names_in_]
    else:
        names = ["x%d" % i for i in range(d)]
    if len(names) != d:
        fail("%d feature names given but the model has %d features" % (len(names), d))
    if scaler is not None and scaler.n_features_in_ != d:
        fail("the scaler has %d features, the forest %d" % (scaler.n_features_in_, d))

    with open(a.out, "w") as fh:
        json.dump(forest_json(forest, names, scaler), fh, separators=(",", ":"))
    print("wrote %s: %d trees, %d features%s, offset_ %r" % (
        a.out, len(forest.estimators_), d, " + StandardScaler" if scaler is not None else "",
        float(forest.offset_)))


if __name__ == "__main__":
    main()
