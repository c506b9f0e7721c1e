import { describe, expect, it } from 'vitest';
import { parseState } from '../../pipeline/model/load.ts';
import { InputError } from '../../pipeline/core/errors.ts';
import { fromRows, toRows } from '../../pipeline/core/matrix.ts';
import { assignClusters, assignmentFlags, fitClusters, quantile, type ClusterState } from '../../pipeline/04-cluster/cluster.ts';
import { defaultClusterParams, type ClusterParams } from '../../pipeline/04-cluster/params.ts';
import { adjustedRandIndex, inertia } from '../../pipeline/04-cluster/metrics.ts';
import { blobs } from '../helpers/blobs.ts';
import { metricsInput, sklearnMetrics } from '../reference/sklearn.ts';


// Small ranges and restarts keep the suite fast; the defaults are exercised by the timing check in the report.
const quick: ClusterParams = { ...defaultClusterParams, kMax: 6, restarts: 4 };

describe('fitClusters on three well-separated blobs', () => {
  const { X, truth } = blobs([[0, 0], [10, 0], [0, 10]], [150, 120, 90], 0.8, 7);
  const state = fitClusters(X, quick, 42);

  it('selects k = 3 (best silhouette, every refit reproduces it) and recovers the blobs exactly', () => {
    expect(state.k).toBe(3);
    expect(state.selection.map((r) => r.k)).toEqual([2, 3, 4, 5, 6]);
    const best = Math.max(...state.selection.map((r) => r.silhouette));
    expect(state.selection.find((r) => r.k === 3)!.silhouette).toBe(best);
    // Blobs 10 apart with sd 0.8: every bootstrap refit finds the same three, so the ARI is exactly 1.
    expect(state.selection.find((r) => r.k === 3)!.stability).toBe(1);
    expect(adjustedRandIndex(assignClusters(state, X).labels, truth)).toBe(1);
  });

  it('records every segment as stable: each bootstrap refit matches it exactly (Jaccard 1)', () => {
    expect(state.stability).toEqual({ resamples: 20, restarts: 1, sampleRows: 360, meanAri: 1, jaccard: [1, 1, 1], unstable: [false, false, false], unstableBelow: 0.6 });
  });

  it('stores the 99th percentile of training distances as the novelty distance', () => {
    const { distances } = assignClusters(state, X);
    expect(state.novelty).toEqual({ quantile: 0.99, distance: quantile(distances, 0.99) });
    const beyond = distances.filter((d) => d > state.novelty.distance).length;
    // 1% of 360 rows is 3.6: interpolation puts the cut between the 4th and 5th largest distance.
    expect(beyond).toBe(4);
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
      expect(row.stability).toBeGreaterThan(0);
      expect(row.stability).toBeLessThanOrEqual(1);
      expect(row.eligible).toBe(row.minShare >= quick.minSegmentShare && row.stability >= quick.minStability);
    }
    // More clusters never fit worse on the same sample.
    expect(state.selection[1]!.inertia).toBeLessThan(state.selection[0]!.inertia);
    // The k = 3 fit is the true partition (ARI 1 above), so its scores are scikit-learn's scores of
    // the truth labels (test/reference/sklearn_metrics.py on the same 360 rows).
    const input = metricsInput('three-blobs');
    expect(toRows(X)).toEqual(input.X);
    expect(Array.from(truth)).toEqual(input.labels);
    const sk = sklearnMetrics('three-blobs');
    const three = state.selection.find((r) => r.k === 3)!;
    expect(three.silhouette).toBeCloseTo(sk.silhouette, 12);
    expect(three.calinskiHarabasz).toBeCloseTo(sk.calinskiHarabasz, 8);
    expect(three.daviesBouldin).toBeCloseTo(sk.daviesBouldin, 12);
    expect(state.selectionRule.startsWith(`smallest k whose silhouette is within 0.01 of the best (${sk.silhouette.toFixed(3)}) among k in 2..6 on a 360-row sample`)).toBe(true);
    expect(state.selectionRule).toMatch(/bootstrap stability \(mean ARI over 20 resamples\) >= 0.8$/);
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
    const loaded = parseState('cluster.json', JSON.parse(JSON.stringify(state)));
    expect(loaded).toEqual(state);
    expect(assignClusters(loaded, X)).toEqual(assignClusters(state, X));
  });
});

describe('fitClusters parameters', () => {
  const { X } = blobs([[0, 0], [10, 0], [0, 10]], [60, 60, 60], 0.8, 3);

  it('honours a fixed k, skips selection, and still measures segment stability', () => {
    const s = fitClusters(X, { ...quick, k: 5 }, 1);
    expect(s.k).toBe(5);
    expect(s.centroids).toHaveLength(5);
    expect(s.selection).toEqual([]);
    expect(s.selectionRule).toBe('fixed k = 5 (cluster.k)');
    expect(s.stability.jaccard).toHaveLength(5);
    expect(s.stability.unstable).toEqual(s.stability.jaccard.map((j) => j < 0.6));
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
    try {
      fitClusters(X, { ...quick, stabilityResamples: 0 }, 1);
      expect.unreachable();
    } catch (e) {
      expect((e as InputError).detail).toEqual(['stabilityResamples must be an integer >= 1, got 0']);
    }
    expect(() => fitClusters(X, { ...quick, noveltyQuantile: 1.5 }, 1)).toThrow(InputError);
    expect(() => fitClusters(fromRows([[0], [1]]), { ...quick, k: 3 }, 1)).toThrow(/only 2 distinct customers .* at least 3 are needed for 3 segments/);
  });
});

describe('minimum segment share', () => {
  // Three blobs of 200 plus a far tiny group of 8 (1.3%): isolating it gives the best silhouette.
  const { X } = blobs([[0, 0], [10, 0], [0, 10], [20, 20]], [200, 200, 200, 8], 0.8, 11);

  it('without a minimum, the k that isolates the tiny group wins (it is also perfectly stable)', () => {
    const s = fitClusters(X, { ...quick, minSegmentShare: 0, minSegmentSize: 1 }, 42);
    expect(s.k).toBe(4);
    expect(s.sizes).toEqual([200, 200, 200, 8]);
    expect(s.selection.find((r) => r.k === 4)!.stability).toBe(1);
  });

  it('with the default 3% minimum, that k is ineligible and k = 3 is chosen', () => {
    const s = fitClusters(X, quick, 42);
    const four = s.selection.find((r) => r.k === 4)!;
    expect(four.minShare).toBeCloseTo(8 / 608, 12);
    expect(four.eligible).toBe(false);
    expect(four.silhouette).toBeGreaterThan(s.selection.find((r) => r.k === 3)!.silhouette);
    expect(s.k).toBe(3);
  });

  it('with no share minimum, the default minimum of 10 customers still rules out the group of 8', () => {
    const s = fitClusters(X, { ...quick, minSegmentShare: 0 }, 42);
    expect(s.selection.find((r) => r.k === 4)!.eligible).toBe(false);
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

describe('the cluster state file (parseState)', () => {
  const state = fitClusters(blobs([[0], [5]], [10, 10], 0.1, 1).X, { ...quick, k: 2 }, 9);
  const json = JSON.parse(JSON.stringify(state));

  it('rejects another kind, another version or malformed centroids with a clear message', () => {
    expect(() => parseState('cluster.json', { ...json, kind: 'finseg.preprocess' })).toThrow(/^cluster\.json: kind "finseg\.preprocess", expected "finseg\.cluster"$/);
    expect(() => parseState('cluster.json', { ...json, version: 3 })).toThrow(/finseg\.cluster format version 3, this finseg reads version 2/);
    expect(() => parseState('cluster.json', { ...json, centroids: [[0]] })).toThrow(/^cluster\.json: centroids: has 1 entries, expected 2$/);
    expect(() => parseState('cluster.json', null)).toThrow(InputError);
    // An older format is refused with the remedy: retrain.
    let older: unknown = null;
    try {
      parseState('cluster.json', { ...json, version: 1 });
    } catch (e) {
      older = e;
    }
    expect(older).toBeInstanceOf(InputError);
    expect((older as InputError).message).toBe('cluster.json: finseg.cluster format version 1, this finseg reads version 2');
    expect((older as InputError).detail.join()).toMatch(/retrain needed/);
    expect(() => parseState('cluster.json', { ...json, stability: { ...json.stability, jaccard: [1] } })).toThrow(/^cluster\.json: stability\.jaccard: has 1 entries, expected 2$/);
    expect(() => parseState('cluster.json', { ...json, novelty: { quantile: 0.99 } })).toThrow(/^cluster\.json: novelty\.distance: missing$/);
    expect(() => parseState('cluster.json', { ...json, centroids: [[0], [null]] })).toThrow(/^cluster\.json: centroids\[1\]\[0\]: expected number, got null$/);
  });

  it('reads undefined selection metrics stored as null back as NaN', () => {
    const withNull = { ...json, selection: [{ k: 2, silhouette: null, calinskiHarabasz: null, daviesBouldin: null, inertia: 1, minShare: 0.5, stability: null, eligible: false }] };
    expect(parseState('cluster.json', withNull).selection[0]!.silhouette).toBeNaN();
    expect(parseState('cluster.json', withNull).selection[0]!.stability).toBeNaN();
  });

  it('assignClusters refuses data of another dimension', () => {
    expect(() => assignClusters(state, fromRows([[1, 2]]))).toThrow(/1-dimensional centroids, data has 2 columns/);
  });
});

describe('assignmentFlags: margin, ambiguous and novel per customer', () => {
  // Two centroids 4 apart on the x axis; novelty beyond distance 3.
  const state = { ...fitClusters(fromRows([[0, 0], [4, 0], [0, 0.1], [4, 0.1]]), { ...quick, k: 2 }, 1), centroids: [[0, 0], [4, 0]], novelty: { quantile: 0.99, distance: 3 } } as ClusterState;
  const X = fromRows([
    [1, 0], // d1 = 1, d2 = 3: margin (3 - 1) / 3
    [2, 0], // halfway: d1 = d2 = 2, margin 0
    [0, 0], // on a centroid: margin 1
    [1.8, 0], // d1 = 1.8, d2 = 2.2: margin 0.4 / 2.2 < 0.2
    [0, 3.5], // d1 = 3.5 > 3: novel
  ]);
  const a = assignClusters(state, X);
  const flags = assignmentFlags(state, a, 0.2);

  it('computes the distance margin (d2 - d1) / d2', () => {
    expect(Array.from(a.labels)).toEqual([0, 0, 0, 0, 0]);
    expect(flags.margin[0]).toBeCloseTo(2 / 3, 15);
    expect(flags.margin[1]).toBe(0);
    expect(flags.margin[2]).toBe(1);
    expect(flags.margin[3]).toBeCloseTo(0.4 / 2.2, 15);
  });

  it('flags ambiguous below the margin threshold and novel beyond the stored distance', () => {
    expect(Array.from(flags.ambiguous)).toEqual([0, 1, 0, 1, 0]);
    expect(Array.from(flags.novel)).toEqual([0, 0, 0, 0, 1]);
  });

  it('gives margin 1 when there is no second segment (k = 1)', () => {
    const one = { ...state, k: 1, centroids: [[0, 0]], sizes: [4] } as ClusterState;
    expect(Array.from(assignmentFlags(one, assignClusters(one, X), 0.2).margin)).toEqual([1, 1, 1, 1, 1]);
  });
});

describe('quantile', () => {
  it('interpolates linearly between order statistics, as numpy.quantile does', () => {
    // numpy.quantile([4, 1, 3, 2], [0, 0.5, 0.99, 1]) = [1, 2.5, 3.97, 4]
    const v = Float64Array.from([4, 1, 3, 2]);
    expect(quantile(v, 0)).toBe(1);
    expect(quantile(v, 0.5)).toBe(2.5);
    expect(quantile(v, 0.99)).toBeCloseTo(3.97, 12);
    expect(quantile(v, 1)).toBe(4);
  });
});

describe('fitClusters phases', () => {
  it('reports k selection, the stability refits and the final fit in order, with or without a fixed k', () => {
    const { X } = blobs([[0, 0], [10, 0], [0, 10]], [150, 120, 90], 0.8, 7);
    for (const params of [quick, { ...quick, k: 3 }]) {
      const phases: string[] = [];
      const withHook = fitClusters(X, params, 7, (p) => phases.push(p));
      expect(phases).toEqual(['select', 'stability', 'final']);
      expect(withHook).toEqual(fitClusters(X, params, 7));
    }
  });

  it('counts the fits of choosing k to their total (candidates plus bootstrap refits), without changing the fit', () => {
    const { X } = blobs([[0, 0], [10, 0], [0, 10]], [150, 120, 90], 0.8, 7);
    const ks = quick.kMax - quick.kMin + 1;
    for (const [params, total] of [[quick, ks * (1 + quick.stabilityResamples)], [{ ...quick, k: 3 }, quick.stabilityResamples]] as const) {
      const calls: [number, number][] = [];
      const withProgress = fitClusters(X, params, 7, undefined, undefined, (done, t) => calls.push([done, t]));
      expect(calls).toEqual(Array.from({ length: total + 1 }, (_, i) => [i, total]));
      expect(withProgress).toEqual(fitClusters(X, params, 7));
    }
  });
});
