import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingest } from '../../pipeline/01-ingest/ingest.ts';
import { computeFeatures } from '../../pipeline/02-features/features.ts';
import { categorize, fitLifecycle, LIFECYCLE_LABELS, type CustomerLenses } from '../../pipeline/06-categorize/lenses.ts';
import { lensMeasurability, LENS_NEEDS } from '../../pipeline/06-categorize/measurability.ts';
import { loadConfig } from '../../pipeline/config/config.ts';
import { openDuck, queryRows, sqlString } from '../../pipeline/core/duck.ts';
import { quietLogger } from '../../pipeline/core/log.ts';
import { trainJob } from '../../pipeline/jobs/train.ts';
import { lensInputFrom } from '../../pipeline/model/lens-input.ts';
import { segmentsExport, type ManifestView } from '../../pipeline/10-report/report.ts';
import { withObservedActivity } from './observed-activity.ts';

/**
 * The lenses on a one-year, transactions-only export without customer attributes (the UCI
 * Online Retail sample in the repository, run through ingest and features as
 * examples/online-retail.json reads it). Expected stages are derived here from the raw CSV,
 * independently of the pipeline: each customer's first and last invoice day.
 */
const fixture = join(import.meta.dirname, '../fixtures/real/online-retail');
const csv = join(fixture, 'online_retail_sample_20k.csv');
const root = mkdtempSync(join(tmpdir(), 'finseg-lenses-txn-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function config() {
  const c = loadConfig(join(import.meta.dirname, '../../examples/online-retail.json'));
  c.ingest.dataDir = fixture;
  return c;
}

let ids: string[];
let lenses: CustomerLenses;
/** Per customer: days from its first / last invoice to the end of the as-of date, from the raw file. */
let first: Map<string, number>;
let last: Map<string, number>;
let span: number;

beforeAll(async () => {
  const conn = await openDuck();
  try {
    const c = config();
    const ingested = await ingest(conn, fixture, c.ingest, join(root, 'q'), quietLogger);
    const features = await computeFeatures(conn, ingested.asOf, c.features, ingested.absentTables);
    const input = await withObservedActivity(conn, lensInputFrom(features), features.customerIds, ingested.asOf, ingested.absentTables);
    lenses = categorize(input, c.lenses, fitLifecycle(input));
    ids = features.customerIds;
    const raw = await queryRows(
      conn,
      `WITH d AS (SELECT CustomerID AS id, CAST(InvoiceDate AS DATE) AS day FROM read_csv(${sqlString(csv)}, all_varchar = true, header = true) WHERE CustomerID <> 'NA'),
            e AS (SELECT max(day) + 1 AS day_end, min(day) AS day_start FROM d)
       SELECT id, date_diff('day', min(day), any_value(e.day_end)) AS first_seen, date_diff('day', max(day), any_value(e.day_end)) AS last_seen,
              date_diff('day', any_value(e.day_start), any_value(e.day_end)) AS span
       FROM d CROSS JOIN e GROUP BY id`,
    );
    first = new Map(raw.map((r) => [String(r.id), Number(r.first_seen)]));
    last = new Map(raw.map((r) => [String(r.id), Number(r.last_seen)]));
    span = Number(raw[0]!.span);
  } finally {
    conn.closeSync();
  }
}, 60_000);

describe('lifecycle on a one-year transactions-only export (Online Retail sample)', () => {
  it('covers about one year and all 3,049 customers have activity', () => {
    expect(span).toBe(374); // 2010-12-01 to the end of 2011-12-09
    expect(ids.length).toBe(3049);
    expect(ids.every((id) => first.has(id))).toBe(true);
  });

  it('does not put 95% or more of the customers in one lifecycle label', () => {
    for (const label of LIFECYCLE_LABELS) {
      const share = lenses.lifecycle.filter((l) => l === label).length / ids.length;
      expect(share, label).toBeLessThan(0.95);
    }
  });

  // Days are counted here from calendar days; a feature stage counting from timestamps may differ
  // by under a day, so customers within a day of a threshold are left out of the comparison.
  it('calls exactly the customers first seen in the last quarter of the span startups', () => {
    const window = 0.25 * span;
    let compared = 0;
    ids.forEach((id, i) => {
      const seen = first.get(id)!;
      if (Math.abs(seen - window) <= 1) return;
      expect(lenses.lifecycle[i] === 'startup', `${id} first seen ${seen} days ago`).toBe(seen < window);
      compared++;
    });
    expect(compared).toBeGreaterThan(3000);
    // not the one-year tenure rule's "everyone": about a quarter of them
    const share = lenses.lifecycle.filter((l) => l === 'startup').length / ids.length;
    expect(share).toBeGreaterThan(0.2);
    expect(share).toBeLessThan(0.35);
  });

  it('calls every other customer without an invoice in the last 90 days declining (gone quiet)', () => {
    let quiet = 0;
    ids.forEach((id, i) => {
      if (first.get(id)! > 0.25 * span + 1 && last.get(id)! >= 91) {
        expect(lenses.lifecycle[i], id).toBe('decline');
        quiet++;
      }
    });
    expect(quiet).toBeGreaterThan(1000);
  });

  it('finds no size, industry, technology or buyer role in an export without attributes or usage: not measurable, naming what is needed', () => {
    const m = lensMeasurability(lenses);
    for (const lens of ['size', 'industry', 'technology', 'buyerRole'] as const) {
      expect(m[lens], lens).toEqual({ measurable: false, unknownShare: 1, needs: LENS_NEEDS[lens] });
    }
    expect(m.lifecycle.measurable).toBe(true);
    expect(m.lifecycle.unknownShare).toBe(0);
  });
});

describe('lens measurability in a trained model', () => {
  it('is stored in the segments state and exported in segments.json', async () => {
    const c = config();
    const outcome = await trainJob({
      dataDir: fixture,
      registry: join(root, 'models'),
      config: c,
      configSource: 'examples/online-retail.json',
      quarantineRoot: join(root, 'quarantine'),
      logger: quietLogger,
      now: () => new Date('2026-12-07T10:00:00Z'),
    });
    const segments = outcome.states['segments.json'];
    expect(segments.lensMeasurability?.buyerRole).toEqual({ measurable: false, unknownShare: 1, needs: 'customers.buyer_role' });
    expect(segments.lensMeasurability?.lifecycle.measurable).toBe(true);
    expect(segments.lifecycleFit).toHaveProperty('spanDays');
    const exported = segmentsExport(outcome.manifest as unknown as ManifestView, segments) as { lensMeasurability: unknown };
    expect(exported.lensMeasurability).toEqual(segments.lensMeasurability);
    // Next best module reads module use: a transactions-only export has none, so the bundle has no nextmodule state.
    expect(outcome.states['nextmodule.json']).toBeUndefined();
    expect(outcome.manifest.files).not.toHaveProperty(['nextmodule.json']);
    expect(outcome.manifest.metrics).not.toHaveProperty('nextModule');
  }, 60_000);
});
