import type { DuckDBConnection } from '@duckdb/node-api';
import { MODULES } from '../01-ingest/contract.ts';
import { readColumns, readColumnsCoded, sqlString } from '../core/duck.ts';
import { sharedZeros, type Matrix } from '../core/matrix.ts';
import {
  CHANNEL_FEATURES,
  MODULE_SHARE_FEATURES,
  VENDOR_MODULE_LIMIT,
  VENDOR_OTHER_FEATURE,
  WINDOW_DAYS,
  featureCatalog,
  featureSource,
  needsAbsentTable,
  vendorModuleFeatures,
  type VendorModule,
} from './catalog.ts';
import { dialectSpelling, type DialectSpelling, type SqlDialect } from './dialect.ts';
import type { FeatureParams } from './params.ts';

/** SQL: the most common transaction currency, ties broken by code so the choice is deterministic; '' without one. */
const MOST_COMMON_CURRENCY = `SELECT coalesce((SELECT currency FROM transactions WHERE currency IS NOT NULL GROUP BY currency ORDER BY count(*) DESC, currency LIMIT 1), '') AS home`;

/**
 * The home currency `foreign_share` is measured against: the configured one, else the most
 * common transaction currency of the ingested data (null without any). Train records it in the
 * bundle and score measures against that, so a scored batch in which another currency happens to
 * be the most common (a partition, a region's new customers) is not measured differently.
 */
export async function resolveHomeCurrency(conn: DuckDBConnection, params: FeatureParams): Promise<string | null> {
  if (params.homeCurrency) return params.homeCurrency;
  const home = (await readColumns(conn, MOST_COMMON_CURRENCY, ['home'])).text.home?.[0];
  return home ? home : null;
}

/**
 * The vendor modules that get a share feature of their own: the given ones, else the
 * VENDOR_MODULE_LIMIT usage modules outside the catalog with the largest event count up to the
 * end of the as-of date (ties by name). Train records them in the bundle and score uses that
 * list, so a batch is measured on the modules the model knows.
 */
export async function resolveVendorModules(conn: DuckDBConnection, asOf: string, params: FeatureParams): Promise<VendorModule[]> {
  if (params.vendorModules) return [...params.vendorModules];
  const end = `(DATE ${sqlString(asOf)} + INTERVAL '1' DAY)`;
  const top = await readColumns(
    conn,
    `SELECT module FROM usage_events WHERE ts < ${end} AND module NOT IN (${MODULES.map(sqlString).join(', ')})
     GROUP BY module ORDER BY sum(CAST(coalesce("count", 1) AS DECIMAL(18, 4))) DESC, module LIMIT ${VENDOR_MODULE_LIMIT}`,
    ['module'],
  );
  return vendorModuleFeatures((top.text.module ?? []) as string[]);
}

/** Customer attributes as given (not features): the lenses and reports read them. */
export interface CustomerAttributes {
  industry: (string | null)[];
  region: (string | null)[];
  edition: (string | null)[];
  deployment: (string | null)[];
  buyerRole: (string | null)[];
  signupDate: (string | null)[];
  /** NaN = missing. */
  employees: Float64Array;
  annualRevenue: Float64Array;
  foundedYear: Float64Array;
}

/** When each customer was active (not features, not in X): what the lifecycle lens reads. */
export interface CustomerActivity {
  /** Per customer, days from its first usage event or transaction to the end of the as-of date; NaN when none. */
  firstSeenDays: Float64Array;
  /** Per customer, days from its last usage event or transaction to the end of the as-of date; NaN when none. */
  lastSeenDays: Float64Array;
  /** Days from the earliest activity of the table's customers to the end of the as-of date (NaN when none has any). */
  spanDays: number;
}

/** The per-customer feature matrix and attributes, one row per accepted customer in id order. */
export interface FeatureTable {
  customerIds: string[];
  /** Names of the columns of X, a subset of the catalog (featureCatalog) in catalog order. */
  featureNames: string[];
  /** Shape (customers, featureNames.length); NaN = undefined (e.g. a share with no events). */
  X: Matrix;
  /**
   * Per customer, usage event rows plus transactions up to the end of the as-of date, which
   * decides cold start; NaN where unknown (a feature file without a history column).
   */
  history: Float64Array;
  /** First and last activity per customer; undefined for a feature file without those columns. */
  activity?: CustomerActivity;
  /** Catalog features left out of X, with the reason. */
  dropped: { feature: string; reason: string }[];
  attributes: CustomerAttributes;
  asOf: string;
}

/** SQL: the later of two timestamps, the other when one is NULL (Trino's greatest is NULL when any argument is). */
const later = (a: string, b: string) => `CASE WHEN ${a} IS NULL THEN ${b} WHEN ${b} IS NULL OR ${a} >= ${b} THEN ${a} ELSE ${b} END`;
const earlier = (a: string, b: string) => `CASE WHEN ${a} IS NULL THEN ${b} WHEN ${b} IS NULL OR ${a} <= ${b} THEN ${a} ELSE ${b} END`;

/**
 * The usage window's module aggregates: breadth (catalog and vendor modules), the catalog shares,
 * `share_vendor_other` and one share per named vendor module. `share` is the share expression of a condition.
 */
function moduleAggregates(vendorModules: readonly VendorModule[], d: DialectSpelling, share: (cond: string) => string): string {
  const known = [...MODULES, ...vendorModules.map((v) => v.name)].map(d.text);
  // In DuckDB, the distinct catalog and named vendor modules of a window as bits of one integer
  // (their position in `known`, at most 25 bits); only pooled vendor modules need count(DISTINCT …).
  const breadth = d.bitMasks
    ? `coalesce(bit_count(bit_or(1 << (list_position([${known.join(', ')}], module) - 1))), 0) + count(DISTINCT CASE WHEN module NOT IN (${known.join(', ')}) THEN module END)`
    : `count(DISTINCT module)`;
  return [
    `${breadth} AS module_breadth_90`,
    ...MODULES.map((m) => `${share(`module = ${d.text(m)}`)} AS share_${m}`),
    `${share(`module NOT IN (${known.join(', ')})`)} AS ${VENDOR_OTHER_FEATURE}`,
    ...vendorModules.map((v) => `${share(`module = ${d.text(v.name)}`)} AS ${v.feature}`),
  ].join(',\n      ');
}

/** The as-of window of the feature SQL: its end (the day after the as-of date) and the window conditions on `ts`. */
interface FeatureWindow {
  end: string;
  inWin: string;
  prevWin: string;
}

/** The transaction aggregate: window counts, amounts and shares, and the all-history RFM inputs. */
function txnAggregate(params: FeatureParams, window: FeatureWindow, d: DialectSpelling): string {
  const { end, inWin, prevWin } = window;
  const DOUBLE = d.double;
  const txnShare = (cond: string) => `CAST(count(*) FILTER (WHERE ${inWin} AND ${cond}) AS ${DOUBLE}) / nullif(count(*) FILTER (WHERE ${inWin}), 0)`;
  return `SELECT customer_id,
      count(*) FILTER (WHERE ${inWin}) AS txn_count_90,
      CAST(sum(size) FILTER (WHERE ${inWin}) AS ${DOUBLE}) AS txn_volume_90,
      CAST(sum(size) FILTER (WHERE ${inWin}) AS ${DOUBLE}) / nullif(count(*) FILTER (WHERE ${inWin}), 0) AS txn_avg_size,
      ${txnShare(`size < ${params.smallTicketAmount}`)} AS small_ticket_share,
      count(DISTINCT CASE WHEN ${inWin} THEN currency END) AS currencies_90,
      CAST(coalesce(sum(size) FILTER (WHERE ${inWin} AND currency IS NOT NULL AND currency <> h.home), 0) AS ${DOUBLE}) / CAST(nullif(sum(size) FILTER (WHERE ${inWin}), 0) AS ${DOUBLE}) AS foreign_share,
      ${txnShare(`amount < 0`)} AS refund_share,
      ${txnShare(`kind = 'sale'`)} AS kind_sale_share,
      ${txnShare(`kind = 'purchase'`)} AS kind_purchase_share,
      ${txnShare(`kind = 'payroll'`)} AS kind_payroll_share,
      ${txnShare(`kind = 'transfer'`)} AS kind_transfer_share,
      CAST(sum(size) FILTER (WHERE ${prevWin}) AS ${DOUBLE}) AS volume_prev,
      count(DISTINCT date_trunc('month', ts)) AS active_months,
      CAST(sum(size) AS ${DOUBLE}) AS volume_all,
      min(ts) AS first_ts, max(ts) AS last_ts,
      count(*) AS txn_rows
  FROM (SELECT customer_id, ts, amount, CAST(abs(amount) AS DECIMAL(18, 4)) AS size, currency, kind FROM transactions WHERE ts < ${end}) tx
  CROSS JOIN home h
  GROUP BY customer_id`;
}

/** The feature SQL over the ingested tables: one row per customer, the catalog's columns, then attributes, history and activity. */
export function featureSql(asOf: string, params: FeatureParams, dialect: SqlDialect = 'duckdb'): string {
  // Quoted interval counts, ON joins, CAST before dividing counts, no subquery inside an aggregate:
  // what every engine reads alike; the rest is spelled per engine (dialect.ts, docs/scale-out.md).
  const d = dialectSpelling(dialect);
  const end = `(DATE ${d.text(asOf)} + INTERVAL '1' DAY)`;
  const start = `(${end} - INTERVAL '${WINDOW_DAYS}' DAY)`;
  const prevStart = `(${end} - INTERVAL '${2 * WINDOW_DAYS}' DAY)`;
  const vendorModules = params.vendorModules ?? [];
  const home = params.homeCurrency ? `SELECT ${d.text(params.homeCurrency)} AS home` : MOST_COMMON_CURRENCY;
  // Counts and amounts are summed as DECIMAL: DuckDB's parallel hash aggregation adds doubles
  // in a varying order, which changed the last bits of a sum from run to run and so broke
  // "same data and seed, same bundle". Decimal sums are exact; amounts keep 4 decimal places.
  // Streaming aggregates only, no CTE read twice: DuckDB materialises such a CTE, which held the
  // whole event table (gigabytes at vendor scale). Usage takes two passes, the window's rows
  // (distinct days, users and modules need the window alone) and all rows for the previous
  // window, the first and the last activity; transactions one pass with FILTER clauses.
  const window: FeatureWindow = { end, inWin: `ts >= ${start}`, prevWin: `ts >= ${prevStart} AND ts < ${start}` };
  return `
WITH ${usageAggregates(window, vendorModules, d)},
home AS (${home}),
txn AS (
  ${txnAggregate(params, window, d)}
)
${customerSelect(end, vendorModules, d)}`;
}

/** SQL: the CTEs `usage_win` (the window's events per customer) and `usage_rest` (every event up to the end). */
function usageAggregates(window: FeatureWindow, vendorModules: readonly VendorModule[], d: DialectSpelling): string {
  const { end, inWin, prevWin } = window;
  const DOUBLE = d.double;
  // A share is 0 when the customer has events but none of this kind, undefined (NULL) when it has no events.
  // sum(CASE) rather than FILTER: DuckDB runs each FILTER as its own selection pass over the rows,
  // which made the 17 shares 25% slower.
  const share = (cond: string) => `CAST(sum(CASE WHEN ${cond} THEN n ELSE 0 END) AS ${DOUBLE}) / CAST(nullif(sum(n), 0) AS ${DOUBLE})`;
  // In DuckDB, the distinct days of a customer's window as bits of one integer: at 1M customers /
  // 14M window events, the usage aggregate took 5.6 s instead of 7.9 s. Days are the 90 offsets
  // before the end (a HUGEINT has 128 bits). Users stay count(DISTINCT …): millions of ids.
  const activeDays = d.bitMasks
    ? `bit_count(bit_or(CAST(1 AS HUGEINT) << (${d.days('CAST(ts AS DATE)', `CAST(${end} AS DATE)`)} - 1)))`
    : `count(DISTINCT CAST(ts AS DATE))`;
  const events = `SELECT customer_id, ts, module, device, user_id, CAST(coalesce(${d.ident('count')}, 1) AS DECIMAL(18, 4)) AS n FROM usage_events WHERE ts < ${end}`;
  return `usage_win AS (
  SELECT customer_id,
      ${activeDays} AS active_days_90,
      CAST(sum(n) AS ${DOUBLE}) AS events_90,
      count(DISTINCT user_id) AS users_90,
      ${moduleAggregates(vendorModules, d, share)},
      ${share(`device = 'mobile'`)} AS device_mobile_share,
      ${share(`device = 'api'`)} AS device_api_share,
      ${share(`device = 'desktop'`)} AS device_desktop_share
  FROM (${events} AND ${inWin}) ev
  GROUP BY customer_id
),
usage_rest AS (
  SELECT customer_id, CAST(sum(n) FILTER (WHERE ${prevWin}) AS ${DOUBLE}) AS events_prev, min(ts) AS first_ts, max(ts) AS last_ts,
      count(*) AS event_rows
  FROM (${events}) ev
  GROUP BY customer_id
)`;
}

/** SQL: the feature table's SELECT over `customers` joined to the usage and transaction aggregates, in customer_id order. */
function customerSelect(end: string, vendorModules: readonly VendorModule[], d: DialectSpelling): string {
  const days = (ts: string) => d.days(`CAST(${ts} AS DATE)`, `CAST(${end} AS DATE)`);
  const signup = `CAST(c.signup_date AS TIMESTAMP)`;
  return `SELECT c.customer_id,
    coalesce(u.active_days_90, 0) AS active_days_90,
    coalesce(u.events_90, 0) AS events_90,
    coalesce(u.users_90, 0) AS users_90,
    coalesce(u.events_90, 0) / greatest(coalesce(u.users_90, 0), 1) AS events_per_user_90,
    -- never active: recency counts from signup, the longest it could be
    ${days(`coalesce(${later('r.last_ts', 't.last_ts')}, ${signup})`)} AS recency_days,
    ${d.days('c.signup_date', `CAST(${end} AS DATE)`)} AS tenure_days,
    coalesce(u.module_breadth_90, 0) AS module_breadth_90,
    ${MODULE_SHARE_FEATURES.map((f) => `u.${f}`).join(', ')}, u.${VENDOR_OTHER_FEATURE},
    ${CHANNEL_FEATURES.map((f) => `u.${f}`).join(', ')},
    coalesce(t.txn_count_90, 0) AS txn_count_90,
    coalesce(t.txn_volume_90, 0) AS txn_volume_90,
    t.txn_avg_size, t.small_ticket_share,
    coalesce(t.currencies_90, 0) AS currencies_90,
    t.foreign_share, t.refund_share,
    t.kind_sale_share, t.kind_purchase_share, t.kind_payroll_share, t.kind_transfer_share,
    ${days(`coalesce(t.last_ts, ${signup})`)} AS txn_recency_days,
    ${days('t.first_ts')} AS txn_tenure_days,
    coalesce(t.active_months, 0) AS txn_active_months,
    coalesce(t.txn_rows, 0) AS txn_count_all,
    coalesce(t.volume_all, 0) AS txn_volume_all,
    t.volume_all / CAST(t.txn_rows AS ${d.double}) AS txn_avg_basket,
    ln((coalesce(u.events_90, 0) + 1) / (coalesce(r.events_prev, 0) + 1)) AS usage_trend,
    ln((coalesce(t.txn_volume_90, 0) + 1) / (coalesce(t.volume_prev, 0) + 1)) AS volume_trend,${vendorModules.map((v) => `\n    u.${v.feature},`).join('')}
    c.industry, c.region, c.edition, c.deployment, c.buyer_role, ${d.dateText('c.signup_date')} AS signup_date,
    c.employees, c.annual_revenue, c.founded_year,
    -- cold start's history: rows, not counts, of both tables up to the end of the as-of date
    coalesce(r.event_rows, 0) + coalesce(t.txn_rows, 0) AS history,
    -- the lifecycle lens's activity: first and last usage event or transaction, NULL when none
    ${days(earlier('r.first_ts', 't.first_ts'))} AS first_seen_days,
    ${days(later('r.last_ts', 't.last_ts'))} AS last_seen_days
FROM customers c
LEFT JOIN usage_win u ON u.customer_id = c.customer_id
LEFT JOIN usage_rest r ON r.customer_id = c.customer_id
LEFT JOIN txn t ON t.customer_id = c.customer_id
ORDER BY ${d.textOrder('c.customer_id')}`;
}

/** The reason prefix of a column dropped as equal to another (select.ts). */
export const DUPLICATE_OF = 'duplicate of ';

/** Customer attributes with few distinct values, read as codes (readColumnsCoded). */
const CODED_COLUMNS = ['industry', 'region', 'edition', 'deployment', 'buyer_role', 'signup_date'];

/** Activity from the feature query's first_seen_days / last_seen_days (shape: customers); spanDays the largest first_seen_days. */
export function activityFrom(firstSeenDays: Float64Array, lastSeenDays: Float64Array): CustomerActivity {
  let spanDays = Number.NaN;
  for (const d of firstSeenDays) if (!Number.isNaN(d) && !(d <= spanDays)) spanDays = d;
  return { firstSeenDays, lastSeenDays, spanDays };
}

/**
 * Computes the catalog features (featureCatalog of `params.vendorModules`) as of the end of
 * `asOf` over the ingested tables. Features that need an absent table are dropped, and so is any
 * feature with no value at all.
 */
export async function computeFeatures(
  conn: DuckDBConnection,
  asOf: string,
  params: FeatureParams,
  absentTables: readonly string[] = [],
  /** When scoring: exactly these columns (a bundle's features), NaN where the data has none. */
  requiredFeatures: readonly string[] | null = null,
  /** Called with the customer count once DuckDB has aggregated, before the ~2.5 s (at 1M) of reading the rows into JS. */
  onAggregated?: (customers: number) => void,
): Promise<FeatureTable> {
  const cols = await readColumnsCoded(conn, featureSql(asOf, params), ['customer_id', ...CODED_COLUMNS], CODED_COLUMNS, onAggregated);
  const dropped: { feature: string; reason: string }[] = [];
  const featureNames: string[] = requiredFeatures ? [...requiredFeatures] : [];
  for (const f of featureCatalog(params.vendorModules ?? [])) {
    if (requiredFeatures) {
      if (!requiredFeatures.includes(f)) dropped.push({ feature: f, reason: 'not in the model' });
    } else if (needsAbsentTable(f, absentTables)) dropped.push({ feature: f, reason: `no ${featureSource(f) === 'either' ? 'usage_events or transactions' : featureSource(f)} table` });
    else if (cols.numeric[f]!.every((v) => Number.isNaN(v))) dropped.push({ feature: f, reason: 'no values' });
    else featureNames.push(f);
  }
  const n = cols.rowCount;
  const p = featureNames.length;
  // Shared memory: score splits the rows of this matrix between two threads (model/score-threads.ts).
  const data = sharedZeros(n, p).data;
  featureNames.forEach((f, j) => {
    // A feature whose table is absent reads as all-NaN, as does a model feature this query does not
    // compute (a vendor share of a model trained from a feature table): the model's imputation fills it.
    const column = needsAbsentTable(f, absentTables) ? null : (cols.numeric[f] ?? null);
    for (let i = 0; i < n; i++) data[i * p + j] = column ? column[i]! : Number.NaN;
  });
  const t = cols.text;
  return {
    customerIds: t.customer_id as string[],
    featureNames,
    X: { rows: n, cols: p, data },
    history: cols.numeric.history!,
    activity: activityFrom(cols.numeric.first_seen_days!, cols.numeric.last_seen_days!),
    dropped,
    asOf,
    attributes: {
      industry: t.industry!,
      region: t.region!,
      edition: t.edition!,
      deployment: t.deployment!,
      buyerRole: t.buyer_role!,
      signupDate: t.signup_date!,
      employees: cols.numeric.employees!,
      annualRevenue: cols.numeric.annual_revenue!,
      foundedYear: cols.numeric.founded_year!,
    },
  };
}

/**
 * A feature's column by name (shape: customers). A feature dropped as `duplicate of <twin>` reads
 * as its twin, whose values it had, so the lenses still see it; null when dropped otherwise.
 */
export function featureColumn(table: FeatureTable, name: string): Float64Array | null {
  const j = table.featureNames.indexOf(name);
  if (j < 0) {
    const reason = table.dropped.find((d) => d.feature === name)?.reason;
    return reason?.startsWith(DUPLICATE_OF) ? featureColumn(table, reason.slice(DUPLICATE_OF.length)) : null;
  }
  const out = new Float64Array(table.X.rows);
  for (let i = 0; i < out.length; i++) out[i] = table.X.data[i * table.X.cols + j]!;
  return out;
}
