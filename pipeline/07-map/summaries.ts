import type { Matrix } from '../core/matrix.ts';

/**
 * Per-segment summaries of the features behaviour facts read: medians, means, zero and lapsed
 * shares over the segment and over the whole base, in one row-major pass.
 */

/** One feature over one segment and over the whole base; NaN where no customer has a value. */
export interface FeatureSummary {
  median: number;
  mean: number;
  /** Share of customers (with a value) at 0. */
  zeroShare: number;
  /** Share of customers (with a value) at or above `lapseDays` (meaningful for recency features). */
  lapsedShare: number;
  baseMedian: number;
  baseMean: number;
  /** (segment mean − rest mean) / pooled sd, from the card's distinguishing computation. */
  standardisedDifference: number;
}

/** The features the facts read, in the order a catalog without the newer ones falls back along. */
export const EVIDENCE_FEATURES = [
  'recency_days', 'txn_recency_days', 'tenure_days', 'txn_tenure_days', 'usage_trend', 'volume_trend',
  'txn_count_all', 'txn_active_months', 'txn_count_90', 'txn_avg_basket', 'txn_avg_size', 'txn_volume_all', 'txn_volume_90',
  'events_90', 'active_days_90', 'module_breadth_90', 'device_mobile_share', 'device_api_share', 'device_desktop_share',
  'currencies_90', 'foreign_share', 'refund_share', 'small_ticket_share',
] as const;

/** The k-th smallest of xs[lo..hi] (0-based k), partially reordering xs in place: quickselect, median-of-three pivot. */
function select(xs: Float64Array, k: number): number {
  let lo = 0;
  let hi = xs.length - 1;
  while (hi > lo) {
    const mid = (lo + hi) >> 1;
    const a = xs[lo]!;
    const b = xs[mid]!;
    const c = xs[hi]!;
    const pivot = a < b ? (b < c ? b : a < c ? c : a) : a < c ? a : b < c ? c : b;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (xs[i]! < pivot) i++;
      while (xs[j]! > pivot) j--;
      if (i <= j) {
        const t = xs[i]!;
        xs[i++] = xs[j]!;
        xs[j--] = t;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return xs[k]!;
  }
  return xs[k]!;
}

/** Median of `xs` (no NaN), reordering it in place; NaN when empty. Linear time: a full sort cost 17 s over 37 features at 1M customers. */
export function medianOf(xs: Float64Array): number {
  if (xs.length === 0) return Number.NaN;
  const h = xs.length >> 1;
  const upper = select(xs, h);
  if (xs.length % 2) return upper;
  // After selecting h, everything left of h is ≤ xs[h]: the lower middle is their maximum.
  let lower = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < h; i++) if (xs[i]! > lower) lower = xs[i]!;
  return (lower + upper) / 2;
}

/** Medians are taken over at most about this many customers (every ⌈n / cap⌉-th row); means and shares over all. */
export const MEDIAN_SAMPLE_CAP = 200_000;

/**
 * Per segment, the summary of each evidence feature and module share present in `featureNames`:
 * means, zero and lapsed shares over all customers; medians (evidence features only: module
 * shares are read by their means) by linear-time selection over every ⌈n / MEDIAN_SAMPLE_CAP⌉-th
 * row, so exact up to that many customers. Shape: [segment] → feature → summary.
 */
export function segmentSummaries(
  features: Matrix,
  featureNames: readonly string[],
  labels: Int32Array,
  k: number,
  differences: readonly (readonly { standardisedDifference: number }[])[],
  lapseDays: number,
): Record<string, FeatureSummary>[] {
  const { rows: n, cols: p, data } = features;
  const out: Record<string, FeatureSummary>[] = Array.from({ length: k }, () => ({}));
  const wanted = featureNames.map((f, j) => ({ f, j, median: (EVIDENCE_FEATURES as readonly string[]).includes(f) })).filter((w) => w.median || w.f.startsWith('share_'));
  const stride = Math.max(1, Math.ceil(n / MEDIAN_SAMPLE_CAP));
  const sampled = new Int32Array(k);
  for (let i = 0; i < n; i += stride) sampled[labels[i]!]!++;
  const start = new Int32Array(k + 1);
  for (let s = 0; s < k; s++) start[s + 1] = start[s]! + sampled[s]!;
  const w = wanted.length;
  const buffers = wanted.map((x) => (x.median ? new Float64Array(start[k]!) : null));
  const fill = new Int32Array(k * w);
  const acc = new Float64Array(k * w * 4); // per segment and feature: count, sum, zeros, lapsed
  const cols = Int32Array.from(wanted, (x) => x.j);
  // One row-major pass for every feature: a pass per column strides through the matrix (8 s at 1M × 37 against 0.9 s).
  for (let i = 0; i < n; i++) {
    const s = labels[i]!;
    const row = i * p;
    const inSample = i % stride === 0;
    for (let q = 0; q < w; q++) {
      const x = data[row + cols[q]!]!;
      if (!Number.isFinite(x)) continue;
      const a = (s * w + q) * 4;
      acc[a]!++;
      acc[a + 1]! += x;
      if (x === 0) acc[a + 2]!++;
      if (x >= lapseDays) acc[a + 3]!++;
      const b = buffers[q];
      if (inSample && b) b[start[s]! + fill[s * w + q]!++] = x;
    }
  }
  wanted.forEach(({ f, j }, q) => {
    let count = 0;
    let sum = 0;
    for (let s = 0; s < k; s++) {
      count += acc[(s * w + q) * 4]!;
      sum += acc[(s * w + q) * 4 + 1]!;
    }
    const b = buffers[q];
    const segments = b ? Array.from({ length: k }, (_, s) => b.subarray(start[s]!, start[s]! + fill[s * w + q]!)) : [];
    const medians = segments.map((xs) => medianOf(Float64Array.from(xs)));
    let baseMedian = Number.NaN;
    if (b) {
      const all = new Float64Array(segments.reduce((c, xs) => c + xs.length, 0));
      let at = 0;
      for (const xs of segments) {
        all.set(xs, at);
        at += xs.length;
      }
      baseMedian = medianOf(all);
    }
    for (let s = 0; s < k; s++) {
      const a = (s * w + q) * 4;
      const m = acc[a]!;
      out[s]![f] = {
        median: b ? medians[s]! : Number.NaN,
        mean: m ? acc[a + 1]! / m : Number.NaN,
        zeroShare: m ? acc[a + 2]! / m : Number.NaN,
        lapsedShare: m ? acc[a + 3]! / m : Number.NaN,
        baseMedian,
        baseMean: count ? sum / count : Number.NaN,
        standardisedDifference: effect(differences[s]?.[j]?.standardisedDifference ?? Number.NaN, m ? acc[a + 1]! / m : Number.NaN, count ? sum / count : Number.NaN),
      };
    }
  });
  return out;
}

/** A difference of means with no spread on either side (sd 0) separates the segment perfectly: the largest finite effect (JSON-safe), not 0. */
function effect(d: number, mean: number, baseMean: number): number {
  if (d === Number.POSITIVE_INFINITY || d === Number.NEGATIVE_INFINITY) return d > 0 ? Number.MAX_VALUE : -Number.MAX_VALUE;
  // Sums in a different order leave equal means a rounding error apart.
  if (d !== 0 || !(Math.abs(mean - baseMean) > 1e-9 * Math.max(1, Math.abs(baseMean)))) return d;
  return mean > baseMean ? Number.MAX_VALUE : -Number.MAX_VALUE;
}

