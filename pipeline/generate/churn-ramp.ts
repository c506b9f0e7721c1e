import type { Rng } from '../core/random.ts';
import type { CustomerDraws } from './customers.ts';

/**
 * Who cancels and when, and how a churner's use thins out before it: the customers that went
 * quiet before the as-of date (the archetypes' dropout) cancel on their first day without
 * activity, and their event and transaction moments are thinned over the months before, so a
 * churn in the last 90 days is foreseeable from behaviour 90 days earlier. Only churners draw
 * through this, so every other customer's rows stay as they were.
 */

/** Days over which a churner's use thins out before its cancel date, and the share of its use that is left on the last day. */
export const CHURN_RAMP_DAYS = 150;
const CHURN_RAMP_FLOOR = 0.15;
/** The cancel day of customer i (epoch day), or -1 when it is still a customer on the as-of date. */
export function churnDayOf(draws: CustomerDraws, i: number, asOfDay: number): number {
  return draws.activeEnd[i]! < asOfDay ? draws.activeEnd[i]! : -1;
}

/** The chance that a churner's use on `day` is kept: 1 until CHURN_RAMP_DAYS before the cancel day, then falling linearly to CHURN_RAMP_FLOOR. */
export function churnRampKeep(day: number, churnDay: number): number {
  const before = churnDay - day;
  return before >= CHURN_RAMP_DAYS ? 1 : CHURN_RAMP_FLOOR + ((1 - CHURN_RAMP_FLOOR) * before) / CHURN_RAMP_DAYS;
}

/** A moment (epoch seconds) from `draw`, redrawn while the churn ramp rejects it (a few times at most), so a churner's use thins toward its cancel day. */
export function momentBeforeChurn(rng: Rng, churnDay: number, draw: () => number): number {
  let moment = draw();
  for (let attempt = 0; attempt < 6; attempt++) {
    if (rng.next() < churnRampKeep(Math.floor(moment / 86_400), churnDay)) break;
    moment = draw();
  }
  return moment;
}

