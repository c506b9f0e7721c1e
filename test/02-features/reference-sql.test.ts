import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { ingest, defaultIngestParams } from '../../pipeline/01-ingest/ingest.ts';
import { featureSql, resolveVendorModules } from '../../pipeline/02-features/features.ts';
import { defaultFeatureParams, type FeatureParams } from '../../pipeline/02-features/params.ts';
import { featureCatalog } from '../../pipeline/02-features/catalog.ts';
import type { SqlDialect } from '../../pipeline/02-features/dialect.ts';
import { openDuck, queryRows, readColumns, type Columns } from '../../pipeline/core/duck.ts';
import { quietLogger } from '../../pipeline/core/log.ts';
import { defaultGenerateParams, generateDataset } from '../../pipeline/generate/generate.ts';
import { referenceFeatureSql } from '../helpers/feature-sql-reference.ts';

/**
 * The streaming feature query (two passes, no materialised CTE), as DuckDB runs it (bit masks for
 * distinct days and modules) and as the Trino dialect spells it (count(DISTINCT …), the form
 * every other engine gets too; DuckDB reads Trino's spelling as is), against the
 * straightforward one-CTE-per-aggregate query it replaced, on generated data read in place
 * (Parquet views) and staged (CSV tables): every feature equal within 1e-9, with NULLs in the
 * same places. About a quarter of the usage rows are renamed to eleven vendor modules (names
 * outside the catalog), eight of which get shares of their own.
 */
const root = mkdtempSync(join(tmpdir(), 'finseg-refsql-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const params = { ...defaultGenerateParams, customers: 1500, eventsPerCustomer: 30, seed: 41 };
const TEXT = ['customer_id', 'industry', 'region', 'edition', 'deployment', 'buyer_role', 'signup_date'];
const VENDOR_NAMES = ['Bank feeds', 'Expense claims', 'Reports v2', 'Café öffnen', '银行对账', 'Time sheets', 'Quotes', 'Purchase orders', 'Fixed assets', 'Bills', 'Receipts'];

/** Renames a pseudo-random quarter of the usage rows to vendor modules, name i about (11 - i) times as often as the last. */
async function addVendorModules(conn: DuckDBConnection): Promise<void> {
  const [{ views }] = (await queryRows(conn, `SELECT count(*) AS views FROM duckdb_views() WHERE view_name = 'usage_events'`)) as [{ views: number }];
  const slot = `hash(customer_id, ts, user_id) % 264`;
  // Slots 0..65 (a quarter) map to names by a triangular split: name i takes 11 - i slots.
  const bounds = VENDOR_NAMES.map((_, i) => VENDOR_NAMES.slice(0, i + 1).reduce((a, __, j) => a + (11 - j), 0));
  const cases = VENDOR_NAMES.map((name, i) => `WHEN ${slot} < ${bounds[i]} THEN '${name}'`).join(' ');
  await conn.run(`CREATE TABLE __usage AS SELECT * REPLACE (CASE ${cases} ELSE module END AS module) FROM usage_events`);
  await conn.run(`DROP ${Number(views) > 0 ? 'VIEW' : 'TABLE'} usage_events; ALTER TABLE __usage RENAME TO usage_events`);
}

async function both(format: 'parquet' | 'csv', dialect: SqlDialect): Promise<{ fast: Columns; reference: Columns; features: string[] }> {
  const dir = join(root, `${format}-${dialect}`);
  await generateDataset(dir, params, format, quietLogger);
  const conn: DuckDBConnection = await openDuck();
  try {
    const result = await ingest(conn, dir, defaultIngestParams, null, quietLogger);
    await addVendorModules(conn);
    const vendorModules = await resolveVendorModules(conn, result.asOf, defaultFeatureParams);
    const featureParams: FeatureParams = { ...defaultFeatureParams, vendorModules };
    return {
      fast: await readColumns(conn, featureSql(result.asOf, featureParams, dialect), TEXT),
      reference: await readColumns(conn, referenceFeatureSql(result.asOf, featureParams), TEXT),
      features: [...featureCatalog(vendorModules), 'first_seen_days', 'last_seen_days'],
    };
  } finally {
    conn.closeSync();
  }
}

describe.each([
  ['parquet', 'duckdb'],
  ['csv', 'duckdb'],
  ['parquet', 'trino'],
] as const)('feature SQL against the reference (%s, %s dialect)', (format, dialect) => {
  let fast: Columns;
  let reference: Columns;
  let features: string[];
  beforeAll(async () => ({ fast, reference, features } = await both(format, dialect)), 120_000);

  it('has the same customers in the same order and the same attributes', () => {
    expect(fast.rowCount).toBe(params.customers);
    expect(fast.text).toEqual(reference.text);
  });

  it('gives every feature and the activity columns within 1e-9, NULL (NaN) in the same places', () => {
    expect(features.filter((f) => f.startsWith('share_vendor_'))).toHaveLength(9);
    for (const f of features) {
      const a = fast.numeric[f]!;
      const b = reference.numeric[f]!;
      let worst = 0;
      for (let i = 0; i < a.length; i++) {
        expect(Number.isNaN(a[i]!), `${f} row ${i}`).toBe(Number.isNaN(b[i]!));
        if (!Number.isNaN(a[i]!)) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
      }
      expect(worst, f).toBeLessThanOrEqual(1e-9);
    }
  });

  it('covers the edge cases the filtered aggregates must get right', () => {
    const events = fast.numeric['events_90']!;
    const trend = fast.numeric['usage_trend']!;
    const share = fast.numeric['share_general_ledger']!;
    let quietWithHistory = 0;
    for (let i = 0; i < events.length; i++) if (events[i] === 0 && trend[i]! < 0) quietWithHistory++;
    // Customers silent in the window but active before it: their shares are NULL, their trend negative.
    expect(quietWithHistory).toBeGreaterThan(0);
    expect(Array.from(share).some((v) => Number.isNaN(v))).toBe(true);
    // Vendor modules are used, named and pooled, and widen the module breadth beyond the catalog's.
    expect(Array.from(fast.numeric['share_vendor_bank_feeds']!).some((v) => v > 0)).toBe(true);
    expect(Array.from(fast.numeric['share_vendor_other']!).some((v) => v > 0)).toBe(true);
    // Some customers have activity before the window: first seen further back than 90 days.
    expect(Array.from(fast.numeric['first_seen_days']!).some((v) => v > 90)).toBe(true);
  });
});
