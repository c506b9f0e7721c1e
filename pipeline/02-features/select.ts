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
  // Row-major passes over X, every column at once: at 1M × 44 a copy and a byte-wise hash per
  // column took 4.2 s, these passes about half a second.
  const offMode = countOffModeColumns(data, n, p);
  const hashes = hashColumns(data, n, p);
  const dropped = [...table.dropped];
  const kept: number[] = [];
  for (let j = 0; j < p; j++) {
    const name = table.featureNames[j]!;
    if (offMode[j] === 0) dropped.push({ feature: name, reason: 'constant' });
    else if (offMode[j]! < NEAR_CONSTANT_SHARE * n) dropped.push({ feature: name, reason: 'near-constant' });
    else {
      const twin = kept.find((k) => hashes[k] === hashes[j] && sameColumns(data, n, p, k, j));
      if (twin !== undefined) dropped.push({ feature: name, reason: `${DUPLICATE_OF}${table.featureNames[twin]}` });
      else kept.push(j);
    }
  }
  if (kept.length === p) return table;
  const q = kept.length;
  // Same kind of buffer as the input: score-threads shares a matrix between threads.
  const out = data.buffer instanceof SharedArrayBuffer ? new Float64Array(new SharedArrayBuffer(n * q * 8)) : new Float64Array(n * q);
  for (let i = 0; i < n; i++) for (let c = 0; c < q; c++) out[i * q + c] = data[i * p + kept[c]!]!;
  return { ...table, featureNames: kept.map((j) => table.featureNames[j]!), X: { rows: n, cols: q, data: out }, dropped };
}

/** countOffMode of every column of X (n, p), row-major: the majority vote, then its count; shape (p). */
function countOffModeColumns(data: Float64Array, n: number, p: number): Float64Array {
  const candidate = new Float64Array(p).fill(Number.NaN);
  const votes = new Float64Array(p);
  const observed = new Float64Array(p);
  for (let i = 0; i < n; i++) {
    const row = i * p;
    for (let j = 0; j < p; j++) {
      const v = data[row + j]!;
      if (v !== v) continue;
      observed[j] = observed[j]! + 1;
      if (votes[j] === 0) {
        candidate[j] = v;
        votes[j] = 1;
      } else votes[j] = votes[j]! + (v === candidate[j] ? 1 : -1);
    }
  }
  const same = new Float64Array(p);
  for (let i = 0; i < n; i++) {
    const row = i * p;
    for (let j = 0; j < p; j++) if (data[row + j] === candidate[j]) same[j] = same[j]! + 1;
  }
  const out = new Float64Array(p);
  for (let j = 0; j < p; j++) out[j] = observed[j] === 0 ? 0 : 2 * same[j]! > observed[j]! ? observed[j]! - same[j]! : observed[j]!;
  return out;
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
 * near-constant. Boyer–Moore majority vote, two passes (countOffModeColumns with one column).
 */
export function countOffMode(values: Float64Array): number {
  return countOffModeColumns(values, values.length, 1)[0]!;
}

/**
 * A hash per column of X (n, p), so that equal columns (sameColumns) hash alike: FNV-1a over the
 * two 32-bit halves of each value, with every NaN and -0 read as one NaN and 0.
 */
function hashColumns(data: Float64Array, n: number, p: number): Uint32Array {
  const halves = new Int32Array(data.buffer, data.byteOffset, n * p * 2);
  const canonical = new Float64Array(2);
  const canonicalHalves = new Int32Array(canonical.buffer);
  canonical[0] = Number.NaN;
  canonical[1] = 0;
  const h = new Uint32Array(p).fill(0x811c9dc5);
  for (let i = 0; i < n; i++) {
    const row = i * p;
    for (let j = 0; j < p; j++) {
      const v = data[row + j]!;
      const k = v !== v ? 0 : v === 0 ? 2 : -1;
      const lo = k < 0 ? halves[2 * (row + j)]! : canonicalHalves[k]!;
      const hi = k < 0 ? halves[2 * (row + j) + 1]! : canonicalHalves[k + 1]!;
      h[j] = Math.imul(Math.imul(h[j]! ^ lo, 0x01000193) ^ hi, 0x01000193);
    }
  }
  return h;
}

/** Columns a and b of X (n, p) are equal, row by row, NaN equal to NaN. */
function sameColumns(data: Float64Array, n: number, p: number, a: number, b: number): boolean {
  for (let i = 0; i < n; i++) {
    const x = data[i * p + a]!;
    const y = data[i * p + b]!;
    if (x !== y && !(x !== x && y !== y)) return false;
  }
  return true;
}
