import { describe, expect, it } from 'vitest';
import { markovMixForecast, markovStep, totalVariation } from '../../pipeline/09-drift/forecast-mix.ts';
import { migrationMatrix } from '../../pipeline/09-drift/migration.ts';

describe('the Markov mix forecast', () => {
  it('one step by hand: share × P', () => {
    // (0.5, 0.5) × [[0.8, 0.2], [0.1, 0.9]] = (0.45, 0.55).
    const next = markovStep([0.5, 0.5], [[0.8, 0.2], [0.1, 0.9]]);
    expect(next[0]).toBeCloseTo(0.45, 12);
    expect(next[1]).toBeCloseTo(0.55, 12);
    expect(totalVariation([0.5, 0.5], [0.45, 0.55])).toBeCloseTo(0.05, 12);
  });

  it('takes P from the customers present in both models, leaves out new and gone, and keeps a segment with no history', () => {
    // Production: a, b, c, d in 0; e in 1; f in 1 leaves. Today: a, b, c stay in 0, d moves to 1, e stays in 1,
    // g is new in 2 (a segment production never had).
    const before = new Map([['a', 0], ['b', 0], ['c', 0], ['d', 0], ['e', 1], ['f', 1]]);
    const m = migrationMatrix(before, ['a', 'b', 'c', 'd', 'e', 'g'], [0, 0, 0, 1, 1, 2], [0, 1], [0, 1, 2]);
    const f = markovMixForecast(m, new Map([[0, 3 / 6], [1, 2 / 6], [2, 1 / 6]]));
    expect(f.ids).toEqual([0, 1, 2]);
    expect(f.transition).toEqual([[0.75, 0.25, 0], [0, 1, 0], [0, 0, 1]]);
    // next = (0.5·0.75, 0.5·0.25 + 2/6, 1/6).
    [0.375, 0.125 + 2 / 6, 1 / 6].forEach((x, i) => expect(f.next[i]).toBeCloseTo(x, 12));
    expect(f.next.reduce((s, x) => s + x, 0)).toBeCloseTo(1, 12);
  });
});
