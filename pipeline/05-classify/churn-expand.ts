/**
 * The churn model's generic feature expansion, fitted on the training rows only. A linear model
 * draws one straight line through each measure; churn is rarely linear in tenure, spend or usage
 * (the first months churn far more than the next ones), so each measure with more than two values
 * also enters as log1p (when never negative) and as threshold indicators at its quantiles, and
 * the few features most correlated with the label enter as pairwise products. Nothing here names
 * a column: the same rules apply to any feature table or profile table.
 */
import type { Matrix } from '../core/matrix.ts';
import { quantile } from '../core/quantiles.ts';

/** How the expansion is fitted (the `churn` config slice's bins and interactions). */
export interface ExpansionParams {
  /** Quantile bins per measure: thresholds at 1/bins .. (bins-1)/bins; 1 = none. */
  bins: number;
  /** This many features most correlated with the label are multiplied pairwise; 0 or 1 = none. */
  interactions: number;
}

/** One derived column, by kind; `column` indexes `features`. */
export type Derived =
  | { kind: 'raw'; column: number }
  | { kind: 'log1p'; column: number }
  | { kind: 'above'; column: number; threshold: number }
  | { kind: 'product'; column: number; other: number };

/** A fitted expansion: the input features, their imputation, the derived columns and their standardisation. */
export interface ChurnExpansion {
  /** The input feature names, in the order `medians` and `Derived.column` refer to. */
  features: string[];
  /** Training median per input feature, imputed for a missing value (0 for a column with none). */
  medians: number[];
  /** Training mean and standard deviation per input feature, for the products' factors. */
  means: number[];
  sds: number[];
  derived: Derived[];
  /** Mean and standard deviation per derived column (sd 1 for a constant column). */
  centre: number[];
  scale: number[];
}

/** The columns of X (shape (rows, cols)) with missing values imputed by `medians`. */
function imputedColumns(X: Matrix, medians: readonly number[]): Float64Array[] {
  return medians.map((m, j) => Float64Array.from({ length: X.rows }, (_, i) => {
    const x = X.data[i * X.cols + j]!;
    return Number.isNaN(x) ? m : x;
  }));
}

function meanSd(x: Float64Array): { mean: number; sd: number } {
  let s = 0;
  for (const v of x) s += v;
  const mean = x.length ? s / x.length : 0;
  let ss = 0;
  for (const v of x) ss += (v - mean) ** 2;
  const sd = x.length ? Math.sqrt(ss / x.length) : 0;
  return { mean, sd: sd > 1e-12 ? sd : 1 };
}

/** Fits the expansion on training rows X (shape (rows, features.length)) and their 0/1 labels. */
export function fitExpansion(X: Matrix, features: readonly string[], labels: ArrayLike<number>, params: ExpansionParams): ChurnExpansion {
  const medians = features.map((_, j) => {
    const known = Float64Array.from({ length: X.rows }, (_, i) => X.data[i * X.cols + j]!).filter((x) => !Number.isNaN(x));
    return known.length ? quantile(known, 0.5) : 0;
  });
  const columns = imputedColumns(X, medians);
  const stats = columns.map(meanSd);
  const derived: Derived[] = [];
  columns.forEach((x, column) => {
    derived.push({ kind: 'raw', column });
    const distinct = new Set(x);
    if (distinct.size <= 2) return;
    let min = Number.POSITIVE_INFINITY;
    let max = Number.NEGATIVE_INFINITY;
    for (const v of x) {
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
    if (min >= 0) derived.push({ kind: 'log1p', column });
    const seen = new Set<number>();
    for (let b = 1; b < params.bins; b++) {
      const threshold = quantile(x, b / params.bins);
      // A threshold at the maximum (or repeated) splits nothing off.
      if (threshold < max && !seen.has(threshold)) derived.push({ kind: 'above', column, threshold });
      seen.add(threshold);
    }
  });
  for (const [a, b] of pairs(topCorrelated(columns, stats, labels, params.interactions))) derived.push({ kind: 'product', column: a, other: b });
  const expansion: ChurnExpansion = { features: [...features], medians, means: stats.map((s) => s.mean), sds: stats.map((s) => s.sd), derived, centre: [], scale: [] };
  const raw = derivedColumns(expansion, columns);
  for (const d of raw) {
    const s = meanSd(d);
    expansion.centre.push(s.mean);
    expansion.scale.push(s.sd);
  }
  return expansion;
}

/** The `count` input features with the largest |Pearson correlation| with the label, ties by column order. */
function topCorrelated(columns: Float64Array[], stats: { mean: number; sd: number }[], labels: ArrayLike<number>, count: number): number[] {
  if (count < 2) return [];
  const n = labels.length;
  let yMean = 0;
  for (let i = 0; i < n; i++) yMean += labels[i]! > 0 ? 1 : 0;
  yMean /= n;
  const yScale = Math.sqrt(yMean * (1 - yMean)) || 1;
  const strength = columns.map((x, j) => {
    let c = 0;
    for (let i = 0; i < n; i++) c += (x[i]! - stats[j]!.mean) * ((labels[i]! > 0 ? 1 : 0) - yMean);
    return Math.abs(c / n / (stats[j]!.sd * yScale));
  });
  return strength
    .map((s, j) => ({ s, j }))
    .sort((a, b) => b.s - a.s || a.j - b.j)
    .slice(0, count)
    .map((e) => e.j)
    .sort((a, b) => a - b);
}

function pairs(columns: number[]): [number, number][] {
  const out: [number, number][] = [];
  for (let a = 0; a < columns.length; a++) for (let b = a + 1; b < columns.length; b++) out.push([columns[a]!, columns[b]!]);
  return out;
}

/** The derived columns, unstandardised, from imputed input columns. */
function derivedColumns(e: ChurnExpansion, columns: Float64Array[]): Float64Array[] {
  const z = (j: number, x: number) => (x - e.means[j]!) / e.sds[j]!;
  return e.derived.map((d) => {
    const x = columns[d.column]!;
    switch (d.kind) {
      case 'raw':
        return x;
      case 'log1p':
        return x.map((v) => Math.log1p(Math.max(v, 0)));
      case 'above':
        return x.map((v) => (v > d.threshold ? 1 : 0));
      case 'product': {
        const y = columns[d.other]!;
        return x.map((v, i) => z(d.column, v) * z(d.other, y[i]!));
      }
      default:
        return assertUnreachable(d);
    }
  });
}

function assertUnreachable(x: never): never {
  throw new Error(`unknown derived column ${JSON.stringify(x)}`);
}

/**
 * The standardised expanded matrix, shape (rows, derived.length), of X (shape (rows, names.length))
 * whose columns are named by `names`: an input feature absent from `names` is missing (its median).
 */
export function applyExpansion(e: ChurnExpansion, X: Matrix, names: readonly string[]): Matrix {
  const at = new Map(names.map((n, j) => [n, j]));
  const picked: Matrix = { rows: X.rows, cols: e.features.length, data: new Float64Array(X.rows * e.features.length) };
  e.features.forEach((f, j) => {
    const src = at.get(f);
    for (let i = 0; i < X.rows; i++) picked.data[i * picked.cols + j] = src === undefined ? Number.NaN : X.data[i * X.cols + src]!;
  });
  const derived = derivedColumns(e, imputedColumns(picked, e.medians));
  const out: Matrix = { rows: X.rows, cols: derived.length, data: new Float64Array(X.rows * derived.length) };
  derived.forEach((col, j) => {
    for (let i = 0; i < X.rows; i++) out.data[i * out.cols + j] = (col[i]! - e.centre[j]!) / e.scale[j]!;
  });
  return out;
}

/** A derived column's name, for the docs and the bundle ("tenure>29", "log1p(tenure)", "tenure×Contract=Two year"). */
export function derivedName(e: ChurnExpansion, d: Derived): string {
  const f = e.features[d.column]!;
  if (d.kind === 'raw') return f;
  if (d.kind === 'log1p') return `log1p(${f})`;
  if (d.kind === 'above') return `${f}>${d.threshold}`;
  return `${f}×${e.features[d.other]!}`;
}
