import { DUPLICATE_OF, type FeatureTable } from './features.ts';

/**
 * Which feature columns carry no segmentation signal and are dropped at fit time, before
 * preprocessing (train only; score computes exactly the bundle's features):
 *
 * - `constant`: every customer with a value has the same value (missing values do not count:
 *   preprocessing imputes them with that value, so the column is constant in X);
 * - `near-constant`: fewer than NEAR_CONSTANT_SHARE of all customers have a value other than the
 *   most common one. After standardising, those few customers sit tens of standard deviations
 *   out and pull a segment of their own; a behaviour that 0.5% of the customers show or more
 *   (a module 3% of customers use) is a real signal and stays;
 * - `duplicate of <feature>`: equal, customer by customer and missing in the same places, to an
 *   earlier column that is kept (e.g. txn_count_all and txn_active_months when every customer
 *   bought once).
 */
export const NEAR_CONSTANT_SHARE = 0.005;

/** The table with its uninformative columns removed from X and added to `dropped` with the reason. */
export function dropUninformative(table: FeatureTable): FeatureTable {
  const { rows: n, cols: p, data } = table.X;
  const column = (j: number) => {
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = data[i * p + j]!;
    return out;
  };
  const dropped = [...table.dropped];
  const kept: { j: number; values: Float64Array; hash: number }[] = [];
  for (let j = 0; j < p; j++) {
    const name = table.featureNames[j]!;
    const values = column(j);
    const others = countOffMode(values);
    if (others === 0) dropped.push({ feature: name, reason: 'constant' });
    else if (others < NEAR_CONSTANT_SHARE * n) dropped.push({ feature: name, reason: 'near-constant' });
    else {
      const hash = hashColumn(values);
      const twin = kept.find((k) => k.hash === hash && sameColumn(k.values, values));
      if (twin) dropped.push({ feature: name, reason: `${DUPLICATE_OF}${table.featureNames[twin.j]}` });
      else kept.push({ j, values, hash });
    }
  }
  if (kept.length === p) return table;
  const q = kept.length;
  // Same kind of buffer as the input: score-threads shares a matrix between threads.
  const out = data.buffer instanceof SharedArrayBuffer ? new Float64Array(new SharedArrayBuffer(n * q * 8)) : new Float64Array(n * q);
  kept.forEach((k, c) => {
    for (let i = 0; i < n; i++) out[i * q + c] = k.values[i]!;
  });
  return { ...table, featureNames: kept.map((k) => table.featureNames[k.j]!), X: { rows: n, cols: q, data: out }, dropped };
}

/**
 * A scored batch's table with the training fit's drops (the bundle's `features.dropped`) as its
 * own, so that featureColumn reads a duplicate's twin at score as it did at train.
 */
export function withTrainedDrops(table: FeatureTable, trainedDropped: readonly { feature: string; reason: string }[]): FeatureTable {
  return { ...table, dropped: trainedDropped.filter((d) => !table.featureNames.includes(d.feature)).map((d) => ({ ...d })) };
}

/**
 * How many observed (non-NaN) values differ from the most common one, when that one is a
 * majority of the observed values; otherwise (no majority) the observed count, which is never
 * near-constant. Boyer–Moore majority vote: two passes, no allocation.
 */
export function countOffMode(values: Float64Array): number {
  let candidate = Number.NaN;
  let votes = 0;
  let observed = 0;
  for (const v of values) {
    if (Number.isNaN(v)) continue;
    observed++;
    if (votes === 0) {
      candidate = v;
      votes = 1;
    } else votes += v === candidate ? 1 : -1;
  }
  if (observed === 0) return 0;
  let same = 0;
  for (const v of values) if (v === candidate) same++;
  return 2 * same > observed ? observed - same : observed;
}

function hashColumn(values: Float64Array): number {
  // FNV-1a over each value's bytes, with one NaN and one zero, so that equal columns (sameColumn) hash alike.
  const one = new Float64Array(1);
  const bytes = new Uint8Array(one.buffer);
  let h = 0x811c9dc5;
  for (const v of values) {
    one[0] = Number.isNaN(v) ? Number.NaN : v === 0 ? 0 : v;
    for (let i = 0; i < 8; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193);
  }
  return h >>> 0;
}

function sameColumn(a: Float64Array, b: Float64Array): boolean {
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x !== y && !(Number.isNaN(x) && Number.isNaN(y))) return false;
  }
  return true;
}
