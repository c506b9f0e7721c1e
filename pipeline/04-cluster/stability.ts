/**
 * Bootstrap stability of a k-means segmentation, after Hennig's fpc::clusterboot (Hennig 2007,
 * "Cluster-wise assessment of cluster stability"): k-means is refitted on seeded bootstrap
 * resamples of a sample, every row of the sample is assigned to the nearest centroid of each
 * refit, and the refit partitions are compared with the reference one — as a whole (mean adjusted
 * Rand index, used to choose k) and per segment (mean Jaccard of the segment with its best-matching
 * refit cluster, used to flag segments that do not reproduce). Unlike clusterboot, which compares
 * only the rows drawn into each resample, every sample row is compared: nearest-centroid assignment
 * is how a segment is defined here, so it is also how a refit is read.
 */
import { takeRows, type Matrix } from '../core/matrix.ts';
import { deriveSeed, makeRng } from '../core/random.ts';
import { fitKMeansBest, nearestCentroids, type KMeansOptions } from './kmeans.ts';
import { adjustedRandIndex } from './metrics.ts';

/**
 * Refits k-means on `resamples` bootstrap resamples of S (m, d) and returns the labels of S's rows
 * under each refit's centroids: `resamples` arrays of shape (m). Resample b draws its m rows with
 * replacement from deriveSeed(seed, `resample-${b}`) and fits best-of-`restarts` k-means++ from
 * deriveSeed(seed, `fit-${b}`). `onRefit` is called after each refit (a progress feed).
 */
export function bootstrapLabelings(S: Matrix, k: number, resamples: number, restarts: number, seed: number, options: KMeansOptions, onRefit?: () => void): Int32Array[] {
  const m = S.rows;
  const out: Int32Array[] = [];
  for (let b = 0; b < resamples; b++) {
    const rng = makeRng(deriveSeed(seed, `resample-${b}`));
    const drawn = new Int32Array(m);
    for (let r = 0; r < m; r++) drawn[r] = rng.int(m);
    const resample = takeRows(S, drawn);
    const fit = fitKMeansBest(resample, k, restarts, deriveSeed(seed, `fit-${b}`), options);
    out.push(nearestCentroids(S, fit.centroids).labels);
    onRefit?.();
  }
  return out;
}

/** Mean adjusted Rand index between a reference labeling (m) and each bootstrap labeling (m); NaN when there are none. */
export function meanAri(reference: Int32Array, labelings: readonly Int32Array[]): number {
  if (labelings.length === 0) return Number.NaN;
  let total = 0;
  for (const labels of labelings) total += adjustedRandIndex(reference, labels);
  return total / labelings.length;
}

/**
 * Jaccard index of each cluster of `a` (ids in [0, ka)) with its best-matching cluster of `b` (ids
 * in [0, kb)) over the same m items: |A ∩ B| / |A ∪ B|, maximised over B. Shape (ka); NaN for a
 * cluster of `a` with no items.
 */
export function bestMatchJaccard(a: Int32Array, ka: number, b: Int32Array, kb: number): Float64Array {
  const m = a.length;
  if (b.length !== m) throw new Error(`bestMatchJaccard: labelings have ${m} and ${b.length} items`);
  const table = new Int32Array(ka * kb);
  const sizeA = new Int32Array(ka);
  const sizeB = new Int32Array(kb);
  for (let i = 0; i < m; i++) {
    table[a[i]! * kb + b[i]!]!++;
    sizeA[a[i]!]!++;
    sizeB[b[i]!]!++;
  }
  const out = new Float64Array(ka);
  for (let s = 0; s < ka; s++) {
    if (sizeA[s] === 0) {
      out[s] = Number.NaN;
      continue;
    }
    let best = 0;
    for (let t = 0; t < kb; t++) {
      const both = table[s * kb + t]!;
      const jaccard = both / (sizeA[s]! + sizeB[t]! - both);
      if (jaccard > best) best = jaccard;
    }
    out[s] = best;
  }
  return out;
}

/**
 * Per-segment stability: the mean over bootstrap labelings (each shape (m), k clusters) of each
 * reference segment's best-match Jaccard. Shape (k); NaN for a segment with no rows in the sample.
 */
export function segmentJaccard(reference: Int32Array, k: number, labelings: readonly Int32Array[]): number[] {
  const sums = new Float64Array(k);
  for (const labels of labelings) {
    const j = bestMatchJaccard(reference, k, labels, k);
    for (let s = 0; s < k; s++) sums[s]! += j[s]!;
  }
  return Array.from(sums, (v) => (labelings.length === 0 ? Number.NaN : v / labelings.length));
}
