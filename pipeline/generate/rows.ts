import { closeSync, openSync, writeSync } from 'node:fs';
import { BUYER_ROLES, CONTRACT, DEPLOYMENTS, DEVICES, MODULES, TRANSACTION_KINDS, type TableName } from '../01-ingest/contract.ts';
import { deriveSeed, makeRng, type Rng } from '../core/random.ts';
import { ARCHETYPE_SPECS, CNY_PER_UNIT, EDITIONS, HOME_CURRENCY, INDUSTRY_CODES, REGIONS, type TransactionKind } from './archetypes.ts';
import { COMPILED_ARCHETYPES, type CustomerDraws } from './customers.ts';
import { churnDayOf, momentBeforeChurn } from './churn-ramp.ts';
import { pick, roundRandom, trendedPosition, uniform } from './sampling.ts';

/**
 * Row writers: turn customer draws into CSV text for the three contract tables and the truth
 * file. Rows are built as strings and flushed in large chunks, never held as row objects, so a
 * million events take a few seconds and little memory. CSV dialect: header row, comma, no quoting (no value
 * contains a comma or quote), missing values as empty fields, timestamps 'YYYY-MM-DD HH:MM:SS'.
 */

/** Buffered text output to a file descriptor, flushed every few MB. */
export class CsvFile {
  private readonly fd: number;
  private buffer = '';
  constructor(readonly path: string) {
    this.fd = openSync(path, 'w');
  }
  write(text: string): void {
    this.buffer += text;
    if (this.buffer.length > 1 << 22) this.flush();
  }
  private flush(): void {
    if (this.buffer.length > 0) writeSync(this.fd, this.buffer);
    this.buffer = '';
  }
  close(): void {
    this.flush();
    closeSync(this.fd);
  }
}

/** The columns each writer emits, in order; checked against CONTRACT so the two cannot drift apart. */
const WRITTEN_COLUMNS: Readonly<Record<Exclude<TableName, 'feedback' | 'actions'>, readonly string[]>> = {
  customers: [
    'customer_id',
    'signup_date',
    'industry',
    'employees',
    'annual_revenue',
    'founded_year',
    'region',
    'deployment',
    'edition',
    'buyer_role',
  ],
  usage_events: ['customer_id', 'ts', 'module', 'device', 'user_id', 'count'],
  transactions: ['customer_id', 'ts', 'amount', 'currency', 'kind'],
  subscriptions: ['customer_id', 'plan', 'seats', 'mrr', 'currency', 'start_date', 'end_date', 'status'],
};

/** The CSV header line of a generated table, taken from the contract. */
export function headerOf(table: keyof typeof WRITTEN_COLUMNS): string {
  const names = CONTRACT[table].columns.map((c) => c.name);
  if (names.join(',') !== WRITTEN_COLUMNS[table].join(',')) {
    throw new Error(`generator writes ${table} as (${WRITTEN_COLUMNS[table].join(', ')}) but the contract says (${names.join(', ')})`);
  }
  return `${names.join(',')}\n`;
}

const TWO_DIGITS = Array.from({ length: 60 }, (_, i) => String(i).padStart(2, '0'));

/** 'YYYY-MM-DD' of an epoch day (UTC). */
export function formatDay(day: number): string {
  return new Date(day * 86_400_000).toISOString().slice(0, 10);
}

/** Formats epoch seconds as 'YYYY-MM-DD HH:MM:SS' with the day strings precomputed for a range. */
class TimestampFormatter {
  private readonly days: string[];
  constructor(
    private readonly firstDay: number,
    lastDay: number,
  ) {
    this.days = Array.from({ length: lastDay - firstDay + 1 }, (_, k) => formatDay(firstDay + k));
  }
  format(seconds: number): string {
    const day = Math.floor(seconds / 86_400);
    let rest = seconds - day * 86_400;
    const h = Math.floor(rest / 3600);
    rest -= h * 3600;
    const m = Math.floor(rest / 60);
    const s = rest - m * 60;
    return `${this.days[day - this.firstDay]} ${TWO_DIGITS[h]}:${TWO_DIGITS[m]}:${TWO_DIGITS[s]}`;
  }
}

/** Share of event rows without a user (system jobs, imports); API traffic more often has none. */
const MISSING_USER_RATE = 0.025;
const MISSING_USER_RATE_API = 0.1;
/** Relative size of each transaction kind against the customer's typical amount. */
const KIND_SCALE: Readonly<Record<TransactionKind, number>> = {
  sale: 1,
  purchase: 1.4,
  expense: 0.35,
  payroll: 1.8,
  transfer: 2.5,
  other: 0.6,
};
const KIND_SCALES = Float64Array.from(TRANSACTION_KINDS, (k) => KIND_SCALE[k]);
const API_MODULE = MODULES.indexOf('api');
const API_DEVICE = DEVICES.indexOf('api');
const SALE = TRANSACTION_KINDS.indexOf('sale');
const PURCHASE = TRANSACTION_KINDS.indexOf('purchase');

/**
 * A moment (epoch seconds) in the customer's active span: the day follows the trend (yearly
 * log-growth) and thins out weekends; the time of day is office hours, or any hour for machine traffic.
 */
function drawMoment(rng: Rng, start: number, span: number, trendPerDay: number, weekendKeep: number, offHours: number): number {
  let day = start;
  for (let attempt = 0; attempt < 4; attempt++) {
    day = start + Math.floor(trendedPosition(rng, span, trendPerDay));
    const weekday = (day + 4) % 7; // 1970-01-01 was a Thursday; 0 = Sunday, 6 = Saturday
    if ((weekday !== 0 && weekday !== 6) || rng.next() < weekendKeep) break;
  }
  let second: number;
  if (rng.next() < offHours) {
    second = Math.floor(rng.next() * 86_400);
  } else {
    const hour = Math.min(22.5, Math.max(6.5, 13.2 + 2.7 * rng.normal()));
    second = Math.floor(hour * 3600);
  }
  return day * 86_400 + second;
}

/** Fills `out[0..count)` with sorted moments of one customer's activity (thinning toward the cancel day of a churner). */
function drawSortedMoments(rng: Rng, draws: CustomerDraws, i: number, count: number, out: Float64Array, lastDay: number): Float64Array {
  const start = draws.activeStart[i]!;
  const span = draws.activeEnd[i]! - start;
  const trendPerDay = draws.trend[i]! / 365;
  const weekendKeep = ARCHETYPE_SPECS[draws.archetype[i]!]!.weekendActivity;
  const offHours = draws.offHoursShare[i]!;
  const moments = out.subarray(0, count);
  const churnDay = churnDayOf(draws, i, lastDay + 1);
  const draw = () => drawMoment(rng, start, span, trendPerDay, weekendKeep, offHours);
  for (let k = 0; k < count; k++) moments[k] = churnDay < 0 ? draw() : momentBeforeChurn(rng, churnDay, draw);
  return moments.sort();
}

function grow(buffer: Float64Array, size: number): Float64Array {
  return buffer.length >= size ? buffer : new Float64Array(Math.max(size, buffer.length * 2));
}

/** Called every 1024 customers and once at the end with customers written so far of all: a progress bar's feed. */
export type GenerateProgress = (done: number, total: number) => void;

/** Writes customers.csv text; the customers table carries firmographics only, never the archetype. */
export function writeCustomers(draws: CustomerDraws, out: CsvFile, onProgress?: GenerateProgress): number {
  out.write(headerOf('customers'));
  const num = (v: number): string => (Number.isNaN(v) ? '' : String(v));
  const cat = (values: readonly string[], k: number): string => (k < 0 ? '' : values[k]!);
  for (let i = 0; i < draws.n; i++) {
    if ((i & 1023) === 0) onProgress?.(i, draws.n);
    const industry = draws.industryCode[i]!;
    out.write(
      `${draws.ids[i]},${formatDay(draws.signupDay[i]!)},${industry < 0 ? '' : INDUSTRY_CODES[industry]!.code},` +
        `${num(draws.employees[i]!)},${num(draws.annualRevenue[i]!)},${num(draws.foundedYear[i]!)},` +
        `${cat(REGIONS, draws.region[i]!)},${cat(DEPLOYMENTS, draws.deployment[i]!)},` +
        `${cat(EDITIONS, draws.edition[i]!)},${cat(BUYER_ROLES, draws.buyerRole[i]!)}\n`,
    );
  }
  onProgress?.(draws.n, draws.n);
  return draws.n;
}

/** Writes truth.csv (customer_id, archetype): the ground truth tests score recovered segments against. */
export function writeTruth(draws: CustomerDraws, out: CsvFile): number {
  out.write('customer_id,archetype\n');
  for (let i = 0; i < draws.n; i++) out.write(`${draws.ids[i]},${ARCHETYPE_SPECS[draws.archetype[i]!]!.name}\n`);
  return draws.n;
}

/**
 * Sees each customer's drawn events and may add rows after them (generate/actions.ts: a treated
 * customer adopting the promoted module), so every drawn row stays as it would be without it.
 */
export interface UsageHook {
  /** One drawn event of customer i: module index into MODULES, epoch seconds. */
  row(i: number, module: number, seconds: number): void;
  /** CSV rows (usage_events columns) to write after customer i's drawn rows, and how many. */
  after(i: number): { text: string; rows: number };
}

/** Writes usage_events.csv text, customer by customer in time order; returns the row count. */
export function writeUsageEvents(draws: CustomerDraws, seed: number, firstDay: number, lastDay: number, out: CsvFile, hook?: UsageHook, onProgress?: GenerateProgress): number {
  out.write(headerOf('usage_events'));
  const clock = new TimestampFormatter(firstDay, lastDay);
  const M = MODULES.length;
  const D = DEVICES.length;
  let moments: Float64Array = new Float64Array(1024);
  let rows = 0;
  for (let i = 0; i < draws.n; i++) {
    if ((i & 1023) === 0) onProgress?.(i, draws.n);
    const rng = makeRng(deriveSeed(seed, `${draws.ids[i]}:events`));
    const count = roundRandom(rng, draws.eventRows[i]!);
    if (count === 0) {
      rows += appendHooked(hook, i, out);
      continue;
    }
    moments = grow(moments, count);
    const sorted = drawSortedMoments(rng, draws, i, count, moments, lastDay);
    const id = draws.ids[i]!;
    const users = draws.users[i]!;
    let chunk = '';
    for (let k = 0; k < count; k++) {
      const module = pick(rng, draws.moduleCdf, i * M, M);
      // Calls to the API module come in through the API whatever the customer's usual channel.
      const device = module === API_MODULE ? API_DEVICE : pick(rng, draws.deviceCdf, i * D, D);
      const isApi = device === API_DEVICE;
      const user =
        rng.next() < (isApi ? MISSING_USER_RATE_API : MISSING_USER_RATE)
          ? ''
          : // u^2 skews activity toward the first few users, as real accounts have one or two power users.
            `${id}-u${1 + Math.floor(users * rng.next() ** 2)}`;
      // Most rows are single actions; some are buckets of several, API batches more often and larger.
      let actions = 1;
      if (rng.next() < (isApi ? 0.35 : 0.12)) actions = 2 + Math.floor(-(isApi ? 8 : 1.5) * Math.log(1 - rng.next()));
      chunk += `${id},${clock.format(sorted[k]!)},${MODULES[module]},${DEVICES[device]},${user},${actions}\n`;
      hook?.row(i, module, sorted[k]!);
    }
    out.write(chunk);
    rows += count + appendHooked(hook, i, out);
  }
  onProgress?.(draws.n, draws.n);
  return rows;
}

/** Writes the hook's rows for customer i (after its drawn ones); returns how many. */
function appendHooked(hook: UsageHook | undefined, i: number, out: CsvFile): number {
  if (!hook) return 0;
  const extra = hook.after(i);
  if (extra.rows > 0) out.write(extra.text);
  return extra.rows;
}

/** Writes transactions.csv text, customer by customer in time order; returns the row count. */
export function writeTransactions(draws: CustomerDraws, seed: number, firstDay: number, lastDay: number, out: CsvFile, onProgress?: GenerateProgress): number {
  out.write(headerOf('transactions'));
  const clock = new TimestampFormatter(firstDay, lastDay);
  let moments: Float64Array = new Float64Array(1024);
  let rows = 0;
  for (let i = 0; i < draws.n; i++) {
    if ((i & 1023) === 0) onProgress?.(i, draws.n);
    const rng = makeRng(deriveSeed(seed, `${draws.ids[i]}:transactions`));
    const count = roundRandom(rng, draws.transactionRows[i]!);
    if (count === 0) continue;
    moments = grow(moments, count);
    const sorted = drawSortedMoments(rng, draws, i, count, moments, lastDay);
    const arch = COMPILED_ARCHETYPES[draws.archetype[i]!]!;
    const id = draws.ids[i]!;
    const scale = draws.amountScale[i]!;
    const sigma = arch.spec.amount.sigma;
    const refundRate = draws.refundRate[i]!;
    const foreignShare = draws.foreignShare[i]!;
    let chunk = '';
    for (let k = 0; k < count; k++) {
      const kind = pick(rng, arch.kindCdf);
      let amount = Math.max(0.01, scale * KIND_SCALES[kind]! * Math.exp(sigma * rng.normal()));
      let currency = HOME_CURRENCY;
      if (rng.next() < foreignShare) {
        currency = arch.spec.foreign.currencies[pick(rng, arch.currencyCdf)]!;
        amount = Math.max(0.01, amount / CNY_PER_UNIT[currency]!);
      }
      if ((kind === SALE || kind === PURCHASE) && rng.next() < refundRate) amount = -Math.max(0.01, amount * uniform(rng, 0.2, 1));
      chunk += `${id},${clock.format(sorted[k]!)},${amount.toFixed(2)},${currency},${TRANSACTION_KINDS[kind]}\n`;
    }
    out.write(chunk);
    rows += count;
  }
  onProgress?.(draws.n, draws.n);
  return rows;
}
