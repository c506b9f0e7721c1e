import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DuckDBConnection } from '@duckdb/node-api';
import { checkQuarantineLimit, createRejectedRows, firstFailure, reasonItems, reconcile, repeatedKeysSql, summariseRejected } from '../../pipeline/01-ingest/quarantine-rows.ts';
import { openDuck, queryRows } from '../../pipeline/core/duck.ts';
import { InputError } from '../../pipeline/core/errors.ts';

/** The quarantine engine shared by ingest and the feature-table reader, on rows small enough to check by hand. */
let conn: DuckDBConnection;
beforeAll(async () => {
  conn = await openDuck();
  // file 0: lines 2..7; line 5 repeats line 2's key, line 7 repeats it again; line 6 has no key.
  await conn.run(`CREATE TEMP TABLE rows AS SELECT * FROM (VALUES
    (0, 2, 'A', '5'), (0, 3, 'B', 'x'), (0, 4, 'C', '-1'), (0, 5, 'A', '7'), (0, 6, NULL, '1'), (0, 7, 'A', '-3')) v(__file, __line, __key, "a:b")`);
});
afterAll(() => conn.closeSync());

const checks = [
  { when: '__key IS NULL', reason: 'missing_key', column: 'id', detail: 'id is blank' },
  { when: `try_cast("a:b" AS DOUBLE) IS NULL`, reason: 'unparseable', column: 'a:b', detail: 'expected a number' },
  { when: `try_cast("a:b" AS DOUBLE) < 0`, reason: 'out_of_range', column: 'a:b', detail: 'expected ≥ 0' },
];

describe('the quarantine engine', () => {
  it('gives each row the first check it fails, keeping a column name that holds a colon whole', async () => {
    const rows = await queryRows(conn, `SELECT __line, ${reasonItems('rc')} FROM (SELECT *, ${firstFailure(checks)} AS rc FROM rows) ORDER BY __line`);
    expect(rows.map((r) => [Number(r.__line), r.__reason, r.__column])).toEqual([
      [2, null, null],
      [3, 'unparseable', 'a:b'],
      [4, 'out_of_range', 'a:b'],
      [5, null, null],
      [6, 'missing_key', 'id'],
      [7, 'out_of_range', 'a:b'],
    ]);
  });

  it('finds repeated keys among the passing rows, the first row in file and line order kept', async () => {
    const passing = `SELECT __file, __line, __key FROM rows WHERE __line IN (2, 5, 6)`;
    const rows = await queryRows(conn, `SELECT __line, __key FROM (${repeatedKeysSql(passing)}) ORDER BY __line`);
    expect(rows.map((r) => [Number(r.__line), r.__key])).toEqual([[5, 'A']]);
  });

  it('writes each failing row with the value of its column and the detail of its reason, then counts them', async () => {
    await createRejectedRows(conn, 'rejected', {
      from: `(SELECT *, ${reasonItems('rc')} FROM (SELECT *, ${firstFailure(checks)} AS rc FROM rows)) c`,
      values: [['id', '__key'], ['a:b', '"a:b"']],
      details: checks,
    });
    const rows = await queryRows(conn, `SELECT __line, __reason, __value, __detail FROM rejected ORDER BY __line`);
    expect(rows.map((r) => [Number(r.__line), r.__reason, r.__value, r.__detail])).toEqual([
      [3, 'unparseable', 'x', 'expected a number'],
      [4, 'out_of_range', '-1', 'expected ≥ 0'],
      [6, 'missing_key', null, 'id is blank'],
      [7, 'out_of_range', '-3', 'expected ≥ 0'],
    ]);
    // Ingest's style: most rows first, blank values are no example, long values cut.
    const byCount = await summariseRejected(conn, 'rejected', { order: 'count', blankExamples: false, exampleChars: 1 });
    expect(byCount.quarantined).toBe(4);
    expect(byCount.byReason).toEqual({ missing_key: 1, unparseable: 1, out_of_range: 2 });
    expect(byCount.details).toEqual([
      { reason: 'out_of_range', column: 'a:b', count: 2, examples: ['-…', '-…'] },
      { reason: 'missing_key', column: 'id', count: 1, examples: [] },
      { reason: 'unparseable', column: 'a:b', count: 1, examples: ['x'] },
    ]);
    // The feature table's style: in the contract's order of reasons, a blank value shown as "".
    const byReason = await summariseRejected(conn, 'rejected', { order: 'reasons', blankExamples: true, exampleChars: null });
    expect(byReason.details.map((d) => [d.reason, d.examples])).toEqual([
      ['missing_key', ['']],
      ['unparseable', ['x']],
      ['out_of_range', ['-1', '-3']],
    ]);
  });

  it('orders groups of one reason with equal counts by column name', async () => {
    await conn.run(`CREATE TEMP TABLE ties AS SELECT * FROM (VALUES (0, 1, 'unparseable', 'zeta', 'z', ''), (0, 2, 'unparseable', 'alpha', 'a', '')) v(__file, __line, __reason, __column, __value, __detail)`);
    for (const order of ['count', 'reasons'] as const) {
      const s = await summariseRejected(conn, 'ties', { order, blankExamples: false, exampleChars: null });
      expect(s.details.map((d) => d.column)).toEqual(['alpha', 'zeta']);
    }
  });

  it('stops a run over the limit with the groups and hints, and a lost row as a bug', () => {
    const summary = { quarantined: 3, byReason: { missing_key: 3 }, details: [{ reason: 'missing_key', column: 'id', count: 3, examples: ['', ''] }] };
    expect(() => checkQuarantineLimit('t', 4, summary, 0.75, [])).not.toThrow();
    let e: unknown = null;
    try {
      checkQuarantineLimit('t', 4, summary, 0.5, ['hint']);
    } catch (x) {
      e = x;
    }
    expect(e).toBeInstanceOf(InputError);
    expect((e as InputError).message).toBe('t: 3 of 4 rows quarantined (75.0%), over the limit of 50.0%');
    expect((e as InputError).detail).toEqual(['missing_key in id: 3, e.g. "", ""', 'hint', 'raise "ingest.quarantineLimit" in the config if this is expected']);
    expect(() => reconcile('t', 4, 2, 1)).toThrow('t: 4 rows read but 2 accepted and 1 quarantined');
  });
});
