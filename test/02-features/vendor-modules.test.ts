import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { defaultIngestParams } from '../../pipeline/01-ingest/ingest.ts';
import { FEATURE_NAMES, featureCatalog, moduleOfShareFeature, vendorModuleFeatures, vendorModuleLabel } from '../../pipeline/02-features/catalog.ts';
import { computeFeatures, featureSql, resolveVendorModules, type FeatureTable } from '../../pipeline/02-features/features.ts';
import { defaultFeatureParams } from '../../pipeline/02-features/params.ts';
import { readFeatureFile, writeFeatureTable } from '../../pipeline/02-features/feature-file.ts';
import { bundleFeatureParams } from '../../pipeline/model/apply.ts';
import { defaultConfig } from '../../pipeline/config/config.ts';
import { openDuck } from '../../pipeline/core/duck.ts';
import { quietLogger } from '../../pipeline/core/log.ts';

/**
 * Vendor modules: usage module values outside the catalog (what ingest keeps as the vendor's own
 * names). The rows are inserted straight into contract-shaped tables, as ingest would leave them.
 */
const AS_OF = '2026-09-30';

async function tables(conn: DuckDBConnection, events: [string, string, string, number | null][]): Promise<void> {
  await conn.run(`CREATE OR REPLACE TABLE customers AS SELECT customer_id, DATE '2025-01-01' AS signup_date, 'retail' AS industry, 'east' AS region, 'pro' AS edition,
    'cloud' AS deployment, 'finance' AS buyer_role, 10 AS employees, 1000.0 AS annual_revenue, 2000 AS founded_year FROM (VALUES ('a'), ('b'), ('c')) t(customer_id)`);
  const rows = events.map(([id, ts, module, n]) => `('${id}', TIMESTAMP '${ts}', '${module.replace(/'/g, "''")}', ${n === null ? 'NULL' : n})`).join(', ');
  await conn.run(`CREATE OR REPLACE TABLE usage_events AS SELECT customer_id, ts, module, 'desktop' AS device, 'u1' AS user_id, CAST(n AS INTEGER) AS "count"
    FROM (VALUES ${rows}) t(customer_id, ts, module, n)`);
  await conn.run(`CREATE OR REPLACE TABLE transactions AS SELECT 'a' AS customer_id, TIMESTAMP '2026-09-01 00:00:00' AS ts, 10.0 AS amount, 'CNY' AS currency, 'sale' AS kind`);
}

describe('vendor module share features', () => {
  it('are named share_vendor_<slug>: ascii letters and digits, accents stripped, rank when empty, suffixed when taken', () => {
    expect(vendorModuleFeatures(['Bank feeds', 'Café öffnen', '银行对账', 'Bank-Feeds', 'Other', '  Reports v2 '])).toEqual([
      { name: 'Bank feeds', feature: 'share_vendor_bank_feeds' },
      { name: 'Café öffnen', feature: 'share_vendor_cafe_offnen' },
      { name: '银行对账', feature: 'share_vendor_3' },
      { name: 'Bank-Feeds', feature: 'share_vendor_bank_feeds_2' },
      { name: 'Other', feature: 'share_vendor_other_2' },
      { name: '  Reports v2 ', feature: 'share_vendor_reports_v2' },
    ]);
  });

  it('have a display label: the vendor text for a named one, the catalog module for share_<module>', () => {
    const list = vendorModuleFeatures(['Bank feeds']);
    expect(vendorModuleLabel('share_vendor_bank_feeds', list)).toBe('Bank feeds');
    expect(vendorModuleLabel('share_vendor_other', list)).toBe('other vendor modules');
    expect(vendorModuleLabel('share_vendor_time_sheets', list)).toBe('time sheets');
    expect(vendorModuleLabel('share_invoicing', list)).toBeNull();
    expect(moduleOfShareFeature('share_invoicing', list)).toEqual({ kind: 'catalog', label: 'invoicing' });
    expect(moduleOfShareFeature('share_vendor_bank_feeds', list)).toEqual({ kind: 'vendor', label: 'Bank feeds' });
    expect(moduleOfShareFeature('events_90', list)).toBeNull();
  });
});

describe('vendor modules in the feature SQL', () => {
  let conn: DuckDBConnection;
  beforeAll(async () => {
    conn = await openDuck();
  });
  afterAll(() => conn.closeSync());

  // Ten vendor modules with total counts 10 ('M10') down to 1 ('M01'), 'Tie a'/'Tie b' both 5, a catalog module used
  // more than all, and a row after the as-of date that would put 'Late' first.
  const usage: [string, string, string, number | null][] = [
    ['a', '2026-09-10 10:00:00', 'invoicing', 50],
    ['a', '2026-09-10 10:00:00', 'M10', 10],
    ['a', '2026-09-11 10:00:00', 'M09', 9],
    ['b', '2026-09-11 10:00:00', 'M08', 8],
    ['b', '2026-09-12 10:00:00', 'M07', 4],
    ['c', '2026-09-12 10:00:00', 'M07', 3],
    ['c', '2026-01-12 10:00:00', 'M06', 6], // outside the window still counts for the choice
    ['b', '2026-09-13 10:00:00', 'Tie b', 5],
    ['a', '2026-09-13 10:00:00', 'Tie a', 5],
    ['b', '2026-09-14 10:00:00', 'M04', 4],
    ['a', '2026-09-14 10:00:00', 'M03', 3],
    ['a', '2026-09-15 10:00:00', 'M02', null], // count NULL = one event; M02 has 2 in all
    ['b', '2026-09-15 10:00:00', 'M02', 1],
    ['a', '2026-09-16 10:00:00', 'M01', 1],
    ['a', '2026-10-01 00:00:00', 'Late', 100],
  ];

  it('chooses the 8 most used vendor modules up to the as-of date, ties by name', async () => {
    await tables(conn, usage);
    const chosen = await resolveVendorModules(conn, AS_OF, defaultFeatureParams);
    expect(chosen.map((v) => v.name)).toEqual(['M10', 'M09', 'M08', 'M07', 'M06', 'Tie a', 'Tie b', 'M04']);
    expect(chosen[5]).toEqual({ name: 'Tie a', feature: 'share_vendor_tie_a' });
    // A recorded list is used as it is.
    expect(await resolveVendorModules(conn, AS_OF, { ...defaultFeatureParams, vendorModules: chosen.slice(0, 2) })).toEqual(chosen.slice(0, 2));
  });

  it.each(['duckdb', 'trino'] as const)('gives each named one its share of the window, pools the rest and counts them in module breadth (%s)', async (dialect) => {
    await tables(conn, usage);
    const vendorModules = await resolveVendorModules(conn, AS_OF, defaultFeatureParams);
    const got = await conn.runAndReadAll(
      `SELECT customer_id, module_breadth_90, share_invoicing, share_vendor_m10, share_vendor_tie_a, share_vendor_m06, share_vendor_other, events_90
       FROM (${featureSql(AS_OF, { ...defaultFeatureParams, vendorModules }, dialect)}) ORDER BY customer_id`,
    );
    const [a, b, c] = got.getRowsJS().map((r) => r.map((x) => (typeof x === 'string' ? x : Number(x))));
    // a's window: invoicing 50, M10 10, M09 9, Tie a 5, M03 3, M02 1, M01 1 = 79 events, 7 modules; M03, M02, M01 pooled (5).
    expect(a).toEqual(['a', 7, 50 / 79, 10 / 79, 5 / 79, 0, 5 / 79, 79]);
    // b: M08 8, M07 4, Tie b 5, M04 4, M02 1 = 22; M02 pooled.
    expect(b).toEqual(['b', 5, 0, 0, 0, 0, 1 / 22, 22]);
    // c: M07 3 in the window (M06 is before it): breadth 1, nothing pooled.
    expect(c).toEqual(['c', 1, 0, 0, 0, 0, 0, 3]);
  });

  it('puts the named vendor shares after the fixed catalog, in the recorded order', async () => {
    await tables(conn, usage);
    const vendorModules = await resolveVendorModules(conn, AS_OF, defaultFeatureParams);
    const table = await computeFeatures(conn, AS_OF, { ...defaultFeatureParams, vendorModules });
    expect(featureCatalog(vendorModules).slice(0, FEATURE_NAMES.length)).toEqual([...FEATURE_NAMES]);
    const vendorColumns = table.featureNames.filter((f) => f.startsWith('share_vendor_') && f !== 'share_vendor_other');
    expect(vendorColumns).toEqual(vendorModules.map((v) => v.feature));
  });

  it('scores a batch on the recorded list, not the batch own most used vendor modules', async () => {
    await tables(conn, usage);
    const trained = await resolveVendorModules(conn, AS_OF, defaultFeatureParams);
    const model = {
      manifest: { features: { names: [], homeCurrency: 'CNY', vendorModules: trained } },
      config: defaultConfig(),
    };
    const params = bundleFeatureParams(model);
    expect(params.vendorModules).toEqual(trained);
    expect(params.homeCurrency).toBe('CNY');
    // A new batch where 'Payroll run' is used most: it is pooled, the model's own columns are computed.
    await tables(conn, [
      ['a', '2026-09-20 10:00:00', 'Payroll run', 90],
      ['a', '2026-09-20 10:00:00', 'M10', 10],
    ]);
    const names = featureCatalog(trained).filter((f) => f !== 'usage_trend');
    const batch: FeatureTable = await computeFeatures(conn, AS_OF, params, [], names);
    expect(batch.featureNames).toEqual(names);
    const at = (f: string) => batch.X.data[batch.customerIds.indexOf('a') * batch.X.cols + batch.featureNames.indexOf(f)];
    expect(at('share_vendor_m10')).toBe(0.1);
    expect(at('share_vendor_other')).toBe(0.9);
    expect(batch.featureNames).not.toContain('share_vendor_payroll_run');
    // A bundle from before catalog version 2 records none: every vendor module is pooled.
    const old = { manifest: { features: { names: [] } }, config: defaultConfig() };
    expect(bundleFeatureParams(old).vendorModules).toEqual([]);
  });

  it('round-trip through a feature file with the same columns, in the same order, as computed directly', async () => {
    await tables(conn, usage);
    const work = mkdtempSync(join(tmpdir(), 'finseg-vendor-'));
    try {
      const out = join(work, 'features.csv');
      await writeFeatureTable(conn, AS_OF, defaultFeatureParams, [], out);
      const vendorModules = await resolveVendorModules(conn, AS_OF, defaultFeatureParams);
      const direct = await computeFeatures(conn, AS_OF, { ...defaultFeatureParams, vendorModules });
      const read = await readFeatureFile(conn, out, {
        asOf: null,
        requiredFeatures: null,
        partition: null,
        missingValues: defaultIngestParams.missingValues,
        quarantineLimit: 1,
        quarantineDir: null,
        logger: quietLogger,
      });
      expect(read.features.featureNames).toEqual(direct.featureNames);
      expect(Array.from(read.features.X.data)).toEqual(Array.from(direct.X.data));
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
});
