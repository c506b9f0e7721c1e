import * as tf from '@tensorflow/tfjs';

/**
 * The training step of the softmax MLP, written out instead of taken from tfjs's autodiff and
 * optimizer. Measured here on tfjs-wasm, one Adam step on 512 rows of a 37-64-32-9 net:
 *
 * - `optimizer.minimize` ran 180 kernels and took 5.1 ms (9.9 us a row). Most kernels were the
 *   optimizer's per-variable bookkeeping, each costing the backend ~5-20 us whatever its size.
 * - The gradient's `matMul(a, b, transposeA)` and `matMul(a, b, false, transposeB)` take a naive
 *   path in tfjs-backend-wasm: 1.3-1.5 ms for 512x37x64, against 0.13 ms without a transpose.
 *   The autodiff of `matMul` uses exactly those.
 *
 * Here the forward pass is three fused matmul+bias+ReLU kernels and a softmax; the gradient of
 * softmax cross-entropy, (P - Y) / b, is taken in JS from the read-back probabilities; the
 * backward pass transposes explicitly and then runs plain matmuls; Adam runs in JS on the
 * ~5k weights. 33 kernels, 1.24 ms a step (2.4 us a row): 4x faster. The gradient equals tfjs's
 * autodiff within float32 rounding and the Adam update equals tf.train.adam's, both tested
 * (test/05-classify/backprop.test.ts).
 */

/** A dense ReLU stack ending in a softmax layer; layer i maps sizes[i] to sizes[i + 1] units. */
export interface DenseStack {
  /** Units per layer, input first and classes last: [d, ...hidden, k]. */
  sizes: number[];
  /** Kernel of layer i, shape (sizes[i], sizes[i + 1]) row-major. */
  kernels: Float32Array[];
  /** Bias of layer i, length sizes[i + 1]. */
  biases: Float32Array[];
}

/** Gradients of the mean cross-entropy with respect to each kernel and bias, shaped as in DenseStack. */
export interface StackGradients {
  kernels: Float32Array[];
  biases: Float32Array[];
  /** Mean cross-entropy of the batch, with probabilities clipped to [1e-7, 1 - 1e-7] as Keras does. */
  loss: number;
}

/** Keras's clip before log: keeps a saturated softmax from producing log(0). */
const EPSILON = 1e-7;

/**
 * Mean softmax cross-entropy of the b rows of x (b, d) against labels (b) and its gradient.
 * The gradient is that of the unclipped loss, (P - Y) / b, as scikit-learn's is; tfjs's autodiff
 * of the clipped loss differs only for rows whose true-class probability is outside the clip.
 */
export function batchGradients(stack: DenseStack, x: Float32Array, labels: Int32Array, b: number): StackGradients {
  const layers = stack.kernels.length;
  const k = stack.sizes[layers]!;
  const kernels = new Array<Float32Array>(layers);
  const biases = new Array<Float32Array>(layers);
  let loss = 0;
  tf.tidy(() => {
    const acts: tf.Tensor2D[] = [tf.tensor2d(x.subarray(0, b * stack.sizes[0]!), [b, stack.sizes[0]!])];
    for (let i = 0; i < layers; i++) {
      const w = tf.tensor2d(stack.kernels[i]!, [stack.sizes[i]!, stack.sizes[i + 1]!]);
      const bias = tf.tensor1d(stack.biases[i]!);
      acts.push(tf.fused.matMul({ a: acts[i]!, b: w, bias, activation: i < layers - 1 ? 'relu' : 'linear' }) as tf.Tensor2D);
    }
    const p = tf.softmax(acts[layers]!).dataSync() as Float32Array;
    const g = new Float32Array(b * k);
    for (let r = 0; r < b; r++) {
      const t = labels[r]!;
      loss -= Math.log(Math.min(Math.max(p[r * k + t]!, EPSILON), 1 - EPSILON));
      for (let c = 0; c < k; c++) g[r * k + c] = (p[r * k + c]! - (c === t ? 1 : 0)) / b;
    }
    let delta: tf.Tensor2D = tf.tensor2d(g, [b, k]);
    for (let i = layers - 1; i >= 0; i--) {
      // Explicit transposes: the wasm backend's transposed matmul is 10x slower (see above).
      kernels[i] = tf.matMul(tf.transpose(acts[i]!), delta).dataSync() as Float32Array;
      biases[i] = tf.sum(delta, 0).dataSync() as Float32Array;
      if (i > 0) {
        const wT = tf.tensor2d(transpose(stack.kernels[i]!, stack.sizes[i]!, stack.sizes[i + 1]!), [stack.sizes[i + 1]!, stack.sizes[i]!]);
        // ReLU passes the gradient where its output was positive.
        delta = tf.mul<tf.Tensor2D>(tf.matMul(delta, wT), tf.step(acts[i]!));
      }
    }
  });
  return { kernels, biases, loss: loss / b };
}

/** a (rows, cols) row-major, transposed to (cols, rows). */
function transpose(a: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(a.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = a[r * cols + c]!;
  return out;
}

/**
 * Adam on Float32Array weights, the update of tf.train.adam (Kingma & Ba with tfjs's epsilon 1e-7
 * added to the bias-corrected root of the second moment). Moments are kept in float64.
 */
export class Adam {
  private readonly m: Float64Array[];
  private readonly v: Float64Array[];
  private t = 0;
  /** Step size; the training loop lowers it between epochs. */
  learningRate: number;

  constructor(
    shapes: readonly number[],
    learningRate: number,
    private readonly beta1 = 0.9,
    private readonly beta2 = 0.999,
    private readonly epsilon = 1e-7,
  ) {
    this.m = shapes.map((n) => new Float64Array(n));
    this.v = shapes.map((n) => new Float64Array(n));
    this.learningRate = learningRate;
  }

  /** One step: weights[i] -= lr * mHat / (sqrt(vHat) + eps), each weights[i] matching grads[i] and the constructor's shapes. */
  step(weights: Float32Array[], grads: Float32Array[]): void {
    this.t++;
    const c1 = 1 - this.beta1 ** this.t;
    const c2 = 1 - this.beta2 ** this.t;
    const { beta1, beta2, epsilon, learningRate } = this;
    weights.forEach((w, i) => {
      const g = grads[i]!;
      const m = this.m[i]!;
      const v = this.v[i]!;
      if (w.length !== m.length || g.length !== m.length) throw new Error(`Adam.step: tensor ${i} has ${w.length} weights and ${g.length} gradients, expected ${m.length}`);
      for (let j = 0; j < w.length; j++) {
        const gj = g[j]!;
        m[j] = beta1 * m[j]! + (1 - beta1) * gj;
        v[j] = beta2 * v[j]! + (1 - beta2) * gj * gj;
        w[j] = w[j]! - (learningRate * (m[j]! / c1)) / (Math.sqrt(v[j]! / c2) + epsilon);
      }
    });
  }
}
