import { beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { totalVariation } from '../../pipeline/09-drift/forecast-mix.ts';
import { parseConfig } from '../../pipeline/config/config.ts';
import { quietLogger } from '../../pipeline/core/log.ts';
import { generateDriftSnapshot } from '../../pipeline/generate/drift.ts';
import { defaultGenerateParams, generateDataset } from '../../pipeline/generate/generate.ts';
import { retrainJob, type RetrainOutcome } from '../../pipeline/jobs/retrain.ts';
import { productionVersion, setProduction } from '../../pipeline/registry/registry.ts';

/**
 * The Markov forecast of the segment mix checked against what happened. Three generated
 * snapshots a quarter apart: the base, `generate --drift` from it, and `generate --drift` again
 * from that (the same planted movements, movements.csv, drawn a second time). A model trained on
 * the base is production; the retrain on the second snapshot forecasts production's mix one step
 * ahead from how production's customers moved between its segments (base → second snapshot);
 * what happened is production's assignment of the third snapshot's customers (productionNow in
 * the retrain on it, production kept). Measured: the total variation distance of the forecast
 * and of "no change" (today's mix carried forward) to the observed later mix. New and churned
 * customers are in the observed mix but not in the Markov step, which models movement only.
 */
const work = mkdtempSync(join(tmpdir(), 'finseg-mix-'));
const registry = join(work, 'models');
let clock = Date.parse('2026-10-05T03:00:00Z');
const now = () => new Date((clock += 60_000));
const config = parseConfig({});
const retrain = (dataDir: string) => retrainJob({ dataDir, registry, config, configSource: 'test', quarantineRoot: join(work, 'quarantine'), logger: quietLogger, now });

let first: RetrainOutcome;
let second: RetrainOutcome;
let third: RetrainOutcome;

beforeAll(async () => {
  const [base, later, latest] = ['base', 'later', 'latest'].map((d) => join(work, d)) as [string, string, string];
  await generateDataset(base, { ...defaultGenerateParams, customers: 2500, seed: 23 }, 'parquet', quietLogger);
  await generateDriftSnapshot(base, later, {}, quietLogger);
  await generateDriftSnapshot(later, latest, {}, quietLogger);
  first = await retrain(base);
  second = await retrain(later);
  // The forecast is in the first model's segments: it must still be production when the third snapshot arrives, whatever the gates said.
  if (productionVersion(registry) !== first.version) setProduction(registry, first.version, 'promote', 'test', 'the model the forecast is about', now());
  third = await retrain(latest);
}, 900_000);

describe('the Markov segment-mix forecast on generate --drift data', () => {
  it("is recorded in the retrain comparison: shares summing to 1 over production's ids, a stochastic P", () => {
    const f = second.comparison.mixForecast!;
    expect(first.comparison.mixForecast).toBeNull();
    expect(f.ids).toEqual(first.comparison.segments.map((s) => s.id));
    expect(f.now.reduce((s, x) => s + x, 0)).toBeCloseTo(1, 9);
    expect(f.next.reduce((s, x) => s + x, 0)).toBeCloseTo(1, 9);
    for (const row of f.transition) expect(row.reduce((s, x) => s + x, 0)).toBeCloseTo(1, 9);
  });

  it('is measured against the mix that happened a quarter later, next to "no change"', () => {
    const f = second.comparison.mixForecast!;
    expect(third.comparison.production).toBe(first.version);
    const observed = new Map(third.comparison.shares.map((s) => [s.id, s.productionNow ?? 0]));
    const later = f.ids.map((id) => observed.get(id) ?? 0);
    expect(later.reduce((s, x) => s + x, 0)).toBeCloseTo(1, 9);
    const forecastTv = totalVariation(f.next, later);
    const stayTv = totalVariation(f.now, later);
    // Recorded, not asserted better: on this generator's data the second drift does not repeat the
    // first one's segment movement (segments that lost customers in the first quarter hold steady in
    // the second), so carrying the movement forward is further from what happened than "no change"
    // (docs/retraining.md gives the figures). forecast-mix.test.ts checks the step on a planted
    // stationary chain, where the assumption holds.
    console.log(`mix forecast TVD ${forecastTv.toFixed(4)}, no change ${stayTv.toFixed(4)}`);
    expect(Number.isFinite(forecastTv) && Number.isFinite(stayTv)).toBe(true);
  });

  it('shows the forecast in the report', () => {
    expect(readFileSync(second.report.markdown, 'utf8')).toContain('### Segment mix forecast');
  });
});

describe.sequential('cleanup', () => {
  it('removes the work folder', () => rmSync(work, { recursive: true, force: true }));
});
