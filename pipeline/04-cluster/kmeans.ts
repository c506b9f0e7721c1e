/**
 * k-means on row-major typed arrays: seeded greedy k-means++ starts and Lloyd iterations
 * accelerated by Hamerly's bounds, with labels, distances and inertia from one assignment kernel
 * shared by fitting and scoring.
 *
 * ml-kmeans (number[][] in, the reference implementation) is kept for the tests: given the same
 * start, `lloyd` reproduces its iterations exactly (same assignments, centroid sums in the same
 * row order, same convergence test), so centroids, labels and iteration counts are equal bit for
 * bit (test/04-cluster/kmeans.test.ts). Measured here on the S benchmark's 100k x 16, k = 9, from
 * the same start (CPU time, shared 2-core machine): ~15-20 ms an iteration against ml-kmeans's
 * ~36 ms, so ~2x, plus ml-kmeans's number[][] input (~0.1 s per 100k rows to build). The bounds
 * skip ~80% of distance scans; what remains is dominated by the exact row-order centroid sums.
 * The larger saving at scale is fitKMeansBest restarting on a sample (KMeansOptions.restartSample).
 * ml-kmeans's own k-means++ draws from ml-random; ours from the project's seeded Rng, so a seed
 * gives other (equally good) starts than ml-kmeans would: the tests compare best-of-restarts
 * inertia with ml-kmeans's on fixed seeds instead.
 */
import type { Matrix } from '../core/matrix.ts';
import { sqDistancesToRows, takeRows } from '../core/matrix.ts';
import { deriveSeed, makeRng, sampleIndices } from '../core/random.ts';

/** Convergence settings of a k-means fit. */
export interface KMeansOptions {
  /** Iteration cap per start. */
  maxIterations: number;
  /** A start has converged when no centroid moves more than this (squared Euclidean). */
  tolerance: number;
  /**
   * Above this many rows, fitKMeansBest runs its restarts on a seeded sample of this many rows
   * and refines only the best start on all rows (restarts on a million rows buy nothing a
   * sample does not). Default 32,768; 0 = always restart on all rows.
   */
  restartSample?: number;
  /**
   * Rows × starts fitKMeansBest may spend: with fewer rows per start (small data, or the restart
   * sample) it makes up to floor(restartBudgetRows / rows) starts, never fewer than `restarts`
   * nor more than `maxRestarts`. Default: exactly `restarts` starts.
   */
  restartBudgetRows?: number;
  maxRestarts?: number;
}

/** Rows above which fitKMeansBest restarts on a sample (see KMeansOptions.restartSample). */
export const DEFAULT_RESTART_SAMPLE = 32_768;

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
  /** Lloyd iterations of this start (of its refinement on all rows when restarted on a sample). */
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
  const n = X.rows;
  const out = { labels: new Int32Array(n), sqDistances: new Float64Array(n), second: new Int32Array(n), secondSqDistances: new Float64Array(n) };
  nearestCentroidsInto(X, centroids, 0, n, out);
  return out;
}

/** nearestCentroids for rows [from, to) of X, written into `out` at the same rows (score's chunks, model/score-kernels.ts). */
export function nearestCentroidsInto(X: Matrix, centroids: Matrix, from: number, to: number, out: Nearest): void {
  const d = X.cols;
  const k = centroids.rows;
  if (centroids.cols !== d) throw new Error(`nearestCentroids: centroids have ${centroids.cols} columns, data has ${d}`);
  const { labels, sqDistances, second, secondSqDistances } = out;
  const x = X.data;
  const c = centroids.data;
  const dist = new Float64Array(k);
  for (let i = from; i < to; i++) {
    sqDistancesToRows(x, i * d, c, 0, k, d, dist, 0);
    let best = -1;
    let bestD = Infinity;
    let next = -1;
    let nextD = Infinity;
    for (let q = 0; q < k; q++) {
      const s = dist[q]!;
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
}

/** Counts rows per label: shape (k). */
export function clusterSizes(labels: Int32Array, k: number): Int32Array {
  const sizes = new Int32Array(k);
  for (let i = 0; i < labels.length; i++) sizes[labels[i]!]!++;
  return sizes;
}

/**
 * Greedy k-means++ starting centroids (k, d) for X (n, d), seeded: the first centroid is a
 * uniformly drawn row; each next one is the best, by resulting potential, of 2 + floor(ln k)
 * rows drawn with probability proportional to their squared distance to the nearest centroid
 * so far (scikit-learn's and ml-kmeans's scheme). Ties keep the earlier candidate.
 */
export function kmeansPlusPlus(X: Matrix, k: number, seed: number): Matrix {
  const { rows: n, cols: d } = X;
  if (!(Number.isInteger(k) && k >= 1 && k <= n)) throw new Error(`kmeansPlusPlus: k must be an integer in [1, ${n}], got ${k}`);
  const x = X.data;
  const rng = makeRng(seed);
  const centroids = new Float64Array(k * d);
  const first = rng.int(n);
  centroids.set(x.subarray(first * d, first * d + d), 0);
  let closest = new Float64Array(n);
  let pot = 0;
  for (let i = 0; i < n; i++) {
    closest[i] = sqDistRow(x, i * d, centroids, 0, d);
    pot += closest[i]!;
  }
  const trials = 2 + Math.floor(Math.log(k));
  const cumulative = new Float64Array(n);
  let candidateDist = new Float64Array(n);
  let bestDist = new Float64Array(n);
  for (let c = 1; c < k; c++) {
    let acc = 0;
    for (let i = 0; i < n; i++) {
      acc += closest[i]!;
      cumulative[i] = acc;
    }
    let bestCandidate = -1;
    let bestPot = Infinity;
    for (let t = 0; t < trials; t++) {
      // All rows on a centroid already (potential 0): any row is as good as another.
      const candidate = acc > 0 ? searchCumulative(cumulative, rng.next() * acc) : rng.int(n);
      const co = candidate * d;
      let candidatePot = 0;
      for (let i = 0; i < n; i++) {
        const s = sqDistRow(x, i * d, x, co, d);
        const m = s < closest[i]! ? s : closest[i]!;
        candidateDist[i] = m;
        candidatePot += m;
      }
      if (candidatePot < bestPot) {
        bestPot = candidatePot;
        bestCandidate = candidate;
        [bestDist, candidateDist] = [candidateDist, bestDist];
      }
    }
    centroids.set(x.subarray(bestCandidate * d, bestCandidate * d + d), c * d);
    [closest, bestDist] = [bestDist, closest];
    pot = bestPot;
  }
  return { rows: k, cols: d, data: centroids };
}

/**
 * Lloyd's k-means on X (n, d) from `init` (k, d), with ml-kmeans's exact semantics: each
 * iteration assigns every row to its nearest centroid (ties to the lowest id), moves each
 * centroid to the mean of its rows summed in row order (an empty one stays put), and stops once
 * no centroid moved more than `tolerance` (squared) or after `maxIterations`. Hamerly's bounds
 * skip the distances that cannot change an assignment; the skip test keeps a 1e-9 relative
 * margin so rounding in the bounds can never skip a row whose assignment would change.
 * Returns the final centroids (k, d) and the iterations run.
 */
export function lloyd(X: Matrix, init: Matrix, options: KMeansOptions): { centroids: Matrix; iterations: number; converged: boolean } {
  const { rows: n, cols: d } = X;
  const k = init.rows;
  if (init.cols !== d) throw new Error(`lloyd: start centroids have ${init.cols} columns, data has ${d}`);
  if (n === 0) return { centroids: { rows: k, cols: d, data: init.data.slice() }, iterations: 0, converged: true };
  const x = X.data;
  let centers = init.data.slice();
  let next = new Float64Array(k * d);
  const counts = new Float64Array(k);
  const labels = new Int32Array(n);
  const upper = new Float64Array(n);
  const lower = new Float64Array(n);
  const half = new Float64Array(k);
  const moved = new Float64Array(k);
  const dist = new Float64Array(k);
  const SLACK = 1 - 1e-9;
  let iterations = 0;
  let converged = false;
  while (!converged && iterations < options.maxIterations) {
    iterations++;
    if (iterations === 1) {
      for (let i = 0; i < n; i++) scanRow(x, i, d, centers, k, labels, upper, lower, dist);
    } else {
      halfSeparations(centers, k, d, half);
      for (let i = 0; i < n; i++) {
        const a = labels[i]!;
        const bound = half[a]! > lower[i]! ? half[a]! : lower[i]!;
        if (upper[i]! < bound * SLACK) continue;
        upper[i] = Math.sqrt(sqDistRow(x, i * d, centers, a * d, d));
        if (upper[i]! < bound * SLACK) continue;
        scanRow(x, i, d, centers, k, labels, upper, lower, dist);
      }
    }
    sumByLabel(x, n, d, labels, next, counts);
    converged = true;
    let maxMove = 0;
    let maxMoveId = -1;
    let secondMove = 0;
    for (let q = 0; q < k; q++) {
      const co = q * d;
      for (let j = 0; j < d; j++) next[co + j] = counts[q]! > 0 ? next[co + j]! / counts[q]! : centers[co + j]!;
      const sq = sqDistRow(next, co, centers, co, d);
      if (sq > options.tolerance) converged = false;
      const m = Math.sqrt(sq);
      moved[q] = m;
      if (m > maxMove) {
        secondMove = maxMove;
        maxMove = m;
        maxMoveId = q;
      } else if (m > secondMove) {
        secondMove = m;
      }
    }
    [centers, next] = [next, centers];
    if (!converged) {
      for (let i = 0; i < n; i++) {
        const a = labels[i]!;
        upper[i]! += moved[a]!;
        lower[i]! -= a === maxMoveId ? secondMove : maxMove;
      }
    }
  }
  return { centroids: { rows: k, cols: d, data: centers }, iterations, converged };
}

/**
 * One seeded k-means++ start on all rows of X (n, d): kmeansPlusPlus then lloyd, with labels,
 * sizes and inertia from nearestCentroids against the final centroids.
 */
export function fitKMeansOnce(X: Matrix, k: number, seed: number, options: KMeansOptions, restart = 0): KMeansFit {
  return lloydNoEmpty(X, kmeansPlusPlus(X, k, seed), options, restart);
}

/**
 * lloyd from `init` (k, d), then, while a centroid is left with no row, scikit-learn's remedy:
 * each empty centroid moves onto the row farthest from its own centroid (a different row for
 * each), and lloyd runs again from there. lloyd itself keeps ml-kmeans's semantics (an empty
 * centroid stays put) so it stays bit-exact with it; the repair only runs when a cluster is empty.
 * A row with distance 0 cannot seed anything, so fewer distinct rows than k still leave empties
 * (fitClusters refuses such data first). Each relocation lowers the inertia, so k rounds suffice.
 */
export function lloydNoEmpty(X: Matrix, init: Matrix, options: KMeansOptions, restart: number): KMeansFit {
  let { centroids, iterations } = lloyd(X, init, options);
  let fit = finishFit(X, centroids, iterations, restart);
  for (let round = 0; round < init.rows && fit.sizes.includes(0); round++) {
    const reseeded = reseedEmpty(X, fit);
    if (reseeded === null) break;
    const next = lloyd(X, reseeded, options);
    iterations += next.iterations;
    centroids = next.centroids;
    fit = finishFit(X, centroids, iterations, restart);
  }
  return fit;
}

/** Centroids (k, d) with every empty one moved onto the farthest row not yet used; null when no row lies off its centroid. */
function reseedEmpty(X: Matrix, fit: KMeansFit): Matrix | null {
  const d = X.cols;
  const { sqDistances } = nearestCentroids(X, fit.centroids);
  // Farthest first; ties by row order so the repair is deterministic.
  const order = Array.from({ length: X.rows }, (_, i) => i).sort((a, b) => sqDistances[b]! - sqDistances[a]! || a - b);
  const data = fit.centroids.data.slice();
  let next = 0;
  let moved = false;
  for (let q = 0; q < fit.centroids.rows; q++) {
    if (fit.sizes[q]! > 0) continue;
    const row = order[next++];
    if (row === undefined || !(sqDistances[row]! > 0)) break;
    data.set(X.data.subarray(row * d, row * d + d), q * d);
    moved = true;
  }
  return moved ? { rows: fit.centroids.rows, cols: d, data } : null;
}

/**
 * The lowest-inertia solution of `restarts` (or, within `restartBudgetRows`, more) seeded k-means++ starts on X (n, d); start r is seeded
 * with deriveSeed(seed, `restart-${r}`), ties keep the earliest start. Up to `restartSample` rows
 * (KMeansOptions) every start runs on all rows and this is exactly the best fitKMeansOnce; above
 * it the starts run on one seeded sample (deriveSeed(seed, 'restart-sample')), the best start by
 * sample inertia is then refined by lloyd on all rows, and `iterations` counts that refinement.
 */
export function fitKMeansBest(X: Matrix, k: number, restarts: number, seed: number, options: KMeansOptions): KMeansFit {
  if (!(Number.isInteger(restarts) && restarts >= 1)) throw new Error('fitKMeansBest: restarts must be at least 1');
  const sampleRows = options.restartSample ?? DEFAULT_RESTART_SAMPLE;
  const onSample = sampleRows > 0 && X.rows > sampleRows && sampleRows >= k;
  const data = onSample ? takeRows(X, sampleIndices(X.rows, sampleRows, makeRng(deriveSeed(seed, 'restart-sample')))) : X;
  let best: KMeansFit | null = null;
  const starts = Math.max(restarts, Math.min(options.maxRestarts ?? restarts, Math.floor((options.restartBudgetRows ?? 0) / data.rows)));
  for (let r = 0; r < starts; r++) {
    const fit = fitKMeansOnce(data, k, deriveSeed(seed, `restart-${r}`), options, r);
    if (best === null || fit.inertia < best.inertia) best = fit;
  }
  if (best === null) throw new Error('fitKMeansBest: restarts must be at least 1');
  if (!onSample) return best;
  return lloydNoEmpty(X, best.centroids, options, best.restart);
}

function finishFit(X: Matrix, centroids: Matrix, iterations: number, restart: number): KMeansFit {
  const { labels, sqDistances } = nearestCentroids(X, centroids);
  let inertia = 0;
  for (let i = 0; i < sqDistances.length; i++) inertia += sqDistances[i]!;
  return { centroids, labels, sizes: clusterSizes(labels, centroids.rows), inertia, iterations, restart };
}

/**
 * Per-label column sums of x (n, d) into sums (k, d) and row counts into counts (k), each sum
 * accumulated in row order, exactly as ml-kmeans's updateCenters adds them. Unrolled by four
 * columns (the order of additions into each sum is unchanged): ~1.7x faster here.
 */
function sumByLabel(x: Float64Array, n: number, d: number, labels: Int32Array, sums: Float64Array, counts: Float64Array): void {
  sums.fill(0);
  counts.fill(0);
  const d4 = d - (d % 4);
  for (let i = 0; i < n; i++) {
    const a = labels[i]!;
    counts[a]!++;
    const co = a * d;
    const xo = i * d;
    let j = 0;
    for (; j < d4; j += 4) {
      sums[co + j]! += x[xo + j]!;
      sums[co + j + 1]! += x[xo + j + 1]!;
      sums[co + j + 2]! += x[xo + j + 2]!;
      sums[co + j + 3]! += x[xo + j + 3]!;
    }
    for (; j < d; j++) sums[co + j]! += x[xo + j]!;
  }
}

/** Squared Euclidean distance between a[ao, ao + d) and b[bo, bo + d), summed in index order. */
function sqDistRow(a: Float64Array, ao: number, b: Float64Array, bo: number, d: number): number {
  let s = 0;
  for (let j = 0; j < d; j++) {
    const diff = a[ao + j]! - b[bo + j]!;
    s += diff * diff;
  }
  return s;
}

/** Full assignment of row i: nearest (ties to the lowest id), its distance and the second-nearest distance. */
function scanRow(
  x: Float64Array,
  i: number,
  d: number,
  centers: Float64Array,
  k: number,
  labels: Int32Array,
  upper: Float64Array,
  lower: Float64Array,
  dist: Float64Array,
): void {
  sqDistancesToRows(x, i * d, centers, 0, k, d, dist, 0);
  // ml-nearest-vector starts from Number.MAX_VALUE and keeps strict improvements.
  let best = 0;
  let bestD = Number.MAX_VALUE;
  let nextD = Infinity;
  for (let q = 0; q < k; q++) {
    const s = dist[q]!;
    if (s < bestD) {
      nextD = bestD;
      bestD = s;
      best = q;
    } else if (s < nextD) {
      nextD = s;
    }
  }
  labels[i] = best;
  upper[i] = Math.sqrt(bestD);
  lower[i] = k > 1 ? Math.sqrt(nextD) : Infinity;
}

/** half[q] = half the distance from centroid q to its nearest other centroid (Infinity when k = 1). */
function halfSeparations(centers: Float64Array, k: number, d: number, half: Float64Array): void {
  half.fill(Infinity);
  for (let a = 0; a < k; a++) {
    for (let b = a + 1; b < k; b++) {
      const h = 0.5 * Math.sqrt(sqDistRow(centers, a * d, centers, b * d, d));
      if (h < half[a]!) half[a] = h;
      if (h < half[b]!) half[b] = h;
    }
  }
}

/** The first index whose cumulative weight exceeds r (the last one if rounding leaves none). */
function searchCumulative(cumulative: Float64Array, r: number): number {
  let lo = 0;
  let hi = cumulative.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (cumulative[mid]! > r) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}
