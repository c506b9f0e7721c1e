/**
 * Fitting next best module on the training customers (the peer pools, adoption rates and the
 * modules each segment is most often recommended) and its offline evaluation: a temporal holdout
 * inside the one export, hit rate at 3 against the popularity baseline (docs/next-best-module.md).
 */
import { MODULES } from '../01-ingest/contract.ts';
import type { VendorModule } from '../02-features/catalog.ts';
import { WINDOW_DAYS } from '../02-features/catalog.ts';
import { sqlString, type PerCustomerQuery } from '../core/duck.ts';
import type { Matrix } from '../core/matrix.ts';
import { adoptionMasks, HIT_AT, MAX_MODULES, nextModuleSegments, popularModules, recommendCustomerModules, type NextModuleEvaluation, type NextModuleSegment, type NextModuleState } from './next-module.ts';
import type { NextModuleParams } from './next-module-params.ts';

/** Per training customer (feature-table order), module masks over the state's modules: adopted as of T − h, used at any time before T − h, adopted as of T. */
export interface AdoptionHoldout {
  earlyMask: Int32Array;
  everMask: Int32Array;
  lateMask: Int32Array;
}

/** What next best module is fitted on. */
export interface NextModuleInput {
  /** The training feature table, shape (n, featureNames.length). */
  X: Matrix;
  featureNames: readonly string[];
  /** k-means segment index per customer, shape (n). */
  labels: Int32Array;
  k: number;
  vendorModules: readonly VendorModule[];
  /** Null without usage events (a feature table): then no evaluation. */
  holdout: AdoptionHoldout | null;
}

/** The modules next best module ranks: the catalog, then the vendor's own named modules, with their share features. */
export function nextModuleCatalog(vendorModules: readonly VendorModule[]): { modules: string[]; features: string[] } {
  const named = vendorModules.slice(0, MAX_MODULES - MODULES.length);
  return { modules: [...MODULES, ...named.map((v) => v.name)], features: [...MODULES.map((m) => `share_${m}`), ...named.map((v) => v.feature)] };
}

/** The fitted state; null when no training customer shows module use (a transactions-only export or a profile table). */
export function fitNextModule(input: NextModuleInput, params: NextModuleParams, seed: number): NextModuleState | null {
  const { modules, features } = nextModuleCatalog(input.vendorModules);
  const masks = adoptionMasks(input.X, input.featureNames, features, params.minShare);
  if (!masks.some((m) => m !== 0)) return null;
  const segments = nextModuleSegments(masks, input.labels, input.k, modules.length, params.sampleCap, seed);
  const recs = recommendCustomerModules({ segments, params }, input.labels, masks);
  const counts = segments.map(() => new Array<number>(modules.length).fill(0));
  for (let i = 0; i < masks.length; i++) if (masks[i] !== 0) for (const j of recs[i]!.modules) counts[input.labels[i]!]![j]!++;
  segments.forEach((seg, s) => {
    seg.recommended = mostRecommended(counts[s]!, seg.customers);
  });
  const evaluation = input.holdout ? evaluateHoldout(input.holdout, input.labels, input.k, modules.length, params, seed) : null;
  return { kind: 'finseg.nextmodule', version: 1, modules, features, params: { ...params }, seed, segments, evaluation };
}

function mostRecommended(counts: readonly number[], customers: number): NextModuleSegment['recommended'] {
  return counts
    .map((c, module) => ({ module, share: customers ? Math.round((c / customers) * 10000) / 10000 : 0, c }))
    .filter((r) => r.c > 0)
    .sort((a, b) => b.c - a.c || a.module - b.module)
    .slice(0, 3)
    .map(({ module, share }) => ({ module, share }));
}

/**
 * Hit rate at 3 of next best module and of the popularity baseline, both fitted on adoption as
 * of T − h (same segments, same sample seed): over customers with module use at T − h who first
 * adopted a module in (T − h, T] (adopted at T, never used before T − h), the share whose first
 * three recommendations hold one of those modules.
 */
export function evaluateHoldout(holdout: AdoptionHoldout, labels: Int32Array, k: number, modules: number, params: NextModuleParams, seed: number): NextModuleEvaluation {
  const { earlyMask, everMask, lateMask } = holdout;
  const segments = nextModuleSegments(earlyMask, labels, k, modules, params.sampleCap, seed);
  const evaluated = Int32Array.from(labels, (s, i) => (earlyMask[i] !== 0 && (lateMask[i]! & ~everMask[i]!) !== 0 ? s : -1));
  const recs = recommendCustomerModules({ segments, params }, evaluated, earlyMask, HIT_AT);
  let customers = 0;
  let nextHits = 0;
  let popularHits = 0;
  for (let i = 0; i < labels.length; i++) {
    const s = evaluated[i]!;
    if (s < 0) continue;
    const truth = lateMask[i]! & ~everMask[i]!;
    customers++;
    if (recs[i]!.modules.some((j) => truth & (1 << j))) nextHits++;
    if (popularModules(segments[s]!, earlyMask[i]!, HIT_AT).some((j) => truth & (1 << j))) popularHits++;
  }
  const rate = (hits: number) => (customers ? Math.round((hits / customers) * 10000) / 10000 : null);
  return { horizonDays: params.horizonDays, at: HIT_AT, customers, nextModule: { hits: nextHits, hitRate: rate(nextHits) }, popularity: { hits: popularHits, hitRate: rate(popularHits) } };
}

/**
 * Per-customer SQL over the ingested usage_events (startPerCustomer): bit masks over `moduleNames`
 * (bit j = moduleNames[j]) of the modules adopted in the usage window ending at T − h
 * (`early_mask`), used at all before T − h (`ever_mask`) and adopted in the window ending at T
 * (`late_mask`), adoption as the share feature measures it (events weighted by `count`).
 */
export function adoptionHoldoutQuery(asOf: string, moduleNames: readonly string[], params: Pick<NextModuleParams, 'minShare' | 'horizonDays'>): PerCustomerQuery {
  const end = `(DATE ${sqlString(asOf)} + INTERVAL 1 DAY)`;
  const cut = `(${end} - INTERVAL ${params.horizonDays} DAY)`;
  const list = `[${moduleNames.map(sqlString).join(', ')}]`;
  const inEarly = `ts >= ${cut} - INTERVAL ${WINDOW_DAYS} DAY AND ts < ${cut}`;
  const inLate = `ts >= ${end} - INTERVAL ${WINDOW_DAYS} DAY`;
  const adopted = (n: string, total: string) => `CASE WHEN pos IS NOT NULL AND ${n} > 0 AND ${n} / ${total} >= ${params.minShare} THEN 1 << (pos - 1) ELSE 0 END`;
  return {
    sql: `WITH per AS (
        SELECT customer_id, list_position(${list}, module) AS pos,
               coalesce(sum(n) FILTER (WHERE ${inEarly}), 0) AS early_n,
               coalesce(sum(n) FILTER (WHERE ts < ${cut}), 0) AS ever_n,
               coalesce(sum(n) FILTER (WHERE ${inLate}), 0) AS late_n
          FROM (SELECT customer_id, module, ts, CAST(coalesce("count", 1) AS DOUBLE) AS n FROM usage_events WHERE ts < ${end})
         GROUP BY customer_id, module
      )
      SELECT customer_id,
             bit_or(${adopted('early_n', 'early_total')})::INTEGER AS early_mask,
             bit_or(CASE WHEN pos IS NOT NULL AND ever_n > 0 THEN 1 << (pos - 1) ELSE 0 END)::INTEGER AS ever_mask,
             bit_or(${adopted('late_n', 'late_total')})::INTEGER AS late_mask
        FROM (SELECT *, sum(early_n) OVER w AS early_total, sum(late_n) OVER w AS late_total FROM per WINDOW w AS (PARTITION BY customer_id))
       GROUP BY customer_id`,
    columns: ['early_mask', 'ever_mask', 'late_mask'],
    fill: 0,
  };
}

/** AdoptionHoldout from the columns of adoptionHoldoutQuery by row position. */
export function adoptionHoldoutFrom(cols: Record<string, Float64Array>): AdoptionHoldout {
  return { earlyMask: Int32Array.from(cols.early_mask!), everMask: Int32Array.from(cols.ever_mask!), lateMask: Int32Array.from(cols.late_mask!) };
}
