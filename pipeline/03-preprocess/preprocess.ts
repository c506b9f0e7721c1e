/**
 * Preprocess stage: impute → log1p skewed non-negative columns → clip tails → standardise → PCA.
 * `fitPreprocess` learns every number from the training features and returns them as plain JSON;
 * `applyPreprocess` replays them, so training and scoring share one path. The scaling lives in
 * scale.ts, the projection in project.ts.
 */
import { InputError } from '../core/errors.ts';
import { zeros, type Matrix } from '../core/matrix.ts';
import { covarianceOf, fitPcaBasis, type PcaBasis } from './pca.ts';
import { checkPreprocessColumns, fitScale, makeRowScaler, type ScaleState } from './scale.ts';
import { basisOf, projectRows, scaleAndProjectRows } from './project.ts';
import type { PreprocessParams } from './params.ts';

// Re-exported: callers, notebooks and tests reach these through the stage's entry file.
export { orderStatistics, quantiles } from '../core/quantiles.ts';
export { checkPreprocessColumns, sampleSkewness } from './scale.ts';
export { scaleAndProjectRows } from './project.ts';
export { covarianceOf } from './pca.ts';

/** Learned preprocessing: the scaling constants (scale.ts), one entry per feature, and the PCA basis. */
export interface PreprocessState extends ScaleState {
  kind: 'finseg.preprocess';
  version: 1;
  /** PCA of the standardised training data; components shape (nComponents, p). */
  pca: PcaBasis;
}

/** The kind and format version of a stored preprocess state. */
export const PREPROCESS_KIND = 'finseg.preprocess';
export const PREPROCESS_VERSION = 1;

/**
 * Fits imputation (median of non-NaN), log1p choice, clip bounds (quantiles, computed after log),
 * standardisation (mean/std after clip; std 0 -> 1) and PCA on the covariance matrix of the
 * standardised data. X: (n, p), NaN = missing; ±Infinity is rejected. Also returns the
 * standardised training matrix `scaled` (n, p), equal bit for bit to applyScale(state, X), so a
 * caller that needs both (train) scales once.
 */
export function fitPreprocess(X: Matrix, featureNames: readonly string[], params: PreprocessParams): { state: PreprocessState; scaled: Matrix } {
  validateParams(params);
  const { rows: n, cols: p } = X;
  if (featureNames.length !== p) {
    throw new Error(`fitPreprocess: ${featureNames.length} feature names for a matrix of ${p} columns`);
  }
  if (n === 0) throw new InputError('cannot fit preprocessing on 0 customers');
  const { scale, scaled } = fitScale(X, featureNames, params);
  const pca = fitPcaBasis(covarianceOf(scaled), params.pcaVarianceTarget, params.maxComponents);
  const state: PreprocessState = { kind: PREPROCESS_KIND, version: PREPROCESS_VERSION, ...scale, pca };
  return { state, scaled };
}

/** Options of applyPreprocess. */
export interface ApplyPreprocessOptions {
  /** X is already scaled (fitPreprocess's `scaled`, or applyScale's output): project it only. */
  scaled?: boolean;
}

/**
 * The fitted transform: imputes, log-transforms, clips, standardises and projects on the PCA
 * basis, (n, p) -> (n, nComponents). With `scaled`, X is taken as already standardised and only
 * projected; the result equals the full transform of the raw matrix bit for bit.
 */
export function applyPreprocess(state: PreprocessState, X: Matrix, options: ApplyPreprocessOptions = {}): Matrix {
  checkPreprocessColumns(state, X);
  const nc = state.pca.nComponents;
  const out = zeros(X.rows, nc);
  if (options.scaled) {
    projectRows(X.data, 0, X.rows, basisOf(state), nc, X.cols, out.data, 0);
  } else {
    // A chunk of rows at a time through a small buffer: the (n, p) scaled matrix is never materialised.
    scaleAndProjectRows(state)(X, 0, X.rows, out.data, null);
  }
  return out;
}

/** The scaling half of the transform alone (impute, log, clip, standardise): (n, p) -> (n, p). */
export function applyScale(state: PreprocessState, X: Matrix): Matrix {
  checkPreprocessColumns(state, X);
  const p = X.cols;
  const out = zeros(X.rows, p);
  const scaleRow = makeRowScaler(state);
  for (let i = 0; i < X.rows; i++) scaleRow(X.data, i * p, out.data, i * p);
  return out;
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
