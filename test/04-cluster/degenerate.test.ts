import { describe, expect, it } from 'vitest';
import { fitClusters } from '../../pipeline/04-cluster/cluster.ts';
import { lloydNoEmpty } from '../../pipeline/04-cluster/kmeans.ts';
import { defaultClusterParams } from '../../pipeline/04-cluster/params.ts';
import { chooseK } from '../../pipeline/04-cluster/selection.ts';
import { InputError } from '../../pipeline/core/errors.ts';
import { fromRows, type Matrix } from '../../pipeline/core/matrix.ts';
import { makeRng } from '../../pipeline/core/random.ts';
import { checkTrainingFeatures } from '../../pipeline/io/training-input.ts';
import { quietLogger } from '../../pipeline/core/log.ts';
import type { FeatureTable } from '../../pipeline/02-features/features.ts';
import { blobs } from '../helpers/blobs.ts';

/**
 * Degenerate feature tables (issue 16 item 6), in the spirit of scikit-learn's KMeans edge-case
 * tests. Each expected outcome follows from the data's construction, not from a run.
 */
const params = { ...defaultClusterParams, stabilityResamples: 5 };

const repeat = (row: number[], times: number): number[][] => Array.from({ length: times }, () => row);

function uniform(n: number, d: number, seed: number): Matrix {
  const rng = makeRng(seed);
  return { rows: n, cols: d, data: Float64Array.from({ length: n * d }, () => rng.next()) };
}

describe('constant features', () => {
  // 50 identical customers: one distinct row, so no split into 2 or more non-empty segments exists.
  const X = fromRows(repeat([3, 1, 4], 50));

  it('stop with an InputError that says there is no variation, with k chosen or fixed', () => {
    expect(() => fitClusters(X, params, 1)).toThrow(InputError);
    expect(() => fitClusters(X, params, 1)).toThrow(/do not differ in any feature .* nothing to segment/);
    expect(() => fitClusters(X, { ...params, k: 3 }, 1)).toThrow(/do not differ in any feature/);
  });
});

describe('duplicated customers', () => {
  // Two distinct customers, each 20 times: two segments are possible (and perfect), three are not.
  const X = fromRows([...repeat([0, 0], 20), ...repeat([5, 5], 20)]);

  it('fewer distinct customers than the fixed k: InputError naming the distinct count', () => {
    expect(() => fitClusters(X, { ...params, k: 3 }, 1)).toThrow(/only 2 distinct customers .* at least 3 are needed for 3 segments/);
  });

  it('fewer distinct customers than kMin: InputError', () => {
    expect(() => fitClusters(X, { ...params, kMin: 3, kMax: 5 }, 1)).toThrow(InputError);
  });

  it('selection stops at the distinct count: k = 2, the two groups exactly, and the structure is clear', () => {
    const s = fitClusters(X, params, 1);
    expect(s.k).toBe(2);
    expect(s.sizes).toEqual([20, 20]);
    expect(s.selection.map((r) => r.k)).toEqual([2]);
    // Two groups of identical customers: silhouette exactly 1. Shuffling the columns mixes the
    // corners (0, 5) and (5, 0) in, which no 2-split separates perfectly.
    expect(s.structure!.rows[0]!.silhouette).toBe(1);
    expect(s.structure!.rows[0]!.nullMax).toBeLessThan(0.95);
    expect(s.structure!.clear).toBe(true);
  });

  it('three distinct customers and k = 3: every segment holds exactly its copies', () => {
    const Y = fromRows([...repeat([0, 0], 10), ...repeat([9, 0], 7), ...repeat([0, 9], 4)]);
    expect(fitClusters(Y, { ...params, k: 3 }, 2).sizes).toEqual([10, 7, 4]);
  });
});

describe('tiny tables', () => {
  const table = (n: number): FeatureTable => ({ X: uniform(n, 2, 1), featureNames: ['a', 'b'], dropped: [] }) as unknown as FeatureTable;

  it('fewer than 20 customers is bad input (exit 2), not a failure', () => {
    expect(() => checkTrainingFeatures(table(10), '2026-01-01', quietLogger)).toThrow(InputError);
    expect(() => checkTrainingFeatures(table(10), '2026-01-01', quietLogger)).toThrow(/only 10 customers .* at least 20/);
    expect(() => checkTrainingFeatures(table(20), '2026-01-01', quietLogger)).not.toThrow();
  });
});

describe('uniformly random customers', () => {
  it('30 customers: no clear structure, and no segment below the 10-customer minimum', () => {
    // Uniform data has no groups; its column-shuffled copy has the same distribution, so the
    // data's silhouette cannot stand clearly above it. 30 customers hold at most 3 segments of 10.
    const s = fitClusters(uniform(30, 4, 7), params, 3);
    expect(s.structure!.clear).toBe(false);
    expect(s.k).toBeLessThanOrEqual(3);
    expect(Math.min(...s.sizes)).toBeGreaterThanOrEqual(10);
  });

  it('is flagged for every table of a small grid of sizes and seeds', () => {
    for (const [n, d, seed] of [[60, 2, 1], [100, 4, 2], [200, 3, 3], [300, 6, 4]] as const) {
      const s = fitClusters(uniform(n, d, seed), params, seed);
      expect(s.structure!.clear, `n ${n}, d ${d}`).toBe(false);
      // With no structure the silhouette differences between k are noise: the smallest eligible k is delivered.
      const eligible = s.selection.filter((r) => r.eligible).map((r) => r.k);
      if (eligible.length > 0) expect(s.k).toBe(Math.min(...eligible));
    }
  });
});

describe('clearly structured data', () => {
  it('well-separated blobs are not flagged, and k is their number', () => {
    // Four blobs 10 apart with sd 0.5: each k-means segment is one blob, silhouette near 0.9.
    const { X } = blobs([[0, 0, 0], [10, 0, 0], [0, 10, 0], [0, 0, 10]], [50, 50, 50, 50], 0.5, 5);
    const s = fitClusters(X, params, 4);
    expect(s.structure!.clear).toBe(true);
    expect(s.k).toBe(4);
    expect(s.sizes).toEqual([50, 50, 50, 50]);
  });

  it('a fixed k is judged too: the same blobs at k = 4 are clear, uniform data at k = 3 is not', () => {
    const { X } = blobs([[0, 0, 0], [10, 0, 0], [0, 10, 0], [0, 0, 10]], [50, 50, 50, 50], 0.5, 5);
    expect(fitClusters(X, { ...params, k: 4 }, 4).structure!.clear).toBe(true);
    const u = fitClusters(uniform(120, 3, 9), { ...params, k: 3 }, 4);
    expect(u.structure!.clear).toBe(false);
    expect(u.k).toBe(3);
  });
});

describe('no empty segment', () => {
  it("k-means moves an empty centroid onto the row farthest from its own centroid (scikit-learn's remedy)", () => {
    // From centroids 0, 10, 1000 nothing is nearest 1000; 20 is then the row farthest from its
    // centroid (12.5, the mean of 10, 10, 10, 20), so the empty centroid restarts there.
    const X = fromRows([[0], [0], [0], [10], [10], [10], [20]]);
    const fit = lloydNoEmpty(X, fromRows([[0], [10], [1000]]), { maxIterations: 100, tolerance: 0 }, 0);
    expect(Array.from(fit.centroids.data)).toEqual([0, 10, 20]);
    expect(Array.from(fit.sizes)).toEqual([3, 3, 1]);
  });

  it('the minimum segment size makes a k ineligible whose share passes', () => {
    const row = { calinskiHarabasz: 1, daviesBouldin: 1, inertia: 1, stability: 1, eligible: true };
    // 100-row sample: k = 3's smallest segment is 5% (share ok) but 5 customers (< 10).
    const rows = [{ ...row, k: 2, silhouette: 0.3, minShare: 0.4 }, { ...row, k: 3, silhouette: 0.5, minShare: 0.05, eligible: false }];
    const rule = { minSegmentShare: 0.03, minSegmentSize: 10, minStability: 0.8, silhouetteTolerance: 0.01 };
    expect(chooseK(rows, rule, { kMin: 2, kMax: 3, sampleRows: 100, resamples: 5 }).k).toBe(2);
  });
});
