import { describe, expect, it } from 'vitest';
import { hungarian } from '../../pipeline/09-drift/hungarian.ts';
import { makeRng } from '../../pipeline/core/random.ts';

const total = (cost: number[], cols: number, assignment: Int32Array) => Array.from(assignment).reduce((s, j, i) => (j < 0 ? s : s + cost[i * cols + j]!), 0);

function permutations(n: number): number[][] {
  if (n === 1) return [[0]];
  return permutations(n - 1).flatMap((p) => Array.from({ length: n }, (_, i) => [...p.slice(0, i), n - 1, ...p.slice(i)]));
}

describe('Hungarian assignment', () => {
  it('finds the minimum-cost pairing of a square matrix', () => {
    const cost = [4, 1, 3, 2, 0, 5, 3, 2, 2];
    // 1 + 2 + 2 = 5: row 0 → column 1, row 1 → column 0, row 2 → column 2
    expect(Array.from(hungarian(cost, 3, 3))).toEqual([1, 0, 2]);
  });

  it('leaves columns over when there are fewer rows, and rows over when there are fewer columns', () => {
    expect(Array.from(hungarian([1, 2, 3, 3, 1, 2], 2, 3))).toEqual([0, 1]);
    expect(Array.from(hungarian([1, 3, 2, 1, 3, 2], 3, 2))).toEqual([0, 1, -1]);
  });

  it('matches brute force over every permutation on seeded random 6 x 6 matrices', () => {
    const rng = makeRng(7);
    const perms = permutations(6);
    for (let trial = 0; trial < 20; trial++) {
      const cost = Array.from({ length: 36 }, () => Math.round(rng.next() * 100) - 50);
      const best = Math.min(...perms.map((p) => p.reduce((s, j, i) => s + cost[i * 6 + j]!, 0)));
      const assignment = hungarian(cost, 6, 6);
      expect(new Set(assignment).size).toBe(6);
      expect(total(cost, 6, assignment)).toBe(best);
    }
  });
});
