import { afterAll, describe, expect, it } from 'vitest';
import { openDuck, readColumns } from '../../pipeline/core/duck.ts';

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
