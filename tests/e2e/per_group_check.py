#!/usr/bin/python3
"""The independent side of per_group_e2e.sh.

  per_group_check.py hashes DETECTOR JOB...
      prints "JOB HASH" per job: the group hash (tools/shard_hash.py, written from the spec in
      native/config/shard.h) of {detector=DETECTOR, job=JOB} as 16 hex digits.
  per_group_check.py fit PROM_URL START_S END_S STEP_S N_EST MAX_SAMPLES CONTAM SEED JOB NAME=QUERY...
      pulls the group JOB's rows of the queries from Prometheus (one query_range each, rows in
      time order, rows where a query has no point dropped) and fits scikit-learn's
      StandardScaler + IsolationForest on them alone; prints {rows, offset_, trees} as JSON.
"""
import json
import os
import sys
import urllib.parse
import urllib.request

import numpy as np
from sklearn.ensemble import IsolationForest
from sklearn.preprocessing import StandardScaler

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools"))
from shard_hash import group_hash  # noqa: E402


def query_range(url, query, start, end, step):
    q = urllib.parse.urlencode({"query": query, "start": start, "end": end, "step": step})
    with urllib.request.urlopen(f"{url}/api/v1/query_range?{q}") as r:
        body = json.load(r)
    assert body["status"] == "success", body
    return body["data"]["result"]


def fit(argv):
    url, start, end, step = argv[0], *map(int, argv[1:4])
    n_est, max_samples, contam, seed = int(argv[4]), int(argv[5]), float(argv[6]), int(argv[7])
    job = argv[8]
    queries = [a.split("=", 1) for a in argv[9:]]
    table = {}
    for q, (_, query) in enumerate(queries):
        for s in query_range(url, query, start, end, step):
            if s["metric"].get("job", "") != job:
                continue
            for t, v in s["values"]:
                table.setdefault(int(t), [float("nan")] * len(queries))[q] = float(v)
    x = np.array([table[t] for t in sorted(table) if not any(np.isnan(table[t]))])
    xs = StandardScaler().fit_transform(x)
    f = IsolationForest(n_estimators=n_est, max_samples=max_samples, contamination=contam,
                        random_state=seed).fit(xs)
    trees = [{"children_left": e.tree_.children_left.tolist(),
              "feature": e.tree_.feature.tolist(),
              "threshold": e.tree_.threshold.tolist(),
              "n_node_samples": e.tree_.n_node_samples.tolist()} for e in f.estimators_]
    json.dump({"rows": len(x), "offset_": f.offset_, "trees": trees}, sys.stdout)


def main():
    if sys.argv[1] == "hashes":
        for job in sys.argv[3:]:
            print(job, "%016x" % group_hash({"detector": sys.argv[2], "job": job}))
    else:
        fit(sys.argv[2:])


main()
