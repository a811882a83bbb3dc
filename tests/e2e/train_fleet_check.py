#!/usr/bin/python3
"""The independent side of train_fleet_e2e.sh: pulls the detector's queries from Prometheus in
the chunks `isoscope train --config --chunk` documents (README.md, "From Prometheus"), numbers
the rows chunk by chunk, then by group label set, then time, drops rows where a query has no
point, and fits scikit-learn's StandardScaler + IsolationForest on them. Prints the forest as
JSON ({trees, offset_, rows}) for the comparison with `isoscope inspect --json`.

  train_fleet_check.py PROM_URL END_S LOOKBACK_S CHUNK_S STEP_S N_EST CONTAM SEED NAME=QUERY...
"""
import json
import sys
import urllib.parse
import urllib.request

import numpy as np
from sklearn.ensemble import IsolationForest
from sklearn.preprocessing import StandardScaler


def query_range(url, query, start, end, step):
    q = urllib.parse.urlencode({"query": query, "start": start, "end": end, "step": step})
    with urllib.request.urlopen(f"{url}/api/v1/query_range?{q}") as r:
        body = json.load(r)
    assert body["status"] == "success", body
    return body["data"]["result"]


def main():
    url, end, lookback, chunk, step = sys.argv[1], *map(int, sys.argv[2:6])
    n_est, contam, seed = int(sys.argv[6]), float(sys.argv[7]), int(sys.argv[8])
    queries = [a.split("=", 1) for a in sys.argv[9:]]
    start = end - lookback
    rows = []
    cs = start
    while cs <= end:
        ce = min(end, cs + chunk - step)
        table = {}  # group key -> time -> values
        for q, (_, query) in enumerate(queries):
            for s in query_range(url, query, cs, ce, step):
                key = '{job="%s"}' % s["metric"].get("job", "")
                for t, v in s["values"]:
                    table.setdefault(key, {}).setdefault(int(t), [float("nan")] * len(queries))[q] = float(v)
        for key in sorted(table):
            for t in sorted(table[key]):
                rows.append(table[key][t])
        cs += chunk
    x = np.array([r for r in rows if not any(np.isnan(r))])
    xs = StandardScaler().fit_transform(x)
    f = IsolationForest(n_estimators=n_est, contamination=contam, random_state=seed).fit(xs)
    trees = [{"children_left": e.tree_.children_left.tolist(),
              "feature": e.tree_.feature.tolist(),
              "threshold": e.tree_.threshold.tolist(),
              "n_node_samples": e.tree_.n_node_samples.tolist()} for e in f.estimators_]
    json.dump({"rows": len(x), "offset_": f.offset_, "trees": trees}, sys.stdout)


main()
