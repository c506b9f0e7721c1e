/**
 * The classifier's tfjs network: built with fixed layer names and seeded initial weights, saved to
 * and rebuilt from the plain JSON of a ClassifierState, and run as fused dense kernels.
 */
import * as tf from '@tensorflow/tfjs';
import { initBackend } from './backend.ts';
import { quietLogger } from '../core/log.ts';
import { deriveSeed } from '../core/random.ts';

/** The stored network of a classifier state: the tfjs topology and its float32 weights in base64. */
export interface StoredNetwork {
  modelTopology: unknown;
  weightSpecs: unknown[];
  weightDataBase64: string;
}

/** Layer names are fixed, so the topology and weight names do not depend on how many models the process built before. */
function layerNames(hidden: readonly number[]): string[] {
  return [...hidden.map((_, i) => `hidden_${i + 1}`), 'proba'];
}

/** A dense softmax network d -> hidden... -> k (ReLU hidden layers), its Glorot weights seeded per layer. */
export function buildModel(inputDim: number, hidden: readonly number[], k: number, seed: number): tf.Sequential {
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

/** The names and shapes of the weight tensors buildModel makes, kernels (fanIn, units) then biases (units) per layer. */
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

/** The model's topology and weights, as tfjs would write them to disk. */
export async function saveArtifacts(model: tf.LayersModel): Promise<tf.io.ModelArtifacts> {
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

/** The weights tfjs saved, joined into one buffer and base64-encoded for a JSON state. */
export function encodeWeightData(data: tf.io.WeightData | undefined): string {
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
const modelCache = new WeakMap<StoredNetwork, Promise<tf.LayersModel>>();
/** Weights live in the backend's memory, outside the JS heap: free them when their state is collected. */
const modelReaper = new FinalizationRegistry<Promise<tf.LayersModel>>((model) => {
  void model.then((m) => m.dispose()).catch(() => {});
});

/** The tfjs model of a stored network, built on first use and shared by later calls. */
export function modelFor(state: StoredNetwork): Promise<tf.LayersModel> {
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
 * the batch and adds the last layer's bias in a separate kernel: 1M x 37 takes 0.60-0.62 s
 * through it and 0.52 s this way, and the two differ only in float32 rounding.
 */
export async function runModel(model: tf.LayersModel, x32: Float32Array, rows: number, d: number): Promise<Float32Array> {
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
