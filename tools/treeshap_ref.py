#!/usr/bin/python3
"""Independent reference for `isoscope score --explain`: path-dependent TreeSHAP (Lundberg,
Erion & Lee 2018, Algorithm 2) in Python over a scikit-learn forest exported as model.json
(tools/sklearn_export.py's format, the golden cases' model.json). A port of the checked
reference script of the attribution note (treeshap_check.py): float32 x against float64
thresholds, '<=' goes left, n_node_samples covers, leaf value depth + c(n).

    treeshap_ref.py MODEL_JSON ROWS_CSV N   prints, for the first N rows of ROWS_CSV (columns
    in the model's feature order), each feature's share of log2 of the anomaly score,
    -phi/c(max_samples_), as CSV.
"""
import csv
import json
import math
import sys

import numpy as np


def c(n):
    """sklearn's _average_path_length for one n."""
    if n <= 1:
        return 0.0
    if n == 2:
        return 1.0
    return 2.0 * (math.log(n - 1.0) + np.euler_gamma) - 2.0 * (n - 1.0) / n


class Tree:
    def __init__(self, t):
        self.left = t["children_left"]
        self.right = t["children_right"]
        feats = t["features"]
        self.feature = [feats[f] if f >= 0 else -1 for f in t["feature"]]
        self.threshold = t["threshold"]
        self.cover = [float(n) for n in t["n_node_samples"]]
        depth = [0] * len(self.left)
        for i in range(len(self.left)):
            if self.left[i] >= 0:
                depth[self.left[i]] = depth[self.right[i]] = depth[i] + 1
        self.value = [((d + 1) + c(n)) - 1.0 for d, n in zip(depth, t["n_node_samples"])]

    def hot(self, x32, node):
        go_left = float(x32[self.feature[node]]) <= self.threshold[node]
        return self.left[node] if go_left else self.right[node]


def treeshap_tree(tree, x32, phi):
    def extend(m, pz, po, pi):
        l = len(m)
        m.append([pi, pz, po, 1.0 if l == 0 else 0.0])
        for i in range(l - 1, -1, -1):
            m[i + 1][3] += po * m[i][3] * (i + 1) / (l + 1)
            m[i][3] = pz * m[i][3] * (l - i) / (l + 1)

    def unwind(m, k):
        l = len(m) - 1
        _, z, o, _ = m[k]
        n = m[l][3]
        for j in range(l - 1, -1, -1):
            if o != 0:
                t = m[j][3]
                m[j][3] = n * (l + 1) / ((j + 1) * o)
                n = t - m[j][3] * z * (l - j) / (l + 1)
            else:
                m[j][3] = m[j][3] * (l + 1) / (z * (l - j))
        for j in range(k, l):
            m[j][:3] = m[j + 1][:3]
        m.pop()

    def unwound_sum(m, k):
        l = len(m) - 1
        _, z, o, _ = m[k]
        n, total = m[l][3], 0.0
        for j in range(l - 1, -1, -1):
            if o != 0:
                t = n / ((j + 1) * o)
                total += t
                n = m[j][3] - t * z * (l - j)
            else:
                total += m[j][3] / (z * (l - j))
        return total * (l + 1)

    def recurse(node, m, pz, po, pi):
        m = [e[:] for e in m]
        extend(m, pz, po, pi)
        if tree.left[node] < 0:
            for k in range(1, len(m)):
                phi[m[k][0]] += unwound_sum(m, k) * (m[k][2] - m[k][1]) * tree.value[node]
            return
        f = tree.feature[node]
        hot = tree.hot(x32, node)
        cold = tree.right[node] if hot == tree.left[node] else tree.left[node]
        iz = io = 1.0
        k = next((k for k in range(1, len(m)) if m[k][0] == f), None)
        if k is not None:
            iz, io = m[k][1], m[k][2]
            unwind(m, k)
        recurse(hot, m, iz * tree.cover[hot] / tree.cover[node], io, f)
        recurse(cold, m, iz * tree.cover[cold] / tree.cover[node], 0.0, f)

    recurse(0, [], 1.0, 1.0, -1)


def main():
    model = json.load(open(sys.argv[1]))
    trees = [Tree(t) for t in model["trees"]]
    names = model["feature_names"]
    cpsi = c(model["max_samples_"])
    rows = list(csv.DictReader(open(sys.argv[2])))[: int(sys.argv[3])]
    out = csv.writer(sys.stdout)
    out.writerow(names)
    for r in rows:
        x32 = np.array([float(r[n]) for n in names], dtype=np.float32)
        phi = np.zeros(len(names))
        for t in trees:
            treeshap_tree(t, x32, phi)
        phi /= len(trees)
        out.writerow([repr(float(-p / cpsi)) for p in phi])


if __name__ == "__main__":
    main()
