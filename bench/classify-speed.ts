/**
 * Times the classify and cold-start stages of `train` (and batch prediction, as `score` runs it)
 * on seeded synthetic data of vendor size, without ingest or clustering in front:
 *
 *   npx tsx bench/classify-speed.ts [rows ...]      # default: 100000 1000000
 *
 * Behavioural rows are 37 standardised features around k = 9 random centres, labelled by their
 * nearest centre (the shape of k-means segments); signup attributes lean towards each segment's
 * own industry, size and deployment with noise, so cold start is learnable but not exact. Prints
 * one line per stage with wall and CPU seconds, then the held-out agreements.
 */
import { initBackend } from '../pipeline/05-classify/backend.ts';
import { fitColdStart, predictColdStart, type ActivityProfile, type SignupAttributes } from '../pipeline/05-classify/coldstart.ts';
import { defaultColdStartParams } from '../pipeline/05-classify/params.ts';
import { fitClassifier, predictProba } from '../pipeline/05-classify/mlp.ts';
import { defaultClassifierParams } from '../pipeline/05-classify/params.ts';
import { quietLogger } from '../pipeline/core/log.ts';
import type { Matrix } from '../pipeline/core/matrix.ts';
import { makeRng } from '../pipeline/core/random.ts';

const K = 9;
const D = 37;
const SEED = 7;

/** n rows (n, D) around K centres, labelled by the nearest centre. */
function behaviour(n: number): { X: Matrix; labels: Int32Array } {
  const rng = makeRng(SEED);
  const centres = Float64Array.from({ length: K * D }, () => 0.35 * rng.normal());
  const data = new Float64Array(n * D);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = rng.int(K);
    for (let j = 0; j < D; j++) data[i * D + j] = centres[c * D + j]! + rng.normal();
    let best = 0;
    let bestDist = Infinity;
    for (let m = 0; m < K; m++) {
      let s = 0;
      for (let j = 0; j < D; j++) s += (data[i * D + j]! - centres[m * D + j]!) ** 2;
      if (s < bestDist) [best, bestDist] = [m, s];
    }
    labels[i] = best;
  }
  return { X: { rows: n, cols: D, data }, labels };
}

const INDUSTRIES = ['retail', 'manufacturing', 'services', 'healthcare', 'construction', 'platform', 'holding', 'micro', 'other'];
const ROLES = ['finance', 'it', 'executive', 'owner', 'other'];
const REGIONS = ['east', 'north', 'south', 'west', 'central', 'overseas'];
const DEPLOYMENTS = ['cloud', 'on_prem', 'hybrid'];
const EDITIONS = ['starter', 'standard', 'pro', 'enterprise'];

/** Signup attributes of n customers whose segments are `labels`: each attribute follows the segment 60% of the time. */
function signups(labels: Int32Array): { attrs: SignupAttributes; history: Int32Array } {
  const rng = makeRng(SEED + 1);
  const n = labels.length;
  const leaning = <T>(values: readonly T[], c: number): T => values[rng.next() < 0.6 ? c % values.length : rng.int(values.length)]!;
  const history = Int32Array.from(labels, () => (rng.next() < 0.05 ? rng.int(3) : 3 + rng.int(500)));
  return {
    attrs: {
      industry: Array.from(labels, (c) => leaning(INDUSTRIES, c)),
      buyerRole: Array.from(labels, (c) => leaning(ROLES, c)),
      region: Array.from(labels, () => REGIONS[rng.int(REGIONS.length)]!),
      deployment: Array.from(labels, (c) => leaning(DEPLOYMENTS, c)),
      edition: Array.from(labels, (c) => leaning(EDITIONS, c >> 1)),
      employees: Float64Array.from(labels, (c) => (rng.next() < 0.1 ? NaN : Math.round(Math.exp(1 + c * 0.5 + rng.normal())))),
      annualRevenue: Float64Array.from(labels, (c) => Math.exp(4 + c * 0.4 + rng.normal())),
      foundedYear: Float64Array.from(labels, (c) => 2024 - Math.round(2 + c * 2 + 3 * Math.abs(rng.normal()))),
      signupDate: Array.from({ length: n }, () => '2025-06-01'),
    },
    history,
  };
}

/** Wall and CPU seconds: on a shared machine the CPU time is the steadier of the two. */
async function timed<T>(what: string, rows: number, run: () => Promise<T>): Promise<T> {
  const start = performance.now();
  const cpuStart = process.cpuUsage();
  const out = await run();
  const cpu = process.cpuUsage(cpuStart);
  const wall = ((performance.now() - start) / 1000).toFixed(2);
  console.log(`${String(rows).padStart(8)} rows  ${what.padEnd(18)} ${wall.padStart(6)} s wall ${((cpu.user + cpu.system) / 1e6).toFixed(2).padStart(6)} s cpu`);
  return out;
}

// The timing is of the fit alone: no recency feature, so the segment rule's activity check never applies.
const NO_RECENCY: ActivityProfile = { recencyFeature: null, inactiveAfterDays: 90, activeSegmentShare: 0.5, segmentActiveShare: Array(K).fill(null), activeSegments: Array(K).fill(true) };

await initBackend(quietLogger);
const sizes = process.argv.slice(2).map(Number);
for (const n of sizes.length > 0 ? sizes : [100_000, 1_000_000]) {
  const { X, labels } = behaviour(n);
  const { attrs, history } = signups(labels);
  const classifier = await timed('fitClassifier', n, () => fitClassifier(X, labels, K, defaultClassifierParams, SEED));
  await timed('predictProba', n, () => predictProba(classifier, X));
  const coldStart = await timed('fitColdStart', n, () => fitColdStart(attrs, labels, K, history, defaultColdStartParams, SEED, NO_RECENCY));
  await timed('predictColdStart', n, () => predictColdStart(coldStart, attrs));
  console.log(
    `${String(n).padStart(8)} rows  held-out agreement: classifier ${(classifier.metrics.heldOutAccuracy * 100).toFixed(2)}% ` +
      `(${classifier.metrics.epochs} epochs on ${classifier.metrics.nTrain} rows), cold start ${(coldStart.metrics.heldOutAccuracy * 100).toFixed(2)}% ` +
      `(${coldStart.classifier.metrics.epochs} epochs, baseline ${(coldStart.metrics.majorityBaseline * 100).toFixed(2)}%)`,
  );
}
