import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../pipeline/05-classify/backend.ts';
import { Adam, batchGradients, type DenseStack } from '../../pipeline/05-classify/backprop.ts';
import { quietLogger } from '../../pipeline/core/log.ts';
import { makeRng } from '../../pipeline/core/random.ts';

beforeAll(async () => {
  await initBackend(quietLogger);
});

/** A seeded stack of the given sizes with weights in [-0.5, 0.5), and b rows of inputs and labels. */
function fixture(sizes: number[], b: number, seed: number): { stack: DenseStack; x: Float32Array; labels: Int32Array } {
  const rng = makeRng(seed);
  const uniform = (n: number) => Float32Array.from({ length: n }, () => rng.next() - 0.5);
  const stack: DenseStack = {
    sizes,
    kernels: sizes.slice(1).map((u, i) => uniform(sizes[i]! * u)),
    biases: sizes.slice(1).map((u) => uniform(u)),
  };
  const k = sizes[sizes.length - 1]!;
  return { stack, x: uniform(b * sizes[0]! * 4), labels: Int32Array.from({ length: b }, () => rng.int(k)) };
}

/** tfjs's autodiff of the Keras loss the classifier used before: the straightforward reference. */
function autodiff(stack: DenseStack, x: Float32Array, labels: Int32Array, b: number): { grads: Float32Array[]; loss: number } {
  const layers = stack.kernels.length;
  const k = stack.sizes[layers]!;
  const vars = stack.kernels.flatMap((w, i) => [
    tf.variable(tf.tensor2d(w, [stack.sizes[i]!, stack.sizes[i + 1]!])),
    tf.variable(tf.tensor1d(stack.biases[i]!)),
  ]);
  const { grads, value } = tf.variableGrads(() => {
    let h: tf.Tensor2D = tf.tensor2d(x.subarray(0, b * stack.sizes[0]!), [b, stack.sizes[0]!]);
    for (let i = 0; i < layers; i++) {
      h = tf.add(tf.matMul(h, vars[2 * i]!), vars[2 * i + 1]!);
      if (i < layers - 1) h = tf.relu(h);
    }
    const logP = tf.log(tf.clipByValue(tf.softmax(h), 1e-7, 1 - 1e-7));
    return tf.neg(tf.mean(tf.sum(tf.mul(tf.oneHot(tf.tensor1d(labels, 'int32'), k), logP), -1))) as tf.Scalar;
  }, vars);
  const out = { grads: vars.map((v) => grads[v.name]!.dataSync() as Float32Array), loss: value.dataSync()[0]! };
  tf.dispose([...vars, ...Object.values(grads), value]);
  return out;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

describe('batchGradients', () => {
  it.each([
    ['two hidden layers', [6, 5, 4, 3]],
    ['one hidden layer', [6, 8, 4]],
    ['no hidden layer (multinomial logistic regression)', [6, 3]],
  ])('equals tfjs autodiff of the cross-entropy, %s', (_, sizes) => {
    const b = 7;
    const { stack, x, labels } = fixture(sizes, b, 11);
    const before = tf.memory().numTensors;
    const ours = batchGradients(stack, x, labels, b);
    expect(tf.memory().numTensors).toBe(before);
    const ref = autodiff(stack, x, labels, b);
    expect(ours.loss).toBeCloseTo(ref.loss, 6);
    ours.kernels.forEach((g, i) => {
      expect(maxAbsDiff(g, ref.grads[2 * i]!)).toBeLessThan(1e-6);
      expect(maxAbsDiff(ours.biases[i]!, ref.grads[2 * i + 1]!)).toBeLessThan(1e-6);
    });
    // Not all zero: a wrong transpose or a dropped layer would show.
    expect(Math.max(...ours.kernels[0]!.map(Math.abs))).toBeGreaterThan(1e-3);
  });

  it('uses only the first b rows of the buffers', () => {
    const { stack, x, labels } = fixture([6, 5, 3], 10, 12);
    const full = batchGradients(stack, x, labels, 4);
    const exact = batchGradients(stack, x.slice(0, 4 * 6), labels.slice(0, 4), 4);
    expect(full.loss).toBe(exact.loss);
    full.kernels.forEach((g, i) => expect(Array.from(g)).toEqual(Array.from(exact.kernels[i]!)));
  });
});

describe('Adam', () => {
  it('takes the steps tf.train.adam takes, including a step size changed between steps', () => {
    const rng = makeRng(5);
    const shapes = [12, 3];
    const ours = shapes.map((n) => Float32Array.from({ length: n }, () => rng.normal()));
    const initial = ours.map((w) => w.slice());
    const vars = ours.map((w) => tf.variable(tf.tensor1d(w)));
    const adam = new Adam(shapes, 0.01);
    const ref = tf.train.adam(0.01, 0.9, 0.999);
    for (let step = 0; step < 5; step++) {
      const lr = 0.01 * (1 - step / 5);
      adam.learningRate = lr;
      (ref as unknown as { learningRate: number }).learningRate = lr;
      const grads = shapes.map((n) => Float32Array.from({ length: n }, () => rng.normal()));
      adam.step(ours, grads);
      const named = vars.map((v, i) => ({ name: v.name, tensor: tf.tensor1d(grads[i]!) }));
      ref.applyGradients(named);
      tf.dispose(named.map((g) => g.tensor));
    }
    ours.forEach((w, i) => expect(maxAbsDiff(w, vars[i]!.dataSync())).toBeLessThan(1e-6));
    // The weights moved: five steps of up to lr each.
    expect(maxAbsDiff(ours[0]!, initial[0]!)).toBeGreaterThan(0.01);
    tf.dispose(vars);
    ref.dispose();
  });

  it('rejects gradients of the wrong length', () => {
    const adam = new Adam([3], 0.01);
    expect(() => adam.step([new Float32Array(3)], [new Float32Array(2)])).toThrow(/tensor 0 has 3 weights and 2 gradients, expected 3/);
  });
});
