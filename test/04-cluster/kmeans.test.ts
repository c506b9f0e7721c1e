import { describe, expect, it } from 'vitest';
import { fromRows, toRows } from '../../pipeline/core/matrix.ts';
import { deriveSeed } from '../../pipeline/core/random.ts';
import { fitKMeansBest, fitKMeansOnce, nearestCentroids } from '../../pipeline/04-cluster/kmeans.ts';

const options = { maxIterations: 300, tolerance: 1e-6 };

describe('nearestCentroids', () => {
  const centroids = fromRows([[0, 0], [4, 0], [0, 3]]);

  it('returns the nearest and second-nearest centroid with squared distances', () => {
    const near = nearestCentroids(fromRows([[1, 0], [0, 2.9], [4, 4]]), centroids);
    expect(Array.from(near.labels)).toEqual([0, 2, 1]);
    expect(near.sqDistances[0]).toBe(1);
    expect(Array.from(near.second)).toEqual([1, 0, 2]);
    expect(near.secondSqDistances[0]).toBe(9);
    // (4, 4): 16 to (4, 0), 16 + 1 = 17 to (0, 3)
    expect(near.sqDistances[2]).toBe(16);
    expect(near.secondSqDistances[2]).toBe(17);
  });

  it('breaks an exact tie towards the lowest id', () => {
    const near = nearestCentroids(fromRows([[2, 0]]), centroids);
    expect(near.labels[0]).toBe(0);
    expect(near.second[0]).toBe(1);
  });

  it('reports no second centroid when k = 1', () => {
    const near = nearestCentroids(fromRows([[1, 1]]), fromRows([[0, 0]]));
    expect(near.second[0]).toBe(-1);
    expect(near.secondSqDistances[0]).toBe(Infinity);
  });
});

describe('ml-kmeans fits', () => {
  // Two obvious groups on a line.
  const X = fromRows([[0], [1], [2], [10], [11], [12]]);

  it('finds the two groups, with labels and inertia recomputed against the final centroids', () => {
    const fit = fitKMeansOnce(X, toRows(X), 2, 123, options);
    const centres = toRows(fit.centroids).map((r) => r[0]!).sort((a, b) => a - b);
    expect(centres).toEqual([1, 11]);
    expect(fit.inertia).toBe(4);
    expect(Array.from(fit.sizes)).toEqual([3, 3]);
    expect(fit.labels[0]).toBe(fit.labels[2]);
    expect(fit.labels[0]).not.toBe(fit.labels[3]);
  });

  it('is deterministic for a seed, and best-of-restarts keeps the lowest inertia', () => {
    const a = fitKMeansBest(X, 3, 4, 99, options);
    const b = fitKMeansBest(X, 3, 4, 99, options);
    expect(a).toEqual(b);
    const starts = [0, 1, 2, 3].map((r) => fitKMeansOnce(X, toRows(X), 3, deriveSeed(99, `restart-${r}`), options, r));
    expect(a.inertia).toBe(Math.min(...starts.map((s) => s.inertia)));
    expect(a).toEqual(starts[a.restart]);
  });
});
