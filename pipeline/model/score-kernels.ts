/**
 * The per-row work of scoring, as kernels over a range of rows, shared by the main thread and
 * the helper thread (score-threads.ts). Every kernel is the function score uses on all rows
 * applied to a slice, so where a row is computed does not change its result.
 */
import { scaleAndProjectRows, type PreprocessState } from '../03-preprocess/preprocess.ts';
import type { ClusterState } from '../04-cluster/cluster.ts';
import { nearestCentroidsInto, type Nearest } from '../04-cluster/kmeans.ts';
import { predictProbaInto, type ClassifierState } from '../05-classify/mlp.ts';
import { fromRows, type Matrix } from '../core/matrix.ts';

/** The three per-row stages, run one after the other over all rows. */
export type ScorePhase = 'preprocess' | 'assign' | 'classify';
export const SCORE_PHASES: readonly ScorePhase[] = ['preprocess', 'assign', 'classify'];

/** The bundle states the kernels need (the helper receives them as structured clones). */
export interface ScoreStates {
  preprocess: PreprocessState;
  cluster: ClusterState;
  classifier: ClassifierState;
}

/** Inputs and outputs of one scoring run, each in a SharedArrayBuffer so both threads see them. */
export interface ScoreBuffers {
  rows: number;
  /** Features (rows, p) float64. */
  x: SharedArrayBuffer;
  /** PCA scores (rows, nComponents) float64. */
  reduced: SharedArrayBuffer;
  /** Scaled features (rows, p) float32, the classifier's input. */
  scaled32: SharedArrayBuffer;
  labels: SharedArrayBuffer;
  sqDistances: SharedArrayBuffer;
  second: SharedArrayBuffer;
  secondSqDistances: SharedArrayBuffer;
  /** Segment probabilities (rows, classes) float64. */
  probabilities: SharedArrayBuffer;
}

/** Typed views of ScoreBuffers. */
export interface ScoreArrays {
  X: Matrix;
  reduced: Float64Array;
  scaled32: Float32Array;
  near: Nearest;
  probabilities: Float64Array;
}

/** Allocates the outputs for X (whose data must already live in a SharedArrayBuffer). */
export function allocateScoreBuffers(states: ScoreStates, X: Matrix): ScoreBuffers {
  if (!(X.data.buffer instanceof SharedArrayBuffer)) throw new Error('score buffers: X must be backed by a SharedArrayBuffer (sharedZeros)');
  const n = X.rows;
  const shared = (count: number, bytes: number) => new SharedArrayBuffer(count * bytes);
  return {
    rows: n,
    x: X.data.buffer,
    reduced: shared(n * states.preprocess.pca.nComponents, 8),
    scaled32: shared(n * X.cols, 4),
    labels: shared(n, 4),
    sqDistances: shared(n, 8),
    second: shared(n, 4),
    secondSqDistances: shared(n, 8),
    probabilities: shared(n * states.classifier.classes, 8),
  };
}

export function scoreArrays(states: ScoreStates, b: ScoreBuffers): ScoreArrays {
  const p = states.preprocess.featureNames.length;
  return {
    X: { rows: b.rows, cols: p, data: new Float64Array(b.x, 0, b.rows * p) },
    reduced: new Float64Array(b.reduced),
    scaled32: new Float32Array(b.scaled32),
    near: {
      labels: new Int32Array(b.labels),
      sqDistances: new Float64Array(b.sqDistances),
      second: new Int32Array(b.second),
      secondSqDistances: new Float64Array(b.secondSqDistances),
    },
    probabilities: new Float64Array(b.probabilities),
  };
}

/** A kernel: computes rows [from, to) of its phase's outputs. */
export type ScoreKernel = (a: ScoreArrays, from: number, to: number) => void | Promise<void>;

/** The kernel of each phase for these states. */
export function scoreKernels(states: ScoreStates): Record<ScorePhase, ScoreKernel> {
  const scale = scaleAndProjectRows(states.preprocess);
  const centroids = fromRows(states.cluster.centroids);
  const nc = states.preprocess.pca.nComponents;
  return {
    preprocess: (a, from, to) => scale(a.X, from, to, a.reduced, a.scaled32),
    assign: (a, from, to) => nearestCentroidsInto({ rows: a.X.rows, cols: nc, data: a.reduced }, centroids, from, to, a.near),
    classify: (a, from, to) => predictProbaInto(states.classifier, a.scaled32, from, to, a.probabilities),
  };
}
