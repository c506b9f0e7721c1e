import * as tf from '@tensorflow/tfjs';
import { Adam, batchGradients, type DenseStack } from './backprop.ts';
import { initBackend } from './backend.ts';
import { quietLogger } from '../core/log.ts';
import type { Matrix } from '../core/matrix.ts';
import { deriveSeed, makeRng, sampleIndices, type Rng } from '../core/random.ts';

/** Hyper-parameters of the segment classifier: a softmax MLP trained with Adam on cross-entropy. */
export interface ClassifierParams {
  /** Units of each hidden ReLU layer, input side first; [] is multinomial logistic regression. */
  hidden: number[];
  /** Passes over the training rows. */
  epochs: number;
  /** Rows per Adam step. */
  batchSize: number;
  /** Adam step size in the first epoch; it decays linearly over the epochs, to learningRate / epochs in the last. */
  learningRate: number;
  /** Share of each segment held out (stratified) to measure accuracy, in (0, 1). */
  heldOutShare: number;
  /**
   * Training rows beyond this are subsampled (seeded). The MLP only has to reproduce nearest-centroid
   * segments: on the benchmark's 100k customers (k = 9) held-out agreement was 98.5% from 10k rows,
   * 98.8% from 20k and 99.0% from both 40k and all 80k (30 epochs then), while each row costs ~2.4 us an
   * epoch (backprop.ts; docs/performance.md). Default 40,000.
   */
  maxTrainRows: number;
}

/**
 * Default classifier settings. 8 epochs of 512 rows a step, the step size decaying from 0.005: an
 * epoch costs a fixed time per training row (~2.4 us with backprop.ts; ~10-14 us with tfjs's
 * optimizer), so epochs set the cost at any size. Held-out agreement with k-means, mean of three
 * seeds, on the benchmark's 100k customers (S, k = 9) and the demo's 20k: 99.08% and 99.16%,
 * against 98.77% and 98.82% with 30 epochs of 256 at a constant 0.003, for a quarter of its CPU time (8 epochs of 256 at a constant
 * 0.003 gave 98.79% on S). The decay settles the weights instead of leaving them wherever the
 * last full-size steps put them.
 */
export const defaultClassifierParams: ClassifierParams = {
  hidden: [64, 32],
  epochs: 8,
  batchSize: 512,
  learningRate: 0.005,
  heldOutShare: 0.2,
  maxTrainRows: 40_000,
};

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
 * ~70 ms); at tfjs's default batch of 32 it is 200x slower. A typed-array forward pass in plain JS
 * (float64 sums from the float32 weights) took 400 ms and differed from tfjs by up to 1.7e-6; tried
 * again on 1M x 37 with the matmuls as 2-row x 4-unit tiles of dot products (~2.4 GMAC/s, V8 has
 * no SIMD) it took 3.2-3.7 s against tfjs-wasm's 0.9-1.2 s in the same run, so tfjs stays the
 * inference engine. Chunks keep scoring a million customers from holding a second
 * full float32 copy, and their activations (chunk x 64 float32) small.
 */
const PREDICT_CHUNK = 131_072;

/**
 * Trains a softmax MLP from X (n, d) to labels (n) in [0, k) on a seeded, stratified
 * train/held-out split; the same X, labels, params and seed give bit-identical weights.
 */
export async function fitClassifier(
  X: Matrix,
  labels: Int32Array,
  k: number,
  params: ClassifierParams,
  seed: number,
): Promise<ClassifierState> {
  checkParams(params, 'fitClassifier');
  if (!Number.isInteger(k) || k < 2) throw new Error(`fitClassifier: k must be an integer >= 2, got ${k}`);
  if (labels.length !== X.rows) throw new Error(`fitClassifier: ${labels.length} labels for ${X.rows} rows`);
  if (X.rows === 0 || X.cols === 0) throw new Error(`fitClassifier: X is empty, shape (${X.rows}, ${X.cols})`);
  for (let i = 0; i < labels.length; i++) {
    const c = labels[i]!;
    if (c < 0 || c >= k) throw new Error(`fitClassifier: label ${c} at row ${i} is outside [0, ${k})`);
  }
  checkFinite(X.data, X.cols, 'fitClassifier');
  await initBackend(quietLogger);

  const { train: splitTrain, heldOut } = stratifiedSplit(labels, k, params.heldOutShare, makeRng(deriveSeed(seed, 'classify/split')));
  const train =
    splitTrain.length > params.maxTrainRows
      ? pick(splitTrain, sampleIndices(splitTrain.length, params.maxTrainRows, makeRng(deriveSeed(seed, 'classify/sample'))))
      : splitTrain;
  if (train.length === 0) throw new Error(`fitClassifier: heldOutShare ${params.heldOutShare} of ${X.rows} rows leaves none to train on`);
  const d = X.cols;
  const xTrain = rowsAsFloat32(X, train);
  const yTrain = pick(labels, train);

  const model = buildModel(d, params.hidden, k, seed);
  let finalLoss = NaN;
  let trainProba: Float32Array;
  let heldOutProba: Float32Array;
  let artifacts: tf.io.ModelArtifacts;
  try {
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
    const order = Int32Array.from({ length: train.length }, (_, i) => i);
    const bs = Math.min(params.batchSize, train.length);
    const xBatch = new Float32Array(bs * d);
    const yBatch = new Int32Array(bs);
    for (let epoch = 0; epoch < params.epochs; epoch++) {
      adam.learningRate = params.learningRate * (1 - epoch / params.epochs);
      shuffleInPlace(order, shuffleRng);
      let lossSum = 0;
      for (let start = 0; start < order.length; start += bs) {
        const b = Math.min(bs, order.length - start);
        // A plain copy loop: a subarray + set per row cost ~0.3 us, 0.1 s over a fit.
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
      // A real macrotask between epochs lets a CLI progress display repaint during a long fit.
      await new Promise((resolve) => setImmediate(resolve));
    }
    const trained = weights.map((w, i) => tf.tensor(w, initial[i]!.shape));
    model.setWeights(trained);
    tf.dispose(trained);
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
 * preprocessing leaves them (scaleAndProject): the same probabilities as predictProba on the
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

// ---------------------------------------------------------------------------------------------
// Model construction, serialisation and the per-state model cache.

/** Layer names are fixed, so the topology and weight names do not depend on how many models the process built before. */
function layerNames(hidden: readonly number[]): string[] {
  return [...hidden.map((_, i) => `hidden_${i + 1}`), 'proba'];
}

function buildModel(inputDim: number, hidden: readonly number[], k: number, seed: number): tf.Sequential {
  const names = layerNames(hidden);
  const units = [...hidden, k];
  const model = tf.sequential({ name: 'finseg_classifier' });
  units.forEach((u, i) => {
    model.add(
      tf.layers.dense({
        name: names[i]!,
        units: u,
        activation: i < hidden.length ? 'relu' : 'softmax',
        kernelInitializer: tf.initializers.glorotUniform({ seed: deriveSeed(seed, `classify/init/${names[i]}`) }),
        biasInitializer: 'zeros',
        ...(i === 0 ? { inputShape: [inputDim] } : {}),
      }),
    );
  });
  return model;
}

/** The name and shape of every weight tensor of an MLP with these layer sizes, in the order tfjs saves them. */
export function expectedWeightSpecs(inputDim: number, hidden: readonly number[], k: number): { name: string; shape: number[] }[] {
  const names = layerNames(hidden);
  const units = [...hidden, k];
  return names.flatMap((name, i) => {
    const fanIn = i === 0 ? inputDim : units[i - 1]!;
    return [
      { name: `${name}/kernel`, shape: [fanIn, units[i]!] },
      { name: `${name}/bias`, shape: [units[i]!] },
    ];
  });
}

async function saveArtifacts(model: tf.LayersModel): Promise<tf.io.ModelArtifacts> {
  let saved: tf.io.ModelArtifacts | null = null;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      saved = artifacts;
      return { modelArtifactsInfo: { dateSaved: new Date(0), modelTopologyType: 'JSON' } };
    }),
  );
  if (saved === null) throw new Error('tfjs did not hand over the model artifacts');
  return saved;
}

function encodeWeightData(data: tf.io.WeightData | undefined): string {
  if (data === undefined) throw new Error('tfjs saved no weight data');
  const joined = tf.io.CompositeArrayBuffer.join(data);
  return Buffer.from(joined).toString('base64');
}

function decodeWeightData(b64: string): ArrayBuffer {
  const bytes = Buffer.from(b64, 'base64');
  // A Buffer may be a view into Node's shared pool: copy out exactly its bytes.
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

/** The tfjs model of each state, built once; a promise so concurrent first calls share one build. */
const modelCache = new WeakMap<ClassifierState, Promise<tf.LayersModel>>();
/** Weights live in the backend's memory, outside the JS heap: free them when their state is collected. */
const modelReaper = new FinalizationRegistry<Promise<tf.LayersModel>>((model) => {
  void model.then((m) => m.dispose()).catch(() => {});
});

function modelFor(state: ClassifierState): Promise<tf.LayersModel> {
  let model = modelCache.get(state);
  if (model === undefined) {
    model = (async () => {
      await initBackend(quietLogger);
      return tf.loadLayersModel(
        tf.io.fromMemory({
          modelTopology: state.modelTopology as object,
          weightSpecs: state.weightSpecs as tf.io.WeightsManifestEntry[],
          weightData: decodeWeightData(state.weightDataBase64),
        }),
      );
    })();
    // A failed build is not cached, so a later call reports the error again instead of a stale rejection.
    model.catch(() => modelCache.delete(state));
    modelCache.set(state, model);
    modelReaper.register(state, model);
  }
  return model;
}

/**
 * Probabilities (rows, k) as float32 for x32 (rows, d) row-major: the model's dense layers as
 * fused matmul + bias (+ ReLU) kernels and a softmax, the forward pass the training step runs
 * (backprop.ts). `model.predict` on the same weights computes the same function, but it copies
 * the batch and adds the last layer's bias in a separate kernel: 1M x 37 took 0.60-0.62 s
 * through it and 0.52 s this way, and the two differ only in float32 rounding.
 */
async function runModel(model: tf.LayersModel, x32: Float32Array, rows: number, d: number): Promise<Float32Array> {
  if (rows === 0) return new Float32Array(0);
  const weights = model.getWeights();
  const layers = weights.length / 2;
  const proba = tf.tidy(() => {
    let h = tf.tensor2d(x32, [rows, d]);
    for (let i = 0; i < layers; i++) {
      h = tf.fused.matMul({ a: h, b: weights[2 * i] as tf.Tensor2D, bias: weights[2 * i + 1], activation: i < layers - 1 ? 'relu' : 'linear' }) as tf.Tensor2D;
    }
    return tf.softmax(h);
  });
  try {
    return (await proba.data()) as Float32Array;
  } finally {
    proba.dispose();
  }
}

// ---------------------------------------------------------------------------------------------
// Typed-array helpers.

/**
 * Row indices split per class so that every segment, however small, is represented in the
 * held-out share. Typed arrays throughout (a counting sort by class, a flag per row): at 1M rows
 * the JS-array version took 0.1-0.3 s of the classify stage. Both index lists come out ascending.
 */
function stratifiedSplit(labels: Int32Array, k: number, share: number, rng: Rng): { train: Int32Array; heldOut: Int32Array } {
  const n = labels.length;
  const start = new Int32Array(k + 1);
  for (let i = 0; i < n; i++) start[labels[i]! + 1]!++;
  for (let c = 0; c < k; c++) start[c + 1]! += start[c]!;
  const byClass = new Int32Array(n);
  const next = start.slice(0, k);
  for (let i = 0; i < n; i++) byClass[next[labels[i]!]!++] = i;
  const held = new Uint8Array(n);
  let nHeldOut = 0;
  for (let c = 0; c < k; c++) {
    const members = byClass.subarray(start[c]!, start[c + 1]!);
    shuffleInPlace(members, rng);
    const nHeld = Math.round(share * members.length);
    for (let j = 0; j < nHeld; j++) held[members[j]!] = 1;
    nHeldOut += nHeld;
  }
  const train = new Int32Array(n - nHeldOut);
  const heldOut = new Int32Array(nHeldOut);
  for (let i = 0, t = 0, h = 0; i < n; i++) {
    if (held[i] === 1) heldOut[h++] = i;
    else train[t++] = i;
  }
  return { train, heldOut };
}

function shuffleInPlace(a: Int32Array, rng: Rng): void {
  for (let i = a.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = a[i]!;
    a[i] = a[j]!;
    a[j] = t;
  }
}

/** values[indices[r]] for each r. */
function pick(values: Int32Array, indices: Int32Array): Int32Array {
  const out = new Int32Array(indices.length);
  for (let r = 0; r < indices.length; r++) out[r] = values[indices[r]!]!;
  return out;
}

/** The listed rows of X as float32, shape (indices.length, cols) row-major. */
function rowsAsFloat32(X: Matrix, indices: Int32Array): Float32Array {
  const d = X.cols;
  const out = new Float32Array(indices.length * d);
  for (let r = 0; r < indices.length; r++) {
    const i = indices[r]!;
    out.set(X.data.subarray(i * d, (i + 1) * d), r * d);
  }
  return out;
}

function argmaxRows(proba: Float32Array, k: number): Int32Array {
  const n = proba.length / k;
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let c = 1; c < k; c++) if (proba[i * k + c]! > proba[i * k + best]!) best = c;
    out[i] = best;
  }
  return out;
}

function confusionMatrix(truth: Int32Array, predicted: Int32Array, k: number): number[][] {
  const m = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  for (let i = 0; i < truth.length; i++) m[truth[i]!]![predicted[i]!]!++;
  return m;
}

function checkFinite(data: Float64Array | Float32Array, cols: number, where: string, firstRow = 0): void {
  // x * 0 is 0 (or -0) for every finite x and NaN for NaN and ±Infinity: one multiply-add a value
  // (1M x 37: 143 -> ~40 ms), and the search for the culprit only when there is one.
  let probe = 0;
  for (let i = 0; i < data.length; i++) probe += data[i]! * 0;
  if (probe === 0) return;
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) {
      const row = firstRow + Math.floor(i / cols);
      throw new Error(`${where}: X[${row}, ${i - row * cols}] is ${data[i]}; preprocess must impute and clip before classify`);
    }
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
