/**
 * The two config slices of monitoring and retraining: `drift` (read at every train: the reference
 * bins and the trend forecasts; at every score: the limits of its drift check) and `retrain` (read by `finseg retrain` and the registry:
 * promotion gates, id matching, stability resampling, retention). Defaults sit next to their
 * meaning, and each key's rule in `driftMonitorParamsRule` / `retrainParamsRule`.
 */
import { integer, number, settingsOf, type Rule } from '../core/settings.ts';
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
  scoring: ScoringDriftParams;
}

/**
 * Limits of the drift check every `finseg score` runs against the bundle's reference; over any of
 * them the batch is drifted: a warning, and exit 5 with `score --strict`.
 */
export interface ScoringDriftParams {
  /** An input (feature, customers column or lens) with PSI at or above this has drifted: the usual "significant shift" reading. Default 0.2. */
  psiWarn: number;
  /**
   * Share of behaviour-scored customers flagged novel at or above which the batch has drifted.
   * Training has 1 − cluster.noveltyQuantile of them by construction (1%); 5% is five times that,
   * which a batch of 500 does not reach by chance (binomial: 1% ± 0.45%). Default 0.05.
   */
  novelShareWarn: number;
  /** Rise of the ambiguous share over training's (in share points) at or above which the batch has drifted: customers piling up between segments. Default 0.1. */
  ambiguousRiseWarn: number;
  /** PSI of the batch's nearest-centroid segment shares against training's at or above which the batch has drifted. Default 0.2. */
  segmentMixPsiWarn: number;
  /**
   * Fewest customers for the limits to be judged. PSI of a small sample is large by chance alone
   * (about (bins − 1) / n on average: 0.09 for 100 customers over deciles, with one feature in a
   * few dozen over 0.2); at 500 the chance PSI is about 0.02. A smaller batch is measured and
   * reported, never called drifted. Default 500.
   */
  minCustomers: number;
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
export const defaultDriftMonitorParams: DriftMonitorParams = {
  bins: defaultReferenceParams.bins,
  psiThreshold: 0.2,
  trends: defaultTrendParams,
  scoring: { psiWarn: 0.2, novelShareWarn: 0.05, ambiguousRiseWarn: 0.1, segmentMixPsiWarn: 0.2, minCustomers: 500 },
};

/** Default `retrain` slice. */
export const defaultRetrainParams: RetrainParams = {
  retention: 10,
  gates: { minSilhouette: 0.15, minStability: 0.6, maxAccuracyDrop: 0.05, minAgreement: 0.7 },
  matching: defaultMatchingParams,
  stability: { resamples: 5, sample: 2000, restarts: 3 },
};

/** The `drift` slice. */
export const driftMonitorParamsRule: Rule<DriftMonitorParams> = settingsOf(defaultDriftMonitorParams, {
  bins: integer(2),
  psiThreshold: number({ min: 0, minOpen: true }),
  trends: settingsOf(defaultDriftMonitorParams.trends, {
    minMonths: integer(3),
    horizonMonths: integer(1),
    topModules: integer(1),
    // Every calendar month has at least 28 days to cover.
    minCoveredDays: integer(1, 28),
    holdoutMonths: integer(1),
    // 1 turns the seasonal candidates off.
    seasonPeriod: integer(1),
  }),
  scoring: settingsOf(defaultDriftMonitorParams.scoring, {
    psiWarn: number({ min: 0, minOpen: true }),
    novelShareWarn: number({ min: 0, max: 1, minOpen: true }),
    ambiguousRiseWarn: number({ min: 0, max: 1, minOpen: true }),
    segmentMixPsiWarn: number({ min: 0, minOpen: true }),
    minCustomers: integer(1),
  }),
});

/** The `retrain` slice. */
export const retrainParamsRule: Rule<RetrainParams> = settingsOf(defaultRetrainParams, {
  retention: integer(1),
  gates: settingsOf(defaultRetrainParams.gates, {
    // Silhouette and ARI range over [-1, 1].
    minSilhouette: number({ min: -1, max: 1 }),
    minStability: number({ min: -1, max: 1 }),
    maxAccuracyDrop: number({ min: 0, max: 1 }),
    minAgreement: number({ min: -1, max: 1 }),
  }),
  matching: settingsOf(defaultRetrainParams.matching, { minJaccard: number({ min: 0, max: 1, minOpen: true }) }),
  stability: settingsOf(defaultRetrainParams.stability, { resamples: integer(1), sample: integer(10), restarts: integer(1) }),
});
