import { deriveSeed, makeRng, type Rng } from '../core/random.ts';
import { churnDayOf } from './churn-ramp.ts';
import { EDITIONS, HOME_CURRENCY, type Edition } from './archetypes.ts';
import type { CustomerDraws } from './customers.ts';
import { CsvFile, formatDay, headerOf, type GenerateProgress } from './rows.ts';
import { uniform } from './sampling.ts';

/**
 * The generated subscriptions table and its planted truth. Each customer subscribes to its
 * edition from its signup day, with its named users as seats and MRR = seats × the plan's price
 * per seat. Churners are the customers that went quiet before the as-of date (the archetypes'
 * dropout: declining firms far more often): they cancel on the first day without activity, so
 * their events and transactions stop at the cancel date, and rows.ts thins their use over the
 * months before it (churn-ramp.ts) so that a churn is foreseeable from earlier behaviour.
 * Customers whose use grows (a positive yearly trend) add seats: one row ends (`ended`) and a
 * row with more seats starts the same day.
 *
 * Definitions (common to every reader of the table): a row is active at day d when
 * start_date <= d and (end_date is blank or end_date > d); a customer's MRR at d is the sum of
 * its active rows' mrr; it churned in (a, b] when its MRR at a > 0 and at b = 0. The truth file
 * takes T = the export's last day (as-of date − 1 day: the day ingest infers as its as-of date).
 */

/** Monthly price per seat in CNY by edition. */
export const PLAN_PRICES: Readonly<Record<Edition, number>> = { Starter: 59, Standard: 119, Professional: 229, Enterprise: 399 };

/** Expected seat additions per year per unit of positive yearly trend, at most MAX_EXPANSIONS. */
const EXPANSIONS_PER_TREND_YEAR = 0.6;
const MAX_EXPANSIONS = 4;
/** The churn and expansion windows of the truth file, in days before T. */
export const CHURN_WINDOW_DAYS = 90;
export const EXPANSION_WINDOW_DAYS = 365;

/** One subscription period (epoch days; end -1 = still active). */
export interface SubscriptionRow {
  readonly start: number;
  readonly end: number;
  readonly seats: number;
  readonly mrr: number;
  readonly status: 'active' | 'ended' | 'cancelled';
}

function poisson(rng: Rng, mean: number): number {
  const limit = Math.exp(-mean);
  let k = 0;
  for (let p = rng.next(); p > limit; p *= rng.next()) k++;
  return k;
}

/** Customer i's subscription periods, oldest first, from its own seeded stream. */
export function subscriptionRows(draws: CustomerDraws, i: number, seed: number, asOfDay: number): SubscriptionRow[] {
  const rng = makeRng(deriveSeed(seed, `${draws.ids[i]}:subscriptions`));
  const price = PLAN_PRICES[EDITIONS[draws.edition[i]!]!];
  const start = draws.signupDay[i]!;
  const churnDay = churnDayOf(draws, i, asOfDay);
  const last = churnDay >= 0 ? churnDay : asOfDay;
  const finalSeats = Math.max(1, draws.users[i]!);
  const years = (last - start) / 365;
  const wanted = Math.min(MAX_EXPANSIONS, poisson(rng, Math.max(0, draws.trend[i]!) * EXPANSIONS_PER_TREND_YEAR * years));
  // Seats before each addition, working back from today's seats; a customer at one seat cannot have grown.
  const seats = [finalSeats];
  while (seats.length <= wanted && seats[0]! > 1) seats.unshift(Math.max(1, Math.min(seats[0]! - 1, Math.round(seats[0]! / uniform(rng, 1.2, 1.8)))));
  const changes = new Set<number>();
  for (let k = 0; k < seats.length - 1 && last - start > 1; k++) changes.add(start + 1 + rng.int(last - start - 1));
  const days = [start, ...[...changes].sort((a, b) => a - b)];
  const periods = seats.slice(seats.length - days.length);
  return days.map((d, k) => {
    const isLast = k === days.length - 1;
    const end = isLast ? churnDay : days[k + 1]!;
    const status = !isLast ? 'ended' : churnDay >= 0 ? 'cancelled' : 'active';
    return { start: d, end, seats: periods[k]!, mrr: periods[k]! * price, status };
  });
}

/** MRR of periods on day d: the sum over rows active on d (start <= d and no end or end > d). */
export function mrrOn(rows: readonly SubscriptionRow[], day: number): number {
  let total = 0;
  for (const r of rows) if (r.start <= day && (r.end < 0 || r.end > day)) total += r.mrr;
  return total;
}

/** Customer i's periods as subscriptions.csv lines. */
export function subscriptionLines(draws: CustomerDraws, i: number, rows: readonly SubscriptionRow[]): string {
  const id = draws.ids[i]!;
  const plan = EDITIONS[draws.edition[i]!]!;
  let chunk = '';
  for (const r of rows) chunk += `${id},${plan},${r.seats},${r.mrr},${HOME_CURRENCY},${formatDay(r.start)},${r.end < 0 ? '' : formatDay(r.end)},${r.status}\n`;
  return chunk;
}

/** Writes subscriptions.csv text (customer by customer, oldest period first) and the truth file at `truthPath`; returns the subscription row count. */
export function writeSubscriptions(draws: CustomerDraws, seed: number, asOfDay: number, out: CsvFile, truthPath: string, onProgress?: GenerateProgress): number {
  const truth = new CsvFile(truthPath);
  try {
    return writeRowsAndTruth(draws, seed, asOfDay, out, truth, onProgress);
  } finally {
    truth.close();
  }
}

function writeRowsAndTruth(draws: CustomerDraws, seed: number, asOfDay: number, out: CsvFile, truth: CsvFile, onProgress?: GenerateProgress): number {
  out.write(headerOf('subscriptions'));
  truth.write('customer_id,churned_90d,churn_date,expanded_12m,mrr_start_12m,mrr_now\n');
  const t = asOfDay - 1;
  let count = 0;
  for (let i = 0; i < draws.n; i++) {
    if ((i & 1023) === 0) onProgress?.(i, draws.n);
    const id = draws.ids[i]!;
    const rows = subscriptionRows(draws, i, seed, asOfDay);
    out.write(subscriptionLines(draws, i, rows));
    count += rows.length;
    const [now, before, yearAgo] = [mrrOn(rows, t), mrrOn(rows, t - CHURN_WINDOW_DAYS), mrrOn(rows, t - EXPANSION_WINDOW_DAYS)];
    const churnDay = churnDayOf(draws, i, asOfDay);
    const churned = before > 0 && now === 0 ? 1 : 0;
    const expanded = yearAgo > 0 && now > yearAgo ? 1 : 0;
    truth.write(`${id},${churned},${churnDay < 0 ? '' : formatDay(churnDay)},${expanded},${yearAgo},${now}\n`);
  }
  onProgress?.(draws.n, draws.n);
  return count;
}
