import { describe, expect, it } from 'vitest';
import { linearTrendForecast, tQuantile975 } from '../../pipeline/09-drift/forecast.ts';
import { MODULES } from '../../pipeline/01-ingest/contract.ts';
import { InputError } from '../../pipeline/core/errors.ts';
import { parseState } from '../../pipeline/model/load.ts';
import { defaultTrendParams, fitTrends, trendsFromCounts, usableMonths } from '../../pipeline/09-drift/trends.ts';

describe('linear-trend forecast', () => {
  it('extrapolates an exact line with a zero-width interval', () => {
    const f = linearTrendForecast([0.1, 0.2, 0.3, 0.4], 3)!;
    expect(f.slope).toBeCloseTo(0.1, 12);
    expect(f.residualSd).toBeCloseTo(0, 12);
    // next three steps 0.5, 0.6, 0.7: average 0.6
    expect(f.steps.map((x) => Number(x.toFixed(10)))).toEqual([0.5, 0.6, 0.7]);
    expect([f.mean, f.low, f.high].map((x) => Number(x.toFixed(10)))).toEqual([0.6, 0.6, 0.6]);
  });

  it('widens the interval by the residual spread (hand-computed on a zigzag)', () => {
    // y = 0,1,0,1,0,1: slope 1.5/17.5, intercept 0.285714, s² = 1.371429 / 4; quarter mean at t = 7;
    // half width = t(0.975, 4) · s · √(1/3 + 1/6 + 4.5² / 17.5) = 2.776 · 0.585540 · 1.287301
    const f = linearTrendForecast([0, 1, 0, 1, 0, 1], 3)!;
    expect(f.slope).toBeCloseTo(0.0857143, 6);
    expect(f.residualSd).toBeCloseTo(0.58554, 5);
    expect(f.mean).toBeCloseTo(0.885714, 5);
    expect(f.high - f.mean).toBeCloseTo(2.092474, 4);
    expect(f.mean - f.low).toBeCloseTo(2.092474, 4);
  });

  it('needs three points, and uses the t table then its normal approximation', () => {
    expect(linearTrendForecast([1, 2], 3)).toBeNull();
    expect(tQuantile975(4)).toBe(2.776);
    expect(tQuantile975(60)).toBeCloseTo(2.0003, 3);
  });
});

describe('module adoption trends', () => {
  it('uses only the calendar months the data covers on at least minCoveredDays days', () => {
    // History from 2025-09-30 (one day of September) to 2026-09-29 (29 days of September).
    const months = usableMonths('2025-09-30', '2026-09-29', 25);
    expect(months.length).toBe(12);
    expect(months[0]).toBe(2025 * 12 + 9); // October 2025
    expect(months[11]).toBe(2026 * 12 + 8); // September 2026
  });

  it('turns monthly module use into adoption shares, slopes and backtested forecasts; a one-off step is not a trend', () => {
    const m0 = 2026 * 12;
    const months = Array.from({ length: 6 }, (_, t) => m0 + t);
    // Segment 0 (id 4): customers 0 and 1 active every month, both on general_ledger (bit 0);
    // customer 0 takes up receivables_payables (bit 1) from the fourth month. Segment 1 (id 9):
    // customer 2 active only in the first three months.
    const rows: [number, number, number][] = [];
    for (let t = 0; t < 6; t++) {
      rows.push([0, m0 + t, t >= 3 ? 0b11 : 0b01], [1, m0 + t, 0b01]);
      if (t < 3) rows.push([2, m0 + t, 0b01]);
    }
    const use = { customer: Int32Array.from(rows, (r) => r[0]), month: Int32Array.from(rows, (r) => r[1]), mask: Int32Array.from(rows, (r) => r[2]) };
    const trends = fitTrends(use, Int32Array.from([0, 0, 1]), [4, 9], months, defaultTrendParams);
    expect(trends.months).toEqual(['2026-01', '2026-02', '2026-03', '2026-04', '2026-05', '2026-06']);
    expect(trends.horizon).toEqual(['2026-07', '2026-08', '2026-09']);
    const s0 = trends.segments[0]!;
    expect(s0.segmentId).toBe(4);
    expect(s0.activeCustomers).toEqual([2, 2, 2, 2, 2, 2]);
    expect(s0.modules[1]!.adoption).toEqual([0, 0, 0, 0.5, 0.5, 0.5]);
    // slope = Σ(t - 2.5)(y - 0.25) / Σ(t - 2.5)² = 2.25 / 17.5
    expect(s0.modules[1]!.slopePerMonth).toBeCloseTo(2.25 / 17.5, 12);
    expect(s0.modules[0]!.slopePerMonth).toBeCloseTo(0, 12);
    // One step up three months ago is not a significant trend: the backtest keeps the naive forecast (0.5), nothing is rising.
    expect(s0.modules[1]!.forecast!.model).toBe('naive');
    expect(s0.modules[1]!.forecast!.mean).toBe(0.5);
    expect(s0.modules[1]!.forecast!.verdict).toBe('flat');
    expect(s0.rising).toEqual([]);
    // Without per-row events there is no volume series.
    expect(s0.volume.forecast).toBeNull();
    // Months with nobody active leave gaps: no forecast, nothing rising.
    const s1 = trends.segments[1]!;
    expect(s1.modules[0]!.adoption).toEqual([1, 1, 1, null, null, null]);
    expect(s1.modules[0]!.forecast).toBeNull();
    expect(s1.rising).toEqual([]);
  });

  it('calls an exact linear rise rising, lists it, and forecasts the usage volume per active customer', () => {
    const T = 12;
    const M = MODULES.length;
    const months = Array.from({ length: T }, (_, t) => 2025 * 12 + t);
    // One segment, 20 active customers a month; module 1 used by 2 + t of them: share (2 + t) / 20, +5 pp a month.
    const active = new Float64Array(T).fill(20);
    const used = new Float64Array(T * M);
    for (let t = 0; t < T; t++) used[t * M + 1] = 2 + t;
    // Volume: 100 events a month over 20 customers with any usage: 5 per customer, flat.
    const trends = trendsFromCounts({ active, used, users: new Float64Array(T).fill(20), events: new Float64Array(T).fill(100) }, [0], months, defaultTrendParams);
    const s = trends.segments[0]!;
    expect(s.rising.map((r) => r.module)).toEqual([MODULES[1]]);
    const f = s.rising[0]!.forecast;
    // An exact line: naive with drift is exact in the backtest (MASE 0); next quarter (14 + 15 + 16) / 20 = 0.75; last quarter 0.6.
    expect(f.model).toBe('naive_drift');
    expect(f.mase).toBe(0);
    expect(f.mean).toBeCloseTo(0.75, 12);
    expect(f.reference).toBeCloseTo(0.6, 12);
    expect(f.verdict).toBe('rising');
    expect(s.falling).toEqual([]);
    expect(s.volume.eventsPerActive).toEqual(new Array(T).fill(5));
    expect(s.volume.forecast!.mean).toBe(5);
    expect(s.volume.forecast!.verdict).toBe('flat');
    expect(trends.backtest.seasonal).toBe(false);
  });

  it('round-trips through the trends.json schema, and a version-1 file says "retrain needed"', () => {
    const months = Array.from({ length: 12 }, (_, t) => 2025 * 12 + t);
    const used = new Float64Array(12 * MODULES.length);
    for (let t = 0; t < 12; t++) used[t * MODULES.length] = 10 + (t % 3);
    const trends = trendsFromCounts({ active: new Float64Array(12).fill(20), used, users: new Float64Array(12).fill(20), events: new Float64Array(12).fill(90) }, [0], months, defaultTrendParams);
    const json = JSON.parse(JSON.stringify(trends));
    expect(JSON.stringify(parseState('trends.json', json))).toBe(JSON.stringify(trends));
    let older: unknown = null;
    try {
      parseState('trends.json', { ...json, version: 1 });
    } catch (e) {
      older = e;
    }
    expect(older).toBeInstanceOf(InputError);
    expect((older as InputError).detail.join()).toMatch(/retrain needed/);
  });
});
