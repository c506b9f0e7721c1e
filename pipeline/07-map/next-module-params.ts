/**
 * The `nextModule` config slice: how next best module defines adoption, finds peers and is
 * evaluated (docs/next-best-module.md). Defaults sit next to their meaning.
 */
import { integer, number, settingsOf, type Rule } from '../core/settings.ts';

/** Settings of next best module. */
export interface NextModuleParams {
  /**
   * A customer has adopted a module when the module's share of its usage events in the 90-day
   * window (the `share_<module>` feature) is at least this. Default 0.02: one event in fifty, so a
   * heavy user's stray click is not adoption while a light user's single use is.
   */
  minShare: number;
  /** Peers (most similar customers of the same segment) whose adoption is counted. Default 25. */
  neighbours: number;
  /** Modules recommended per customer (score's `next_modules`). Default 3. */
  topN: number;
  /** Training customers with module use kept per segment as its peer pool (a seeded sample). Default 2000. */
  sampleCap: number;
  /** The offline evaluation's horizon: adoption as of T − horizonDays is recommended from, first adoptions in (T − horizonDays, T] are the truth. Default 90. */
  horizonDays: number;
}

/** Default next-best-module settings. */
export const defaultNextModuleParams: NextModuleParams = { minShare: 0.02, neighbours: 25, topN: 3, sampleCap: 2000, horizonDays: 90 };

/** The `nextModule` slice's rule. */
export const nextModuleParamsRule: Rule<NextModuleParams> = settingsOf(defaultNextModuleParams, {
  minShare: number({ min: 0, max: 1 }),
  neighbours: integer(1, 1000),
  topN: integer(1, 20),
  sampleCap: integer(1, 1_000_000),
  horizonDays: integer(1, 3650),
});
