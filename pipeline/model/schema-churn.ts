/**
 * The schema of `churn.json`, the optional churn propensity state (05-classify/churn.ts), in the
 * key order fitChurn writes, so a validated state serialises back to the same bytes.
 */
import * as v from 'valibot';
import type { ChurnState } from '../05-classify/churn.ts';

const finite = v.pipe(v.number(), v.finite('expected a finite number'));
const nanable = v.pipe(v.nullable(v.number()), v.transform((x): number => x ?? Number.NaN));
const count = v.pipe(v.number(), v.integer('expected an integer'), v.minValue(0, 'expected an integer >= 0'));
const numbers = v.array(finite);
const probability = v.pipe(finite, v.minValue(0, 'expected a probability'), v.maxValue(1, 'expected a probability'));

const source = v.variant('kind', [
  v.object({ kind: v.literal('subscriptions'), horizonDays: count, trainingAsOf: v.string(), labelAsOf: v.string(), definition: v.string() }),
  v.object({ kind: v.literal('profileColumn'), column: v.string(), positiveValues: v.array(v.string()), asOf: v.string(), definition: v.string() }),
]);

const derived = v.variant('kind', [
  v.object({ kind: v.literal('raw'), column: count }),
  v.object({ kind: v.literal('log1p'), column: count }),
  v.object({ kind: v.literal('above'), column: count, threshold: finite }),
  v.object({ kind: v.literal('product'), column: count, other: count }),
]);

/** churn.json: the fitted churn model, its backtest and the training customers' risk per segment. */
export const churnSchema = v.object({
  kind: v.literal('finseg.churn'),
  version: v.literal(1),
  source,
  expansion: v.object({ features: v.array(v.string()), medians: numbers, means: numbers, sds: numbers, derived: v.array(derived), centre: numbers, scale: numbers }),
  coef: numbers,
  intercept: finite,
  l2: finite,
  platt: v.object({ a: finite, b: finite }),
  backtest: v.object({
    folds: count,
    seed: count,
    n: count,
    sampledFrom: v.optional(count),
    positives: count,
    baseRate: probability,
    auc: nanable,
    foldAuc: v.array(nanable),
    precisionTopDecile: nanable,
    brier: finite,
    brierBaseRate: finite,
    calibration: v.array(v.object({ lower: finite, upper: finite, count, meanPredicted: v.nullable(finite), observedRate: v.nullable(finite) })),
  }),
  topDecileThreshold: v.nullable(finite),
  segments: v.array(v.object({ segmentId: count, customers: count, mean: finite, p50: finite, p90: finite, shareTopDecile: finite })),
  plantedAuc: v.nullable(finite),
}) satisfies v.GenericSchema<unknown, ChurnState>;

/** Dimensions inside churn.json that the schema cannot state; empty when consistent. */
export function churnProblems(s: ChurnState): string[] {
  const e = s.expansion;
  const problems: string[] = [];
  const p = e.features.length;
  for (const [name, arr] of [['medians', e.medians], ['means', e.means], ['sds', e.sds]] as const) if (arr.length !== p) problems.push(`expansion.${name}: ${arr.length} values for ${p} features`);
  const q = e.derived.length;
  for (const [name, arr] of [['expansion.centre', e.centre], ['expansion.scale', e.scale], ['coef', s.coef]] as const) if (arr.length !== q) problems.push(`${name}: ${arr.length} values for ${q} derived columns`);
  e.derived.forEach((d, i) => {
    if (d.column >= p || (d.kind === 'product' && d.other >= p)) problems.push(`expansion.derived[${i}]: refers to a feature beyond the ${p} listed`);
  });
  return problems;
}
