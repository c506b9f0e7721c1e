import type { ManifestView, ReportCard, ReportSegments, ReportStates } from './input.ts';
import { evaluationOf } from './evaluation-view.ts';
import type { Evaluation } from '../09-drift/evaluate.ts';
import { churnOf, type ChurnView } from './churn-view.ts';
import { comparisonOf, trendsOf, type ReportComparison, type ReportTrends } from './drift-view.ts';
import type { VendorModule } from './i18n.ts';
import { arr, num, obj, str, type Json } from './json-view.ts';
import { PROFILE_VERSION, type SegmentProfile } from './profile.ts';
import type { ValueView } from './value-view.ts';

/**
 * The report's reading of a bundle: one typed view over the manifest and the stored states,
 * with every optional part (profile, stability, rules, comparison, trends) either present
 * and well-formed or null, so the renderers never probe raw JSON.
 */

/** A k-selection row with whatever metrics the bundle recorded for it. */
export interface KRow {
  k: number;
  eligible: boolean;
  minShare: number | null;
  /** Metric name → value (null when undefined for this k). */
  metrics: Record<string, number | null>;
}

/** A segment card plus what later stages may add to it. */
export interface ReportSegment extends Omit<ReportCard, 'stability' | 'explanation'> {
  /** Position in the bundle's segment order: the index of every per-segment array (profile, trends), whatever the public id. */
  index: number;
  /** Mean Jaccard of the segment over bootstrap resamples, when recorded (the card's `stability.jaccard`). */
  stability: number | null;
  /** Whether the bundle flags the segment as unstable (Jaccard under its threshold); null when not recorded. */
  unstable: boolean | null;
  /** Threshold-tree rules that say who is in the segment (one per leaf), when recorded. */
  rules: ReportRule[];
  /** How well those rules capture the segment (recall) and only it (precision), when recorded. */
  ruleRecall: number | null;
  rulePrecision: number | null;
}

/** One interval of a rule: above < feature <= atMost, either bound optional. */
export interface ReportRuleCondition {
  feature: string;
  above: number | null;
  atMost: number | null;
  missingIncluded: boolean;
}

/** A rule as text, with its conditions when the bundle stores them (so the report can translate feature names). */
export interface ReportRule {
  text: string;
  conditions: ReportRuleCondition[] | null;
}

/** Everything the HTML report renders. */
export interface ReportModel {
  version: string;
  createdAt: string;
  finsegVersion: string;
  asOf: string;
  dataDir: string;
  seed: number | null;
  customers: number;
  k: number;
  quality: {
    silhouette: number | null;
    heldOutAccuracy: number | null;
    nHeldOut: number | null;
    plantedAri: number | null;
    /** The signup-attributes (cold-start) classifier's held-out agreement and its majority-class baseline, when trained. */
    coldStart: { heldOutAccuracy: number; majorityBaseline: number | null } | null;
    pcaComponents: number | null;
    pcaExplainedVariance: number | null;
  };
  input: { tables: { name: string; read: number; accepted: number; quarantined: number; byReason: Record<string, number> }[]; absent: string[] };
  features: {
    names: string[];
    dropped: { feature: string; reason: string }[];
    /** The vendor modules with share features of their own (empty for bundles without them). */
    vendorModules: VendorModule[];
  };
  /** Per lens, whether the export could measure it (segments.lensMeasurability); null for bundles without it, where every lens counts as measured. */
  lensMeasurability: Record<string, LensMeasureView> | null;
  kSelection: { rows: KRow[]; metrics: { key: string; higherIsBetter: boolean }[]; rule: string | null };
  cramersV: Record<string, number>;
  segments: ReportSegment[];
  profile: SegmentProfile | null;
  /** Fidelity of the explanation rules to the k-means assignment, when recorded. */
  ruleFidelity: number | null;
  /** The structure check found no k above its column-shuffled null (metrics.structure.clear false); false when not recorded. */
  noClearStructure: boolean;
  comparison: ReportComparison | null;
  /** nextmodule.json as stored (read by next-module-view.ts); null when the bundle has none, undefined when the caller did not say. */
  nextModule?: unknown;
  trends: ReportTrends | null;
  /** Value per segment's basis (each segment's own is on the segment), or why there is none. */
  value: ValueView;
  /** The action evaluation (finseg evaluate), when given. */
  evaluation: Evaluation | null;
  /** The churn model (churn.json), when the export had a churn label. */
  churn: ChurnView | null;
}

/** Whether one lens could be measured from the export, and the column(s) that would make it measurable. */
export interface LensMeasureView {
  measurable: boolean;
  unknownShare: number | null;
  needs: string;
}

/** The k-selection metrics the report knows how to read, in display order, with their direction. */
export const K_METRICS: readonly { key: string; higherIsBetter: boolean }[] = [
  { key: 'silhouette', higherIsBetter: true },
  { key: 'calinskiHarabasz', higherIsBetter: true },
  { key: 'daviesBouldin', higherIsBetter: false },
  { key: 'inertia', higherIsBetter: false },
  { key: 'stability', higherIsBetter: true },
];

/** The report view of a bundle: the manifest, the segments state and whichever optional states the caller has. */
export function reportModel(manifest: ManifestView, segments: ReportSegments, states: ReportStates = {}): ReportModel {
  const m = manifest as unknown as Json;
  const metrics = obj(m.metrics) ?? {};
  const input = obj(m.input) ?? {};
  const stabilityById = segmentStability(states.cluster, segments);
  const explain = explainRules(states.explain, segments);
  const profile = obj(segments.profile)?.kind === 'finseg.segment-profile' && obj(segments.profile)?.version === PROFILE_VERSION ? (segments.profile as SegmentProfile) : null;
  return {
    version: String(m.version),
    createdAt: String(m.createdAt),
    finsegVersion: String(m.finsegVersion ?? ''),
    asOf: String(input.asOf ?? ''),
    dataDir: String(input.dataDir ?? ''),
    seed: num(obj(m.seeds)?.run),
    customers: num(metrics.customers) ?? segments.cards.reduce((s, c) => s + c.size, 0),
    k: num(metrics.k) ?? segments.cards.length,
    quality: qualityOf(metrics),
    input: inputTablesOf(input),
    features: featuresOf(obj(m.features) ?? {}),
    lensMeasurability: lensMeasurabilityOf(segments.lensMeasurability),
    kSelection: kSelectionOf(obj(states.cluster), metrics),
    cramersV: segments.cramersV,
    segments: segments.cards.map(({ stability: _s, explanation: _e, ...c }, index) => {
      const st = stabilityById.get(c.id);
      const ex = explain.bySegment.get(c.id);
      return { ...c, index, stability: st?.jaccard ?? null, unstable: st?.unstable ?? null, rules: ex?.rules ?? [], ruleRecall: ex?.recall ?? null, rulePrecision: ex?.precision ?? null };
    }),
    profile,
    ruleFidelity: explain.fidelity,
    noClearStructure: obj(metrics.structure)?.clear === false,
    comparison: comparisonOf(states.comparison),
    ...(states.nextModule !== undefined ? { nextModule: states.nextModule } : {}),
    trends: trendsOf(states.trends),
    value: { basis: segments.value ?? null, subscriptionsAbsent: arr(input.absentTables).includes('subscriptions') },
    evaluation: evaluationOf(states.evaluation),
    churn: churnOf(states.churn),
  };
}

/** The k-selection evidence: the cluster state's rows (else the manifest's), the metrics any row records, and the rule applied. */
function kSelectionOf(cluster: Json | null, metrics: Json): ReportModel['kSelection'] {
  const selectionRows = arr(cluster?.selection).length ? arr(cluster?.selection) : arr(metrics.kSelection);
  const rows: KRow[] = selectionRows.flatMap((r) => {
    const row = obj(r);
    const k = num(row?.k);
    if (!row || k === null) return [];
    const values: Record<string, number | null> = {};
    for (const { key } of K_METRICS) if (key in row) values[key] = num(row[key]);
    // Stability may be recorded as an object ({ mean, … }) rather than a number.
    const stab = obj(row.stability);
    if (stab) values.stability = num(stab.mean) ?? num(stab.ari) ?? null;
    return [{ k, eligible: row.eligible !== false, minShare: num(row.minShare), metrics: values }];
  });
  const shownMetrics = K_METRICS.filter(({ key }) => rows.some((r) => r.metrics[key] !== null && r.metrics[key] !== undefined));
  return { rows, metrics: shownMetrics, rule: str(cluster?.selectionRule) ?? str(metrics.selectionRule) };
}

/** The header's quality figures from the manifest's metrics, each null when not recorded. */
function qualityOf(metrics: Json): ReportModel['quality'] {
  const classifier = obj(metrics.classifier) ?? {};
  return {
    silhouette: num(metrics.silhouette),
    heldOutAccuracy: num(classifier.heldOutAccuracy),
    nHeldOut: num(classifier.nHeldOut),
    plantedAri: num(metrics.plantedArchetypeAri),
    coldStart: num(obj(metrics.coldStart)?.heldOutAccuracy) === null ? null : { heldOutAccuracy: num(obj(metrics.coldStart)?.heldOutAccuracy)!, majorityBaseline: num(obj(metrics.coldStart)?.majorityBaseline) },
    pcaComponents: num(metrics.pcaComponents),
    pcaExplainedVariance: num(metrics.pcaExplainedVariance),
  };
}

/** The manifest's input section: rows read, accepted and quarantined per table, and the absent tables. */
function inputTablesOf(input: Json): ReportModel['input'] {
  return {
    tables: Object.entries(obj(input.tables) ?? {}).map(([name, t]) => {
      const tt = obj(t) ?? {};
      const reasons = obj(tt.byReason) ?? {};
      return {
        name,
        read: num(tt.read) ?? 0,
        accepted: num(tt.accepted) ?? 0,
        quarantined: num(tt.quarantined) ?? 0,
        byReason: Object.fromEntries(Object.entries(reasons).map(([r, n]) => [r, num(n) ?? 0])),
      };
    }),
    absent: arr(input.absentTables).map(String),
  };
}

/** The manifest's features section: the features used, those dropped with their reason, and the vendor modules. */
function featuresOf(features: Json): ReportModel['features'] {
  return {
    names: arr(features.names).map(String),
    dropped: arr(features.dropped).flatMap((d) => {
      const o = obj(d);
      return o ? [{ feature: String(o.feature), reason: String(o.reason) }] : [];
    }),
    vendorModules: vendorModulesOf(features),
  };
}

/** The vendor modules of the manifest's features section (`vendorModules: { name, feature }[]`), well-formed entries only. */
export function vendorModulesOf(features: Json): VendorModule[] {
  return arr(features.vendorModules).flatMap((v) => {
    const o = obj(v);
    const name = str(o?.name);
    const feature = str(o?.feature);
    return name !== null && feature !== null ? [{ name, feature }] : [];
  });
}

/** The segments state's `lensMeasurability`, when present: a lens without a boolean `measurable` is left out (read as measured). */
function lensMeasurabilityOf(json: unknown): Record<string, LensMeasureView> | null {
  const m = obj(json);
  if (!m) return null;
  const out: Record<string, LensMeasureView> = {};
  for (const [lens, v] of Object.entries(m)) {
    const o = obj(v);
    if (typeof o?.measurable !== 'boolean') continue;
    out[lens] = { measurable: o.measurable, unknownShare: num(o.unknownShare), needs: str(o.needs) ?? '' };
  }
  return out;
}

/** Whether the report may show a lens's composition: true unless the bundle says the export could not measure it. */
export function lensMeasured(model: Pick<ReportModel, 'lensMeasurability'>, lens: string): boolean {
  return model.lensMeasurability?.[lens]?.measurable !== false;
}

/** Unstable below this mean Jaccard when the bundle records scores but no flag (the cluster stage's default, after Hennig's clusterboot). */
const UNSTABLE_JACCARD = 0.6;

/**
 * Per-segment stability: from the card's own `stability` ({ jaccard, unstable }, as train adds it)
 * or else from the cluster state's `stability.jaccard[]` / `unstable[]`.
 */
function segmentStability(cluster: unknown, segments: ReportSegments): Map<number, { jaccard: number; unstable: boolean }> {
  const out = new Map<number, { jaccard: number; unstable: boolean }>();
  for (const c of segments.cards as unknown as Json[]) {
    const o = obj(c.stability);
    const jaccard = num(c.stability) ?? num(o?.jaccard);
    if (jaccard === null) continue;
    out.set(Number(c.id), { jaccard, unstable: typeof o?.unstable === 'boolean' ? o.unstable : jaccard < UNSTABLE_JACCARD });
  }
  const st = obj(obj(cluster)?.stability);
  const flags = arr(st?.unstable);
  const below = num(st?.unstableBelow) ?? UNSTABLE_JACCARD;
  arr(st?.jaccard).forEach((v, id) => {
    const jaccard = num(v);
    if (jaccard === null || out.has(id)) return;
    out.set(id, { jaccard, unstable: typeof flags[id] === 'boolean' ? (flags[id] as boolean) : jaccard < below });
  });
  return out;
}

interface SegmentRules {
  rules: ReportRule[];
  recall: number | null;
  precision: number | null;
}

/** Rules per segment and the tree's fidelity: from the card's `explanation` (as train adds it) or the explain state's `segments[]`. */
function explainRules(json: unknown, segments: ReportSegments): { bySegment: Map<number, SegmentRules>; fidelity: number | null } {
  const bySegment = new Map<number, SegmentRules>();
  const read = (o: Json | null): SegmentRules | null => {
    if (!o) return null;
    const rules = arr(o.rules).filter((r): r is string => typeof r === 'string').map((text) => ({ text, conditions: null }));
    return rules.length ? { rules, recall: num(o.recall), precision: num(o.precision) } : null;
  };
  for (const c of segments.cards as unknown as Json[]) {
    const r = read(obj(c.explanation));
    if (r) bySegment.set(Number(c.id), r);
  }
  const e = obj(json);
  for (const seg of arr(e?.segments)) {
    const o = obj(seg);
    const id = num(o?.id);
    const r = read(o);
    if (id !== null && r && !bySegment.has(id)) bySegment.set(id, r);
  }
  // The explain state's leaf rules carry their conditions: prefer them over the card's plain text.
  const leaves = new Map<number, ReportRule[]>();
  for (const leaf of arr(e?.rules)) {
    const o = obj(leaf);
    const segment = num(o?.segment);
    const text = str(o?.text);
    if (!o || segment === null || text === null) continue;
    const conditions = arr(o.conditions).flatMap((c) => {
      const q = obj(c);
      return q ? [{ feature: String(q.feature), above: num(q.above), atMost: num(q.atMost), missingIncluded: q.missingIncluded === true }] : [];
    });
    leaves.set(segment, [...(leaves.get(segment) ?? []), { text, conditions }]);
  }
  for (const [id, rules] of leaves) {
    const known = bySegment.get(id);
    bySegment.set(id, { rules, recall: known?.recall ?? null, precision: known?.precision ?? null });
  }
  return { bySegment, fidelity: num(e?.fidelity) };
}
