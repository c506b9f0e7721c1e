import { describe, expect, it } from 'vitest';
import { columnsOf, fromRows } from '../../pipeline/core/matrix.ts';

describe('columnsOf', () => {
  it('gives each column (or a range of columns) of a row-major matrix as its own array, NaN kept', () => {
    const m = fromRows([
      [1, 2, 3],
      [4, Number.NaN, 6],
    ]);
    expect(columnsOf(m).map((c) => Array.from(c))).toEqual([
      [1, 4],
      [2, Number.NaN],
      [3, 6],
    ]);
    expect(columnsOf(m, 1, 3).map((c) => Array.from(c))).toEqual([
      [2, Number.NaN],
      [3, 6],
    ]);
    expect(columnsOf({ rows: 0, cols: 2, data: new Float64Array(0) }).map((c) => c.length)).toEqual([0, 0]);
  });
});
