import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingest } from '../../pipeline/01-ingest/ingest.ts';
import { computeFeatures } from '../../pipeline/02-features/features.ts';
import { categorize, defaultLensParams, type CustomerLenses } from '../../pipeline/06-categorize/lenses.ts';
import { defaultConfig } from '../../pipeline/core/config.ts';
import { openDuck } from '../../pipeline/core/duck.ts';
import { quietLogger } from '../../pipeline/core/log.ts';
import { defaultGenerateParams, generateDataset } from '../../pipeline/generate/generate.ts';
import { lensInputFrom } from '../../pipeline/jobs/train.ts';

/**
 * The lifecycle rule against the generator's planted truth: growing_sme firms grow +0.54 a
 * quarter and declining_firm ones shrink as much, so "growth" and "decline" should find them.
 * docs/lenses.md gives the figures on 20,000 customers; this run uses 6,000 of another seed.
 */
const dir = mkdtempSync(join(tmpdir(), 'finseg-lifecycle-'));
let archetype: string[];
let lenses: CustomerLenses;

beforeAll(async () => {
  await generateDataset(dir, { ...defaultGenerateParams, customers: 6000, seed: 5 }, 'parquet', quietLogger);
  const conn = await openDuck();
  try {
    const ingested = await ingest(conn, dir, defaultConfig().ingest, null, quietLogger);
    const features = await computeFeatures(conn, ingested.asOf, defaultConfig().features, ingested.absentTables);
    lenses = categorize(lensInputFrom(features), defaultLensParams);
    const truth = new Map(
      readFileSync(join(dir, 'truth.csv'), 'utf8')
        .trim()
        .split('\n')
        .slice(1)
        .map((line) => line.split(',') as [string, string]),
    );
    archetype = features.customerIds.map((id) => truth.get(id)!);
  } finally {
    conn.closeSync();
  }
}, 120_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Precision and recall of one lifecycle label against one planted archetype. */
function against(label: string, planted: string): { precision: number; recall: number } {
  let called = 0;
  let hits = 0;
  let total = 0;
  lenses.lifecycle.forEach((l, i) => {
    if (l === label) called++;
    if (archetype[i] === planted) total++;
    if (l === label && archetype[i] === planted) hits++;
  });
  return { precision: hits / called, recall: hits / total };
}

describe('lifecycle lens against planted growing and declining firms', () => {
  // Measured on this set: growth 0.472 / 0.540, decline 0.460 / 0.530; the rule before it
  // (usage and volume agreeing past +0.15 / −0.25) reached 0.435 / 0.533 and 0.418 / 0.387.
  it('finds growing firms with precision >= 0.46 and recall >= 0.52', () => {
    const g = against('growth', 'growing_sme');
    expect(g.precision).toBeGreaterThanOrEqual(0.46);
    expect(g.recall).toBeGreaterThanOrEqual(0.52);
  });

  it('finds declining firms with precision >= 0.45 and recall >= 0.5', () => {
    const d = against('decline', 'declining_firm');
    expect(d.precision).toBeGreaterThanOrEqual(0.45);
    expect(d.recall).toBeGreaterThanOrEqual(0.5);
  });

  it('calls every planted new micro firm (founded 0-2 years before signup, signed up within 6 months) a startup', () => {
    const micro = lenses.lifecycle.filter((_, i) => archetype[i] === 'new_micro_services');
    expect(micro.length).toBeGreaterThan(500);
    expect(micro.filter((l) => l === 'startup').length / micro.length).toBe(1);
  });
});

