import type { Rng } from '../core/random.ts';

/**
 * Distributions the synthetic data generator draws from. All of them take the Rng explicitly,
 * so every draw is reproducible from the run seed.
 */

/** exp(median-centred normal): a lognormal with the given median and log-scale sigma. */
export function lognormal(rng: Rng, median: number, sigma: number): number {
  return median * Math.exp(sigma * rng.normal());
}

/** Uniform in [lo, hi). */
export function uniform(rng: Rng, lo: number, hi: number): number {
  return lo + (hi - lo) * rng.next();
}

/** Gamma(shape, 1) by Marsaglia-Tsang; shapes below 1 use the u^(1/shape) boost. */
export function gamma(rng: Rng, shape: number): number {
  if (shape <= 0) return 0;
  if (shape < 1) {
    let u = rng.next();
    while (u === 0) u = rng.next();
    return gamma(rng, shape + 1) * Math.pow(u, 1 / shape);
  }
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    const x = rng.normal();
    const t = 1 + c * x;
    if (t <= 0) continue;
    const v = t * t * t;
    const u = rng.next();
    if (u < 1 - 0.0331 * x * x * x * x) return d * v;
    if (u > 0 && Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
  }
}

/**
 * Dirichlet(concentration * mean) written into `out` (length = mean.length): a customer's own
 * mix scattered around an archetype profile; a higher concentration gives a tighter scatter.
 */
export function dirichletInto(rng: Rng, mean: ArrayLike<number>, concentration: number, out: Float64Array, offset = 0): void {
  let total = 0;
  for (let j = 0; j < mean.length; j++) {
    const g = gamma(rng, concentration * mean[j]!);
    out[offset + j] = g;
    total += g;
  }
  if (total === 0) {
    // Every component underflowed (tiny shapes): fall back to the profile itself.
    for (let j = 0; j < mean.length; j++) out[offset + j] = mean[j]!;
    return;
  }
  for (let j = 0; j < mean.length; j++) out[offset + j] = out[offset + j]! / total;
}

/** Turns weights (any scale) into a cumulative distribution ending at exactly 1. */
export function cumulative(weights: ArrayLike<number>): Float64Array {
  const out = new Float64Array(weights.length);
  let total = 0;
  for (let j = 0; j < weights.length; j++) total += weights[j]!;
  if (!(total > 0)) throw new Error('cumulative: weights must have a positive sum');
  let acc = 0;
  for (let j = 0; j < weights.length; j++) {
    acc += weights[j]! / total;
    out[j] = acc;
  }
  out[weights.length - 1] = 1;
  return out;
}

/** Index drawn from a cumulative distribution (`cdf` over cdf[offset .. offset+length)). */
export function pick(rng: Rng, cdf: ArrayLike<number>, offset = 0, length = cdf.length - offset): number {
  const u = rng.next();
  for (let j = 0; j < length - 1; j++) if (u < cdf[offset + j]!) return j;
  return length - 1;
}

/**
 * A position in [0, span) whose density is proportional to exp(rate * (x - span)): rate > 0 puts
 * more mass near the end of the span (growth), rate < 0 near the start (decline).
 */
export function trendedPosition(rng: Rng, span: number, rate: number): number {
  const u = rng.next();
  if (Math.abs(rate * span) < 1e-6) return u * span;
  // Inverse CDF of the truncated exponential, written relative to the end for numerical range.
  const lo = Math.exp(-rate * span);
  const x = span + Math.log(lo + u * (1 - lo)) / rate;
  return Math.min(Math.max(x, 0), span * (1 - 1e-12));
}

/** Unbiased randomized rounding: floor(x) or floor(x)+1 with the expectation x. */
export function roundRandom(rng: Rng, x: number): number {
  const f = Math.floor(x);
  return f + (rng.next() < x - f ? 1 : 0);
}
