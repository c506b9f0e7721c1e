/**
 * A linear-trend forecast with a prediction interval: ordinary least squares of y on t = 0..n-1,
 * extrapolated to the next `horizon` steps. The interval is for the average of those steps (a
 * quarter, for monthly data): ŷ ± t(0.975, n − 2) · s · √(1/h + 1/n + (t̄_f − t̄)² / Sxx), where s
 * is the residual standard deviation, h the horizon, t̄_f the mean future t and Sxx = Σ(t − t̄)².
 * It assumes independent, equally noisy residuals around a straight line: simple, and honest
 * about what a year of monthly shares can say.
 */

/** Two-sided 95% Student t quantiles t(0.975, df) for df = 1..30. */
const T975 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042];

/** t(0.975, df): the table up to 30, then the Cornish–Fisher expansion around the normal quantile (within 0.0001 beyond 30). */
export function tQuantile975(df: number): number {
  if (!(df >= 1)) throw new Error(`tQuantile975: df must be >= 1, got ${df}`);
  if (df <= 30) return T975[Math.floor(df) - 1]!;
  const z = 1.959964;
  return z + (z ** 3 + z) / (4 * df) + (5 * z ** 5 + 16 * z ** 3 + 3 * z) / (96 * df * df);
}

/** A fitted linear trend and its forecast for the next `horizon` steps. */
export interface LinearForecast {
  /** Change of y per step. */
  slope: number;
  /** Fitted y at t = 0. */
  intercept: number;
  /** Residual standard deviation (n − 2 degrees of freedom). */
  residualSd: number;
  /** Observations used. */
  n: number;
  /** Fitted y at each of the next `horizon` steps, shape (horizon). */
  steps: number[];
  /** Forecast average over the horizon and its 95% prediction interval. */
  mean: number;
  low: number;
  high: number;
}

/** Fits y (shape (n), n >= 3) and forecasts the average of the next `horizon` steps; null when n < 3. */
export function linearTrendForecast(y: readonly number[], horizon: number): LinearForecast | null {
  const n = y.length;
  if (n < 3 || horizon < 1) return null;
  const tMean = (n - 1) / 2;
  let yMean = 0;
  for (const v of y) yMean += v;
  yMean /= n;
  let sxx = 0;
  let sxy = 0;
  for (let t = 0; t < n; t++) {
    sxx += (t - tMean) ** 2;
    sxy += (t - tMean) * (y[t]! - yMean);
  }
  const slope = sxy / sxx;
  const intercept = yMean - slope * tMean;
  let sse = 0;
  for (let t = 0; t < n; t++) sse += (y[t]! - intercept - slope * t) ** 2;
  const residualSd = Math.sqrt(sse / (n - 2));
  const steps = Array.from({ length: horizon }, (_, h) => intercept + slope * (n + h));
  const futureMean = n + (horizon - 1) / 2;
  const mean = intercept + slope * futureMean;
  const half = tQuantile975(n - 2) * residualSd * Math.sqrt(1 / horizon + 1 / n + (futureMean - tMean) ** 2 / sxx);
  return { slope, intercept, residualSd, n, steps, mean, low: mean - half, high: mean + half };
}
