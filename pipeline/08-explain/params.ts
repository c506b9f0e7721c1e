/** The explain stage's settings (config slice `explain`): how far the threshold tree may grow, and its sample. */
import { integer, number, settingsOf, type Rule } from '../core/settings.ts';

/** Explain-stage settings: the config slice `explain`. */
export interface ExplainParams {
  /** The tree may grow to this many leaves per segment (1 = plain IMM, one rule per segment). Default 2. */
  maxLeavesPerSegment: number;
  /** A leaf beyond IMM's one per segment must move at least this share of customers into a leaf of their own segment. Default 0.003. */
  minLeafGain: number;
  /** The tree is fitted on a seeded sample of at most this many customers; fidelity is measured on all. Default 50000. */
  fitSample: number;
}

/** Default explain-stage settings. */
export const defaultExplainParams: ExplainParams = { maxLeavesPerSegment: 2, minLeafGain: 0.003, fitSample: 50_000 };

/** The `explain` slice. */
export const explainParamsRule: Rule<ExplainParams> = settingsOf(defaultExplainParams, {
  maxLeavesPerSegment: integer(1),
  minLeafGain: number({ min: 0, max: 1, minOpen: true }),
  // The tree needs two customers to split.
  fitSample: integer(2),
});
