import { LENS_LABELS, LENS_NAMES, type CustomerLenses, type LensName } from '../06-categorize/lenses.ts';
import type { Matrix } from '../core/matrix.ts';
import { lensMeasurability, type LensMeasurability } from '../06-categorize/measurability.ts';
import { behaviourFacts, defaultBehaviourParams, type BehaviourFact, type BehaviourParams } from './behaviour.ts';
import { segmentSummaries, type FeatureSummary } from './summaries.ts';
import { behaviourTag, defaultNamingParams, MODULE_WORDS, nameSegments, type NamingParams } from './naming.ts';
import { PLAYBOOK_TABLE, type Bilingual, type DominantLenses, type Playbook, type PlaybookTable } from './playbooks.ts';
import { defaultPlayParams, distinctMessages, segmentPlaybook, type LensEvidence, type PlayParams } from './plays.ts';

/**
 * The map stage: lays each data-driven segment over the five documented lenses (composition,
 * dominant label, lift, Cramér's V), finds the features that set it apart, and gives it a
 * bilingual name and a playbook. The cards are plain data, stored in the bundle's segments.json.
 */

/** Map-stage settings. */
export interface MapParams {
  /** A label dominates a segment when it holds at least this share of it; otherwise the lens is 'mixed'. */
  dominantMinShare: number;
  /** How many distinguishing features a card lists. */
  topDistinguishing: number;
  /** How many example customers a card lists. */
  exampleCount: number;
  naming: NamingParams;
  /** Thresholds of the behaviour facts names and playbooks are built from. */
  behaviour: BehaviourParams;
  plays: PlayParams;
}

/** Default map-stage settings. */
export const defaultMapParams: MapParams = {
  dominantMinShare: 0.5,
  topDistinguishing: 5,
  exampleCount: 5,
  naming: defaultNamingParams,
  behaviour: defaultBehaviourParams,
  plays: defaultPlayParams,
};

/** One lens over one segment. */
export interface LensComposition {
  lens: LensName;
  /** Customers of the segment per label, every label of the lens in canonical order (zeros included). */
  counts: Record<string, number>;
  /** counts / segment size (all 0 for an empty segment). */
  shares: Record<string, number>;
  /** The label with the largest share (ties: canonical order), whether or not it dominates. */
  plurality: string;
  /** The plurality label when its share ≥ dominantMinShare, else 'mixed'. */
  dominant: string;
  /** Share of the dominant label; for 'mixed', the plurality label's share (how far from dominance). */
  dominantShare: number;
  /** Share of the dominant label in the segment over its share in the whole base; 1 for 'mixed' (no concentration claimed). */
  lift: number;
  /** Cramér's V of the segmentation against this lens over the whole base (the same on every card). */
  cramersV: number;
}

/** A feature that sets a segment apart from the rest of the base. */
export interface DistinguishingFeature {
  feature: string;
  segmentMean: number;
  restMean: number;
  /**
   * (segmentMean − restMean) / pooled standard deviation (Cohen's d); 0 when neither group varies
   * and the means agree; ±PERFECT_SEPARATION (finite, so JSON keeps it) when `perfect`.
   */
  standardisedDifference: number;
  /** Present and true when neither group varies but the means differ: the feature alone tells the segment from the rest. */
  perfect?: boolean;
}

/**
 * The standardised difference stored for a perfectly separating feature: Cohen's d is unbounded
 * there, and the largest finite double keeps JSON valid and puts the feature first for anyone
 * who ranks by |d| without reading `perfect`.
 */
export const PERFECT_SEPARATION = Number.MAX_VALUE;

/**
 * A group's spread counts as zero below this share of the larger |mean|: means and sums of
 * squares of identical values pick up rounding (0.1 three times averages to 0.10000000000000002),
 * which would otherwise turn a perfect separation into an enormous but ordinary d.
 */
const ROUNDING = 1e-9;

/** Cohen's d from the two means and the pooled sd, with the zero-spread cases: equal means 0, different means a perfect separation. */
function effect(segmentMean: number, restMean: number, pooledSd: number): Omit<DistinguishingFeature, 'feature' | 'segmentMean' | 'restMean'> {
  const diff = segmentMean - restMean;
  const noise = ROUNDING * Math.max(Math.abs(segmentMean), Math.abs(restMean));
  if (pooledSd <= noise) {
    if (Math.abs(diff) <= noise) return { standardisedDifference: 0 };
    return { standardisedDifference: Math.sign(diff) * PERFECT_SEPARATION, perfect: true };
  }
  // A finite d can still overflow (tiny spread, huge means): it is then as good as perfect, and stays finite.
  const d = diff / pooledSd;
  return { standardisedDifference: Number.isFinite(d) ? d : Math.sign(d) * PERFECT_SEPARATION };
}

/** Everything a report or CRM needs to know about one segment. */
export interface SegmentCard {
  id: number;
  size: number;
  share: number;
  lenses: LensComposition[];
  /** Perfect separations first, then the strongest |standardisedDifference|, at most `topDistinguishing`. */
  distinguishing: DistinguishingFeature[];
  name: Bilingual;
  playbook: Playbook;
  /** What the segment measurably does (name and playbook are built from it): facts with their evidence, and the summaries they read. */
  behaviour: { facts: BehaviourFact[]; stats: Record<string, FeatureSummary> };
  /** Customers nearest the centroid when distances are given, else the first in input order. */
  exampleCustomerIds: string[];
}

/** Arguments of mapSegments; all per-customer arrays have length n. */
export interface MapSegmentsArgs {
  /** Segment id per customer, in [0, k). */
  labels: Int32Array;
  k: number;
  lenses: CustomerLenses;
  /** Raw feature values, shape (n, featureNames.length); NaN = undefined, skipped in means. */
  features: Matrix;
  featureNames: readonly string[];
  customerIds: readonly string[];
  /** Distance of each customer to its segment's centroid. */
  distances?: Float64Array;
  params?: Partial<MapParams>;
  playbooks?: PlaybookTable;
  /** Which lenses say something about this export; computed from `lenses` when not given. Lenses that do not are left out of names and playbooks. */
  lensMeasurability?: LensMeasurability;
  /** Display names of features, e.g. vendor modules ("Bank feeds" for share_vendor_bank_feeds); the feature name otherwise. */
  featureLabels?: Readonly<Record<string, Bilingual>>;
}

/** The display name of a feature in names and playbooks: a given label, a catalog module's words, else the feature's own name. */
export function featureLabel(feature: string, labels: Readonly<Record<string, Bilingual>> = {}): Bilingual {
  const given = labels[feature];
  if (given) return given;
  const module = MODULE_WORDS[feature.slice('share_'.length) as keyof typeof MODULE_WORDS];
  if (feature.startsWith('share_') && module) return module;
  // A profile table's category indicator `Contract=Month-to-month` reads "Contract: Month-to-month".
  const eq = feature.indexOf('=');
  if (eq > 0) return { en: `${feature.slice(0, eq)}: ${feature.slice(eq + 1)}`, zh: `${feature.slice(0, eq)}：${feature.slice(eq + 1)}` };
  const vendor = feature.startsWith('share_vendor_') ? feature.slice('share_vendor_'.length).replace(/_/g, ' ') : feature;
  return { en: vendor, zh: vendor };
}

/**
 * Cramér's V between two categorical codings of the same items: sqrt(χ² / (n · (min(r, c) − 1)))
 * over the observed categories, without bias correction. 0 when either side has one category
 * (no association can show), 1 when each determines the other.
 */
export function cramersV(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  if (b.length !== n) throw new Error(`cramersV: ${n} values against ${b.length}`);
  if (n === 0) return 0;
  const codes = (xs: ArrayLike<number>) => {
    const index = new Map<number, number>();
    const out = new Int32Array(xs.length);
    for (let i = 0; i < xs.length; i++) {
      let c = index.get(xs[i]!);
      if (c === undefined) index.set(xs[i]!, (c = index.size));
      out[i] = c;
    }
    return { codes: out, levels: index.size };
  };
  const ca = codes(a);
  const cb = codes(b);
  const r = ca.levels;
  const c = cb.levels;
  if (Math.min(r, c) < 2) return 0;
  const table = new Float64Array(r * c);
  const rowSum = new Float64Array(r);
  const colSum = new Float64Array(c);
  for (let i = 0; i < n; i++) {
    table[ca.codes[i]! * c + cb.codes[i]!]!++;
    rowSum[ca.codes[i]!]!++;
    colSum[cb.codes[i]!]!++;
  }
  let chi2 = 0;
  for (let i = 0; i < r; i++) {
    for (let j = 0; j < c; j++) {
      const expected = (rowSum[i]! * colSum[j]!) / n;
      const d = table[i * c + j]! - expected;
      chi2 += (d * d) / expected;
    }
  }
  // Guards against rounding pushing a perfect association a hair above 1.
  return Math.min(1, Math.sqrt(chi2 / (n * (Math.min(r, c) - 1))));
}

/** Codes of one lens's labels over all customers, by canonical label index. */
function lensCodes(lens: LensName, labels: readonly string[]): Int32Array {
  const index = new Map(LENS_LABELS[lens].map((l, i) => [l, i]));
  return Int32Array.from(labels, (l) => {
    const c = index.get(l);
    if (c === undefined) throw new Error(`mapSegments: ${lens} label ${JSON.stringify(l)} is not one of ${LENS_LABELS[lens].join(', ')}`);
    return c;
  });
}

/** Composition of one lens over one segment, given the segment's label counts and the base's. */
export function lensComposition(
  lens: LensName,
  segmentCounts: ArrayLike<number>,
  baseCounts: ArrayLike<number>,
  v: number,
  dominantMinShare: number,
): LensComposition {
  const labels = LENS_LABELS[lens];
  const size = Array.from(segmentCounts).reduce((s, x) => s + x, 0);
  const n = Array.from(baseCounts).reduce((s, x) => s + x, 0);
  const counts: Record<string, number> = {};
  const shares: Record<string, number> = {};
  let top = 0;
  labels.forEach((l, j) => {
    counts[l] = segmentCounts[j]!;
    shares[l] = size === 0 ? 0 : segmentCounts[j]! / size;
    if (segmentCounts[j]! > segmentCounts[top]!) top = j;
  });
  const plurality = labels[top]!;
  const topShare = shares[plurality]!;
  const dominates = size > 0 && topShare >= dominantMinShare;
  return {
    lens,
    counts,
    shares,
    plurality,
    dominant: dominates ? plurality : 'mixed',
    dominantShare: topShare,
    lift: dominates ? topShare / (baseCounts[top]! / n) : 1,
    cramersV: v,
  };
}

/** Means of column j over the rows in and out of the segment, and the standardised difference; NaN values skipped. */
export function standardisedDifference(values: ArrayLike<number>, inSegment: ArrayLike<boolean>): Omit<DistinguishingFeature, 'feature'> {
  const acc = [
    { n: 0, sum: 0, sumSq: 0 },
    { n: 0, sum: 0, sumSq: 0 },
  ];
  for (let i = 0; i < values.length; i++) {
    const x = values[i]!;
    if (!Number.isFinite(x)) continue;
    const g = acc[inSegment[i] ? 0 : 1]!;
    g.n++;
    g.sum += x;
  }
  const means = acc.map((g) => (g.n === 0 ? Number.NaN : g.sum / g.n));
  // Second pass on deviations: stable for large raw values such as transaction volumes.
  for (let i = 0; i < values.length; i++) {
    const x = values[i]!;
    if (!Number.isFinite(x)) continue;
    const gi = inSegment[i] ? 0 : 1;
    const d = x - means[gi]!;
    acc[gi]!.sumSq += d * d;
  }
  const [seg, rest] = acc as [(typeof acc)[0], (typeof acc)[0]];
  const segmentMean = means[0]!;
  const restMean = means[1]!;
  const dof = seg.n + rest.n - 2;
  if (!(seg.n > 0 && rest.n > 0 && dof > 0)) return { segmentMean, restMean, standardisedDifference: Number.NaN };
  return { segmentMean, restMean, ...effect(segmentMean, restMean, Math.sqrt((seg.sumSq + rest.sumSq) / dof)) };
}

/**
 * Segment cards for a fitted segmentation: composition over each lens, the distinguishing
 * features, a unique bilingual name and a playbook per segment; plus Cramér's V per lens.
 */
export function mapSegments(args: MapSegmentsArgs): { cards: SegmentCard[]; cramersV: Record<string, number> } {
  const params: MapParams = { ...defaultMapParams, ...args.params };
  const { labels, k, features, featureNames, customerIds } = args;
  const n = labels.length;
  if (features.rows !== n) throw new Error(`mapSegments: features has ${features.rows} rows for ${n} labels`);
  if (features.cols !== featureNames.length) throw new Error(`mapSegments: features has ${features.cols} columns for ${featureNames.length} feature names`);
  if (customerIds.length !== n) throw new Error(`mapSegments: ${customerIds.length} customer ids for ${n} labels`);
  if (args.distances && args.distances.length !== n) throw new Error(`mapSegments: ${args.distances.length} distances for ${n} labels`);
  for (const lens of LENS_NAMES) {
    if (args.lenses[lens].length !== n) throw new Error(`mapSegments: lens ${lens} has ${args.lenses[lens].length} labels for ${n} customers`);
  }
  for (let i = 0; i < n; i++) {
    if (!(labels[i]! >= 0 && labels[i]! < k)) throw new Error(`mapSegments: customer ${i} has segment ${labels[i]}, outside [0, ${k})`);
  }

  const sizes = new Int32Array(k);
  for (let i = 0; i < n; i++) sizes[labels[i]!]!++;

  const cramers: Record<string, number> = {};
  const compositions: LensComposition[][] = Array.from({ length: k }, () => []);
  for (const lens of LENS_NAMES) {
    const codes = lensCodes(lens, args.lenses[lens]);
    const levels = LENS_LABELS[lens].length;
    const v = cramersV(labels, codes);
    cramers[lens] = v;
    const base = new Float64Array(levels);
    const perSegment = new Float64Array(k * levels);
    for (let i = 0; i < n; i++) {
      base[codes[i]!]!++;
      perSegment[labels[i]! * levels + codes[i]!]!++;
    }
    for (let s = 0; s < k; s++) {
      compositions[s]!.push(lensComposition(lens, perSegment.subarray(s * levels, (s + 1) * levels), base, v, params.dominantMinShare));
    }
  }

  const differences = segmentDifferences(features, labels, k);
  const distinguishing = differences.map((perFeature) => distinguishingFeatures(perFeature, featureNames, params.topDistinguishing));
  const measurable = args.lensMeasurability ?? lensMeasurability(args.lenses);
  // A lens that is not measurable from this export names and steers nothing: it reads as 'unknown'.
  const dominantOf = (s: number) => Object.fromEntries(compositions[s]!.map((c) => [c.lens, measurable[c.lens].measurable ? c.dominant : 'unknown'])) as unknown as DominantLenses;
  const lensEvidence = (s: number, lens: LensName): LensEvidence | null => {
    const c = compositions[s]!.find((x) => x.lens === lens)!;
    return measurable[lens].measurable && c.dominant !== 'mixed' && c.dominant !== 'unknown' ? { dominant: c.dominant, dominantShare: c.dominantShare, lift: c.lift } : null;
  };
  const stats = segmentSummaries(features, featureNames, labels, k, differences, params.behaviour.lapseDays);
  const label = (f: string) => featureLabel(f, args.featureLabels);
  const ctx = { label, hasUsage: hasUsageOf(features, featureNames) };
  const facts = stats.map((st) => behaviourFacts(st, ctx, params.behaviour));
  const names = nameSegments(
    Array.from({ length: k }, (_, s) => ({ id: s, dominant: dominantOf(s), distinguishing: distinguishing[s]!, facts: facts[s]! })),
    params.naming,
  );
  const playbooks = distinctMessages(
    Array.from({ length: k }, (_, s) =>
      segmentPlaybook(
        { dominant: dominantOf(s), lifecycle: lensEvidence(s, 'lifecycle'), size: lensEvidence(s, 'size'), technology: lensEvidence(s, 'technology'), facts: facts[s]!, stats: stats[s]!, peers: stats.filter((_, q) => q !== s && sizes[q]! > 0).map((st) => ({ stats: st })), label },
        args.playbooks ?? PLAYBOOK_TABLE,
        params.plays,
      ),
    ),
    facts,
    distinguishing.map((d) => (d[0] ? behaviourTag(d[0].feature, d[0].standardisedDifference >= 0 ? 'high' : 'low') : null)),
  );

  const cards: SegmentCard[] = Array.from({ length: k }, (_, s) => ({
    id: s,
    size: sizes[s]!,
    share: n === 0 ? 0 : sizes[s]! / n,
    lenses: compositions[s]!,
    distinguishing: distinguishing[s]!,
    name: names[s]!,
    playbook: playbooks[s]!,
    behaviour: { facts: facts[s]!, stats: stats[s]! },
    exampleCustomerIds: examples(labels, s, customerIds, args.distances, params.exampleCount),
  }));
  return { cards, cramersV: cramers };
}

/**
 * `standardisedDifference` of every feature for every segment against the rest, from one pass
 * over the rows for the per-segment counts and sums and one for the squared deviations; the rest
 * of the customers are pooled from the other segments (Chan et al.'s combination of means and
 * sums of squares). Equal to calling standardisedDifference per segment and feature within
 * rounding (tested), but O(n·p) instead of O(k·n·p) with a strided column copy each time, which
 * took about 20 s at 1M customers. Shape: [segment][feature].
 */
export function segmentDifferences(features: Matrix, labels: Int32Array, k: number): Omit<DistinguishingFeature, 'feature'>[][] {
  const { rows: n, cols: p, data } = features;
  const count = new Float64Array(k * p);
  const sum = new Float64Array(k * p);
  for (let i = 0; i < n; i++) {
    const base = labels[i]! * p;
    for (let j = 0; j < p; j++) {
      const x = data[i * p + j]!;
      if (!Number.isFinite(x)) continue;
      count[base + j]!++;
      sum[base + j]! += x;
    }
  }
  const mean = sum.map((v, c) => (count[c] === 0 ? Number.NaN : v / count[c]!));
  // Deviations from each segment's own mean: stable for large raw values such as transaction volumes.
  const sumSq = new Float64Array(k * p);
  for (let i = 0; i < n; i++) {
    const base = labels[i]! * p;
    for (let j = 0; j < p; j++) {
      const x = data[i * p + j]!;
      if (!Number.isFinite(x)) continue;
      const d = x - mean[base + j]!;
      sumSq[base + j]! += d * d;
    }
  }
  return Array.from({ length: k }, (_, s) =>
    Array.from({ length: p }, (_, j) => {
      const segN = count[s * p + j]!;
      let restN = 0;
      let restSum = 0;
      for (let l = 0; l < k; l++) if (l !== s) { restN += count[l * p + j]!; restSum += sum[l * p + j]!; }
      const segmentMean = mean[s * p + j]!;
      const restMean = restN === 0 ? Number.NaN : restSum / restN;
      let restSq = 0;
      for (let l = 0; l < k; l++) {
        if (l === s || count[l * p + j] === 0) continue;
        const d = mean[l * p + j]! - restMean;
        restSq += sumSq[l * p + j]! + count[l * p + j]! * d * d;
      }
      const dof = segN + restN - 2;
      if (!(segN > 0 && restN > 0 && dof > 0)) return { segmentMean, restMean, standardisedDifference: Number.NaN };
      return { segmentMean, restMean, ...effect(segmentMean, restMean, Math.sqrt((sumSq[s * p + j]! + restSq) / dof)) };
    }),
  );
}

/** The top features of a segment: perfect separations first, then by |standardised difference| (ties: catalog order); undefined differences left out. */
function distinguishingFeatures(perFeature: Omit<DistinguishingFeature, 'feature'>[], featureNames: readonly string[], top: number): DistinguishingFeature[] {
  const out: DistinguishingFeature[] = [];
  perFeature.forEach((d, j) => {
    if (Number.isFinite(d.standardisedDifference)) out.push({ feature: featureNames[j]!, ...d });
  });
  // Array.prototype.sort is stable, so equal magnitudes keep catalog order.
  out.sort((x, y) => Number(y.perfect ?? false) - Number(x.perfect ?? false) || Math.abs(y.standardisedDifference) - Math.abs(x.standardisedDifference));
  return out.slice(0, top);
}

/** Whether the export has usage events: some customer has an event in the window. */
function hasUsageOf(features: Matrix, featureNames: readonly string[]): boolean {
  const j = featureNames.indexOf('events_90');
  if (j < 0) return false;
  for (let i = 0; i < features.rows; i++) if (features.data[i * features.cols + j]! > 0) return true;
  return false;
}

/** Up to `count` customer ids of segment s: nearest the centroid first when distances are given (NaN last), else input order. */
function examples(labels: Int32Array, s: number, customerIds: readonly string[], distances: Float64Array | undefined, count: number): string[] {
  // The `count` best by (distance, row) kept in order as the rows stream by: no sort of a whole segment.
  const key = (i: number) => (distances && Number.isFinite(distances[i]!) ? distances[i]! : Number.POSITIVE_INFINITY);
  const best: number[] = [];
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] !== s) continue;
    if (best.length === count && (!distances || key(i) >= key(best[count - 1]!))) continue;
    let at = best.length;
    while (at > 0 && distances && key(i) < key(best[at - 1]!)) at--;
    best.splice(at, 0, i);
    if (best.length > count) best.pop();
  }
  return best.map((i) => customerIds[i]!);
}
