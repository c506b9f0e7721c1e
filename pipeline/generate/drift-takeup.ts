/**
 * The take-up movement of `finseg generate --drift` (opt-in: DriftParams.takeUpRate, default 0):
 * a share of the customers that did not otherwise move take up one catalog module they never
 * used, the one used most by their most similar peer of the same archetype (Jaccard index of the
 * sets of modules used in the base history, over a seeded sample of TAKE_UP.peers customers of that archetype)
 * among the modules they lack, and from then on a quarter of their events of the new period are
 * in it. It plants adoption that spreads between similar firms, the pattern next best module
 * relies on, so a test can check that the recommender finds such adoption; it says nothing about
 * whether real customers adopt that way (docs/next-best-module.md).
 */
import { MODULES, type Module } from '../01-ingest/contract.ts';
import { deriveSeed, makeRng, sampleIndices } from '../core/random.ts';
import type { BaseCustomer, Move } from './drift-moves.ts';

/** Peers sampled per taker, and the share of a taker's new-period events relabelled to the module taken up. */
export const TAKE_UP = { peers: 200, eventShare: 0.25 };

/** One customer's take-up. */
export interface TakeUp {
  id: string;
  module: Module;
}

/** Jaccard index of the sets of modules two customers ever used. */
function jaccard(a: readonly number[], b: readonly number[]): number {
  let both = 0;
  let either = 0;
  for (let j = 0; j < a.length; j++) {
    if (a[j]! > 0 && b[j]! > 0) both++;
    if (a[j]! > 0 || b[j]! > 0) either++;
  }
  return either ? both / either : 0;
}

/** Who takes up which module: each unchanged, recently active customer with probability `rate`, from its own seeded stream. */
export function drawTakeUps(customers: readonly BaseCustomer[], moves: readonly Move[], rate: number, seed: number): TakeUp[] {
  if (rate <= 0) return [];
  const byArchetype = new Map<string, number[]>();
  customers.forEach((c, i) => {
    if (!byArchetype.has(c.archetype)) byArchetype.set(c.archetype, []);
    byArchetype.get(c.archetype)!.push(i);
  });
  const out: TakeUp[] = [];
  customers.forEach((c, i) => {
    if (moves[i]!.movement !== 'unchanged' || c.recentEvents === 0) return;
    const rng = makeRng(deriveSeed(seed, `${c.id}:take-up`));
    if (rng.next() >= rate) return;
    const pool = byArchetype.get(c.archetype)!;
    let best = -1;
    let bestSimilarity = -1;
    for (const p of sampleIndices(pool.length, TAKE_UP.peers, rng)) {
      const peer = customers[pool[p]!]!;
      if (peer === c || !peer.moduleCounts.some((n, j) => n > 0 && c.moduleCounts[j] === 0)) continue;
      const similarity = jaccard(c.moduleCounts, peer.moduleCounts);
      if (similarity > bestSimilarity) [best, bestSimilarity] = [pool[p]!, similarity];
    }
    if (best < 0) return;
    const peer = customers[best]!;
    let module = -1;
    for (let j = 0; j < MODULES.length; j++) if (c.moduleCounts[j] === 0 && peer.moduleCounts[j]! > 0 && (module < 0 || peer.moduleCounts[j]! > peer.moduleCounts[module]!)) module = j;
    out.push({ id: c.id, module: MODULES[module]! });
  });
  return out;
}

/** The usage events' module column with the takers' share of new-period events relabelled (a `take_ups` table of customer_id, taken joined as `tu`); plain `module` without takers. */
export function takenUpModuleSql(periodFrom: string, hasTakeUps: boolean): string {
  if (!hasTakeUps) return 'module';
  const every = Math.round(1 / TAKE_UP.eventShare);
  return `CASE WHEN tu.taken IS NOT NULL AND ts >= ${periodFrom} AND hash(customer_id, ts, module, user_id) % ${every} = 0 THEN tu.taken ELSE module END`;
}
