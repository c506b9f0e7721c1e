import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { ingest, defaultIngestParams, type IngestParams, type IngestResult } from '../../pipeline/01-ingest/ingest.ts';
import { openDuck, queryRows, sqlString } from '../../pipeline/core/duck.ts';
import { quietLogger } from '../../pipeline/core/log.ts';

/**
 * test/fixtures/order-lines/lines.csv: eight order lines of customers A, B, C and one without an
 * id, attributes repeated per line. By hand: A's first date is 2026-01-02, most common industry
 * Retail (2 of 3), region west (2 of 3); B's region is a tie north/south (north comes first), its
 * industry the only non-blank one; C has no parseable date.
 */
const dir = join(import.meta.dirname, '../fixtures/order-lines');
const params = (attributes: 'mode' | 'first' | 'last'): IngestParams => ({
  ...defaultIngestParams,
  files: { transactions: 'lines.csv' },
  deriveCustomers: { from: 'transactions', attributes },
  columns: {
    transactions: { customer_id: 'cust', ts: 'date', amount: 'amount' },
    customers: { signup_date: 'date', industry: 'industry', region: 'region' },
  },
  asOf: '2026-09-30',
  quarantineLimit: 1,
});

describe('customers derived from order lines', () => {
  let conn: DuckDBConnection;
  let result: IngestResult;
  const qdir = mkdtempSync(join(tmpdir(), 'finseg-derive-'));
  beforeAll(async () => {
    conn = await openDuck();
    result = await ingest(conn, dir, params('mode'), qdir, quietLogger);
  });
  afterAll(() => {
    conn.closeSync();
    rmSync(qdir, { recursive: true, force: true });
  });

  it('makes one customer per id: signup = earliest date, attributes = most common value (ties: earliest)', async () => {
    const rows = await queryRows(conn, `SELECT customer_id, CAST(signup_date AS VARCHAR) AS signup, industry, region FROM customers ORDER BY customer_id`);
    expect(rows).toEqual([
      { customer_id: 'A', signup: '2026-01-02', industry: 'Retail', region: 'west' },
      { customer_id: 'B', signup: '2026-02-01', industry: 'Health care', region: 'north' },
    ]);
  });

  it('reconciles both tables: 3 derived customers from 7 lines with an id; the NA line is quarantined once, in transactions', () => {
    expect(result.tables.customers).toMatchObject({ read: 3, accepted: 2, quarantined: 1, byReason: { unparseable: 1 }, derivedFrom: 'transactions', sourceRows: 7 });
    expect(result.tables.transactions).toMatchObject({ read: 8, accepted: 5, quarantined: 3, byReason: { missing_key: 1, unparseable: 2 } });
  });

  it("puts a derived customer's quarantine entry on the line of its first row", async () => {
    const rows = await queryRows(conn, `SELECT line, reason, "column", value FROM read_csv(${sqlString(join(result.quarantineDir!, 'customers.csv'))}, all_varchar = true)`);
    expect(rows).toEqual([{ line: '8', reason: 'unparseable', column: 'signup_date', value: 'not-a-date' }]);
  });

  it('takes the first or the last non-blank value when configured', async () => {
    const pick = async (attributes: 'first' | 'last') => {
      const c = await openDuck();
      await ingest(c, dir, params(attributes), null, quietLogger);
      const rows = await queryRows(c, `SELECT customer_id, industry, region FROM customers ORDER BY customer_id`);
      c.closeSync();
      return rows.map((r) => `${r.customer_id}:${r.industry}:${r.region}`);
    };
    expect(await pick('first')).toEqual(['A:Retail:east', 'B:Health care:north']);
    expect(await pick('last')).toEqual(['A:Manufacturing:west', 'B:Health care:south']);
  });
});
