import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { fromRows, type Matrix } from '../../pipeline/core/matrix.ts';
import { makeRng } from '../../pipeline/core/random.ts';
import { applyPlatt, fitLogistic, fitPlatt, sigmoid } from '../../pipeline/05-classify/churn-logistic.ts';
import { brierScore, calibrationTable, rocAuc, stratifiedFolds, topDecile } from '../../pipeline/05-classify/churn-metrics.ts';
import { applyExpansion, derivedName, fitExpansion } from '../../pipeline/05-classify/churn-expand.ts';
import { applyChurn, churnUnfittable, fitChurn, segmentChurnRisk, type ChurnInput } from '../../pipeline/05-classify/churn.ts';
import { defaultChurnParams, profileWithoutLabel } from '../../pipeline/05-classify/churn-params.ts';
import { alignLabels, daysBefore } from '../../pipeline/05-classify/churn-labels.ts';
import { defaultProfileTableParams } from '../../pipeline/02-features/params.ts';
import { parseState } from '../../pipeline/model/load.ts';
import { toJson } from '../../pipeline/registry/bundle.ts';

/**
 * The churn model's pieces against independent references: scikit-learn's L2 logistic regression
 * (test/reference/churn_reference.py → churn-reference.json), and metrics on tiny cases computed
 * by hand in the comments.
 */
const reference = JSON.parse(readFileSync(new URL('../reference/churn-reference.json', import.meta.url), 'utf8')) as {
  logistic: { X: number[][]; y: number[]; fits: { l2: number; coef: number[]; intercept: number; probabilities: number[] }[] };
};

describe('L2 logistic regression by Newton', () => {
  for (const ref of reference.logistic.fits) {
    it(`reproduces scikit-learn's LogisticRegression(C = 1/${ref.l2}) coefficients and probabilities`, () => {
      const X = fromRows(reference.logistic.X);
      const fit = fitLogistic(X, reference.logistic.y, ref.l2);
      expect(fit.converged).toBe(true);
      fit.coef.forEach((c, j) => expect(c).toBeCloseTo(ref.coef[j]!, 5));
      expect(fit.intercept).toBeCloseTo(ref.intercept, 5);
      reference.logistic.X.forEach((row, i) => {
        const p = sigmoid(fit.intercept + row.reduce((s, x, j) => s + x * fit.coef[j]!, 0));
        // scikit-learn's lbfgs stops within about 1e-6 of the optimum Newton reaches.
        expect(p).toBeCloseTo(ref.probabilities[i]!, 5);
      });
    });
  }

  it('Platt scaling of scores that are already calibrated log-odds is close to the identity (a ≈ 1, b ≈ 0)', () => {
    const rng = makeRng(5);
    const z = Float64Array.from({ length: 8000 }, () => rng.normal() * 2);
    const y = Uint8Array.from(z, (s) => (rng.next() < sigmoid(s) ? 1 : 0));
    const platt = fitPlatt(z, y);
    expect(platt.a).toBeGreaterThan(0.9);
    expect(platt.a).toBeLessThan(1.1);
    expect(Math.abs(platt.b)).toBeLessThan(0.1);
    expect(applyPlatt({ a: 1, b: 0 }, 0)).toBe(0.5);
  });
});

describe('backtest metrics on hand-computed cases', () => {
  it('ROC AUC: 3 of 4 churner/stayer pairs ordered right = 0.75; a tie counts one half', () => {
    expect(rocAuc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])).toBe(0.75);
    // Churners 0.5 and 0.9 against stayers 0.5 and 0.2: pairs 0.5 (tie), 1, 1, 1 → 3.5 / 4.
    expect(rocAuc([0.5, 0.5, 0.2, 0.9], [1, 0, 0, 1])).toBe(0.875);
    expect(rocAuc([0.3, 0.6], [1, 1])).toBeNaN();
  });

  it('Brier score: (0.1² + 0.2² + 0.6²) / 3', () => {
    expect(brierScore([0.9, 0.2, 0.6], [1, 0, 0])).toBeCloseTo((0.01 + 0.04 + 0.36) / 3, 12);
  });

  it('precision in the top decile: ceil(20 / 10) = 2 highest scores, one of them a churner', () => {
    const scores = Array.from({ length: 20 }, (_, i) => i / 20);
    const labels = scores.map((_, i) => (i === 19 || i === 3 ? 1 : 0));
    expect(topDecile(scores, labels)).toEqual({ precision: 0.5, threshold: 18 / 20 });
  });

  it('calibration table: ten equal-width bins, the last one closed at 1', () => {
    const table = calibrationTable([0.05, 0.15, 0.12, 1.0], [0, 1, 0, 1]);
    expect(table).toHaveLength(10);
    expect(table[0]).toEqual({ lower: 0, upper: 0.1, count: 1, meanPredicted: 0.05, observedRate: 0 });
    expect(table[1]!.count).toBe(2);
    expect(table[1]!.meanPredicted).toBeCloseTo(0.135, 12);
    expect(table[1]!.observedRate).toBe(0.5);
    expect(table[9]).toMatchObject({ count: 1, meanPredicted: 1, observedRate: 1 });
    expect(table[5]).toMatchObject({ count: 0, meanPredicted: null, observedRate: null });
  });

  it('stratified folds: every fold holds 2 of the 10 churners and 8 of the 40 stayers; seeded', () => {
    const labels = Array.from({ length: 50 }, (_, i) => (i % 5 === 0 ? 1 : 0));
    const folds = stratifiedFolds(labels, 5, 7);
    for (let f = 0; f < 5; f++) {
      const rows = [...folds.keys()].filter((i) => folds[i] === f);
      expect(rows.filter((i) => labels[i] === 1)).toHaveLength(2);
      expect(rows).toHaveLength(10);
    }
    expect(stratifiedFolds(labels, 5, 7)).toEqual(folds);
    expect(stratifiedFolds(labels, 5, 8)).not.toEqual(folds);
  });
});

/** Synthetic customers: churn odds rise with x0 (log-linearly in log1p) and fall with x1; x2 is noise. */
function synthetic(n: number, seed: number): ChurnInput {
  const rng = makeRng(seed);
  const rows: number[][] = [];
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const x0 = Math.exp(rng.normal() + 1);
    const x1 = rng.int(2);
    rows.push([x0, x1, rng.normal()]);
    labels[i] = rng.next() < sigmoid(-2 + 1.5 * Math.log1p(x0) - 1.2 * x1) ? 1 : 0;
  }
  return { X: fromRows(rows), featureNames: ['spend', 'annual_plan', 'noise'], customerIds: rows.map((_, i) => `c${i}`), labels, source: { kind: 'profileColumn', column: 'Churn', positiveValues: ['yes'], asOf: '2026-01-01', definition: 'test' } };
}

describe('fitChurn', () => {
  const input = synthetic(1500, 3);
  const { state, outOfFoldRisk } = fitChurn(input, defaultChurnParams, 99);

  it('ranks churners above stayers out of fold, with calibrated risk whose mean is near the base rate', () => {
    expect(state.backtest.auc).toBeGreaterThan(0.7);
    expect(state.backtest.n).toBe(1500);
    const meanRisk = outOfFoldRisk.reduce((s, r) => s + r, 0) / outOfFoldRisk.length;
    expect(Math.abs(meanRisk - state.backtest.baseRate)).toBeLessThan(0.02);
    expect(state.backtest.brier).toBeLessThan(state.backtest.brierBaseRate);
    expect(state.backtest.calibration.reduce((s, b) => s + b.count, 0)).toBe(1500);
  });

  it('is deterministic: the same rows and seed give the same state, byte for byte', () => {
    expect(toJson(fitChurn(input, defaultChurnParams, 99).state)).toBe(toJson(state));
  });

  it('expands a measure with more than two values by log1p, never a 0/1 column', () => {
    const names = state.expansion.derived.map((d) => derivedName(state.expansion, d));
    expect(names).toEqual(['spend', 'log1p(spend)', 'annual_plan', 'noise']);
  });

  it('scores a batch by feature name: a reordered batch gives the same risk, a missing feature its training median', () => {
    const risk = applyChurn(state, input.X, input.featureNames);
    const reordered: Matrix = fromRows(Array.from({ length: 3 }, (_, i) => [input.X.data[i * 3 + 2]!, input.X.data[i * 3]!, input.X.data[i * 3 + 1]!]));
    const again = applyChurn(state, reordered, ['noise', 'spend', 'annual_plan']);
    for (let i = 0; i < 3; i++) expect(again[i]).toBeCloseTo(risk[i]!, 12);
    const without = applyChurn(state, fromRows([[NaN, 0, 0]]), input.featureNames);
    const atMedian = applyChurn(state, fromRows([[state.expansion.medians[0]!, 0, 0]]), input.featureNames);
    expect(without[0]).toBe(atMedian[0]);
    for (const r of risk) expect(r > 0 && r < 1).toBe(true);
  });

  it('round-trips through the churn.json schema to the same bytes', () => {
    const { threshold, segments } = segmentChurnRisk(outOfFoldRisk, new Int32Array(1500).map((_, i) => i % 2), [4, 7]);
    const full = { ...state, topDecileThreshold: threshold, segments, plantedAuc: 0.75 };
    expect(toJson(parseState('churn.json', JSON.parse(toJson(full))))).toBe(toJson(full));
  });

  it('full expansion adds quantile thresholds and the top features’ products, fitted on the rows given', () => {
    const e = fitExpansion(input.X, input.featureNames, input.labels, { bins: 3, interactions: 2 });
    const names = e.derived.map((d) => derivedName(e, d));
    expect(names.filter((n) => n.startsWith('spend>'))).toHaveLength(2);
    expect(names).toContain('spend×annual_plan');
    expect(applyExpansion(e, input.X, input.featureNames).cols).toBe(names.length);
  });
});

describe('segment risk, labels and settings', () => {
  it('per segment: mean, p50, p90 and the share at or above the overall 90th percentile', () => {
    const risk = Float64Array.from([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]);
    const labels = Int32Array.from([0, 0, 0, 0, 0, 1, 1, 1, 1, 1]);
    const { threshold, segments } = segmentChurnRisk(risk, labels, [3, 5]);
    // numpy's linear 0.9 quantile of 0.1 .. 1.0 is 0.91.
    expect(threshold).toBeCloseTo(0.91, 12);
    expect(segments[0]).toMatchObject({ segmentId: 3, customers: 5, shareTopDecile: 0 });
    expect(segments[0]!.mean).toBeCloseTo(0.3, 12);
    expect(segments[1]!.p50).toBeCloseTo(0.8, 12);
    expect(segments[1]!.shareTopDecile).toBe(0.2);
  });

  it('no model on too few churners, said with the counts', () => {
    expect(churnUnfittable(Uint8Array.from([1, 1, 0, 0, 0]), defaultChurnParams)).toMatch(/2 churned and 3 stayed/);
  });

  it('labels join the feature rows by customer id; the horizon counts back in calendar days', () => {
    expect(alignLabels(['a', 'b', 'c'], { customerIds: ['c', 'a'], churned: Uint8Array.from([1, 0]) })).toEqual({ rows: [0, 2], labels: Uint8Array.from([0, 1]) });
    expect(daysBefore('2026-09-30', 90)).toBe('2026-07-02');
  });

  it('a churn label column is never a profile feature, even when the config forgot to exclude it', () => {
    const p = { ...defaultProfileTableParams, exclude: ['Name'], categorical: ['Plan', 'Churn'] };
    expect(profileWithoutLabel(p, { ...defaultChurnParams, labelColumn: 'Churn' })).toMatchObject({ exclude: ['Name', 'Churn'], categorical: ['Plan'] });
    expect(profileWithoutLabel(p, defaultChurnParams)).toBe(p);
  });
});

describe('sampleChurnRows', () => {
  it('keeps every row up to the cap, and beyond it a seeded sample with the data churn rate, in row order', async () => {
    const { sampleChurnRows } = await import('../../pipeline/05-classify/churn.ts');
    const n = 1000;
    const labels = Uint8Array.from({ length: n }, (_, i) => (i % 10 === 0 ? 1 : 0));
    const input = { X: { rows: n, cols: 1, data: Float64Array.from({ length: n }, (_, i) => i) }, featureNames: ['x'], customerIds: Array.from({ length: n }, (_, i) => `c${i}`), labels, source: { kind: 'profileColumn' as const, column: 'y', positiveValues: ['1'], asOf: '2026-01-01', definition: '' } };
    expect(sampleChurnRows(input, 0, 1)).toBe(input);
    expect(sampleChurnRows(input, n, 1)).toBe(input);
    const s = sampleChurnRows(input, 200, 7);
    expect(s.labels.length).toBe(200);
    expect(s.labels.reduce((a, b) => a + b, 0)).toBe(20); // 10% of 200, as in the data
    const rows = Array.from(s.X.data);
    expect(rows).toEqual([...rows].sort((a, b) => a - b));
    expect(new Set(rows).size).toBe(200);
    expect(s.customerIds).toEqual(rows.map((r) => `c${r}`));
    expect(Array.from(s.labels)).toEqual(rows.map((r) => (r % 10 === 0 ? 1 : 0)));
    expect(sampleChurnRows(input, 200, 7).customerIds).toEqual(s.customerIds);
    expect(sampleChurnRows(input, 200, 8).customerIds).not.toEqual(s.customerIds);
  });
});
