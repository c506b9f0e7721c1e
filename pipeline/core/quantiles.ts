/**
 * Quantiles on typed arrays, shared by preprocess (clip bounds), cluster (novelty distance) and
 * anything else that needs numpy's default (linear, type 7) quantile.
 */

const identity = (x: number): number => x;

/**
 * Quantiles of `values` (numpy's default linear interpolation), the i-th taken after the
 * non-decreasing `transforms[i]` (identity by default). Selection, not a sort: O(n) per quantile.
 * Reorders `values`, which must hold no NaN.
 */
export function quantiles(values: Float64Array, qs: readonly number[], transforms: readonly ((x: number) => number)[] = []): number[] {
  const m = values.length;
  if (m === 0) return qs.map(() => NaN);
  const spots = qs.map((q) => {
    const h = (m - 1) * q;
    const lo = Math.floor(h);
    return { lo, hi: Math.min(lo + 1, m - 1), frac: h - lo };
  });
  const stats = orderStatistics(values, spots.flatMap((s) => [s.lo, s.hi]));
  return spots.map(({ lo, hi, frac }, i) => {
    const f = transforms[i] ?? identity;
    const a = f(stats.get(lo)!);
    const b = f(stats.get(hi)!);
    return a + frac * (b - a);
  });
}

/**
 * The values at the given 0-based ranks of ascending order, found by quickselect with a three-way
 * partition (feature columns hold long runs of equal values, such as zero shares). Reorders `values`.
 */
export function orderStatistics(values: Float64Array, ranks: readonly number[]): Map<number, number> {
  const wanted = [...new Set(ranks)].sort((a, b) => a - b);
  for (const r of wanted) {
    if (!(Number.isInteger(r) && r >= 0 && r < values.length)) throw new Error(`orderStatistics: rank ${r} outside [0, ${values.length})`);
  }
  const out = new Map<number, number>();
  selectRanks(values, 0, values.length - 1, wanted, 0, wanted.length, out);
  return out;
}

function selectRanks(a: Float64Array, lo: number, hi: number, ranks: number[], rFrom: number, rTo: number, out: Map<number, number>): void {
  while (rFrom < rTo) {
    if (hi - lo < 16) {
      a.subarray(lo, hi + 1).sort();
      for (let r = rFrom; r < rTo; r++) out.set(ranks[r]!, a[ranks[r]!]!);
      return;
    }
    const x = a[lo]!;
    const y = a[(lo + hi) >>> 1]!;
    const z = a[hi]!;
    // Median of three keeps sorted or reversed input from the quadratic worst case.
    const pivot = x < y ? (y < z ? y : x < z ? z : x) : x < z ? x : y < z ? z : y;
    let lt = lo;
    let i = lo;
    let gt = hi;
    while (i <= gt) {
      const v = a[i]!;
      if (v < pivot) {
        a[i] = a[lt]!;
        a[lt] = v;
        lt++;
        i++;
      } else if (v > pivot) {
        a[i] = a[gt]!;
        a[gt] = v;
        gt--;
      } else {
        i++;
      }
    }
    // Now [lo, lt) < pivot, [lt, gt] = pivot, (gt, hi] > pivot.
    let split = rFrom;
    while (split < rTo && ranks[split]! < lt) split++;
    let after = split;
    while (after < rTo && ranks[after]! <= gt) out.set(ranks[after++]!, pivot);
    selectRanks(a, lo, lt - 1, ranks, rFrom, split, out);
    lo = gt + 1;
    rFrom = after;
  }
}

/** The q-quantile of values (n >= 1), numpy's default linear interpolation; leaves `values` untouched. */
export function quantile(values: Float64Array, q: number): number {
  if (values.length === 0) throw new Error('quantile of no values');
  return quantiles(Float64Array.from(values), [q])[0]!;
}
