import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DuckDBConnection } from '@duckdb/node-api';
import { customerRevenueFrom, reportingCurrencySql, revenueQuery, valueBySegment, yearBefore, type CustomerRevenue } from '../../pipeline/07-map/value.ts';
import { openDuck, queryRows, registerCustomerIndex, startPerCustomer } from '../../pipeline/core/duck.ts';
import { makeRng } from '../../pipeline/core/random.ts';

/**
 * A subscriptions table of eight customers whose MRR at T and T−12m is worked out by hand from
 * the definitions in 07-map/value.ts (active at d: start <= d < end), and the segment values
 * computed by hand from those.
 */
const asOf = '2026-06-30';
const ids = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];
// a, b, c in segment 0; d, e, f, g in segment 1; h in no segment (counted only in the total).
const labels = Int32Array.from([0, 0, 0, 1, 1, 1, 1, -1]);
const ROWS = [
  // a: 100 throughout, 3 seats.
  `('a', 'basic', 3, 100, 'USD', DATE '2024-01-01', NULL, 'active')`,
  // b: 200, ended ON T, so not active at T: churned.
  `('b', 'pro', 5, 200, 'USD', DATE '2024-01-01', DATE '2026-06-30', 'cancelled')`,
  // c: 100, then 150 from 2026-01-01 with a blank currency (taken as the reporting currency): expanded by 50.
  `('c', 'basic', 2, 100, 'USD', DATE '2024-01-01', DATE '2026-01-01', 'ended')`,
  `('c', 'pro', 4, 150, NULL, DATE '2026-01-01', NULL, 'active')`,
  // d: 300 starting ON T−12m (active then), then 240: contracted by 60.
  `('d', 'pro', 10, 300, 'USD', DATE '2025-06-30', DATE '2026-03-01', 'ended')`,
  `('d', 'pro', 8, 240, 'USD', DATE '2026-03-01', NULL, 'active')`,
  // e: new, starting ON T (active at T), seats unknown.
  `('e', 'basic', NULL, 80, 'USD', DATE '2026-06-30', NULL, 'trialing')`,
  // f: no rows at all. g: active in EUR, left out of the sums. h: 50 throughout, no segment.
  `('g', 'pro', 2, 500, 'EUR', DATE '2024-01-01', NULL, 'active')`,
  `('h', 'basic', 1, 50, 'USD', DATE '2024-01-01', NULL, 'active')`,
];

let conn: DuckDBConnection;
let revenue: CustomerRevenue;
let currency: unknown;

beforeAll(async () => {
  conn = await openDuck();
  await conn.run(`CREATE TABLE subscriptions (customer_id VARCHAR, plan VARCHAR, seats INTEGER, mrr DOUBLE, currency VARCHAR, start_date DATE, end_date DATE, status VARCHAR)`);
  await conn.run(`INSERT INTO subscriptions VALUES ${ROWS.join(', ')}`);
  await registerCustomerIndex(conn, ids);
  revenue = customerRevenueFrom(await startPerCustomer(conn, ids, [revenueQuery(asOf)]));
  currency = (await queryRows(conn, `SELECT ${reportingCurrencySql} AS c`))[0]!.c;
});
afterAll(() => conn.closeSync());

describe('revenue per customer from the subscriptions table', () => {
  it('sums the rows active at T and at T−12m, in the currency most rows state', () => {
    expect(currency).toBe('USD');
    expect(Array.from(revenue.mrrNow)).toEqual([100, 0, 150, 240, 80, 0, 0, 50]);
    expect(Array.from(revenue.mrrBefore)).toEqual([100, 200, 100, 300, 0, 0, 0, 50]);
    expect(Array.from(revenue.active)).toEqual([1, 0, 1, 1, 1, 0, 1, 1]);
    expect(Array.from(revenue.leftOutRows)).toEqual([0, 0, 0, 0, 0, 0, 1, 0]);
    expect(Array.from(revenue.seats)).toEqual([3, NaN, 4, 8, NaN, NaN, 2, 1]);
  });

  it('takes T−12m as the same day a year before, 29 February as 28 February', () => {
    expect(yearBefore('2026-06-30')).toBe('2025-06-30');
    expect(yearBefore('2028-02-29')).toBe('2027-02-28');
  });
});

describe('value per segment, by hand', () => {
  it('segment 0 (a, b, c): one churned, one expanded', () => {
    const v = valueBySegment(labels, 2, revenue, { asOf, currency: 'USD' }).segments[0]!;
    expect(v).toMatchObject({ customers: 3, activeCustomers: 2, payingCustomers: 2, mrr: 250, arr: 3000, seats: 7, startCustomers: 3, startMrr: 400, churnedCustomers: 1, churnedMrr: 200 });
    expect(v.arpc).toBe(125);
    expect(v.grossMrrChurn).toBe(0.5);
    expect(v.logoChurn).toBeCloseTo(1 / 3, 12);
    expect(v.nrr).toBe(250 / 400);
    expect(v.expansion).toBe(50 / 400);
    expect(v.contraction).toBe(0);
    expect(v.mrrShare).toBe(250 / 620);
    expect(v.customerShare).toBe(3 / 8);
  });

  it('segment 1 (d, e, f, g): one contracted, one new, one non-paying, one in another currency', () => {
    const v = valueBySegment(labels, 2, revenue, { asOf, currency: 'USD' }).segments[1]!;
    expect(v).toMatchObject({ customers: 4, activeCustomers: 3, payingCustomers: 2, mrr: 320, arr: 3840, seats: 10, startCustomers: 1, startMrr: 300, churnedCustomers: 0, churnedMrr: 0 });
    expect(v.arpc).toBe(160);
    expect(v.grossMrrChurn).toBe(0);
    expect(v.nrr).toBe(0.8);
    expect(v.expansion).toBe(0);
    expect(v.contraction).toBe(0.2);
  });

  it('all customers, including one in no segment; the other currency counted as left out', () => {
    const { basis } = valueBySegment(labels, 2, revenue, { asOf, currency: 'USD' });
    expect(basis).toMatchObject({ asOf, from: '2025-06-30', currency: 'USD', leftOutCustomers: 1, leftOutRows: 1 });
    expect(basis.total).toMatchObject({ customers: 8, payingCustomers: 5, mrr: 620, startCustomers: 5, startMrr: 750, churnedCustomers: 1, churnedMrr: 200, mrrShare: 1, customerShare: 1 });
    expect(basis.total.nrr).toBe(540 / 750);
    expect(basis.total.expansion).toBe(50 / 750);
    expect(basis.total.contraction).toBe(60 / 750);
  });

  it('gives null rates, not NaN, where nobody paid', () => {
    const none: CustomerRevenue = { mrrNow: new Float64Array(2), mrrBefore: new Float64Array(2), seats: new Float64Array(2).fill(NaN), active: new Uint8Array(2), leftOutRows: new Float64Array(2) };
    const v = valueBySegment(Int32Array.from([0, 0]), 1, none, { asOf, currency: null }).segments[0]!;
    expect(v).toMatchObject({ mrr: 0, mrrShare: null, arpc: null, seats: null, grossMrrChurn: null, logoChurn: null, nrr: null, expansion: null, contraction: null });
  });
});

describe('value per segment, invariants on random customers', () => {
  const n = 600;
  const k = 5;
  const rng = makeRng(17);
  const pick = () => (rng.next() < 0.3 ? 0 : Math.round(rng.next() * 1000));
  const random: CustomerRevenue = {
    mrrNow: Float64Array.from({ length: n }, pick),
    mrrBefore: Float64Array.from({ length: n }, pick),
    seats: Float64Array.from({ length: n }, () => (rng.next() < 0.2 ? NaN : Math.floor(rng.next() * 20))),
    active: Uint8Array.from({ length: n }, () => (rng.next() < 0.7 ? 1 : 0)),
    leftOutRows: new Float64Array(n),
  };
  const randomLabels = Int32Array.from({ length: n }, () => Math.floor(rng.next() * k));
  const { basis, segments } = valueBySegment(randomLabels, k, random, { asOf, currency: 'USD' });
  const total = (f: (v: (typeof segments)[number]) => number) => segments.reduce((s, v) => s + f(v), 0);

  it('segment MRR, start MRR, churned MRR and customers sum to the total', () => {
    expect(total((v) => v.mrr)).toBeCloseTo(basis.total.mrr, 6);
    expect(total((v) => v.startMrr)).toBeCloseTo(basis.total.startMrr, 6);
    expect(total((v) => v.churnedMrr)).toBeCloseTo(basis.total.churnedMrr, 6);
    expect(total((v) => v.customers)).toBe(n);
    expect(basis.total.mrr).toBeCloseTo(random.mrrNow.reduce((s, x) => s + x, 0), 6);
  });

  it('shares of MRR and of customers each sum to 1', () => {
    expect(total((v) => v.mrrShare!)).toBeCloseTo(1, 12);
    expect(total((v) => v.customerShare!)).toBeCloseTo(1, 12);
  });

  it('NRR = 1 − gross MRR churn + expansion − contraction in every segment', () => {
    for (const v of [...segments, basis.total]) expect(v.nrr!).toBeCloseTo(1 - v.grossMrrChurn! + v.expansion! - v.contraction!, 12);
  });
});
