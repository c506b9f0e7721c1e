/**
 * The candidate forecasting models for a short monthly series, each fitted deterministically:
 * the naive family has nothing to fit, the exponential-smoothing family picks its smoothing
 * parameters on a fixed grid by the smallest sum of squared one-step-ahead errors (ties: the
 * first grid point), so the same series always gives the same model. Formulas follow Hyndman &
 * Athanasopoulos, "Forecasting: principles and practice" (3rd ed.), §5.2 (naive, seasonal naive,
 * drift) and §8.1–8.3 (ETS(A,N,N), ETS(A,Ad,N), ETS(A,A,A) in error-correction form), with simple
 * deterministic initial states (documented per model) instead of estimated ones.
 */

/** A candidate's name. `naive` and `naive_drift` are the seasonal ones with period 1. */
export type ForecastModelName = 'naive' | 'seasonal_naive' | 'naive_drift' | 'seasonal_naive_drift' | 'ses' | 'holt_damped' | 'holt_winters';

/** The candidates, simplest first: selection breaks a tie in MASE in favour of the earlier one. */
export const FORECAST_MODELS: readonly ForecastModelName[] = ['naive', 'seasonal_naive', 'naive_drift', 'seasonal_naive_drift', 'ses', 'holt_damped', 'holt_winters'];

/** A model fitted to y (shape (n)) with its forecast of the next `horizon` steps. */
export interface FittedForecast {
  model: ForecastModelName;
  /** The chosen smoothing parameters (alpha, beta, phi, gamma) or the drift per step; {} for the naive ones. */
  params: Record<string, number>;
  /** Point forecasts of steps n+1 .. n+horizon, shape (horizon). */
  steps: number[];
  /** One-step-ahead in-sample errors (y_t minus its forecast from t-1), where the model defines one. */
  residuals: number[];
  /** Parameters chosen from the data (for the residual variance's degrees of freedom). */
  fittedParams: number;
  /** ψ_0 .. ψ_{horizon-1}: the h-step error is Σ_{j<h} ψ_j ε_{n+h-j}, with ψ_0 = 1. */
  psi: number[];
  /**
   * Extra variance of the forecast mean over the horizon, in units of the innovation variance,
   * from estimated quantities the ψ weights leave out (the drift); 0 otherwise.
   */
  extraVariance: number;
}

/** Whether `model` can be fitted to `n` points with season length `period`. */
export function modelApplies(model: ForecastModelName, n: number, period: number): boolean {
  switch (model) {
    case 'naive':
      return n >= 2;
    case 'naive_drift':
      return n >= 3;
    // One full season to repeat; drift needs at least two seasonal differences.
    case 'seasonal_naive':
      return period > 1 && n >= period + 1;
    case 'seasonal_naive_drift':
      return period > 1 && n >= period + 2;
    case 'ses':
      return n >= 3;
    case 'holt_damped':
      return n >= 4;
    // Two full seasons initialise level, trend and seasonal indices, and at least one more is fitted.
    case 'holt_winters':
      return period > 1 && n >= 2 * period + 1;
    default:
      return assertUnreachable(model);
  }
}

function assertUnreachable(x: never): never {
  throw new Error(`unknown forecast model ${String(x)}`);
}

/** Fits one candidate to y (shape (n)) and forecasts `horizon` steps; the caller checks modelApplies first. */
export function fitForecastModel(model: ForecastModelName, y: readonly number[], horizon: number, period: number): FittedForecast {
  switch (model) {
    case 'naive':
      return seasonalNaive(y, horizon, 1, false);
    case 'seasonal_naive':
      return seasonalNaive(y, horizon, period, false);
    case 'naive_drift':
      return seasonalNaive(y, horizon, 1, true);
    case 'seasonal_naive_drift':
      return seasonalNaive(y, horizon, period, true);
    case 'ses':
      return bestOnGrid(ALPHAS.map((alpha) => ({ alpha })), (p) => holt(y, horizon, p.alpha, 0, 1, false), 'ses');
    case 'holt_damped':
      return bestOnGrid(
        ALPHAS_COARSE.flatMap((alpha) => BETAS.filter((beta) => beta <= alpha).flatMap((beta) => PHIS.map((phi) => ({ alpha, beta, phi })))),
        (p) => holt(y, horizon, p.alpha, p.beta, p.phi, true),
        'holt_damped',
      );
    case 'holt_winters':
      return bestOnGrid(
        ALPHAS_COARSE.flatMap((alpha) => BETAS.filter((beta) => beta <= alpha).flatMap((beta) => GAMMAS.filter((gamma) => gamma <= 1 - alpha).map((gamma) => ({ alpha, beta, gamma })))),
        (p) => holtWinters(y, horizon, period, p.alpha, p.beta, p.gamma),
        'holt_winters',
      );
    default:
      return assertUnreachable(model);
  }
}

/** The smoothing-parameter grids: fixed, so the fit is deterministic (ETS keeps β ≤ α and γ ≤ 1 − α). */
const ALPHAS = Array.from({ length: 19 }, (_, i) => Math.round((i + 1) * 5) / 100);
const ALPHAS_COARSE = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9];
const BETAS = [0.01, 0.05, 0.1, 0.2, 0.3];
const PHIS = [0.8, 0.9, 0.98];
const GAMMAS = [0.05, 0.1, 0.2, 0.3, 0.5];

function sse(residuals: readonly number[]): number {
  let s = 0;
  for (const e of residuals) s += e * e;
  return s;
}

/** The grid point with the smallest in-sample SSE; the first such point on a tie. */
function bestOnGrid<P extends Record<string, number>>(grid: readonly P[], fit: (p: P) => FittedForecast, model: ForecastModelName): FittedForecast {
  let best: FittedForecast | null = null;
  let bestSse = Number.POSITIVE_INFINITY;
  for (const p of grid) {
    const f = fit(p);
    const s = sse(f.residuals);
    if (s < bestSse) {
      best = f;
      bestSse = s;
    }
  }
  if (best === null) throw new Error(`fitForecastModel: empty grid for ${model}`);
  return best;
}

/**
 * Seasonal naive, optionally with drift (period 1: naive and naive with drift): ŷ_{n+h} =
 * y_{n+h-m(k+1)} + (k+1)·c, k = ⌊(h-1)/m⌋, where c is the mean seasonal difference
 * (y_t − y_{t−m}) when `drift`, else 0. The errors are the (drift-corrected) seasonal differences.
 */
function seasonalNaive(y: readonly number[], horizon: number, m: number, drift: boolean): FittedForecast {
  const n = y.length;
  const diffs: number[] = [];
  for (let t = m; t < n; t++) diffs.push(y[t]! - y[t - m]!);
  const c = drift ? diffs.reduce((s, d) => s + d, 0) / diffs.length : 0;
  const steps = Array.from({ length: horizon }, (_, i) => y[n - m + (i % m)]! + (Math.floor(i / m) + 1) * c);
  const psi = Array.from({ length: horizon }, (_, j) => (j === 0 || j % m === 0 ? 1 : 0));
  // The drift is estimated from the diffs.length differences: its error adds to every step
  // (k+1) times over, so the horizon mean carries (mean of k+1)² / diffs.length of it.
  const meanK = steps.reduce((s, _, i) => s + Math.floor(i / m) + 1, 0) / horizon;
  return {
    model: m === 1 ? (drift ? 'naive_drift' : 'naive') : drift ? 'seasonal_naive_drift' : 'seasonal_naive',
    params: drift ? { drift: c } : {},
    steps,
    residuals: diffs.map((d) => d - c),
    fittedParams: drift ? 1 : 0,
    psi,
    extraVariance: drift ? (meanK * meanK) / diffs.length : 0,
  };
}

/**
 * Holt's linear method with a damped trend, ETS(A,Ad,N) (damped false, β = 0, φ = 1: simple
 * exponential smoothing, ETS(A,N,N)). Initial state at t = 0: level y_0, trend y_1 − y_0 (0 for
 * SES). For t ≥ 1: ŷ_t = l + φb, e_t = y_t − ŷ_t, l ← l + φb + αe_t, b ← φb + βe_t. Forecast
 * ŷ_{n+h} = l + (φ + … + φ^h)·b; ψ_j = α + β(φ + … + φ^j).
 */
export function holt(y: readonly number[], horizon: number, alpha: number, beta: number, phi: number, damped: boolean): FittedForecast {
  let level = y[0]!;
  let trend = damped ? y[1]! - y[0]! : 0;
  const residuals: number[] = [];
  for (let t = 1; t < y.length; t++) {
    const e = y[t]! - (level + phi * trend);
    level = level + phi * trend + alpha * e;
    trend = phi * trend + beta * e;
    residuals.push(e);
  }
  const steps: number[] = [];
  const psi: number[] = [1];
  let cum = 0;
  for (let h = 1; h <= horizon; h++) {
    cum += phi ** h;
    steps.push(level + cum * trend);
    if (h < horizon) psi.push(alpha + beta * cum);
  }
  return damped
    ? { model: 'holt_damped', params: { alpha, beta, phi }, steps, residuals, fittedParams: 3, psi, extraVariance: 0 }
    : { model: 'ses', params: { alpha }, steps, residuals, fittedParams: 1, psi, extraVariance: 0 };
}

/**
 * Additive Holt-Winters, ETS(A,A,A) with season length m. Initial state from the first two
 * seasons: trend b = (mean of season 2 − mean of season 1) / m, level at t = m − 1 the first
 * season's mean moved on (m − 1)/2 steps of trend, seasonal index s_i = y_i − (mean of season 1
 * + (i − (m − 1)/2)·b). For t ≥ m: ŷ_t = l + b + s_{t−m}, l ← l + b + αe_t, b ← b + βe_t,
 * s_t = s_{t−m} + γe_t. Forecast ŷ_{n+h} = l + h·b + s of the same month last season;
 * ψ_j = α + βj + γ·[j mod m = 0].
 */
export function holtWinters(y: readonly number[], horizon: number, m: number, alpha: number, beta: number, gamma: number): FittedForecast {
  const mean = (from: number) => y.slice(from, from + m).reduce((s, v) => s + v, 0) / m;
  const first = mean(0);
  let trend = (mean(m) - first) / m;
  let level = first + ((m - 1) / 2) * trend;
  const season = Array.from({ length: m }, (_, i) => y[i]! - (first + (i - (m - 1) / 2) * trend));
  const residuals: number[] = [];
  for (let t = m; t < y.length; t++) {
    const s = season[t % m]!;
    const e = y[t]! - (level + trend + s);
    level = level + trend + alpha * e;
    trend = trend + beta * e;
    season[t % m] = s + gamma * e;
    residuals.push(e);
  }
  const n = y.length;
  const steps = Array.from({ length: horizon }, (_, i) => level + (i + 1) * trend + season[(n + i) % m]!);
  const psi = Array.from({ length: horizon }, (_, j) => (j === 0 ? 1 : alpha + beta * j + (j % m === 0 ? gamma : 0)));
  return { model: 'holt_winters', params: { alpha, beta, gamma }, steps, residuals, fittedParams: 3, psi, extraVariance: 0 };
}
