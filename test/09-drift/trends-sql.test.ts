import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MODULES } from '../../pipeline/01-ingest/contract.ts';
import { ingest, defaultIngestParams } from '../../pipeline/01-ingest/ingest.ts';
import { computeFeatures } from '../../pipeline/02-features/features.ts';
import { defaultFeatureParams } from '../../pipeline/02-features/params.ts';
import { defaultTrendParams, prepareMonthlyUse, fitTrends, trendsFromCounts, usableMonths, type MonthlyUse, type TrendsState } from '../../pipeline/09-drift/trends.ts';
import { openDuck, readColumns, sqlString } from '../../pipeline/core/duck.ts';
import { quietLogger } from '../../pipeline/core/log.ts';
import { makeRng } from '../../pipeline/core/random.ts';
import { defaultGenerateParams, generateDataset } from '../../pipeline/generate/generate.ts';

/**
 * prepareMonthlyUse counts monthly module use per (segment, month) inside DuckDB. The straightforward
 * path it replaced read one row per (customer, month) into JS and counted there (fitTrends); on
 * generated data both must give the same trends state, field for field.
 */
const root = mkdtempSync(join(tmpdir(), 'finseg-trends-sql-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('module-adoption trends counted in SQL', () => {
  let fast: TrendsState;
  let reference: TrendsState;
  beforeAll(async () => {
    await generateDataset(root, { ...defaultGenerateParams, customers: 800, eventsPerCustomer: 30, seed: 5 }, 'parquet', quietLogger);
    const conn = await openDuck();
    try {
      const ingested = await ingest(conn, root, defaultIngestParams, null, quietLogger);
      const { customerIds } = await computeFeatures(conn, ingested.asOf, defaultFeatureParams, ingested.absentTables);
      const rng = makeRng(3);
      const labels = Int32Array.from(customerIds, () => rng.int(4));
      const segmentIds = [7, 3, 11, 0];
      const { counts, months } = await (await prepareMonthlyUse(conn, ingested.asOf, customerIds, labels, segmentIds.length, defaultTrendParams))();
      fast = trendsFromCounts(counts, segmentIds, months, defaultTrendParams);

      const end = `(DATE ${sqlString(ingested.asOf)} + INTERVAL 1 DAY)`;
      const catalog = `[${MODULES.map(sqlString).join(', ')}]`;
      const first = await readColumns(conn, `SELECT CAST(CAST(min(ts) AS DATE) AS VARCHAR) AS d FROM usage_events WHERE ts < ${end}`, ['d']);
      const rows = await readColumns(
        conn,
        `SELECT customer_id, (year(ts) * 12 + month(ts) - 1)::INTEGER AS month,
                coalesce(bit_or(1 << (list_position(${catalog}, module) - 1)), 0)::INTEGER AS mask, count(*)::INTEGER AS events
           FROM usage_events WHERE ts < ${end} GROUP BY ALL`,
        ['customer_id'],
      );
      const index = new Map(customerIds.map((id, i) => [id, i]));
      const use: MonthlyUse = {
        customer: Int32Array.from(rows.text.customer_id!, (id) => index.get(id!)!),
        month: Int32Array.from(rows.numeric.month!),
        mask: Int32Array.from(rows.numeric.mask!),
        events: Int32Array.from(rows.numeric.events!),
      };
      reference = fitTrends(use, labels, segmentIds, usableMonths(first.text.d![0]!, ingested.asOf, defaultTrendParams.minCoveredDays), defaultTrendParams);
    } finally {
      conn.closeSync();
    }
  }, 120_000);

  it('equals the per-customer count in JS, field for field', () => {
    expect(fast).toEqual(reference);
  });

  it('has months, active customers and forecasts to compare', () => {
    expect(fast.months.length).toBeGreaterThanOrEqual(defaultTrendParams.minMonths);
    expect(fast.segments.every((s) => s.activeCustomers.some((a) => a > 0))).toBe(true);
    expect(fast.segments.some((s) => s.modules.some((m) => m.forecast !== null))).toBe(true);
    expect(fast.segments.every((s) => s.volume.eventsPerActive.some((v) => v !== null && v > 0))).toBe(true);
  });
});
