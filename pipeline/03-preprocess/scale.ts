/**
 * The scaling half of preprocess: impute → log1p skewed non-negative columns → clip tails →
 * standardise. `fitScale` learns the per-column constants and scales the training matrix in the
 * same pass; `makeRowScaler` replays them a row at a time. Both send every value through
 * `clipValue` and the same `(v - mean) / std`, so a fitted matrix equals a replayed one bit for bit.
 */
import { InputError } from '../core/errors.ts';
import { zeros, type Matrix } from '../core/matrix.ts';
import { quantiles } from '../core/quantiles.ts';

/** The learned scaling constants, one entry per feature: shape (p) each. */
export interface ScaleState {
  /** The feature columns in the order X must have. */
  featureNames: string[];
  /** Median of each column's observed (non-NaN) raw values; replaces NaN. 0 for a column with none. */
  medians: number[];
  /** Whether the column is log1p-transformed after imputation. */
  logTransform: boolean[];
  /** Clip bounds, in log1p space for log-transformed columns. */
  clipLow: number[];
  clipHigh: number[];
  /** Mean and population standard deviation after clipping (a constant column gets std 1). */
  means: number[];
  stds: number[];
}

/** The settings the scaling fit reads. */
export interface ScaleParams {
  /** Lower and upper quantile of each column's observed (post-log) values to clip at. */
  clipQuantiles: [number, number];
  /** A column with no negative values whose sample skewness exceeds this is log1p-transformed. */
  logSkewThreshold: number;
}

/** One column's constants, as fitColumn learns them. */
interface ColumnScale {
  median: number;
  useLog: boolean;
  low: number;
  high: number;
  mean: number;
  std: number;
}

/** Columns gathered from the row-major X per pass: one pass reads a block's bytes of every row once. */
const COLUMN_BLOCK = 8;

/**
 * Fits the scaling constants of X (n, p), NaN = missing, and returns them with the scaled matrix
 * (n, p). Works a block of columns at a time on contiguous copies: a strided pass per column would
 * read all of X once per feature.
 */
export function fitScale(X: Matrix, featureNames: readonly string[], params: ScaleParams): { scale: ScaleState; scaled: Matrix } {
  const { rows: n, cols: p } = X;
  const scale: ScaleState = { featureNames: [...featureNames], medians: [], logTransform: [], clipLow: [], clipHigh: [], means: [], stds: [] };
  const observedBuf = new Float64Array(n);
  const blockBufs = Array.from({ length: Math.min(COLUMN_BLOCK, p) }, () => new Float64Array(n));
  const scaled = zeros(n, p);
  const x = X.data;
  const z = scaled.data;
  for (let j0 = 0; j0 < p; j0 += COLUMN_BLOCK) {
    const width = Math.min(COLUMN_BLOCK, p - j0);
    for (let i = 0; i < n; i++) {
      const o = i * p + j0;
      for (let t = 0; t < width; t++) blockBufs[t]![i] = x[o + t]!;
    }
    for (let t = 0; t < width; t++) {
      const c = fitColumn(blockBufs[t]!, observedBuf, featureNames[j0 + t]!, params);
      scale.medians.push(c.median);
      scale.logTransform.push(c.useLog);
      scale.clipLow.push(c.low);
      scale.clipHigh.push(c.high);
      scale.means.push(c.mean);
      scale.stds.push(c.std);
    }
    for (let i = 0; i < n; i++) {
      const o = i * p + j0;
      for (let t = 0; t < width; t++) z[o + t] = blockBufs[t]![i]!;
    }
  }
  return { scale, scaled };
}

/**
 * Learns one column's constants and scales `column` (n) in place. `observedBuf` (n) is scratch
 * space for the column's non-NaN values.
 */
function fitColumn(column: Float64Array, observedBuf: Float64Array, name: string, params: ScaleParams): ColumnScale {
  const n = column.length;
  let m = 0;
  let minimum = Infinity;
  for (let i = 0; i < n; i++) {
    const v = column[i]!;
    if (Number.isNaN(v)) continue;
    if (!Number.isFinite(v)) {
      throw new InputError(`feature "${name}" has an infinite value (row ${i}); the feature stage must not produce one`);
    }
    if (v < minimum) minimum = v;
    observedBuf[m++] = v;
  }
  const observed = observedBuf.subarray(0, m);
  const useLog = m > 0 && minimum >= 0 && sampleSkewness(observed) > params.logSkewThreshold;
  // Quantiles use observed values only: imputed medians would pile up and narrow the tails. log1p
  // is monotone, so one selection serves the raw median and the post-log clip bounds.
  const [qLow, qHigh] = params.clipQuantiles;
  const toClipSpace = useLog ? Math.log1p : identity;
  const q = m > 0 ? quantiles(observed, [0.5, qLow, qHigh], [identity, toClipSpace, toClipSpace]) : [0, 0, 0];
  // `+ 0` turns -0 into 0, as a JSON round trip would, so a loaded state reproduces every bit.
  const median = q[0]! + 0;
  const low = q[1]! + 0;
  const high = q[2]! + 0;

  let sum = 0;
  for (let i = 0; i < n; i++) {
    const v = clipValue(column[i]!, median, useLog, low, high);
    column[i] = v;
    sum += v;
  }
  const mean = sum / n;
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (column[i]! - mean) ** 2;
  const spread = Math.sqrt(ss / n);
  const storedMean = mean + 0;
  // A constant column leaves rounding residue (~1e-17) in its std; dividing by that would blow noise up to ±1.
  const std = isNegligibleSpread(spread, mean) ? 1 : spread;
  for (let i = 0; i < n; i++) column[i] = (column[i]! - storedMean) / std;
  return { median, useLog, low, high, mean: storedMean, std };
}

/**
 * One raw value through imputation, the log choice and the clip bounds: what the mean and std are
 * taken over. The fit and the row scaler both call it, so they agree bit for bit.
 */
function clipValue(raw: number, median: number, useLog: boolean, low: number, high: number): number {
  let v = Number.isNaN(raw) ? median : raw;
  // A log column had no negatives in training; a negative at scoring time would clip to the
  // lower bound anyway, and flooring at 0 keeps log1p away from -Infinity and NaN.
  if (useLog) v = log1pFloored(v);
  return v < low ? low : v > high ? high : v;
}

/** The per-row transform of a fitted scale: row (p) of src at srcOffset -> dst at dstOffset. */
export type RowScaler = (src: Float64Array, srcOffset: number, dst: Float64Array, dstOffset: number) => void;

/** Copies the per-feature constants into typed arrays once and returns the per-row transform. */
export function makeRowScaler(state: ScaleState): RowScaler {
  const p = state.featureNames.length;
  const medians = Float64Array.from(state.medians);
  const useLog = Uint8Array.from(state.logTransform, (b) => (b ? 1 : 0));
  const low = Float64Array.from(state.clipLow);
  const high = Float64Array.from(state.clipHigh);
  const means = Float64Array.from(state.means);
  const stds = Float64Array.from(state.stds);
  return (src, srcOffset, dst, dstOffset) => {
    for (let j = 0; j < p; j++) {
      const v = clipValue(src[srcOffset + j]!, medians[j]!, useLog[j] === 1, low[j]!, high[j]!);
      dst[dstOffset + j] = (v - means[j]!) / stds[j]!;
    }
  };
}

/** Whole numbers below this take their log1p from a table (512 KiB, filled on first use). */
const LOG1P_TABLE_SIZE = 1 << 16;
let log1pTable: Float64Array | null = null;

/**
 * Math.log1p(max(v, 0)), bit for bit. Counts (events, days, users, transactions) are most of
 * the log-transformed values, and at 1M customers x 29 log columns Math.log1p alone costs half of
 * the scaling pass; a whole number below 65,536 reads the value Math.log1p gives for it from a table.
 */
function log1pFloored(v: number): number {
  if (!(v > 0)) return 0;
  if (v < LOG1P_TABLE_SIZE && (v | 0) === v) {
    log1pTable ??= Float64Array.from({ length: LOG1P_TABLE_SIZE }, (_, i) => Math.log1p(i));
    return log1pTable[v]!;
  }
  return Math.log1p(v);
}

const identity = (x: number): number => x;

/** Fisher-Pearson sample skewness g1 = m3 / m2^1.5 (scipy.stats.skew's default); 0 for a constant sample. */
export function sampleSkewness(values: ArrayLike<number>): number {
  const m = values.length;
  if (m === 0) return 0;
  let sum = 0;
  for (let i = 0; i < m; i++) sum += values[i]!;
  const mean = sum / m;
  let m2 = 0;
  let m3 = 0;
  for (let i = 0; i < m; i++) {
    const d = values[i]! - mean;
    m2 += d * d;
    m3 += d * d * d;
  }
  m2 /= m;
  m3 /= m;
  if (isNegligibleSpread(Math.sqrt(m2), mean)) return 0;
  return m3 / m2 ** 1.5;
}

/** Rejects a matrix whose column count is not the state's feature count. */
export function checkPreprocessColumns(state: Pick<ScaleState, 'featureNames'>, X: Matrix): void {
  if (X.cols !== state.featureNames.length) {
    throw new InputError(
      `preprocess state expects ${state.featureNames.length} feature columns (${state.featureNames.join(', ')}), got ${X.cols}`,
    );
  }
}

function isNegligibleSpread(spread: number, centre: number): boolean {
  return spread <= 1e-12 * Math.max(1, Math.abs(centre));
}
