/**
 * Module adoption and usage volume trends per segment, stored in every bundle as `trends.json`.
 * For each segment of the model and each catalog module: the monthly adoption share (of the
 * segment's customers active in a month, the share that used the module that month); for each
 * segment, the monthly usage volume (events per customer with any usage that month). Each series
 * gets the forecast model its backtest chose, the next quarter's mean with a 95% interval and a
 * verdict (rising / falling / flat) that is rising or falling only when significant
 * (forecast-select.ts). Segment membership is today's, so a series reads "how today's segment
 * took up each module over the past year".
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { MODULES } from '../01-ingest/contract.ts';
import { fillTempTable, readColumns, registerCustomerIndex, sqlString } from '../core/duck.ts';
import { selectForecast, type TrendVerdict } from './forecast-select.ts';
import type { ForecastModelName } from './forecast-models.ts';

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
  /** Last months held out to backtest the candidate models. Default 3. */
  holdoutMonths: number;
  /** Season length in months; seasonal candidates need more than one season in the fitted part. Default 12. */
  seasonPeriod: number;
}

/** Default `drift.trends` slice. */
export const defaultTrendParams: TrendParams = { minMonths: 6, horizonMonths: 3, topModules: 3, minCoveredDays: 25, holdoutMonths: 3, seasonPeriod: 12 };

/** Forecast of one series: the chosen model, its backtest, the next quarter's mean and 95% interval (clipped to the series' range) and the verdict. */
export interface AdoptionForecast {
  /** The forecast months, 'YYYY-MM'. */
  months: string[];
  mean: number;
  low: number;
  high: number;
  /** The model the backtest chose and its refitted parameters. */
  model: ForecastModelName;
  params: Record<string, number>;
  /** Its MASE on the held-out months (null when the naive scale is 0). */
  mase: number | null;
  /** MASE of every candidate that could be fitted (null as above). */
  candidates: { model: ForecastModelName; mase: number | null }[];
  /** The observed mean the forecast is compared with (the last quarter, or the same quarter a season earlier). */
  reference: number;
  /** Least-squares slope per month of the trend test. */
  slopePerMonth: number;
  /** Rising or falling only when significant at 5%; flat otherwise. */
  verdict: TrendVerdict;
}

/** A series' entry in the rising or falling list. */
export interface TrendMover {
  module: string;
  slopePerMonth: number;
  latest: number | null;
  forecast: AdoptionForecast;
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
  /** Usage volume: events per customer with any usage each month, aligned with TrendsState.months (null: nobody active), and its forecast. */
  volume: { eventsPerActive: (number | null)[]; forecast: AdoptionForecast | null };
  /** Modules whose verdict is rising, largest forecast change first, at most topModules. */
  rising: TrendMover[];
  /** Modules whose verdict is falling, largest forecast drop first, at most topModules. */
  falling: TrendMover[];
}

/** Everything stored in `trends.json`. */
export interface TrendsState {
  kind: 'finseg.trends';
  version: 2;
  /** The method in words, for readers of the JSON. */
  method: string;
  /** Level of the prediction intervals. */
  intervalLevel: 0.95;
  /** The usable calendar months, 'YYYY-MM', oldest first. */
  months: string[];
  /** The forecast months. */
  horizon: string[];
  /** How the models were chosen: months held out, the season length, whether it could be estimated and why not. */
  backtest: { holdoutMonths: number; seasonPeriod: number; seasonal: boolean; note: string };
  segments: SegmentTrends[];
}

/** Kind and version of trends.json. */
export const TRENDS_KIND = 'finseg.trends';
export const TRENDS_VERSION = 2;

const METHOD =
  'adoption = share of the segment customers active in a month that used the module that month; volume = usage events per customer with any usage that month; ' +
  'per series, candidates (naive, seasonal naive, each with drift, simple and damped Holt exponential smoothing, additive Holt-Winters) are backtested on the held-out last months ' +
  'and the lowest MASE (against the seasonal naive scale) is refitted and forecasts the next quarter, with a 95% interval from its own error weights; ' +
  'rising / falling only when that interval excludes the last observed quarter and the least-squares trend is significant at 5%';

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

/** Per-customer monthly module use: row r is (customer index, month index, bit mask of catalog modules used, usage events that month). */
export interface MonthlyUse {
  customer: Int32Array;
  month: Int32Array;
  mask: Int32Array;
  /** Events of row r (any module); without it the volume series are left empty. */
  events?: Int32Array;
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
  const users = new Float64Array(k * T);
  const events = new Float64Array(k * T);
  for (let r = 0; r < use.customer.length; r++) {
    const t = position.get(use.month[r]!);
    if (t === undefined) continue;
    const s = segmentIndex[use.customer[r]!]!;
    const mask = use.mask[r]!;
    users[s * T + t]!++;
    events[s * T + t]! += use.events?.[r] ?? 0;
    if (mask === 0) continue;
    active[s * T + t]!++;
    for (let j = 0; j < M; j++) if (mask & (1 << j)) used[(s * T + t) * M + j]!++;
  }
  return trendsFromCounts(use.events ? { active, used, users, events } : { active, used }, segmentIds, months, params);
}

/**
 * Customers with catalog-module use per (segment, month), shape (k, T), users of each module,
 * shape (k, T, M), and optionally customers with any usage and their events, shape (k, T) each.
 */
export interface MonthlyCounts {
  active: Float64Array;
  used: Float64Array;
  users?: Float64Array;
  events?: Float64Array;
}

/** Why the seasonal candidates could or could not be fitted, for readers of trends.json and the report. */
function seasonNote(months: number, params: TrendParams): { seasonal: boolean; note: string } {
  // Transaction-only exports, profile tables and feature tables have no usage events, hence no months.
  if (months === 0) return { seasonal: false, note: 'no usage events: no monthly series to forecast' };
  const fitted = months - params.holdoutMonths;
  if (fitted > params.seasonPeriod)
    return { seasonal: true, note: `${months} months: the ${params.seasonPeriod}-month season is among the candidates (seasonal naive${fitted >= 2 * params.seasonPeriod + 1 ? ', Holt-Winters' : ''})` };
  return {
    seasonal: false,
    note: `${months} months leave ${Math.max(0, fitted)} to fit after holding out ${params.holdoutMonths}: a ${params.seasonPeriod}-month season cannot be estimated from less than one full season, so only non-seasonal candidates are used`,
  };
}

/** The chosen forecast of one gap-free series, clipped to [low, high]; null when it is too short or has a gap. */
function forecastSeries(series: readonly (number | null)[], horizon: string[], params: TrendParams, bounds: [number, number]): AdoptionForecast | null {
  const observed = series.filter((x): x is number => x !== null);
  // A gap (a month with nobody active) breaks the equal spacing the models assume: no forecast then.
  if (observed.length !== series.length || observed.length < params.minMonths || params.horizonMonths < 1) return null;
  const f = selectForecast(observed, { holdout: params.holdoutMonths, horizon: params.horizonMonths, period: params.seasonPeriod });
  if (!f) return null;
  const clip = (x: number) => Math.min(bounds[1], Math.max(bounds[0], x));
  return {
    months: horizon,
    mean: clip(f.mean),
    low: clip(f.low),
    high: clip(f.high),
    model: f.model,
    params: f.params,
    mase: f.mase,
    candidates: f.candidates.map((c) => ({ model: c.model, mase: c.mase })),
    reference: f.lastMean,
    slopePerMonth: f.slope,
    verdict: f.verdict,
  };
}

/** The modules of one verdict, largest forecast change first, at most topModules. */
function movers(modules: readonly ModuleTrend[], verdict: TrendVerdict, top: number): TrendMover[] {
  const change = (m: ModuleTrend) => Math.abs(m.forecast!.mean - m.forecast!.reference);
  return modules
    .filter((m) => m.forecast?.verdict === verdict)
    .sort((a, b) => change(b) - change(a) || a.module.localeCompare(b.module))
    .slice(0, top)
    .map((m) => ({ module: m.module, slopePerMonth: m.forecast!.slopePerMonth, latest: m.adoption[m.adoption.length - 1] ?? null, forecast: m.forecast! }));
}

/** The series and forecasts from the monthly counts (fitTrends counts them from per-customer rows first). */
export function trendsFromCounts(counts: MonthlyCounts, segmentIds: readonly number[], months: readonly number[], params: TrendParams): TrendsState {
  const { active, used, users, events } = counts;
  const T = months.length;
  const M = MODULES.length;
  const last = months.length ? months[months.length - 1]! : 0;
  const horizon = Array.from({ length: params.horizonMonths }, (_, h) => monthLabel(last + 1 + h));
  const segments: SegmentTrends[] = segmentIds.map((segmentId, s) => {
    const activeCustomers = Array.from({ length: T }, (_, t) => active[s * T + t]!);
    const modules: ModuleTrend[] = MODULES.map((module, j) => {
      const adoption = activeCustomers.map((a, t) => (a === 0 ? null : used[(s * T + t) * M + j]! / a));
      const forecast = forecastSeries(adoption, horizon, params, [0, 1]);
      return { module, adoption, slopePerMonth: forecast ? forecast.slopePerMonth : null, forecast };
    });
    const eventsPerActive = Array.from({ length: T }, (_, t) => (users && events && users[s * T + t]! > 0 ? events[s * T + t]! / users[s * T + t]! : null));
    const volume = { eventsPerActive, forecast: users && events ? forecastSeries(eventsPerActive, horizon, params, [0, Number.POSITIVE_INFINITY]) : null };
    return { segmentIndex: s, segmentId, activeCustomers, modules, volume, rising: movers(modules, 'rising', params.topModules), falling: movers(modules, 'falling', params.topModules) };
  });
  const backtest = { holdoutMonths: params.holdoutMonths, seasonPeriod: params.seasonPeriod, ...seasonNote(T, params) };
  return { kind: TRENDS_KIND, version: TRENDS_VERSION, method: METHOD, intervalLevel: 0.95, months: months.map(monthLabel), horizon, backtest, segments };
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
      SELECT s.seg, u.month, count(*) FILTER (WHERE mask <> 0) AS active, count(*) AS users, sum(events)::DOUBLE AS events, ${perModule}
        FROM (SELECT customer_id, (year(ts) * 12 + month(ts) - 1)::INTEGER AS month,
                     coalesce(bit_or(1 << (list_position(${catalog}, module) - 1)), 0)::INTEGER AS mask,
                     count(*) AS events
                FROM usage_events
               WHERE ts < ${end}
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
      const users = new Float64Array(k * T);
      const events = new Float64Array(k * T);
      for (let r = 0; r < cols.rowCount; r++) {
        const t = position.get(cols.numeric.month![r]!);
        if (t === undefined) continue;
        const s = cols.numeric.seg![r]!;
        active[s * T + t] = cols.numeric.active![r]!;
        users[s * T + t] = cols.numeric.users![r]!;
        events[s * T + t] = cols.numeric.events![r]!;
        for (let j = 0; j < M; j++) used[(s * T + t) * M + j] = cols.numeric[`m${j}`]![r]!;
      }
      return { counts: { active, used, users, events }, months };
    });
}

/** The trends of a model trained without usage events: the segments, no months, no forecasts. */
export function emptyTrends(segmentIds: readonly number[], params: TrendParams): TrendsState {
  const none: MonthlyUse = { customer: new Int32Array(0), month: new Int32Array(0), mask: new Int32Array(0) };
  return fitTrends(none, new Int32Array(0), segmentIds, [], { ...params, horizonMonths: 0 });
}
