import { describe, expect, it } from 'vitest';
import { migrationMatrix } from '../../pipeline/09-drift/migration.ts';

describe('migration matrix', () => {
  it('counts production ids at training against candidate ids now, with new and gone margins', () => {
    const before = new Map([['a', 0], ['b', 0], ['c', 1], ['d', 1]]);
    const m = migrationMatrix(before, ['a', 'b', 'c', 'e'], [0, 1, 1, 0], [0, 1], [0, 1]);
    expect(m.from).toEqual([0, 1, 'new']);
    expect(m.to).toEqual([0, 1, 'gone']);
    expect(m.counts).toEqual([
      [1, 1, 0], // a stays, b moves to 1
      [0, 1, 1], // c stays, d is gone
      [1, 0, 0], // e is new, lands in 0
    ]);
    expect(m.shares[0]).toEqual([0.5, 0.5, 0]);
    expect(m.sameId).toBe(2);
    expect(m.inBoth).toBe(3);
  });

  it('keeps empty rows and columns for segments nobody is in, sorted by id', () => {
    const m = migrationMatrix(new Map([['a', 7]]), ['a'], [9], [7, 3], [9, 12]);
    expect(m.from).toEqual([3, 7, 'new']);
    expect(m.to).toEqual([9, 12, 'gone']);
    expect(m.counts).toEqual([[0, 0, 0], [1, 0, 0], [0, 0, 0]]);
    expect(m.shares[0]).toEqual([0, 0, 0]);
  });
});
