/**
 * `applyModel`: the fitted model applied to a batch of customers, the mirror of fitModel. The
 * per-row stages (preprocess, assign, classify) run as kernels on one or two threads
 * (score-kernels.ts, score-threads.ts); the segment rule (05-classify/segment-rule.ts) then
 * decides each segment, and the playbook gives each customer a recommendation. Pure apart from
 * the optional helper thread: no file, env or clock access (the clock is passed in).
 */
import { applyChurn } from '../05-classify/churn.ts';
import { checkPreprocessColumns } from '../03-preprocess/preprocess.ts';
import { assignmentFlags, assignmentOf, checkCentroidDimensions } from '../04-cluster/cluster.ts';
import type { FeatureParams } from '../02-features/params.ts';
import type { SignupAttributes } from '../05-classify/coldstart.ts';
import { decideSegments, type SegmentDecision } from '../05-classify/segment-rule.ts';
import type { CustomerLenses } from '../06-categorize/lenses.ts';
import { dominantLensesOf, recommendCustomers, type Recommendations } from '../07-map/recommend.ts';
import { adoptionMasks, recommendCustomerModules, type ModuleRecommendation } from '../07-map/next-module.ts';
import type { FinsegConfig } from '../config/config.ts';
import type { Logger } from '../core/log.ts';
import { sharedCopy, type Matrix } from '../core/matrix.ts';
import type { StageClock } from '../core/timings.ts';
import type { LoadedModel } from './load.ts';
import { allocateScoreBuffers, type ScoreStates } from './score-kernels.ts';
import { runScorePhases, ScoreThreads } from './score-threads.ts';

/** What applyModel reads of a model: its states, its config and its feature order (a LoadedModel, or a fitted model in memory). */
export type ApplicableModel = Pick<LoadedModel, 'states' | 'config' | 'featureNames'>;

/** Scores for a batch of customers, columnar. */
export interface Scores {
  customerIds: string[];
  /** The segment rule's segment (05-classify/segment-rule.ts): the nearest centroid unless cold start or the inactivity rule moved it; train reports the same. */
  segment: Int32Array;
  /** The nearest centroid's segment before the segment rule (what k-means and the drift reference's segment shares count), shape (n). */
  nearest: Int32Array;
  /** Distance to the segment's centroid in PCA space. */
  distance: Float64Array;
  /** The second-nearest centroid's segment (-1 when k = 1); for cold-start rows, the cold-start model's second most probable segment; for a row moved out of an active segment, that segment. */
  secondSegment: Int32Array;
  /** (d2 - d1) / d2 of the two nearest centroid distances, in [0, 1]: 0 = on the boundary; NaN for cold-start rows. */
  margin: Float64Array;
  /** 1 when margin < cluster.ambiguousMargin (0 for cold-start rows, which have no margin). */
  ambiguous: Uint8Array;
  /** 1 when the distance is beyond the bundle's novelty distance (the training 99th percentile); 0 for cold-start rows. */
  novel: Uint8Array;
  /** Classifier probabilities, shape (n, k). */
  probabilities: Matrix;
  /** Classifier probability of `segment`. */
  confidence: Float64Array;
  lenses: CustomerLenses;
  /** Per row: scored by the cold-start model from signup attributes (too little history), not by behaviour. */
  coldStart: boolean[];
  /** Per row: history below the model's minHistory (false when history was not counted). */
  insufficientHistory: boolean[];
  /** Per row: last activity more than the model's inactiveAfterDays ago; null when unknown. */
  inactive: (boolean | null)[];
  /** Per row: its nearest centroid was an active segment, so it was moved to the nearest non-active one. */
  movedFromActive: boolean[];
  /** Per row: inactive and every segment is active, so no segment (segment -1, written empty). */
  unplaced: boolean[];
  /** Per row: usage events + transactions up to the as-of date (NaN when not counted), which `coldStart` was decided on. */
  history: Float64Array;
  /** Per row: edition, deployment and lead modules from the segment's playbook and the customer's own lenses. */
  recommendation: Recommendations;
  /** Per row: next best modules from its segment's peers (07-map/next-module.ts); null when the model has no nextmodule state. */
  nextModules: ModuleRecommendation[] | null;
  /** Calibrated P(churn within the model's horizon) per row (05-classify/churn.ts); null when the bundle has no churn model. */
  churnRisk?: Float64Array | null;
}

/** What cold start needs of a batch: signup attributes and history counts (usage events + transactions), each of length n. */
export interface ColdStartInput {
  attributes: SignupAttributes;
  history: ArrayLike<number>;
}

/** A batch to score: raw catalog features X (n, model features) in the model's column order, the customers' ids and lenses. */
export interface ApplyInput {
  X: Matrix;
  customerIds: string[];
  lenses: CustomerLenses;
  /** Signup attributes and history; absent, every customer is scored on behaviour. */
  cold?: ColdStartInput;
}

/** How applyModel runs: a clock to time its phases, a helper thread, a logger for the helper's warnings. */
export interface ApplyOptions {
  clock?: StageClock;
  /** A helper thread for preprocess, assign and classify (score-threads.ts); none = the main thread alone. */
  threads?: ScoreThreads;
  logger?: Logger | null;
}

/** The states the per-row kernels need (score-kernels.ts); the helper thread receives them as structured clones. */
export function scoreStates(model: ApplicableModel): ScoreStates {
  return { preprocess: model.states['preprocess.json'], cluster: model.states['cluster.json'], classifier: model.states['classifier.json'] };
}

/**
 * Applies a model to a batch; the segment rule then decides each segment: with `cold`, customers
 * below the history threshold are placed from their signup attributes when the model's cold start
 * earned it, and long-inactive customers are kept out of active segments.
 */
export async function applyModel(model: ApplicableModel, input: ApplyInput, opts: ApplyOptions = {}): Promise<Scores> {
  const { X, customerIds, lenses, cold } = input;
  const { clock, threads = ScoreThreads.none(), logger = null } = opts;
  const preprocess = model.states['preprocess.json'];
  const cluster = model.states['cluster.json'];
  const states = scoreStates(model);
  checkPreprocessColumns(preprocess, X);
  checkCentroidDimensions(cluster, preprocess.pca.nComponents);
  // The rows are shared with the helper thread; features come in shared memory already (sharedZeros).
  const shared = X.data.buffer instanceof SharedArrayBuffer ? X : sharedCopy(X);
  const buffers = allocateScoreBuffers(states, shared);
  // Per row: scaled and projected in one pass (applyPreprocess bit for bit, plus the scaled rows in
  // float32 for the classifier), the nearest centroids, the segment probabilities.
  const arrays = await runScorePhases(threads, states, buffers, (phase) => clock?.lap(phase), logger);
  const assignment = assignmentOf(arrays.near);
  const probabilities: Matrix = { rows: X.rows, cols: model.states['classifier.json'].classes, data: arrays.probabilities };
  const k = probabilities.cols;
  const confidence = new Float64Array(X.rows);
  for (let i = 0; i < X.rows; i++) confidence[i] = probabilities.data[i * k + assignment.labels[i]!]!;
  const scores = { segment: assignment.labels, distance: assignment.distances, probabilities, confidence };
  const { margin, ambiguous, novel } = assignmentFlags(cluster, assignment, model.config.cluster.ambiguousMargin);
  // The rule replaces segment, probabilities and confidence of its rows before anything is derived from them.
  const history = cold ? cold.history : new Float64Array(X.rows).fill(Number.NaN);
  const reduced: Matrix = { rows: X.rows, cols: preprocess.pca.nComponents, data: arrays.reduced };
  const coldStart = model.states['coldstart.json'];
  const decision = await decideSegments(coldStart, { reduced, centroids: cluster.centroids, history, recencyDays: recencyOf(model, X), attributes: cold?.attributes ?? null }, scores);
  const secondSegment = assignment.second;
  for (let i = 0; i < X.rows; i++) {
    if (!decision.coldStart[i] && !decision.movedFromActive[i] && !decision.unplaced[i]) continue;
    // No centroid margin for these rows: the runner-up is the cold-start model's, or the active segment the row was kept out of.
    secondSegment[i] = decision.coldStart[i] ? secondMostProbable(probabilities, i, scores.segment[i]!) : decision.nearest[i]!;
    margin[i] = Number.NaN;
    ambiguous[i] = 0;
    if (decision.coldStart[i]) novel[i] = 0;
  }
  clock?.lap('coldstart');
  const recommendation = recommendFor(scores.segment, decision, lenses, model);
  const nextState = model.states['nextmodule.json'];
  const nextModules = nextState ? recommendCustomerModules(nextState, scores.segment, adoptionMasks(X, model.featureNames, nextState.features, nextState.params.minShare)) : null;
  clock?.lap('recommend');
  const { insufficientHistory, inactive, movedFromActive, unplaced } = decision;
  const churn = model.states['churn.json'];
  // The batch's own features as of its own as-of date, the columns the churn model was fitted on.
  const churnRisk = churn ? applyChurn(churn, X, model.featureNames) : null;
  return { customerIds, ...scores, nearest: decision.nearest, secondSegment, margin, ambiguous, novel, lenses, coldStart: decision.coldStart, insufficientHistory, inactive, movedFromActive, unplaced, history: Float64Array.from(history), recommendation, nextModules, churnRisk };
}

/** The batch's days since last activity, from the feature the model's activity profile names (null when it has none). */
function recencyOf(model: ApplicableModel, X: Matrix): Float64Array | null {
  const feature = model.states['coldstart.json'].activity.recencyFeature;
  const j = feature ? model.featureNames.indexOf(feature) : -1;
  if (j < 0) return null;
  return Float64Array.from({ length: X.rows }, (_, i) => X.data[i * X.cols + j]!);
}

/** The playbook's recommendation per row; none for a row without a segment (its segment's playbook does not describe it). */
function recommendFor(segment: Int32Array, decision: SegmentDecision, lenses: CustomerLenses, model: ApplicableModel): Recommendations {
  // Unplaced rows are recommended as their nearest segment, then emptied: the recommender needs a segment for every row.
  const placed = Int32Array.from(segment, (s, i) => (decision.unplaced[i] ? decision.nearest[i]! : s));
  const cards = model.states['segments.json'].cards;
  const rec = recommendCustomers(placed, lenses, cards.map(dominantLensesOf), model.config.playbooks, cards.map((c) => c.playbook));
  decision.unplaced.forEach((u, i) => {
    if (!u) return;
    (rec.editionId as (string | null)[])[i] = null;
    (rec.deployment as (string | null)[])[i] = null;
    rec.leadModules[i] = [];
    rec.fromSegment[i] = [];
  });
  return rec;
}

/** The most probable segment of row i other than `best` (-1 when k = 1). */
function secondMostProbable(probabilities: Matrix, i: number, best: number): number {
  const k = probabilities.cols;
  let second = -1;
  for (let c = 0; c < k; c++) {
    if (c === best) continue;
    if (second === -1 || probabilities.data[i * k + c]! > probabilities.data[i * k + second]!) second = c;
  }
  return second;
}

/**
 * The feature settings a batch is scored with: the model's, the training data's home currency
 * (recorded since bundles carry it) rather than the batch's own most common one, and the vendor
 * modules chosen at training (none for a bundle from before catalog version 2).
 */
export function bundleFeatureParams(model: { manifest: Pick<LoadedModel['manifest'], 'features'>; config: FinsegConfig }): FeatureParams {
  const trained = model.manifest.features;
  const params = trained.homeCurrency ? { ...model.config.features, homeCurrency: trained.homeCurrency } : model.config.features;
  return { ...params, vendorModules: trained.vendorModules ?? [] };
}
