/**
 * The cluster stage's settings (config slice `cluster`): k selection, k-means restarts and
 * convergence, bootstrap stability, and the scoring flags. The rules say what the stage needs:
 * k-means needs k >= 2 clusters to compare, counts are whole, shares lie in [0, 1].
 */
import * as v from 'valibot';
import { crossCheck, integer, number, orNull, settingsOf, type Rule } from '../core/settings.ts';

/** Cluster-stage settings: the config slice `cluster`. */
export interface ClusterParams {
  /** Smallest k tried in selection. Default 2. */
  kMin: number;
  /** Largest k tried (capped at the sample size - 1). Default 12. */
  kMax: number;
  /** A fixed k skips selection (the train CLI's --k). Default null (select). */
  k: number | null;
  /** Seeded k-means++ starts per fit; the lowest inertia wins. Default 8. */
  restarts: number;
  /**
   * The final fit may spend this many rows × starts: small data (rows per start below
   * restartBudgetRows / restarts) gets more starts for the cost 8 starts have at 20,000 rows, up
   * to `maxRestarts`. Default 160,000 and 32: with 8 starts the Inc. 5000 list (5,000 rows, k = 12)
   * stopped 1.4% above scikit-learn's KMeans (n_init 20); with 32, at its optimum. Data past
   * 20,000 rows (the restart sample is 32,768) keeps `restarts`.
   */
  restartBudgetRows: number;
  maxRestarts: number;
  /** k-means iteration cap per start (kmeans.ts, which follows ml-kmeans's stopping rule). Default 300. */
  maxIterations: number;
  /** Convergence: no centroid moves more than this (squared Euclidean). Default 1e-6. */
  tolerance: number;
  /** Rows in the seeded sample k selection and stability run on (silhouette is O(n^2)). Default 4000. */
  selectionSample: number;
  /** A k is eligible only if its smallest segment holds at least this share of the sample. Default 0.03. */
  minSegmentShare: number;
  /**
   * A k is eligible only if its smallest segment holds at least this many customers of the sample
   * as well. Default 10: a card's medians and shares, and the classifier's held-out check, need
   * some customers behind them. It binds only below minSegmentSize / minSegmentShare (333)
   * customers; on larger data the share is the stricter test.
   */
  minSegmentSize: number;
  /** A k is eligible only if its bootstrap stability (mean ARI of refits) reaches this. Default 0.8. */
  minStability: number;
  /** Eligible silhouettes within this of the best count as tied; the smallest tied k wins. Default 0.01. */
  silhouetteTolerance: number;
  /** Column-shuffled copies of the sample the structure check fits at every k (structure.ts); 0 turns the check off. Default 3. */
  structureShuffles: number;
  /**
   * A k shows structure when its silhouette beats the shuffles' highest at that k by more than
   * this. Default 0.08: on 60 uniform random tables (30-300 customers, 2-8 features), where data
   * and null are alike, the largest excess over the 11 k was 0.063 (0.033 in 9 tables of 10); on
   * the generated demo data it is ~0.2.
   */
  structureMargin: number;
  /** Bootstrap refits per candidate k (fpc::clusterboot's B; its default 100 is too slow for 11 candidates). Default 20. */
  stabilityResamples: number;
  /** k-means++ starts per bootstrap refit (clusterboot's kmeansCBI uses 1). Default 1. */
  stabilityRestarts: number;
  /** A segment whose mean bootstrap Jaccard is below this is flagged unstable (Hennig's 0.6). Default 0.6. */
  unstableJaccard: number;
  /** Scoring: a customer whose distance margin (d2 - d1) / d2 is below this is flagged ambiguous. Default 0.1. */
  ambiguousMargin: number;
  /** Scoring: a customer farther from its centroid than this quantile of training distances is flagged novel. Default 0.99. */
  noveltyQuantile: number;
}

/** Default cluster settings: k from 2 to 12, chosen on a 4,000-row sample. */
export const defaultClusterParams: ClusterParams = {
  kMin: 2,
  kMax: 12,
  k: null,
  restarts: 8,
  restartBudgetRows: 160_000,
  maxRestarts: 32,
  maxIterations: 300,
  tolerance: 1e-6,
  selectionSample: 4000,
  minSegmentShare: 0.03,
  minSegmentSize: 10,
  minStability: 0.8,
  silhouetteTolerance: 0.01,
  structureShuffles: 3,
  structureMargin: 0.08,
  stabilityResamples: 20,
  stabilityRestarts: 1,
  unstableJaccard: 0.6,
  ambiguousMargin: 0.1,
  noveltyQuantile: 0.99,
};

/** The `cluster` slice: each key's rule, and kMin <= kMax. */
export const clusterParamsRule: Rule<ClusterParams> = v.pipe(
  settingsOf(defaultClusterParams, {
    kMin: integer(2),
    kMax: integer(2),
    k: orNull(integer(1)),
    restarts: integer(1),
    restartBudgetRows: integer(0),
    maxRestarts: integer(1),
    // At least one iteration: with 0 the k-means++ starts would be returned unrefined.
    maxIterations: integer(1),
    tolerance: number({ min: 0 }),
    selectionSample: integer(3),
    minSegmentShare: number({ min: 0, max: 1, maxOpen: true }),
    minSegmentSize: integer(1),
    // Mean ARI can dip below 0 (worse than chance), so any threshold up to 1 is meaningful.
    minStability: number({ min: -1, max: 1 }),
    silhouetteTolerance: number({ min: 0 }),
    structureShuffles: integer(0),
    structureMargin: number({ min: 0 }),
    stabilityResamples: integer(1),
    stabilityRestarts: integer(1),
    unstableJaccard: number({ min: 0, max: 1 }),
    ambiguousMargin: number({ min: 0, max: 1 }),
    noveltyQuantile: number({ min: 0, max: 1 }),
  }),
  crossCheck((p: ClusterParams) => (p.kMax < p.kMin ? [{ path: ['kMax'], message: `expected kMax >= kMin (${p.kMin}), got ${p.kMax}` }] : [])),
);
