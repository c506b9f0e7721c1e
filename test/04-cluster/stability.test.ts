import { describe, expect, it } from 'vitest';
import { zeros, type Matrix } from '../../pipeline/core/matrix.ts';
import { makeRng } from '../../pipeline/core/random.ts';
import { assignClusters, fitClusters } from '../../pipeline/04-cluster/cluster.ts';
import { defaultClusterParams } from '../../pipeline/04-cluster/params.ts';
import { bestMatchJaccard, bootstrapLabelings, meanAri, segmentJaccard } from '../../pipeline/04-cluster/stability.ts';

describe('bestMatchJaccard', () => {
  it('matches each cluster with the one it overlaps most, |A ∩ B| / |A ∪ B|', () => {
    // A0 = {0,1,2}, A1 = {3,4,5}; B0 = {0,1}, B1 = {2,3,4,5}.
    // A0: with B0 2/3, with B1 1/6 -> 2/3. A1: with B0 0, with B1 3/4 -> 3/4.
    const a = Int32Array.from([0, 0, 0, 1, 1, 1]);
    const b = Int32Array.from([0, 0, 1, 1, 1, 1]);
    expect(Array.from(bestMatchJaccard(a, 2, b, 2))).toEqual([2 / 3, 3 / 4]);
  });

  it('is 1 for the same partition under other ids, NaN for a cluster with no items', () => {
    const a = Int32Array.from([0, 0, 2, 2]);
    const b = Int32Array.from([1, 1, 0, 0]);
    const j = bestMatchJaccard(a, 3, b, 2);
    expect(j[0]).toBe(1);
    expect(j[1]).toBeNaN();
    expect(j[2]).toBe(1);
  });
});

describe('segmentJaccard and meanAri average over the resamples', () => {
  const ref = Int32Array.from([0, 0, 0, 1, 1, 1]);
  const same = Int32Array.from([1, 1, 1, 0, 0, 0]);
  const moved = Int32Array.from([0, 0, 1, 1, 1, 1]);

  it('averages each segment\'s best-match Jaccard', () => {
    // Resample 1 reproduces both (1, 1); resample 2 gives (2/3, 3/4).
    expect(segmentJaccard(ref, 2, [same, moved])).toEqual([(1 + 2 / 3) / 2, (1 + 3 / 4) / 2]);
  });

  it('averages the ARI of each resample against the reference', () => {
    // ARI(ref, moved) = 8/27 by hand: pairs together in both 4, index 4; sums 6 and 7 over 15 pairs.
    expect(meanAri(ref, [same, moved])).toBeCloseTo((1 + (4 - (6 * 7) / 15) / ((6 + 7) / 2 - (6 * 7) / 15)) / 2, 15);
    expect(meanAri(ref, [])).toBeNaN();
  });
});

/** Seeded isotropic Gaussian blobs. */
function blobs(centres: number[][], counts: number[], sds: number[], seed: number): Matrix {
  const rng = makeRng(seed);
  const d = centres[0]!.length;
  const X = zeros(counts.reduce((a, b) => a + b, 0), d);
  let i = 0;
  centres.forEach((centre, c) => {
    for (let r = 0; r < counts[c]!; r++, i++) for (let j = 0; j < d; j++) X.data[i * d + j] = centre[j]! + sds[c]! * rng.normal();
  });
  return X;
}

describe('bootstrap stability of planted segments', () => {
  // A wide round group of 400 and a tight group of 150 far away; k = 3 must cut the round group in two,
  // along a direction nothing in the data prefers, while the far group is found every time.
  const X = blobs([[0, 0, 0], [40, 40, 40]], [400, 150], [2, 0.5], 9);
  const state = fitClusters(X, { ...defaultClusterParams, k: 3, restarts: 4 }, 42);
  const far = assignClusters(state, X).labels[450]!;

  it('a well-separated planted segment is stable (Jaccard >= 0.9)', () => {
    expect(state.sizes[far]).toBe(150);
    expect(state.stability.jaccard[far]).toBeGreaterThanOrEqual(0.9);
    expect(state.stability.unstable[far]).toBe(false);
  });

  it('the arbitrary halves of a round group are less stable than the planted segment', () => {
    const halves = [0, 1, 2].filter((s) => s !== far);
    for (const s of halves) expect(state.stability.jaccard[s]).toBeLessThan(state.stability.jaccard[far]!);
  });

  it('bootstrapLabelings is seeded: the same seed gives the same refits', () => {
    const opts = { maxIterations: 100, tolerance: 1e-6 };
    expect(bootstrapLabelings(X, 3, 3, 1, 7, opts)).toEqual(bootstrapLabelings(X, 3, 3, 1, 7, opts));
    expect(bootstrapLabelings(X, 3, 3, 1, 7, opts)).not.toEqual(bootstrapLabelings(X, 3, 3, 1, 8, opts));
  });
});
