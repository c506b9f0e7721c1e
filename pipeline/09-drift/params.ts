/**
 * The two config slices of monitoring and retraining: `drift` (read at every train: the reference
 * bins and the trend forecasts) and `retrain` (read by `finseg retrain` and the registry:
 * promotion gates, id matching, stability resampling, retention). Defaults sit next to their
 * meaning; `validateDriftParams` / `validateRetrainParams` name any value out of range.
 */
import { InputError } from '../core/errors.ts';
import { defaultMatchingParams, type MatchingParams } from './matching.ts';
import { defaultReferenceParams } from './reference.ts';
import { defaultTrendParams, type TrendParams } from './trends.ts';

/** The `drift` slice. */
export interface DriftMonitorParams {
  /** Quantile bins per numeric input in the reference (deciles, the usual PSI binning). Default 10. */
  bins: number;
  /** An input with PSI at or above this has drifted (the usual "significant shift" reading). Default 0.2. */
  psiThreshold: number;
  trends: TrendParams;
}

/** Promotion gates: a candidate is promoted only when every gate that applies passes. */
export interface GateParams {
  /** Candidate's mean silhouette (on its selection sample) must reach this. Default 0.15. */
  minSilhouette: number;
  /** Candidate's bootstrap stability (mean ARI of refits with its own k) must reach this. Default 0.6. */
  minStability: number;
  /** Production's held-out classifier accuracy minus the candidate's must not exceed this. Default 0.05. */
  maxAccuracyDrop: number;
  /** ARI between production's and the candidate's assignments of today's customers must reach this, unless drift is detected. Default 0.7. */
  minAgreement: number;
}

/** Bootstrap stability of a candidate, measured when its k selection did not record one. */
export interface StabilityParams {
  /** Bootstrap refits. Default 5. */
  resamples: number;
  /** Seeded sample of customers the refits run on. Default 2000. */
  sample: number;
  /** k-means++ starts per refit. Default 3. */
  restarts: number;
}

/** The `retrain` slice. */
export interface RetrainParams {
  /** Versions kept in the registry besides production and its rollback target, newest first. Default 10. */
  retention: number;
  gates: GateParams;
  matching: MatchingParams;
  stability: StabilityParams;
}

/** Default `drift` slice. */
export const defaultDriftMonitorParams: DriftMonitorParams = { bins: defaultReferenceParams.bins, psiThreshold: 0.2, trends: defaultTrendParams };

/** Default `retrain` slice. */
export const defaultRetrainParams: RetrainParams = {
  retention: 10,
  gates: { minSilhouette: 0.15, minStability: 0.6, maxAccuracyDrop: 0.05, minAgreement: 0.7 },
  matching: defaultMatchingParams,
  stability: { resamples: 5, sample: 2000, restarts: 3 },
};

const share = (v: number) => v >= 0 && v <= 1;

/** Rejects drift settings out of range, naming each. */
export function validateDriftParams(p: DriftMonitorParams): void {
  const problems: string[] = [];
  if (!(Number.isInteger(p.bins) && p.bins >= 2)) problems.push(`drift.bins must be an integer >= 2, got ${p.bins}`);
  if (!(p.psiThreshold > 0)) problems.push(`drift.psiThreshold must be > 0, got ${p.psiThreshold}`);
  if (!(Number.isInteger(p.trends.minMonths) && p.trends.minMonths >= 3)) problems.push(`drift.trends.minMonths must be an integer >= 3, got ${p.trends.minMonths}`);
  if (!(Number.isInteger(p.trends.horizonMonths) && p.trends.horizonMonths >= 1)) problems.push(`drift.trends.horizonMonths must be an integer >= 1, got ${p.trends.horizonMonths}`);
  if (!(Number.isInteger(p.trends.topModules) && p.trends.topModules >= 1)) problems.push(`drift.trends.topModules must be an integer >= 1, got ${p.trends.topModules}`);
  if (!(Number.isInteger(p.trends.minCoveredDays) && p.trends.minCoveredDays >= 1 && p.trends.minCoveredDays <= 28)) problems.push(`drift.trends.minCoveredDays must be an integer in 1..28, got ${p.trends.minCoveredDays}`);
  if (problems.length) throw new InputError('invalid drift settings', problems);
}

/** Rejects retrain settings out of range, naming each. */
export function validateRetrainParams(p: RetrainParams): void {
  const problems: string[] = [];
  if (!(Number.isInteger(p.retention) && p.retention >= 1)) problems.push(`retrain.retention must be an integer >= 1, got ${p.retention}`);
  const g = p.gates;
  if (!(g.minSilhouette >= -1 && g.minSilhouette <= 1)) problems.push(`retrain.gates.minSilhouette must be in [-1, 1], got ${g.minSilhouette}`);
  if (!(g.minStability >= -1 && g.minStability <= 1)) problems.push(`retrain.gates.minStability must be in [-1, 1], got ${g.minStability}`);
  if (!share(g.maxAccuracyDrop)) problems.push(`retrain.gates.maxAccuracyDrop must be in [0, 1], got ${g.maxAccuracyDrop}`);
  if (!(g.minAgreement >= -1 && g.minAgreement <= 1)) problems.push(`retrain.gates.minAgreement must be in [-1, 1], got ${g.minAgreement}`);
  if (!(p.matching.minJaccard > 0 && p.matching.minJaccard <= 1)) problems.push(`retrain.matching.minJaccard must be in (0, 1], got ${p.matching.minJaccard}`);
  if (!(Number.isInteger(p.stability.resamples) && p.stability.resamples >= 1)) problems.push(`retrain.stability.resamples must be an integer >= 1, got ${p.stability.resamples}`);
  if (!(Number.isInteger(p.stability.sample) && p.stability.sample >= 10)) problems.push(`retrain.stability.sample must be an integer >= 10, got ${p.stability.sample}`);
  if (!(Number.isInteger(p.stability.restarts) && p.stability.restarts >= 1)) problems.push(`retrain.stability.restarts must be an integer >= 1, got ${p.stability.restarts}`);
  if (problems.length) throw new InputError('invalid retrain settings', problems);
}
