import { afterAll, describe, expect, it } from 'vitest';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { ingest, defaultIngestParams, type IngestParams, type IngestResult } from '../../pipeline/01-ingest/ingest.ts';
import { validateIngestParams } from '../../pipeline/01-ingest/params.ts';
import { readQuarantineMeta } from '../../pipeline/01-ingest/quarantine-meta.ts';
import { validateCommand } from '../../pipeline/jobs/validate.ts';
import { openDuck, queryRows, sqlString } from '../../pipeline/core/duck.ts';
import { InputError } from '../../pipeline/core/errors.ts';
import { quietLogger } from '../../pipeline/core/log.ts';
import { writeFolder } from '../helpers/folder.ts';

/**
 * What real vendor exports do that the generator does not: ids that went through a float column
 * (`17850.0`), the vendor's own module names, no device column; and the quarantine a rerun on
 * the same files must not write again. Every fixture is a few hand-written rows.
 */
const work = mkdtempSync(join(tmpdir(), 'finseg-vendor-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const base: IngestParams = { ...defaultIngestParams, asOf: '2026-09-30', quarantineLimit: 1 };

/** A data folder of CSV files written from text. */
const folder = (name: string, files: Record<string, string>): string => writeFolder(work, name, files);

/** Ingests and returns the result with the accepted rows of a query. */
async function run(dir: string, params: IngestParams, sql: string, quarantineRoot: string | null = null): Promise<{ result: IngestResult; rows: Record<string, unknown>[] }> {
  const conn: DuckDBConnection = await openDuck();
  try {
    const result = await ingest(conn, dir, params, quarantineRoot, quietLogger);
    return { result, rows: await queryRows(conn, sql) };
  } finally {
    conn.closeSync();
  }
}

const CUSTOMERS = 'customer_id,signup_date\n17850.0,2025-01-01\n12346,2025-02-01\n';
const EVENTS = 'customer_id,ts,module,device,user_id\n17850,2026-09-01 10:00:00,invoicing,web,7.0\n17850.00,2026-09-02 10:00:00,invoicing,web,7\n12346.0,2026-09-03 10:00:00,tax,web,u1\n12346.5,2026-09-04 10:00:00,tax,web,u1\n';
const TRANSACTIONS = 'customer_id,ts,amount\n17850.0,2026-09-01 10:00:00,10\n12346,2026-09-02 10:00:00,20\n';

describe('ingest.normaliseIds: ids written as 17850.0 are read as 17850 in every table', () => {
  const csv = folder('ids-csv', { 'customers.csv': CUSTOMERS, 'usage_events.csv': EVENTS, 'transactions.csv': TRANSACTIONS });
  const events = `SELECT customer_id, user_id FROM usage_events ORDER BY ts`;

  it('matches 17850, 17850.0 and 17850.00 as one customer and shows 17850 everywhere (CSV)', async () => {
    const { result, rows } = await run(csv, { ...base, normaliseIds: true }, events);
    expect(rows).toEqual([
      { customer_id: '17850', user_id: '7' },
      { customer_id: '17850', user_id: '7' },
      { customer_id: '12346', user_id: 'u1' },
    ]);
    const { rows: customers } = await run(csv, { ...base, normaliseIds: true }, `SELECT customer_id FROM customers UNION ALL SELECT customer_id FROM transactions`);
    expect(customers.map((r) => r.customer_id)).toEqual(['17850', '12346', '17850', '12346']);
    // A fraction that is not zero is a different id: it matches no customer.
    expect(result.tables.usage_events).toMatchObject({ read: 4, accepted: 3, quarantined: 1, byReason: { unknown_customer: 1 } });
  });

  it('leaves ids as written when off (the default): 17850.0 and 17850 are different customers', async () => {
    expect(defaultIngestParams.normaliseIds).toBe(false);
    const { result, rows } = await run(csv, base, `SELECT customer_id FROM customers ORDER BY 1`);
    expect(rows.map((r) => r.customer_id)).toEqual(['12346', '17850.0']);
    // 17850 and 17850.00 (events) and 12346.0, 12346.5: no customer with those ids; the transactions' ids are written as the customers' are.
    expect(result.tables.usage_events!.byReason).toEqual({ unknown_customer: 4 });
    expect(result.tables.transactions).toMatchObject({ read: 2, accepted: 2, quarantined: 0 });
  });

  it('normalises ids that Parquet holds as DOUBLE, and text ids in Parquet', async () => {
    const dir = join(work, 'ids-parquet');
    mkdirSync(dir, { recursive: true });
    const conn = await openDuck();
    try {
      const q = (name: string, sql: string) => conn.run(`COPY (${sql}) TO ${sqlString(join(dir, `${name}.parquet`))} (FORMAT parquet)`);
      await q('customers', `SELECT * FROM (VALUES ('17850.0', DATE '2025-01-01'), ('12346', DATE '2025-02-01')) v(customer_id, signup_date)`);
      await q('usage_events', `SELECT * FROM (VALUES (17850.0::DOUBLE, TIMESTAMP '2026-09-01 10:00:00', 'tax', 'web'), (12346.0::DOUBLE, TIMESTAMP '2026-09-02 10:00:00', 'tax', 'web')) v(customer_id, ts, module, device)`);
    } finally {
      conn.closeSync();
    }
    const { result, rows } = await run(dir, { ...base, normaliseIds: true }, `SELECT customer_id FROM usage_events ORDER BY ts`);
    expect(rows.map((r) => r.customer_id)).toEqual(['17850', '12346']);
    expect(result.tables.usage_events).toMatchObject({ read: 2, accepted: 2, quarantined: 0 });
  });

  it('derives one customer from lines whose ids differ only by a zero fraction', async () => {
    const dir = folder('ids-derive', { 'transactions.csv': TRANSACTIONS + '17850,2026-09-03 10:00:00,5\n' });
    const params: IngestParams = { ...base, normaliseIds: true, deriveCustomers: { from: 'transactions', attributes: 'mode' }, columns: { customers: { signup_date: 'ts' } } };
    const { result, rows } = await run(dir, params, `SELECT customer_id, CAST(signup_date AS VARCHAR) AS signup FROM customers ORDER BY 1`);
    expect(rows).toEqual([
      { customer_id: '12346', signup: '2026-09-02' },
      { customer_id: '17850', signup: '2026-09-01' },
    ]);
    expect(result.tables.customers).toMatchObject({ read: 2, accepted: 2, quarantined: 0 });
  });

  it('is checked as a boolean', () => {
    expect(() => validateIngestParams({ ...base, normaliseIds: 'yes' as unknown as boolean })).toThrow(InputError);
  });
});

describe("usage_events.module: the vendor's own module names are kept, device may be absent", () => {
  const events = [
    'customer_id,ts,module,count',
    'A,2026-09-01 10:00:00,Bank feeds,3', // vendor module, kept as written
    'A,2026-09-02 10:00:00,  Expense claims ,1', // trimmed
    'A,2026-09-03 10:00:00,GL,2', // built-in spelling of general_ledger
    'A,2026-09-04 10:00:00,General Ledger,1', // the catalog id in another spelling
    'A,2026-09-05 10:00:00,Reports v2,1', // configured onto a vendor name
    'A,2026-09-06 10:00:00,Ledger Pro,1', // configured onto the catalog
    'A,2026-09-07 10:00:00,,1', // blank: missing_key
    'A,2026-09-08 10:00:00,NA,1', // missing-value token: missing_key
  ].join('\n');
  const dir = folder('modules', { 'customers.csv': 'customer_id,signup_date\nA,2025-01-01\n', 'usage_events.csv': `${events}\n` });
  const params: IngestParams = { ...base, values: { usage_events: { module: { 'Ledger Pro': 'general_ledger', 'Reports v2': 'Reports' } } } };

  it('stores catalog modules as ids and any other name as the trimmed text, never as bad_enum', async () => {
    const { result, rows } = await run(dir, params, `SELECT module, device FROM usage_events ORDER BY ts`);
    expect(rows.map((r) => r.module)).toEqual(['Bank feeds', 'Expense claims', 'general_ledger', 'general_ledger', 'Reports', 'general_ledger']);
    expect(rows.every((r) => r.device === null)).toBe(true);
    const t = result.tables.usage_events!;
    expect(t).toMatchObject({ read: 8, accepted: 6, quarantined: 2, byReason: { missing_key: 2 } });
    expect(t.read).toBe(t.accepted + t.quarantined);
    expect(t.missingOptionalColumns).toEqual(expect.arrayContaining(['device', 'user_id']));
  });

  it('accepts a value map onto a vendor name, and nulls a device outside its set (the event kept)', async () => {
    expect(() => validateIngestParams(params)).not.toThrow();
    expect(() => validateIngestParams({ ...base, values: { usage_events: { device: { Fax: 'fax' } } } })).toThrow(/not one of web, desktop, mobile, api/);
    const withDevice = folder('devices', {
      'customers.csv': 'customer_id,signup_date\nA,2025-01-01\n',
      'usage_events.csv': 'customer_id,ts,module,device\nA,2026-09-01 10:00:00,Bank feeds,\nA,2026-09-02 10:00:00,Bank feeds,iOS\nA,2026-09-03 10:00:00,Bank feeds,fax machine\n',
    });
    const { result, rows } = await run(withDevice, base, `SELECT device FROM usage_events ORDER BY ts`);
    expect(rows.map((r) => r.device)).toEqual([null, 'mobile', null]);
    expect(result.tables.usage_events!.details).toEqual([]);
    expect(result.tables.usage_events!.cellDetails).toEqual([{ reason: 'bad_enum', column: 'device', count: 1, examples: ['fax machine'] }]);
  });
});

/** Every file under a folder with its modification time, to see that nothing was written. */
function snapshot(dir: string): Record<string, number> {
  const out: Record<string, number> = {};
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out[p.slice(dir.length)] = statSync(p).mtimeMs;
    }
  };
  walk(dir);
  return out;
}

describe('quarantine: once per input, in one folder scheme, with the source row as it was', () => {
  const files = {
    'customers.csv': 'Kunde,Beginn,value\nA,2025-01-01,x\nB,not a date,y\n',
    'usage_events.csv': 'customer_id,ts,module,device\nA,2026-09-01 10:00:00,Bank feeds,web\nZ,2026-09-02 10:00:00,tax,web\n',
  };
  const params: IngestParams = { ...base, columns: { customers: { customer_id: 'Kunde', signup_date: 'Beginn' } } };

  it('writes <root>/<16 hex digits>/<table>.csv with finseg\'s columns, then the row\'s own columns under their own names', async () => {
    const dir = folder('q-columns', files);
    const root = join(work, 'q-columns-root');
    const { result } = await run(dir, params, 'SELECT 1', root);
    expect(result.quarantineDir).toMatch(new RegExp(`^${root}/[0-9a-f]{16}$`));
    expect(result.quarantineReused).toBe(false);
    const lines = readFileSync(join(result.quarantineDir!, 'customers.csv'), 'utf8').trim().split('\n');
    // The vendor's own "value" column would clash with finseg's: it is written as value_2.
    expect(lines[0]).toBe('source_file,line,reason,column,value,detail,Kunde,Beginn,value_2');
    expect(lines[1]).toBe(`${join(dir, 'customers.csv')},3,unparseable,signup_date,not a date,signup_date is not a date,B,not a date,y`);
    const events = readFileSync(join(result.quarantineDir!, 'usage_events.csv'), 'utf8').trim().split('\n');
    expect(events[0]).toBe('source_file,line,reason,column,value,detail,customer_id,ts,module,device');
    expect(events[1]!.endsWith(',3,unknown_customer,customer_id,Z,the customer is not in the customers table,Z,2026-09-02 10:00:00,tax,web')).toBe(true);
  });

  it('keeps the original columns of Parquet rows too, and writes a nulled Parquet cell with its row number', async () => {
    const dir = join(work, 'q-parquet');
    mkdirSync(dir, { recursive: true });
    const conn = await openDuck();
    try {
      await conn.run(`COPY (SELECT * FROM (VALUES ('A', DATE '2025-01-01', 5), ('B', DATE '2025-01-02', -3), ('C', DATE '2026-12-01', 4)) v(customer_id, signup_date, employees)) TO ${sqlString(join(dir, 'customers.parquet'))} (FORMAT parquet)`);
      await conn.run(`COPY (SELECT 'A' AS customer_id, TIMESTAMP '2026-09-01 10:00:00' AS ts, 10.5 AS amount, 'vendor note' AS memo) TO ${sqlString(join(dir, 'transactions.parquet'))} (FORMAT parquet)`);
    } finally {
      conn.closeSync();
    }
    const { result } = await run(dir, base, 'SELECT 1', join(work, 'q-parquet-root'));
    const lines = readFileSync(join(result.quarantineDir!, 'customers.csv'), 'utf8').trim().split('\n');
    expect(lines).toEqual(['source_file,line,reason,column,value,detail,customer_id,signup_date,employees', `${join(dir, 'customers.parquet')},3,after_as_of,signup_date,2026-12-01,signup_date is after the as-of date 2026-09-30,C,2026-12-01,4`]);
    const cells = readFileSync(join(result.quarantineDir!, 'customers.cells.csv'), 'utf8').trim().split('\n');
    expect(cells).toEqual(['source_file,line,reason,column,value,detail', `${join(dir, 'customers.parquet')},2,out_of_range,employees,-3,employees must be at least 0`]);
  });

  it('reuses the folder on a rerun over the same files and settings (no quarantine file written, the run added to its record), and makes a new one when the input or a setting changes', async () => {
    const dir = folder('q-reuse', files);
    const root = join(work, 'q-reuse-root');
    const first = (await run(dir, params, 'SELECT 1', root)).result;
    // quarantine.json is the folder's record of the runs that used it: each run adds one line to it.
    const quarantineFiles = () => Object.fromEntries(Object.entries(snapshot(root)).filter(([p]) => !p.endsWith('/quarantine.json')));
    const before = quarantineFiles();
    await new Promise((r) => setTimeout(r, 20));
    const second = (await run(dir, params, 'SELECT 1', root)).result;
    expect(second.quarantineDir).toBe(first.quarantineDir);
    expect(second.quarantineReused).toBe(true);
    expect(quarantineFiles()).toEqual(before);
    expect(Object.keys(before).length).toBe(2);

    // validate (no limit) shares the folder with train and score on the same input.
    const validated = await validateCommand(dir, params, root);
    expect(validated.text).toContain(`${first.quarantineDir} (written by an earlier run on the same files and settings)`);
    expect(quarantineFiles()).toEqual(before);
    expect(readQuarantineMeta(first.quarantineDir!)!.runs.map((r) => r.command)).toEqual([null, null, 'validate']);

    const changed = join(work, 'q-reuse-changed');
    cpSync(dir, changed, { recursive: true });
    writeFileSync(join(changed, 'usage_events.csv'), `${files['usage_events.csv']}Y,2026-09-03 10:00:00,tax,web\n`);
    const other = (await run(changed, params, 'SELECT 1', root)).result;
    const later = (await run(dir, { ...params, asOf: '2026-09-29' }, 'SELECT 1', root)).result;
    expect(new Set([first.quarantineDir, other.quarantineDir, later.quarantineDir]).size).toBe(3);
    expect(readdirSync(root).length).toBe(3);
    expect(readFileSync(join(other.quarantineDir!, 'usage_events.csv'), 'utf8').trim().split('\n')).toHaveLength(3);
  });

  it('writes no folder when nothing is quarantined', async () => {
    const dir = folder('q-clean', { 'customers.csv': 'customer_id,signup_date\nA,2025-01-01\n', 'usage_events.csv': 'customer_id,ts,module\nA,2026-09-01 10:00:00,tax\n' });
    const root = join(work, 'q-clean-root');
    const { result } = await run(dir, base, 'SELECT 1', root);
    expect(result.quarantineDir).toBeNull();
    expect(() => readdirSync(root)).toThrow();
  });
});
