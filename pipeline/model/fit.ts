/**
 * fitModel: every stage's fit wired in data-flow order (preprocess → cluster → classify →
 * lenses and map → explain → cold start and the segment rule → drift reference and trends) over
 * one feature table, returning every state a bundle stores. Pure: no file, env or clock access.
 * What DuckDB computes on its own threads while JS fits (module use and feedback per customer,
 * monthly use per segment, the planted-truth check) comes in through FitSidecars, so the edge
 * keeps that overlap and fitModel stays testable on an in-memory table.
 */
import type { VendorModule } from '../02-features/catalog.ts';
import type { FeatureTable } from '../02-features/features.ts';
import { applyPreprocess, fitPreprocess } from '../03-preprocess/preprocess.ts';
import { assignClusters, assignmentFlags, fitClusters } from '../04-cluster/cluster.ts';
import { NO_CLEAR_STRUCTURE } from '../04-cluster/structure.ts';
import { initBackend } from '../05-classify/backend.ts';
import { fitClassifier } from '../05-classify/mlp.ts';
import { categorize, fitLifecycle, type CustomerLenses } from '../06-categorize/lenses.ts';
import { lensMeasurability } from '../06-categorize/measurability.ts';
import { mapSegments } from '../07-map/segments.ts';
import { valueBySegment, valueLogLine, type CustomerRevenue, type ValueBasis } from '../07-map/value.ts';
import { fitNextModule, type AdoptionHoldout } from '../07-map/next-module-fit.ts';
import type { NextModuleEvaluation } from '../07-map/next-module.ts';
import { fitExplain, segmentEvidence } from '../08-explain/explain.ts';
import { fitDriftReference } from '../09-drift/reference.ts';
import { emptyTrends, trendsFromCounts, type MonthlyCounts } from '../09-drift/trends.ts';
import { segmentProfile, type CustomerFeedback, type ModuleUse } from '../10-report/profile.ts';
import type { FinsegConfig } from '../config/config.ts';
import { progressOf, quietLogger, type Logger } from '../core/log.ts';
import type { Matrix } from '../core/matrix.ts';
import { deriveSeed } from '../core/random.ts';
import type { ChurnTraining } from '../05-classify/churn.ts';
import { churnMetrics, fitChurnState, type ChurnMetrics } from './churn-fit.ts';
import { lensInputFrom } from './lens-input.ts';
import { fitSegmentRule, type ReportedSegments } from './segment-rule.ts';
import type { BundleStates, SegmentsState } from './types.ts';

/** What a model is fitted on. */
export interface ModelInput {
  /** The training customers, after dropUninformative (score measures the names it keeps). */
  features: FeatureTable;
  /** The vendor's own modules with a share feature of their own (none for a feature file). */
  vendorModules: VendorModule[];
  /** The currency foreign_share was measured against, recorded so score measures against the same. */
  homeCurrency: string | null;
  /** The churn model's training rows, when the export has a churn label (io/churn-input.ts). */
  churn?: ChurnTraining | null;
}

/** Module use and feedback per training customer, in feature-table row order; null where the export has no such table. */
export interface PerCustomerReads {
  moduleUse: ModuleUse | null;
  feedback: CustomerFeedback | null;
  /** MRR at T and T−12m and seats per customer, and the reporting currency (07-map/value.ts); absent without a subscriptions table. */
  revenue?: { customers: CustomerRevenue; currency: string | null };
  /** Module adoption as of T − h, before it and as of T, for next best module's evaluation; absent without usage events. */
  adoption?: AdoptionHoldout | null;
}

/** Monthly active customers and module users per segment, and the usable month indices. */
export interface SegmentMonthlyCounts {
  counts: MonthlyCounts;
  months: number[];
}

/** What the edge reads once the k-means labels are known; both still running when handed over. */
export interface SegmentReads {
  /** Null when the export has no usage events (the trends then hold no months). */
  monthlyCounts: Promise<SegmentMonthlyCounts | null>;
  /** ARI of the k-means labels against planted archetypes; null without a truth table. */
  plantedTruthAri: Promise<number | null>;
}

/** What the edge lends the fit: reads running on DuckDB's threads, the tfjs backend, the logger and the stage clock. */
export interface FitSidecars {
  /** The tfjs backend's name, initialised early so its code is warm by classify; initialised here when absent. */
  backend?: Promise<string>;
  /** Started before the fit; awaited after clustering. */
  perCustomer?: Promise<PerCustomerReads>;
  /** Called with the k-means labels (shape (n)) and k after classify; resolves once the reads are queued. */
  segmentReads?: (labels: Int32Array, k: number) => Promise<SegmentReads>;
  logger?: Logger;
  /** Charges the time since the previous lap to a stage (StageClock.lap). */
  lap?: (stage: string) => void;
}

/** Every seed of a fit, derived from the run seed (manifest `seeds`). */
export interface ModelSeeds {
  run: number;
  cluster: number;
  classify: number;
  coldStart: number;
  reportSample: number;
  explain: number;
  nextModule: number;
}

/** The manifest's `metrics` block: what the fit measured about itself. */
export interface ModelMetrics {
  customers: number;
  k: number;
  /** Silhouette of the chosen k on the selection sample; null for a fixed k. */
  silhouette: number | null;
  inertia: number;
  segmentSizes: number[];
  kSelection: BundleStates['cluster.json']['selection'];
  selectionRule: string;
  /** The permutation null's verdict on the candidate k (04-cluster/structure.ts). */
  structure: BundleStates['cluster.json']['structure'];
  stability: { meanAri: number; segmentJaccard: number[]; unstableBelow: number };
  pcaComponents: number;
  pcaExplainedVariance: number;
  classifier: BundleStates['classifier.json']['metrics'];
  coldStart: BundleStates['coldstart.json']['metrics'] & {
    minHistory: number;
    activity: BundleStates['coldstart.json']['activity'];
    trainingCustomers: ReportedSegments['summary'];
  };
  plantedArchetypeAri: number | null;
  explain: { fidelity: number; immFidelity: number; leaves: number };
  cramersV: Record<string, number>;
  /** Value of all customers and its basis (07-map/value.ts); absent without a subscriptions table. */
  value?: ValueBasis;
  /** Next best module's offline evaluation (hit rate at 3 against the popularity baseline); only with a nextmodule state, null without usage events to hold out. */
  nextModule?: NextModuleEvaluation | null;
  /** The churn model's backtest, when there is one. */
  churn?: ChurnMetrics;
}

/** A fitted model: every bundle state plus what the fit knows of its training customers. */
export interface FittedModel {
  states: BundleStates;
  /** The settings it was fitted with. */
  config: FinsegConfig;
  seeds: ModelSeeds;
  input: ModelInput;
  /** k-means segment index per training customer (what the cards describe), shape (n). */
  labels: Int32Array;
  /** The segment rule's segment per training customer: what score gives the same customer. */
  reported: ReportedSegments;
  lenses: CustomerLenses;
  /** The customers in PCA space, shape (n, components). */
  reduced: Matrix;
  metrics: ModelMetrics;
  /** The tfjs backend the classifiers were fitted on. */
  backend: string;
}

interface Effects {
  logger: Logger;
  lap: (stage: string) => void;
}

/** Seeds of every random choice, derived from the run seed. */
export function modelSeeds(seed: number): ModelSeeds {
  return {
    run: seed,
    cluster: deriveSeed(seed, 'cluster'),
    classify: deriveSeed(seed, 'classify'),
    coldStart: deriveSeed(seed, 'coldstart'),
    reportSample: deriveSeed(seed, 'report-sample'),
    explain: deriveSeed(seed, 'explain'),
    nextModule: deriveSeed(seed, 'next-module'),
  };
}

/** Fits every stage on the feature table (shape (n, features)); the same input, config and seed give the same states. */
export async function fitModel(input: ModelInput, config: FinsegConfig, sidecars: FitSidecars = {}): Promise<FittedModel> {
  const fx: Effects = { logger: sidecars.logger ?? quietLogger, lap: sidecars.lap ?? (() => {}) };
  const { features } = input;
  const seeds = modelSeeds(config.seed);
  const geometry = fitGeometry(features, config, seeds, fx);
  const { cluster, assignment } = geometry;
  // Whatever of the per-customer statement is still running, and copying its result into
  // arrays, on a clock line of its own rather than inside classify's.
  const reads = sidecars.perCustomer ? await sidecars.perCustomer : { moduleUse: null, feedback: null };
  fx.lap('per-customer reads');

  const backend = await (sidecars.backend ?? initBackend(fx.logger));
  const classifier = await fitClassifier(geometry.scaled, assignment.labels, cluster.k, config.classify, seeds.classify, progressOf(fx.logger, 'classify: epochs'));
  fx.lap('classify');
  // Monthly use per segment and the planted-truth check run on DuckDB's threads during lenses,
  // map, explain and cold start.
  const segmentReads = sidecars.segmentReads ? await sidecars.segmentReads(assignment.labels, cluster.k) : { monthlyCounts: Promise.resolve(null), plantedTruthAri: Promise.resolve(null) };
  fx.logger.info(`classify: held-out agreement with k-means ${(classifier.metrics.heldOutAccuracy * 100).toFixed(1)}%`);

  const { lenses, segments } = fitSegmentCards(input, geometry, reads, config, seeds);
  if (reads.revenue) {
    const total = addSegmentValue(segments, assignment.labels, cluster.k, reads.revenue, input.features.asOf);
    fx.logger.info(valueLogLine(total));
  }
  fx.lap('lenses+map');
  const explain = fitExplanations(features, geometry, segments, config, seeds, fx);
  fx.lap('explain');
  // Cold start and the segment rule: what train reports per customer is what score will give it.
  const { coldStart, reported } = await fitSegmentRule(features, lenses, assignment, cluster.centroids, geometry.reduced, config, seeds.coldStart, fx.logger);
  fx.lap('coldstart');
  const truthAri = await segmentReads.plantedTruthAri;
  if (truthAri !== null) fx.logger.info(`planted archetypes recovered: adjusted Rand index ${truthAri.toFixed(3)}`);
  fx.lap('truth-ari');

  const segmentIds = segments.cards.map((c) => c.id);
  // The training flag shares, so scoring can tell a batch with many novel or ambiguous customers from the usual.
  const flags = assignmentFlags(cluster, assignment, config.cluster.ambiguousMargin);
  const reference = fitDriftReference({ X: features.X, featureNames: features.featureNames, attributes: features.attributes, lenses }, assignment.labels, cluster.k, { bins: config.drift.bins }, flags);
  const trendCounts = await segmentReads.monthlyCounts;
  const trends = trendCounts ? trendsFromCounts(trendCounts.counts, segmentIds, trendCounts.months, config.drift.trends) : emptyTrends(segmentIds, config.drift.trends);
  fx.lap('drift-reference+trends');

  const nextModule = fitNextModule({ X: features.X, featureNames: features.featureNames, labels: assignment.labels, k: cluster.k, vendorModules: input.vendorModules, holdout: reads.adoption ?? null }, config.nextModule, seeds.nextModule);
  fx.lap('next-module');
  const churn = input.churn ? fitChurnState(input.churn, features, assignment.labels, segmentIds, config.churn, config.seed, fx.logger) : null;
  if (churn) fx.lap('churn');

  const states: BundleStates = { 'preprocess.json': geometry.preprocess, 'cluster.json': cluster, 'classifier.json': classifier, 'segments.json': segments, 'coldstart.json': coldStart, 'explain.json': explain, 'reference.json': reference, 'trends.json': trends };
  if (nextModule) states['nextmodule.json'] = nextModule;
  if (churn) states['churn.json'] = churn;
  const metrics = { ...modelMetrics(states, features.X.rows, geometry.silhouette, reported, truthAri), ...(churn ? { churn: churnMetrics(churn) } : {}) };
  if (segments.value) metrics.value = segments.value;
  return { states, config, seeds, input, labels: assignment.labels, reported, lenses, reduced: geometry.reduced, metrics, backend };
}

/** Preprocess and cluster: the scaled (n, features) and reduced (n, components) customers, the clustering and its assignment. */
interface Geometry {
  preprocess: BundleStates['preprocess.json'];
  scaled: Matrix;
  reduced: Matrix;
  cluster: BundleStates['cluster.json'];
  assignment: ReturnType<typeof assignClusters>;
  silhouette: number | null;
}

function fitGeometry(features: FeatureTable, config: FinsegConfig, seeds: ModelSeeds, fx: Effects): Geometry {
  // One scaling pass serves PCA, clustering and the classifier: equal to applyScale / applyPreprocess bit for bit.
  const { state: preprocess, scaled } = fitPreprocess(features.X, features.featureNames, config.preprocess);
  const reduced = applyPreprocess(preprocess, scaled, { scaled: true });
  fx.lap('preprocess');
  fx.logger.info(`preprocess: ${preprocess.pca.nComponents} principal components keep ${(sum(preprocess.pca.explainedVarianceRatio) * 100).toFixed(1)}% of the variance`);

  // The bootstrap stability refits on a clock line of their own (the reference has none); k
  // selection and the final fit are the cluster stage.
  // The structure check shuffles the scaled features and rotates them as `reduced` was (structure.ts says why).
  const nullColumns = { columns: scaled, project: (M: Matrix) => applyPreprocess(preprocess, M, { scaled: true }) };
  const cluster = fitClusters(reduced, config.cluster, seeds.cluster, (phase) => fx.lap(phase === 'stability' ? 'stability' : 'cluster'), nullColumns, progressOf(fx.logger, 'cluster: choosing k'));
  const assignment = assignClusters(cluster, reduced);
  fx.lap('cluster');
  const chosen = cluster.selection.find((r) => r.k === cluster.k);
  fx.logger.info(`cluster: k = ${cluster.k}${chosen ? ` (silhouette ${chosen.silhouette.toFixed(3)})` : ''}, sizes ${cluster.sizes.join(' / ')}`);
  if (cluster.structure && !cluster.structure.clear) fx.logger.warn(`cluster: ${NO_CLEAR_STRUCTURE}: no k's silhouette beats the same data with its columns shuffled by more than ${cluster.structure.margin}`);
  return { preprocess, scaled, reduced, cluster, assignment, silhouette: chosen?.silhouette ?? null };
}

/** The lenses per customer and the segment cards with what the report draws. */
function fitSegmentCards(input: ModelInput, g: Geometry, reads: PerCustomerReads, config: FinsegConfig, seeds: ModelSeeds): { lenses: CustomerLenses; segments: SegmentsState } {
  const { features } = input;
  const lensInput = lensInputFrom(features);
  const lifecycleFit = fitLifecycle(lensInput);
  const lenses: CustomerLenses = categorize(lensInput, config.lenses, lifecycleFit);
  const measurability = lensMeasurability(lenses);
  const mapped = mapSegments({
    labels: g.assignment.labels,
    k: g.cluster.k,
    lenses,
    features: features.X,
    featureNames: features.featureNames,
    customerIds: features.customerIds,
    distances: g.assignment.distances,
    playbooks: config.playbooks,
    lensMeasurability: measurability,
    // A vendor's own module is named as the vendor names it ("Bank feeds"), in both languages.
    featureLabels: Object.fromEntries(input.vendorModules.map((v) => [v.feature, { en: v.name, zh: v.name }])),
  });
  const segments: SegmentsState = { kind: 'finseg.segments', version: 1, cards: mapped.cards, cramersV: mapped.cramersV, lensMeasurability: measurability, lifecycleFit };
  segments.profile = segmentProfile({
    labels: g.assignment.labels,
    k: g.cluster.k,
    featureNames: features.featureNames,
    raw: features.X,
    scaled: g.scaled,
    reduced: g.reduced,
    centroids: g.cluster.centroids,
    explainedVarianceRatio: g.preprocess.pca.explainedVarianceRatio,
    moduleUse: reads.moduleUse,
    feedback: reads.feedback,
    seed: seeds.reportSample,
  });
  return { lenses, segments };
}

/** Each card given its segment's value (card i is k-means segment i at fit time), and the totals on the state. */
function addSegmentValue(segments: SegmentsState, labels: Int32Array, k: number, revenue: NonNullable<PerCustomerReads['revenue']>, asOf: string): ValueBasis {
  const value = valueBySegment(labels, k, revenue.customers, { asOf, currency: revenue.currency });
  segments.cards = segments.cards.map((c, i) => ({ ...c, value: value.segments[i]! }));
  segments.value = value.basis;
  return value.basis;
}

/** The threshold tree, and each card given its segment's stability and rules (the cards are replaced in `segments`). */
function fitExplanations(features: FeatureTable, g: Geometry, segments: SegmentsState, config: FinsegConfig, seeds: ModelSeeds, fx: Effects): BundleStates['explain.json'] {
  // The threshold tree reads raw features, imputing a missing value as preprocess does (its medians).
  const explain = fitExplain({ X: features.X, featureNames: features.featureNames, labels: g.assignment.labels, k: g.cluster.k, missingAs: g.preprocess.medians }, config.explain, seeds.explain);
  const evidence = segmentEvidence(g.cluster.stability, explain);
  segments.cards = segments.cards.map((c) => ({ ...c, ...evidence[c.id] }));
  fx.logger.info(
    `explain: a ${explain.leaves}-leaf threshold tree agrees with k-means on ${(explain.fidelity * 100).toFixed(1)}% of customers; segment stability (bootstrap Jaccard) ${g.cluster.stability.jaccard.map((j) => j.toFixed(2)).join(' / ')}`,
  );
  return explain;
}

/** The manifest's metrics block from the fitted states. */
function modelMetrics(states: BundleStates, customers: number, silhouette: number | null, reported: ReportedSegments, truthAri: number | null): ModelMetrics {
  const cluster = states['cluster.json'];
  const preprocess = states['preprocess.json'];
  const coldStart = states['coldstart.json'];
  const explain = states['explain.json'];
  return {
    customers,
    k: cluster.k,
    silhouette,
    inertia: cluster.inertia,
    segmentSizes: cluster.sizes,
    kSelection: cluster.selection,
    selectionRule: cluster.selectionRule,
    structure: cluster.structure,
    stability: { meanAri: cluster.stability.meanAri, segmentJaccard: cluster.stability.jaccard, unstableBelow: cluster.stability.unstableBelow },
    pcaComponents: preprocess.pca.nComponents,
    pcaExplainedVariance: sum(preprocess.pca.explainedVarianceRatio),
    classifier: states['classifier.json'].metrics,
    coldStart: { ...coldStart.metrics, minHistory: coldStart.minHistory, activity: coldStart.activity, trainingCustomers: reported.summary },
    plantedArchetypeAri: truthAri,
    explain: { fidelity: explain.fidelity, immFidelity: explain.immFidelity, leaves: explain.leaves },
    cramersV: states['segments.json'].cramersV,
    ...(states['nextmodule.json'] ? { nextModule: states['nextmodule.json'].evaluation } : {}),
  };
}

function sum(xs: readonly number[]): number {
  return xs.reduce((s, x) => s + x, 0);
}
