import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingest } from '../../pipeline/01-ingest/ingest.ts';
import { computeFeatures } from '../../pipeline/02-features/features.ts';
import { categorize, fitLifecycle, type CustomerLenses, type LensInput } from '../../pipeline/06-categorize/lenses.ts';
import { defaultLensParams } from '../../pipeline/06-categorize/params.ts';
import { defaultConfig } from '../../pipeline/config/config.ts';
import { openDuck } from '../../pipeline/core/duck.ts';
import { quietLogger } from '../../pipeline/core/log.ts';
import { defaultGenerateParams, generateDataset } from '../../pipeline/generate/generate.ts';
import { lensInputFrom } from '../../pipeline/model/lens-input.ts';
import { withObservedActivity } from './observed-activity.ts';

/**
 * The lifecycle rule against the generator's planted truth: growing_sme firms grow +0.54 a
 * quarter and declining_firm ones shrink as much, so "growth" and "decline" should find them.
 * docs/lenses.md gives the figures on 20,000 customers; this run uses 6,000 of another seed.
 * The lens input carries the activity dates (first seen, span) the lifecycle rule reads when a
 * founded year is missing.
 */
const dir = mkdtempSync(join(tmpdir(), 'finseg-lifecycle-'));
let archetype: string[];
let lenses: CustomerLenses;
let input: LensInput;
/** The same customers' lifecycle from transactions alone (the usage_events file left out). */
let txnOnly: CustomerLenses;

/** Lenses of a data folder, with the activity dates the lifecycle rule reads. */
async function lensesOf(folder: string): Promise<{ input: LensInput; lenses: CustomerLenses; customerIds: string[] }> {
  const conn = await openDuck();
  try {
    const ingested = await ingest(conn, folder, defaultConfig().ingest, null, quietLogger);
    const features = await computeFeatures(conn, ingested.asOf, defaultConfig().features, ingested.absentTables);
    const input = await withObservedActivity(conn, lensInputFrom(features), features.customerIds, ingested.asOf, ingested.absentTables);
    return { input, lenses: categorize(input, defaultLensParams, fitLifecycle(input)), customerIds: features.customerIds };
  } finally {
    conn.closeSync();
  }
}

beforeAll(async () => {
  await generateDataset(dir, { ...defaultGenerateParams, customers: 6000, seed: 5 }, 'parquet', quietLogger);
  const both = await lensesOf(dir);
  ({ input, lenses } = both);
  const txnDir = join(dir, 'transactions-only');
  mkdirSync(txnDir);
  for (const f of ['customers.parquet', 'transactions.parquet']) copyFileSync(join(dir, f), join(txnDir, f));
  const fromTxns = await lensesOf(txnDir);
  expect(fromTxns.customerIds).toEqual(both.customerIds);
  txnOnly = fromTxns.lenses;
  const truth = new Map(
    readFileSync(join(dir, 'truth.csv'), 'utf8')
      .trim()
      .split('\n')
      .slice(1)
      .map((line) => line.split(',') as [string, string]),
  );
  archetype = both.customerIds.map((id) => truth.get(id)!);
}, 120_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Precision and recall of one lifecycle label against one planted archetype. */
function against(label: string, planted: string, of: CustomerLenses = lenses): { precision: number; recall: number } {
  let called = 0;
  let hits = 0;
  let total = 0;
  of.lifecycle.forEach((l, i) => {
    if (l === label) called++;
    if (archetype[i] === planted) total++;
    if (l === label && archetype[i] === planted) hits++;
  });
  return { precision: hits / called, recall: hits / total };
}

describe('lifecycle lens against planted growing and declining firms', () => {
  // Measured on this set: growth 0.477 / 0.562, decline 0.473 / 0.656; with recency_days over
  // usage and transactions together (catalog version 2) 0.476 / 0.562 and 0.501 / 0.607. The rule
  // before quiet-from-either-recency reached 0.472 / 0.540 and 0.460 / 0.530.
  it('finds growing firms with precision >= 0.46 and recall >= 0.52', () => {
    const g = against('growth', 'growing_sme');
    expect(g.precision).toBeGreaterThanOrEqual(0.46);
    expect(g.recall).toBeGreaterThanOrEqual(0.52);
  });

  it('finds declining firms with precision >= 0.46 and recall >= 0.55', () => {
    const d = against('decline', 'declining_firm');
    expect(d.precision).toBeGreaterThanOrEqual(0.46);
    expect(d.recall).toBeGreaterThanOrEqual(0.55);
  });

  it('calls every planted new micro firm (founded 0-2 years before signup, signed up within 6 months) with a founded year a startup', () => {
    const micro = lenses.lifecycle.filter((_, i) => archetype[i] === 'new_micro_services' && Number.isFinite(input.foundedYear[i]));
    expect(micro.length).toBeGreaterThan(500);
    expect(micro.filter((l) => l === 'startup').length / micro.length).toBe(1);
  });

  // The 4% without a founded year are judged by when they were first seen: in a one-year history,
  // the last quarter of it (91.25 days) counts as new, so one that signed up 5 months ago does not.
  it('calls a new micro firm without a founded year a startup exactly when signup and first activity fall in the last quarter of the span', () => {
    const window = 0.25 * input.spanDays!;
    let checked = 0;
    archetype.forEach((a, i) => {
      if (a !== 'new_micro_services' || Number.isFinite(input.foundedYear[i])) return;
      const seen = Math.max(input.tenureDays[i]!, Number.isFinite(input.firstSeenDays![i]) ? input.firstSeenDays![i]! : -Infinity);
      expect(lenses.lifecycle[i] === 'startup', `customer ${i} seen ${seen} days ago`).toBe(seen <= window);
      checked++;
    });
    expect(checked).toBeGreaterThan(10);
  });
});

describe('lifecycle lens from transactions alone, against the same planted firms', () => {
  // Planted: 14.8% growing, 11.9% declining. Measured on this set: growth 0.353 / 0.401, decline
  // 0.353 / 0.527; with decline at −0.7 rather than −1 it was 0.294 / 0.548 (docs/lenses.md).
  // Invoice volume is noisier than usage, so these sit below the usage figures, but at about 2.4
  // and 3 times the base rate.
  it('finds growing firms with precision >= 0.33 and recall >= 0.38', () => {
    const g = against('growth', 'growing_sme', txnOnly);
    expect(g.precision).toBeGreaterThanOrEqual(0.33);
    expect(g.recall).toBeGreaterThanOrEqual(0.38);
  });

  it('finds declining firms with precision >= 0.33 and recall >= 0.5', () => {
    const d = against('decline', 'declining_firm', txnOnly);
    expect(d.precision).toBeGreaterThanOrEqual(0.33);
    expect(d.recall).toBeGreaterThanOrEqual(0.5);
  });
});
