"""scikit-learn's cluster metrics of the labelled data sets in metrics-input.json, the reference the
tests of pipeline/04-cluster compare with. Run from the repository root:

    /usr/bin/python3 test/reference/sklearn_metrics.py test/reference/metrics-input.json > test/reference/sklearn-metrics.json
"""
import json
import sys

import numpy as np
import sklearn
from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score, silhouette_score

COMMAND = ('/usr/bin/python3 test/reference/sklearn_metrics.py test/reference/metrics-input.json'
           ' > test/reference/sklearn-metrics.json')


def main(path: str) -> None:
    with open(path, encoding='utf-8') as f:
        cases = json.load(f)['cases']
    out = {'command': COMMAND, 'sklearn': sklearn.__version__, 'cases': {}}
    for case in cases:
        X = np.asarray(case['X'], dtype=np.float64)
        labels = np.asarray(case['labels'])
        out['cases'][case['name']] = {
            'rows': int(X.shape[0]),
            'silhouette': float(silhouette_score(X, labels)),
            'calinskiHarabasz': float(calinski_harabasz_score(X, labels)),
            'daviesBouldin': float(davies_bouldin_score(X, labels)),
        }
    json.dump(out, sys.stdout, indent=1)
    sys.stdout.write('\n')


if __name__ == '__main__':
    main(sys.argv[1])
