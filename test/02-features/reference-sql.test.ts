import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { ingest, defaultIngestParams } from '../../pipeline/01-ingest/ingest.ts';
import { defaultFeatureParams, featureSql, type FeatureSqlDialect } from '../../pipeline/02-features/features.ts';
import { FEATURE_NAMES } from '../../pipeline/02-features/catalog.ts';
import { openDuck, readColumns, type Columns } from '../../pipeline/core/duck.ts';
import { quietLogger } from '../../pipeline/core/log.ts';
import { defaultGenerateParams, generateDataset } from '../../pipeline/generate/generate.ts';
import { referenceFeatureSql } from '../helpers/feature-sql-reference.ts';

/**
 * The streaming feature query (two passes, no materialised CTE), in both dialects (DuckDB's bit
 * masks for distinct days and modules, the portable count(DISTINCT …)), against the
 * straightforward one-CTE-per-aggregate query it replaced, on generated data read in place
 * (Parquet views) and staged (CSV tables): every feature equal within 1e-9, with NULLs in the
 * same places.
 */
const root = mkdtempSync(join(tmpdir(), 'finseg-refsql-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const params = { ...defaultGenerateParams, customers: 1500, eventsPerCustomer: 30, seed: 41 };
const TEXT = ['customer_id', 'industry', 'region', 'edition', 'deployment', 'buyer_role', 'signup_date'];

async function both(format: 'parquet' | 'csv', dialect: FeatureSqlDialect): Promise<{ fast: Columns; reference: Columns }> {
  const dir = join(root, `${format}-${dialect}`);
  await generateDataset(dir, params, format, quietLogger);
  const conn: DuckDBConnection = await openDuck();
  try {
    const result = await ingest(conn, dir, defaultIngestParams, null, quietLogger);
    return {
      fast: await readColumns(conn, featureSql(result.asOf, defaultFeatureParams, dialect), TEXT),
      reference: await readColumns(conn, referenceFeatureSql(result.asOf, defaultFeatureParams), TEXT),
    };
  } finally {
    conn.closeSync();
  }
}

describe.each([
  ['parquet', 'duckdb'],
  ['csv', 'duckdb'],
  ['parquet', 'portable'],
] as const)('feature SQL against the reference (%s, %s dialect)', (format, dialect) => {
  let fast: Columns;
  let reference: Columns;
  beforeAll(async () => ({ fast, reference } = await both(format, dialect)), 120_000);

  it('has the same customers in the same order and the same attributes', () => {
    expect(fast.rowCount).toBe(params.customers);
    expect(fast.text).toEqual(reference.text);
  });

  it('gives every feature within 1e-9, NULL (NaN) in the same places', () => {
    for (const f of FEATURE_NAMES) {
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
  });
});
