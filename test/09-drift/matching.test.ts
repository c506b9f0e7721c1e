import { describe, expect, it } from 'vitest';
import { carryOverIds, overlapTable } from '../../pipeline/09-drift/matching.ts';

const name = (en: string) => ({ en, zh: `${en}-zh` });
const labels = (xs: number[]) => Int32Array.from(xs);

describe('stable segment ids', () => {
  it('counts shared customers per (production, candidate) segment', () => {
    expect(Array.from(overlapTable(labels([0, 0, 1, 1]), 2, labels([1, 0, 0, 0]), 2))).toEqual([1, 1, 2, 0]);
  });

  it('gives a reordered candidate production ids and names, whatever its centroid order', () => {
    // Production's segments have ids 5, 2, 7 at indices 0, 1, 2; the candidate found the same groups in another order.
    const production = [{ id: 5, name: name('retail') }, { id: 2, name: name('makers') }, { id: 7, name: name('groups') }];
    const carry = carryOverIds(labels([0, 0, 1, 1, 2, 2]), production, labels([2, 2, 0, 0, 1, 1]), [name('x'), name('y'), name('z')], 8);
    expect(carry.segments.map((s) => [s.candidateIndex, s.id, s.name.en, s.status, s.jaccard])).toEqual([
      [0, 2, 'makers', 'kept', 1],
      [1, 7, 'groups', 'kept', 1],
      [2, 5, 'retail', 'kept', 1],
    ]);
    expect(carry.segments[0]!.ownName.en).toBe('x');
    expect(carry.vanished).toEqual([]);
    expect(carry.nextId).toBe(8);
  });

  it('keeps the id for the larger part of a split and gives the rest a new id above every id used', () => {
    const production = [{ id: 0, name: name('a') }, { id: 1, name: name('b') }];
    // Production 0 (4 customers) splits into candidate 0 (3 of them) and candidate 1 (1); Jaccard 3/4 and 1/4.
    const carry = carryOverIds(labels([0, 0, 0, 0, 1, 1]), production, labels([0, 0, 0, 1, 2, 2]), [name('a2'), name('fresh'), name('b2')], 5);
    expect(carry.segments.map((s) => [s.id, s.status, s.jaccard])).toEqual([
      [0, 'kept', 0.75],
      [5, 'new', 0],
      [1, 'kept', 1],
    ]);
    expect(carry.segments[1]!.name.en).toBe('fresh');
    expect(carry.nextId).toBe(6);
  });

  it('reports the smaller side of a merge as vanished', () => {
    const production = [{ id: 0, name: name('a') }, { id: 1, name: name('b') }, { id: 2, name: name('c') }];
    // Candidate 0 holds all of production 0 (3) and 1 (2): Jaccard 3/5 with 0, 2/5 with 1.
    const carry = carryOverIds(labels([0, 0, 0, 1, 1, 2, 2]), production, labels([0, 0, 0, 0, 0, 1, 1]), [name('ab'), name('c2')], 3);
    expect(carry.segments.map((s) => [s.id, s.name.en, s.jaccard])).toEqual([
      [0, 'a', 0.6],
      [2, 'c', 1],
    ]);
    expect(carry.vanished).toEqual([{ id: 1, name: name('b'), customers: 2 }]);
  });

  it('refuses a pairing below the Jaccard threshold: the candidate segment gets a new id', () => {
    const production = [{ id: 0, name: name('a') }, { id: 1, name: name('b') }];
    // Production 0 is customers 0-4, candidate 0 only 0-1: Jaccard 2/5 = 0.4. Production 1 (5-9) sits in candidate 1 (2-9): 5/8.
    const prodLabels = labels([0, 0, 0, 0, 0, 1, 1, 1, 1, 1]);
    const candLabels = labels([0, 0, 1, 1, 1, 1, 1, 1, 1, 1]);
    const carry = carryOverIds(prodLabels, production, candLabels, [name('a2'), name('b2')], 2);
    expect(carry.segments.map((s) => [s.id, s.status, s.jaccard])).toEqual([
      [2, 'new', 0],
      [1, 'kept', 0.625],
    ]);
    expect(carry.vanished.map((v) => v.id)).toEqual([0]);
    const looser = carryOverIds(prodLabels, production, candLabels, [name('a2'), name('b2')], 2, { minJaccard: 0.3 });
    expect(looser.segments.map((s) => [s.id, s.status, s.jaccard])).toEqual([
      [0, 'kept', 0.4],
      [1, 'kept', 0.625],
    ]);
  });

  it('keeps a new segment from reading like a kept one when the naming gives it the same name', () => {
    const production = [{ id: 0, name: name('same') }, { id: 1, name: name('other') }];
    const carry = carryOverIds(labels([0, 0, 1, 1, 1]), production, labels([0, 0, 1, 2, 2]), [name('same'), name('same'), name('z')], 2);
    expect(carry.segments.map((s) => [s.id, s.status, s.name.en])).toEqual([
      [0, 'kept', 'same'],
      [2, 'new', 'same (segment 2)'],
      [1, 'kept', 'other'],
    ]);
    expect(carry.segments[1]!.name.zh).toBe('same-zh（第2组）');
  });
});
