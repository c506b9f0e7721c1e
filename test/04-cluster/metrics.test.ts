import { describe, expect, it } from 'vitest';
import { fromRows, toRows } from '../../pipeline/core/matrix.ts';
import { metricsInput, sklearnMetrics } from '../reference/sklearn.ts';
import {
  adjustedRandIndex,
  calinskiHarabasz,
  daviesBouldin,
  inertia,
  silhouetteScore,
  silhouetteScores,
  silhouetteScoresReference,
} from '../../pipeline/04-cluster/metrics.ts';
import { makeRng } from '../../pipeline/core/random.ts';

const labels = (ids: number[]): Int32Array => Int32Array.from(ids);

describe('metrics on two 1-D pairs, computed by hand', () => {
  // Points 0, 1 | 4, 5. Cluster means 0.5 and 4.5, overall mean 2.5.
  const X = fromRows([[0], [1], [4], [5]]);
  const L = labels([0, 0, 1, 1]);

  it('silhouette: a = 1 for every point, b = 4.5 or 3.5, mean (7/9 + 5/7) / 2 = 47/63', () => {
    expect(silhouetteScore(X, L, 2)).toBeCloseTo(47 / 63, 14);
  });

  it('Calinski-Harabasz: B = 16, W = 1, (16 / 1) / (1 / 2) = 32', () => {
    expect(calinskiHarabasz(X, L, 2)).toBeCloseTo(32, 12);
  });

  it('Davies-Bouldin: spreads 0.5 and 0.5 over a separation of 4 = 0.25', () => {
    expect(daviesBouldin(X, L, 2)).toBeCloseTo(0.25, 14);
  });

  it('inertia: four squared distances of 0.25 = 1', () => {
    expect(inertia(X, L, fromRows([[0.5], [4.5]]))).toBe(1);
  });
});

describe('metrics on a 2-D fixture against reference values', () => {
  // Reference values: scikit-learn's silhouette_score / calinski_harabasz_score /
  // davies_bouldin_score (test/reference/sklearn_metrics.py, output in sklearn-metrics.json);
  // CH is also exact by hand: 697/77.
  const X = fromRows([[0, 0], [0, 1], [1, 0], [4, 4], [5, 4], [4, 6], [9, 1], [8, 0], [4, 5]]);
  const L = labels([0, 0, 0, 1, 1, 1, 2, 2, 0]); // the last row deliberately sits in the far cluster
  const sk = sklearnMetrics('nine-points');

  it('is the data set the scikit-learn reference was computed on', () => {
    expect(metricsInput('nine-points')).toMatchObject({ X: toRows(X), labels: Array.from(L) });
    expect(sk.calinskiHarabasz).toBeCloseTo(697 / 77, 12);
  });

  it('matches silhouette, CH and DB', () => {
    expect(silhouetteScore(X, L, 3)).toBeCloseTo(sk.silhouette, 12);
    expect(calinskiHarabasz(X, L, 3)).toBeCloseTo(697 / 77, 12);
    expect(daviesBouldin(X, L, 3)).toBeCloseTo(sk.daviesBouldin, 12);
  });

  it('ignores label ids with no rows, as scikit-learn only sees labels present', () => {
    const gappy = labels(Array.from(L, (l) => (l === 2 ? 4 : l)));
    expect(silhouetteScore(X, gappy, 5)).toBeCloseTo(sk.silhouette, 12);
    expect(calinskiHarabasz(X, gappy, 5)).toBeCloseTo(697 / 77, 12);
    expect(daviesBouldin(X, gappy, 5)).toBeCloseTo(sk.daviesBouldin, 12);
  });

  it('silhouetteScores equals silhouetteScore for each labeling', () => {
    const other = labels([0, 0, 0, 1, 1, 1, 1, 1, 1]);
    expect(silhouetteScores(X, [L, other], [3, 2])).toEqual([silhouetteScore(X, L, 3), silhouetteScore(X, other, 2)]);
  });
});

describe('metric edge cases', () => {
  it('scores a point alone in its cluster 0 in the silhouette mean', () => {
    // Points 0, 1 | 10: the singleton contributes 0; 0 and 1 have a = 1, b = 10 and 9.
    const s = silhouetteScore(fromRows([[0], [1], [10]]), labels([0, 0, 1]), 2);
    expect(s).toBeCloseTo((0.9 + 8 / 9 + 0) / 3, 14);
  });

  it('is NaN when fewer than 2 (or more than n - 1) clusters are non-empty', () => {
    const X = fromRows([[0], [1], [2]]);
    expect(silhouetteScore(X, labels([0, 0, 0]), 2)).toBeNaN();
    expect(calinskiHarabasz(X, labels([1, 1, 1]), 2)).toBeNaN();
    expect(daviesBouldin(X, labels([0, 1, 2]), 3)).toBeNaN();
  });

  it('rejects labels outside [0, k) and length mismatches', () => {
    const X = fromRows([[0], [1]]);
    expect(() => silhouetteScore(X, labels([0, 2]), 2)).toThrow(/outside \[0, 2\)/);
    expect(() => calinskiHarabasz(X, labels([0]), 2)).toThrow(/1 labels for 2 rows/);
    expect(() => inertia(X, labels([0, 1]), fromRows([[0]]))).toThrow(/no centroid/);
  });
});

describe('adjustedRandIndex (Hubert-Arabie)', () => {
  it('is 1 for the same partition under any renaming of ids', () => {
    expect(adjustedRandIndex([0, 0, 1, 1, 2], [5, 5, 9, 9, 0])).toBe(1);
  });

  it('matches the scikit-learn documentation examples', () => {
    // adjusted_rand_score([0, 0, 1, 2], [0, 0, 1, 1]) = 0.57 (exactly 4/7)
    expect(adjustedRandIndex([0, 0, 1, 2], [0, 0, 1, 1])).toBeCloseTo(4 / 7, 14);
    // adjusted_rand_score([0, 0, 0, 0], [0, 1, 2, 3]) = 0.0
    expect(adjustedRandIndex([0, 0, 0, 0], [0, 1, 2, 3])).toBe(0);
  });

  it('matches the contingency-table formula on a hand-counted case', () => {
    // Table cells 2,1,1,2,3: index 5, row pairs 9, column pairs 12, expected 9*12/36 = 3,
    // max (9 + 12) / 2 = 10.5, ARI = (5 - 3) / (10.5 - 3) = 4/15.
    expect(adjustedRandIndex([0, 0, 0, 1, 1, 1, 2, 2, 2], [0, 0, 1, 1, 2, 2, 2, 2, 2])).toBeCloseTo(4 / 15, 14);
    // Sparse, large ids (Int32Array and plain arrays alike): exact value 2/17.
    expect(adjustedRandIndex(Int32Array.from([7, 7, 3, 3, 3, 100]), [1, 1, 1, 2, 2, 2])).toBeCloseTo(2 / 17, 14);
  });

  it('is 1 in the degenerate cases scikit-learn defines as perfect', () => {
    expect(adjustedRandIndex([], [])).toBe(1);
    expect(adjustedRandIndex([3], [8])).toBe(1);
    expect(adjustedRandIndex([1, 1, 1], [2, 2, 2])).toBe(1);
    expect(adjustedRandIndex([0, 1, 2], [5, 4, 3])).toBe(1);
  });

  it('rejects labelings of different lengths', () => {
    expect(() => adjustedRandIndex([0, 1], [0])).toThrow(/2 and 1 items/);
  });
});

describe('silhouetteScores (four distances at a time) against the straightforward loop', () => {
  // 301 rows (not a multiple of four) in 7-D, labelings with 2..6 clusters, one with a singleton
  // cluster and one with an unused id, plus one with a single cluster (undefined: NaN).
  const rng = makeRng(17);
  const n = 301;
  const d = 7;
  const X = { rows: n, cols: d, data: Float64Array.from({ length: n * d }, () => rng.normal()) };
  const ks = [2, 3, 4, 6, 5, 1];
  const labelings = ks.map((k, l) => Int32Array.from({ length: n }, (_, i) => (l === 3 && i === 0 ? 5 : rng.int(Math.min(k, 5)))));

  it('returns exactly the same numbers', () => {
    const fast = silhouetteScores(X, labelings, ks);
    const reference = silhouetteScoresReference(X, labelings, ks);
    expect(fast).toEqual(reference);
    expect(fast[5]).toBeNaN();
    expect(fast.slice(0, 5).every((v) => v > -1 && v < 1)).toBe(true);
  });
});
