/**
 * The churn model's settings: the config slice `churn` (docs/churn.md).
 */
import type { ProfileTableParams } from '../02-features/params.ts';
import { boolean, integer, listOf, number, orNull, settingsOf, text, type Rule } from '../core/settings.ts';

/** Settings of the churn propensity model (05-classify/churn.ts). */
export interface ChurnParams {
  /** Fit a churn model when the export has a label (a subscriptions table or `labelColumn`); false = never. */
  enabled: boolean;
  /** h: a subscriptions label is "churned in (T − h, T]", the features are measured as of T − h. */
  horizonDays: number;
  /** A profile table's churn label column (left out of the features); null = none. */
  labelColumn: string | null;
  /** Values of `labelColumn` that mean churned, compared trimmed and case-insensitively; any other non-blank value is "stayed". */
  positiveValues: string[];
  /** Ridge strength on the standardised expanded features (scikit-learn's C = 1 / l2). */
  l2: number;
  /** Stratified cross-validation folds of the backtest. */
  folds: number;
  /** Quantile bins per measure in the feature expansion (thresholds at 1/bins ..); 1 = none. */
  bins: number;
  /** The features most correlated with the label that are multiplied pairwise; 0 = none. */
  interactions: number;
  /** Fewer churners (or fewer stayers) than this among the training rows: no model, said in the log. */
  minPositives: number;
  /**
   * The model is fitted and backtested on at most this many training rows, a seeded sample
   * stratified by the label (as the segment classifier is fitted on a sample): six Newton fits
   * cost O(rows × features²) each, a few seconds at 20,000 rows. 0 = every row.
   */
  sampleSize: number;
}

/**
 * Defaults: l2 = 10 (scikit-learn's C = 0.1), and of the expansion only log1p of each measure. On
 * the Telco sample (test/reference/churn_reference.py) log1p lifts scikit-learn's 5-fold AUC on
 * finseg's encoding from 0.845 to 0.850; quantile thresholds (bins 3) and the top 3 features'
 * products add nothing there (0.850 with or without), and C between 0.01 and 1 moves the AUC by
 * under 0.001. Both stay available for exports where a measure acts at a threshold.
 */
export const defaultChurnParams: ChurnParams = {
  enabled: true,
  horizonDays: 90,
  labelColumn: null,
  positiveValues: ['yes', 'true', '1', 'churned'],
  l2: 10,
  folds: 5,
  bins: 1,
  interactions: 0,
  minPositives: 10,
  sampleSize: 40_000,
};

/** The `churn` slice. */
export const churnParamsRule: Rule<ChurnParams> = settingsOf(defaultChurnParams, {
  enabled: boolean(),
  horizonDays: integer(1),
  labelColumn: orNull(text('a column name', true)),
  positiveValues: listOf(text('a value', true), 'label values'),
  l2: number({ min: 0 }),
  folds: integer(2, 20),
  bins: integer(1, 20),
  interactions: integer(0, 20),
  minPositives: integer(1),
  sampleSize: integer(0),
});

/** The profile table's settings with the churn label column left out of the features (a label is never a feature or a clustering input). */
export function profileWithoutLabel(profile: ProfileTableParams, churn: ChurnParams): ProfileTableParams {
  const label = churn.labelColumn;
  if (label === null || profile.exclude.includes(label)) return profile;
  return { ...profile, exclude: [...profile.exclude, label], categorical: profile.categorical.filter((c) => c !== label) };
}
