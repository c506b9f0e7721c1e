import type { LensMeasurability } from '../06-categorize/measurability.ts';
import type { mapSegments } from '../07-map/segments.ts';
import type { SegmentEvidence } from '../08-explain/explain.ts';
import type { SegmentValue, ValueBasis } from '../07-map/value.ts';
import type { SegmentProfile } from './profile.ts';

/**
 * What the report is written from. The report reads no bundle file: the caller passes the
 * manifest and the states it holds (train and retrain the fitted ones, `finseg report` the
 * loader's verified ones). The types are structural, so the model's own types satisfy them
 * without the report depending on the model.
 */

/** A segment card as the report reads it: the map stage's card plus the explain stage's evidence when recorded. */
export type ReportCard = ReturnType<typeof mapSegments>['cards'][number] & Partial<SegmentEvidence> & { value?: SegmentValue };

/** The segments state as the report reads it: the cards, the lens association and what train adds for the page. */
export interface ReportSegments {
  cards: ReportCard[];
  cramersV: Record<string, number>;
  /** Per lens, whether the export could measure it (absent in bundles without it: every lens counts as measured). */
  lensMeasurability?: LensMeasurability;
  /** What the HTML report draws (profiles, module use, PCA sample), when train computed it. */
  profile?: SegmentProfile;
  /** The value per segment's basis and total (07-map/value.ts), when the export had subscriptions. */
  value?: ValueBasis;
}

/** The manifest fields the Markdown report and the segments export read. */
export interface ManifestView {
  version: string;
  createdAt: string;
  input: { dataDir: string; asOf: string; tables: Record<string, { read: number; accepted: number; quarantined: number; byReason: Record<string, number> }>; absentTables: string[] };
  features: { names: string[]; dropped: { feature: string; reason: string }[] };
  metrics: {
    customers: number;
    k: number;
    silhouette: number | null;
    pcaComponents: number;
    pcaExplainedVariance: number;
    kSelection: { k: number; silhouette: number; calinskiHarabasz: number; daviesBouldin: number; inertia: number; minShare: number; stability?: number | null; eligible: boolean }[];
    /** The k decision rule as applied (bundles from before it was recorded lack it). */
    selectionRule?: string;
    stability?: { meanAri: number | null; segmentJaccard: (number | null)[]; unstableBelow: number };
    explain?: { fidelity: number; immFidelity: number; leaves: number };
    classifier: { heldOutAccuracy: number; nHeldOut: number };
    /** The signup-attributes classifier (bundles from before cold start lack it). */
    coldStart?: { heldOutAccuracy: number; majorityBaseline: number; nHeldOut: number; minHistory: number; used?: boolean; marginRequired?: number };
    plantedArchetypeAri: number | null;
    cramersV: Record<string, number>;
  };
  seeds: Record<string, number>;
}

/**
 * The optional states whose sections the report shows when present, already verified by the
 * caller. Each is read defensively (a part that is missing or malformed leaves its section out),
 * so bundles written before a field existed still get a report.
 */
export interface ReportStates {
  /** cluster.json: the k-selection rows and per-segment bootstrap stability. */
  cluster?: unknown;
  /** explain.json: the threshold tree's rules with their conditions, and its fidelity. */
  explain?: unknown;
  /** comparison.json: a retrain's comparison with production. */
  comparison?: unknown;
  /** trends.json: monthly module adoption and its forecast per segment. */
  trends?: unknown;
  /** nextmodule.json: next best module's most recommended modules and evaluation; null = the bundle has none (no module use). */
  nextModule?: unknown;
  /** evaluation.json from `finseg evaluate` (evaluation-view.ts), when the caller has one. */
  evaluation?: unknown;
  /** churn.json: the churn model's backtest and risk per segment. */
  churn?: unknown;
}

/** Everything a report is written from. */
export interface ReportInput {
  manifest: ManifestView;
  segments: ReportSegments;
  states: ReportStates;
}

/** A bundle's states by file name, as train holds them and the bundle loader reads them. */
export interface ReportBundleStates {
  'segments.json': ReportSegments;
  'cluster.json'?: unknown;
  'explain.json'?: unknown;
  'trends.json'?: unknown;
  'nextmodule.json'?: unknown;
  'churn.json'?: unknown;
}

/** The report's input from a bundle's manifest and states by file name, with a retrain's comparison (parsed comparison.json) when there is one. */
export function reportInputOf(manifest: ManifestView, states: ReportBundleStates, comparison: unknown = null): ReportInput {
  return {
    manifest,
    segments: states['segments.json'],
    states: { cluster: states['cluster.json'], explain: states['explain.json'], comparison, trends: states['trends.json'], nextModule: states['nextmodule.json'] ?? null, churn: states['churn.json'] },
  };
}
