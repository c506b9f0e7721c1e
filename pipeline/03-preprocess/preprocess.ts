/**
 * Preprocess stage: impute → log1p skewed non-negative columns → clip tails → standardise → PCA.
 * `fitPreprocess` learns every number from the training features and returns them as plain
 * JSON; `applyScale` / `applyPreprocess` replay them, so training and scoring share one path.
 */
import { InputError } from '../core/errors.ts';
import { zeros, type Matrix } from '../core/matrix.ts';
import { CovarianceAccumulator, fitPcaBasis, type PcaBasis } from './pca.ts';

export interface PreprocessParams {
  /** Lower and upper quantile of each column's observed (post-log) values to clip at. Default [0.005, 0.995]. */
  clipQuantiles: [number, number];
  /** A column with no negative values whose sample skewness (Fisher-Pearson g1) exceeds this is log1p-transformed. Default 1. */
  logSkewThreshold: number;
  /** Keep the fewest principal components whose cumulative explained variance reaches this share. Default 0.9. */
  pcaVarianceTarget: number;
  /** Upper bound on the components kept (at least 2 are always kept when there are 2 features). Default 16. */
  maxComponents: number;
}

export const defaultPreprocessParams: PreprocessParams = {
  clipQuantiles: [0.005, 0.995],
  logSkewThreshold: 1,
  pcaVarianceTarget: 0.9,
  maxComponents: 16,
};

/** Learned preprocessing; every array except `pca` has one entry per feature, shape (p). */
export interface PreprocessState {
  kind: 'finseg.preprocess';
  version: 1;
  /** The feature columns in the order X must have, shape (p). */
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
  /** PCA of the standardised training data; components shape (nComponents, p). */
  pca: PcaBasis;
}

export const PREPROCESS_KIND = 'finseg.preprocess';
export const PREPROCESS_VERSION = 1;

/**
 * Fits imputation (median of non-NaN), log1p choice, clip bounds (quantiles, computed after log),
 * standardisation (mean/std after clip; std 0 -> 1) and PCA on the covariance matrix of the
 * standardised data. X: (n, p), NaN = missing; ±Infinity is rejected.
 */
export function fitPreprocess(X: Matrix, featureNames: readonly string[], params: PreprocessParams): PreprocessState {
  validateParams(params);
  const { rows: n, cols: p } = X;
  if (featureNames.length !== p) {
    throw new Error(`fitPreprocess: ${featureNames.length} feature names for a matrix of ${p} columns`);
  }
  if (n === 0) throw new InputError('cannot fit preprocessing on 0 customers');
  const [qLow, qHigh] = params.clipQuantiles;

  const medians: number[] = [];
  const logTransform: boolean[] = [];
  const clipLow: number[] = [];
  const clipHigh: number[] = [];
  const means: number[] = [];
  const stds: number[] = [];
  const observedBuf = new Float64Array(n);
  const columnBuf = new Float64Array(n);

  for (let j = 0; j < p; j++) {
    let m = 0;
    for (let i = 0; i < n; i++) {
      const v = X.data[i * p + j]!;
      if (Number.isNaN(v)) continue;
      if (!Number.isFinite(v)) {
        throw new InputError(`feature "${featureNames[j]}" has an infinite value (row ${i}); the feature stage must not produce one`);
      }
      observedBuf[m++] = v;
    }
    const observed = observedBuf.subarray(0, m);
    let minimum = Infinity;
    for (let i = 0; i < m; i++) if (observed[i]! < minimum) minimum = observed[i]!;
    const useLog = m > 0 && minimum >= 0 && sampleSkewness(observed) > params.logSkewThreshold;
    // Quantiles use observed values only: imputed medians would pile up and narrow the tails. log1p
    // is monotone, so one selection serves the raw median and the post-log clip bounds.
    const toClipSpace = useLog ? Math.log1p : identity;
    const q = m > 0 ? quantiles(observed, [0.5, qLow, qHigh], [identity, toClipSpace, toClipSpace]) : [0, 0, 0];
    const median = q[0]!;
    const low = q[1]!;
    const high = q[2]!;

    // The same steps, in the same order, as makeRowScaler: mean and std describe exactly what applyScale sees.
    let sum = 0;
    for (let i = 0; i < n; i++) {
      let v = X.data[i * p + j]!;
      if (Number.isNaN(v)) v = median;
      if (useLog) v = Math.log1p(v > 0 ? v : 0);
      v = v < low ? low : v > high ? high : v;
      columnBuf[i] = v;
      sum += v;
    }
    const mean = sum / n;
    let ss = 0;
    for (let i = 0; i < n; i++) ss += (columnBuf[i]! - mean) ** 2;
    const std = Math.sqrt(ss / n);

    // `+ 0` turns -0 into 0, as a JSON round trip would, so a loaded state reproduces every bit.
    medians.push(median + 0);
    logTransform.push(useLog);
    clipLow.push(low + 0);
    clipHigh.push(high + 0);
    means.push(mean + 0);
    // A constant column leaves rounding residue (~1e-17) in its std; dividing by that would blow noise up to ±1.
    stds.push(isNegligibleSpread(std, mean) ? 1 : std);
  }

  const scaleState = { featureNames: [...featureNames], medians, logTransform, clipLow, clipHigh, means, stds };
  const scaleRow = makeRowScaler(scaleState);
  const cov = new CovarianceAccumulator(p);
  const z = new Float64Array(p);
  for (let i = 0; i < n; i++) {
    scaleRow(X.data, i * p, z, 0);
    cov.add(z);
  }
  const pca = fitPcaBasis(cov.covariance(), params.pcaVarianceTarget, params.maxComponents);
  return { kind: PREPROCESS_KIND, version: PREPROCESS_VERSION, ...scaleState, pca };
}

/** Imputes, log-transforms, clips and standardises: (n, p) -> (n, p). */
export function applyScale(state: PreprocessState, X: Matrix): Matrix {
  checkColumns(state, X);
  const p = X.cols;
  const out = zeros(X.rows, p);
  const scaleRow = makeRowScaler(state);
  for (let i = 0; i < X.rows; i++) scaleRow(X.data, i * p, out.data, i * p);
  return out;
}

/** applyScale then projects on the PCA basis: (n, p) -> (n, nComponents). */
export function applyPreprocess(state: PreprocessState, X: Matrix): Matrix {
  checkColumns(state, X);
  const p = X.cols;
  const nc = state.pca.nComponents;
  const basis = new Float64Array(nc * p);
  state.pca.components.forEach((row, c) => basis.set(row, c * p));
  const scaleRow = makeRowScaler(state);
  const out = zeros(X.rows, nc);
  // Row by row through a scratch buffer: the (n, p) scaled matrix is never materialised.
  const z = new Float64Array(p);
  for (let i = 0; i < X.rows; i++) {
    scaleRow(X.data, i * p, z, 0);
    for (let c = 0; c < nc; c++) {
      let s = 0;
      const base = c * p;
      for (let j = 0; j < p; j++) s += basis[base + j]! * z[j]!;
      out.data[i * nc + c] = s;
    }
  }
  return out;
}

/** Validates parsed JSON as a PreprocessState; rejects another kind or version with a clear message. */
export function loadPreprocessState(json: unknown): PreprocessState {
  const obj = asRecord(json, 'preprocess state');
  if (obj.kind !== PREPROCESS_KIND) {
    throw new InputError(`expected a "${PREPROCESS_KIND}" state, got kind ${JSON.stringify(obj.kind ?? null)}`);
  }
  if (obj.version !== PREPROCESS_VERSION) {
    throw new InputError(
      `unsupported ${PREPROCESS_KIND} version ${JSON.stringify(obj.version ?? null)}; this finseg reads version ${PREPROCESS_VERSION}`,
    );
  }
  const featureNames = stringArray(obj.featureNames, 'featureNames');
  const p = featureNames.length;
  const pcaObj = asRecord(obj.pca, 'pca');
  const nComponents = integerIn(pcaObj.nComponents, 'pca.nComponents', 0, p);
  const components = asArray(pcaObj.components, 'pca.components', nComponents).map((row, c) =>
    numberArray(row, `pca.components[${c}]`, p),
  );
  return {
    kind: PREPROCESS_KIND,
    version: PREPROCESS_VERSION,
    featureNames,
    medians: numberArray(obj.medians, 'medians', p),
    logTransform: booleanArray(obj.logTransform, 'logTransform', p),
    clipLow: numberArray(obj.clipLow, 'clipLow', p),
    clipHigh: numberArray(obj.clipHigh, 'clipHigh', p),
    means: numberArray(obj.means, 'means', p),
    stds: numberArray(obj.stds, 'stds', p),
    pca: {
      components,
      eigenvalues: numberArray(pcaObj.eigenvalues, 'pca.eigenvalues', nComponents),
      explainedVarianceRatio: numberArray(pcaObj.explainedVarianceRatio, 'pca.explainedVarianceRatio', nComponents),
      varianceTarget: finiteNumber(pcaObj.varianceTarget, 'pca.varianceTarget'),
      nComponents,
    },
  };
}

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

type ScaleState = Pick<PreprocessState, 'featureNames' | 'medians' | 'logTransform' | 'clipLow' | 'clipHigh' | 'means' | 'stds'>;

/** Copies the per-feature constants into typed arrays once and returns the per-row transform. */
function makeRowScaler(state: ScaleState): (src: Float64Array, srcOffset: number, dst: Float64Array, dstOffset: number) => void {
  const p = state.featureNames.length;
  const medians = Float64Array.from(state.medians);
  const useLog = Uint8Array.from(state.logTransform, (b) => (b ? 1 : 0));
  const low = Float64Array.from(state.clipLow);
  const high = Float64Array.from(state.clipHigh);
  const means = Float64Array.from(state.means);
  const stds = Float64Array.from(state.stds);
  return (src, srcOffset, dst, dstOffset) => {
    for (let j = 0; j < p; j++) {
      let v = src[srcOffset + j]!;
      if (Number.isNaN(v)) v = medians[j]!;
      // A log column had no negatives in training; a negative at scoring time would clip to the
      // lower bound anyway, and flooring at 0 keeps log1p away from -Infinity and NaN.
      if (useLog[j] === 1) v = Math.log1p(v > 0 ? v : 0);
      v = v < low[j]! ? low[j]! : v > high[j]! ? high[j]! : v;
      dst[dstOffset + j] = (v - means[j]!) / stds[j]!;
    }
  };
}

function isNegligibleSpread(spread: number, centre: number): boolean {
  return spread <= 1e-12 * Math.max(1, Math.abs(centre));
}

function checkColumns(state: PreprocessState, X: Matrix): void {
  if (X.cols !== state.featureNames.length) {
    throw new InputError(
      `preprocess state expects ${state.featureNames.length} feature columns (${state.featureNames.join(', ')}), got ${X.cols}`,
    );
  }
}

function validateParams(params: PreprocessParams): void {
  const [lo, hi] = params.clipQuantiles;
  const problems: string[] = [];
  if (!(lo >= 0 && lo <= hi && hi <= 1)) problems.push(`clipQuantiles must satisfy 0 <= low <= high <= 1, got [${lo}, ${hi}]`);
  if (!Number.isFinite(params.logSkewThreshold)) problems.push(`logSkewThreshold must be finite, got ${params.logSkewThreshold}`);
  if (!(params.pcaVarianceTarget > 0 && params.pcaVarianceTarget <= 1)) {
    problems.push(`pcaVarianceTarget must be in (0, 1], got ${params.pcaVarianceTarget}`);
  }
  if (!(Number.isInteger(params.maxComponents) && params.maxComponents >= 1)) {
    problems.push(`maxComponents must be a positive integer, got ${params.maxComponents}`);
  }
  if (problems.length > 0) throw new InputError('invalid preprocess parameters', problems);
}

// Small validators for loading state from JSON.

function asRecord(x: unknown, what: string): Record<string, unknown> {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) throw new InputError(`${what} must be a JSON object`);
  return x as Record<string, unknown>;
}

function asArray(x: unknown, what: string, length: number): unknown[] {
  if (!Array.isArray(x)) throw new InputError(`preprocess state: ${what} must be an array`);
  if (x.length !== length) throw new InputError(`preprocess state: ${what} has ${x.length} entries, expected ${length}`);
  return x;
}

function finiteNumber(x: unknown, what: string): number {
  if (typeof x !== 'number' || !Number.isFinite(x)) throw new InputError(`preprocess state: ${what} must be a finite number`);
  return x;
}

function integerIn(x: unknown, what: string, min: number, max: number): number {
  if (typeof x !== 'number' || !Number.isInteger(x) || x < min || x > max) {
    throw new InputError(`preprocess state: ${what} must be an integer in [${min}, ${max}], got ${JSON.stringify(x ?? null)}`);
  }
  return x;
}

function numberArray(x: unknown, what: string, length: number): number[] {
  return asArray(x, what, length).map((v, i) => finiteNumber(v, `${what}[${i}]`));
}

function booleanArray(x: unknown, what: string, length: number): boolean[] {
  return asArray(x, what, length).map((v, i) => {
    if (typeof v !== 'boolean') throw new InputError(`preprocess state: ${what}[${i}] must be true or false`);
    return v;
  });
}

function stringArray(x: unknown, what: string): string[] {
  if (!Array.isArray(x)) throw new InputError(`preprocess state: ${what} must be an array`);
  return x.map((v, i) => {
    if (typeof v !== 'string') throw new InputError(`preprocess state: ${what}[${i}] must be a string`);
    return v;
  });
}
