/**
 * Value per segment: how much recurring revenue each segment holds at the as-of day T and how it
 * moved over the 12 months before, from the optional `subscriptions` table. Pure: the per-customer
 * numbers come in as typed arrays (io/side-reads.ts reads them with `revenueQuery`).
 *
 * Definitions (binding for every slice that reads subscriptions):
 * - a subscriptions row is ACTIVE at day d when start_date <= d and (end_date IS NULL or end_date > d);
 *   `status` is not consulted (a trialing or paused row with a positive mrr counts as revenue);
 * - a customer's MRR at d = the sum of mrr over its rows active at d (0 without such rows, so a
 *   customer with no subscriptions row at all is a non-paying customer);
 * - a customer CHURNED in (a, b] when its MRR at a > 0 and its MRR at b = 0;
 * - T = the ingest as-of day; T−12m = the same day 12 months before (29 February → 28 February).
 *
 * Over the segment's customers (all training customers for the total):
 * - customers; active customers (a row active at T); paying customers (MRR at T > 0);
 * - MRR = Σ MRR at T; ARR = 12 × MRR; mrrShare = MRR / all customers' MRR; customerShare likewise;
 * - ARPC (average revenue per paying customer) = MRR / paying customers;
 * - seats = Σ seats of the rows active at T (null when no such row states seats);
 * - over the 12 months, with "starting" customers those with MRR at T−12m > 0 and start MRR their
 *   Σ MRR at T−12m: gross MRR churn = start MRR of the starting customers that churned (MRR 0 at T)
 *   / start MRR; logo churn = churned / starting customers; net revenue retention (NRR) = the
 *   starting customers' Σ MRR at T / start MRR; expansion = Σ max(0, MRR at T − MRR at T−12m) over
 *   the retained (starting and MRR at T > 0) / start MRR; contraction = Σ max(0, MRR at T−12m −
 *   MRR at T) over the retained / start MRR. So NRR = 1 − gross churn + expansion − contraction.
 *   Customers new since T−12m are in MRR but not in these rates.
 *
 * Currency: there are no exchange rates offline, so nothing is converted. The reporting currency is
 * the currency stated on the most subscriptions rows (ties: alphabetical first); a row with a blank
 * currency is taken to be in it. Rows in any other currency are left out of every MRR sum; the
 * customers and rows left out are counted and reported.
 */
import { sqlString } from '../core/duck.ts';
import { activeOnSql } from '../01-ingest/subscription-sql.ts';

/** Months the churn, retention and expansion rates look back over. */
export const VALUE_LOOKBACK_MONTHS = 12;

/** Per training customer, in feature-table row order: what the value of a segment is summed from. */
export interface CustomerRevenue {
  /** MRR at T in the reporting currency, shape (n); 0 without active rows. */
  mrrNow: Float64Array;
  /** MRR at T−12m in the reporting currency, shape (n). */
  mrrBefore: Float64Array;
  /** Seats on the rows active at T, shape (n); NaN where no active row states seats. */
  seats: Float64Array;
  /** 1 where the customer has a row active at T (any currency, any mrr), shape (n). */
  active: Uint8Array;
  /** Rows active at T or T−12m in another currency, left out of the sums, shape (n). */
  leftOutRows: Float64Array;
}

/** The value of one segment (or of all customers); a rate is null when its denominator is 0. */
export interface SegmentValue {
  customers: number;
  activeCustomers: number;
  payingCustomers: number;
  mrr: number;
  arr: number;
  mrrShare: number | null;
  customerShare: number | null;
  arpc: number | null;
  seats: number | null;
  startCustomers: number;
  startMrr: number;
  churnedCustomers: number;
  churnedMrr: number;
  grossMrrChurn: number | null;
  logoChurn: number | null;
  nrr: number | null;
  expansion: number | null;
  contraction: number | null;
}

/** What the per-segment values were measured on: the window, the currency and what was left out. */
export interface ValueBasis {
  asOf: string;
  /** T−12m. */
  from: string;
  /** The reporting currency; null when no row states one. */
  currency: string | null;
  /** Customers with rows in another currency (active at T or T−12m), left out of the sums. */
  leftOutCustomers: number;
  leftOutRows: number;
  /** Every training customer. */
  total: SegmentValue;
}

/** The value per segment index 0..k-1 and for all customers. */
export interface ValueBySegment {
  basis: ValueBasis;
  segments: SegmentValue[];
}

/** The day 12 months before `asOf` (YYYY-MM-DD), as DuckDB's `- INTERVAL 12 MONTH` gives it. */
export function yearBefore(asOf: string): string {
  const [y, m, d] = asOf.split('-');
  const day = m === '02' && d === '29' ? '28' : d;
  return `${String(Number(y) - 1).padStart(4, '0')}-${m}-${day}`;
}

const activeAt = (day: string) => activeOnSql(`DATE ${sqlString(day)}`);

/** The reporting currency as a SQL scalar: the currency on most rows of `subscriptions`. */
export const reportingCurrencySql = `(SELECT currency FROM subscriptions WHERE currency IS NOT NULL GROUP BY currency ORDER BY count(*) DESC, currency LIMIT 1)`;

/** Per-customer SQL over the accepted subscriptions table: one row per customer with rows (startPerCustomer query). */
export function revenueQuery(asOf: string): { sql: string; columns: string[] } {
  const now = activeAt(asOf);
  const before = activeAt(yearBefore(asOf));
  const counted = `(currency IS NULL OR currency IS NOT DISTINCT FROM ${reportingCurrencySql})`;
  return {
    sql: `SELECT customer_id,
            coalesce(sum(mrr) FILTER (WHERE ${now} AND ${counted}), 0)::DOUBLE AS mrr_now,
            coalesce(sum(mrr) FILTER (WHERE ${before} AND ${counted}), 0)::DOUBLE AS mrr_before,
            sum(seats) FILTER (WHERE ${now})::DOUBLE AS seats_now,
            count(*) FILTER (WHERE ${now})::DOUBLE AS active_rows,
            count(*) FILTER (WHERE (${now} OR ${before}) AND NOT ${counted})::DOUBLE AS left_out_rows
       FROM subscriptions GROUP BY customer_id`,
    columns: ['mrr_now', 'mrr_before', 'seats_now', 'active_rows', 'left_out_rows'],
  };
}

/** CustomerRevenue from revenueQuery's columns by row position (a customer without rows: MRR 0, inactive). */
export function customerRevenueFrom(cols: Record<string, Float64Array>): CustomerRevenue {
  const zeroNaN = (a: Float64Array) => a.map((x) => (Number.isNaN(x) ? 0 : x));
  return {
    mrrNow: zeroNaN(cols.mrr_now!),
    mrrBefore: zeroNaN(cols.mrr_before!),
    seats: cols.seats_now!,
    active: Uint8Array.from(cols.active_rows!, (x) => (x > 0 ? 1 : 0)),
    leftOutRows: zeroNaN(cols.left_out_rows!),
  };
}

interface Sums {
  customers: number;
  activeCustomers: number;
  payingCustomers: number;
  mrr: number;
  seats: number;
  seatRows: number;
  startCustomers: number;
  startMrr: number;
  retainedMrr: number;
  churnedCustomers: number;
  churnedMrr: number;
  expansion: number;
  contraction: number;
}

const emptySums = (): Sums => ({ customers: 0, activeCustomers: 0, payingCustomers: 0, mrr: 0, seats: 0, seatRows: 0, startCustomers: 0, startMrr: 0, retainedMrr: 0, churnedCustomers: 0, churnedMrr: 0, expansion: 0, contraction: 0 });

function addCustomer(s: Sums, r: CustomerRevenue, i: number): void {
  const now = r.mrrNow[i]!;
  const before = r.mrrBefore[i]!;
  s.customers++;
  if (r.active[i]) s.activeCustomers++;
  if (now > 0) s.payingCustomers++;
  s.mrr += now;
  if (!Number.isNaN(r.seats[i]!)) {
    s.seats += r.seats[i]!;
    s.seatRows++;
  }
  if (before <= 0) return;
  s.startCustomers++;
  s.startMrr += before;
  s.retainedMrr += now;
  if (now <= 0) {
    s.churnedCustomers++;
    s.churnedMrr += before;
  } else if (now > before) s.expansion += now - before;
  else s.contraction += before - now;
}

const ratio = (a: number, b: number): number | null => (b > 0 ? a / b : null);

function valueOf(s: Sums, all: Sums): SegmentValue {
  return {
    customers: s.customers,
    activeCustomers: s.activeCustomers,
    payingCustomers: s.payingCustomers,
    mrr: s.mrr,
    arr: 12 * s.mrr,
    mrrShare: ratio(s.mrr, all.mrr),
    customerShare: ratio(s.customers, all.customers),
    arpc: ratio(s.mrr, s.payingCustomers),
    seats: s.seatRows ? s.seats : null,
    startCustomers: s.startCustomers,
    startMrr: s.startMrr,
    churnedCustomers: s.churnedCustomers,
    churnedMrr: s.churnedMrr,
    grossMrrChurn: ratio(s.churnedMrr, s.startMrr),
    logoChurn: ratio(s.churnedCustomers, s.startCustomers),
    nrr: ratio(s.retainedMrr, s.startMrr),
    expansion: ratio(s.expansion, s.startMrr),
    contraction: ratio(s.contraction, s.startMrr),
  };
}

/** The value of each segment 0..k-1 (labels shape (n), -1 = in no segment, counted only in the total) and of all customers. */
export function valueBySegment(labels: Int32Array, k: number, revenue: CustomerRevenue, window: { asOf: string; currency: string | null }): ValueBySegment {
  const sums = Array.from({ length: k }, emptySums);
  const all = emptySums();
  let leftOutCustomers = 0;
  let leftOutRows = 0;
  for (let i = 0; i < labels.length; i++) {
    addCustomer(all, revenue, i);
    const l = labels[i]!;
    if (l >= 0 && l < k) addCustomer(sums[l]!, revenue, i);
    if (revenue.leftOutRows[i]! > 0) {
      leftOutCustomers++;
      leftOutRows += revenue.leftOutRows[i]!;
    }
  }
  const basis: ValueBasis = { asOf: window.asOf, from: yearBefore(window.asOf), currency: window.currency, leftOutCustomers, leftOutRows, total: valueOf(all, all) };
  return { basis, segments: sums.map((s) => valueOf(s, all)) };
}

/** One log line of all customers' value: MRR, paying customers, NRR and what was left out. */
export function valueLogLine(basis: ValueBasis): string {
  const { total } = basis;
  const nrr = total.nrr === null ? 'none (nobody paid 12 months before)' : `${(total.nrr * 100).toFixed(1)}%`;
  const leftOut = basis.leftOutCustomers ? `; ${basis.leftOutCustomers} customers with rows in other currencies left out` : '';
  return `value: MRR ${total.mrr.toFixed(0)}${basis.currency ? ` ${basis.currency}` : ''} from ${total.payingCustomers} paying customers; 12-month NRR ${nrr}${leftOut}`;
}
