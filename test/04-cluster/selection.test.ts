import { describe, expect, it } from 'vitest';
import { makeRng } from '../../pipeline/core/random.ts';
import { assignClusters, fitClusters } from '../../pipeline/04-cluster/cluster.ts';
import { defaultClusterParams } from '../../pipeline/04-cluster/params.ts';
import { adjustedRandIndex } from '../../pipeline/04-cluster/metrics.ts';
import { chooseK, type KSelectionRow, type SelectionRule } from '../../pipeline/04-cluster/selection.ts';
import { blobs } from '../helpers/blobs.ts';

const rule: SelectionRule = { minSegmentShare: 0.03, minSegmentSize: 10, minStability: 0.8, silhouetteTolerance: 0.01 };
const ctx = { kMin: 2, kMax: 6, sampleRows: 4000, resamples: 10 };
/** A candidate row with only the fields the rule reads set meaningfully. */
const row = (k: number, silhouette: number, stability: number, minShare: number): KSelectionRow => ({
  k,
  silhouette,
  stability,
  minShare,
  calinskiHarabasz: 1,
  daviesBouldin: 1,
  inertia: 1,
  eligible: minShare >= rule.minSegmentShare && stability >= rule.minStability && !Number.isNaN(silhouette),
});

describe('chooseK: the documented decision rule', () => {
  it('takes the best silhouette among eligible k (share and stability both met)', () => {
    const rows = [row(2, 0.3, 0.95, 0.4), row(3, 0.45, 0.9, 0.2), row(4, 0.5, 0.7, 0.1), row(5, 0.4, 0.9, 0.01)];
    // k = 4 has the best silhouette but is unstable; k = 5 is too small a segment.
    expect(chooseK(rows, rule, ctx)).toEqual({
      k: 3,
      rule: 'smallest k whose silhouette is within 0.01 of the best (0.450) among k in 2..6 on a 4000-row sample with smallest segment >= 0.03 of it and >= 10 customers and bootstrap stability (mean ARI over 10 resamples) >= 0.8',
    });
  });

  it('treats silhouettes within the tolerance as tied and takes the smallest tied k', () => {
    const rows = [row(8, 0.28, 0.85, 0.06), row(9, 0.283, 0.95, 0.06), row(10, 0.289, 0.9, 0.05), row(11, 0.27, 0.9, 0.05)];
    // Best 0.289; tolerance 0.01 ties everything >= 0.279 (k = 8, 9, 10), 0.007 everything >= 0.282 (k = 9, 10).
    expect(chooseK(rows, rule, ctx).k).toBe(8);
    expect(chooseK(rows, { ...rule, silhouetteTolerance: 0.007 }, ctx).k).toBe(9);
    expect(chooseK(rows, { ...rule, silhouetteTolerance: 0 }, ctx).k).toBe(10);
  });

  it('falls back to the most stable k with large enough segments when none is stable enough', () => {
    const rows = [row(2, 0.3, 0.5, 0.4), row(3, 0.5, 0.7, 0.2), row(4, 0.4, 0.7, 0.1), row(5, 0.6, 0.75, 0.01)];
    expect(chooseK(rows, rule, ctx)).toEqual({
      k: 3,
      rule: 'no k in 2..6 on a 4000-row sample had bootstrap stability (mean ARI over 10 resamples) >= 0.8; took the most stable k among those with smallest segment >= 0.03 of it and >= 10 customers',
    });
  });

  it('falls back to the largest smallest-segment share when no k keeps every segment large enough', () => {
    const rows = [row(2, 0.3, 0.9, 0.02), row(3, 0.5, 0.9, 0.025), row(4, 0.4, 0.9, 0.025)];
    expect(chooseK(rows, rule, ctx)).toEqual({ k: 3, rule: 'no k in 2..6 on a 4000-row sample had smallest segment >= 0.03 of it and >= 10 customers; fell back to the largest smallest-segment share' });
  });

  it('never picks a k whose silhouette is undefined', () => {
    const rows = [row(2, Number.NaN, 1, 0.5), row(3, 0.2, 0.9, 0.3)];
    expect(rows[0]!.eligible).toBe(false);
    expect(chooseK(rows, rule, ctx).k).toBe(3);
  });
});


describe('k selection on planted structure at low noise', () => {
  // Nine planted groups with the demo archetypes' weights (6% to 16%), centres at least 8 apart in 8 dimensions, sd 1.
  const rng = makeRng(3);
  const centres: number[][] = [];
  while (centres.length < 9) {
    const c = Array.from({ length: 8 }, () => rng.next() * 20);
    if (centres.every((o) => Math.hypot(...o.map((v, j) => v - c[j]!)) > 8)) centres.push(c);
  }
  const weights = [0.14, 0.16, 0.13, 0.06, 0.08, 0.09, 0.07, 0.15, 0.12];
  const { X, truth } = blobs(centres, weights.map((w) => Math.round(w * 2000)), 1, 5);
  const state = fitClusters(X, defaultClusterParams, 42);

  it('chooses k equal to the number of planted groups over the default range 2..12', () => {
    expect(state.selection.map((r) => r.k)).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(state.k).toBe(9);
    expect(adjustedRandIndex(assignClusters(state, X).labels, truth)).toBe(1);
  });

  it('finds the planted k the most stable of all candidates', () => {
    const nine = state.selection.find((r) => r.k === 9)!;
    expect(nine.stability).toBe(Math.max(...state.selection.map((r) => r.stability)));
    expect(nine.stability).toBeGreaterThan(0.95);
    expect(Math.min(...state.stability.jaccard)).toBeGreaterThan(0.9);
  });
});
