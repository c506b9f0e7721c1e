import { CONTRACT, DEVICES, MODULES, type Module } from '../01-ingest/contract.ts';
import { deriveSeed, makeRng } from '../core/random.ts';
import type { CustomerDraws } from './customers.ts';
import { CsvFile, formatDay, type UsageHook } from './rows.ts';

/**
 * Planted playbook actions (the feedback loop, `finseg evaluate`): a few campaigns, each sent to a
 * seeded subset of the active customers and split by a seeded coin into `treatment` and `control`.
 * A treated customer adopts the promoted module after the action date with probability
 * `adoptionUplift` (its usage events are added after its drawn ones) and answers NPS surveys after
 * the date `npsUplift` points higher (generate/feedback.ts). The placebo campaign plants nothing, so
 * its measured effect must cover 0. `actions_truth.csv` records what was planted.
 */

/** One planted campaign. */
export interface CampaignSpec {
  readonly action: string;
  /** The module the campaign promotes; null: none (adoption is then of any new module). */
  readonly module: Module | null;
  /** The action date is this many days before the as-of date (each customer within the first `spreadDays`). */
  readonly daysBeforeAsOf: number;
  readonly spreadDays: number;
  /** Share of the eligible customers the campaign reaches (both arms). */
  readonly reach: number;
  /** Probability that a treated customer who would not otherwise use the module adopts it after the action. */
  readonly adoptionUplift: number;
  /** Points added to a treated customer's latent NPS for answers after the action. */
  readonly npsUplift: number;
}

/** The campaigns of a generated data set. */
export const CAMPAIGNS: readonly CampaignSpec[] = [
  { action: 'invoicing_upsell', module: 'invoicing', daysBeforeAsOf: 150, spreadDays: 5, reach: 0.35, adoptionUplift: 0.4, npsUplift: 1.5 },
  { action: 'budgeting_webinar', module: 'budgeting', daysBeforeAsOf: 120, spreadDays: 3, reach: 0.35, adoptionUplift: 0.25, npsUplift: 0.8 },
  { action: 'newsletter', module: null, daysBeforeAsOf: 100, spreadDays: 1, reach: 0.35, adoptionUplift: 0, npsUplift: 0 },
];

/** The after-window the truth's expected adoption effect is computed over (evaluate's default `evaluate.windowDays`). */
export const TRUTH_WINDOW_DAYS = 90;

/** Variant names written to the actions table. */
export const TREATMENT = 'treatment';
export const CONTROL = 'control';

/** One customer's membership in a campaign. */
export interface Membership {
  readonly campaign: number;
  readonly customer: number;
  /** Epoch day of the action. */
  readonly day: number;
  readonly treated: boolean;
}

/** Who is in which campaign, when, and in which arm; plus, per membership, what the usage hook saw. */
export interface ActionPlan {
  readonly memberships: Membership[];
  /** Membership indices of customer i (ascending campaign). */
  readonly byCustomer: Map<number, number[]>;
  /** Per membership: the promoted module was used before the action day (drawn rows only). */
  readonly usedBefore: Uint8Array;
  /** Per membership: the promoted module was used in [day, day + TRUTH_WINDOW_DAYS) in the drawn rows. */
  readonly usedAfter: Uint8Array;
  /** Per membership: the generator added adoption rows (treated, at risk, not a natural adopter, and the coin said so). */
  readonly forced: Uint8Array;
  /** Per campaign: the planted NPS effect as evaluate measures it (generate/feedback.ts sets it; null without such members). */
  npsEffects: (number | null)[];
}

/** Seeded campaign memberships: a customer active from 30 days before to 30 days after the action day is eligible. */
export function planActions(draws: CustomerDraws, seed: number, asOfDay: number): ActionPlan {
  const memberships: Membership[] = [];
  const byCustomer = new Map<number, number[]>();
  CAMPAIGNS.forEach((c, campaign) => {
    const rng = makeRng(deriveSeed(seed, `actions:${c.action}`));
    const first = asOfDay - c.daysBeforeAsOf;
    for (let i = 0; i < draws.n; i++) {
      const day = first + rng.int(c.spreadDays);
      const reached = rng.next() < c.reach;
      const treated = rng.next() < 0.5;
      if (!reached || draws.activeStart[i]! > day - 30 || draws.activeEnd[i]! < day + 30) continue;
      byCustomer.set(i, [...(byCustomer.get(i) ?? []), memberships.length]);
      memberships.push({ campaign, customer: i, day, treated });
    }
  });
  const n = memberships.length;
  return { memberships, byCustomer, usedBefore: new Uint8Array(n), usedAfter: new Uint8Array(n), forced: new Uint8Array(n), npsEffects: CAMPAIGNS.map(() => null) };
}

/**
 * The usage hook: records whether each member used its campaign's module before and after the
 * action, and adds 2-6 events of the module after the action day for the treated members the
 * uplift coin converts (only when they would not have used it anyway, so the uplift is exact).
 */
export function actionUsageHook(plan: ActionPlan, draws: CustomerDraws, seed: number, asOfDay: number): UsageHook {
  const moduleIndex = CAMPAIGNS.map((c) => (c.module ? MODULES.indexOf(c.module) : -1));
  const web = DEVICES.indexOf('web');
  return {
    row(i, module, seconds) {
      const ms = plan.byCustomer.get(i);
      if (!ms) return;
      const day = Math.floor(seconds / 86_400);
      for (const m of ms) {
        const mb = plan.memberships[m]!;
        if (moduleIndex[mb.campaign] !== module) continue;
        if (day < mb.day) plan.usedBefore[m] = 1;
        else if (day < mb.day + TRUTH_WINDOW_DAYS) plan.usedAfter[m] = 1;
      }
    },
    after(i) {
      const ms = plan.byCustomer.get(i);
      if (!ms) return { text: '', rows: 0 };
      let text = '';
      let rows = 0;
      for (const m of ms) {
        const mb = plan.memberships[m]!;
        const c = CAMPAIGNS[mb.campaign]!;
        const rng = makeRng(deriveSeed(seed, `${draws.ids[i]}:action:${c.action}`));
        const convert = rng.next() < c.adoptionUplift;
        if (!mb.treated || !c.module || plan.usedBefore[m] || plan.usedAfter[m] || !convert) continue;
        plan.forced[m] = 1;
        // Never after the customer's cancel day (generate/churn-ramp.ts): a churner has no use after it.
        const last = Math.min(asOfDay, mb.day + TRUTH_WINDOW_DAYS, draws.activeEnd[i]!) - 1;
        const count = 2 + rng.int(5);
        for (let k = 0; k < count; k++) {
          // The first use falls in the window; later ones may too.
          const day = mb.day + 1 + rng.int(Math.max(1, last - mb.day));
          const second = Math.floor((9 + 8 * rng.next()) * 3600);
          text += `${draws.ids[i]},${formatDay(day)} ${clock(second)},${c.module},${DEVICES[web]},${draws.ids[i]}-u1,1\n`;
          rows += 1;
        }
      }
      return { text, rows };
    },
  };
}

const clock = (second: number): string =>
  [Math.floor(second / 3600), Math.floor((second % 3600) / 60), second % 60].map((v) => String(v).padStart(2, '0')).join(':');

/** Writes actions.csv text (customer_id, action, date, variant) in campaign order; returns the row count. */
export function writeActions(plan: ActionPlan, draws: CustomerDraws, out: CsvFile): number {
  out.write(`${CONTRACT.actions.columns.map((c) => c.name).join(',')}\n`);
  for (const mb of plan.memberships) out.write(`${draws.ids[mb.customer]},${CAMPAIGNS[mb.campaign]!.action},${formatDay(mb.day)},${mb.treated ? TREATMENT : CONTROL}\n`);
  return plan.memberships.length;
}

/** The planted adoption effect per campaign, as evaluate measures it (at-risk members: no use before the day). */
export interface AdoptionTruth {
  /** Members at risk (no use of the module before the action day), per arm. */
  atRisk: { treatment: number; control: number };
  /** Share of at-risk members (both arms) who used the module in the window on their own. */
  naturalRate: number;
  /** adoptionUplift × (1 − naturalRate): the expected treatment − control difference in adoption. */
  expectedEffect: number;
}

/** The expected adoption effect of each campaign from what the hook saw (null before the hook ran, or for a campaign without a module). */
export function adoptionTruth(plan: ActionPlan): (AdoptionTruth | null)[] {
  return CAMPAIGNS.map((c, campaign) => {
    if (!c.module) return null;
    let natural = 0;
    const atRisk = { treatment: 0, control: 0 };
    plan.memberships.forEach((mb, m) => {
      if (mb.campaign !== campaign || plan.usedBefore[m]) return;
      atRisk[mb.treated ? 'treatment' : 'control'] += 1;
      natural += plan.usedAfter[m]!;
    });
    const total = atRisk.treatment + atRisk.control;
    const naturalRate = total ? natural / total : 0;
    return { atRisk, naturalRate, expectedEffect: c.adoptionUplift * (1 - naturalRate) };
  });
}

/** Writes actions_truth.csv at `path`: per campaign, its module, the planted uplifts and the effects evaluate should measure; returns the path. */
export function writeActionsTruth(plan: ActionPlan, path: string): string {
  const out = new CsvFile(path);
  const npsEffects = plan.npsEffects;
  out.write('action,module,action_date,window_days,adoption_uplift,natural_adoption_rate,expected_adoption_effect,nps_uplift,expected_nps_effect,treated,control\n');
  const truth = adoptionTruth(plan);
  CAMPAIGNS.forEach((c, k) => {
    const members = plan.memberships.filter((mb) => mb.campaign === k);
    const treated = members.filter((mb) => mb.treated).length;
    // A loop, not Math.min(...days): a million members overflow the call stack as arguments.
    const firstDay = members.reduce((least, mb) => Math.min(least, mb.day), Infinity);
    const t = truth[k];
    const nps = npsEffects[k];
    out.write(
      `${c.action},${c.module ?? ''},${Number.isFinite(firstDay) ? formatDay(firstDay) : ''},${TRUTH_WINDOW_DAYS},${c.adoptionUplift},` +
        `${t ? t.naturalRate.toFixed(6) : ''},${t ? t.expectedEffect.toFixed(6) : 0},${c.npsUplift},${nps === null || nps === undefined ? '' : nps.toFixed(6)},${treated},${members.length - treated}\n`,
    );
  });
  out.close();
  return path;
}
