import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { ingest, type IngestResult } from '../../pipeline/01-ingest/ingest.ts';
import { computeFeatures } from '../../pipeline/02-features/features.ts';
import { loadConfig, type FinsegConfig } from '../../pipeline/config/config.ts';
import { openDuck, queryRows, sqlString } from '../../pipeline/core/duck.ts';
import { quietLogger } from '../../pipeline/core/log.ts';

/**
 * Two public exports read through their configs: the Online Retail sample kept in the repository
 * (examples/online-retail.json), and SaaS Sales, whose licence keeps it outside, from the folder
 * named by FINSEG_REAL_DATA (docs/configs/saas-sales.json). Expected figures come from the
 * files' SOURCE.md (row counts, NA ids, cancellations, control totals) and from reading the
 * files independently here.
 */
const repo = join(import.meta.dirname, '../..');
const realData = process.env.FINSEG_REAL_DATA;
const root = mkdtempSync(join(tmpdir(), 'finseg-real-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

interface Loaded {
  config: FinsegConfig;
  conn: DuckDBConnection;
  result: IngestResult;
  qdir: string;
  file: string;
}

/** Ingests through a config; `dataDir` overrides the config's own (as `--data` does). */
async function load(configPath: string, dataDir?: string): Promise<Loaded> {
  const config = loadConfig(join(repo, configPath));
  const data = dataDir ?? config.ingest.dataDir!;
  const conn = await openDuck();
  const result = await ingest(conn, data, config.ingest, join(root, 'quarantine'), quietLogger);
  return { config, conn, result, qdir: result.quarantineDir ?? '', file: join(data, config.ingest.files.transactions!) };
}

describe('Online Retail sample (examples/online-retail.json)', () => {
  let r: Loaded;
  beforeAll(async () => {
    r = await load('examples/online-retail.json');
  });
  afterAll(() => r.conn.closeSync());

  it('reads 20,000 lines: 14,922 accepted, the 5,078 NA customer ids quarantined as missing_key', () => {
    expect(r.result.tables.transactions).toMatchObject({ read: 20000, accepted: 14922, quarantined: 5078, byReason: { missing_key: 5078 } });
    expect(r.result.tables.customers).toMatchObject({ read: 3049, accepted: 3049, quarantined: 0, derivedFrom: 'transactions', sourceRows: 14922 });
    for (const t of Object.values(r.result.tables)) expect(t.read).toBe(t.accepted + t.quarantined);
    expect(r.result.absentTables).toEqual(['usage_events', 'feedback', 'subscriptions', 'actions']);
    expect(r.result.asOf).toBe('2011-12-09');
  });

  it('quarantines exactly the NA lines, at their physical line numbers in the file', async () => {
    // Independently: the file has one record per line (no quoted newlines), so data row n is line n + 1.
    const na = await queryRows(r.conn, `SELECT line FROM (SELECT row_number() OVER () + 1 AS line, CustomerID FROM read_csv(${sqlString(r.file)}, all_varchar = true)) WHERE CustomerID = 'NA' ORDER BY line`);
    const q = await queryRows(r.conn, `SELECT CAST(line AS BIGINT) AS line FROM read_csv(${sqlString(join(r.qdir, 'transactions.csv'))}, all_varchar = true) WHERE reason = 'missing_key' AND "column" = 'customer_id' AND value = 'NA' ORDER BY 1`);
    expect(q.map((x) => x.line)).toEqual(na.map((x) => x.line));
    expect(q[0]!.line).toBe(2);
  });

  it('turns the 342 cancellations with a customer (invoice C…, negative quantity) into negative amounts: refunds', async () => {
    const [row] = await queryRows(r.conn, `SELECT count(*) FILTER (WHERE amount < 0) AS refunds, round(sum(amount), 2) AS total FROM transactions`);
    const [file] = await queryRows(r.conn, `SELECT count(*) FILTER (WHERE InvoiceNo LIKE 'C%') AS cancelled, round(sum(Quantity * UnitPrice), 2) AS total FROM read_csv(${sqlString(r.file)}) WHERE CustomerID <> 'NA'`);
    expect(row).toEqual({ refunds: 342, total: file!.total });
    expect(file!.cancelled).toBe(342);
  });

  it('computes transaction features without a usage table and names every feature it dropped', async () => {
    const features = await computeFeatures(r.conn, r.result.asOf, r.config.features, r.result.absentTables);
    expect(features.X.rows).toBe(3049);
    expect(features.featureNames).toEqual(expect.arrayContaining(['tenure_days', 'txn_count_90', 'refund_share', 'volume_trend']));
    expect(features.dropped.filter((d) => d.reason === 'no usage_events table').map((d) => d.feature)).toEqual(expect.arrayContaining(['events_90', 'share_invoicing', 'device_mobile_share', 'usage_trend']));
    expect(features.attributes.region.filter((x) => x === 'United Kingdom').length).toBeGreaterThan(2500);
  });
});

describe.skipIf(!realData)('SaaS Sales, AnyCompany variant (docs/configs/saas-sales.json; skipped unless FINSEG_REAL_DATA names the folder of real exports)', () => {
  let r: Loaded;
  beforeAll(async () => {
    r = await load('docs/configs/saas-sales.json', join(realData!, 'saas-sales'));
  });
  afterAll(() => r.conn.closeSync());

  it('reads all 9,994 order lines (BOM, CRLF, no final newline) and derives the 99 companies', () => {
    expect(r.result.tables.transactions).toMatchObject({ read: 9994, accepted: 9994, quarantined: 0 });
    expect(r.result.tables.customers).toMatchObject({ read: 99, accepted: 99, quarantined: 0, sourceRows: 9994 });
    expect(r.result.asOf).toBe('2024-12-31');
  });

  it('keeps the control total: 2,297,200.86 of Superstore plus the variant\'s +1.00 on Row ID 9491', async () => {
    const [row] = await queryRows(r.conn, `SELECT round(sum(amount), 2) AS total, min(ts)::DATE::VARCHAR AS first, max(ts)::DATE::VARCHAR AS last FROM transactions`);
    expect(row).toEqual({ total: 2297201.86, first: '2021-01-04', last: '2024-12-31' });
  });

  it('derives each company\'s industry and segment (constant per company) and its first order as signup', async () => {
    const rows = await queryRows(r.conn, `SELECT industry, count(*) AS n FROM customers GROUP BY 1 ORDER BY n DESC, industry`);
    expect(rows.slice(0, 3)).toEqual([
      { industry: 'Finance', n: 20 },
      { industry: 'Energy', n: 14 },
      { industry: 'Tech', n: 13 },
    ]);
    const editions = await queryRows(r.conn, `SELECT edition, count(*) AS n FROM customers GROUP BY 1 ORDER BY 1`);
    expect(editions).toEqual([
      { edition: 'Enterprise', n: 18 },
      { edition: 'SMB', n: 52 },
      { edition: 'Strategic', n: 29 },
    ]);
    const [first] = await queryRows(r.conn, `SELECT count(*) AS n FROM customers c WHERE signup_date <> (SELECT min(ts)::DATE FROM transactions t WHERE t.customer_id = c.customer_id)`);
    expect(first!.n).toBe(0);
  });
});
