/**
 * The segment rule fitted on the training customers: cold start (with the activity profile it
 * carries) and the rule score applies, run on the customers train has, so what train reports per
 * customer is what score will give it.
 */
import { featureColumn, type FeatureTable } from '../02-features/features.ts';
import { fitColdStart, signupAttributes, type ColdStartState } from '../05-classify/coldstart.ts';
import { decideSegments, fitActivityProfile, RECENCY_FEATURE, type SegmentDecision } from '../05-classify/segment-rule.ts';
import type { CustomerLenses } from '../06-categorize/lenses.ts';
import type { FinsegConfig } from '../config/config.ts';
import type { Logger } from '../core/log.ts';
import type { Matrix } from '../core/matrix.ts';

/** How the segment rule placed the training customers (manifest `metrics.coldStart.trainingCustomers`). */
export interface RuleSummary {
  insufficientHistory: number;
  placedByColdStart: number;
  inactive: number;
  movedFromActive: number;
  /** Inactive customers given no segment because every segment is active (their nearest was one). */
  unplaced: number;
  /** Customers whose reported segment is not their k-means segment. */
  differFromKMeans: number;
}

/** The segment train reports per training customer: index (shape (n), -1 for none), distance (shape (n)) and the summary. */
export interface ReportedSegments {
  segment: Int32Array;
  distance: Float64Array;
  summary: RuleSummary;
}

/**
 * Fits cold start (and the activity profile it carries) and applies the segment rule to the
 * training customers, with score's function: the reported segment (shape (n)) and distance per
 * customer, and a summary for the manifest and the log.
 */
export async function fitSegmentRule(
  features: FeatureTable,
  lenses: CustomerLenses,
  assignment: { labels: Int32Array; distances: Float64Array },
  centroids: number[][],
  reduced: Matrix,
  config: FinsegConfig,
  seed: number,
  logger: Logger,
): Promise<{ coldStart: ColdStartState; reported: ReportedSegments }> {
  const k = centroids.length;
  const recency = featureColumn(features, RECENCY_FEATURE);
  const activity = fitActivityProfile(assignment.labels, k, recency, config.coldStart);
  const attributes = signupAttributes(features.attributes, lenses);
  // History (event rows + transactions) comes with the features, in their row order.
  const coldStart = await fitColdStart(attributes, assignment.labels, k, features.history, config.coldStart, seed, activity);
  logColdStart(coldStart, recency !== null, logger);
  const reported = { segment: assignment.labels.slice(), distance: assignment.distances.slice() };
  const decision = await decideSegments(coldStart, { reduced, centroids, history: features.history, recencyDays: recency, attributes }, reported);
  const summary = ruleSummary(decision, reported.segment);
  logger.info(
    `segment rule on the training customers: ${summary.insufficientHistory} with history below ${coldStart.minHistory} (${summary.placedByColdStart} placed by cold start), ` +
      `${summary.inactive} inactive, ${summary.movedFromActive} moved out of an active segment, ${summary.unplaced} given none; ${summary.differFromKMeans} reported outside their k-means segment`,
  );
  if (summary.unplaced > 0) logger.warn(`${summary.unplaced} inactive customers get no segment: every segment is active, none describes them (segment_id left empty)`);
  return { coldStart, reported: { ...reported, summary } };
}

function logColdStart(coldStart: ColdStartState, hasRecency: boolean, logger: Logger): void {
  const cs = coldStart.metrics;
  const activity = coldStart.activity;
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  logger.info(
    `cold start: held-out agreement with k-means ${pct(cs.heldOutAccuracy)} from signup attributes alone, majority-class baseline ${pct(cs.majorityBaseline)} ` +
      `(${cs.nHeldOut} held-out customers), lift required ${pct(cs.marginRequired)}: ${cs.used ? 'used' : 'not used; customers with little history keep their nearest centroid'}`,
  );
  logger.info(
    hasRecency
      ? `active segments (>= ${pct(activity.activeSegmentShare)} of customers active in the last ${activity.inactiveAfterDays} days): ${activity.segmentActiveShare.map((s, i) => `${i}: ${s === null ? 'n/a' : pct(s)}${activity.activeSegments[i] ? ' active' : ''}`).join(', ')}`
      : `active segments: none measured, the model has no ${RECENCY_FEATURE} feature`,
  );
}

/** Counts of the segment rule's decisions on the training customers; `segment` (shape (n)) is the reported segment. */
export function ruleSummary(d: SegmentDecision, segment: Int32Array): RuleSummary {
  const count = (xs: readonly (boolean | null)[]) => xs.filter((x) => x === true).length;
  return {
    insufficientHistory: count(d.insufficientHistory),
    placedByColdStart: count(d.coldStart),
    inactive: count(d.inactive),
    movedFromActive: count(d.movedFromActive),
    unplaced: count(d.unplaced),
    differFromKMeans: d.nearest.filter((s, i) => s !== segment[i]).length,
  };
}
