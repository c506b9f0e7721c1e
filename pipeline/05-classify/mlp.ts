/**
 * Classify stage: a softmax MLP that reproduces the k-means segments from the scaled features, so
 * scoring assigns a segment with probabilities. The network lives in network.ts, the gradient
 * steps in backprop.ts, the typed-array row work in rows.ts.
 */
import * as tf from '@tensorflow/tfjs';
import { Adam, batchGradients, type DenseStack } from './backprop.ts';
import { initBackend } from './backend.ts';
import { buildModel, encodeWeightData, expectedWeightSpecs, modelFor, runModel, saveArtifacts } from './network.ts';
import { argmaxRows, checkFinite, confusionMatrix, pick, rowsAsFloat32, shuffleInPlace, stratifiedSplit } from './rows.ts';
import { InputError } from '../core/errors.ts';
import { quietLogger } from '../core/log.ts';
import type { Matrix } from '../core/matrix.ts';
import { deriveSeed, makeRng, sampleIndices } from '../core/random.ts';
import type { ClassifierParams } from './params.ts';

/** How well the fitted classifier reproduces the segments. */
export interface ClassifierMetrics {
  /** Accuracy on the held-out rows; 0 when segments are so small that none was held out (nHeldOut 0). */
  heldOutAccuracy: number;
  /** Accuracy on the rows trained on. */
  trainAccuracy: number;
  nTrain: number;
  nHeldOut: number;
  /** Held-out counts, shape (k, k): rows are true segments, columns predicted ones. */
  confusion: number[][];
  /** Mean cross-entropy over the last epoch's batches. */
  finalLoss: number;
  epochs: number;
}

/** A fitted classifier as plain JSON: the tfjs model topology and its float32 weights in base64. */
export interface ClassifierState {
  kind: 'finseg.classifier';
  version: 1;
  inputDim: number;
  classes: number;
  params: ClassifierParams;
  seed: number;
  modelTopology: unknown;
  weightSpecs: unknown[];
  weightDataBase64: string;
  metrics: ClassifierMetrics;
}

const KIND = 'finseg.classifier';
const VERSION = 1;
/**
 * Rows per predict call, run as one batch. tfjs-wasm's predict costs mostly per batch: measured
 * here on 100k x 37 (64-32-9), CPU time 190 ms in batches of 8192, 55 ms in one batch (scikit-learn
 * ~70 ms); at tfjs's default batch of 32 it is 200x slower. tfjs is the inference engine because a
 * typed-array forward pass in plain JS (float64 sums from the float32 weights) is slower: 400 ms on
 * that case, differing from tfjs by up to 1.7e-6, and on 1M x 37, even with the matmuls as 2-row x
 * 4-unit tiles of dot products (~2.4 GMAC/s, V8 has no SIMD), 3.2-3.7 s against tfjs-wasm's
 * 0.9-1.2 s in the same run. Chunks keep scoring a million customers from holding a second full
 * float32 copy, and their activations (chunk x 64 float32) small.
 */
const PREDICT_CHUNK = 131_072;

/**
 * Trains a softmax MLP from X (n, d) to labels (n) in [0, k) on a seeded, stratified
 * train/held-out split; the same X, labels, params and seed give bit-identical weights.
 * `onProgress` is called after each epoch with (epochs done, epochs), for a progress bar at the edge.
 */
export async function fitClassifier(
  X: Matrix,
  labels: Int32Array,
  k: number,
  params: ClassifierParams,
  seed: number,
  onProgress?: (done: number, total: number) => void,
): Promise<ClassifierState> {
  checkFitInputs(X, labels, k, params);
  await initBackend(quietLogger);
  const { train, heldOut } = trainingRows(labels, k, params, seed);
  const d = X.cols;
  const xTrain = rowsAsFloat32(X, train);
  const yTrain = pick(labels, train);

  const model = buildModel(d, params.hidden, k, seed);
  let finalLoss: number;
  let trainProba: Float32Array;
  let heldOutProba: Float32Array;
  let artifacts: tf.io.ModelArtifacts;
  try {
    finalLoss = await trainWeights(model, xTrain, yTrain, d, k, params, seed, onProgress);
    trainProba = await runModel(model, xTrain, train.length, d);
    heldOutProba = await runModel(model, rowsAsFloat32(X, heldOut), heldOut.length, d);
    artifacts = await saveArtifacts(model);
  } finally {
    model.dispose();
  }

  const heldOutLabels = pick(labels, heldOut);
  const confusion = confusionMatrix(heldOutLabels, argmaxRows(heldOutProba, k), k);
  let heldOutCorrect = 0;
  for (let c = 0; c < k; c++) heldOutCorrect += confusion[c]![c]!;
  const trainPred = argmaxRows(trainProba, k);
  let trainCorrect = 0;
  for (let i = 0; i < yTrain.length; i++) if (trainPred[i] === yTrain[i]) trainCorrect++;

  return {
    kind: KIND,
    version: VERSION,
    inputDim: d,
    classes: k,
    params: copyParams(params),
    seed,
    modelTopology: artifacts.modelTopology,
    weightSpecs: artifacts.weightSpecs ?? [],
    weightDataBase64: encodeWeightData(artifacts.weightData),
    metrics: {
      heldOutAccuracy: heldOut.length === 0 ? 0 : heldOutCorrect / heldOut.length,
      trainAccuracy: trainCorrect / train.length,
      nTrain: train.length,
      nHeldOut: heldOut.length,
      confusion,
      finalLoss,
      epochs: params.epochs,
    },
  };
}

/** Rejects inputs fitClassifier cannot train on: bad params, k, shapes, labels or non-finite X. */
function checkFitInputs(X: Matrix, labels: Int32Array, k: number, params: ClassifierParams): void {
  checkParams(params, 'fitClassifier');
  if (!Number.isInteger(k) || k < 2) throw new Error(`fitClassifier: k must be an integer >= 2, got ${k}`);
  if (labels.length !== X.rows) throw new Error(`fitClassifier: ${labels.length} labels for ${X.rows} rows`);
  if (X.rows === 0 || X.cols === 0) throw new Error(`fitClassifier: X is empty, shape (${X.rows}, ${X.cols})`);
  for (let i = 0; i < labels.length; i++) {
    const c = labels[i]!;
    if (c < 0 || c >= k) throw new Error(`fitClassifier: label ${c} at row ${i} is outside [0, ${k})`);
  }
  checkFinite(X.data, X.cols, 'fitClassifier');
}

/** The seeded stratified split, the training side subsampled to maxTrainRows; both ascending row indices. */
function trainingRows(labels: Int32Array, k: number, params: ClassifierParams, seed: number): { train: Int32Array; heldOut: Int32Array } {
  const { train: splitTrain, heldOut } = stratifiedSplit(labels, k, params.heldOutShare, makeRng(deriveSeed(seed, 'classify/split')));
  const train =
    splitTrain.length > params.maxTrainRows
      ? pick(splitTrain, sampleIndices(splitTrain.length, params.maxTrainRows, makeRng(deriveSeed(seed, 'classify/sample'))))
      : splitTrain;
  if (train.length === 0) throw new Error(`fitClassifier: heldOutShare ${params.heldOutShare} of ${labels.length} rows leaves none to train on`);
  return { train, heldOut };
}

/**
 * Runs the Adam epochs on xTrain (nTrain, d) and yTrain (nTrain) from model's seeded initial
 * weights, sets the trained weights on model, and returns the last epoch's mean cross-entropy.
 */
async function trainWeights(model: tf.Sequential, xTrain: Float32Array, yTrain: Int32Array, d: number, k: number, params: ClassifierParams, seed: number, onProgress?: (done: number, total: number) => void): Promise<number> {
  // tfjs builds the layers and draws the seeded Glorot initial weights; the steps are ours
  // (backprop.ts: 4x faster than optimizer.minimize on wasm), and so is the epoch order, since
  // model.fit's shuffle draws from Math.random.
  const initial = model.getWeights();
  const stack: DenseStack = {
    sizes: [d, ...params.hidden, k],
    kernels: initial.filter((_, i) => i % 2 === 0).map((w) => Float32Array.from(w.dataSync() as Float32Array)),
    biases: initial.filter((_, i) => i % 2 === 1).map((w) => Float32Array.from(w.dataSync() as Float32Array)),
  };
  const weights = stack.kernels.flatMap((w, i) => [w, stack.biases[i]!]);
  // tf.train.adam's defaults (beta1 0.9, beta2 0.999, epsilon 1e-7), with a settable step size.
  const adam = new Adam(weights.map((w) => w.length), params.learningRate);
  const shuffleRng = makeRng(deriveSeed(seed, 'classify/shuffle'));
  const order = Int32Array.from({ length: yTrain.length }, (_, i) => i);
  const bs = Math.min(params.batchSize, yTrain.length);
  const xBatch = new Float32Array(bs * d);
  const yBatch = new Int32Array(bs);
  let finalLoss = NaN;
  for (let epoch = 0; epoch < params.epochs; epoch++) {
    adam.learningRate = params.learningRate * (1 - epoch / params.epochs);
    shuffleInPlace(order, shuffleRng);
    let lossSum = 0;
    for (let start = 0; start < order.length; start += bs) {
      const b = Math.min(bs, order.length - start);
      // A plain copy loop: a subarray + set per row costs ~0.3 us, 0.1 s over a fit.
      for (let r = 0; r < b; r++) {
        const i = order[start + r]!;
        const from = i * d;
        const to = r * d;
        for (let j = 0; j < d; j++) xBatch[to + j] = xTrain[from + j]!;
        yBatch[r] = yTrain[i]!;
      }
      const grads = batchGradients(stack, xBatch, yBatch, b);
      adam.step(weights, grads.kernels.flatMap((g, i) => [g, grads.biases[i]!]));
      lossSum += grads.loss * b;
    }
    finalLoss = lossSum / order.length;
    onProgress?.(epoch + 1, params.epochs);
    // A real macrotask between epochs lets a CLI progress display repaint during a long fit.
    await new Promise((resolve) => setImmediate(resolve));
  }
  const trained = weights.map((w, i) => tf.tensor(w, initial[i]!.shape));
  model.setWeights(trained);
  tf.dispose(trained);
  return finalLoss;
}

/** Segment probabilities for X (n, inputDim): a Matrix (n, classes) whose rows sum to 1. */
export async function predictProba(state: ClassifierState, X: Matrix): Promise<Matrix> {
  if (X.cols !== state.inputDim) {
    throw new Error(`predictProba: X has ${X.cols} columns, the classifier was trained on ${state.inputDim}`);
  }
  checkFinite(X.data, X.cols, 'predictProba');
  const k = state.classes;
  const out = new Float64Array(X.rows * k);
  // A chunk at a time through one float32 buffer: no second full copy of a million rows.
  const chunk = new Float32Array(Math.min(PREDICT_CHUNK, X.rows) * X.cols);
  for (let start = 0; start < X.rows; start += PREDICT_CHUNK) {
    const n = Math.min(PREDICT_CHUNK, X.rows - start);
    const x32 = chunk.subarray(0, n * X.cols);
    x32.set(X.data.subarray(start * X.cols, (start + n) * X.cols));
    await predictRows(state, x32, 0, n, out.subarray(start * k));
  }
  return { rows: X.rows, cols: k, data: out };
}

/**
 * predictProba for rows already in float32 (n, inputDim) row-major, as scoring's one pass of
 * preprocessing leaves them (scaleAndProjectRows): the same probabilities as predictProba on the
 * float64 rows they were rounded from, without a float64 copy.
 */
export async function predictProbaFloat32(state: ClassifierState, x32: Float32Array, rows: number): Promise<Matrix> {
  const d = state.inputDim;
  if (x32.length !== rows * d) throw new Error(`predictProbaFloat32: ${x32.length} values for ${rows} rows of ${d}`);
  const out = new Float64Array(rows * state.classes);
  await predictProbaInto(state, x32, 0, rows, out);
  return { rows, cols: state.classes, data: out };
}

/**
 * predictProbaFloat32 for rows [from, to) of x32, written into `out` (n, classes) at the same
 * rows: the kernel of score's chunks (model/score-kernels.ts). A row's probabilities do not depend
 * on the rows it is computed with (tested), so any split gives the same matrix.
 */
export async function predictProbaInto(state: ClassifierState, x32: Float32Array, from: number, to: number, out: Float64Array): Promise<void> {
  checkFinite(x32.subarray(from * state.inputDim, to * state.inputDim), state.inputDim, 'predictProbaFloat32', from);
  await predictRows(state, x32, from, to, out);
}

/** Probabilities of rows [from, to) of x32 into out at the same rows, PREDICT_CHUNK rows per model call; inputs already checked. */
async function predictRows(state: ClassifierState, x32: Float32Array, from: number, to: number, out: Float64Array): Promise<void> {
  const d = state.inputDim;
  const model = await modelFor(state);
  for (let start = from; start < to; start += PREDICT_CHUNK) {
    const n = Math.min(PREDICT_CHUNK, to - start);
    out.set(await runModel(model, x32.subarray(start * d, (start + n) * d), n, d), start * state.classes);
  }
}

/** Exactly the classifier's fields: a caller's wider config object must not leak into the stored state. */
function copyParams(p: ClassifierParams): ClassifierParams {
  return {
    hidden: [...p.hidden],
    epochs: p.epochs,
    batchSize: p.batchSize,
    learningRate: p.learningRate,
    heldOutShare: p.heldOutShare,
    maxTrainRows: p.maxTrainRows,
  };
}

function checkParams(p: ClassifierParams, where: string): void {
  const bad = (field: string, want: string, got: unknown): never => {
    throw new Error(`${where}.${field} must be ${want}, got ${describe(got)}`);
  };
  if (!Array.isArray(p.hidden) || !p.hidden.every(isPositiveInt)) bad('hidden', 'an array of positive integers', p.hidden);
  if (!isPositiveInt(p.epochs)) bad('epochs', 'a positive integer', p.epochs);
  if (!isPositiveInt(p.batchSize)) bad('batchSize', 'a positive integer', p.batchSize);
  if (!(typeof p.learningRate === 'number' && p.learningRate > 0 && Number.isFinite(p.learningRate))) {
    bad('learningRate', 'a positive number', p.learningRate);
  }
  if (!(typeof p.heldOutShare === 'number' && p.heldOutShare > 0 && p.heldOutShare < 1)) {
    bad('heldOutShare', 'in (0, 1)', p.heldOutShare);
  }
  if (!isPositiveInt(p.maxTrainRows)) bad('maxTrainRows', 'a positive integer', p.maxTrainRows);
}

function isPositiveInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v > 0;
}

function describe(v: unknown): string {
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 60 ? `${s.slice(0, 57)}...` : s;
}
