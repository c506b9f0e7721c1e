/**
 * The schema of trends.json (09-drift/trends.ts): monthly module adoption and usage volume per
 * segment, each series' backtested model, forecast and verdict. Version 2; a version-1 file (a
 * straight line per series, no backtest) is rejected by loadModel with "retrain needed".
 */
import * as v from 'valibot';
import { FORECAST_MODELS } from '../09-drift/forecast-models.ts';
import type { TrendsState } from '../09-drift/trends.ts';

const integer0 = v.pipe(v.number(), v.integer('expected an integer'), v.minValue(0, 'expected an integer >= 0'));
const nullableNumber = v.nullable(v.number());
const model = v.picklist(FORECAST_MODELS);

const forecast = v.object({
  months: v.array(v.string()),
  mean: v.number(),
  low: v.number(),
  high: v.number(),
  model,
  params: v.record(v.string(), v.number()),
  mase: nullableNumber,
  candidates: v.array(v.object({ model, mase: nullableNumber })),
  reference: v.number(),
  slopePerMonth: v.number(),
  verdict: v.picklist(['rising', 'falling', 'flat']),
});

const mover = v.object({ module: v.string(), slopePerMonth: v.number(), latest: nullableNumber, forecast });

/** trends.json: monthly module adoption and usage volume per segment, and their backtested forecasts. */
export const trendsSchema = v.object({
  kind: v.literal('finseg.trends'),
  version: v.literal(2),
  method: v.string(),
  intervalLevel: v.literal(0.95),
  months: v.array(v.string()),
  horizon: v.array(v.string()),
  backtest: v.object({ holdoutMonths: integer0, seasonPeriod: integer0, seasonal: v.boolean(), note: v.string() }),
  segments: v.array(
    v.object({
      segmentIndex: integer0,
      segmentId: integer0,
      activeCustomers: v.array(v.number()),
      modules: v.array(v.object({ module: v.string(), adoption: v.array(nullableNumber), slopePerMonth: nullableNumber, forecast: v.nullable(forecast) })),
      volume: v.object({ eventsPerActive: v.array(nullableNumber), forecast: v.nullable(forecast) }),
      rising: v.array(mover),
      falling: v.array(mover),
    }),
  ),
}) satisfies v.GenericSchema<unknown, TrendsState>;
