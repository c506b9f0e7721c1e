/**
 * The preprocess stage's settings (config slice `preprocess`): the clip quantiles, the log rule
 * and the PCA rule. Quantiles and the variance target are shares; the component cap is a count.
 */
import * as v from 'valibot';
import { crossCheck, integer, number, settingsOf, type Rule } from '../core/settings.ts';

/** Preprocess-stage settings: the config slice `preprocess`. */
export interface PreprocessParams {
  /** Lower and upper quantile of each column's observed (post-log) values to clip at. Default [0.005, 0.995]. */
  clipQuantiles: [number, number];
  /** A column with no negative values whose sample skewness (Fisher-Pearson g1) exceeds this is log1p-transformed. Default 1. */
  logSkewThreshold: number;
  /** Keep the fewest principal components whose cumulative explained variance reaches this share. Default 0.9. */
  pcaVarianceTarget: number;
  /** Upper bound on the components kept (at least 2 are always kept when there are 2 features). Default 16. */
  maxComponents: number;
}

/** Default preprocess settings: clip at the 0.5% tails, log1p above skewness 1, the fewest components reaching 90% variance, at most 16. */
export const defaultPreprocessParams: PreprocessParams = {
  clipQuantiles: [0.005, 0.995],
  logSkewThreshold: 1,
  pcaVarianceTarget: 0.9,
  maxComponents: 16,
};

/** The `preprocess` slice: each key's rule, and low <= high clip quantile. */
export const preprocessParamsRule: Rule<PreprocessParams> = v.pipe(
  settingsOf(defaultPreprocessParams, {
    clipQuantiles: v.strictTuple([number({ min: 0, max: 1 }), number({ min: 0, max: 1 })], (issue) => `expected [low, high] quantiles in [0, 1], got ${JSON.stringify(issue.input)}`),
    logSkewThreshold: number(),
    pcaVarianceTarget: number({ min: 0, max: 1, minOpen: true }),
    maxComponents: integer(1),
  }),
  crossCheck((p: PreprocessParams) => {
    const [lo, hi] = p.clipQuantiles;
    return lo > hi ? [{ path: ['clipQuantiles'], message: `expected low <= high, got [${lo}, ${hi}]` }] : [];
  }),
);
