import { afterAll, describe, expect, it } from 'vitest';
import { duckQueue, openDuck, readColumns, readColumnsCoded, registerCustomerIndex, startPerCustomer } from '../../pipeline/core/duck.ts';

const conn = await openDuck();
afterAll(() => conn.closeSync());

describe('readColumns', () => {
  it('copies every numeric type straight from its vector, NULL as NaN, across several chunks', async () => {
    // 5000 rows span three DuckDB chunks (2048 rows each); i = 0 is both a NULL row and a chunk start.
    const n = 5000;
    const cols = await readColumns(
      conn,
      `SELECT i::DOUBLE AS d, CASE WHEN i % 7 = 0 THEN NULL ELSE i END::BIGINT AS b, (i % 100 - 50)::INTEGER AS k,
              CASE WHEN i % 3 = 0 THEN NULL ELSE i * 0.5 END AS dn, (i % 5)::TINYINT AS t, (i / 4)::FLOAT AS f,
              CAST(i AS DECIMAL(18, 4)) / 4 AS dec, 'c' || i AS name
       FROM range(${n}) r(i) ORDER BY i`,
      ['name'],
    );
    expect(cols.rowCount).toBe(n);
    expect(cols.names).toEqual(['d', 'b', 'k', 'dn', 't', 'f', 'dec', 'name']);
    const { d, b, k, dn, t, f, dec } = cols.numeric as Record<string, Float64Array>;
    for (let i = 0; i < n; i++) {
      expect(d![i]).toBe(i);
      if (i % 7 === 0) expect(b![i]).toBeNaN();
      else expect(b![i]).toBe(i);
      expect(k![i]).toBe((i % 100) - 50);
      if (i % 3 === 0) expect(dn![i]).toBeNaN();
      else expect(dn![i]).toBe(i * 0.5);
      expect(t![i]).toBe(i % 5);
      expect(f![i]).toBe(Math.fround(i / 4));
      // DECIMAL has no typed-array fast path: it goes value by value.
      expect(dec![i]).toBe(i / 4);
    }
    expect(cols.text.name![4999]).toBe('c4999');
    expect(d).toHaveLength(n);
  });

  it('reads an empty result as empty columns', async () => {
    const cols = await readColumns(conn, 'SELECT 1.5 AS x, 2 AS y WHERE false');
    expect(cols.rowCount).toBe(0);
    expect(cols.numeric.x).toHaveLength(0);
  });
});

describe('readColumnsCoded', () => {
  it('gives the same columns, rows and order as readColumns, NULLs and non-ASCII text included', async () => {
    // 5000 rows over three chunks; the ORDER BY is not the generation order.
    const sql = `SELECT 'id' || lpad(CAST((i * 7919) % 5000 AS VARCHAR), 5, '0') AS id, (i % 11)::DOUBLE AS x,
                        ['零售', 'retail', NULL, 'it''s', ''][1 + i % 5] AS label, CAST(DATE '2020-01-01' + CAST(i % 40 AS INTEGER) AS VARCHAR) AS day
                   FROM range(5000) r(i) ORDER BY id DESC`;
    const plain = await readColumns(conn, sql, ['id', 'label', 'day']);
    const coded = await readColumnsCoded(conn, sql, ['id', 'label', 'day'], ['label', 'day']);
    expect(coded.rowCount).toBe(5000);
    expect(coded.text).toEqual(plain.text);
    expect(coded.numeric).toEqual(plain.numeric);
    expect(coded.text.label!.filter((v) => v === null)).toHaveLength(1000);
    expect(new Set(coded.text.label)).toEqual(new Set(['零售', 'retail', null, "it's", '']));
  });
});

describe('startPerCustomer', () => {
  it('joins several queries in one statement, by row position, with each query its own fill; drops unknown customers', async () => {
    const ids = ['c3', 'c1', 'c2', 'c9'];
    await registerCustomerIndex(conn, ids);
    const cols = await startPerCustomer(conn, ids, [
      { sql: `SELECT * FROM (VALUES ('c1', 10), ('c2', 20), ('c3', 30), ('zz', 99)) v(customer_id, n)`, columns: ['n'], fill: -1 },
      { sql: `SELECT * FROM (VALUES ('c1', 1.5), ('c9', NULL)) v(customer_id, x)`, columns: ['x'] },
      { sql: `SELECT * FROM (VALUES ('c2', 7)) v(customer_id, y)`, columns: ['y'], fill: 0 },
    ]);
    expect(Object.keys(cols)).toEqual(['n', 'x', 'y']);
    expect(Array.from(cols.n!)).toEqual([30, 10, 20, -1]);
    expect(Array.from(cols.x!)).toEqual([NaN, 1.5, NaN, NaN]);
    expect(Array.from(cols.y!)).toEqual([0, 0, 7, 0]);
    // The statement's table is dropped again.
    const left = await readColumns(conn, `SELECT count(*) AS n FROM duckdb_tables() WHERE table_name LIKE '__per_customer%'`);
    expect(left.numeric.n![0]).toBe(0);
  });

  it('refuses a customer order that is not the registered index', () => {
    expect(() => startPerCustomer(conn, ['other'], [])).toThrow(/registerCustomerIndex\(conn, customerIds\) must run first/);
  });
});

describe('duckQueue', () => {
  it('starts work at once when nothing is queued, later work only after it settles', async () => {
    const queue = duckQueue();
    const started: string[] = [];
    let release!: () => void;
    const first = queue.run(async () => {
      started.push('first');
      await new Promise<void>((r) => (release = r));
    });
    const second = queue.run(async () => void started.push('second'));
    // Synchronously after run(): the idle queue began the first work, the second waits.
    expect(started).toEqual(['first']);
    await new Promise((r) => setTimeout(r, 5));
    expect(started).toEqual(['first']);
    release();
    await Promise.all([first, second]);
    expect(started).toEqual(['first', 'second']);
  });

  it('runs queued work in order, keeps a failure on its own promise, and settles before closing', async () => {
    const queue = duckQueue();
    const order: string[] = [];
    const slow = queue.run(async () => {
      await new Promise((r) => setTimeout(r, 30));
      order.push('slow');
      return 1;
    });
    const failing = queue.run(async () => {
      order.push('failing');
      throw new Error('boom');
    });
    const after = queue.run(async () => {
      order.push('after');
      return (await readColumns(conn, 'SELECT 42 AS v')).numeric.v![0];
    });
    await queue.settled();
    expect(order).toEqual(['slow', 'failing', 'after']);
    expect(await slow).toBe(1);
    await expect(failing).rejects.toThrow('boom');
    expect(await after).toBe(42);
  });
});
