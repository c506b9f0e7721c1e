/**
 * Stable segment ids across retrains. A retrained model has its own PCA basis and its own
 * centroid order, so its segments are matched to production's on something both models can be
 * read on: the same current customers. Production assigns them with its own preprocessing and
 * centroids, the candidate with its own; the overlap table counts customers per (production
 * segment, candidate segment), and the Hungarian assignment pairs segments to maximise the
 * customers kept together. A pair is accepted when its Jaccard index |P ∩ C| / |P ∪ C| reaches
 * `minJaccard`; an accepted candidate segment takes production's id and name, every other
 * candidate segment gets a new id never used before, and production segments left unmatched are
 * reported as vanished.
 *
 * Why overlap and not centroid distance: centroids live in each model's own PCA space, and
 * mapping them back to the features would still mix two different imputations, log choices and
 * scalers; member overlap needs no common space and measures exactly what a CRM cares about,
 * whether the same customers keep the same id.
 */
import { GENERIC_WORDS } from '../07-map/naming.ts';
import type { Bilingual } from '../07-map/playbooks.ts';
import { hungarian } from './hungarian.ts';

/** Matching settings. */
export interface MatchingParams {
  /** A candidate segment keeps a production id only when their Jaccard index reaches this. */
  minJaccard: number;
}

/** Default matching: a kept id needs Jaccard ≥ 0.5 (the larger part of a split or merge keeps it). */
export const defaultMatchingParams: MatchingParams = { minJaccard: 0.5 };

/** Customers per (a, b) label pair: shape (ka, kb), row-major; labels in [0, ka) and [0, kb). */
export function overlapTable(a: Int32Array, ka: number, b: Int32Array, kb: number): Int32Array {
  if (a.length !== b.length) throw new Error(`overlapTable: labelings have ${a.length} and ${b.length} items`);
  const table = new Int32Array(ka * kb);
  for (let i = 0; i < a.length; i++) table[a[i]! * kb + b[i]!]!++;
  return table;
}

/** A segment of the model being compared against: its public id and name. */
export interface KnownSegment {
  id: number;
  name: Bilingual;
}

/** How one candidate segment got its id. */
export interface SegmentIdentity {
  /** Index of the segment in the candidate (centroid order). */
  candidateIndex: number;
  /** The public id: production's when matched, else a new one. */
  id: number;
  name: Bilingual;
  status: 'kept' | 'new';
  /** The production id it was matched to, or null. */
  matchedId: number | null;
  /** Current customers in both, and the Jaccard index of the pair (0 when new). */
  overlap: number;
  jaccard: number;
  /** The name the candidate's own mapping gave it (differs from `name` when production's name was kept). */
  ownName: Bilingual;
}

/** The outcome of matching a candidate's segments to production's. */
export interface IdCarryOver {
  /** One entry per candidate segment, in candidate index order. */
  segments: SegmentIdentity[];
  /** Production segments no candidate segment matched, with their current-customer count under production. */
  vanished: { id: number; name: Bilingual; customers: number }[];
  /** The next id never used in this lineage (new segments took ids below it). */
  nextId: number;
}

/**
 * Matches candidate segments to production's over the same customers. `productionLabels` and
 * `candidateLabels` (each shape (n)) are segment indices under each model; `production[i]` is the
 * id and name of production index i; `candidateNames[j]` the candidate's own name of index j;
 * `nextId` the lineage's next unused id.
 */
export function carryOverIds(
  productionLabels: Int32Array,
  production: readonly KnownSegment[],
  candidateLabels: Int32Array,
  candidateNames: readonly Bilingual[],
  nextId: number,
  params: MatchingParams = defaultMatchingParams,
): IdCarryOver {
  const kp = production.length;
  const kc = candidateNames.length;
  const table = overlapTable(productionLabels, kp, candidateLabels, kc);
  const sizeP = new Int32Array(kp);
  const sizeC = new Int32Array(kc);
  for (const l of productionLabels) sizeP[l]!++;
  for (const l of candidateLabels) sizeC[l]!++;
  // Maximising kept customers = minimising their negative.
  const pairing = hungarian(Float64Array.from(table, (x) => -x), kp, kc);
  const matchedBy = new Int32Array(kc).fill(-1);
  const jaccardOf = (p: number, c: number): number => {
    const both = table[p * kc + c]!;
    const union = sizeP[p]! + sizeC[c]! - both;
    return union === 0 ? 0 : both / union;
  };
  pairing.forEach((c, p) => {
    if (c >= 0 && table[p * kc + c]! > 0 && jaccardOf(p, c) >= params.minJaccard) matchedBy[c] = p;
  });

  let next = Math.max(nextId, ...production.map((s) => s.id + 1));
  const keptNames = new Set<string>();
  for (let c = 0; c < kc; c++) if (matchedBy[c]! >= 0) keptNames.add(production[matchedBy[c]!]!.name.en);
  const segments: SegmentIdentity[] = [];
  for (let c = 0; c < kc; c++) {
    const p = matchedBy[c]!;
    if (p >= 0) {
      segments.push({ candidateIndex: c, id: production[p]!.id, name: production[p]!.name, status: 'kept', matchedId: production[p]!.id, overlap: table[p * kc + c]!, jaccard: jaccardOf(p, c), ownName: candidateNames[c]! });
      continue;
    }
    const id = next++;
    let name = candidateNames[c]!;
    // A new segment must not read like a kept one: add its id, as the naming stage does for duplicates.
    if (keptNames.has(name.en)) name = { en: `${name.en} ${GENERIC_WORDS.segment.en(id)}`, zh: `${name.zh}${GENERIC_WORDS.segment.zh(id)}` };
    segments.push({ candidateIndex: c, id, name, status: 'new', matchedId: null, overlap: 0, jaccard: 0, ownName: candidateNames[c]! });
  }
  const matchedProduction = new Set(segments.flatMap((s) => (s.matchedId === null ? [] : [s.matchedId])));
  const vanished = production.flatMap((s, p) => (matchedProduction.has(s.id) ? [] : [{ id: s.id, name: s.name, customers: sizeP[p]! }]));
  return { segments, vanished, nextId: next };
}
