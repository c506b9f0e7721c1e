import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ingest, defaultIngestParams, type IngestParams, type IngestResult } from '../../pipeline/01-ingest/ingest.ts';
import { isCellLevel, splitChecks } from '../../pipeline/01-ingest/cells.ts';
import { localChecks, planTable } from '../../pipeline/01-ingest/checks.ts';
import { CONTRACT } from '../../pipeline/01-ingest/contract.ts';
import { formatValidation } from '../../pipeline/01-ingest/summary.ts';
import { openDuck, queryRows } from '../../pipeline/core/duck.ts';
import { InputError } from '../../pipeline/core/errors.ts';
import { quietLogger } from '../../pipeline/core/log.ts';
import { writeFolder } from '../helpers/folder.ts';

/**
 * Cell-level quarantine on hand-made files: a bad optional value is nulled with its row kept and
 * written to `<table>.cells.csv`; a bad required value still quarantines the row, and only that
 * takes the customer's other rows with it.
 */
const work = mkdtempSync(join(tmpdir(), 'finseg-cells-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const base: IngestParams = { ...defaultIngestParams, asOf: '2026-09-30', quarantineLimit: 1 };

const folder = (name: string, files: Record<string, string>): string => writeFolder(work, name, files);

async function run(dir: string, sql: string): Promise<{ result: IngestResult; rows: Record<string, unknown>[] }> {
  const conn = await openDuck();
  try {
    const result = await ingest(conn, dir, base, join(dir, 'q'), quietLogger);
    return { result, rows: await queryRows(conn, sql) };
  } finally {
    conn.closeSync();
  }
}

/** The cells file of a table as "line reason column value" strings. */
function cellLines(result: IngestResult, table: string): string[] {
  const path = join(result.quarantineDir!, `${table}.cells.csv`);
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8').trim().split('\n').slice(1).map((l) => l.split(',').slice(1, 5).join(' '));
}

describe('which checks are cell-level', () => {
  it('is every check of an optional column but a row-time one; required columns keep row checks', () => {
    const plans = planTable('customers', base);
    const split = splitChecks(localChecks('customers', plans, '2026-09-30'), plans);
    expect(split.row.map((c) => `${c.reason}:${c.column}`)).toEqual(['missing_key:customer_id', 'missing_key:signup_date', 'unparseable:signup_date', 'after_as_of:signup_date']);
    expect(split.cells.map((g) => [g.column, g.checks.map((c) => c.reason)])).toEqual([
      ['employees', ['unparseable', 'out_of_range']],
      ['annual_revenue', ['unparseable', 'out_of_range']],
      ['founded_year', ['unparseable', 'out_of_range']],
      ['deployment', ['bad_enum']],
      ['buyer_role', ['bad_enum']],
    ]);
    // feedback.ts must be there as a column though a value may be blank: a bad one is a row defect.
    expect(isCellLevel(CONTRACT.feedback.columns.find((c) => c.name === 'ts')!)).toBe(false);
    expect(isCellLevel(CONTRACT.feedback.columns.find((c) => c.name === 'nps')!)).toBe(true);
  });
});

describe('a bad optional value is a nulled cell; a bad required value a quarantined row', () => {
  const dir = folder('mixed', {
    'customers.csv': [
      'customer_id,signup_date,employees,founded_year,buyer_role',
      'A,2025-01-01,12.5,2001,finance', // 2: employees unparseable → cell
      'B,2025-01-01,10,1762,teleport', // 3: two cells, founded_year and buyer_role
      'C,not a date,-1,2001,cfo', // 4: row (signup_date); its bad employees goes with the row
      'D,2025-01-01,7,2001,CFO', // 5: clean (CFO maps to finance)
      'B,2025-01-01,x,2001,finance', // 6: duplicate_id; its bad employees goes with the row
    ].join('\n'),
    'usage_events.csv': [
      'customer_id,ts,module,device,count',
      'A,2026-09-01 10:00:00,tax,fax,2', // 2: device cell
      'A,2026-09-02 10:00:00,tax,web,-3', // 3: count cell (out_of_range), read as 1 by features
      'B,2026-09-03 10:00:00,tax,web,abc', // 4: count cell (unparseable)
      'C,2026-09-04 10:00:00,tax,teleport,1', // 5: follows C (unparseable signup_date); no cell
      'A,not a time,tax,fax,1', // 6: row (ts); no cell
    ].join('\n'),
    'transactions.csv': ['customer_id,ts,amount,currency,kind', 'A,2026-09-01 10:00:00,10,US$,barter', 'D,2026-09-01 10:00:00,1.5.0,EUR,sale'].join('\n'),
  });

  it('keeps every customer whose only defects are optional, with those values missing', async () => {
    const { result, rows } = await run(dir, 'SELECT customer_id, employees, founded_year, buyer_role FROM customers ORDER BY customer_id');
    expect(rows).toEqual([
      { customer_id: 'A', employees: null, founded_year: 2001, buyer_role: 'finance' },
      { customer_id: 'B', employees: 10, founded_year: null, buyer_role: null },
      { customer_id: 'D', employees: 7, founded_year: 2001, buyer_role: 'finance' },
    ]);
    expect(result.tables.customers).toMatchObject({ read: 5, accepted: 3, quarantined: 2, byReason: { unparseable: 1, duplicate_id: 1 }, cellsNulled: 3 });
    expect(result.tables.customers!.cellsByColumn).toEqual({ buyer_role: 1, employees: 1, founded_year: 1 });
    expect(cellLines(result, 'customers')).toEqual(['2 unparseable employees 12.5', '3 bad_enum buyer_role teleport', '3 out_of_range founded_year 1762']);
  });

  it('keeps events and transactions with a bad optional value, and counts the rows that followed their customer by its reason', async () => {
    const { result, rows } = await run(dir, `SELECT customer_id, CAST(ts AS VARCHAR) AS ts, device, "count" FROM usage_events ORDER BY ts`);
    expect(rows).toEqual([
      { customer_id: 'A', ts: '2026-09-01 10:00:00', device: null, count: 2 },
      { customer_id: 'A', ts: '2026-09-02 10:00:00', device: 'web', count: null },
      { customer_id: 'B', ts: '2026-09-03 10:00:00', device: 'web', count: null },
    ]);
    const events = result.tables.usage_events!;
    expect(events).toMatchObject({ read: 5, accepted: 3, quarantined: 2, byReason: { unparseable: 1, customer_quarantined: 1 }, cellsNulled: 3, cellsByColumn: { count: 2, device: 1 } });
    expect(events.followed).toEqual({ unparseable: 1 });
    expect(cellLines(result, 'usage_events')).toEqual(['2 bad_enum device fax', '3 out_of_range count -3', '4 unparseable count abc']);
    // The amount is required: row. Currency and kind are optional: cells, not filled with a default.
    expect(result.tables.transactions).toMatchObject({ read: 2, accepted: 1, quarantined: 1, byReason: { unparseable: 1 }, cellsByColumn: { currency: 1, kind: 1 } });
    expect(cellLines(result, 'transactions')).toEqual(['2 bad_enum currency US$', '2 bad_enum kind barter']);
    for (const t of Object.values(result.tables)) expect(t.read).toBe(t.accepted + t.quarantined);
  });

  it('prints the nulled cells in validate, by table and by reason and column', async () => {
    const { result } = await run(dir, 'SELECT 1');
    const text = formatValidation(result, 0.05);
    expect(text).toMatch(/customers +csv, 1 file +5 +3 +2 +40\.0% +3 +OVER THE LIMIT/);
    expect(text).toContain('usage_events: optional values nulled (rows kept) by reason');
    expect(text).toMatch(/ +out_of_range +count +1 +"-3"/);
    expect(text).toContain("customer_quarantined rows by the reason of their customer's row: unparseable 1");
  });
});

describe('the detail of an out-of-range value', () => {
  it('names the bound the value breaks: founded_year (1800..2100) above and below, nps (0..10), a single-bound count', async () => {
    const dir = folder('bounds', {
      'customers.csv': ['customer_id,signup_date,founded_year', 'A,2025-01-01,2145', 'B,2025-01-01,1799', 'C,2025-01-01,2100', 'D,2025-01-01,1800'].join('\n'),
      'usage_events.csv': ['customer_id,ts,module,count', 'A,2026-09-01 10:00:00,tax,-1'].join('\n'),
      'feedback.csv': ['customer_id,ts,nps', 'A,2026-09-01 10:00:00,11', 'B,2026-09-01 10:00:00,-2', 'C,2026-09-01 10:00:00,10'].join('\n'),
    });
    const { result } = await run(dir, 'SELECT 1');
    // The contract's bounds (contract.ts): founded_year 1800..2100, nps 0..10, count >= 0; the bounds themselves pass.
    const details = (table: string) => readFileSync(join(result.quarantineDir!, `${table}.cells.csv`), 'utf8').trim().split('\n').slice(1).map((l) => l.split(',').slice(1, 6).join(' | '));
    expect(details('customers')).toEqual(['2 | out_of_range | founded_year | 2145 | founded_year must be at most 2100', '3 | out_of_range | founded_year | 1799 | founded_year must be at least 1800']);
    expect(details('feedback')).toEqual(['2 | out_of_range | nps | 11 | nps must be at most 10', '3 | out_of_range | nps | -2 | nps must be at least 0']);
    expect(details('usage_events')).toEqual(['2 | out_of_range | count | -1 | count must be at least 0']);
  });
});

describe('an optional column of the wrong type', () => {
  it('is a file-level error, not a column silently nulled', async () => {
    const dir = folder('wrong-type', {
      'customers.csv': `customer_id,signup_date,employees\n${['A', 'B', 'C', 'D', 'E', 'F'].map((id) => `${id},2025-01-01,many`).join('\n')}\n`,
      'transactions.csv': 'customer_id,ts,amount\nA,2026-09-01 10:00:00,10\n',
    });
    const err = await run(dir, 'SELECT 1').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).message).toContain('column "employees" (customers.employees) does not hold int values');
  });
});
