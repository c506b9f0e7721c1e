/**
 * Choosing a forecast per series by backtest, and saying whether it moves. The last `holdout`
 * points are held out, every candidate that applies to the rest is fitted on it and forecasts
 * them; each is scored by MASE, its mean absolute error over the held-out points divided by the
 * in-sample mean absolute error of the seasonal naive forecast (lag = the season length when the
 * fitted part has more than one season, else lag 1: the naive forecast). The lowest MASE wins
 * (ties: the simpler model, FORECAST_MODELS order), is refitted on the whole series and forecasts
 * the next `horizon` steps; the 95% interval of their mean comes from the model's own error
 * weights (ψ) and its in-sample one-step residual variance, with Student t quantiles.
 *
 * The verdict is "rising" or "falling" only when the change is significant twice over: the
 * interval of the next quarter's mean lies wholly above (below) the mean of the last `horizon`
 * observed months (of the same months one season earlier, when the series spans two seasons),
 * and the least-squares slope over the whole series (with month-of-season intercepts, when it
 * spans two seasons) differs from 0 at the 5% level (two-sided t test) in the same direction.
 * Anything else is "flat".
 */
import { FORECAST_MODELS, fitForecastModel, modelApplies, type FittedForecast, type ForecastModelName } from './forecast-models.ts';
import { tQuantile975 } from './forecast.ts';

/** Backtest and forecast settings of a series. */
export interface SelectionParams {
  /** Points held out for the backtest. */
  holdout: number;
  /** Steps forecast after the refit (their mean is reported). */
  horizon: number;
  /** Season length in steps (12 for monthly data). */
  period: number;
}

/** A candidate's backtest score. */
export interface CandidateScore {
  model: ForecastModelName;
  /** Mean absolute error over the held-out points. */
  mae: number;
  /** mae / the naive scale; null when the scale is 0 (a constant fitted part). */
  mase: number | null;
}

/** The direction of a series' change, when significant. */
export type TrendVerdict = 'rising' | 'falling' | 'flat';

/** The chosen model of a series, its backtest and its forecast. */
export interface SelectedForecast {
  model: ForecastModelName;
  /** The refitted model's parameters. */
  params: Record<string, number>;
  /** Its backtest MASE (null when the naive scale is 0). */
  mase: number | null;
  /** Every candidate that applied, in FORECAST_MODELS order. */
  candidates: CandidateScore[];
  /** Whether the seasonal candidates could be fitted (the fitted part spans more than one season). */
  seasonal: boolean;
  /** Forecast steps, shape (horizon). */
  steps: number[];
  /** Forecast mean over the horizon and its 95% interval (unclipped). */
  mean: number;
  low: number;
  high: number;
  /** The observed mean the forecast is compared with: the last `horizon` points, or the same points one season earlier when the series spans two seasons. */
  lastMean: number;
  /** Least-squares slope per step over the whole series (trendTest), and whether it differs from 0 at the 5% level. */
  slope: number;
  slopeSignificant: boolean;
  verdict: TrendVerdict;
}

/** Mean absolute error of y_t − y_{t−lag} over the series: the MASE scale. */
export function naiveScale(y: readonly number[], lag: number): number {
  let s = 0;
  for (let t = lag; t < y.length; t++) s += Math.abs(y[t]! - y[t - lag]!);
  return s / (y.length - lag);
}

/** MASE of `forecast` against `actual` (same length), scaled by the in-sample naive error of `train` at `lag`; null when that scale is 0. */
export function mase(train: readonly number[], actual: readonly number[], forecast: readonly number[], lag: number): number | null {
  const scale = naiveScale(train, lag);
  const mae = meanAbsError(actual, forecast);
  return scale > 0 ? mae / scale : null;
}

function meanAbsError(actual: readonly number[], forecast: readonly number[]): number {
  let s = 0;
  for (let i = 0; i < actual.length; i++) s += Math.abs(actual[i]! - forecast[i]!);
  return s / actual.length;
}

/**
 * 95% interval of the mean of the fitted model's `horizon` steps: variance σ²/H² · Σ_k c_k² with
 * c_k = Σ_{j=0}^{H−k} ψ_j (the weight of innovation n+k in the mean), plus the model's extra
 * variance; σ² = SSE / (residuals − fitted parameters), t quantile on those degrees of freedom.
 */
export function meanInterval(fit: FittedForecast): { mean: number; low: number; high: number } {
  const H = fit.steps.length;
  const mean = fit.steps.reduce((s, v) => s + v, 0) / H;
  const df = Math.max(1, fit.residuals.length - fit.fittedParams);
  const sigma2 = fit.residuals.reduce((s, e) => s + e * e, 0) / df;
  let weights = 0;
  for (let k = 1; k <= H; k++) {
    let c = 0;
    for (let j = 0; j <= H - k; j++) c += fit.psi[j]!;
    weights += c * c;
  }
  const variance = sigma2 * (weights / (H * H) + fit.extraVariance);
  const half = tQuantile975(df) * Math.sqrt(variance);
  return { mean, low: mean - half, high: mean + half };
}

/** The candidates that apply to n points, in FORECAST_MODELS order. */
function candidatesFor(n: number, period: number): ForecastModelName[] {
  return FORECAST_MODELS.filter((m) => modelApplies(m, n, period));
}

/**
 * Backtests every candidate on y (shape (n)), refits the winner on all of y and forecasts; null
 * when the fitted part is too short for any candidate (n − holdout < 2) or y is shorter than the horizon.
 */
export function selectForecast(y: readonly number[], params: SelectionParams): SelectedForecast | null {
  const { holdout, horizon, period } = params;
  const nFit = y.length - holdout;
  if (horizon < 1 || holdout < 1 || nFit < 2 || y.length < horizon || y.length < 3) return null;
  const train = y.slice(0, nFit);
  const actual = y.slice(nFit);
  const names = candidatesFor(nFit, period);
  const lag = nFit > period ? period : 1;
  const scale = naiveScale(train, lag);
  const candidates: CandidateScore[] = names.map((model) => {
    const mae = meanAbsError(actual, fitForecastModel(model, train, holdout, period).steps);
    return { model, mae, mase: scale > 0 ? mae / scale : null };
  });
  // The scale is shared by every candidate, so ranking by MAE ranks by MASE (and still works when the scale is 0).
  let best = candidates[0]!;
  for (const c of candidates) if (c.mae < best.mae - 1e-12) best = c;
  const fit = fitForecastModel(best.model, y, horizon, period);
  const interval = meanInterval(fit);
  const seasonalTest = y.length >= 2 * period && period > 1;
  // A seasonal series is compared with the same months one season earlier, so a seasonal swing is not read as a change.
  const from = seasonalTest ? y.length - period : y.length - horizon;
  const lastMean = y.slice(from, from + horizon).reduce((s, v) => s + v, 0) / horizon;
  const { slope, significant: slopeSignificant } = trendTest(y, seasonalTest ? period : 1);
  const verdict: TrendVerdict = slopeSignificant && slope > 0 && interval.low > lastMean ? 'rising' : slopeSignificant && slope < 0 && interval.high < lastMean ? 'falling' : 'flat';
  return { model: fit.model, params: fit.params, mase: best.mase, candidates, seasonal: names.some((m) => m.startsWith('seasonal') || m === 'holt_winters'), steps: fit.steps, ...interval, lastMean, slope, slopeSignificant, verdict };
}

/**
 * The least-squares slope of y on t and whether it differs from 0 at the 5% level (two-sided t
 * test). With `period` > 1 the regression also has one intercept per position in the season
 * (month-of-year dummies), fitted by centring y and t within each position (Frisch–Waugh), so a
 * seasonal swing is not read as a trend; residual degrees of freedom n − period − 1.
 */
export function trendTest(y: readonly number[], period: number): { slope: number; significant: boolean } {
  const n = y.length;
  const m = Math.max(1, period);
  const tBar = new Float64Array(m);
  const yBar = new Float64Array(m);
  const count = new Float64Array(m);
  for (let t = 0; t < n; t++) {
    tBar[t % m]! += t;
    yBar[t % m]! += y[t]!;
    count[t % m]!++;
  }
  let sxx = 0;
  let sxy = 0;
  for (let t = 0; t < n; t++) {
    const dt = t - tBar[t % m]! / count[t % m]!;
    sxx += dt * dt;
    sxy += dt * (y[t]! - yBar[t % m]! / count[t % m]!);
  }
  const df = n - m - 1;
  if (df < 1 || sxx === 0) return { slope: 0, significant: false };
  const slope = sxy / sxx;
  let sse = 0;
  for (let t = 0; t < n; t++) {
    const dt = t - tBar[t % m]! / count[t % m]!;
    sse += (y[t]! - yBar[t % m]! / count[t % m]! - slope * dt) ** 2;
  }
  const se = Math.sqrt(sse / df / sxx);
  // A perfect line (se 0) is significant whenever it is not flat.
  return { slope, significant: se === 0 ? slope !== 0 : Math.abs(slope) / se > tQuantile975(df) };
}
