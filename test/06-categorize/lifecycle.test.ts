import { describe, expect, it } from 'vitest';
import { categorize, fitLifecycle, type LensInput } from '../../pipeline/06-categorize/lenses.ts';
import { defaultLensParams, parseLensParams, type LensParams } from '../../pipeline/06-categorize/params.ts';
import type { LifecycleFit } from '../../pipeline/06-categorize/lifecycle.ts';

/**
 * The lifecycle lens from observed behaviour (no founded year), on hand-checkable customers:
 * startup relative to the data's span, quiet from either recency, and the transactions-only
 * trend rules with their count minimum. Defaults: window = min(0.25 × span, 3 years), span ≥ 180
 * days; transactions: growth ≥ +0.7, decline ≤ −1, ≥ 4 transactions, quiet ≥ 90 days.
 */
interface Customer {
  foundedYear?: number;
  tenureDays?: number;
  usageTrend?: number;
  volumeTrend?: number;
  events90?: number;
  recencyDays?: number;
  txnRecencyDays?: number;
  txnCount90?: number;
  txnVolume90?: number;
  txnCountAll?: number;
  firstSeenDays?: number;
}

const AS_OF = '2024-06-30';

/** A lens input for `customers`; activity dates are given (with `spanDays`) or, with `spanDays` undefined, absent. */
function input(customers: Customer[], spanDays: number | undefined): LensInput {
  const num = (key: keyof Customer) => Float64Array.from(customers, (c) => c[key] ?? Number.NaN);
  const none = customers.map(() => null);
  return {
    asOf: AS_OF,
    industry: none,
    employees: num('foundedYear').fill(Number.NaN),
    annualRevenue: num('foundedYear').fill(Number.NaN),
    foundedYear: num('foundedYear'),
    deployment: none,
    buyerRole: none,
    tenureDays: num('tenureDays'),
    usageTrend: num('usageTrend'),
    volumeTrend: num('volumeTrend'),
    events90: num('events90'),
    recencyDays: num('recencyDays'),
    txnRecencyDays: num('txnRecencyDays'),
    txnCount90: num('txnCount90'),
    txnVolume90: num('txnVolume90'),
    txnCountAll: num('txnCountAll'),
    mobileShare: num('foundedYear').fill(Number.NaN),
    apiShare: num('foundedYear').fill(Number.NaN),
    moduleBreadth: num('foundedYear').fill(Number.NaN),
    ...(spanDays === undefined ? {} : { firstSeenDays: num('firstSeenDays'), spanDays }),
  };
}

const lifecycle = (customers: Customer[], spanDays: number | undefined, params: LensParams = defaultLensParams, fit?: LifecycleFit) =>
  categorize(input(customers, spanDays), params, fit).lifecycle;

/** Transactions over the two windows: `n90` in the last one with volume `v90`, volume `vPrev` in the one before. */
const txns = (n90: number, v90: number, vPrev: number): Customer => ({ txnCount90: n90, txnVolume90: v90, volumeTrend: Math.log((v90 + 1) / (vPrev + 1)), txnRecencyDays: n90 > 0 ? 5 : 95, txnCountAll: 100 });

describe('startup relative to the data span (no founded year)', () => {
  // span 365: the window is the last 0.25 × 365 = 91.25 days
  const steady = { tenureDays: 0, usageTrend: 0, events90: 40, recencyDays: 1 };

  it('calls a customer first seen in the last quarter of the span a startup, and one seen before it not', () => {
    const result = lifecycle([{ ...steady, firstSeenDays: 91 }, { ...steady, firstSeenDays: 92 }, { ...steady, firstSeenDays: 365 }], 365);
    expect(result).toEqual(['startup', 'mature', 'mature']);
  });

  it('does not call everyone a startup in a one-year export where every tenure is under 3 years', () => {
    // Tenure (signup = first activity, as for derived customers) is 10 to 360 days for all of them:
    // the tenure rule would call all four startups.
    const customers = [10, 100, 200, 360].map((d) => ({ ...steady, tenureDays: d, firstSeenDays: d }));
    expect(lifecycle(customers, undefined)).toEqual(['startup', 'startup', 'startup', 'startup']);
    expect(lifecycle(customers, 365)).toEqual(['startup', 'mature', 'mature', 'mature']);
  });

  it('uses the earlier of signup and first activity: a customer who signed up long ago is not new', () => {
    expect(lifecycle([{ ...steady, tenureDays: 1000, firstSeenDays: 30 }, { ...steady, tenureDays: 30, firstSeenDays: 30 }], 365)).toEqual(['mature', 'startup']);
  });

  it('calls no one a startup from behaviour when the data spans less than 180 days', () => {
    expect(lifecycle([{ ...steady, firstSeenDays: 10 }, { ...steady, firstSeenDays: 10, foundedYear: 2023 }], 179)).toEqual(['mature', 'startup']);
  });

  it('caps the window at 3 years on a long export', () => {
    // span 20 years: 0.25 of it is 5 years, capped at 3 × 365.25 = 1095.75 days
    expect(lifecycle([{ ...steady, firstSeenDays: 1095 }, { ...steady, firstSeenDays: 1096 }], 20 * 365)).toEqual(['startup', 'mature']);
  });

  it('keeps the founded-year path: age decides whenever a founded year is known', () => {
    // 2024 − 2021 = 3 → startup even if first seen long ago; 2024 − 2000 → not, even if first seen yesterday
    expect(lifecycle([{ ...steady, foundedYear: 2021, firstSeenDays: 365 }, { ...steady, foundedYear: 2000, firstSeenDays: 1 }], 365)).toEqual(['startup', 'mature']);
  });

  it('falls back to tenure as age only when activity dates are absent', () => {
    expect(lifecycle([{ ...steady, tenureDays: 365 }], undefined)).toEqual(['startup']);
    expect(lifecycle([{ ...steady, tenureDays: 365 }], undefined, parseLensParams({ lifecycle: { ageFromTenureWhenFoundedMissing: false } }))).toEqual(['mature']);
  });

  it('scores with the training span: same window, and a customer at the start of a short export is not new', () => {
    const fit: LifecycleFit = { spanDays: 365 };
    // a later, longer export: first seen 91 days ago with 400 − 91 = 309 ≥ 273.75 days of data before it
    expect(lifecycle([{ ...steady, firstSeenDays: 91 }, { ...steady, firstSeenDays: 92 }], 400, defaultLensParams, fit)).toEqual(['startup', 'mature']);
    // a one-month export: everyone is first seen within it, nobody has 273.75 days of lead-in
    expect(lifecycle([{ ...steady, firstSeenDays: 10 }, { ...steady, firstSeenDays: 30 }], 30, defaultLensParams, fit)).toEqual(['mature', 'mature']);
    // without the model's fit the input's own span is the reference (training)
    expect(lifecycle([{ ...steady, firstSeenDays: 10 }], 30)).toEqual(['mature']);
  });

  it('records the training span, or null without activity dates', () => {
    expect(fitLifecycle(input([{}], 365))).toEqual({ spanDays: 365 });
    expect(fitLifecycle(input([{}], undefined))).toEqual({ spanDays: null });
  });
});

describe('quiet from either recency', () => {
  const established = { tenureDays: 2000, firstSeenDays: 365 };

  it('with usage data: no activity for 30 days, or no transaction for 90 days after earlier ones, is decline', () => {
    const base = { ...established, usageTrend: 0, volumeTrend: 0, events90: 40, recencyDays: 1, txnCountAll: 50 };
    const result = lifecycle(
      [
        { ...base, recencyDays: 30 },
        { ...base, recencyDays: 29, txnRecencyDays: 89 },
        { ...base, txnRecencyDays: 90 },
        { ...base, txnRecencyDays: 2000, txnCountAll: 0 }, // never transacted: usage decides
      ],
      400,
    );
    expect(result).toEqual(['decline', 'mature', 'decline', 'mature']);
  });

  it('with transactions only: no transaction for 90 days is decline; without txn_recency_days, none in the window is', () => {
    const result = lifecycle(
      [
        { ...established, ...txns(0, 0, 0), txnRecencyDays: 200 },
        { ...established, ...txns(3, 300, 300), txnRecencyDays: 89 },
        { ...established, ...txns(0, 0, 0), txnRecencyDays: Number.NaN }, // no recency feature
      ],
      400,
    );
    expect(result).toEqual(['decline', 'mature', 'decline']);
  });
});

describe('trends from transactions alone', () => {
  const established = { tenureDays: 2000, firstSeenDays: 365 };
  const at = (c: Customer[], params: LensParams = defaultLensParams) => lifecycle(c.map((x) => ({ ...established, ...x })), 400, params);

  it('calls growth at a volume trend of +0.7 on at least 4 transactions, one or more in the earlier window', () => {
    // previous-window transactions ≈ vPrev / (v90 / n90)
    const result = at([
      txns(3, 300, 100), // trend ln(301/101) = 1.09, 3 + 1 = 4 transactions → growth
      txns(2, 200, 50), // trend 1.37, 2 + 0.5 = 2.5 transactions → too few
      txns(10, 1000, 0), // trend 6.9 after an empty window: a return, not a trend
      txns(10, 201, 100), // trend ln(202/101) = 0.693 < 0.7
    ]);
    expect(result).toEqual(['growth', 'mature', 'mature', 'mature']);
  });

  it('calls decline at a volume trend of −1 on at least 4 transactions, or none in the window after some before', () => {
    const result = at([
      txns(2, 100, 300), // trend ln(101/301) = −1.09, 2 + 6 = 8 transactions → decline
      txns(2, 100, 200), // trend ln(101/201) = −0.69: within the swing
      txns(1, 100, 280), // trend ln(101/281) = −1.02, but 1 + 2.8 = 3.8 transactions
    ]);
    expect(result).toEqual(['decline', 'mature', 'mature']);
    // quiet only after 120 days: nothing in the last 90 after some in the 90 before is decline on its face
    expect(at([{ ...txns(0, 0, 50), txnRecencyDays: 100 }], parseLensParams({ lifecycle: { txnQuietDays: 120 } }))).toEqual(['decline']);
  });

  it('has no lifecycle for a customer that never transacted, and one purchase day is not "never"', () => {
    const result = at([
      { ...txns(0, 0, 0), txnCountAll: 0, txnRecencyDays: 2000 },
      // a derived customer whose only purchase day is its signup, 200 days ago
      { ...txns(0, 0, 0), txnCountAll: Number.NaN, tenureDays: 200, firstSeenDays: 200, txnRecencyDays: 200 },
    ]);
    expect(result).toEqual(['unknown', 'decline']);
    // first-seen known and NaN: never active at all
    expect(lifecycle([{ tenureDays: 300, volumeTrend: 0, txnCount90: 0, txnRecencyDays: 300 }], 400)).toEqual(['unknown']);
  });

  it('follows configured transaction thresholds', () => {
    const params = parseLensParams({ lifecycle: { txnGrowthMinTrend: 0.5, txnDeclineMaxTrend: -0.5, txnMinCount: 2 } });
    expect(at([txns(2, 200, 100), txns(1, 100, 200)], params)).toEqual(['growth', 'decline']);
  });

  it('rejects transaction thresholds out of order, naming the key', () => {
    expect(() => parseLensParams({ lifecycle: { txnGrowthMinTrend: -2 } })).toThrowError(/lenses\.lifecycle\.txnGrowthMinTrend: expected more than txnDeclineMaxTrend \(-1\), got -2/);
    expect(() => parseLensParams({ lifecycle: { startupMaxSpanShare: 1.5 } })).toThrowError(/lenses\.lifecycle\.startupMaxSpanShare: expected a number in \[0, 1\], got 1\.5/);
  });
});
