import * as tf from '@tensorflow/tfjs';
import { parseState } from '../../pipeline/model/load.ts';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../pipeline/05-classify/backend.ts';
import { fitClassifier, predictProba, predictProbaFloat32, type ClassifierState } from '../../pipeline/05-classify/mlp.ts';
import { defaultClassifierParams, type ClassifierParams } from '../../pipeline/05-classify/params.ts';
import { InputError } from '../../pipeline/core/errors.ts';
import { quietLogger } from '../../pipeline/core/log.ts';
import type { Matrix } from '../../pipeline/core/matrix.ts';
import { makeRng } from '../../pipeline/core/random.ts';

const K = 4;
const D = 6;
const N = 2000;
const SEED = 20240611;
/** 12 epochs, more than the default 8: the 1,600 training rows make only 4 Adam steps an epoch at the default batch of 512. */
const PARAMS: ClassifierParams = { ...defaultClassifierParams, epochs: 12 };

/** Four unit-variance Gaussian blobs in 6-D, centres 4 apart on distinct axes; labels are the blob. */
function blobs(n: number, seed: number): { X: Matrix; labels: Int32Array } {
  const rng = makeRng(seed);
  const data = new Float64Array(n * D);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % K;
    labels[i] = c;
    for (let j = 0; j < D; j++) data[i * D + j] = rng.normal() + (j === c ? 4 : 0);
  }
  return { X: { rows: n, cols: D, data }, labels };
}

const { X, labels } = blobs(N, 1);
let state: ClassifierState;
/** Taken before any backend loads: the wasm glue adds crash handlers that initBackend must remove. */
const crashHandlersBefore = ['uncaughtException', 'unhandledRejection'].map((e) => process.listenerCount(e));

beforeAll(async () => {
  await initBackend(quietLogger);
  state = await fitClassifier(X, labels, K, PARAMS, SEED);
});

describe('initBackend', () => {
  it('is idempotent, names the backend tfjs runs on and logs it on each call', async () => {
    const lines: string[] = [];
    const logger = { info: (m: string) => lines.push(m), warn: (m: string) => lines.push(m) };
    const first = await initBackend(logger);
    const second = await initBackend(logger);
    expect(second).toBe(first);
    expect(tf.getBackend()).toBe(first);
    expect(['tensorflow', 'wasm', 'cpu']).toContain(first);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(new RegExp(`^tfjs backend: ${first} \\(`));
  });

  it('leaves the process crash handlers as they were, so errors keep their own message and exit code', () => {
    expect(['uncaughtException', 'unhandledRejection'].map((e) => process.listenerCount(e))).toEqual(crashHandlersBefore);
  });
});

describe('fitClassifier', () => {
  it('separates four Gaussian blobs with held-out accuracy >= 0.95', () => {
    expect(state.metrics.heldOutAccuracy).toBeGreaterThanOrEqual(0.95);
    expect(state.metrics.trainAccuracy).toBeGreaterThanOrEqual(0.95);
    expect(state.metrics.finalLoss).toBeGreaterThan(0);
    expect(state.metrics.finalLoss).toBeLessThan(0.3);
    expect(state.metrics.epochs).toBe(12);
  });

  it('holds out a stratified 20% of every segment: 100 of each blob of 500', () => {
    const { confusion, nHeldOut, nTrain, heldOutAccuracy } = state.metrics;
    expect(nHeldOut).toBe(400);
    expect(nTrain).toBe(1600);
    expect(confusion).toHaveLength(K);
    for (const row of confusion) {
      expect(row).toHaveLength(K);
      expect(row.reduce((a, b) => a + b, 0)).toBe(100);
    }
    const total = confusion.flat().reduce((a, b) => a + b, 0);
    expect(total).toBe(nHeldOut);
    const diagonal = confusion.reduce((s, row, c) => s + row[c]!, 0);
    expect(diagonal / nHeldOut).toBe(heldOutAccuracy);
  });

  it('gives bit-identical weights and state for the same seed, different weights for another', async () => {
    const again = await fitClassifier(X, labels, K, PARAMS, SEED);
    expect(again.weightDataBase64).toBe(state.weightDataBase64);
    expect(JSON.stringify(again)).toBe(JSON.stringify(state));
    const other = await fitClassifier(X, labels, K, PARAMS, SEED + 1);
    expect(other.weightDataBase64).not.toBe(state.weightDataBase64);
  });

  it('trains on a seeded sample of maxTrainRows when the split leaves more', async () => {
    const sampled = await fitClassifier(X, labels, K, { ...PARAMS, epochs: 2, maxTrainRows: 300 }, SEED);
    expect(sampled.metrics.nTrain).toBe(300);
    expect(sampled.metrics.nHeldOut).toBe(400);
  });

  it('reports each epoch as it ends, and trains the same weights with the callback', async () => {
    const calls: [number, number][] = [];
    const withProgress = await fitClassifier(X, labels, K, { ...PARAMS, epochs: 3 }, SEED, (done, total) => calls.push([done, total]));
    expect(calls).toEqual([[1, 3], [2, 3], [3, 3]]);
    expect(withProgress.weightDataBase64).toBe((await fitClassifier(X, labels, K, { ...PARAMS, epochs: 3 }, SEED)).weightDataBase64);
  });

  it('leaves no tensors behind', async () => {
    const before = tf.memory().numTensors;
    await fitClassifier(X, labels, K, { ...PARAMS, epochs: 2 }, SEED);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('stores exactly the classifier params, not the rest of a wider config object', async () => {
    const wider = { ...PARAMS, epochs: 1, outputDir: '/tmp/elsewhere' } as ClassifierParams;
    const fitted = await fitClassifier(X, labels, K, wider, SEED);
    expect(fitted.params).toEqual({ ...PARAMS, epochs: 1 });
  });

  it('rejects invalid params with the field at fault', async () => {
    await expect(fitClassifier(X, labels, K, { ...PARAMS, heldOutShare: 1 }, SEED)).rejects.toThrow(
      /fitClassifier.heldOutShare must be in \(0, 1\), got 1/,
    );
    await expect(fitClassifier(X, labels, K, { ...PARAMS, hidden: [64, 0] }, SEED)).rejects.toThrow(/hidden must be an array of positive integers/);
  });

  it('rejects labels outside [0, k) and rows with NaN', async () => {
    const bad = labels.slice();
    bad[5] = K;
    await expect(fitClassifier(X, bad, K, PARAMS, SEED)).rejects.toThrow(/label 4 at row 5 is outside \[0, 4\)/);
    const holed = { ...X, data: X.data.slice() };
    holed.data[3 * D + 2] = NaN;
    await expect(fitClassifier(holed, labels, K, PARAMS, SEED)).rejects.toThrow(/X\[3, 2\] is NaN/);
    const infinite = { ...X, data: X.data.slice() };
    infinite.data[7 * D + 1] = -Infinity;
    await expect(fitClassifier(infinite, labels, K, PARAMS, SEED)).rejects.toThrow(/X\[7, 1\] is -Infinity/);
  });
});

describe('predictProba', () => {
  it('returns (n, k) probabilities whose rows sum to 1', async () => {
    const proba = await predictProba(state, X);
    expect(proba.rows).toBe(N);
    expect(proba.cols).toBe(K);
    expect(proba.data).toHaveLength(N * K);
    for (let i = 0; i < N; i++) {
      let sum = 0;
      for (let c = 0; c < K; c++) {
        const p = proba.data[i * K + c]!;
        expect(p).toBeGreaterThanOrEqual(0);
        expect(p).toBeLessThanOrEqual(1);
        sum += p;
      }
      expect(Math.abs(sum - 1)).toBeLessThan(1e-5);
    }
  });

  it('puts a point at a blob centre in that blob with high confidence', async () => {
    const centres = new Float64Array(K * D);
    for (let c = 0; c < K; c++) centres[c * D + c] = 4;
    const proba = await predictProba(state, { rows: K, cols: D, data: centres });
    for (let c = 0; c < K; c++) expect(proba.data[c * K + c]!).toBeGreaterThan(0.9);
  });

  it('gives a row the same probabilities alone as in a batch', async () => {
    const all = await predictProba(state, X);
    const one = await predictProba(state, { rows: 1, cols: D, data: X.data.slice(17 * D, 18 * D) });
    expect(Array.from(one.data)).toEqual(Array.from(all.data.subarray(17 * K, 18 * K)));
  });

  it('keeps the tensor count stable across calls once the model is cached', async () => {
    await predictProba(state, X);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) await predictProba(state, X);
    expect(tf.memory().numTensors).toBe(before);
  });

  it("computes the function of the saved Keras model: tfjs's own predict agrees within float32 rounding", async () => {
    const model = await tf.loadLayersModel(
      tf.io.fromMemory({
        modelTopology: state.modelTopology as object,
        weightSpecs: state.weightSpecs as tf.io.WeightsManifestEntry[],
        weightData: new Uint8Array(Buffer.from(state.weightDataBase64, 'base64')).buffer,
      }),
    );
    const keras = tf.tidy(() => (model.predict(tf.tensor2d(Float32Array.from(X.data), [N, D]), { batchSize: N }) as tf.Tensor).dataSync());
    model.dispose();
    const ours = await predictProba(state, X);
    let worst = 0;
    for (let i = 0; i < N * K; i++) worst = Math.max(worst, Math.abs(ours.data[i]! - keras[i]!));
    expect(worst).toBeLessThan(1e-5);
  });

  it('gives the same probabilities from float32 rows (predictProbaFloat32) as from the float64 rows they round', async () => {
    const fromFloat64 = await predictProba(state, X);
    const fromFloat32 = await predictProbaFloat32(state, Float32Array.from(X.data), N);
    expect(fromFloat32).toEqual(fromFloat64);
    await expect(predictProbaFloat32(state, new Float32Array(D * 2 - 1), 2)).rejects.toThrow(/11 values for 2 rows of 6/);
  });

  it('rejects a matrix with the wrong number of columns', async () => {
    await expect(predictProba(state, { rows: 1, cols: D + 1, data: new Float64Array(D + 1) })).rejects.toThrow(
      /X has 7 columns, the classifier was trained on 6/,
    );
  });
});

describe('the classifier state file (parseState)', () => {
  const roundTrip = (s: ClassifierState): Record<string, unknown> => JSON.parse(JSON.stringify(s)) as Record<string, unknown>;

  it('round-trips through JSON to exactly the same probabilities', async () => {
    const loaded = parseState('classifier.json', roundTrip(state));
    expect(loaded).toEqual(state);
    const fromMemory = await predictProba(state, X);
    const fromJson = await predictProba(loaded, X);
    expect(fromJson.data).toEqual(fromMemory.data);
  });

  it('rejects the wrong kind or format version', () => {
    expect(() => parseState('classifier.json', { ...roundTrip(state), kind: 'finseg.centroids' })).toThrow(
      /kind "finseg.centroids", expected "finseg.classifier"/,
    );
    expect(() => parseState('classifier.json', { ...roundTrip(state), version: 2 })).toThrow(/format version 2, this finseg reads version 1/);
    expect(() => parseState('classifier.json', 'model')).toThrow(InputError);
    expect(() => parseState('classifier.json', null)).toThrow(/^classifier\.json: expected a JSON object$/);
  });

  it('rejects truncated weights', () => {
    const json = roundTrip(state);
    const b64 = json['weightDataBase64'] as string;
    // 6*64 + 64 + 64*32 + 32 + 32*4 + 4 float32 weights.
    const bytes = 4 * (6 * 64 + 64 + 64 * 32 + 32 + 32 * 4 + 4);
    expect(Buffer.from(b64, 'base64').byteLength).toBe(bytes);
    const truncated = Buffer.from(b64, 'base64').subarray(0, bytes - 300).toString('base64');
    expect(() => parseState('classifier.json', { ...json, weightDataBase64: truncated })).toThrow(
      new RegExp(`weightDataBase64: holds ${bytes - 300} bytes, the weight specs need ${bytes} \\(truncated or corrupt\\)`),
    );
  });

  it('rejects weight specs that do not match inputDim, hidden and classes', () => {
    expect(() => parseState('classifier.json', { ...roundTrip(state), inputDim: 7 })).toThrow(/expected hidden_1\/kernel float32 \[7, 64\]/);
    expect(() => parseState('classifier.json', { ...roundTrip(state), classes: 5 })).toThrow(/expected proba\/kernel float32 \[32, 5\]/);
    const json = roundTrip(state);
    expect(() => parseState('classifier.json', { ...json, weightSpecs: (json['weightSpecs'] as unknown[]).slice(1) })).toThrow(
      /weightSpecs: 5 weight tensors, expected 6/,
    );
  });
});
