import { nearestCentroids } from '../04-cluster/kmeans.ts';
import { fromRows, takeRows, type Matrix } from '../core/matrix.ts';
import { coldStartRows, predictColdStart, type ActivityProfile, type ColdStartState, type SignupAttributes } from './coldstart.ts';

export type { ActivityProfile } from './coldstart.ts';

/**
 * The one rule that decides a customer's segment, used by train for the segment it reports
 * (assignments.csv) and by score for every customer, so a training customer re-scored from the
 * same data gets exactly its training segment. Starting from the nearest centroid (what k-means
 * did with every training customer, little history or not):
 *
 * 1. a customer with less than `minHistory` history rows is placed by the cold-start model only
 *    when that model earned it (its held-out accuracy beat the majority baseline by the recorded
 *    margin) and the customer is not long inactive; otherwise it keeps its nearest centroid;
 * 2. a customer whose last activity is more than `inactiveAfterDays` old is never left in an
 *    active segment (one whose training customers were mostly recently active): it moves to the
 *    nearest centroid among the other segments; when every segment is active it gets no segment
 *    (-1, `unplaced`), since each one describes customers it does not behave like.
 */

/** The segment of a customer the rule places in none (written as an empty segment_id). */
export const NO_SEGMENT = -1;


/** The feature the activity rule reads. */
export const RECENCY_FEATURE = 'recency_days';

/**
 * Measures each segment's share of recently active training customers. labels: k-means segment
 * per customer, shape (n); recencyDays: days since last activity, shape (n), NaN unknown, or null
 * when the model has no recency feature.
 */
export function fitActivityProfile(
  labels: Int32Array,
  k: number,
  recencyDays: ArrayLike<number> | null,
  params: { inactiveAfterDays: number; activeSegmentShare: number },
): ActivityProfile {
  const known = new Float64Array(k);
  const active = new Float64Array(k);
  if (recencyDays) {
    for (let i = 0; i < labels.length; i++) {
      const r = recencyDays[i]!;
      if (!Number.isFinite(r)) continue;
      known[labels[i]!]!++;
      if (r <= params.inactiveAfterDays) active[labels[i]!]!++;
    }
  }
  const segmentActiveShare = Array.from(known, (n, s) => (n > 0 ? active[s]! / n : null));
  return {
    recencyFeature: recencyDays ? RECENCY_FEATURE : null,
    inactiveAfterDays: params.inactiveAfterDays,
    activeSegmentShare: params.activeSegmentShare,
    segmentActiveShare,
    activeSegments: segmentActiveShare.map((share) => share !== null && share >= params.activeSegmentShare),
  };
}

/** What the rule reads of a batch, every array of length n. */
export interface SegmentRuleInput {
  /** The customers in PCA space, shape (n, components): where a moved customer's nearest non-active centroid is found. */
  reduced: Matrix;
  /** The cluster state's centroids, shape (k, components). */
  centroids: readonly (readonly number[])[];
  /** Usage event rows + transactions up to the as-of date; NaN = not counted (never "too little"). */
  history: ArrayLike<number>;
  /** Days since last activity; NaN = unknown; null = the batch has no recency (rule 2 is skipped). */
  recencyDays: ArrayLike<number> | null;
  /** Signup attributes for the cold-start model; null = none (rule 1 keeps the nearest centroid). */
  attributes: SignupAttributes | null;
}

/** The per-row outputs the rule rewrites in place: segment and distance, and the probabilities and confidence when scoring. */
export interface RuledScores {
  /** Nearest-centroid segment on input, the decided segment (or NO_SEGMENT) on output, shape (n). */
  segment: Int32Array;
  /** Distance to the segment's centroid; NaN for a cold-start row, shape (n). */
  distance: Float64Array;
  /** Segment probabilities (n, k): a cold-start row gets the cold-start model's. */
  probabilities?: Matrix;
  /** Probability of `segment`, shape (n). */
  confidence?: Float64Array;
}

/** How each row's segment was decided, each of length n. */
export interface SegmentDecision {
  /** Fewer than `minHistory` history rows: the segment rests on little behaviour (or on signup attributes when coldStart). */
  insufficientHistory: boolean[];
  /** Placed by the cold-start model from signup attributes. */
  coldStart: boolean[];
  /** Last activity beyond `inactiveAfterDays`; null when unknown. */
  inactive: (boolean | null)[];
  /** Its nearest centroid was an active segment; moved to the nearest non-active one. */
  movedFromActive: boolean[];
  /** Inactive, nearest to an active segment, and every segment is active: segment NO_SEGMENT. */
  unplaced: boolean[];
  /** The nearest-centroid segment before the rule, shape (n). */
  nearest: Int32Array;
}

/** Applies the segment rule in place (see the file comment); returns how each row was decided. */
export async function decideSegments(state: ColdStartState, input: SegmentRuleInput, scores: RuledScores): Promise<SegmentDecision> {
  const n = scores.segment.length;
  if (input.history.length !== n || input.reduced.rows !== n || (input.recencyDays && input.recencyDays.length !== n)) {
    throw new Error(`decideSegments: ${n} scored rows, ${input.history.length} history counts, ${input.reduced.rows} projected rows`);
  }
  const nearest = scores.segment.slice();
  const { inactiveAfterDays, activeSegments } = state.activity;
  const inactive = Array.from({ length: n }, (_, i): boolean | null => {
    const r = input.recencyDays ? input.recencyDays[i]! : Number.NaN;
    return Number.isFinite(r) ? r > inactiveAfterDays : null;
  });
  // NaN history (not counted) is not "too little": coldStartRows alone would call it cold.
  const insufficientHistory = coldStartRows(input.history, state.minHistory).map((low, i) => low && Number.isFinite(input.history[i]!));
  const coldStart = insufficientHistory.map((low, i) => low && state.metrics.used && input.attributes !== null && inactive[i] !== true);
  if (input.attributes && coldStart.some(Boolean)) await placeColdRows(state, input.attributes, coldStart, scores);
  const outOfActive = inactive.map((isInactive, i) => isInactive === true && activeSegments[scores.segment[i]!] === true);
  const everyActive = activeSegments.every(Boolean);
  const movedFromActive = outOfActive.map((o) => o && !everyActive);
  const unplaced = outOfActive.map((o) => o && everyActive);
  moveToNonActive(input, activeSegments, movedFromActive, scores);
  unplaced.forEach((u, i) => {
    if (!u) return;
    scores.segment[i] = NO_SEGMENT;
    scores.distance[i] = Number.NaN;
    if (scores.confidence) scores.confidence[i] = Number.NaN;
  });
  return { insufficientHistory, coldStart, inactive, movedFromActive, unplaced, nearest };
}

/** Rule 1: the cold rows' segment, probabilities and confidence from the cold-start model; no centroid distance. */
async function placeColdRows(state: ColdStartState, attributes: SignupAttributes, cold: boolean[], scores: RuledScores): Promise<void> {
  const rows: number[] = [];
  cold.forEach((c, i) => c && rows.push(i));
  const proba = await predictColdStart(state, attributes, rows);
  const k = proba.cols;
  rows.forEach((i, r) => {
    let best = 0;
    for (let c = 1; c < k; c++) if (proba.data[r * k + c]! > proba.data[r * k + best]!) best = c;
    scores.segment[i] = best;
    scores.distance[i] = Number.NaN;
    scores.probabilities?.data.set(proba.data.subarray(r * k, (r + 1) * k), i * k);
    if (scores.confidence) scores.confidence[i] = proba.data[r * k + best]!;
  });
}

/** Rule 2: each flagged row goes to its nearest centroid among the non-active segments (ties: the lower segment). */
function moveToNonActive(input: SegmentRuleInput, activeSegments: readonly boolean[], moved: readonly boolean[], scores: RuledScores): void {
  const targets = activeSegments.flatMap((active, s) => (active ? [] : [s]));
  const rows: number[] = [];
  moved.forEach((m, i) => m && rows.push(i));
  if (rows.length === 0) return;
  const near = nearestCentroids(takeRows(input.reduced, rows), fromRows(targets.map((s) => input.centroids[s]!)));
  const k = scores.probabilities?.cols ?? 0;
  rows.forEach((i, r) => {
    const s = targets[near.labels[r]!]!;
    scores.segment[i] = s;
    scores.distance[i] = Math.sqrt(near.sqDistances[r]!);
    if (scores.confidence && scores.probabilities) scores.confidence[i] = scores.probabilities.data[i * k + s]!;
  });
}
