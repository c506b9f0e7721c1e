import { describe, expect, it } from 'vitest';
import { markovMixForecast, markovStep, totalVariation } from '../../pipeline/09-drift/forecast-mix.ts';
import { migrationMatrix } from '../../pipeline/09-drift/migration.ts';
import { makeRng } from '../../pipeline/core/random.ts';

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

  it('on a planted stationary chain, beats "no change" a step later and lands near share × P_true', () => {
    // 3000 customers in 3 segments move each step by the planted P; the forecast is built from the first step only.
    const P = [[0.9, 0.1, 0], [0, 0.8, 0.2], [0.05, 0, 0.95]];
    const rng = makeRng(41);
    const move = (s: number) => {
      const u = rng.next();
      return u < P[s]![0]! ? 0 : u < P[s]![0]! + P[s]![1]! ? 1 : 2;
    };
    const ids = Array.from({ length: 3000 }, (_, i) => `c${i}`);
    const step0 = ids.map((_, i) => (i < 1500 ? 0 : i < 2400 ? 1 : 2));
    const step1 = step0.map(move);
    const step2 = step1.map(move);
    const share = (labels: number[]) => [0, 1, 2].map((s) => labels.filter((l) => l === s).length / labels.length);
    const m = migrationMatrix(new Map(ids.map((id, i) => [id, step0[i]!])), ids, step1, [0, 1, 2], [0, 1, 2]);
    const f = markovMixForecast(m, new Map(share(step1).map((x, s) => [s, x])));
    const observed = share(step2);
    expect(totalVariation(f.next, observed)).toBeLessThan(totalVariation(f.now, observed));
    // The expected mix under the planted P: within sampling noise (3000 customers) of the forecast.
    expect(totalVariation(f.next, markovStep(share(step1), P))).toBeLessThan(0.02);
  });
});
