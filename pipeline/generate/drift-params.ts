/**
 * The settings of `finseg generate --drift` and how movers change: the movement rules, the growth
 * and decline factors, and the features the movements shift by design.
 */
import { InputError } from '../core/errors.ts';
import { ARCHETYPE_NAMES, type ArchetypeName } from './archetypes.ts';

/** What happened to a customer between the two snapshots. */
export const MOVEMENTS = ['unchanged', 'grew', 'declined', 'adopted_mobile', 'churned', 'new'] as const;
export type Movement = (typeof MOVEMENTS)[number];

/**
 * One way customers move: `share` of the active customers of `archetypes` (null = every
 * archetype) take `movement`, and take on another archetype's behaviour when `becomes` is set.
 * Rules apply in order to each customer with one uniform draw, so their shares add up per archetype.
 */
export interface MovementRule {
  movement: 'grew' | 'declined' | 'adopted_mobile';
  archetypes: ArchetypeName[] | null;
  share: number;
  becomes: ArchetypeName | null;
}

/** Settings of the drifted snapshot. */
export interface DriftParams {
  /** Months between the base snapshot's as-of date and this one. Default 3. */
  months: number;
  /** Seeds the movements and every draw of the new period. Default: derived from the base seed. */
  seed: number;
  /** Share of all customers that churn (their rows leave the extract). Default 0.03. */
  churnRate: number;
  /** New customers, as a share of the base count; they sign up during the elapsed months. Default 0.06. */
  newCustomerRate: number;
  rules: MovementRule[];
  /**
   * Share of the unchanged, recently active customers that take up one module their most similar
   * archetype peer uses (drift-takeup.ts), listed in take_ups.csv. Default 0: off, so the default
   * snapshot is what it always was; the next-best-module test turns it on.
   */
  takeUpRate: number;
}

/**
 * The default movements. Micro firms growing into SMEs and manufacturers declining into
 * basics change archetype, so their migration has a known destination. The mobile app spreads
 * from the small retailers (mobile-heavy already) to the web-heavy small firms: growing SMEs,
 * clinics and construction firms. The adoption is broad on purpose: PSI over deciles flags a
 * shift only when about a fifth of the base moves across bins (measured on 5,000 customers: a
 * random fifth going mobile gives 0.24, a random fifth tripling its events 0.05), whereas the
 * growth and decline of under a tenth of the base each stay below PSI 0.1 on every feature and
 * show in the migration matrix instead.
 */
export const DEFAULT_MOVEMENT_RULES: readonly MovementRule[] = [
  { movement: 'grew', archetypes: ['new_micro_services'], share: 0.25, becomes: 'growing_sme' },
  { movement: 'declined', archetypes: ['midsize_manufacturer'], share: 0.25, becomes: 'declining_firm' },
  { movement: 'adopted_mobile', archetypes: ['small_retail_mobile', 'growing_sme', 'clinic', 'construction_contractor'], share: 0.8, becomes: null },
];

/** Default settings (the seed defaults to one derived from the base seed when left null). */
export const defaultDriftParams: Omit<DriftParams, 'seed'> & { seed: number | null } = {
  months: 3,
  seed: null,
  churnRate: 0.03,
  newCustomerRate: 0.06,
  takeUpRate: 0,
  rules: DEFAULT_MOVEMENT_RULES.map((r) => ({ ...r })),
};

/**
 * How movers change, documented once here. A grower that switches archetype draws events and
 * transactions from its new archetype at GROWTH.switchedEvents / .transactions times its recent
 * rate, with GROWTH.users times the users; a decliner that switches draws DECLINE.events of its
 * recent events on a falling trend. Every grower books GROWTH.transactions times its recent
 * transactions and every decliner keeps a falling share of them; a rule without `becomes`
 * (growth or decline in place) changes only the books, not the product use.
 */
export const GROWTH = { switchedEvents: 3, users: 2, transactions: 2.5, employees: [2, 4] as const, revenuePerEmployee: 1.2, trend: 2.2 };
export const DECLINE = { events: 0.3, transactionsKeepStart: 0.6, transactionsKeepEnd: 0.1, employees: 0.8, trend: -3 };
/** Share of a customer's web (browser) use that moves to the mobile app when it adopts mobile; desktop-client and API use stay. */
export const WEB_TO_MOBILE = 0.95;
/** Dirichlet concentration of a switched mover's module and device mixes around its new archetype's profiles. */
export const MODULE_CONCENTRATION = 60;
export const DEVICE_CONCENTRATION = 30;

/** Index of each archetype name in ARCHETYPE_NAMES. */
export const ARCHETYPE_INDEX = new Map<string, number>(ARCHETYPE_NAMES.map((n, i) => [n, i]));

/**
 * The catalog features whose population distribution the movements shift by design, which a
 * drift check should flag, with the movement that shifts each. Every other feature keeps its
 * distribution up to the churn and the arrivals (each a few percent of the base) and the
 * archetype switches (under a tenth of the base each), which move individual customers but no
 * feature's deciles much.
 */
export const SHIFTED_FEATURES: Readonly<Record<string, string>> = {
  device_mobile_share: 'retailers, growing SMEs, clinics and construction firms move their browser use to the mobile app',
};

/** Rejects drift settings out of range or naming an unknown archetype, listing every problem. */
export function validateDriftParams(params: DriftParams): void {
  const problems: string[] = [];
  if (!(Number.isInteger(params.months) && params.months >= 1 && params.months <= 12)) problems.push(`months: expected an integer in 1..12, got ${params.months}`);
  if (!Number.isInteger(params.seed) || params.seed < 0 || params.seed > 0xffffffff) problems.push(`seed: expected an integer in [0, 2^32), got ${params.seed}`);
  for (const [name, v] of [['churnRate', params.churnRate], ['newCustomerRate', params.newCustomerRate], ['takeUpRate', params.takeUpRate]] as const) {
    if (!(v >= 0 && v <= 1)) problems.push(`${name}: expected a share in [0, 1], got ${v}`);
  }
  for (const r of params.rules) {
    if (!(r.share >= 0 && r.share <= 1)) problems.push(`rule ${r.movement}: share must be in [0, 1], got ${r.share}`);
    for (const a of [...(r.archetypes ?? []), ...(r.becomes ? [r.becomes] : [])]) if (!ARCHETYPE_INDEX.has(a)) problems.push(`rule ${r.movement}: unknown archetype ${a}`);
  }
  if (problems.length > 0) throw new InputError('invalid drift parameters', problems);
}
