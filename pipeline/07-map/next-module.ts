/**
 * Next best module per customer: the modules its most similar customers of the same segment
 * adopted and it has not, ranked by the share of those peers using each, with the lift over the
 * segment's base rate as evidence (docs/next-best-module.md).
 *
 * A customer's module use is a bit mask (bit j = modules[j] adopted: its share of the customer's
 * window events is at least minShare). Similarity is the Jaccard index of two masks. The peers
 * come from the training customers: per segment a seeded sample (at most sampleCap) of those with
 * any module use, stored in the bundle, so scoring needs no training data and costs at most
 * sampleCap mask comparisons per distinct (segment, mask), which are cached: customers sharing a
 * segment and a mask share one recommendation.
 */
import type { Matrix } from '../core/matrix.ts';
import { makeRng, sampleIndices } from '../core/random.ts';
import type { NextModuleParams } from './next-module-params.ts';

/** The most modules a mask holds (bits of an Int32). */
export const MAX_MODULES = 31;
/** The evaluation's cut-off: a hit is a truth module among the first HIT_AT recommended. */
export const HIT_AT = 3;

/** One segment's peer pool and adoption. */
export interface NextModuleSegment {
  /** Training customers of the segment with any module use (the base of `adoption`). */
  customers: number;
  /** Share of those customers who adopted each module, shape (modules). */
  adoption: number[];
  /** The sampled peers' module masks, in sample order (ties in similarity go to the earlier). */
  peers: number[];
  /** The modules most often among the segment's training customers' recommendations: module index and share of the segment's customers with module use. */
  recommended: { module: number; share: number }[];
}

/** The offline evaluation: recommended from adoption as of T − horizonDays, checked against the modules first adopted in (T − horizonDays, T]. */
export interface NextModuleEvaluation {
  horizonDays: number;
  at: number;
  /** Customers with module use at T − h who first adopted a module in (T − h, T]. */
  customers: number;
  nextModule: { hits: number; hitRate: number | null };
  popularity: { hits: number; hitRate: number | null };
}

/** nextmodule.json: what scoring needs to recommend, and how the recommendations fared offline. */
export interface NextModuleState {
  kind: 'finseg.nextmodule';
  version: 1;
  /** The modules, bit j of a mask: catalog ids, then the vendor's own module names. */
  modules: string[];
  /** The share feature of each module (read from the feature table at scoring). */
  features: string[];
  params: NextModuleParams;
  seed: number;
  /** Per k-means segment index, shape (k). */
  segments: NextModuleSegment[];
  /** Null when the data has no usage events to hold out (a feature table). */
  evaluation: NextModuleEvaluation | null;
}

/** One recommendation: module indices, the share of the customer's peers using each and the lift (peer share / the segment's adoption rate). */
export interface ModuleRecommendation {
  modules: number[];
  peerShare: number[];
  lift: number[];
}

const NONE: ModuleRecommendation = Object.freeze({ modules: [], peerShare: [], lift: [] }) as ModuleRecommendation;

function popcount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24) & 0xff;
}

const round = (x: number, d = 4): number => Math.round(x * 10 ** d) / 10 ** d + 0;

/** Per customer, the adoption mask from the share features (columns named `features` in `featureNames`; a missing column or NaN is not adopted), shape (n). */
export function adoptionMasks(X: Matrix, featureNames: readonly string[], features: readonly string[], minShare: number): Int32Array {
  if (features.length > MAX_MODULES) throw new Error(`adoptionMasks: at most ${MAX_MODULES} modules, got ${features.length}`);
  const cols = features.map((f) => featureNames.indexOf(f));
  const masks = new Int32Array(X.rows);
  for (let i = 0; i < X.rows; i++) {
    let mask = 0;
    for (let j = 0; j < cols.length; j++) {
      const c = cols[j]!;
      if (c < 0) continue;
      const share = X.data[i * X.cols + c]!;
      if (share > 0 && share >= minShare) mask |= 1 << j;
    }
    masks[i] = mask;
  }
  return masks;
}

/** The peer pools and adoption rates per segment from the training customers' masks (shape (n)) and k-means labels; `recommended` and the evaluation are filled by fitNextModule. */
export function nextModuleSegments(masks: Int32Array, labels: Int32Array, k: number, modules: number, sampleCap: number, seed: number): NextModuleSegment[] {
  const members: number[][] = Array.from({ length: k }, () => []);
  for (let i = 0; i < masks.length; i++) if (masks[i] !== 0) members[labels[i]!]!.push(i);
  return members.map((idx, s) => {
    const adoption = new Array<number>(modules).fill(0);
    for (const i of idx) for (let j = 0; j < modules; j++) if (masks[i]! & (1 << j)) adoption[j]!++;
    // A seeded draw per segment, then shuffled order: the sample order breaks similarity ties, so it must not follow the customer order.
    const rng = makeRng(seed + s);
    const picked = Array.from(sampleIndices(idx.length, sampleCap, rng));
    for (let a = picked.length - 1; a > 0; a--) {
      const b = rng.int(a + 1);
      [picked[a], picked[b]] = [picked[b]!, picked[a]!];
    }
    return { customers: idx.length, adoption: adoption.map((c) => (idx.length ? round(c / idx.length) : 0)), peers: picked.map((p) => masks[idx[p]!]!), recommended: [] };
  });
}

/** The neighbours' indices in `peers` for `mask`: the `neighbours` most similar by Jaccard index, ties to the earlier peer. */
function nearestPeers(peers: readonly number[], mask: number, neighbours: number): number[] {
  if (peers.length <= neighbours) return peers.map((_, p) => p);
  // J = a/b with b <= 31: distinct values differ by more than 1/4096 and equal values round alike, so the integer keeps order and ties.
  const key = new Int32Array(peers.length);
  const counts = new Int32Array(4097);
  for (let p = 0; p < peers.length; p++) {
    const union = popcount(mask | peers[p]!);
    key[p] = union ? Math.round((popcount(mask & peers[p]!) / union) * 4096) : 0;
    counts[key[p]!]!++;
  }
  let threshold = 4096;
  for (let seen = counts[4096]!; seen < neighbours; seen += counts[threshold]!) threshold--;
  let atThreshold = neighbours;
  for (let p = 0; p < peers.length; p++) if (key[p]! > threshold) atThreshold--;
  const out: number[] = [];
  for (let p = 0; p < peers.length; p++) {
    if (key[p]! > threshold) out.push(p);
    else if (key[p] === threshold && atThreshold > 0) {
      out.push(p);
      atThreshold--;
    }
  }
  return out;
}

/**
 * The next modules for one customer of segment `seg` with adoption `mask`: every module it lacks
 * that someone in the segment adopted, ranked by the share of its nearest peers using it, then by
 * the segment's adoption rate (so with no peer evidence the ranking is the segment's popularity),
 * then by module order; the first `topN`.
 */
export function recommendModules(seg: NextModuleSegment, mask: number, neighbours: number, topN: number): ModuleRecommendation {
  const m = seg.adoption.length;
  if (mask === 0) {
    // No use to compare: its peers are the whole segment, which is the popularity ranking.
    const modules = popularModules(seg, 0, topN);
    return { modules, peerShare: modules.map((j) => seg.adoption[j]!), lift: modules.map(() => 1) };
  }
  const nearest = nearestPeers(seg.peers, mask, neighbours);
  if (nearest.length === 0) return NONE;
  const users = new Array<number>(m).fill(0);
  // Votes weighted by similarity (Jaccard index): the closest peers' modules count most, and the
  // finer score breaks the ties a count over 25 peers leaves.
  const votes = new Array<number>(m).fill(0);
  for (const p of nearest) {
    const weight = popcount(mask & seg.peers[p]!) / popcount(mask | seg.peers[p]!);
    for (let j = 0; j < m; j++)
      if (seg.peers[p]! & (1 << j)) {
        users[j]!++;
        votes[j]! += weight;
      }
  }
  const candidates: number[] = [];
  for (let j = 0; j < m; j++) if (!(mask & (1 << j)) && seg.adoption[j]! > 0) candidates.push(j);
  candidates.sort((a, b) => votes[b]! - votes[a]! || seg.adoption[b]! - seg.adoption[a]! || a - b);
  const modules = candidates.slice(0, topN);
  const peerShare = modules.map((j) => round(users[j]! / nearest.length));
  return { modules, peerShare, lift: modules.map((j, r) => round(peerShare[r]! / seg.adoption[j]!, 2)) };
}

/** The popularity baseline: the segment's most adopted modules the customer lacks (ties by module order), the first `topN`. */
export function popularModules(seg: NextModuleSegment, mask: number, topN: number): number[] {
  const candidates: number[] = [];
  for (let j = 0; j < seg.adoption.length; j++) if (!(mask & (1 << j)) && seg.adoption[j]! > 0) candidates.push(j);
  return candidates.sort((a, b) => seg.adoption[b]! - seg.adoption[a]! || a - b).slice(0, topN);
}

/** Per customer (segment index, -1 = none; adoption mask), its recommendation; customers sharing both share one object. */
export function recommendCustomerModules(state: Pick<NextModuleState, 'segments' | 'params'>, segment: ArrayLike<number>, masks: ArrayLike<number>, topN = state.params.topN): ModuleRecommendation[] {
  const cache = new Map<number, ModuleRecommendation>();
  const out = new Array<ModuleRecommendation>(segment.length);
  const width = state.segments.length + 1;
  for (let i = 0; i < segment.length; i++) {
    const s = segment[i]!;
    const seg = s >= 0 ? state.segments[s] : undefined;
    if (!seg) {
      out[i] = NONE;
      continue;
    }
    // (mask, segment) as one number: the mask is below 2^31, so the product stays an exact integer.
    const key = (masks[i]! >>> 0) * width + s;
    let rec = cache.get(key);
    if (rec === undefined) cache.set(key, (rec = recommendModules(seg, masks[i]!, state.params.neighbours, topN)));
    out[i] = rec;
  }
  return out;
}

/** `module:peerShare:lift` per recommended module joined by ';' (score's `next_modules_evidence`); module names lose any ':' or ';'. */
export function evidenceText(rec: ModuleRecommendation, modules: readonly string[]): string {
  return rec.modules.map((j, r) => `${moduleText(modules[j]!)}:${rec.peerShare[r]!.toFixed(2)}:${rec.lift[r]!.toFixed(2)}`).join(';');
}

/** The recommended modules joined by ';' (score's `next_modules`). */
export function modulesText(rec: ModuleRecommendation, modules: readonly string[]): string {
  return rec.modules.map((j) => moduleText(modules[j]!)).join(';');
}

const moduleText = (name: string): string => name.replace(/[;:]/g, '_');
