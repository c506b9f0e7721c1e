import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { ingest, defaultIngestParams, closestNames, type IngestResult } from '../../pipeline/01-ingest/ingest.ts';
import { loadConfig } from '../../pipeline/config/config.ts';
import { openDuck, queryRows, sqlString } from '../../pipeline/core/duck.ts';
import { quietLogger } from '../../pipeline/core/log.ts';
import { InputError } from '../../pipeline/core/errors.ts';

const fixtures = join(import.meta.dirname, '../fixtures');
const tiny = join(fixtures, 'tiny');
const vendor = join(fixtures, 'vendor-export');

/** The quarantine file of a table as (line, reason, column, value) rows, in file order. */
async function quarantined(conn: DuckDBConnection, dir: string, table: string): Promise<string[]> {
  const rows = await queryRows(conn, `SELECT source_file, line, reason, "column", value FROM read_csv(${sqlString(join(dir, `${table}.csv`))}, all_varchar = true) ORDER BY source_file, CAST(line AS INT)`);
  return rows.map((r) => [String(r.source_file).split('/fixtures/')[1], r.line, r.reason, r.column ?? '', r.value ?? ''].join(' | '));
}

describe('ingest on the tiny hand-made export', () => {
  let conn: DuckDBConnection;
  let result: IngestResult;
  let qdir: string;
  const progress: [number, number][] = [];
  beforeAll(async () => {
    conn = await openDuck();
    qdir = mkdtempSync(join(tmpdir(), 'finseg-q-'));
    const run = { command: null, now: () => new Date(), onProgress: (done: number, total: number) => progress.push([done, total]) };
    result = await ingest(conn, tiny, { ...defaultIngestParams, asOf: '2026-09-30', quarantineLimit: 1 }, qdir, quietLogger, run);
  });

  it('reports its progress as two steps per table found (staged, then checked): 6 for the three tables', () => {
    expect(progress).toEqual([0, 1, 2, 3, 4, 5, 6].map((done) => [done, 6]));
  });
  afterAll(() => {
    conn.closeSync();
    rmSync(qdir, { recursive: true, force: true });
  });

  it('quarantines each customer row with a bad required value and keeps the first of a duplicate id', () => {
    const c = result.tables.customers!;
    // E's employees = -4 is an optional value: E is kept with no head count, the cell nulled.
    expect(c).toMatchObject({ read: 6, accepted: 4, quarantined: 2, cellsNulled: 1, cellsByColumn: { employees: 1 } });
    expect(c.byReason).toEqual({ duplicate_id: 1, unparseable: 1 });
  });

  it('quarantines unknown customers, future timestamps and unparseable amounts; nulls a bad device', () => {
    expect(result.tables.usage_events).toMatchObject({ read: 9, accepted: 7, quarantined: 2, cellsNulled: 1, cellsByColumn: { device: 1 } });
    expect(result.tables.usage_events!.byReason).toEqual({ after_as_of: 1, unknown_customer: 1 });
    expect(result.tables.transactions).toMatchObject({ read: 7, accepted: 6, quarantined: 1 });
    expect(result.tables.transactions!.byReason).toEqual({ unparseable: 1 });
  });

  it('reconciles read = accepted + quarantined for every table', () => {
    for (const t of Object.values(result.tables)) expect(t.read).toBe(t.accepted + t.quarantined);
  });

  it('writes quarantined rows with source file, line number, reason, the failing column and its value', async () => {
    const header = readFileSync(join(result.quarantineDir!, 'customers.csv'), 'utf8').split('\n')[0];
    expect(header).toBe('source_file,line,reason,column,value,detail,customer_id,signup_date,industry,employees,annual_revenue,founded_year,region,deployment,edition,buyer_role');
    expect(await quarantined(conn, result.quarantineDir!, 'customers')).toEqual([
      'tiny/customers.csv | 5 | duplicate_id | customer_id | B',
      'tiny/customers.csv | 6 | unparseable | signup_date | notadate',
    ]);
  });

  it('writes nulled cells to <table>.cells.csv with source file, line, reason, column, value and detail', async () => {
    expect(readFileSync(join(result.quarantineDir!, 'customers.cells.csv'), 'utf8').split('\n')[0]).toBe('source_file,line,reason,column,value,detail');
    expect(await quarantined(conn, result.quarantineDir!, 'customers.cells')).toEqual(['tiny/customers.csv | 7 | out_of_range | employees | -4']);
    expect(await quarantined(conn, result.quarantineDir!, 'usage_events.cells')).toEqual(['tiny/usage_events.csv | 10 | bad_enum | device | fax machine']);
    expect(result.tables.usage_events!.cellDetails).toEqual([{ reason: 'bad_enum', column: 'device', count: 1, examples: ['fax machine'] }]);
  });

  it('normalises enum spelling (On-Prem → on_prem) and types the accepted rows', async () => {
    const rows = await queryRows(conn, `SELECT customer_id, deployment, employees FROM customers ORDER BY customer_id`);
    expect(rows).toEqual([
      { customer_id: 'A', deployment: 'cloud', employees: 5 },
      { customer_id: 'B', deployment: 'on_prem', employees: 120 },
      { customer_id: 'C', deployment: null, employees: null },
      { customer_id: 'E', deployment: 'cloud', employees: null },
    ]);
    // The event with device "fax machine" is kept with an unknown device.
    expect(await queryRows(conn, `SELECT device, count(*) AS n FROM usage_events WHERE ts = TIMESTAMP '2026-09-02 08:00:00' GROUP BY 1`)).toEqual([{ device: null, n: 1 }]);
  });

  it('reports per reason and column with example values', () => {
    expect(result.tables.usage_events!.details).toEqual([
      { reason: 'after_as_of', column: 'ts', count: 1, examples: ['2026-10-02 08:00:00'] },
      { reason: 'unknown_customer', column: 'customer_id', count: 1, examples: ['Z'] },
    ]);
  });
});

describe('ingest of a vendor export: BOM, semicolons, Chinese headers, JSON Lines with hive folders, TSV', () => {
  let conn: DuckDBConnection;
  let result: IngestResult;
  let qdir: string;
  beforeAll(async () => {
    conn = await openDuck();
    qdir = mkdtempSync(join(tmpdir(), 'finseg-q-'));
    result = await ingest(conn, vendor, loadConfig(join(vendor, 'finseg.config.json')).ingest, qdir, quietLogger);
  });
  afterAll(() => {
    conn.closeSync();
    rmSync(qdir, { recursive: true, force: true });
  });

  it('counts records, not lines: a quoted field spanning two lines is one row, blank lines are none', () => {
    const counts = Object.fromEntries(Object.values(result.tables).map((t) => [t.table, [t.read, t.accepted, t.quarantined]]));
    // K5's employees -3, K2's currency RMB¥ and K2's nps 11 are optional values: nulled cells, rows kept.
    expect(counts).toEqual({ customers: [7, 4, 3], usage_events: [8, 3, 5], transactions: [5, 3, 2], feedback: [4, 3, 1] });
    const cells = Object.fromEntries(Object.values(result.tables).map((t) => [t.table, t.cellsByColumn]));
    expect(cells).toEqual({ customers: { employees: 1 }, usage_events: {}, transactions: { currency: 1 }, feedback: { nps: 1 } });
  });

  it('joins the optional feedback table when present, with the same checks', async () => {
    expect(result.tables.feedback!.byReason).toEqual({ customer_quarantined: 1 });
    // K4's feedback follows its customers row, quarantined for an unparseable signup date.
    expect(result.tables.feedback!.followed).toEqual({ unparseable: 1 });
    expect(await queryRows(conn, `SELECT customer_id, nps, tickets FROM feedback ORDER BY ts`)).toEqual([
      { customer_id: 'K1', nps: 9, tickets: 0 },
      { customer_id: 'K2', nps: null, tickets: 1 },
      { customer_id: 'K2', nps: null, tickets: 3 },
    ]);
  });

  it('maps Chinese column names, a d.m.Y date format, an industry value map, built-in deployment names and revenue in units', async () => {
    const rows = await queryRows(conn, `SELECT customer_id, CAST(signup_date AS VARCHAR) AS signup, industry, employees, annual_revenue, deployment FROM customers ORDER BY customer_id`);
    expect(rows).toEqual([
      { customer_id: 'K1', signup: '2025-03-01', industry: 'Manufacturing', employees: 120, annual_revenue: 5000, deployment: 'on_prem' },
      { customer_id: 'K2', signup: '2024-07-15', industry: 'Retail', employees: 8, annual_revenue: 900, deployment: 'cloud' },
      { customer_id: 'K3', signup: '2026-02-02', industry: '零售业', employees: null, annual_revenue: null, deployment: 'cloud' },
      // 100 in units is 0.1 thousand; employees -3 was nulled.
      { customer_id: 'K5', signup: '2025-01-01', industry: 'Retail', employees: null, annual_revenue: 0.1, deployment: 'cloud' },
    ]);
  });

  it('converts an offset timestamp to UTC and maps module and device names (built-in and configured)', async () => {
    const rows = await queryRows(conn, `SELECT customer_id, CAST(ts AS VARCHAR) AS ts, module, device, count FROM usage_events ORDER BY ts`);
    expect(rows).toEqual([
      { customer_id: 'K1', ts: '2026-08-03 01:00:00', module: 'general_ledger', device: 'web', count: null },
      { customer_id: 'K1', ts: '2026-08-04 10:00:00', module: 'general_ledger', device: 'mobile', count: 3 },
      { customer_id: 'K3', ts: '2026-09-01 08:00:00', module: 'reporting', device: 'desktop', count: null },
    ]);
  });

  it('fills the configured currency, upper-cases codes and keeps a refund negative', async () => {
    expect(await queryRows(conn, `SELECT amount, currency, kind FROM transactions ORDER BY ts`)).toEqual([
      { amount: 100.5, currency: 'USD', kind: 'sale' },
      { amount: -20, currency: 'USD', kind: null },
      // RMB¥ is not a currency code: nulled, not filled with the configured USD.
      { amount: 75, currency: null, kind: 'sale' },
    ]);
  });

  it('quarantines with the physical line of each record in each file of a folder', async () => {
    expect(await quarantined(conn, result.quarantineDir!, 'customers')).toEqual([
      'vendor-export/clients.csv | 6 | duplicate_id | customer_id | K2',
      'vendor-export/clients.csv | 7 | unparseable | signup_date | 31.02.2025',
      'vendor-export/clients.csv | 8 | missing_key | customer_id | NA',
    ]);
    expect(await quarantined(conn, result.quarantineDir!, 'customers.cells')).toEqual(['vendor-export/clients.csv | 9 | out_of_range | employees | -3']);
    expect(await quarantined(conn, result.quarantineDir!, 'usage_events')).toEqual([
      'vendor-export/events/month=2026-08/part-0.jsonl | 4 | malformed |  | {"cust":"K2","time":"2026-08-05 10:00:00","feature":"invoicing","channel":"api"',
      'vendor-export/events/month=2026-09/part-0.jsonl | 2 | malformed |  | not json at all',
      'vendor-export/events/month=2026-09/part-0.jsonl | 3 | unknown_customer | customer_id | K9',
      'vendor-export/events/month=2026-09/part-0.jsonl | 4 | customer_quarantined | customer_id | K4',
      'vendor-export/events/month=2026-09/part-0.jsonl | 5 | after_as_of | ts | 2026-10-15 08:00:00',
    ]);
    expect(await quarantined(conn, result.quarantineDir!, 'transactions')).toEqual([
      'vendor-export/sales.tsv | 4 | malformed |  | K2\t2026-09-03 12:00:00\t3000\tEUR\tpurchase\textra',
      'vendor-export/sales.tsv | 5 | unparseable | amount | 1,234.50',
    ]);
    expect(await quarantined(conn, result.quarantineDir!, 'transactions.cells')).toEqual(['vendor-export/sales.tsv | 6 | bad_enum | currency | RMB¥']);
  });

  it('explains a malformed row in the terms of the file (fields counted without finseg\'s own)', () => {
    expect(result.tables.transactions!.details.find((d) => d.reason === 'malformed')).toEqual({ reason: 'malformed', column: null, count: 1, examples: ['more fields than the header (6 instead of 5)'] });
  });

  it('lists the optional columns the export does not have', () => {
    expect(result.tables.customers!.missingOptionalColumns).toEqual(['founded_year', 'region', 'edition', 'buyer_role']);
  });
});

describe('ingest file-level errors', () => {
  it('names the file, the missing column and the closest columns', async () => {
    const conn = await openDuck();
    const params = { ...defaultIngestParams, asOf: '2026-09-30', columns: { customers: { customer_id: 'cust' } } };
    const err = await ingest(conn, tiny, params, null, quietLogger).catch((e: unknown) => e);
    conn.closeSync();
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).message).toContain('customers.csv: required column "cust"');
    expect((err as InputError).detail.join('\n')).toContain('closest: customer_id');
  });

  it('stops when a table passes the quarantine limit, with counts, reasons and examples', async () => {
    const conn = await openDuck();
    const err = await ingest(conn, tiny, { ...defaultIngestParams, asOf: '2026-09-30' }, null, quietLogger).catch((e: unknown) => e);
    conn.closeSync();
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).message).toMatch(/customers: 2 of 6 rows quarantined \(33\.3%\), over the limit of 5\.0%/);
    expect((err as InputError).detail).toContain('unparseable in signup_date: 1, e.g. "notadate"');
  });

  it('suggests close column names by edit distance', () => {
    expect(closestNames('customer_id', ['CustomerID', 'Country', 'id'])[0]).toBe('CustomerID');
  });
});
