#!/usr/bin/python3
"""scikit-learn's k-means objective on finseg's final matrices of the real data sets (issue 14, item 9).

    /usr/bin/python3 bench/reference-real.py MATRICES.json OUT.json

MATRICES.json is written by `node --import tsx bench/real-matrices.ts` (see that file): per data
set, finseg's preprocessed matrix (the PCA space k-means runs in) as a CSV file, finseg's k and
a checksum of the matrix. For each, KMeans(n_clusters=k, init="k-means++", n_init=20,
random_state=0) from Debian's scikit-learn gives the reference inertia (sum of squared distances
to the nearest centroid). OUT.json (test/fixtures/real/kmeans-reference.json) records it with
the scikit-learn version and the command, and the test compares finseg's own objective on the
same matrix with it: within 1%.
"""
import json
import sys

import numpy as np
import sklearn
from sklearn.cluster import KMeans


def main(matrices_path: str, out_path: str) -> None:
    with open(matrices_path, encoding="utf-8") as f:
        matrices = json.load(f)
    out = {
        "kind": "finseg.kmeans-reference",
        "command": "node --import tsx bench/real-matrices.ts && /usr/bin/python3 bench/reference-real.py .finseg-cache/real/matrices.json test/fixtures/real/kmeans-reference.json",
        "sklearn": sklearn.__version__,
        "datasets": {},
    }
    for name, m in matrices["datasets"].items():
        X = np.loadtxt(m["matrix"], delimiter=",", ndmin=2)
        k = int(m["k"])
        km = KMeans(n_clusters=k, init="k-means++", n_init=20, random_state=0).fit(X)
        out["datasets"][name] = {
            "rows": int(X.shape[0]),
            "cols": int(X.shape[1]),
            "k": k,
            "checksum": m["checksum"],
            "inertia": float(km.inertia_),
        }
        print(f"{name}: {X.shape[0]} x {X.shape[1]}, k = {k}, scikit-learn inertia {km.inertia_:.6g}", file=sys.stderr)
    with open(out_path, "w", encoding="utf-8") as f:
        json.dump(out, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
