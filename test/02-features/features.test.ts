import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { ingest, defaultIngestParams } from '../../pipeline/01-ingest/ingest.ts';
import { computeFeatures, featureSql, type FeatureTable } from '../../pipeline/02-features/features.ts';
import { defaultFeatureParams } from '../../pipeline/02-features/params.ts';
import { FEATURE_NAMES } from '../../pipeline/02-features/catalog.ts';
import { openDuck } from '../../pipeline/core/duck.ts';
import { quietLogger } from '../../pipeline/core/log.ts';

const tiny = join(import.meta.dirname, '../fixtures/tiny');

describe('feature SQL on the tiny export as of 2026-09-30', () => {
  let conn: DuckDBConnection;
  let table: FeatureTable;
  const value = (id: string, f: string) => table.X.data[table.customerIds.indexOf(id) * table.X.cols + table.featureNames.indexOf(f)];
  beforeAll(async () => {
    conn = await openDuck();
    await ingest(conn, tiny, { ...defaultIngestParams, asOf: '2026-09-30', quarantineLimit: 1 }, null, quietLogger);
    table = await computeFeatures(conn, '2026-09-30', defaultFeatureParams);
  });
  afterAll(() => conn.closeSync());

  it('has one row per accepted customer and the whole catalog (>= 40 features)', () => {
    // E is kept: its bad head count (-4) is a nulled cell, not a quarantined customer.
    expect(table.customerIds).toEqual(['A', 'B', 'C', 'E']);
    expect(table.featureNames).toEqual([...FEATURE_NAMES]);
    expect(table.featureNames.length).toBeGreaterThanOrEqual(40);
  });

  it('computes activity, module mix and channel shares over the 90-day window', () => {
    // A in the window: invoicing ×2 on 09-30 (mobile), invoicing and inventory on 09-29 (web, mobile),
    // and inventory on 09-02 whose device "fax machine" was nulled (the event kept, device unknown).
    expect(value('A', 'active_days_90')).toBe(3);
    expect(value('A', 'events_90')).toBe(5);
    expect(value('A', 'users_90')).toBe(2);
    expect(value('A', 'events_per_user_90')).toBe(2.5);
    expect(value('A', 'module_breadth_90')).toBe(2);
    expect(value('A', 'share_invoicing')).toBe(0.6);
    expect(value('A', 'share_inventory')).toBe(0.4);
    expect(value('A', 'share_payroll')).toBe(0);
    expect(value('A', 'device_mobile_share')).toBe(0.6);
    expect(value('A', 'recency_days')).toBe(1);
    expect(value('A', 'tenure_days')).toBe(273);
    // B's last usage event is on 2026-08-01 (61 days), its last transaction on 2026-09-01: recency is the later.
    expect(value('B', 'recency_days')).toBe(30);
    expect(value('B', 'tenure_days')).toBe(458);
    expect(value('B', 'device_desktop_share')).toBe(1);
  });

  it('computes transaction volume, size, small tickets, foreign and refund shares', () => {
    expect(value('A', 'txn_count_90')).toBe(3);
    expect(value('A', 'txn_volume_90')).toBe(250);
    expect(value('A', 'txn_avg_size')).toBeCloseTo(250 / 3, 12);
    expect(value('A', 'small_ticket_share')).toBeCloseTo(2 / 3, 12);
    expect(value('A', 'refund_share')).toBeCloseTo(1 / 3, 12);
    expect(value('A', 'foreign_share')).toBe(0);
    expect(value('B', 'currencies_90')).toBe(2);
    expect(value('B', 'foreign_share')).toBe(0.25);
    expect(value('B', 'kind_payroll_share')).toBe(0.5);
  });

  it('computes all-history transaction recency, tenure, active months, count, volume and basket', () => {
    // A: 50 on 09-30, 150 on 09-20, -50 on 09-21 (a refund counts by its size); 11 days from 09-20 to the end of 09-30.
    expect(value('A', 'txn_recency_days')).toBe(1);
    expect(value('A', 'txn_tenure_days')).toBe(11);
    expect(value('A', 'txn_active_months')).toBe(1);
    expect(value('A', 'txn_count_all')).toBe(3);
    expect(value('A', 'txn_volume_all')).toBe(250);
    expect(value('A', 'txn_avg_basket')).toBeCloseTo(250 / 3, 12);
    // B: 1000 on 04-01 (before the previous window, still all history), 3000 on 08-01, 1000 on 09-01; its 'abc' row is quarantined.
    expect(value('B', 'txn_recency_days')).toBe(30);
    expect(value('B', 'txn_tenure_days')).toBe(183);
    expect(value('B', 'txn_active_months')).toBe(3);
    expect(value('B', 'txn_count_all')).toBe(3);
    expect(value('B', 'txn_volume_all')).toBe(5000);
    expect(value('B', 'txn_avg_basket')).toBeCloseTo(5000 / 3, 12);
    // C never bought: recency from signup (09-01), no tenure or basket, zero counts.
    expect(value('C', 'txn_recency_days')).toBe(30);
    expect(Number.isNaN(value('C', 'txn_tenure_days')!)).toBe(true);
    expect(value('C', 'txn_active_months')).toBe(0);
    expect(value('C', 'txn_count_all')).toBe(0);
    expect(value('C', 'txn_volume_all')).toBe(0);
    expect(Number.isNaN(value('C', 'txn_avg_basket')!)).toBe(true);
  });

  it('gives first and last activity of either table, and the span of the data', () => {
    // A: first usage 05-01 (153 days to the end of 09-30), last activity 09-30. B: first usage 03-01 (214 days), last transaction 09-01.
    expect(Array.from(table.activity!.firstSeenDays)).toEqual([153, 214, NaN, NaN]);
    expect(Array.from(table.activity!.lastSeenDays)).toEqual([1, 30, NaN, NaN]);
    expect(table.activity!.spanDays).toBe(214);
  });

  it('computes trends as log ratios of this window to the previous one', () => {
    // A: 5 actions this window, 1 (05-01) the previous one: log((5 + 1) / (1 + 1)).
    expect(value('A', 'usage_trend')).toBeCloseTo(Math.log(6 / 2), 12);
    expect(value('B', 'usage_trend')).toBeCloseTo(Math.log(5), 12);
    expect(value('A', 'volume_trend')).toBeCloseTo(Math.log(251), 12);
    expect(value('B', 'volume_trend')).toBeCloseTo(Math.log(4001), 12) // its April purchase is before the previous window;
  });

  it('leaves shares undefined (NaN) for a customer without events and counts recency from signup', () => {
    expect(value('C', 'events_90')).toBe(0);
    expect(Number.isNaN(value('C', 'share_invoicing')!)).toBe(true);
    expect(value('C', 'recency_days')).toBe(30);
    expect(value('C', 'usage_trend')).toBe(0);
  });

  it('carries the customer attributes for the lenses', () => {
    expect(table.attributes.industry).toEqual(['Retail', 'Manufacturing', null, 'Retail']);
    expect(Array.from(table.attributes.employees)).toEqual([5, 120, NaN, NaN]);
  });
});

describe('history, the rows cold start counts', () => {
  it.each(['duckdb', 'trino'] as const)('counts usage event and transaction rows (not their count column) before the end of the as-of day, 0 for none (%s)', async (dialect) => {
    const conn = await openDuck();
    try {
      await conn.run(`CREATE TABLE customers AS SELECT customer_id, DATE '2025-01-01' AS signup_date, 'retail' AS industry, 'east' AS region, 'pro' AS edition,
        'cloud' AS deployment, 'finance' AS buyer_role, 10 AS employees, 1000.0 AS annual_revenue, 2000 AS founded_year FROM (VALUES ('b'), ('a'), ('c')) t(customer_id)`);
      await conn.run(`CREATE TABLE usage_events AS SELECT customer_id, CAST(ts AS TIMESTAMP) AS ts, 'invoicing' AS module, 'desktop' AS device, 'u1' AS user_id, 5 AS "count"
        FROM (VALUES ('a', '2026-09-30 23:59:00'), ('a', '2026-10-01 00:00:00'), ('b', '2026-01-01 00:00:00')) t(customer_id, ts)`);
      await conn.run(`CREATE TABLE transactions AS SELECT customer_id, CAST(ts AS TIMESTAMP) AS ts, 10.0 AS amount, 'CNY' AS currency, 'sale' AS kind
        FROM (VALUES ('b', '2026-02-01 00:00:00'), ('b', '2026-03-01 00:00:00'), ('c', '2026-10-02 00:00:00')) t(customer_id, ts)`);
      const got = await conn.runAndReadAll(`SELECT customer_id, history FROM (${featureSql('2026-09-30', defaultFeatureParams, dialect)})`);
      expect(got.getRowsJS().map(([id, h]) => [id, Number(h)])).toEqual([
        ['a', 1],
        ['b', 3],
        ['c', 0],
      ]);
    } finally {
      conn.closeSync();
    }
  });
});

describe('distinct days and modules of the window, as bit masks (duckdb) and count(DISTINCT …) (trino)', () => {
  it.each(['duckdb', 'trino'] as const)('counts the first and last day of the window and nothing outside it (%s)', async (dialect) => {
    const conn = await openDuck();
    try {
      await conn.run(`CREATE TABLE customers AS SELECT 'A' AS customer_id, DATE '2025-01-01' AS signup_date, 'retail' AS industry, 'east' AS region,
        'pro' AS edition, 'cloud' AS deployment, 'finance' AS buyer_role, 10 AS employees, 1000.0 AS annual_revenue, 2000 AS founded_year`);
      // The window of 2026-09-30 is [2026-07-03, 2026-10-01): day offsets 89 down to 0.
      await conn.run(`CREATE TABLE usage_events AS SELECT 'A' AS customer_id, CAST(ts AS TIMESTAMP) AS ts, module, 'desktop' AS device, 'u1' AS user_id, NULL::INTEGER AS "count"
        FROM (VALUES ('2026-07-02 23:59:59', 'payroll'), ('2026-07-03 00:00:00', 'invoicing'), ('2026-09-30 08:00:00', 'invoicing'),
                     ('2026-09-30 23:59:59', 'inventory'), ('2026-10-01 00:00:00', 'reporting')) t(ts, module)`);
      await conn.run(`CREATE TABLE transactions AS SELECT 'A' AS customer_id, TIMESTAMP '2026-09-01 00:00:00' AS ts, 10.0 AS amount, 'CNY' AS currency, 'sale' AS kind`);
      const got = await conn.runAndReadAll(`SELECT active_days_90, module_breadth_90, events_90 FROM (${featureSql('2026-09-30', defaultFeatureParams, dialect)})`);
      expect(got.getRowsJS()[0]!.map(Number)).toEqual([2, 2, 3]);
    } finally {
      conn.closeSync();
    }
  });
});
