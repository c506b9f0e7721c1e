import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DuckDBConnection } from '@duckdb/node-api';
import { withQueryProgress } from '../../pipeline/core/duck-progress.ts';
import { openDuck, queryRows } from '../../pipeline/core/duck.ts';

let conn: DuckDBConnection;
beforeAll(async () => {
  conn = await openDuck();
});
afterAll(() => conn.closeSync());

const tracking = async (): Promise<unknown> => (await queryRows(conn, `SELECT current_setting('enable_progress_bar') AS on`))[0]!.on;

describe('withQueryProgress', () => {
  it('passes the result through, ends on (100, 100) and leaves the connection settings as they were', async () => {
    const before = await tracking();
    const calls: [number, number][] = [];
    const rows = await withQueryProgress(conn, (done, total) => calls.push([done, total]), () => queryRows(conn, 'SELECT count(*) AS n FROM range(1000)'));
    expect(rows[0]!.n).toBe(1000);
    expect(calls.at(-1)).toEqual([100, 100]);
    for (const [done, total] of calls) expect(done >= 0 && done <= total && total === 100).toBe(true);
    expect(await tracking()).toBe(before);
  });

  it('sets nothing and reports nothing without a callback (no terminal, --quiet)', async () => {
    const before = await tracking();
    let during: unknown;
    await withQueryProgress(conn, undefined, async () => {
      during = await tracking();
    });
    expect(during).toBe(before);
    await withQueryProgress(conn, () => {}, async () => {
      during = await tracking();
    });
    expect(during).toBe(true);
  });

  it('ends the bar and resets the settings when the work fails', async () => {
    const before = await tracking();
    const calls: [number, number][] = [];
    await expect(withQueryProgress(conn, (d, t) => calls.push([d, t]), () => queryRows(conn, 'SELECT * FROM no_such_table'))).rejects.toThrow();
    expect(calls.at(-1)).toEqual([100, 100]);
    expect(await tracking()).toBe(before);
  });
});
