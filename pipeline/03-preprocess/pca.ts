import { PCA } from 'ml-pca';
import type { Matrix } from '../core/matrix.ts';

/** A PCA basis fitted on a covariance matrix; plain data so it lives in the preprocess state. */
export interface PcaBasis {
  /** Unit eigenvectors as rows, strongest first: shape (nComponents, nFeatures). */
  components: number[][];
  /** Variance along each kept component (population, i.e. divided by n): shape (nComponents). */
  eigenvalues: number[];
  /** Share of the total variance each kept component explains: shape (nComponents). */
  explainedVarianceRatio: number[];
  /** The cumulative share asked for when the basis was fitted. */
  varianceTarget: number;
  nComponents: number;
}

/** Accumulates the covariance of rows fed one at a time, so callers need not hold the (n, p) matrix. */
export class CovarianceAccumulator {
  private readonly sums: Float64Array;
  /** Upper triangle (including the diagonal) of the sum of outer products, row-major (p, p). */
  private readonly cross: Float64Array;
  private n = 0;

  constructor(readonly p: number) {
    this.sums = new Float64Array(p);
    this.cross = new Float64Array(p * p);
  }

  /** Adds one row: shape (p), read from `row` starting at `offset`. */
  add(row: Float64Array, offset = 0): void {
    const p = this.p;
    const sums = this.sums;
    const cross = this.cross;
    for (let a = 0; a < p; a++) {
      const va = row[offset + a]!;
      sums[a]! += va;
      const base = a * p;
      for (let b = a; b < p; b++) cross[base + b]! += va * row[offset + b]!;
    }
    this.n++;
  }

  /** The population covariance (divided by n) as row arrays, shape (p, p). */
  covariance(): number[][] {
    const { p, n, sums, cross } = this;
    const out: number[][] = Array.from({ length: p }, () => new Array<number>(p).fill(0));
    if (n === 0) return out;
    for (let a = 0; a < p; a++) {
      for (let b = a; b < p; b++) {
        const c = cross[a * p + b]! / n - (sums[a]! / n) * (sums[b]! / n);
        out[a]![b] = c;
        out[b]![a] = c;
      }
    }
    return out;
  }
}

/**
 * Eigen-decomposes a covariance matrix (shape (p, p)) with ml-pca and keeps the smallest number of
 * components whose cumulative explained variance reaches `varianceTarget`, capped at
 * `maxComponents`, but at least 2 (or p when p < 2).
 */
export function fitPcaBasis(covariance: number[][], varianceTarget: number, maxComponents: number): PcaBasis {
  const p = covariance.length;
  if (p === 0) return { components: [], eigenvalues: [], explainedVarianceRatio: [], varianceTarget, nComponents: 0 };
  const pca = new PCA(covariance, { isCovarianceMatrix: true });
  const vectors = pca.getEigenvectors(); // (p, p), one eigenvector per column
  // Tiny negative eigenvalues are rounding noise of a positive semi-definite matrix.
  const values = pca.getEigenvalues().map((v) => Math.max(v, 0));
  // ml-pca orders by its EVD; sort explicitly so "strongest first" never depends on that.
  const order = values.map((_, i) => i).sort((a, b) => values[b]! - values[a]! || a - b);
  const total = values.reduce((s, v) => s + v, 0);
  const ratios = order.map((i) => (total > 0 ? values[i]! / total : 0));

  let reach = p;
  let cumulative = 0;
  for (let m = 0; m < p; m++) {
    cumulative += ratios[m]!;
    // The slack keeps a target of exactly 1.0 reachable despite rounding in the sum.
    if (cumulative >= varianceTarget - 1e-12) {
      reach = m + 1;
      break;
    }
  }
  const nComponents = Math.min(p, Math.max(2, Math.min(reach, maxComponents)));

  const components: number[][] = [];
  for (let m = 0; m < nComponents; m++) {
    const col = order[m]!;
    const v: number[] = [];
    for (let j = 0; j < p; j++) v.push(vectors.get(j, col));
    components.push(canonicalSign(v));
  }
  return {
    components,
    eigenvalues: order.slice(0, nComponents).map((i) => values[i]!),
    explainedVarianceRatio: ratios.slice(0, nComponents),
    varianceTarget,
    nComponents,
  };
}

/**
 * Flips an eigenvector so its largest-magnitude entry is positive, so the basis (and every
 * projection) is the same whatever sign the eigen-solver returned. Entries within a relative
 * 1e-9 of the largest count as tied and the first of them decides, so rounding cannot flip it.
 */
export function canonicalSign(v: number[]): number[] {
  let maxAbs = 0;
  for (const x of v) maxAbs = Math.max(maxAbs, Math.abs(x));
  const pivot = v.findIndex((x) => Math.abs(x) >= maxAbs * (1 - 1e-9));
  // `+ 0` turns -0 into 0, which JSON cannot tell apart anyway.
  return pivot >= 0 && v[pivot]! < 0 ? v.map((x) => -x + 0) : v.map((x) => x + 0);
}

/** The population covariance (divided by n) of the columns of Z (n, p), as row arrays (p, p). */
export function covarianceOf(Z: Matrix): number[][] {
  const { rows: n, cols: p } = Z;
  const out: number[][] = Array.from({ length: p }, () => new Array<number>(p).fill(0));
  if (n === 0) return out;
  // Rows are copied a chunk at a time into a buffer padded to a multiple of four columns, so the
  // cross products run as 2 x 4 register tiles (eight independent sums) over cache-resident rows.
  const P = Math.ceil(p / 4) * 4;
  const CHUNK = 512;
  const buf = new Float64Array(CHUNK * P);
  const cross = new Float64Array(P * P);
  const sums = new Float64Array(P);
  const z = Z.data;
  for (let r0 = 0; r0 < n; r0 += CHUNK) {
    const rows = Math.min(CHUNK, n - r0);
    for (let r = 0; r < rows; r++) {
      const src = (r0 + r) * p;
      const dst = r * P;
      for (let j = 0; j < p; j++) {
        const v = z[src + j]!;
        buf[dst + j] = v;
        sums[j]! += v;
      }
    }
    for (let a = 0; a < P; a += 2) {
      for (let b = a - (a % 4); b < P; b += 4) {
        let s00 = 0;
        let s01 = 0;
        let s02 = 0;
        let s03 = 0;
        let s10 = 0;
        let s11 = 0;
        let s12 = 0;
        let s13 = 0;
        for (let r = 0; r < rows; r++) {
          const o = r * P;
          const x0 = buf[o + a]!;
          const x1 = buf[o + a + 1]!;
          const y0 = buf[o + b]!;
          const y1 = buf[o + b + 1]!;
          const y2 = buf[o + b + 2]!;
          const y3 = buf[o + b + 3]!;
          s00 += x0 * y0;
          s01 += x0 * y1;
          s02 += x0 * y2;
          s03 += x0 * y3;
          s10 += x1 * y0;
          s11 += x1 * y1;
          s12 += x1 * y2;
          s13 += x1 * y3;
        }
        const c0 = a * P + b;
        const c1 = c0 + P;
        cross[c0]! += s00;
        cross[c0 + 1]! += s01;
        cross[c0 + 2]! += s02;
        cross[c0 + 3]! += s03;
        cross[c1]! += s10;
        cross[c1 + 1]! += s11;
        cross[c1 + 2]! += s12;
        cross[c1 + 3]! += s13;
      }
    }
  }
  for (let a = 0; a < p; a++) {
    for (let b = a; b < p; b++) {
      const c = cross[a * P + b]! / n - (sums[a]! / n) * (sums[b]! / n);
      out[a]![b] = c;
      out[b]![a] = c;
    }
  }
  return out;
}
