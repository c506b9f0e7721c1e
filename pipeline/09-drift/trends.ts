/**
 * Module adoption trends per segment (the seed's time-series idea), stored in every bundle as
 * `trends.json`. For each segment of the model and each catalog module: the monthly adoption
 * share (of the segment's customers active in a month, the share that used the module that
 * month), a linear-trend forecast of the next quarter's average with a 95% prediction interval
 * (forecast.ts), and the modules whose adoption rises fastest. Segment membership is today's, so
 * a series reads "how today's segment took up each module over the past year".
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { MODULES } from '../01-ingest/contract.ts';
import { fillTempTable, readColumns, registerCustomerIndex, sqlString } from '../core/duck.ts';
import { linearTrendForecast } from './forecast.ts';

/** Trend settings (the `drift.trends` config slice). */
export interface TrendParams {
  /** Fewest usable months for a forecast; fewer leaves forecasts null. Default 6. */
  minMonths: number;
  /** Months forecast (their average is reported). Default 3, a quarter. */
  horizonMonths: number;
  /** Rising modules listed per segment. Default 3. */
  topModules: number;
  /** A calendar month is used when the data covers at least this many of its days (edge months are partial). Default 25. */
  minCoveredDays: number;
}

/** Default `drift.trends` slice. */
export const defaultTrendParams: TrendParams = { minMonths: 6, horizonMonths: 3, topModules: 3, minCoveredDays: 25 };

/** Forecast of one series: the next quarter's average adoption and its 95% interval, clipped to [0, 1]. */
export interface AdoptionForecast {
  /** The forecast months, 'YYYY-MM'. */
  months: string[];
  mean: number;
  low: number;
  high: number;
}

/** One module's adoption in one segment. */
export interface ModuleTrend {
  module: string;
  /** Monthly adoption share, aligned with TrendsState.months; null in a month with no active customer. */
  adoption: (number | null)[];
  /** Least-squares change of the share per month (0.01 = one percentage point a month); null without a forecast. */
  slopePerMonth: number | null;
  forecast: AdoptionForecast | null;
}

/** One segment's series. */
export interface SegmentTrends {
  /** Index in the model (centroid order) and public id. */
  segmentIndex: number;
  segmentId: number;
  /** Customers of the segment active each month, aligned with TrendsState.months. */
  activeCustomers: number[];
  /** Every catalog module, in catalog order. */
  modules: ModuleTrend[];
  /** The modules with the steepest positive slope, steepest first, at most topModules. */
  rising: { module: string; slopePerMonth: number; latest: number | null; forecast: AdoptionForecast }[];
}

/** Everything stored in `trends.json`. */
export interface TrendsState {
  kind: 'finseg.trends';
  version: 1;
  /** The method in words, for readers of the JSON. */
  method: string;
  /** Level of the prediction intervals. */
  intervalLevel: 0.95;
  /** The usable calendar months, 'YYYY-MM', oldest first. */
  months: string[];
  /** The forecast months. */
  horizon: string[];
  segments: SegmentTrends[];
}

/** Kind and version of trends.json. */
export const TRENDS_KIND = 'finseg.trends';
export const TRENDS_VERSION = 1;

const METHOD =
  'adoption = share of the segment customers active in a month that used the module that month; forecast = ordinary least squares line through the monthly shares, ' +
  'averaged over the next quarter, with a 95% prediction interval from the residual spread (t quantile, n − 2 degrees of freedom); clipped to [0, 1]';

/** 'YYYY-MM' of a month index counted from year 0 (month = year * 12 + month0). */
function monthLabel(index: number): string {
  return `${String(Math.floor(index / 12)).padStart(4, '0')}-${String((index % 12) + 1).padStart(2, '0')}`;
}

function monthIndex(isoDate: string): number {
  return Number(isoDate.slice(0, 4)) * 12 + Number(isoDate.slice(5, 7)) - 1;
}

function daysInMonth(index: number): number {
  return new Date(Date.UTC(Math.floor(index / 12), (index % 12) + 1, 0)).getUTCDate();
}

/**
 * The usable months between the first data day and the as-of day (both 'YYYY-MM-DD', inclusive):
 * the longest run of months each covered on at least `minCoveredDays` days.
 */
export function usableMonths(firstDay: string, asOf: string, minCoveredDays: number): number[] {
  const first = monthIndex(firstDay);
  const last = monthIndex(asOf);
  const out: number[] = [];
  for (let m = first; m <= last; m++) {
    const from = m === first ? Number(firstDay.slice(8, 10)) : 1;
    const to = m === last ? Number(asOf.slice(8, 10)) : daysInMonth(m);
    if (to - from + 1 >= minCoveredDays) out.push(m);
  }
  return out;
}

/** Per-customer monthly module use, as the SQL returns it: row r is (customer index, month index, bit mask of modules used). */
export interface MonthlyUse {
  customer: Int32Array;
  month: Int32Array;
  mask: Int32Array;
}

/**
 * Builds the series and forecasts from monthly use. `segmentIndex` (n) gives each customer's
 * segment; `segmentIds` (k) each segment's public id; `months` the usable month indices.
 */
export function fitTrends(use: MonthlyUse, segmentIndex: Int32Array, segmentIds: readonly number[], months: readonly number[], params: TrendParams): TrendsState {
  const k = segmentIds.length;
  const T = months.length;
  const M = MODULES.length;
  const position = new Map(months.map((m, t) => [m, t]));
  const active = new Float64Array(k * T);
  const used = new Float64Array(k * T * M);
  for (let r = 0; r < use.customer.length; r++) {
    const t = position.get(use.month[r]!);
    if (t === undefined) continue;
    const s = segmentIndex[use.customer[r]!]!;
    active[s * T + t]!++;
    const mask = use.mask[r]!;
    for (let j = 0; j < M; j++) if (mask & (1 << j)) used[(s * T + t) * M + j]!++;
  }
  return trendsFromCounts({ active, used }, segmentIds, months, params);
}

/** Active customers per (segment, month), shape (k, T), and users of each module, shape (k, T, M). */
export interface MonthlyCounts {
  active: Float64Array;
  used: Float64Array;
}

/** The series and forecasts from the monthly counts (fitTrends counts them from per-customer rows first). */
export function trendsFromCounts(counts: MonthlyCounts, segmentIds: readonly number[], months: readonly number[], params: TrendParams): TrendsState {
  const { active, used } = counts;
  const T = months.length;
  const M = MODULES.length;
  const last = months.length ? months[months.length - 1]! : 0;
  const horizon = Array.from({ length: params.horizonMonths }, (_, h) => monthLabel(last + 1 + h));
  const clip = (x: number) => Math.min(1, Math.max(0, x));
  const segments: SegmentTrends[] = segmentIds.map((segmentId, s) => {
    const activeCustomers = Array.from({ length: T }, (_, t) => active[s * T + t]!);
    const modules: ModuleTrend[] = MODULES.map((module, j) => {
      const adoption = activeCustomers.map((a, t) => (a === 0 ? null : used[(s * T + t) * M + j]! / a));
      const observed = adoption.filter((x): x is number => x !== null);
      // A gap (a month with nobody active) breaks the equal spacing the line assumes: no forecast then.
      const fit = observed.length === T && T >= params.minMonths ? linearTrendForecast(observed, params.horizonMonths) : null;
      return {
        module,
        adoption,
        slopePerMonth: fit ? fit.slope : null,
        forecast: fit ? { months: horizon, mean: clip(fit.mean), low: clip(fit.low), high: clip(fit.high) } : null,
      };
    });
    const rising = modules
      .filter((m) => m.slopePerMonth !== null && m.slopePerMonth > 0 && m.forecast !== null)
      .sort((a, b) => b.slopePerMonth! - a.slopePerMonth! || a.module.localeCompare(b.module))
      .slice(0, params.topModules)
      .map((m) => ({ module: m.module, slopePerMonth: m.slopePerMonth!, latest: m.adoption[T - 1] ?? null, forecast: m.forecast! }));
    return { segmentIndex: s, segmentId, activeCustomers, modules, rising };
  });
  return { kind: TRENDS_KIND, version: TRENDS_VERSION, method: METHOD, intervalLevel: 0.95, months: months.map(monthLabel), horizon, segments };
}

/**
 * The usable months and the monthly module use of the ingested usage_events (through `asOf`,
 * inclusive) under a segmentation of k segments, counted in DuckDB; `customerIds` (n) in the
 * order of `segmentIndex`. trendsFromCounts builds the state from them. Two steps, so train can
 * start it as soon as the segments are known: the awaited part hands the segment of each
 * customer to DuckDB; the function it returns issues the counting as statements DuckDB runs to
 * the end on its own threads before it yields (so they progress while JS fits the other models)
 * and resolves to the counts.
 */
export async function prepareMonthlyUse(
  conn: DuckDBConnection,
  asOf: string,
  customerIds: readonly string[],
  segmentIndex: Int32Array,
  k: number,
  params: TrendParams,
): Promise<() => Promise<{ counts: MonthlyCounts; months: number[] }>> {
  const end = `(DATE ${sqlString(asOf)} + INTERVAL 1 DAY)`;
  const catalog = `[${MODULES.map(sqlString).join(', ')}]`;
  await registerCustomerIndex(conn, customerIds);
  await fillTempTable(conn, '__segment_of (idx INTEGER, seg INTEGER)', segmentIndex.length, (appender, i) => {
    appender.appendInteger(i);
    appender.appendInteger(segmentIndex[i]!);
  });
  const perModule = MODULES.map((_, j) => `sum((mask >> ${j}) & 1) AS m${j}`).join(', ');
  // Counted in DuckDB per (segment, month): per (customer, month) rows are about 12 per customer,
  // 12M at vendor scale, too many to hand to JS (that took 132 s at 1M customers).
  const statements = `
    CREATE OR REPLACE TEMP TABLE __first_use AS
      SELECT CAST(CAST(min(ts) AS DATE) AS VARCHAR) AS first_day FROM usage_events WHERE ts < ${end};
    CREATE OR REPLACE TEMP TABLE __monthly_use AS
      SELECT s.seg, u.month, count(*) AS active, ${perModule}
        FROM (SELECT customer_id, (year(ts) * 12 + month(ts) - 1)::INTEGER AS month,
                     bit_or(1 << (list_position(${catalog}, module) - 1))::INTEGER AS mask
                FROM usage_events
               WHERE ts < ${end} AND list_position(${catalog}, module) IS NOT NULL
               GROUP BY ALL) u
        JOIN __customer_index ci USING (customer_id)
        JOIN __segment_of s USING (idx)
       GROUP BY ALL;
    DROP TABLE __segment_of`;
  return () =>
    conn.run(statements).then(async () => {
      const span = await readColumns(conn, 'SELECT first_day FROM __first_use', ['first_day']);
      const cols = await readColumns(conn, 'SELECT * FROM __monthly_use');
      await conn.run('DROP TABLE __first_use; DROP TABLE __monthly_use');
      const firstDay = span.text.first_day?.[0];
      const months = firstDay ? usableMonths(firstDay, asOf, params.minCoveredDays) : [];
      const T = months.length;
      const M = MODULES.length;
      const position = new Map(months.map((m, t) => [m, t]));
      const active = new Float64Array(k * T);
      const used = new Float64Array(k * T * M);
      for (let r = 0; r < cols.rowCount; r++) {
        const t = position.get(cols.numeric.month![r]!);
        if (t === undefined) continue;
        const s = cols.numeric.seg![r]!;
        active[s * T + t] = cols.numeric.active![r]!;
        for (let j = 0; j < M; j++) used[(s * T + t) * M + j] = cols.numeric[`m${j}`]![r]!;
      }
      return { counts: { active, used }, months };
    });
}

/** The trends of a model trained without usage events: the segments, no months, no forecasts. */
export function emptyTrends(segmentIds: readonly number[], params: TrendParams): TrendsState {
  const none: MonthlyUse = { customer: new Int32Array(0), month: new Int32Array(0), mask: new Int32Array(0) };
  return fitTrends(none, new Int32Array(0), segmentIds, [], { ...params, horizonMonths: 0 });
}
