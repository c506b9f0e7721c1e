import { PCA } from 'ml-pca';

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
