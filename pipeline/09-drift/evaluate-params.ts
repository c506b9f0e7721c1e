/**
 * The optional `evaluate` config slice (`finseg evaluate`): how an action's effect is measured.
 * Absent from a config it stays absent (a trained bundle's stored config does not change), and the
 * evaluate job fills these defaults.
 */
import * as v from 'valibot';
import { integer, listOf, settingsOf, text, userMap, type Rule } from '../core/settings.ts';

/** The `evaluate` slice. */
export interface EvaluateParams {
  /** Days after the action date in which adoption and NPS answers count (clipped at the as-of day). Default 90. */
  windowDays: number;
  /** A customer churned after the action when its MRR was > 0 on the action day and 0 this many days later (or on the as-of day, when earlier). Default 90. */
  churnDays: number;
  /** Variant names of the held-out arm, compared trimmed and case-insensitively. Default control, holdout, hold_out, 对照, 对照组. */
  controlVariants: string[];
  /**
   * The module each action promotes, by action name; "" = none (adoption of any new module is
   * measured then). An action not listed promotes the catalog module its name names (init's
   * reading of vendor names: `Invoicing upsell` → invoicing) or a vendor module whose name it contains.
   */
  modules: Record<string, string>;
  /** Fewest customers per arm for a difference and its interval to be given. Default 5. */
  minPerArm: number;
}

export const defaultEvaluateParams: EvaluateParams = {
  windowDays: 90,
  churnDays: 90,
  controlVariants: ['control', 'holdout', 'hold_out', '对照', '对照组'],
  modules: {},
  minPerArm: 5,
};

/** The rule of the `evaluate` slice (every key optional, unknown keys rejected). */
export const evaluateParamsRule: Rule<EvaluateParams | undefined> = v.optional(
  settingsOf(defaultEvaluateParams, {
    windowDays: integer(1, 3650),
    churnDays: integer(1, 3650),
    controlVariants: listOf(text('a variant name', true), 'variant names'),
    modules: userMap(text('a module name, or "" for none')),
    minPerArm: integer(2),
  }),
);

/** The slice with its defaults filled. */
export function evaluateParamsOf(slice: EvaluateParams | undefined): EvaluateParams {
  return { ...defaultEvaluateParams, ...(slice ?? {}) };
}
