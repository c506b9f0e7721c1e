import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { tableFromArrays, tableToIPC } from 'apache-arrow';
import { ingest, defaultIngestParams, type IngestResult } from '../../pipeline/01-ingest/ingest.ts';
import { countFields } from '../../pipeline/01-ingest/dialect.ts';
import { splitRecord } from '../../pipeline/01-ingest/text.ts';
import { openDuck, queryRows, sqlString } from '../../pipeline/core/duck.ts';
import { quietLogger } from '../../pipeline/core/log.ts';

/**
 * Issue 16 item 3: a folder of CSV parts is staged by one scan per header, and the quarantine
 * still names each bad row's own file and physical line. The parts are hand-made with the bad
 * rows planted at known lines: a quoted newline and a blank line before a bad row, a part with
 * its columns in another order, a part with another delimiter, a part whose quote never closes
 * (read again line by line) followed by a part with the same header.
 */

const CUSTOMERS = 'customer_id,signup_date\nA,2026-01-01\nB,2026-01-01\nC,2026-01-01\n';
const HEADER = 'customer_id,ts,amount,currency,kind';
const PARTS: Record<string, string> = {
  // line 3-4: one record with a newline inside `kind` (bad_enum at its first line: `kind` is optional, so the
  // cell is nulled and the row kept); line 5 blank; line 6 unparseable amount.
  '2026-09-01.csv': `${HEADER}\nA,2026-09-01 10:00:00,10,CNY,sale\nB,2026-09-01 11:00:00,20,CNY,"sa\nle"\n\nA,2026-09-01 12:00:00,abc,CNY,sale\nC,2026-09-01 13:00:00,30,CNY,sale\n`,
  // Another column order; line 3 has a field too many (malformed); line 4 an unknown customer.
  '2026-09-02.csv': 'amount,customer_id,kind,ts,currency\n40,A,sale,2026-09-02 10:00:00,CNY\n50,B,sale,2026-09-02 11:00:00,CNY,extra\n60,Z,sale,2026-09-02 12:00:00,CNY\n',
  // The first header again; line 3 has no timestamp a parser could read.
  '2026-09-03.csv': `${HEADER}\nC,2026-09-03 10:00:00,70,CNY,sale\nC,notatime,80,CNY,sale\nA,2026-09-03 12:00:00,90,CNY,sale\n`,
  // Semicolons; line 3 an unknown customer.
  '2026-09-04.csv': 'customer_id;ts;amount;currency;kind\nB;2026-09-04 10:00:00;100;CNY;sale\nQ;2026-09-04 11:00:00;101;CNY;sale\n',
  // Line 3 opens a quote that never closes: the part is read again line by line, line 3 malformed.
  '2026-09-05.csv': `${HEADER}\nA,2026-09-05 10:00:00,110,CNY,sale\nA,2026-09-05 11:00:00,120,CNY,"sale\nB,2026-09-05 12:00:00,130,CNY,sale\n`,
  '2026-09-06.csv': `${HEADER}\nC,2026-09-06 10:00:00,140,CNY,sale\n`,
};
/** Accepted (customer, amount) pairs, from the parts above by hand. */
const ACCEPTED = ['A 10', 'A 110', 'A 40', 'A 90', 'B 100', 'B 130', 'B 20', 'C 140', 'C 30', 'C 70'];
/** file | line | reason | column of every nulled cell, by hand (an optional column's bad value; the row is kept). */
const NULLED = ['2026-09-01.csv | 3 | bad_enum | kind'];
/** file | line | reason | column of every quarantined transaction, by hand. */
const QUARANTINED = [
  '2026-09-01.csv | 6 | unparseable | amount',
  '2026-09-02.csv | 3 | malformed | ',
  '2026-09-02.csv | 4 | unknown_customer | customer_id',
  '2026-09-03.csv | 3 | unparseable | ts',
  '2026-09-04.csv | 3 | unknown_customer | customer_id',
  '2026-09-05.csv | 3 | malformed | ',
];

const params = { ...defaultIngestParams, asOf: '2026-09-30', quarantineLimit: 1 };

async function accepted(conn: DuckDBConnection): Promise<string[]> {
  const rows = await queryRows(conn, `SELECT customer_id, CAST(amount AS VARCHAR) AS amount, CAST(ts AS VARCHAR) AS ts, currency, kind FROM transactions ORDER BY customer_id, ts`);
  return rows.map((r) => [r.customer_id, r.amount, r.ts, r.currency, r.kind].join(' '));
}

describe('a folder of CSV parts (one scan per header)', () => {
  let root: string;
  let conn: DuckDBConnection;
  let result: IngestResult;
  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'finseg-many-files-'));
    mkdirSync(join(root, 'parts', 'transactions'), { recursive: true });
    writeFileSync(join(root, 'parts', 'customers.csv'), CUSTOMERS);
    for (const [name, text] of Object.entries(PARTS)) writeFileSync(join(root, 'parts', 'transactions', name), text);
    conn = await openDuck();
    result = await ingest(conn, join(root, 'parts'), params, join(root, 'quarantine'), quietLogger);
  });
  afterAll(() => {
    conn.closeSync();
    rmSync(root, { recursive: true, force: true });
  });

  it('reads every record of every part once: read = accepted + quarantined with the hand counts, one cell nulled', () => {
    expect(result.tables.transactions).toMatchObject({ files: 6, read: 16, accepted: 10, quarantined: 6, cellsNulled: 1 });
  });

  it('accepts the good rows of every part, whatever its column order or delimiter', async () => {
    const rows = await queryRows(conn, `SELECT customer_id || ' ' || CAST(CAST(amount AS INTEGER) AS VARCHAR) AS k FROM transactions ORDER BY k`);
    expect(rows.map((r) => r.k)).toEqual(ACCEPTED);
  });

  it('names each quarantined row by its own file and physical line', async () => {
    const rows = await queryRows(
      conn,
      `SELECT source_file, line, reason, "column" FROM read_csv(${sqlString(join(result.quarantineDir!, 'transactions.csv'))}, all_varchar = true) ORDER BY source_file, CAST(line AS INT)`,
    );
    expect(rows.map((r) => [String(r.source_file).split('/').pop(), r.line, r.reason, r.column ?? ''].join(' | '))).toEqual(QUARANTINED);
  });

  it('names each nulled cell by its own file and physical line', async () => {
    const rows = await queryRows(
      conn,
      `SELECT source_file, line, reason, "column" FROM read_csv(${sqlString(join(result.quarantineDir!, 'transactions.cells.csv'))}, all_varchar = true) ORDER BY source_file, CAST(line AS INT)`,
    );
    expect(rows.map((r) => [String(r.source_file).split('/').pop(), r.line, r.reason, r.column ?? ''].join(' | '))).toEqual(NULLED);
  });

  it('writes the original columns of a quarantined row from a part with its own column order', () => {
    const text = readFileSync(join(result.quarantineDir!, 'transactions.csv'), 'utf8');
    const line = text.split('\n').find((l) => l.includes('2026-09-02.csv') && l.includes('unknown_customer'))!;
    expect(line).toContain('60');
    expect(line).toContain('Z');
  });

  it('accepts the same rows as one file holding the same records', async () => {
    const oneDir = join(root, 'one');
    mkdirSync(oneDir);
    writeFileSync(join(oneDir, 'customers.csv'), CUSTOMERS);
    // The same records in the first header's column order and delimiter, blank line and unclosed quote left out.
    const records = [
      'A,2026-09-01 10:00:00,10,CNY,sale', 'B,2026-09-01 11:00:00,20,CNY,"sa\nle"', 'A,2026-09-01 12:00:00,abc,CNY,sale', 'C,2026-09-01 13:00:00,30,CNY,sale',
      'A,2026-09-02 10:00:00,40,CNY,sale', 'Z,2026-09-02 12:00:00,60,CNY,sale',
      'C,2026-09-03 10:00:00,70,CNY,sale', 'C,notatime,80,CNY,sale', 'A,2026-09-03 12:00:00,90,CNY,sale',
      'B,2026-09-04 10:00:00,100,CNY,sale', 'Q,2026-09-04 11:00:00,101,CNY,sale',
      'A,2026-09-05 10:00:00,110,CNY,sale', 'B,2026-09-05 12:00:00,130,CNY,sale',
      'C,2026-09-06 10:00:00,140,CNY,sale',
    ];
    writeFileSync(join(oneDir, 'transactions.csv'), `${HEADER}\n${records.join('\n')}\n`);
    const other = await openDuck();
    try {
      await ingest(other, oneDir, params, null, quietLogger);
      expect(await accepted(other)).toEqual(await accepted(conn));
    } finally {
      other.closeSync();
    }
  });
});

describe('a folder of Arrow parts (one scan per schema)', () => {
  it('names each quarantined row by its own part and row number, a part with its own column order included', async () => {
    const root = mkdtempSync(join(tmpdir(), 'finseg-arrow-parts-'));
    const conn = await openDuck();
    try {
      mkdirSync(join(root, 'data', 'transactions'), { recursive: true });
      writeFileSync(join(root, 'data', 'customers.csv'), CUSTOMERS);
      const part = (name: string, columns: Record<string, string[]>) => writeFileSync(join(root, 'data', 'transactions', name), Buffer.from(tableToIPC(tableFromArrays(columns), 'file')));
      // Row 2 an unparseable amount.
      part('2026-09-01.arrow', { customer_id: ['A', 'B', 'C'], ts: ['2026-09-01 10:00:00', '2026-09-01 11:00:00', '2026-09-01 12:00:00'], amount: ['10', 'abc', '30'] });
      // Another column order; row 1 an unknown customer.
      part('2026-09-02.arrow', { amount: ['40', '50'], ts: ['2026-09-02 10:00:00', '2026-09-02 11:00:00'], customer_id: ['Z', 'A'] });
      // The first schema again; row 3 an unknown customer, row 1 a timestamp no parser reads.
      part('2026-09-03.arrow', { customer_id: ['C', 'B', 'Q'], ts: ['notatime', '2026-09-03 11:00:00', '2026-09-03 12:00:00'], amount: ['70', '80', '90'] });
      const result = await ingest(conn, join(root, 'data'), params, join(root, 'quarantine'), quietLogger);
      expect(result.tables.transactions).toMatchObject({ files: 3, read: 8, accepted: 4, quarantined: 4 });
      const rows = await queryRows(
        conn,
        `SELECT source_file, line, reason, "column", customer_id, amount FROM read_csv(${sqlString(join(result.quarantineDir!, 'transactions.csv'))}, all_varchar = true) ORDER BY source_file, CAST(line AS INT)`,
      );
      expect(rows.map((r) => [String(r.source_file).split('/').pop(), r.line, r.reason, r.column, r.customer_id, r.amount].join(' | '))).toEqual([
        '2026-09-01.arrow | 2 | unparseable | amount | B | abc',
        '2026-09-02.arrow | 1 | unknown_customer | customer_id | Z | 40',
        '2026-09-03.arrow | 1 | unparseable | ts | C | 70',
        '2026-09-03.arrow | 3 | unknown_customer | customer_id | Q | 90',
      ]);
      const kept = await queryRows(conn, `SELECT customer_id || ' ' || CAST(CAST(amount AS INTEGER) AS VARCHAR) AS k FROM transactions ORDER BY k`);
      expect(kept.map((r) => r.k)).toEqual(['A 10', 'A 50', 'B 80', 'C 30']);
    } finally {
      conn.closeSync();
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('countFields', () => {
  it('counts the fields splitRecord finds, quotes and doubled quotes included', () => {
    const lines = ['a,b,c', '"a,b",c', '"a""b",c,', 'x"y,z', '"open,field', '', ',,', "'a;b';c", '"a"b,c'];
    for (const l of lines) {
      for (const d of [
        { delimiter: ',', quote: '"' },
        { delimiter: ';', quote: "'" },
        { delimiter: '\t', quote: '"' },
      ]) {
        expect(countFields(l, d)).toBe(splitRecord(l, d).length);
      }
    }
  });
});
