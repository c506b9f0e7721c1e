import { describe, expect, it } from 'vitest';
import { binOf, binShares, categoricalDrift, EDGE_SAMPLE, fitCategoricalReference, fitNumericReference, numericDrift, psi, quantileEdges, UNSEEN_CATEGORY } from '../../pipeline/09-drift/psi.ts';
import { makeRng } from '../../pipeline/core/random.ts';

describe('population stability index', () => {
  it('sums (a - e) ln(a / e) over the bins', () => {
    // (0.25 - 0.5) ln 0.5 + (0.75 - 0.5) ln 1.5 = 0.173287 + 0.101366
    expect(psi([0.5, 0.5], [0.25, 0.75])).toBeCloseTo(0.274653, 6);
    expect(psi([0.2, 0.3, 0.5], [0.2, 0.3, 0.5])).toBe(0);
  });

  it('floors empty bins at 1e-4 instead of dividing by zero', () => {
    // (1e-4 - 0.5) ln(1e-4 / 0.5) = 4.257745
    expect(psi([0.5, 0.5], [1, 0])).toBeCloseTo(0.5 * Math.log(2) + 4.257745, 5);
  });

  it('puts decile edges on observed values and collapses ties (a mass of zeros is one bin)', () => {
    const values = Float64Array.from([0, 0, 0, 0, 1, 2, 3, 4, 5, 6]);
    // nearest-rank quantiles at 0.2, 0.4, 0.6, 0.8 of 10 values: positions 1, 3, 5, 7 → 0, 0, 2, 4
    expect(quantileEdges(values, 5)).toEqual([0, 2, 4]);
    expect([0, 1, 2, 3, 4, 5, 6].map((v) => binOf([0, 2, 4], v))).toEqual([0, 1, 1, 2, 2, 3, 3]);
    expect(binShares([0, 2, 4], values)).toEqual({ shares: [0.4, 0.2, 0.2, 0.2], missingShare: 0 });
  });

  it('drops an edge at the maximum, so the last bin is never empty by construction', () => {
    expect(quantileEdges(Float64Array.from([0, 0, 0, 1, 1]), 5)).toEqual([0]);
    expect(quantileEdges(Float64Array.from([7, 7, 7]), 10)).toEqual([]);
  });

  it('measures missing values as their own bin', () => {
    const ref = fitNumericReference('x', 'feature', Float64Array.from([1, 2, 3, 4]), 2);
    expect(ref.edges).toEqual([2]);
    expect(ref.shares).toEqual([0.5, 0.5]);
    const drift = numericDrift(ref, Float64Array.from([1, NaN, 3, 4]));
    expect(drift.bins).toEqual(['≤ 2', '> 2', 'missing']);
    expect(drift.expected).toEqual([0.5, 0.5, 0]);
    expect(drift.actual).toEqual([0.25, 0.5, 0.25]);
    expect(drift.psi).toBeCloseTo(psi([0.5, 0.5, 0], [0.25, 0.5, 0.25]), 12);
  });

  it('gathers categories never seen at training time into one bin', () => {
    const ref = fitCategoricalReference('edition', 'attribute', ['a', 'b', 'a', 'b']);
    expect(ref.shares).toEqual({ a: 0.5, b: 0.5 });
    const drift = categoricalDrift(ref, ['a', 'c', 'c', null]);
    expect(drift.bins).toEqual(['a', 'b', UNSEEN_CATEGORY]);
    expect(drift.actual).toEqual([0.25, 0, 0.75]);
    // expected 0.5, 0.5, 0 → 1e-4; actual 0.25, 0, 0.75 → 1e-4 (empty bins floored on both sides)
    const byHand = (0.25 - 0.5) * Math.log(0.25 / 0.5) + (1e-4 - 0.5) * Math.log(1e-4 / 0.5) + (0.75 - 1e-4) * Math.log(0.75 / 1e-4);
    expect(byHand).toBeCloseTo(11.122133, 5);
    expect(drift.psi).toBeCloseTo(byHand, 12);
  });

  it('takes the edges of a large column from an evenly spaced subset, within 0.3 percentile points of the exact deciles (4 standard errors)', () => {
    const n = 5 * EDGE_SAMPLE + 7;
    const rng = makeRng(11);
    const values = Float64Array.from({ length: n }, () => (rng.next() < 0.05 ? Number.NaN : rng.next() * 1000));
    const exact = Float64Array.from(values.filter((v) => !Number.isNaN(v))).sort();
    const edges = quantileEdges(values, 10);
    expect(edges).toHaveLength(9);
    edges.forEach((edge, i) => {
      // Where the edge falls among all values, against the decile it stands for.
      let below = 0;
      while (below < exact.length && exact[below]! < edge) below++;
      expect(Math.abs(below / exact.length - (i + 1) / 10)).toBeLessThan(0.003);
    });
    expect(quantileEdges(new Float64Array(0), 10)).toEqual([]);
  });
});
