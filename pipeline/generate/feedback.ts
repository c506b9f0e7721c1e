import { CONTRACT } from '../01-ingest/contract.ts';
import { deriveSeed, makeRng, type Rng } from '../core/random.ts';
import { CAMPAIGNS, TRUTH_WINDOW_DAYS, type ActionPlan } from './actions.ts';
import { ARCHETYPE_SPECS, type ArchetypeName } from './archetypes.ts';
import type { CustomerDraws } from './customers.ts';
import { formatDay, type CsvFile, type GenerateProgress } from './rows.ts';

/**
 * The generated feedback table: NPS survey answers and support tickets per customer over its
 * active span, consistent with the archetypes (a declining firm answers lower and opens more
 * tickets; a growing one answers higher). Campaign members are surveyed around the action (before
 * with probability 0.5, after with 0.7), and a treated member's answers after the action carry the
 * campaign's NPS uplift (generate/actions.ts).
 */

/** Mean latent NPS (0..10 scale) and support tickets per active year, by archetype; others take the default. */
export const FEEDBACK_BY_ARCHETYPE: Readonly<Partial<Record<ArchetypeName, { nps: number; ticketsPerYear: number }>>> = {
  declining_firm: { nps: 4.5, ticketsPerYear: 6 },
  growing_sme: { nps: 8.3, ticketsPerYear: 2 },
  new_micro_services: { nps: 7.6, ticketsPerYear: 2.5 },
};
const DEFAULT_FEEDBACK = { nps: 7, ticketsPerYear: 3 };
/** Survey answers per active year outside campaigns. */
const SURVEYS_PER_YEAR = 2;
/** Spread of a customer's own mean around its archetype's, and of one answer around the customer's mean. */
const CUSTOMER_SD = 1.2;
const ANSWER_SD = 1.3;

/** The feedback profile of archetype index a. */
export function feedbackProfile(a: number): { nps: number; ticketsPerYear: number } {
  return FEEDBACK_BY_ARCHETYPE[ARCHETYPE_SPECS[a]!.name] ?? DEFAULT_FEEDBACK;
}

/** A Poisson draw (Knuth; the means here are small). */
function poisson(rng: Rng, mean: number): number {
  const limit = Math.exp(-mean);
  let k = 0;
  for (let p = rng.next(); p > limit; p *= rng.next()) k += 1;
  return k;
}

const clampAnswer = (latent: number): number => Math.min(10, Math.max(0, Math.round(latent)));

/**
 * Writes feedback.csv text (customer_id, ts, nps, tickets): survey rows carry nps, ticket rows
 * tickets. Returns the row count; sets, per campaign, `plan.npsEffects`, the planted NPS effect as evaluate measures
 * it: over treated members with an answer before the action and one in [day, day + window), the
 * mean of (mean answer added by the campaign's uplift in the window); null without such members.
 */
export function writeFeedback(draws: CustomerDraws, plan: ActionPlan, seed: number, asOfDay: number, out: CsvFile, onProgress?: GenerateProgress): number {
  out.write(`${CONTRACT.feedback.columns.map((c) => c.name).join(',')}\n`);
  const added = CAMPAIGNS.map(() => ({ sum: 0, n: 0 }));
  let rows = 0;
  for (let i = 0; i < draws.n; i++) {
    if ((i & 1023) === 0) onProgress?.(i, draws.n);
    const rng = makeRng(deriveSeed(seed, `${draws.ids[i]}:feedback`));
    const profile = feedbackProfile(draws.archetype[i]!);
    const mean = profile.nps + CUSTOMER_SD * rng.normal();
    const start = draws.activeStart[i]!;
    const end = Math.min(draws.activeEnd[i]!, asOfDay);
    const years = Math.max(0, end - start) / 365;
    const members = (plan.byCustomer.get(i) ?? []).map((m) => plan.memberships[m]!);
    const surveyDays: number[] = [];
    for (let k = poisson(rng, SURVEYS_PER_YEAR * years); k > 0; k--) surveyDays.push(start + rng.int(Math.max(1, end - start)));
    for (const mb of members) {
      if (rng.next() < 0.5) surveyDays.push(mb.day - 1 - rng.int(60));
      if (rng.next() < 0.7) surveyDays.push(mb.day + 7 + rng.int(54));
    }
    const lines: [number, string][] = [];
    const answers = surveyDays.filter((d) => d < asOfDay).sort((a, b) => a - b).map((day) => ({ day, latent: mean + ANSWER_SD * rng.normal() }));
    for (const a of answers) {
      const uplift = members.reduce((s, mb) => s + (mb.treated && a.day >= mb.day ? CAMPAIGNS[mb.campaign]!.npsUplift : 0), 0);
      lines.push([a.day, `${draws.ids[i]},${formatDay(a.day)} ${hour(rng)},${clampAnswer(a.latent + uplift)},\n`]);
    }
    recordAdded(members, answers, added);
    for (let k = poisson(rng, profile.ticketsPerYear * years); k > 0; k--) {
      const day = start + rng.int(Math.max(1, end - start));
      lines.push([day, `${draws.ids[i]},${formatDay(day)} ${hour(rng)},,${1 + (rng.next() < 0.2 ? 1 : 0)}\n`]);
    }
    lines.sort((a, b) => a[0] - b[0]);
    for (const [, line] of lines) out.write(line);
    rows += lines.length;
  }
  plan.npsEffects = added.map((a) => (a.n ? a.sum / a.n : null));
  onProgress?.(draws.n, draws.n);
  return rows;
}

const hour = (rng: Rng): string => `${String(9 + rng.int(9)).padStart(2, '0')}:${String(rng.int(60)).padStart(2, '0')}:00`;

/**
 * Adds, per campaign, each treated member's mean added answer in the window (with its other
 * campaigns' uplift held fixed) when it has an answer before the action day and one in the window.
 */
function recordAdded(members: readonly ActionPlan['memberships'][number][], answers: readonly { day: number; latent: number }[], added: { sum: number; n: number }[]): void {
  for (const mb of members) {
    if (!mb.treated) continue;
    const before = answers.some((a) => a.day < mb.day);
    const inWindow = answers.filter((a) => a.day >= mb.day && a.day < mb.day + TRUTH_WINDOW_DAYS);
    if (!before || inWindow.length === 0) continue;
    let sum = 0;
    for (const a of inWindow) {
      const others = members.reduce((s, o) => s + (o !== mb && o.treated && a.day >= o.day ? CAMPAIGNS[o.campaign]!.npsUplift : 0), 0);
      sum += clampAnswer(a.latent + others + CAMPAIGNS[mb.campaign]!.npsUplift) - clampAnswer(a.latent + others);
    }
    added[mb.campaign]!.sum += sum / inWindow.length;
    added[mb.campaign]!.n += 1;
  }
}
