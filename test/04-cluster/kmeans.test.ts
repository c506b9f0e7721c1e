import { kmeans } from 'ml-kmeans';
import { describe, expect, it } from 'vitest';
import { fromRows, toRows, zeros, type Matrix } from '../../pipeline/core/matrix.ts';
import { deriveSeed, makeRng } from '../../pipeline/core/random.ts';
import { fitKMeansBest, fitKMeansOnce, kmeansPlusPlus, lloyd, nearestCentroids } from '../../pipeline/04-cluster/kmeans.ts';

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

describe('k-means fits', () => {
  // Two obvious groups on a line.
  const X = fromRows([[0], [1], [2], [10], [11], [12]]);

  it('finds the two groups, with labels and inertia recomputed against the final centroids', () => {
    const fit = fitKMeansOnce(X, 2, 123, options);
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
    const starts = [0, 1, 2, 3].map((r) => fitKMeansOnce(X, 3, deriveSeed(99, `restart-${r}`), options, r));
    expect(a.inertia).toBe(Math.min(...starts.map((s) => s.inertia)));
    expect(a).toEqual(starts[a.restart]);
  });
});

/** Seeded Gaussian blobs in d dimensions whose centres sit `spread` apart on average: overlapping when small. */
function blobs(n: number, d: number, centres: number, spread: number, seed: number): Matrix {
  const rng = makeRng(seed);
  const means = Array.from({ length: centres }, () => Array.from({ length: d }, () => spread * rng.normal()));
  const X = zeros(n, d);
  for (let i = 0; i < n; i++) {
    const c = rng.int(centres);
    for (let j = 0; j < d; j++) X.data[i * d + j] = means[c]![j]! + rng.normal();
  }
  return X;
}

describe('the typed-array path against ml-kmeans (the reference)', () => {
  const cases: [n: number, d: number, k: number, spread: number][] = [
    [600, 2, 3, 4],
    [1500, 5, 6, 1],
    [3000, 16, 9, 0.8],
  ];

  it.each(cases)('lloyd from the same start reproduces ml-kmeans bit for bit (n %i, d %i, k %i)', (n, d, k, spread) => {
    const X = blobs(n, d, k, spread, n + d);
    const start = kmeansPlusPlus(X, k, 5);
    const fast = lloyd(X, start, options);
    const reference = kmeans(toRows(X), k, { initialization: toRows(start), maxIterations: options.maxIterations, tolerance: options.tolerance });
    expect(fast.iterations).toBe(reference.iterations);
    expect(Array.from(fast.centroids.data)).toEqual(reference.centroids.flat());
    // ml-kmeans's clusters are from before its last centroid update; compare after one more assignment each.
    const fastLabels = nearestCentroids(X, fast.centroids).labels;
    expect(Array.from(fastLabels)).toEqual(Array.from(nearestCentroids(X, fromRows(reference.centroids)).labels));
  });

  it('stops at maxIterations exactly where ml-kmeans does', () => {
    const X = blobs(2000, 8, 7, 0.5, 3);
    const start = kmeansPlusPlus(X, 7, 1);
    const capped = { maxIterations: 3, tolerance: 1e-6 };
    const fast = lloyd(X, start, capped);
    const reference = kmeans(toRows(X), 7, { initialization: toRows(start), ...capped });
    expect(fast.iterations).toBe(3);
    expect(fast.converged).toBe(false);
    expect(Array.from(fast.centroids.data)).toEqual(reference.centroids.flat());
  });

  it('keeps an empty cluster where it was, as ml-kmeans does', () => {
    const X = fromRows([[0], [1], [10], [11]]);
    const start = fromRows([[0.5], [10.5], [100]]);
    const fast = lloyd(X, start, options);
    const reference = kmeans(toRows(X), 3, { initialization: toRows(start), ...options });
    expect(Array.from(fast.centroids.data)).toEqual(reference.centroids.flat());
    expect(fast.centroids.data[2]).toBe(100);
  });

  it('best-of-restarts inertia matches ml-kmeans k-means++ restarts within 0.5% on fixed seeds', () => {
    for (const [n, d, k, spread] of cases) {
      const X = blobs(n, d, k, spread, 100 + n);
      const ours = fitKMeansBest(X, k, 8, 42, options);
      let best = Infinity;
      for (let r = 0; r < 8; r++) {
        const ref = kmeans(toRows(X), k, { initialization: 'kmeans++', seed: deriveSeed(42, `restart-${r}`), ...options });
        let inertia = 0;
        const near = nearestCentroids(X, fromRows(ref.centroids));
        for (const s of near.sqDistances) inertia += s;
        best = Math.min(best, inertia);
      }
      expect(ours.inertia).toBeLessThanOrEqual(best * 1.005);
    }
  });
});

describe('kmeansPlusPlus', () => {
  const X = blobs(500, 3, 4, 3, 9);

  it('is deterministic for a seed and picks k distinct rows of X', () => {
    const a = kmeansPlusPlus(X, 4, 11);
    expect(kmeansPlusPlus(X, 4, 11)).toEqual(a);
    expect(kmeansPlusPlus(X, 4, 12)).not.toEqual(a);
    const rows = new Set(toRows(X).map((r) => r.join(',')));
    const picked = toRows(a).map((r) => r.join(','));
    for (const r of picked) expect(rows.has(r)).toBe(true);
    expect(new Set(picked).size).toBe(4);
  });

  it('copes with every row identical (zero potential) and k = n', () => {
    const same = fromRows([[1, 1], [1, 1], [1, 1]]);
    expect(toRows(kmeansPlusPlus(same, 2, 1))).toEqual([[1, 1], [1, 1]]);
    const few = fromRows([[0], [5], [9]]);
    expect(toRows(kmeansPlusPlus(few, 3, 4)).map((r) => r[0]).sort()).toEqual([0, 5, 9]);
  });
});

describe('restarts on a seeded sample', () => {
  const X = blobs(6000, 6, 5, 1.5, 21);
  const sampled = { ...options, restartSample: 1000 };

  it('is deterministic, and refines the best sample start to a fixed point on all rows', () => {
    const a = fitKMeansBest(X, 5, 4, 7, sampled);
    expect(fitKMeansBest(X, 5, 4, 7, sampled)).toEqual(a);
    expect(a.labels).toHaveLength(6000);
    expect(a.sizes.reduce((s, v) => s + v, 0)).toBe(6000);
    const again = lloyd(X, a.centroids, options);
    expect(again.iterations).toBe(1);
  });

  it('ends within 0.5% of the inertia of restarting on every row', () => {
    const onSample = fitKMeansBest(X, 5, 4, 7, sampled);
    const onAll = fitKMeansBest(X, 5, 4, 7, { ...options, restartSample: 0 });
    expect(onSample.inertia).toBeLessThanOrEqual(onAll.inertia * 1.005);
  });

  it('restarts on all rows when they are no more than restartSample', () => {
    const small = blobs(800, 3, 3, 3, 2);
    const best = fitKMeansBest(small, 3, 3, 5, sampled);
    const starts = [0, 1, 2].map((r) => fitKMeansOnce(small, 3, deriveSeed(5, `restart-${r}`), sampled, r));
    expect(best).toEqual(starts[best.restart]);
  });
});
