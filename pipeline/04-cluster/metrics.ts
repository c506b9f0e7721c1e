/**
 * Clustering quality metrics on typed arrays, following scikit-learn's definitions and edge cases
 * (silhouette_score, calinski_harabasz_score, davies_bouldin_score, adjusted_rand_score).
 * Labels are ids in [0, k); an id with no rows is ignored, as scikit-learn only sees labels present.
 */
import type { Matrix } from '../core/matrix.ts';
import { sqDistancesToRows } from '../core/matrix.ts';

/**
 * Exact mean silhouette (Euclidean) of X (n, d) under labels (n): O(n^2 d), meant for samples.
 * A row alone in its cluster scores 0. NaN when fewer than 2 or more than n - 1 clusters are non-empty.
 */
export function silhouetteScore(X: Matrix, labels: Int32Array, k: number): number {
  return silhouetteScores(X, [labels], [k])[0]!;
}

/**
 * Mean silhouettes of several labelings (each shape (n)) of the same X (n, d), computing each
 * pairwise distance once for all of them: k selection scores every candidate k on one sample.
 *
 * The distances from row i to the rows after it are computed four at a time (four independent
 * sums the CPU overlaps, each still summed over columns in order, so every distance is
 * bit-identical to a one-pair-at-a-time loop) and credited to both ends in the same order as
 * silhouetteScoresReference, so the two return equal numbers; ~1.8x faster on the distances
 * here (docs/performance.md).
 */
export function silhouetteScores(X: Matrix, labelings: readonly Int32Array[], ks: readonly number[]): number[] {
  const n = X.rows;
  const L = labelings.length;
  if (ks.length !== L) throw new Error(`silhouetteScores: ${L} labelings but ${ks.length} cluster counts`);
  const counts = labelings.map((labels, l) => countLabels(labels, n, ks[l]!));
  const valid = counts.map((c) => hasValidClusterCount(c, n));
  // sums[l][i * k + c] = total distance from row i to the rows of cluster c under labeling l.
  const sums = labelings.map((_, l) => new Float64Array(n * ks[l]!));
  const dist = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    distancesAfterRow(X, i, dist);
    for (let l = 0; l < L; l++) {
      if (!valid[l]) continue;
      const labels = labelings[l]!;
      const k = ks[l]!;
      const acc = sums[l]!;
      const li = labels[i]!;
      const rowBase = i * k;
      for (let j = i + 1; j < n; j++) {
        const dj = dist[j]!;
        acc[rowBase + labels[j]!]! += dj;
        acc[j * k + li]! += dj;
      }
    }
  }
  return labelings.map((labels, l) => {
    if (!valid[l]) return NaN;
    const k = ks[l]!;
    let total = 0;
    for (let i = 0; i < n; i++) total += rowSilhouette(sums[l]!.subarray(i * k, (i + 1) * k), counts[l]!, labels[i]!);
    return total / n;
  });
}

/**
 * The straightforward mean silhouettes that silhouetteScores must equal: each pair's distance
 * computed once and credited to both ends. O(n^2 d) and latency-bound; kept as the reference
 * the fast path is tested against.
 */
export function silhouetteScoresReference(X: Matrix, labelings: readonly Int32Array[], ks: readonly number[]): number[] {
  const n = X.rows;
  const d = X.cols;
  const L = labelings.length;
  if (ks.length !== L) throw new Error(`silhouetteScores: ${L} labelings but ${ks.length} cluster counts`);
  const counts = labelings.map((labels, l) => countLabels(labels, n, ks[l]!));
  const valid = counts.map((c) => hasValidClusterCount(c, n));
  // sums[l][i * k + c] = total distance from row i to the rows of cluster c under labeling l.
  const sums = labelings.map((_, l) => new Float64Array(n * ks[l]!));
  const x = X.data;
  const dist = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const io = i * d;
    for (let j = i + 1; j < n; j++) {
      const jo = j * d;
      let s = 0;
      for (let t = 0; t < d; t++) {
        const diff = x[io + t]! - x[jo + t]!;
        s += diff * diff;
      }
      dist[j] = Math.sqrt(s);
    }
    for (let l = 0; l < L; l++) {
      const labels = labelings[l]!;
      const k = ks[l]!;
      const acc = sums[l]!;
      const li = labels[i]!;
      const rowBase = i * k;
      for (let j = i + 1; j < n; j++) {
        const dj = dist[j]!;
        acc[rowBase + labels[j]!]! += dj;
        acc[j * k + li]! += dj;
      }
    }
  }
  return labelings.map((labels, l) => {
    if (!valid[l]) return NaN;
    const k = ks[l]!;
    let total = 0;
    for (let i = 0; i < n; i++) total += rowSilhouette(sums[l]!.subarray(i * k, (i + 1) * k), counts[l]!, labels[i]!);
    return total / n;
  });
}

/** Silhouette of one row from its total distance to each cluster (k); 0 alone in its cluster. */
function rowSilhouette(acc: Float64Array, count: Int32Array, own: number): number {
  if (count[own]! <= 1) return 0;
  const a = acc[own]! / (count[own]! - 1);
  let b = Infinity;
  for (let c = 0; c < count.length; c++) {
    if (c === own || count[c] === 0) continue;
    b = Math.min(b, acc[c]! / count[c]!);
  }
  const scale = Math.max(a, b);
  // Duplicated points give a = b = 0; scikit-learn scores them 0.
  return scale > 0 ? (b - a) / scale : 0;
}

/** dist[j] = Euclidean distance from row i of X to row j, for j > i. */
function distancesAfterRow(X: Matrix, i: number, dist: Float64Array): void {
  const { rows: n, cols: d, data: x } = X;
  // (v - x_j)^2 equals (x_j - v)^2 bit for bit, so the pair's order does not matter.
  sqDistancesToRows(x, i * d, x, i + 1, n - i - 1, d, dist, i + 1);
  for (let j = i + 1; j < n; j++) dist[j] = Math.sqrt(dist[j]!);
}

/**
 * Calinski-Harabasz index of X (n, d) under labels (n): between- over within-cluster dispersion,
 * each per degree of freedom. 1 when the within dispersion is 0; NaN for fewer than 2 or more than n - 1 clusters.
 */
export function calinskiHarabasz(X: Matrix, labels: Int32Array, k: number): number {
  const n = X.rows;
  const counts = countLabels(labels, n, k);
  if (!hasValidClusterCount(counts, n)) return NaN;
  const used = nonEmpty(counts);
  const means = clusterMeans(X, labels, counts, k);
  const d = X.cols;
  const overall = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let t = 0; t < d; t++) overall[t]! += X.data[i * d + t]!;
  for (let t = 0; t < d; t++) overall[t]! /= n;
  let between = 0;
  for (let c = 0; c < k; c++) {
    if (counts[c] === 0) continue;
    let s = 0;
    for (let t = 0; t < d; t++) s += (means[c * d + t]! - overall[t]!) ** 2;
    between += counts[c]! * s;
  }
  const within = inertiaOf(X, labels, means);
  if (within === 0) return 1;
  return (between * (n - used)) / (within * (used - 1));
}

/**
 * Davies-Bouldin index of X (n, d) under labels (n): mean over clusters of the worst ratio of summed
 * spreads to centroid separation (lower is better). NaN for fewer than 2 or more than n - 1 clusters.
 */
export function daviesBouldin(X: Matrix, labels: Int32Array, k: number): number {
  const n = X.rows;
  const d = X.cols;
  const counts = countLabels(labels, n, k);
  if (!hasValidClusterCount(counts, n)) return NaN;
  const means = clusterMeans(X, labels, counts, k);
  const spread = new Float64Array(k);
  for (let i = 0; i < n; i++) {
    const c = labels[i]!;
    let s = 0;
    for (let t = 0; t < d; t++) s += (X.data[i * d + t]! - means[c * d + t]!) ** 2;
    spread[c]! += Math.sqrt(s);
  }
  const ids: number[] = [];
  for (let c = 0; c < k; c++) {
    if (counts[c] === 0) continue;
    spread[c]! /= counts[c]!;
    ids.push(c);
  }
  const separation = (a: number, b: number): number => {
    let s = 0;
    for (let t = 0; t < d; t++) s += (means[a * d + t]! - means[b * d + t]!) ** 2;
    return Math.sqrt(s);
  };
  // scikit-learn's np.allclose(…, 0) shortcuts: all spreads or all separations ~0 give 0.
  const tiny = 1e-8;
  if (ids.every((c) => spread[c]! <= tiny)) return 0;
  if (ids.every((a) => ids.every((b) => separation(a, b) <= tiny))) return 0;
  let total = 0;
  for (const a of ids) {
    let worst = 0;
    for (const b of ids) {
      if (a === b) continue;
      const sep = separation(a, b);
      // Coincident centroids count as infinitely separated, as in scikit-learn.
      if (sep === 0) continue;
      worst = Math.max(worst, (spread[a]! + spread[b]!) / sep);
    }
    total += worst;
  }
  return total / ids.length;
}

/** Sum of squared Euclidean distances of the rows of X (n, d) to their centroid (k, d) under labels (n). */
export function inertia(X: Matrix, labels: Int32Array, centroids: Matrix): number {
  if (labels.length !== X.rows) throw new Error(`inertia: ${labels.length} labels for ${X.rows} rows`);
  if (centroids.cols !== X.cols) throw new Error(`inertia: centroids have ${centroids.cols} columns, data has ${X.cols}`);
  for (let i = 0; i < labels.length; i++) {
    if (!(labels[i]! >= 0 && labels[i]! < centroids.rows)) throw new Error(`inertia: label ${labels[i]} at row ${i} has no centroid`);
  }
  return inertiaOf(X, labels, centroids.data);
}

/**
 * Adjusted Rand index (Hubert-Arabie) between two labelings of the same n items, via their
 * contingency table. Label ids are any numbers (only equality matters). 1 for identical
 * partitions, ~0 for independent ones; 1 in scikit-learn's degenerate cases (n < 2, or both
 * labelings all-one-cluster or all-singletons).
 */
export function adjustedRandIndex(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  if (b.length !== n) throw new Error(`adjustedRandIndex: labelings have ${n} and ${b.length} items`);
  const ia = denseIds(a, 'first');
  const ib = denseIds(b, 'second');
  const aCounts = new Float64Array(ia.count);
  const bCounts = new Float64Array(ib.count);
  // Sparse contingency table: a dense ra x rb table could be huge when ids are nearly unique.
  const cells = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    const x = ia.ids[i]!;
    const y = ib.ids[i]!;
    aCounts[x]!++;
    bCounts[y]!++;
    const key = x * ib.count + y;
    cells.set(key, (cells.get(key) ?? 0) + 1);
  }
  const pairs = (m: number): number => (m * (m - 1)) / 2;
  let index = 0;
  for (const m of cells.values()) index += pairs(m);
  let sumA = 0;
  for (const m of aCounts) sumA += pairs(m);
  let sumB = 0;
  for (const m of bCounts) sumB += pairs(m);
  const totalPairs = pairs(n);
  // The denominator below is 0 exactly in these cases; test them on the exact integer pair counts.
  if (sumA === sumB && (sumA === 0 || sumA === totalPairs)) return 1;
  const expected = (sumA * sumB) / totalPairs;
  const maxIndex = (sumA + sumB) / 2;
  return (index - expected) / (maxIndex - expected);
}

function countLabels(labels: Int32Array, n: number, k: number): Int32Array {
  if (labels.length !== n) throw new Error(`${labels.length} labels for ${n} rows`);
  const counts = new Int32Array(k);
  for (let i = 0; i < n; i++) {
    const c = labels[i]!;
    if (!(c >= 0 && c < k)) throw new Error(`label ${c} at row ${i} is outside [0, ${k})`);
    counts[c]!++;
  }
  return counts;
}

function nonEmpty(counts: Int32Array): number {
  let used = 0;
  for (const c of counts) if (c > 0) used++;
  return used;
}

/** scikit-learn refuses these metrics outside 2 <= clusters <= n - 1; we return NaN instead of throwing. */
function hasValidClusterCount(counts: Int32Array, n: number): boolean {
  const used = nonEmpty(counts);
  return used >= 2 && used <= n - 1;
}

/** Per-cluster means, row-major (k, d); rows of empty clusters stay 0. */
function clusterMeans(X: Matrix, labels: Int32Array, counts: Int32Array, k: number): Float64Array {
  const d = X.cols;
  const means = new Float64Array(k * d);
  for (let i = 0; i < X.rows; i++) {
    const co = labels[i]! * d;
    for (let t = 0; t < d; t++) means[co + t]! += X.data[i * d + t]!;
  }
  for (let c = 0; c < k; c++) {
    if (counts[c] === 0) continue;
    for (let t = 0; t < d; t++) means[c * d + t]! /= counts[c]!;
  }
  return means;
}

function inertiaOf(X: Matrix, labels: Int32Array, centroids: Float64Array): number {
  const d = X.cols;
  let total = 0;
  for (let i = 0; i < X.rows; i++) {
    const co = labels[i]! * d;
    // Per-row sums first, the order nearestCentroids uses, so fitted inertia is reproduced exactly.
    let s = 0;
    for (let t = 0; t < d; t++) {
      const diff = X.data[i * d + t]! - centroids[co + t]!;
      s += diff * diff;
    }
    total += s;
  }
  return total;
}

function denseIds(labels: ArrayLike<number>, which: string): { ids: Int32Array; count: number } {
  const index = new Map<number, number>();
  const ids = new Int32Array(labels.length);
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i]!;
    if (Number.isNaN(label)) throw new Error(`adjustedRandIndex: ${which} labeling has NaN at item ${i}`);
    let id = index.get(label);
    if (id === undefined) {
      id = index.size;
      index.set(label, id);
    }
    ids[i] = id;
  }
  return { ids, count: index.size };
}
