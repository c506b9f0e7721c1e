import { describe, expect, it } from 'vitest';
import { featureColumn, type FeatureTable } from '../../pipeline/02-features/features.ts';
import { countOffMode, dropUninformative, NEAR_CONSTANT_SHARE, withTrainedDrops } from '../../pipeline/02-features/select.ts';

/** A feature table of n customers with the given columns (only X and names matter to the drop rules). */
function table(columns: Record<string, (i: number) => number>, n: number): FeatureTable {
  const names = Object.keys(columns);
  const data = new Float64Array(n * names.length);
  names.forEach((name, j) => {
    for (let i = 0; i < n; i++) data[i * names.length + j] = columns[name]!(i);
  });
  const none = new Array<string | null>(n).fill(null);
  const nan = new Float64Array(n).fill(Number.NaN);
  return {
    customerIds: Array.from({ length: n }, (_, i) => `c${i}`),
    featureNames: names,
    X: { rows: n, cols: names.length, data },
    history: nan,
    dropped: [{ feature: 'share_api', reason: 'no values' }],
    attributes: { industry: none, region: none, edition: none, deployment: none, buyerRole: none, signupDate: none, employees: nan, annualRevenue: nan, foundedYear: nan },
    asOf: '2026-09-30',
  };
}

describe('dropping uninformative columns at fit time', () => {
  const n = 1000;
  // A share that 3% of the customers use (30 of 1000) and one 1% use; 4 customers (0.4%) and 5 (exactly 0.5%).
  const picked = (share: number) => (i: number) => (i % Math.round(1 / share) === 0 ? 0.4 : 0);
  const few = (k: number) => (i: number) => (i < k ? 1 : 0);
  const input = table(
    {
      events_90: (i) => i % 17,
      kind_sale_share: () => 1,
      share_invoicing: (i) => (i % 3 === 0 ? Number.NaN : 0), // constant where observed; missing imputes to the same value
      share_payroll: picked(0.03),
      share_tax: picked(0.01),
      share_budgeting: few(4),
      share_reporting: few(5),
      txn_count_all: (i) => i % 5,
      txn_active_months: (i) => i % 5,
      txn_volume_all: (i) => (i % 5 === 0 ? Number.NaN : i % 5),
      txn_recency_days: (i) => (i % 5 === 0 ? Number.NaN : i % 5),
    },
    n,
  );
  const out = dropUninformative(input);

  it('keeps a module 3% (and 1%) of customers use, and one used by exactly 0.5%', () => {
    expect(NEAR_CONSTANT_SHARE).toBe(0.005);
    expect(out.featureNames).toEqual(['events_90', 'share_payroll', 'share_tax', 'share_reporting', 'txn_count_all', 'txn_volume_all']);
  });

  it('names each dropped column with its reason, after the ones dropped before', () => {
    expect(out.dropped).toEqual([
      { feature: 'share_api', reason: 'no values' },
      { feature: 'kind_sale_share', reason: 'constant' },
      { feature: 'share_invoicing', reason: 'constant' },
      { feature: 'share_budgeting', reason: 'near-constant' },
      { feature: 'txn_active_months', reason: 'duplicate of txn_count_all' },
      // equal values but missing in other places than txn_count_all: not a duplicate of it, a duplicate of txn_volume_all
      { feature: 'txn_recency_days', reason: 'duplicate of txn_volume_all' },
    ]);
  });

  it('copies the kept columns unchanged, row by row', () => {
    const q = out.X.cols;
    for (let i = 0; i < n; i += 97) {
      out.featureNames.forEach((f, c) => {
        const j = input.featureNames.indexOf(f);
        expect(Object.is(out.X.data[i * q + c], input.X.data[i * input.X.cols + j])).toBe(true);
      });
    }
  });

  it('lets a lens read a duplicate from its twin, at train and, with the recorded drops, at score', () => {
    expect(Array.from(featureColumn(out, 'txn_active_months')!)).toEqual(Array.from({ length: n }, (_, i) => i % 5));
    expect(featureColumn(out, 'kind_sale_share')).toBeNull();
    // A scored batch has exactly the model's columns; the bundle's drops tell it where a duplicate went.
    const batch = { ...out, dropped: [{ feature: 'txn_active_months', reason: 'not in the model' }] };
    expect(featureColumn(batch, 'txn_active_months')).toBeNull();
    const scored = withTrainedDrops(batch, out.dropped);
    expect(scored.dropped).toEqual(out.dropped);
    expect(Array.from(featureColumn(scored, 'txn_recency_days')!)).toEqual(Array.from(featureColumn(out, 'txn_volume_all')!));
  });

  it('returns the table itself when nothing is dropped', () => {
    const t = table({ a: (i) => i, b: (i) => i % 2 }, 10);
    expect(dropUninformative(t)).toBe(t);
  });

  it('counts the values off the majority value (all observed when there is no majority)', () => {
    expect(countOffMode(Float64Array.from([2, 2, NaN, 2, 3]))).toBe(1);
    expect(countOffMode(Float64Array.from([1, 2, 3, 1]))).toBe(4);
    expect(countOffMode(Float64Array.from([NaN, NaN]))).toBe(0);
    expect(countOffMode(Float64Array.from([0, -0, 0]))).toBe(0);
  });
});
