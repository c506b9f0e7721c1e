import { describe, expect, it } from 'vitest';
import { InputError } from '../../pipeline/core/errors.ts';
import { fromRows, zeros, type Matrix } from '../../pipeline/core/matrix.ts';
import { makeRng } from '../../pipeline/core/random.ts';
import {
  assignClusters,
  defaultClusterParams,
  fitClusters,
  loadClusterState,
  type ClusterParams,
} from '../../pipeline/04-cluster/cluster.ts';
import { adjustedRandIndex, inertia } from '../../pipeline/04-cluster/metrics.ts';

/** Seeded isotropic Gaussian blobs: `counts[c]` rows around `centres[c]`, with the true blob per row. */
function blobs(centres: number[][], counts: number[], sd: number, seed: number): { X: Matrix; truth: Int32Array } {
  const rng = makeRng(seed);
  const d = centres[0]!.length;
  const X = zeros(counts.reduce((a, b) => a + b, 0), d);
  const truth = new Int32Array(X.rows);
  let i = 0;
  centres.forEach((centre, c) => {
    for (let r = 0; r < counts[c]!; r++, i++) {
      truth[i] = c;
      for (let j = 0; j < d; j++) X.data[i * d + j] = centre[j]! + sd * rng.normal();
    }
  });
  return { X, truth };
}

// Small ranges and restarts keep the suite fast; the defaults are exercised by the timing check in the report.
const quick: ClusterParams = { ...defaultClusterParams, kMax: 6, restarts: 4 };

describe('fitClusters on three well-separated blobs', () => {
  const { X, truth } = blobs([[0, 0], [10, 0], [0, 10]], [150, 120, 90], 0.8, 7);
  const state = fitClusters(X, quick, 42);

  it('selects k = 3 by silhouette and recovers the blobs exactly', () => {
    expect(state.k).toBe(3);
    expect(state.selection.map((r) => r.k)).toEqual([2, 3, 4, 5, 6]);
    const best = Math.max(...state.selection.map((r) => r.silhouette));
    expect(state.selection.find((r) => r.k === 3)!.silhouette).toBe(best);
    expect(adjustedRandIndex(assignClusters(state, X).labels, truth)).toBe(1);
  });

  it('orders segments by descending size, so ids are reproducible', () => {
    expect(state.sizes).toEqual([150, 120, 90]);
    // Segment 0 is the blob at (0, 0), segment 1 the one at (10, 0).
    expect(state.centroids[0]![0]).toBeCloseTo(0, 0);
    expect(state.centroids[1]![0]).toBeCloseTo(10, 0);
  });

  it('records the scores of every candidate k and how k was chosen', () => {
    for (const row of state.selection) {
      expect(row.calinskiHarabasz).toBeGreaterThan(0);
      expect(row.daviesBouldin).toBeGreaterThan(0);
      expect(row.inertia).toBeGreaterThan(0);
      expect(row.eligible).toBe(row.minShare >= quick.minSegmentShare);
    }
    // More clusters never fit worse on the same sample.
    expect(state.selection[1]!.inertia).toBeLessThan(state.selection[0]!.inertia);
    expect(state.selectionRule).toMatch(/highest silhouette/);
    expect(state.seed).toBe(42);
  });

  it('is deterministic: the same data and seed give an identical state', () => {
    expect(fitClusters(X, quick, 42)).toEqual(state);
  });

  it('assignClusters reproduces the fitted labels: sizes, inertia and distances', () => {
    const a = assignClusters(state, X);
    const sizes = [0, 0, 0];
    for (const l of a.labels) sizes[l]!++;
    expect(sizes).toEqual(state.sizes);
    expect(inertia(X, a.labels, fromRows(state.centroids))).toBe(state.inertia);
    expect(a.distances.reduce((s, d) => s + d * d, 0)).toBeCloseTo(state.inertia, 6);
    for (let i = 0; i < X.rows; i++) {
      expect(a.second[i]).not.toBe(a.labels[i]);
      expect(a.secondDistances[i]).toBeGreaterThanOrEqual(a.distances[i]!);
    }
  });

  it('round-trips through JSON and assigns identically after loading', () => {
    const loaded = loadClusterState(JSON.parse(JSON.stringify(state)));
    expect(loaded).toEqual(state);
    expect(assignClusters(loaded, X)).toEqual(assignClusters(state, X));
  });
});

describe('fitClusters parameters', () => {
  const { X } = blobs([[0, 0], [10, 0], [0, 10]], [60, 60, 60], 0.8, 3);

  it('honours a fixed k and skips selection', () => {
    const s = fitClusters(X, { ...quick, k: 5 }, 1);
    expect(s.k).toBe(5);
    expect(s.centroids).toHaveLength(5);
    expect(s.selection).toEqual([]);
    expect(s.selectionRule).toBe('fixed k = 5 (cluster.k)');
  });

  it('runs selection on a seeded sample of selectionSample rows', () => {
    const s = fitClusters(X, { ...quick, selectionSample: 90 }, 1);
    expect(s.k).toBe(3);
    expect(s.selectionRule).toMatch(/90-row sample/);
    // The final fit still covers every row.
    expect(s.sizes.reduce((a, b) => a + b, 0)).toBe(180);
  });

  it('rejects invalid parameters and impossible k', () => {
    expect(() => fitClusters(X, { ...quick, kMin: 5, kMax: 3 }, 1)).toThrow(InputError);
    expect(() => fitClusters(X, { ...quick, maxIterations: 0 }, 1)).toThrow(InputError);
    expect(() => fitClusters(fromRows([[0], [1]]), { ...quick, k: 3 }, 1)).toThrow(/3 segments from 2 customers/);
  });
});

describe('minimum segment share', () => {
  // Three blobs of 200 plus a far tiny group of 8 (1.3%): isolating it gives the best silhouette.
  const { X } = blobs([[0, 0], [10, 0], [0, 10], [20, 20]], [200, 200, 200, 8], 0.8, 11);

  it('without a minimum, the k that isolates the tiny group wins', () => {
    const s = fitClusters(X, { ...quick, minSegmentShare: 0 }, 42);
    expect(s.k).toBe(4);
    expect(s.sizes).toEqual([200, 200, 200, 8]);
  });

  it('with the default 3% minimum, that k is ineligible and k = 3 is chosen', () => {
    const s = fitClusters(X, quick, 42);
    const four = s.selection.find((r) => r.k === 4)!;
    expect(four.minShare).toBeCloseTo(8 / 608, 12);
    expect(four.eligible).toBe(false);
    expect(four.silhouette).toBeGreaterThan(s.selection.find((r) => r.k === 3)!.silhouette);
    expect(s.k).toBe(3);
  });

  it('falls back to the largest smallest-segment share when no k is eligible', () => {
    const s = fitClusters(X, { ...quick, minSegmentShare: 0.5 }, 42);
    expect(s.selection.every((r) => !r.eligible)).toBe(true);
    expect(s.selectionRule).toMatch(/fell back/);
    const bestShare = Math.max(...s.selection.map((r) => r.minShare));
    expect(s.selection.find((r) => r.k === s.k)!.minShare).toBe(bestShare);
  });
});

describe('loadClusterState', () => {
  const state = fitClusters(blobs([[0], [5]], [10, 10], 0.1, 1).X, { ...quick, k: 2 }, 9);
  const json = JSON.parse(JSON.stringify(state));

  it('rejects another kind, another version or malformed centroids with a clear message', () => {
    expect(() => loadClusterState({ ...json, kind: 'finseg.preprocess' })).toThrow(/expected a "finseg.cluster" state, got kind "finseg.preprocess"/);
    expect(() => loadClusterState({ ...json, version: 3 })).toThrow(/unsupported finseg.cluster version 3/);
    expect(() => loadClusterState({ ...json, centroids: [[0]] })).toThrow(/centroids has 1 entries, expected 2/);
    expect(() => loadClusterState(null)).toThrow(InputError);
  });

  it('reads undefined selection metrics stored as null back as NaN', () => {
    const withNull = { ...json, selection: [{ k: 2, silhouette: null, calinskiHarabasz: null, daviesBouldin: null, inertia: 1, minShare: 0.5, eligible: false }] };
    expect(loadClusterState(withNull).selection[0]!.silhouette).toBeNaN();
  });

  it('assignClusters refuses data of another dimension', () => {
    expect(() => assignClusters(state, fromRows([[1, 2]]))).toThrow(/1-dimensional centroids, data has 2 columns/);
  });
});
