/**
 * L2-regularised logistic regression fitted by Newton's method (IRLS), and Platt scaling on top of
 * it. Deterministic: no random start, no sampling; the same rows give the same coefficients. The
 * objective is scikit-learn's LogisticRegression(penalty='l2', C = 1 / l2): the summed log loss
 * plus l2 / 2 times the squared coefficients, the intercept unpenalised.
 */
import type { Matrix } from '../core/matrix.ts';

/** A fitted logistic regression: P(y = 1 | x) = sigmoid(intercept + coef · x). */
export interface LogisticFit {
  /** One coefficient per column of X, shape (cols). */
  coef: number[];
  intercept: number;
  /** Newton steps taken. */
  iterations: number;
  converged: boolean;
}

/** Newton's stopping rule and step limit. */
export interface LogisticOptions {
  maxIterations: number;
  /** Stop once the largest change of a coefficient is below this. */
  tolerance: number;
}

const DEFAULTS: LogisticOptions = { maxIterations: 100, tolerance: 1e-10 };

/** 1 / (1 + e^-z), without overflow for large |z|. */
export function sigmoid(z: number): number {
  if (z >= 0) return 1 / (1 + Math.exp(-z));
  const e = Math.exp(z);
  return e / (1 + e);
}

/** The summed log loss of targets y (in [0, 1]) at linear scores z, plus the penalty. */
function objective(z: Float64Array, y: ArrayLike<number>, coef: Float64Array, l2: number): number {
  let loss = 0;
  for (let i = 0; i < z.length; i++) {
    // log(1 + e^z) - y z, stable in both tails.
    const zi = z[i]!;
    loss += (zi > 0 ? zi + Math.log1p(Math.exp(-zi)) : Math.log1p(Math.exp(zi))) - y[i]! * zi;
  }
  let pen = 0;
  for (const w of coef) pen += w * w;
  return loss + (l2 / 2) * pen;
}

/** Linear scores intercept + X · coef, shape (rows). */
export function linearScores(X: Matrix, coef: ArrayLike<number>, intercept: number): Float64Array {
  const z = new Float64Array(X.rows);
  for (let i = 0; i < X.rows; i++) {
    let s = intercept;
    const row = i * X.cols;
    for (let j = 0; j < X.cols; j++) s += X.data[row + j]! * coef[j]!;
    z[i] = s;
  }
  return z;
}

/**
 * Fits the logistic regression of targets y (shape (rows), each in [0, 1]: 0/1 labels, or Platt's
 * smoothed targets) on X (shape (rows, cols)) with ridge strength l2 >= 0. Each Newton step solves
 * (XᵀWX + l2 I) Δ = -gradient by Cholesky, halving the step while the objective does not fall.
 */
export function fitLogistic(X: Matrix, y: ArrayLike<number>, l2: number, options: Partial<LogisticOptions> = {}): LogisticFit {
  const { maxIterations, tolerance } = { ...DEFAULTS, ...options };
  const p = X.cols + 1; // the intercept is parameter p - 1
  const theta = new Float64Array(p);
  const coefOf = (t: Float64Array) => t.subarray(0, X.cols);
  let z = linearScores(X, coefOf(theta), 0);
  let current = objective(z, y, coefOf(theta), l2);
  let iterations = 0;
  let converged = false;
  while (iterations < maxIterations && !converged) {
    iterations++;
    const { gradient, hessian } = newtonSystem(X, y, z, theta, l2);
    const step = choleskySolve(hessian, gradient, p);
    let scale = 1;
    let next = theta;
    let nextZ = z;
    let value = current;
    for (let halving = 0; halving < 30; halving++) {
      next = Float64Array.from(theta, (t, j) => t - scale * step[j]!);
      nextZ = linearScores(X, coefOf(next), next[p - 1]!);
      value = objective(nextZ, y, coefOf(next), l2);
      if (value <= current + 1e-12 * Math.abs(current)) break;
      scale /= 2;
    }
    let largest = 0;
    for (let j = 0; j < p; j++) largest = Math.max(largest, Math.abs(next[j]! - theta[j]!));
    theta.set(next);
    z = nextZ;
    current = value;
    converged = largest < tolerance;
  }
  return { coef: Array.from(coefOf(theta)), intercept: theta[p - 1]!, iterations, converged };
}

/** The gradient (shape (p)) and Hessian (shape (p, p), row-major) of the objective at theta; the last parameter is the intercept. */
function newtonSystem(X: Matrix, y: ArrayLike<number>, z: Float64Array, theta: Float64Array, l2: number): { gradient: Float64Array; hessian: Float64Array } {
  const p = X.cols + 1;
  const gradient = new Float64Array(p);
  const hessian = new Float64Array(p * p);
  const x = new Float64Array(p);
  x[p - 1] = 1;
  for (let i = 0; i < X.rows; i++) {
    const mu = sigmoid(z[i]!);
    const r = mu - y[i]!;
    // A floor on the weight keeps the system positive definite when l2 = 0 and the classes separate.
    const w = Math.max(mu * (1 - mu), 1e-12);
    for (let j = 0; j < X.cols; j++) x[j] = X.data[i * X.cols + j]!;
    for (let a = 0; a < p; a++) {
      const xa = x[a]!;
      if (xa === 0) continue;
      gradient[a] = gradient[a]! + r * xa;
      const wa = w * xa;
      const rowA = a * p;
      for (let b = 0; b <= a; b++) hessian[rowA + b] = hessian[rowA + b]! + wa * x[b]!;
    }
  }
  for (let a = 0; a < p; a++) for (let b = 0; b < a; b++) hessian[b * p + a] = hessian[a * p + b]!;
  for (let j = 0; j < X.cols; j++) {
    gradient[j] = gradient[j]! + l2 * theta[j]!;
    hessian[j * p + j] = hessian[j * p + j]! + l2;
  }
  return { gradient, hessian };
}

/** Solves A x = b for a symmetric positive definite A (shape (p, p)) by Cholesky; a tiny ridge is added to a singular pivot. */
export function choleskySolve(A: Float64Array, b: Float64Array, p: number): Float64Array {
  const L = new Float64Array(p * p);
  for (let i = 0; i < p; i++) {
    for (let j = 0; j <= i; j++) {
      let s = A[i * p + j]!;
      for (let k = 0; k < j; k++) s -= L[i * p + k]! * L[j * p + k]!;
      if (i === j) L[i * p + i] = Math.sqrt(Math.max(s, 1e-12));
      else L[i * p + j] = s / L[j * p + j]!;
    }
  }
  const t = new Float64Array(p);
  for (let i = 0; i < p; i++) {
    let s = b[i]!;
    for (let k = 0; k < i; k++) s -= L[i * p + k]! * t[k]!;
    t[i] = s / L[i * p + i]!;
  }
  const x = new Float64Array(p);
  for (let i = p - 1; i >= 0; i--) {
    let s = t[i]!;
    for (let k = i + 1; k < p; k++) s -= L[k * p + i]! * x[k]!;
    x[i] = s / L[i * p + i]!;
  }
  return x;
}

/** Platt scaling: P(churn) = sigmoid(a · score + b), fitted on out-of-fold scores. */
export interface PlattFit {
  a: number;
  b: number;
}

/**
 * Fits Platt's sigmoid to linear scores (shape (n)) against 0/1 labels, with Platt's smoothed
 * targets ((positives + 1) / (positives + 2) and 1 / (negatives + 2)), as scikit-learn's
 * CalibratedClassifierCV(method='sigmoid') does, so a small fold cannot push a probability to 0 or 1.
 */
export function fitPlatt(scores: Float64Array, labels: ArrayLike<number>): PlattFit {
  let positives = 0;
  for (let i = 0; i < labels.length; i++) positives += labels[i]! > 0 ? 1 : 0;
  const negatives = labels.length - positives;
  const hi = (positives + 1) / (positives + 2);
  const lo = 1 / (negatives + 2);
  const targets = Float64Array.from({ length: labels.length }, (_, i) => (labels[i]! > 0 ? hi : lo));
  const fit = fitLogistic({ rows: scores.length, cols: 1, data: scores }, targets, 0);
  return { a: fit.coef[0]!, b: fit.intercept };
}

/** The calibrated probability of a linear score. */
export function applyPlatt(platt: PlattFit, score: number): number {
  return sigmoid(platt.a * score + platt.b);
}
