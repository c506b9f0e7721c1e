import { describe, expect, it } from 'vitest';
import { fromRows } from '../../pipeline/core/matrix.ts';
import { applyThresholdTree, fitThresholdTree, readableThreshold, treeLeaves } from '../../pipeline/08-explain/tree.ts';
import { leafRules, segmentSql, sqlNumber, treeSql } from '../../pipeline/08-explain/rules.ts';

describe('readableThreshold', () => {
  it('picks the shortest decimal in [low, high), nearest the middle', () => {
    expect(readableThreshold(0.3312, 0.5)).toBe(0.4);
    expect(readableThreshold(10, 10000)).toBe(5000);
    expect(readableThreshold(1, 2)).toBe(1.5);
    // 0.1 and 0.13 fall outside [0.12, 0.13); 0.125 is the shortest inside.
    expect(readableThreshold(0.12, 0.13)).toBe(0.125);
    expect(readableThreshold(-3, -1)).toBe(-2);
    expect(readableThreshold(2, 2.0000001)).toBe(2);
  });
});

/**
 * Segment 0 sits at small x; segments 1 and 2 share large x and differ in y. Segment 0's y
 * spans everything, so only x separates it: the root must split x in the gap [2, 10), then y in [2, 8).
 */
const names = ['x', 'y'];
const rows: [number, number, number][] = [
  [0, 0, 0], [1, 5, 0], [2, 10, 0],
  [10, 0, 1], [11, 1, 1], [12, 2, 1],
  [10, 8, 2], [11, 9, 2], [12, 10, 2],
];
const X = fromRows(rows.map(([x, y]) => [x, y]));
const labels = Int32Array.from(rows.map((r) => r[2]));

describe('fitThresholdTree (IMM) on hand-checkable data', () => {
  const { tree, immTree } = fitThresholdTree({ X, featureNames: names, labels, k: 3, missingAs: [5, 5] }, { maxLeaves: 3, minLeafGain: 0.01 });

  it('splits x at the readable middle of its gap, then y, one leaf per segment', () => {
    expect(tree).toEqual({
      kind: 'split',
      feature: 'x',
      threshold: 6,
      missingGoesLeft: true,
      customers: 9,
      left: { kind: 'leaf', segment: 0, customers: 3, agreeing: 3 },
      right: {
        kind: 'split',
        feature: 'y',
        threshold: 5,
        missingGoesLeft: true,
        customers: 6,
        left: { kind: 'leaf', segment: 1, customers: 3, agreeing: 3 },
        right: { kind: 'leaf', segment: 2, customers: 3, agreeing: 3 },
      },
    });
    expect(immTree).toEqual(tree);
  });

  it('reproduces the segments exactly and reads a missing value as its stand-in', () => {
    expect(Array.from(applyThresholdTree(tree, X, names))).toEqual(Array.from(labels));
    // x missing reads as 5 (<= 6): segment 0. x = 11 and y missing reads as 5 (<= 5): segment 1.
    expect(Array.from(applyThresholdTree(tree, fromRows([[Number.NaN, 9], [11, Number.NaN]]), names))).toEqual([0, 1]);
    // Columns are found by name, in any order.
    expect(Array.from(applyThresholdTree(tree, fromRows([[9, 11]]), ['y', 'x']))).toEqual([2]);
  });

  it('writes each leaf as a readable rule and the tree as SQL', () => {
    expect(leafRules(tree).map((r) => `${r.segment}: ${r.text}`)).toEqual([
      '0: x <= 6',
      '1: x > 6 AND y <= 5',
      '2: x > 6 AND y > 5',
    ]);
    expect(treeSql(tree)).toBe(
      ['CASE', '  WHEN ("x" IS NULL OR "x" <= 6) THEN 0', '  WHEN "x" > 6 AND ("y" IS NULL OR "y" <= 5) THEN 1', '  WHEN "x" > 6 AND "y" > 5 THEN 2', 'END'].join('\n'),
    );
  });
});

describe('fitThresholdTree grows beyond one leaf per segment when that fixes enough customers', () => {
  // One feature. Segment 0: 20 customers at 0..1.9 and 10 more at 10..10.9; segment 1: 20 at 5..6.9.
  // IMM's only separating split (x in [1.9, 5)) strands segment 0's far group with segment 1.
  const xs: number[] = [];
  const ys: number[] = [];
  for (let i = 0; i < 20; i++) xs.push(i / 10), ys.push(0);
  for (let i = 0; i < 20; i++) xs.push(5 + i / 10), ys.push(1);
  for (let i = 0; i < 10; i++) xs.push(10 + i / 10), ys.push(0);
  const X1 = fromRows(xs.map((x) => [x]));
  const y = Int32Array.from(ys);
  const input = { X: X1, featureNames: ['x'], labels: y, k: 2, missingAs: [5] };
  const agreement = (t: Parameters<typeof applyThresholdTree>[0]) => applyThresholdTree(t, X1, ['x']).filter((s, i) => s === y[i]).length / y.length;

  it('IMM alone gets 40 of 50 right; one more leaf gets all 50', () => {
    const { tree, immTree } = fitThresholdTree(input, { maxLeaves: 4, minLeafGain: 0.1 });
    expect(agreement(immTree)).toBe(0.8);
    expect(treeLeaves(immTree)).toHaveLength(2);
    expect(agreement(tree)).toBe(1);
    expect(treeLeaves(tree).map((l) => [l.segment, l.customers, l.agreeing])).toEqual([
      [0, 20, 20],
      [1, 20, 20],
      [0, 10, 10],
    ]);
    const rules = leafRules(tree);
    // Gaps [1.9, 5) and [6.9, 10): their middles 3.45 and 8.45 read as 3 and 8. A missing x (5) is in the middle leaf.
    expect(rules.map((r) => r.text)).toEqual(['x <= 3', '3 < x <= 8', 'x > 8']);
    expect(rules.map((r) => r.conditions[0]!.missingIncluded)).toEqual([false, true, false]);
    expect(segmentSql(rules, 0)).toBe('("x" <= 3) OR ("x" > 8)');
    expect(segmentSql(rules, 1)).toBe('("x" IS NULL OR ("x" > 3 AND "x" <= 8))');
  });

  it('stops at maxLeaves, and when the best split would fix fewer than minLeafGain of the customers', () => {
    expect(treeLeaves(fitThresholdTree(input, { maxLeaves: 2, minLeafGain: 0.1 }).tree)).toHaveLength(2);
    // The fix moves 10 of 50 customers (0.2): a 0.25 minimum refuses it.
    expect(treeLeaves(fitThresholdTree(input, { maxLeaves: 4, minLeafGain: 0.25 }).tree)).toHaveLength(2);
  });
});

describe('sqlNumber', () => {
  it('keeps short decimals and casts long or exponent forms from their round-trip string', () => {
    expect(sqlNumber(0.35)).toBe('0.35');
    expect(sqlNumber(-12000)).toBe('-12000');
    expect(sqlNumber(0.1 + 0.2)).toBe("CAST('0.30000000000000004' AS DOUBLE)");
    expect(sqlNumber(1e-7)).toBe("CAST('1e-7' AS DOUBLE)");
    expect(() => sqlNumber(Number.NaN)).toThrow();
  });
});
