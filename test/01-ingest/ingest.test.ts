import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { ingest, defaultIngestParams, closestNames, type IngestResult } from '../../pipeline/01-ingest/ingest.ts';
import { openDuck, queryRows } from '../../pipeline/core/duck.ts';
import { quietLogger } from '../../pipeline/core/log.ts';
import { InputError } from '../../pipeline/core/errors.ts';

const tiny = join(import.meta.dirname, '../fixtures/tiny');

describe('ingest on the tiny hand-made export', () => {
  let conn: DuckDBConnection;
  let result: IngestResult;
  let qdir: string;
  beforeAll(async () => {
    conn = await openDuck();
    qdir = mkdtempSync(join(tmpdir(), 'finseg-q-'));
    result = await ingest(conn, tiny, { ...defaultIngestParams, asOf: '2026-09-30', quarantineLimit: 1 }, qdir, quietLogger);
  });
  afterAll(() => {
    conn.closeSync();
    rmSync(qdir, { recursive: true, force: true });
  });

  it('quarantines each bad customer row with its reason and keeps the first of a duplicate id', () => {
    const c = result.tables.customers!;
    expect(c).toMatchObject({ read: 6, accepted: 3, quarantined: 3 });
    expect(c.byReason).toEqual({ duplicate_id: 1, unparseable: 1, out_of_range: 1 });
  });

  it('quarantines unknown customers, future timestamps, bad enums and unparseable amounts', () => {
    expect(result.tables.usage_events).toMatchObject({ read: 9, accepted: 6, quarantined: 3 });
    expect(result.tables.usage_events!.byReason).toEqual({ unknown_customer: 1, after_as_of: 1, bad_enum: 1 });
    expect(result.tables.transactions).toMatchObject({ read: 7, accepted: 6, quarantined: 1 });
    expect(result.tables.transactions!.byReason).toEqual({ unparseable: 1 });
  });

  it('reconciles read = accepted + quarantined for every table', () => {
    for (const t of Object.values(result.tables)) expect(t.read).toBe(t.accepted + t.quarantined);
  });

  it('writes quarantined rows with source file, line number and reason', () => {
    const lines = readFileSync(join(qdir, 'customers.csv'), 'utf8').trim().split('\n');
    expect(lines[0]).toMatch(/^source_file,line,reason,customer_id/);
    expect(lines.slice(1).map((l) => l.split(',').slice(1, 4).join(','))).toEqual([
      '5,duplicate_id,B',
      '6,unparseable,D',
      '7,out_of_range,E',
    ]);
  });

  it('normalises enum spelling (On-Prem → on_prem) and types the accepted rows', async () => {
    const rows = await queryRows(conn, `SELECT customer_id, deployment, employees FROM customers ORDER BY customer_id`);
    expect(rows).toEqual([
      { customer_id: 'A', deployment: 'cloud', employees: 5 },
      { customer_id: 'B', deployment: 'on_prem', employees: 120 },
      { customer_id: 'C', deployment: null, employees: null },
    ]);
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

  it('stops when a table passes the quarantine limit', async () => {
    const conn = await openDuck();
    const err = await ingest(conn, tiny, { ...defaultIngestParams, asOf: '2026-09-30' }, null, quietLogger).catch((e: unknown) => e);
    conn.closeSync();
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).message).toMatch(/customers: 3 of 6 rows quarantined \(50\.0%\), over the limit of 5\.0%/);
  });

  it('suggests close column names by edit distance', () => {
    expect(closestNames('customer_id', ['CustomerID', 'Country', 'id'])[0]).toBe('CustomerID');
  });
});
