import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tableFromArrays, tableToIPC } from 'apache-arrow';
import { ingest, defaultIngestParams, type IngestParams } from '../../pipeline/01-ingest/ingest.ts';
import { parseConfig } from '../../pipeline/config/config.ts';
import { openDuck } from '../../pipeline/core/duck.ts';
import { InputError } from '../../pipeline/core/errors.ts';
import { quietLogger } from '../../pipeline/core/log.ts';
import { writeFolder } from '../helpers/folder.ts';

const root = mkdtempSync(join(tmpdir(), 'finseg-errors-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;

const customersCsv = 'customer_id,signup_date\nA,2026-01-01\nB,2026-02-01\n';
const txnCsv = 'customer_id,ts,amount\nA,2026-09-01 10:00:00,5\nB,2026-09-02 10:00:00,7\n';

/** A data folder from file name → contents. */
const folder = (files: Record<string, string | Buffer>): string => writeFolder(root, `d${n++}`, files);

/** The InputError an ingest of `dir` ends in (fails the test when it succeeds or throws anything else). */
async function errorOf(dir: string, params: Partial<IngestParams> = {}): Promise<InputError> {
  const conn = await openDuck();
  try {
    await ingest(conn, dir, { ...defaultIngestParams, asOf: '2026-09-30', ...params }, null, quietLogger);
  } catch (e) {
    if (e instanceof InputError) return e;
    throw e;
  } finally {
    conn.closeSync();
  }
  throw new Error('ingest succeeded');
}

describe('file-level errors name the file and what is wrong', () => {
  it('a missing customers table, with the ways to provide one', async () => {
    const err = await errorOf(folder({ 'transactions.csv': txnCsv }));
    expect(err.message).toMatch(/^no customers table in /);
    expect(err.detail.join('\n')).toContain('"deriveCustomers": {"from": "transactions"}');
  });

  it('a file named in the config that is not there, with the closest names', async () => {
    const err = await errorOf(folder({ 'customers.csv': customersCsv, 'sales_2026.csv': txnCsv }), { files: { transactions: 'sales2026.csv' } });
    expect(err.message).toMatch(/^file for table transactions not found: .*sales2026\.csv$/);
    expect(err.detail.join('\n')).toContain('closest in');
    expect(err.detail.join('\n')).toContain('sales_2026.csv');
  });

  it('an empty file', async () => {
    const err = await errorOf(folder({ 'customers.csv': '', 'transactions.csv': txnCsv }));
    expect(err.message).toMatch(/customers\.csv is empty: expected a header line/);
  });

  it('a header with one column that holds separators: the delimiter hint', async () => {
    const semicolons = 'customer_id;ts;amount\nA;2026-09-01;5\n';
    const err = await errorOf(folder({ 'customers.csv': customersCsv.replaceAll(',', ';'), 'transactions.csv': semicolons }), { csv: { delimiter: ',', quote: null, encoding: 'auto' } });
    expect(err.message).toMatch(/customers\.csv: required column "customer_id" \(customers\.customer_id, string\) is missing/);
    expect(err.detail).toContain('the header has one column with separators in it: set "ingest": {"csv": {"delimiter": ...}}');
  });

  it('a UTF-16 file without a byte-order mark: the NUL-byte hint', async () => {
    const err = await errorOf(folder({ 'customers.csv': customersCsv, 'transactions.csv': Buffer.from(txnCsv, 'utf16le') }));
    expect(err.detail.join('\n')).toContain('looks like UTF-16');
  });

  it('a date column in another layout: the format that parses it, ready to paste', async () => {
    const us = 'customer_id,ts,amount\n' + Array.from({ length: 8 }, (_, i) => `A,9/${i + 1}/2026,5`).join('\n') + '\n';
    const err = await errorOf(folder({ 'customers.csv': customersCsv, 'transactions.csv': us }));
    expect(err.message).toMatch(/transactions\.csv: column "ts" \(transactions\.ts\) does not hold timestamp values/);
    expect(err.detail[0]).toBe('8 of 8 values do not parse, e.g. "9/1/2026", "9/2/2026", "9/3/2026"');
    expect(err.detail[1]).toContain('"ts": {"column": "ts", "format": "%m/%d/%Y"}');
  });

  it('swapped columns: most values of a number column are text', async () => {
    const swapped = 'customer_id,ts,amount\n' + Array.from({ length: 6 }, (_, i) => `A,2026-09-0${i + 1} 10:00:00,CNY`).join('\n') + '\n';
    const err = await errorOf(folder({ 'customers.csv': customersCsv, 'transactions.csv': swapped }));
    expect(err.message).toMatch(/column "amount" \(transactions\.amount\) does not hold number values/);
    expect(err.detail).toContain('is the column mapping right? two columns may be swapped');
  });

  it('a truncated Parquet file', async () => {
    const dir = folder({ 'customers.csv': customersCsv });
    const conn = await openDuck();
    await conn.run(`COPY (SELECT * FROM read_csv('${join(dir, 'customers.csv')}')) TO '${join(root, 'whole.parquet')}' (FORMAT parquet)`);
    conn.closeSync();
    const whole = readFileSync(join(root, 'whole.parquet'));
    writeFileSync(join(dir, 'transactions.parquet'), whole.subarray(0, whole.length - 20));
    const err = await errorOf(dir);
    expect(err.message).toMatch(/cannot read .*transactions\.parquet as Parquet/);
  });

  it('a truncated Arrow IPC file', async () => {
    const table = tableFromArrays({ customer_id: ['A', 'B'], ts: ['2026-09-01 10:00:00', '2026-09-02 10:00:00'], amount: Float64Array.from([5, 7]) });
    const bytes = Buffer.from(tableToIPC(table, 'file'));
    const err = await errorOf(folder({ 'customers.csv': customersCsv, 'transactions.arrow': bytes.subarray(0, bytes.length - 40) }));
    expect(err.message).toMatch(/cannot read .*transactions\.arrow as Arrow IPC: the file is truncated or not an Arrow IPC file or stream/);
  });

  it('a folder that mixes formats', async () => {
    const err = await errorOf(folder({ 'customers.csv': customersCsv, 'transactions/a.csv': txnCsv, 'transactions/b.jsonl': '{}\n' }));
    expect(err.message).toMatch(/mixes formats/);
  });
});

describe('config checks name the key', () => {
  const bad = (ingest: unknown) => {
    try {
      parseConfig({ ingest }, 'my.json');
    } catch (e) {
      if (e instanceof InputError) return [e.message, ...e.detail].join('\n');
      throw e;
    }
    throw new Error('accepted');
  };

  it('rejects a column that is not in the contract, suggesting the closest', () => {
    expect(bad({ columns: { customers: { custmer_id: 'Id' } } })).toMatch(/^my\.json: ingest\.columns\.customers\.custmer_id: expected a column of customers, got "custmer_id"[\s\S]*closest: customer_id/);
  });

  it('rejects a value map onto a value outside the enum', () => {
    expect(bad({ values: { usage_events: { device: { Phone: 'handset' } } } })).toMatch(/^my\.json: ingest\.values\.usage_events\.device\.Phone: maps to "handset", which is not one of web, desktop, mobile, api/);
  });

  it('rejects a date format on a number, a bad currency and a bad unit', () => {
    expect(bad({ columns: { transactions: { amount: { column: 'x', format: '%Y' } } } })).toMatch(/^my\.json: ingest\.columns\.transactions\.amount: "format" applies to dates and timestamps, amount is number/);
    expect(bad({ units: { currency: 'usd' } })).toMatch(/^my\.json: ingest\.units\.currency: expected an ISO 4217 code such as "USD", got "usd"/);
    expect(bad({ units: { annualRevenue: 'lakh' } })).toMatch(/^my\.json: ingest\.units\.annualRevenue: expected one of units, thousands, millions, got "lakh"/);
  });

  it('accepts $comment keys in every map', () => {
    const c = parseConfig({ ingest: { $comment: 'x', columns: { $comment: 'y', customers: { $comment: 'z', customer_id: 'Id' } }, values: { $comment: 'v' } } });
    expect(c.ingest.columns.customers).toMatchObject({ customer_id: 'Id' });
  });
});
