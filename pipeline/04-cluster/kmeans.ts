/**
 * k-means fits through ml-kmeans (the reference implementation), with labels, distances and
 * inertia recomputed here on typed arrays so fitting and scoring share one assignment kernel.
 */
import { kmeans } from 'ml-kmeans';
import { fromRows, toRows, type Matrix } from '../core/matrix.ts';
import { deriveSeed } from '../core/random.ts';

/** Convergence settings handed to ml-kmeans. */
export interface KMeansOptions {
  /** Iteration cap per start. */
  maxIterations: number;
  /** A start has converged when no centroid moves more than this (squared Euclidean). */
  tolerance: number;
}

/** One k-means solution. */
export interface KMeansFit {
  /** Shape (k, d). */
  centroids: Matrix;
  /** Nearest centroid per row, shape (n). */
  labels: Int32Array;
  /** Rows per centroid, shape (k). */
  sizes: Int32Array;
  /** Sum of squared distances of rows to their nearest centroid. */
  inertia: number;
  /** ml-kmeans iterations of this start. */
  iterations: number;
  /** Which restart produced it (0-based). */
  restart: number;
}

/** Nearest and second-nearest centroid per row (the nearest on ties goes to the lowest id). */
export interface Nearest {
  /** Shape (n). */
  labels: Int32Array;
  /** Squared distance to the nearest centroid, shape (n). */
  sqDistances: Float64Array;
  /** Second-nearest id, shape (n); -1 when k = 1. */
  second: Int32Array;
  /** Squared distance to it, shape (n); Infinity when k = 1. */
  secondSqDistances: Float64Array;
}

/**
 * Assigns each row of X (n, d) to its nearest centroid (k, d). The single assignment kernel used
 * by fitting, metrics and scoring, so a fitted model reproduces its own labels bit for bit.
 */
export function nearestCentroids(X: Matrix, centroids: Matrix): Nearest {
  const { rows: n, cols: d } = X;
  const k = centroids.rows;
  if (centroids.cols !== d) throw new Error(`nearestCentroids: centroids have ${centroids.cols} columns, data has ${d}`);
  const labels = new Int32Array(n);
  const sqDistances = new Float64Array(n);
  const second = new Int32Array(n);
  const secondSqDistances = new Float64Array(n);
  const x = X.data;
  const c = centroids.data;
  for (let i = 0; i < n; i++) {
    const xo = i * d;
    let best = -1;
    let bestD = Infinity;
    let next = -1;
    let nextD = Infinity;
    for (let q = 0; q < k; q++) {
      const co = q * d;
      let s = 0;
      for (let j = 0; j < d; j++) {
        const diff = x[xo + j]! - c[co + j]!;
        s += diff * diff;
      }
      // Strict comparisons: on a tie the lower id keeps first place.
      if (s < bestD) {
        next = best;
        nextD = bestD;
        best = q;
        bestD = s;
      } else if (s < nextD) {
        next = q;
        nextD = s;
      }
    }
    labels[i] = best;
    sqDistances[i] = bestD;
    second[i] = next;
    secondSqDistances[i] = nextD;
  }
  return { labels, sqDistances, second, secondSqDistances };
}

/** Counts rows per label: shape (k). */
export function clusterSizes(labels: Int32Array, k: number): Int32Array {
  const sizes = new Int32Array(k);
  for (let i = 0; i < labels.length; i++) sizes[labels[i]!]!++;
  return sizes;
}

/**
 * One seeded k-means++ start through ml-kmeans on X (n, d). `rows` is X as row arrays (built once
 * by the caller and shared across starts, since ml-kmeans only takes number[][]).
 */
export function fitKMeansOnce(X: Matrix, rows: number[][], k: number, seed: number, options: KMeansOptions, restart = 0): KMeansFit {
  // ml-kmeans seeds its kmeans++ draws with ml-random's XSadd(seed); a missing seed would fall back to Math.random.
  const result = kmeans(rows, k, {
    initialization: 'kmeans++',
    seed,
    maxIterations: options.maxIterations,
    tolerance: options.tolerance,
  });
  const centroids = fromRows(result.centroids);
  // ml-kmeans's `clusters` were assigned before its last centroid update; relabel against the final centroids.
  const { labels, sqDistances } = nearestCentroids(X, centroids);
  let inertia = 0;
  for (let i = 0; i < sqDistances.length; i++) inertia += sqDistances[i]!;
  return { centroids, labels, sizes: clusterSizes(labels, k), inertia, iterations: result.iterations, restart };
}

/**
 * The lowest-inertia solution of `restarts` seeded k-means++ starts on X (n, d); start r is seeded
 * with deriveSeed(seed, `restart-${r}`). Ties keep the earliest start.
 */
export function fitKMeansBest(X: Matrix, k: number, restarts: number, seed: number, options: KMeansOptions, rows?: number[][]): KMeansFit {
  const data = rows ?? toRows(X);
  let best: KMeansFit | null = null;
  for (let r = 0; r < restarts; r++) {
    const fit = fitKMeansOnce(X, data, k, deriveSeed(seed, `restart-${r}`), options, r);
    if (best === null || fit.inertia < best.inertia) best = fit;
  }
  if (best === null) throw new Error('fitKMeansBest: restarts must be at least 1');
  return best;
}
