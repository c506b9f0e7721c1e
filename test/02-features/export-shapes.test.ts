import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ingest } from '../../pipeline/01-ingest/ingest.ts';
import { computeFeatures, type FeatureTable } from '../../pipeline/02-features/features.ts';
import { countOffMode, dropUninformative, NEAR_CONSTANT_SHARE } from '../../pipeline/02-features/select.ts';
import { MODULE_SHARE_FEATURES } from '../../pipeline/02-features/catalog.ts';
import { defaultConfig, loadConfig, type FinsegConfig } from '../../pipeline/config/config.ts';
import { openDuck } from '../../pipeline/core/duck.ts';
import { quietLogger } from '../../pipeline/core/log.ts';
import { defaultGenerateParams, generateDataset } from '../../pipeline/generate/generate.ts';

/**
 * The feature set a model is fitted on (computeFeatures, then dropUninformative) for the three
 * export shapes: transactions only, usage only, and the repository's real transaction export.
 */
const work = mkdtempSync(join(tmpdir(), 'finseg-shapes-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

async function fitFeatures(dataDir: string, config: FinsegConfig): Promise<FeatureTable> {
  const conn = await openDuck();
  try {
    const ingested = await ingest(conn, dataDir, config.ingest, null, quietLogger);
    return dropUninformative(await computeFeatures(conn, ingested.asOf, config.features, ingested.absentTables));
  } finally {
    conn.closeSync();
  }
}

const column = (t: FeatureTable, f: string) => Array.from({ length: t.X.rows }, (_, i) => t.X.data[i * t.X.cols + t.featureNames.indexOf(f)]!);

/** Every kept column varies beyond the near-constant limit. */
function expectInformative(t: FeatureTable): void {
  for (let j = 0; j < t.X.cols; j++) {
    const values = Float64Array.from(column(t, t.featureNames[j]!));
    expect(countOffMode(values), t.featureNames[j]).toBeGreaterThanOrEqual(NEAR_CONSTANT_SHARE * t.X.rows);
  }
}

describe('generated data cut to one behavioural table', () => {
  let txnOnly: FeatureTable;
  let usageOnly: FeatureTable;
  beforeAll(async () => {
    const full = join(work, 'full');
    await generateDataset(full, { ...defaultGenerateParams, customers: 600, eventsPerCustomer: 20, seed: 7 }, 'parquet', quietLogger);
    for (const [name, table] of [['txn', 'transactions'], ['usage', 'usage_events']] as const) {
      mkdirSync(join(work, name));
      for (const f of ['customers', table]) copyFileSync(join(full, `${f}.parquet`), join(work, name, `${f}.parquet`));
    }
    txnOnly = await fitFeatures(join(work, 'txn'), defaultConfig());
    usageOnly = await fitFeatures(join(work, 'usage'), defaultConfig());
  }, 120_000);

  it('transactions only: recency, frequency, monetary and tenure, no usage feature', () => {
    expect(txnOnly.featureNames).toEqual(expect.arrayContaining(['recency_days', 'txn_count_90', 'txn_volume_90', 'txn_active_months', 'txn_count_all', 'txn_volume_all', 'txn_avg_basket', 'txn_tenure_days', 'volume_trend']));
    expect(txnOnly.featureNames.filter((f) => f.startsWith('share_') || f.startsWith('device_') || f === 'events_90')).toEqual([]);
    // With no usage, the last activity is the last transaction: the two recencies are one column.
    expect(txnOnly.dropped).toContainEqual({ feature: 'txn_recency_days', reason: 'duplicate of recency_days' });
    expectInformative(txnOnly);
  });

  it('usage only: activity, module mix and recency, no transaction feature', () => {
    expect(usageOnly.featureNames).toEqual(expect.arrayContaining(['recency_days', 'active_days_90', 'events_90', 'module_breadth_90', 'usage_trend', ...MODULE_SHARE_FEATURES.slice(0, 4)]));
    expect(usageOnly.featureNames.filter((f) => f.startsWith('txn_') || f === 'volume_trend')).toEqual([]);
    // The generator has no vendor modules: the pooled share is 0 wherever defined, so constant.
    expect(usageOnly.dropped).toContainEqual({ feature: 'share_vendor_other', reason: 'constant' });
    expectInformative(usageOnly);
  });

  it('recency is the last activity of a customer with any, counted from signup otherwise', () => {
    for (const t of [txnOnly, usageOnly]) {
      const recency = column(t, 'recency_days');
      const last = t.activity!.lastSeenDays;
      for (let i = 0; i < recency.length; i++) if (!Number.isNaN(last[i]!)) expect(recency[i]).toBe(last[i]);
      expect(t.activity!.spanDays).toBe(Math.max(...Array.from(t.activity!.firstSeenDays).filter((d) => !Number.isNaN(d))));
    }
  });
});

describe('the UCI Online Retail sample (transactions only, examples/online-retail.json)', () => {
  it('keeps recency, frequency and monetary features and no constant column', async () => {
    const config = loadConfig(join(import.meta.dirname, '../../examples/online-retail.json'));
    const t = await fitFeatures(join(import.meta.dirname, '../fixtures/real/online-retail'), config);
    expect(t.featureNames).toEqual(expect.arrayContaining(['recency_days', 'txn_active_months', 'txn_count_all', 'txn_volume_all', 'txn_avg_basket']));
    // One currency and one kind in the whole export.
    for (const f of ['foreign_share', 'kind_sale_share', 'kind_purchase_share']) expect(t.dropped).toContainEqual({ feature: f, reason: 'constant' });
    expectInformative(t);
  }, 60_000);
});
