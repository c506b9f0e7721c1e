/**
 * Measuring a playbook's effect (`finseg evaluate`): per action, per treatment variant and per
 * segment, the treatment − control difference after the action in three outcomes, each with a 95%
 * confidence interval from the normal approximation (no resampling, so nothing random):
 * - adoption: share of the arm that used the action's module in [date, date + window) among the
 *   members who had not used it before the date (at risk); an action with no module: share that
 *   used any module in the window they had not used before the date (all members);
 * - churn: share churned within `churnDays` after the date among members with MRR > 0 on it
 *   (definitions in the common subscriptions contract: MRR at d = sum of mrr of rows active at d);
 * - NPS: mean over members with an answer before the date and one in the window of
 *   (mean answer in the window − mean answer before).
 * A difference of proportions has SE sqrt(p1(1−p1)/n1 + p0(1−p0)/n0); of means (Welch)
 * sqrt(s1²/n1 + s0²/n0) with sample variances. A verdict is given only when the interval excludes 0.
 */

/** Two-sided 95% normal quantile. */
export const Z95 = 1.959963984540054;

/** One member of one action, with its outcomes (null: not measured for it, e.g. not at risk). */
export interface ActionMember {
  action: string;
  variant: string;
  /** The member's segment id, or null when no segment is known for the customer. */
  segment: number | null;
  adopted: boolean | null;
  churned: boolean | null;
  npsChange: number | null;
}

/** Why an outcome could not be measured at all for this export (null: measured). */
export interface OutcomeAvailability {
  adoption: string | null;
  churn: string | null;
  nps: string | null;
}

/** The treatment − control difference of one outcome. */
export interface Effect {
  /** Members measured, per arm. */
  nTreatment: number;
  nControl: number;
  /** Share (adoption, churn) or mean change (NPS) per arm; null without members. */
  treatment: number | null;
  control: number | null;
  /** Treatment − control, and its 95% interval; null with fewer than minPerArm members in an arm. */
  difference: number | null;
  low: number | null;
  high: number | null;
  /** 'higher' or 'lower' when the interval excludes 0, else null (no clear effect). */
  verdict: 'higher' | 'lower' | null;
}

/** One comparison: an action's treatment variant against its control, overall (segment null) or in one segment. */
export interface ActionComparison {
  action: string;
  variant: string;
  segment: number | null;
  adoption: Effect | null;
  churn: Effect | null;
  nps: Effect | null;
}

/** Proportions: values are 0/1. Means: any numbers. */
export type EffectKind = 'proportion' | 'mean';

function moments(xs: readonly number[]): { n: number; mean: number; variance: number } {
  const n = xs.length;
  const mean = n ? xs.reduce((s, x) => s + x, 0) / n : NaN;
  const variance = n > 1 ? xs.reduce((s, x) => s + (x - mean) ** 2, 0) / (n - 1) : NaN;
  return { n, mean, variance };
}

/** The treatment − control difference with its 95% normal interval (module doc for the two SEs). */
export function effectOf(treatment: readonly number[], control: readonly number[], kind: EffectKind, minPerArm: number): Effect {
  const t = moments(treatment);
  const c = moments(control);
  const base = { nTreatment: t.n, nControl: c.n, treatment: t.n ? t.mean : null, control: c.n ? c.mean : null };
  if (t.n < minPerArm || c.n < minPerArm) return { ...base, difference: null, low: null, high: null, verdict: null };
  const varOf = (m: typeof t) => (kind === 'proportion' ? m.mean * (1 - m.mean) : m.variance);
  const se = Math.sqrt(varOf(t) / t.n + varOf(c) / c.n);
  const difference = t.mean - c.mean;
  const low = difference - Z95 * se;
  const high = difference + Z95 * se;
  return { ...base, difference, low, high, verdict: low > 0 ? 'higher' : high < 0 ? 'lower' : null };
}

/** Whether a variant names the held-out arm (trimmed, case-insensitive). */
export function isControl(variant: string, controlVariants: readonly string[]): boolean {
  const v = variant.trim().toLowerCase();
  return controlVariants.some((c) => c.trim().toLowerCase() === v);
}

const values = (ms: readonly ActionMember[], pick: (m: ActionMember) => number | boolean | null): number[] =>
  ms.flatMap((m) => {
    const x = pick(m);
    return x === null ? [] : [typeof x === 'boolean' ? (x ? 1 : 0) : x];
  });

/** One comparison of treatment members against control members, for the outcomes available. */
function compare(key: Pick<ActionComparison, 'action' | 'variant' | 'segment'>, treated: readonly ActionMember[], control: readonly ActionMember[], available: OutcomeAvailability, minPerArm: number): ActionComparison {
  const outcome = (reason: string | null, pick: (m: ActionMember) => number | boolean | null, kind: EffectKind) =>
    reason === null ? effectOf(values(treated, pick), values(control, pick), kind, minPerArm) : null;
  return {
    ...key,
    adoption: outcome(available.adoption, (m) => m.adopted, 'proportion'),
    churn: outcome(available.churn, (m) => m.churned, 'proportion'),
    nps: outcome(available.nps, (m) => m.npsChange, 'mean'),
  };
}

/**
 * Every comparison: per action (in name order), per treatment variant (every variant that is not
 * a control one), overall and then per segment (ascending id; members without a segment count
 * only overall). Actions without a control member are returned in `noControl`.
 */
export function compareActions(members: readonly ActionMember[], available: OutcomeAvailability, params: { controlVariants: readonly string[]; minPerArm: number }): { comparisons: ActionComparison[]; noControl: string[] } {
  const byAction = new Map<string, ActionMember[]>();
  for (const m of members) byAction.set(m.action, [...(byAction.get(m.action) ?? []), m]);
  const comparisons: ActionComparison[] = [];
  const noControl: string[] = [];
  for (const action of [...byAction.keys()].sort()) {
    const ms = byAction.get(action)!;
    const control = ms.filter((m) => isControl(m.variant, params.controlVariants));
    if (!control.length) {
      noControl.push(action);
      continue;
    }
    const variants = [...new Set(ms.filter((m) => !isControl(m.variant, params.controlVariants)).map((m) => m.variant))].sort();
    const segments = [...new Set(ms.flatMap((m) => (m.segment === null ? [] : [m.segment])))].sort((a, b) => a - b);
    for (const variant of variants) {
      const treated = ms.filter((m) => m.variant === variant);
      comparisons.push(compare({ action, variant, segment: null }, treated, control, available, params.minPerArm));
      for (const s of segments) {
        comparisons.push(compare({ action, variant, segment: s }, treated.filter((m) => m.segment === s), control.filter((m) => m.segment === s), available, params.minPerArm));
      }
    }
  }
  return { comparisons, noControl };
}

/** Kind and format version of evaluation.json, so a reader can reject a file it does not understand. */
export const EVALUATION_KIND = 'finseg.evaluation';
export const EVALUATION_VERSION = 1;

/** One action as evaluated: the module it promotes (null: any new module), its dates and members per variant. */
export interface EvaluatedAction {
  action: string;
  module: string | null;
  firstDate: string;
  lastDate: string;
  membersByVariant: Record<string, number>;
  /** Customers put in two arms of this action: left out. */
  conflicts: number;
}

/** evaluation.json: what `finseg evaluate` measured (docs/evaluate.md). */
export interface Evaluation {
  kind: typeof EVALUATION_KIND;
  formatVersion: typeof EVALUATION_VERSION;
  model: string;
  dataDir: string;
  asOf: string;
  windowDays: number;
  churnDays: number;
  controlVariants: string[];
  method: string;
  /** Why an outcome was not measured for this export; null = measured. */
  unavailable: OutcomeAvailability;
  /** Where the segments came from (the train run's assignments, a scores file) and how many members had none. */
  segmentSource: string;
  membersWithoutSegment: number;
  segments: { id: number; name: { en: string; zh: string } }[];
  actions: EvaluatedAction[];
  noControl: string[];
  comparisons: ActionComparison[];
}

/** The method line recorded in evaluation.json. */
export const EVALUATION_METHOD = 'treatment minus control; 95% interval from the normal approximation (difference of proportions; Welch difference of means); verdict only when the interval excludes 0';
