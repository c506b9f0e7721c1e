/**
 * A forecast of the segment mix one retrain interval ahead from a migration matrix (one Markov
 * step): share_next = share_now × P, where P[i][j] is the share of the customers in segment i
 * then who are in segment j now, counted over customers present in both (customers who left,
 * `gone`, and customers who arrived, `new`, are left out, so the step models movement between
 * segments, not churn or acquisition). A segment with no such row (new, or empty then) is assumed
 * to keep its customers. Retrain feeds it production's own movement (compare.ts): the step is the
 * time between production's training and today, a quarter when the model is retrained quarterly.
 */
import type { MigrationMatrix } from './migration.ts';

/** The Markov forecast of the segment mix, stored in comparison.json as `mixForecast`. */
export interface MixForecast {
  /** The segment ids (production's, at a retrain), ascending: the order of every array here. */
  ids: number[];
  /** Share of today's customers in each segment, shape (k). */
  now: number[];
  /** The forecast share one step ahead, shape (k); sums to 1. */
  next: number[];
  /** The transition matrix P, shape (k, k), rows and columns in `ids` order; each row sums to 1. */
  transition: number[][];
}

/** The one-step Markov forecast from a migration matrix and today's share per segment id (`nowShares`, keyed by the matrix's column ids). */
export function markovMixForecast(migration: MigrationMatrix, nowShares: ReadonlyMap<number, number>): MixForecast {
  const ids = [...nowShares.keys()].sort((a, b) => a - b);
  const column = new Map(migration.to.map((l, c) => [l, c]));
  const rowOf = new Map(migration.from.map((l, r) => [l, r]));
  const transition = ids.map((from, i) => {
    const r = rowOf.get(from);
    const counts = ids.map((to) => (r === undefined ? 0 : migration.counts[r]![column.get(to)!] ?? 0));
    const total = counts.reduce((s, x) => s + x, 0);
    return total > 0 ? counts.map((x) => x / total) : ids.map((_, j) => (j === i ? 1 : 0));
  });
  const now = ids.map((id) => nowShares.get(id)!);
  const next = markovStep(now, transition);
  return { ids, now, next, transition };
}

/** share (shape (k)) × P (shape (k, k)): the mix after one step. */
export function markovStep(share: readonly number[], transition: readonly (readonly number[])[]): number[] {
  return share.map((_, j) => share.reduce((s, x, i) => s + x * transition[i]![j]!, 0));
}

/** Total variation distance between two distributions over the same categories: half the L1 distance. */
export function totalVariation(a: readonly number[], b: readonly number[]): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i]! - (b[i] ?? 0));
  return s / 2;
}
