/**
 * nextmodule.json's schema (07-map/next-module.ts): the peer pools, adoption rates and the
 * offline evaluation of next best module. An optional state: a bundle trained without module use
 * has none.
 */
import * as v from 'valibot';
import type { NextModuleState } from '../07-map/next-module.ts';

const finite = v.pipe(v.number(), v.finite('expected a finite number'));
const count = v.pipe(v.number(), v.integer('expected an integer'), v.minValue(0, 'expected an integer >= 0'));
const share = v.pipe(finite, v.minValue(0, 'expected a share in [0, 1]'), v.maxValue(1, 'expected a share in [0, 1]'));
const hitRate = v.object({ hits: count, hitRate: v.nullable(share) });

/** nextmodule.json. */
export const nextModuleSchema = v.object({
  kind: v.literal('finseg.nextmodule'),
  version: v.literal(1),
  modules: v.array(v.string()),
  features: v.array(v.string()),
  params: v.object({ minShare: share, neighbours: count, topN: count, sampleCap: count, horizonDays: count }),
  seed: count,
  segments: v.array(
    v.object({
      customers: count,
      adoption: v.array(share),
      peers: v.array(v.pipe(v.number(), v.integer('expected an integer'))),
      recommended: v.array(v.object({ module: count, share })),
    }),
  ),
  evaluation: v.nullable(v.object({ horizonDays: count, at: count, customers: count, nextModule: hitRate, popularity: hitRate })),
}) satisfies v.GenericSchema<unknown, NextModuleState>;

/** Dimension checks a schema cannot state: one feature per module, one adoption rate per module, module indices in range, k segments. */
export function nextModuleProblems(s: NextModuleState, k: number): string[] {
  const problems: string[] = [];
  const m = s.modules.length;
  if (m > 31) problems.push(`modules: ${m} modules, at most 31 fit a mask`);
  if (s.features.length !== m) problems.push(`features: has ${s.features.length} entries, expected ${m}`);
  if (s.segments.length !== k) problems.push(`segments: has ${s.segments.length} entries, expected ${k} (the model's segments)`);
  s.segments.forEach((seg, i) => {
    if (seg.adoption.length !== m) problems.push(`segments[${i}].adoption: has ${seg.adoption.length} entries, expected ${m}`);
    seg.recommended.forEach((r, j) => {
      if (r.module >= m) problems.push(`segments[${i}].recommended[${j}].module: ${r.module}, expected below ${m}`);
    });
  });
  return problems;
}
