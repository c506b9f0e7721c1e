import { describe, expect, it } from 'vitest';
import { fitForecastModel, holt, holtWinters, modelApplies } from '../../pipeline/09-drift/forecast-models.ts';
import { mase, meanInterval, naiveScale, selectForecast, trendTest } from '../../pipeline/09-drift/forecast-select.ts';
import { tQuantile975 } from '../../pipeline/09-drift/forecast.ts';
import { makeRng } from '../../pipeline/core/random.ts';

/** Every expected value below is worked out by hand from the model's recursion (docs/retraining.md). */
describe('forecast candidates against hand-computed cases', () => {
  it('seasonal naive repeats the last season; with drift it adds the mean seasonal difference per season ahead', () => {
    const y = [1, 2, 3, 4, 5, 6];
    const sn = fitForecastModel('seasonal_naive', y, 4, 3);
    expect(sn.steps).toEqual([4, 5, 6, 4]);
    expect(sn.residuals).toEqual([3, 3, 3]);
    expect(sn.psi).toEqual([1, 0, 0, 1]);
    const snd = fitForecastModel('seasonal_naive_drift', y, 4, 3);
    // Seasonal differences 3, 3, 3: drift 3 per season.
    expect(snd.steps).toEqual([7, 8, 9, 10]);
    expect(snd.residuals).toEqual([0, 0, 0]);
  });

  it('naive with drift extends the line from the first to the last point', () => {
    const f = fitForecastModel('naive_drift', [1, 3, 4, 8], 2, 12);
    // drift = (8 − 1) / 3; residuals = differences 2, 1, 4 minus the drift.
    expect(f.steps[0]).toBeCloseTo(8 + 7 / 3, 12);
    expect(f.steps[1]).toBeCloseTo(8 + 14 / 3, 12);
    f.residuals.forEach((e, i) => expect(e).toBeCloseTo([-1 / 3, -4 / 3, 5 / 3][i]!, 12));
    expect(fitForecastModel('naive', [1, 3, 4, 8], 2, 12).steps).toEqual([8, 8]);
  });

  it('simple exponential smoothing: l0 = y0, l ← l + α(y − l)', () => {
    // α = 0.5 on 2, 4, 6: errors 2 then 3, levels 3 then 4.5.
    const f = holt([2, 4, 6], 2, 0.5, 0, 1, false);
    expect(f.steps).toEqual([4.5, 4.5]);
    expect(f.residuals).toEqual([2, 3]);
    expect(f.psi).toEqual([1, 0.5]);
  });

  it("damped Holt: l0 = y0, b0 = y1 − y0, Hyndman's error-correction form", () => {
    // α 0.5, β 0.1, φ 0.9 on 1, 2, 4:
    // t=1: ŷ = 1 + 0.9 = 1.9, e = 0.1, l = 1.95, b = 0.9 + 0.01 = 0.91
    // t=2: ŷ = 1.95 + 0.819 = 2.769, e = 1.231, l = 3.3845, b = 0.819 + 0.1231 = 0.9421
    const f = holt([1, 2, 4], 2, 0.5, 0.1, 0.9, true);
    f.residuals.forEach((e, i) => expect(e).toBeCloseTo([0.1, 1.231][i]!, 12));
    expect(f.steps[0]).toBeCloseTo(3.3845 + 0.9 * 0.9421, 12);
    expect(f.steps[1]).toBeCloseTo(3.3845 + 1.71 * 0.9421, 12);
    expect(f.psi[1]).toBeCloseTo(0.5 + 0.1 * 0.9, 12);
  });

  it('additive Holt-Winters: initial state from two seasons, then the ETS(A,A,A) recursions', () => {
    // m = 2 on 1, 3, 2, 4, 4, 5 with α 0.5, β 0.1, γ 0.2. Seasons means 2 and 3: b = 0.5, l = 2.25,
    // s = (−0.75, 0.75). t=2, 3 fit exactly (l 2.75, 3.25); t=4: ŷ 3, e 1 → l 4.25, b 0.6, s0 −0.55;
    // t=5: ŷ 4.25 + 0.6 + 0.75 = 5.6, e −0.6 → l 4.55, b 0.54, s1 0.63.
    const f = holtWinters([1, 3, 2, 4, 4, 5], 3, 2, 0.5, 0.1, 0.2);
    f.residuals.forEach((e, i) => expect(e).toBeCloseTo([0, 0, 1, -0.6][i]!, 12));
    [4.55 + 0.54 - 0.55, 4.55 + 1.08 + 0.63, 4.55 + 1.62 - 0.55].forEach((x, i) => expect(f.steps[i]).toBeCloseTo(x, 12));
    expect(f.psi.map((p) => Number(p.toFixed(12)))).toEqual([1, 0.6, 0.9]);
  });

  it('fits the smoothing parameters on a fixed grid: a straight line is fitted exactly by SES only at α = 0.95 (the largest)', () => {
    expect(fitForecastModel('ses', [1, 2, 3, 4, 5], 1, 12).params).toEqual({ alpha: 0.95 });
    expect(fitForecastModel('holt_damped', [1, 2, 3, 4, 5], 1, 12).residuals.every((e) => Math.abs(e) < 0.2)).toBe(true);
  });

  it('offers the seasonal candidates only with more than one season (Holt-Winters: two)', () => {
    expect(modelApplies('seasonal_naive', 12, 12)).toBe(false);
    expect(modelApplies('seasonal_naive', 13, 12)).toBe(true);
    expect(modelApplies('holt_winters', 24, 12)).toBe(false);
    expect(modelApplies('holt_winters', 25, 12)).toBe(true);
    expect(modelApplies('ses', 9, 12)).toBe(true);
  });
});

describe('backtest, MASE and the interval', () => {
  it('MASE by hand: holdout MAE over the in-sample naive MAE', () => {
    // Naive scale of 1, 2, 4, 7: (1 + 2 + 3) / 3 = 2; forecast 9, 9 against 8, 10: MAE 1.
    expect(naiveScale([1, 2, 4, 7], 1)).toBe(2);
    expect(mase([1, 2, 4, 7], [8, 10], [9, 9], 1)).toBe(0.5);
    expect(mase([3, 3, 3], [4], [3], 1)).toBeNull();
  });

  it("the interval of the horizon mean from the model's ψ weights", () => {
    // Naive on 0, 1, 0, 1: residuals ±1, σ² = 3 / 3 = 1; ψ = 1, 1, 1 so c = (3, 2, 1) and Var = 14 / 9.
    const f = meanInterval(fitForecastModel('naive', [0, 1, 0, 1], 3, 12));
    expect(f.mean).toBe(1);
    expect(f.high - f.mean).toBeCloseTo(tQuantile975(3) * Math.sqrt(14 / 9), 12);
  });

  it('the trend test with month-of-season intercepts ignores a pure seasonal swing', () => {
    const swing = Array.from({ length: 24 }, (_, t) => Math.sin((2 * Math.PI * t) / 12));
    expect(trendTest(swing, 12).significant).toBe(false);
    expect(trendTest(swing.map((v, t) => v + 0.05 * t), 12).slope).toBeCloseTo(0.05, 12);
  });
});

/** Seeded synthetic series with planted structure; the share of 30 series where selection gets it right. */
function plantedShare(n: number, gen: (t: number, noise: number) => number, accept: (model: string, verdict: string) => boolean): number {
  let hits = 0;
  for (let s = 0; s < 30; s++) {
    const rng = makeRng(7000 + s);
    const y = Array.from({ length: n }, (_, t) => gen(t, rng.normal()));
    const f = selectForecast(y, { holdout: 3, horizon: 3, period: 12 })!;
    if (accept(f.model, f.verdict)) hits++;
  }
  return hits / 30;
}

describe('selection on planted series', () => {
  const seasonal = (m: string) => m.startsWith('seasonal') || m === 'holt_winters';
  const trended = (m: string) => m === 'naive_drift' || m === 'holt_damped' || m === 'seasonal_naive_drift' || m === 'holt_winters';

  it('a strong 12-month season over three years: a seasonal model, and no trend verdict', () => {
    expect(plantedShare(36, (t, e) => 10 + 3 * Math.sin((2 * Math.PI * t) / 12) + 0.2 * e, (m, v) => seasonal(m) && v === 'flat')).toBeGreaterThanOrEqual(0.9);
  });

  it('season plus trend: a seasonal model and "rising"', () => {
    expect(plantedShare(36, (t, e) => 10 + 0.1 * t + 3 * Math.sin((2 * Math.PI * t) / 12) + 0.2 * e, (m, v) => seasonal(m) && v === 'rising')).toBeGreaterThanOrEqual(0.9);
  });

  it('a year of a rising (falling) share: a trend model and "rising" ("falling")', () => {
    expect(plantedShare(12, (t, e) => 0.2 + 0.02 * t + 0.005 * e, (m, v) => trended(m) && v === 'rising')).toBe(1);
    expect(plantedShare(12, (t, e) => 0.5 - 0.02 * t + 0.005 * e, (m, v) => trended(m) && v === 'falling')).toBe(1);
  });

  it('flat noisy shares (with a +0.03 pp/month drift) are never called rising or falling', () => {
    expect(plantedShare(12, (_, e) => 0.3 + 0.02 * e, (_, v) => v === 'flat')).toBe(1);
    expect(plantedShare(12, (t, e) => 0.3 + 0.0003 * t + 0.02 * e, (_, v) => v === 'flat')).toBe(1);
    expect(plantedShare(36, (_, e) => 10 + e, (_, v) => v === 'flat')).toBe(1);
  });

  it('with a year of data the season is not a candidate', () => {
    const f = selectForecast(Array.from({ length: 12 }, (_, t) => Math.sin(t)), { holdout: 3, horizon: 3, period: 12 })!;
    expect(f.seasonal).toBe(false);
    expect(f.candidates.map((c) => c.model)).toEqual(['naive', 'naive_drift', 'ses', 'holt_damped']);
  });
});
