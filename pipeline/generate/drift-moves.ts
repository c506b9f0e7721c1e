/**
 * Who moves in a drifted snapshot and how: each base customer's movement, the new-period draws of
 * the movers whose use changes, the arrivals, and the movers' new firmographics.
 */
import { DEVICES } from '../01-ingest/contract.ts';
import { deriveSeed, makeRng, type Rng } from '../core/random.ts';
import { EDITIONS, type ArchetypeName } from './archetypes.ts';
import { allocDraws, COMPILED_ARCHETYPES, drawCustomers, type CustomerDraws } from './customers.ts';
import { ARCHETYPE_INDEX, DECLINE, DEVICE_CONCENTRATION, GROWTH, MODULE_CONCENTRATION, WEB_TO_MOBILE, type DriftParams, type Movement } from './drift-params.ts';
import type { GenerateParams } from './generate.ts';
import { cumulative, dirichletInto, uniform } from './sampling.ts';

/** A base customer's observed behaviour, read from the base snapshot. */
export interface BaseCustomer {
  id: string;
  archetype: ArchetypeName;
  /** Event rows and transactions in the last `elapsedDays` of the base history. */
  recentEvents: number;
  recentTransactions: number;
  users: number;
  /** Event rows per module and per device over the whole base history, shapes (MODULES.length) and (DEVICES.length). */
  moduleCounts: number[];
  deviceCounts: number[];
  employees: number | null;
  annualRevenue: number | null;
  edition: string | null;
}

/** A customer's movement and, for an archetype switch, the archetype it now behaves like. */
export interface Move {
  movement: Movement;
  becomes: ArchetypeName | null;
}

/** Draws each base customer's movement from its own stream, so one customer's draw never shifts another's. */
export function drawMove(c: BaseCustomer, params: DriftParams): Move {
  const rng = makeRng(deriveSeed(params.seed, `${c.id}:movement`));
  if (rng.next() < params.churnRate) return { movement: 'churned', becomes: null };
  const u = rng.next();
  // Only customers active in the recent months can visibly change how they use the product.
  if (c.recentEvents === 0) return { movement: 'unchanged', becomes: null };
  let cumulativeShare = 0;
  for (const rule of params.rules) {
    if (rule.archetypes !== null && !rule.archetypes.includes(c.archetype)) continue;
    cumulativeShare += rule.share;
    if (u < cumulativeShare) return { movement: rule.movement, becomes: rule.becomes };
  }
  return { movement: 'unchanged', becomes: null };
}

const API_DEVICE = DEVICES.indexOf('api');

/** A Dirichlet draw around `mean` stored as a cumulative distribution in row `row` of `cdf`; returns the mix. */
function drawMixInto(rng: Rng, mean: ArrayLike<number>, concentration: number, cdf: Float64Array, row: number): Float64Array {
  const mix = new Float64Array(mean.length);
  dirichletInto(rng, mean, concentration, mix);
  cdf.set(cumulative(mix), row * mean.length);
  return mix;
}

/** A customer's own observed mix (counts plus a small floor, so no option becomes impossible) stored in row `row` of `cdf`. */
function observedMixInto(counts: readonly number[], cdf: Float64Array, row: number): Float64Array {
  const total = counts.reduce((s, x) => s + x, 0) || 1;
  const mix = Float64Array.from(counts, (x) => x / total + 0.002);
  cdf.set(cumulative(mix), row * counts.length);
  return mix;
}

/** Whether a move redraws the customer's events of the new period (the others keep their history, moved forward). */
export function redrawsEvents(m: Move): boolean {
  return m.becomes !== null || m.movement === 'adopted_mobile';
}

/**
 * The new period's event behaviour of the customers whose use changes. An archetype switch takes
 * the new archetype's module and device mix and volume (growers GROWTH.switchedEvents, decliners
 * DECLINE.events times their recent rate) and trend; a mobile adopter keeps its own observed
 * module mix and volume and moves WEB_TO_MOBILE of its web use to mobile.
 */
export function moverDraws(movers: readonly BaseCustomer[], moves: readonly Move[], seed: number, periodStart: number, periodEnd: number): CustomerDraws {
  const draws = allocDraws(movers.length);
  const web = DEVICES.indexOf('web');
  const mobile = DEVICES.indexOf('mobile');
  movers.forEach((c, i) => {
    const rng = makeRng(deriveSeed(seed, `${c.id}:new-period`));
    const { movement, becomes } = moves[i]!;
    draws.ids[i] = c.id;
    draws.archetype[i] = ARCHETYPE_INDEX.get(becomes ?? c.archetype)!;
    draws.activeStart[i] = periodStart;
    draws.activeEnd[i] = periodEnd;
    draws.users[i] = c.users;
    let deviceMix: Float64Array;
    if (becomes !== null) {
      const target = COMPILED_ARCHETYPES[ARCHETYPE_INDEX.get(becomes)!]!;
      const grew = movement === 'grew';
      draws.users[i] = grew ? Math.round(c.users * GROWTH.users) : c.users;
      draws.eventRows[i] = c.recentEvents * (grew ? GROWTH.switchedEvents : DECLINE.events);
      draws.trend[i] = grew ? GROWTH.trend : DECLINE.trend;
      drawMixInto(rng, target.moduleProfile, MODULE_CONCENTRATION, draws.moduleCdf, i);
      deviceMix = drawMixInto(rng, target.deviceProfile, DEVICE_CONCENTRATION, draws.deviceCdf, i);
      if (grew) {
        // Only switched growers draw transactions (see newPeriodTransactions); zero rows elsewhere.
        draws.transactionRows[i] = Math.max(1, c.recentTransactions) * GROWTH.transactions;
        draws.amountScale[i] = target.spec.amount.median * Math.exp(0.3 * rng.normal());
        draws.refundRate[i] = target.spec.refundRate;
        draws.foreignShare[i] = Math.min(0.9, target.spec.foreign.share * Math.exp(0.5 * rng.normal()));
      }
    } else {
      draws.eventRows[i] = c.recentEvents;
      observedMixInto(c.moduleCounts, draws.moduleCdf, i);
      const devices = [...c.deviceCounts];
      devices[mobile] = devices[mobile]! + WEB_TO_MOBILE * devices[web]!;
      devices[web] = (1 - WEB_TO_MOBILE) * devices[web]!;
      deviceMix = observedMixInto(devices, draws.deviceCdf, i);
    }
    draws.offHoursShare[i] = Math.min(0.9, deviceMix[API_DEVICE]! / deviceMix.reduce((s, x) => s + x, 0) + 0.03);
  });
  return draws;
}

/**
 * New customers: drawn like any generated customer (from the archetype mix, with their own seed
 * stream), then signed up on a day of the elapsed months, active from then on at their drawn
 * daily rate, with ids continuing the base numbering (after `lastId`, the base's highest).
 */
export function arrivalDraws(count: number, seed: number, base: GenerateParams, lastId: number, periodStart: number, periodEnd: number): CustomerDraws {
  const draws = drawCustomers({
    seed: deriveSeed(seed, 'arrivals'),
    customers: count,
    eventsPerCustomer: base.eventsPerCustomer,
    asOfDay: periodEnd,
    historyDays: base.historyDays,
    idPrefix: 'arrival',
  });
  const width = Math.max(6, String(lastId + count).length);
  const rng = makeRng(deriveSeed(seed, 'arrival-signups'));
  for (let i = 0; i < count; i++) {
    const drawnSpan = Math.max(1, draws.activeEnd[i]! - draws.activeStart[i]!);
    const signup = periodStart + Math.floor(uniform(rng, 0, periodEnd - periodStart));
    const span = periodEnd - signup;
    draws.ids[i] = `${base.idPrefix}${String(lastId + i + 1).padStart(width, '0')}`;
    draws.signupDay[i] = signup;
    draws.activeStart[i] = signup;
    draws.activeEnd[i] = periodEnd;
    draws.eventRows[i] = (draws.eventRows[i]! / drawnSpan) * span;
    draws.transactionRows[i] = (draws.transactionRows[i]! / drawnSpan) * span;
  }
  return draws;
}

/**
 * A mover's row of the firmographic changes (customer_id, employees, annual_revenue, edition):
 * only a change of archetype changes the firm, since growing books alone do not hire.
 */
export function firmographicsRow(c: BaseCustomer, move: Move, seed: number): string {
  const { movement } = move;
  const rng = makeRng(deriveSeed(seed, `${c.id}:firmographics`));
  const switched = move.becomes !== null;
  const factor = !switched ? 1 : movement === 'grew' ? uniform(rng, GROWTH.employees[0], GROWTH.employees[1]) : DECLINE.employees;
  const employees = c.employees === null ? '' : String(Math.max(1, Math.round(c.employees * factor)));
  const revenueFactor = switched && movement === 'grew' ? factor * GROWTH.revenuePerEmployee : factor;
  const revenue = c.annualRevenue === null ? '' : (Math.round(10 * c.annualRevenue * revenueFactor) / 10).toFixed(1);
  // A micro firm grown into an SME outgrows the Starter edition.
  const edition = switched && movement === 'grew' && c.edition === 'Starter' ? EDITIONS[1] : (c.edition ?? '');
  return `${c.id},${employees},${revenue},${edition}\n`;
}
