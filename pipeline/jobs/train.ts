import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { ingest, type IngestResult } from '../01-ingest/ingest.ts';
import { CATALOG_VERSION } from '../02-features/catalog.ts';
import { computeFeatures, featureColumn, resolveHomeCurrency, resolveVendorModules, type FeatureTable } from '../02-features/features.ts';
import { dropUninformative } from '../02-features/select.ts';
import { readFeatureFile } from '../02-features/feature-file.ts';
import { profileFeatureFile, type ProfileFeatureFile } from '../02-features/profile-table.ts';
import { applyPreprocess, fitPreprocess } from '../03-preprocess/preprocess.ts';
import { assignClusters, fitClusters } from '../04-cluster/cluster.ts';
import { adjustedRandIndex } from '../04-cluster/metrics.ts';
import { initBackend } from '../05-classify/backend.ts';
import { fitClassifier } from '../05-classify/mlp.ts';
import { fitColdStart, signupAttributes, type ColdStartState } from '../05-classify/coldstart.ts';
import { decideSegments, fitActivityProfile, RECENCY_FEATURE, type SegmentDecision } from '../05-classify/segment-rule.ts';
import { categorize, fitLifecycle, type CustomerLenses, type LensInput } from '../06-categorize/lenses.ts';
import type { LifecycleFit } from '../06-categorize/lifecycle.ts';
import { lensMeasurability, type LensMeasurability } from '../06-categorize/measurability.ts';
import { mapSegments } from '../07-map/segments.ts';
import { fitExplain, segmentEvidence, type SegmentEvidence } from '../08-explain/explain.ts';
import { BUNDLE_FORMAT_VERSION, fingerprintPath, sha256, toJson, writeBundle, type Manifest, type ManifestHead } from '../registry/bundle.ts';
import type { FinsegConfig } from '../config/config.ts';
import { duckQueue, openDuck, registerCustomerIndex, sqlString, startPerCustomer } from '../core/duck.ts';
import type { Logger } from '../core/log.ts';
import { deriveSeed } from '../core/random.ts';
import { runtimeInfo } from '../core/runtime.ts';
import { fitDriftReference } from '../09-drift/reference.ts';
import { emptyTrends, prepareMonthlyUse, trendsFromCounts, type TrendsState } from '../09-drift/trends.ts';
import type { Bilingual } from '../07-map/playbooks.ts';
import type { Matrix } from '../core/matrix.ts';
import { feedbackFrom, feedbackQuery, moduleUseFrom, moduleUseQuery, segmentProfile, type SegmentProfile } from '../10-report/profile.ts';
import { writeAssignments } from '../10-report/exports.ts';
import { StageClock, type StageTimings } from '../core/timings.ts';
import type { BundleStates, SegmentsState } from '../model/types.ts';
import { lensInputFrom } from '../model/lens-input.ts';

export interface TrainOptions {
  dataDir: string;
  /** The model registry folder; the bundle goes to `<registry>/<version>/`. */
  registry: string;
  config: FinsegConfig;
  /** Where the config came from (a path or "defaults"), recorded in the manifest. */
  configSource: string;
  /** Root of quarantine output; rows go to `<root>/<input fingerprint>/`, once per input (01-ingest/quarantine.ts). */
  quarantineRoot: string;
  logger: Logger;
  /** The clock, passed in so tests can fix it. */
  now: () => Date;
  /** A precomputed feature table (pipeline/02-features/feature-file.ts) used instead of ingest + features; `dataDir` is then only where truth.csv is looked for. */
  featureFile?: string;
  /** Retraining's review of the fitted candidate, before anything is written (jobs/retrain.ts). */
  review?: (candidate: FittedCandidate) => Promise<CandidateReview>;
}

/** What retraining sees of a fitted candidate before it is written. */
export interface FittedCandidate {
  features: FeatureTable;
  lenses: CustomerLenses;
  /** Segment index per customer, shape (n). */
  labels: Int32Array;
  /** The customers in PCA space, shape (n, components). */
  reduced: Matrix;
  cluster: ReturnType<typeof fitClusters>;
  classifier: Awaited<ReturnType<typeof fitClassifier>>;
  segments: SegmentsState;
  /** Silhouette of the chosen k on the selection sample; null for a fixed k. */
  silhouette: number | null;
}

/** What retraining adds to a candidate before the bundle is written. */
export interface CandidateReview {
  /** Public id and name per segment index: production's where matched, new ones elsewhere. */
  identities: { id: number; name: Bilingual }[];
  parentVersion: string | null;
  /** Extra manifest fields (the comparison's summary). */
  manifest: Record<string, unknown>;
  /** Extra files written and checksummed inside the bundle (the full comparison). */
  files: Record<string, string>;
}

/**
 * The training customers' k-means segment ids (`assignments.csv` in every bundle): the "before"
 * of the next retrain's migration matrix, which compares clusterings. The segment rule's segments
 * (what score gives) are in the report's assignments export.
 */
export function assignmentsCsv(customerIds: readonly string[], labels: Int32Array, segmentIds: readonly number[]): string {
  const lines = ['customer_id,segment_id'];
  for (let i = 0; i < customerIds.length; i++) lines.push(`${customerIds[i]},${segmentIds[labels[i]!]}`);
  return `${lines.join('\n')}\n`;
}

export interface TrainOutcome {
  bundleDir: string;
  manifest: Manifest;
  /** k-means segment index per training customer, in `customerIds` order (what the cards describe). */
  labels: Int32Array;
  /** The segment index train reports per customer (assignments.csv): the segment rule's, which score gives the same customer. */
  reported: Int32Array;
  customerIds: string[];
  /** The fitted states as written to the bundle (in memory). */
  states: BundleStates;
  /** The training feature table, for callers that score or inspect in memory. */
  features: FeatureTable;
  /** Wall time per stage and peak RSS of this run (kept out of the manifest, which must not vary between identical runs). */
  timings: StageTimings;
}

/** ARI of the segments against `truth.csv` (customer_id, archetype) when the data folder has one (generated data does). */
async function plantedTruthAri(conn: DuckDBConnection, dataDir: string, customerIds: string[], labels: Int32Array): Promise<number | null> {
  const path = join(dataDir, 'truth.csv');
  if (!existsSync(path)) return null;
  // Archetypes as integer codes by row position: no million-row objects or id lookups in JS.
  const truth = await startPerCustomer(conn, customerIds, [
    { sql: `SELECT customer_id, dense_rank() OVER (ORDER BY archetype) AS code FROM read_csv(${sqlString(path)}, header = true, all_varchar = true)`, columns: ['code'] },
  ]);
  const a: number[] = [];
  const b: number[] = [];
  truth.code!.forEach((code, i) => {
    if (Number.isNaN(code)) return;
    a.push(code);
    b.push(labels[i]!);
  });
  return a.length ? adjustedRandIndex(a, b) : null;
}

/** Ingest → features → preprocess → cluster → classify → categorize → map → bundle. */
export async function trainJob(opts: TrainOptions): Promise<TrainOutcome> {
  const { config, logger } = opts;
  const startedAt = opts.now();
  const runId = startedAt.toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '-');
  const quarantineRoot = resolve(opts.quarantineRoot);
  const clock = new StageClock('train', logger);
  // tfjs-wasm is instantiated now, so V8 has long finished optimising its code when classify,
  // the first stage to use it, starts (instantiated there, the first fit ran ~0.3 s slower).
  const backendP = initBackend(logger);
  backendP.catch(() => {}); // awaited (and any failure reported) at classify
  const conn = await openDuck();
  const duck = duckQueue();
  let profile: ProfileFeatureFile | null = null;
  try {
    logger.info(`train: reading ${opts.featureFile ?? opts.dataDir}`);
    // A profile table (a per-customer snapshot) is read as the feature table it is turned into.
    profile = !opts.featureFile && config.profileTable.file ? await profileFeatureFile(conn, opts.dataDir, config.profileTable, null) : null;
    const featureFile = opts.featureFile ?? profile?.path;
    // A feature table stands for ingest + features: no event tables are read, so module use, feedback and trends are left out.
    const fromFile = featureFile
      ? await readFeatureFile(conn, featureFile, { asOf: config.ingest.asOf, requiredFeatures: null, partition: null, missingValues: config.ingest.missingValues, quarantineLimit: config.ingest.quarantineLimit, quarantineDir: quarantineRoot, logger, ...(profile ? { source: profile.readAs } : {}) })
      : null;
    const ingested: IngestResult = fromFile
      ? { asOf: fromFile.features.asOf, tables: {}, absentTables: ['usage_events', 'transactions', 'feedback'], quarantineDir: fromFile.report.quarantineFile ? dirname(fromFile.report.quarantineFile) : null }
      : await ingest(conn, opts.dataDir, config.ingest, quarantineRoot, logger);
    clock.lap('ingest');
    // Resolved once and recorded in the manifest: score measures foreign_share against the same currency.
    const homeCurrency = fromFile || ingested.absentTables.includes('transactions') ? config.features.homeCurrency : await resolveHomeCurrency(conn, config.features);
    // Likewise the vendor modules with a share of their own; a feature table names none (its vendor shares are read as they are).
    const vendorModules = fromFile || ingested.absentTables.includes('usage_events') ? [] : await resolveVendorModules(conn, ingested.asOf, config.features);
    // Constant, near-constant and duplicate columns are dropped here, at fit time only: score computes the bundle's names.
    const features = dropUninformative(fromFile ? fromFile.features : await computeFeatures(conn, ingested.asOf, { ...config.features, homeCurrency, vendorModules }, ingested.absentTables));
    // The row order per-customer queries are placed by (startPerCustomer).
    await registerCustomerIndex(conn, features.customerIds);
    clock.lap('features');
    logger.info(`features: ${features.X.rows} customers × ${features.featureNames.length} features as of ${ingested.asOf}`);
    // One line per reason: a transactions-only export drops two dozen usage features for one reason.
    const byReason = new Map<string, string[]>();
    for (const d of features.dropped) byReason.set(d.reason, [...(byReason.get(d.reason) ?? []), d.feature]);
    for (const [reason, names] of byReason) logger.warn(`${names.length} feature${names.length > 1 ? 's' : ''} dropped (${reason}): ${names.join(', ')}`);
    if (features.X.rows < 20) throw new Error(`only ${features.X.rows} customers were accepted; at least 20 are needed to find segments`);

    // Module use and feedback per customer: one statement that DuckDB runs on its own threads
    // while JS scales, projects and clusters (startPerCustomer says why one statement).
    const usageRead = !ingested.absentTables.includes('usage_events');
    const feedbackRead = !ingested.absentTables.includes('feedback');
    const perCustomerQueries = [...(usageRead ? [moduleUseQuery(ingested.asOf)] : []), ...(feedbackRead ? [feedbackQuery] : [])];
    const perCustomerP = perCustomerQueries.length ? duck.run(() => startPerCustomer(conn, features.customerIds, perCustomerQueries)) : Promise.resolve(null);

    const seeds = {
      run: config.seed,
      cluster: deriveSeed(config.seed, 'cluster'),
      classify: deriveSeed(config.seed, 'classify'),
      coldStart: deriveSeed(config.seed, 'coldstart'),
      reportSample: deriveSeed(config.seed, 'report-sample'),
      explain: deriveSeed(config.seed, 'explain'),
    };
    // One scaling pass serves PCA, clustering and the classifier: equal to applyScale / applyPreprocess bit for bit.
    const { state: preprocess, scaled } = fitPreprocess(features.X, features.featureNames, config.preprocess);
    const reduced = applyPreprocess(preprocess, scaled, { scaled: true });
    clock.lap('preprocess');
    logger.info(`preprocess: ${preprocess.pca.nComponents} principal components keep ${(sum(preprocess.pca.explainedVarianceRatio) * 100).toFixed(1)}% of the variance`);

    // The bootstrap stability refits on a clock line of their own (the reference has none); k
    // selection and the final fit are the cluster stage.
    const cluster = fitClusters(reduced, config.cluster, seeds.cluster, (phase) => clock.lap(phase === 'stability' ? 'stability' : 'cluster'));
    const assignment = assignClusters(cluster, reduced);
    clock.lap('cluster');
    const chosen = cluster.selection.find((r) => r.k === cluster.k);
    logger.info(`cluster: k = ${cluster.k}${chosen ? ` (silhouette ${chosen.silhouette.toFixed(3)})` : ''}, sizes ${cluster.sizes.join(' / ')}`);
    // Whatever of the per-customer statement is still running, and copying its result into
    // arrays, on a clock line of its own rather than inside classify's.
    const perCustomer = await perCustomerP;
    const usePerCustomer = perCustomer && usageRead ? moduleUseFrom(perCustomer) : null;
    const feedbackPerCustomer = perCustomer && feedbackRead ? feedbackFrom(perCustomer) : null;
    clock.lap('per-customer reads');

    const backend = await backendP;
    const classifier = await fitClassifier(scaled, assignment.labels, cluster.k, config.classify, seeds.classify);
    clock.lap('classify');
    // Monthly use per segment (a 50M-event scan at vendor scale) and the planted-truth check run
    // on DuckDB's threads during lenses, map, explain and cold start. The segments are handed to
    // DuckDB first (a JS appender), so that both queue as statements DuckDB runs to the end alone.
    await duck.settled();
    const countMonthly = usageRead ? await prepareMonthlyUse(conn, ingested.asOf, features.customerIds, assignment.labels, cluster.k, config.drift.trends) : null;
    const trendCountsP = countMonthly ? duck.run(countMonthly) : Promise.resolve(null);
    const truthAriP = duck.run(() => plantedTruthAri(conn, opts.dataDir, features.customerIds, assignment.labels));
    logger.info(`classify: held-out agreement with k-means ${(classifier.metrics.heldOutAccuracy * 100).toFixed(1)}%`);

    const lensInput = lensInputFrom(features);
    const lifecycleFit = fitLifecycle(lensInput);
    const lenses: CustomerLenses = categorize(lensInput, config.lenses, lifecycleFit);
    const measurability = lensMeasurability(lenses);
    const mapped = mapSegments({
      labels: assignment.labels,
      k: cluster.k,
      lenses,
      features: features.X,
      featureNames: features.featureNames,
      customerIds: features.customerIds,
      distances: assignment.distances,
      playbooks: config.playbooks,
      lensMeasurability: measurability,
      // A vendor's own module is named as the vendor names it ("Bank feeds"), in both languages.
      featureLabels: Object.fromEntries(vendorModules.map((v) => [v.feature, { en: v.name, zh: v.name }])),
    });
    const segments: SegmentsState = { kind: 'finseg.segments', version: 1, cards: mapped.cards, cramersV: mapped.cramersV, lensMeasurability: measurability, lifecycleFit };
    segments.profile = segmentProfile({
      labels: assignment.labels,
      k: cluster.k,
      featureNames: features.featureNames,
      raw: features.X,
      scaled,
      reduced,
      centroids: cluster.centroids,
      explainedVarianceRatio: preprocess.pca.explainedVarianceRatio,
      moduleUse: usePerCustomer,
      feedback: feedbackPerCustomer,
      seed: seeds.reportSample,
    });
    clock.lap('lenses+map');
    // The threshold tree reads raw features, imputing a missing value as preprocess does (its medians).
    const explain = fitExplain({ X: features.X, featureNames: features.featureNames, labels: assignment.labels, k: cluster.k, missingAs: preprocess.medians }, config.explain, seeds.explain);
    const evidence = segmentEvidence(cluster.stability, explain);
    segments.cards = segments.cards.map((c) => ({ ...c, ...evidence[c.id] }));
    clock.lap('explain');
    logger.info(`explain: a ${explain.leaves}-leaf threshold tree agrees with k-means on ${(explain.fidelity * 100).toFixed(1)}% of customers; segment stability (bootstrap Jaccard) ${cluster.stability.jaccard.map((j) => j.toFixed(2)).join(' / ')}`);
    // Cold start and the segment rule: what train reports per customer is what score will give it.
    const { coldStart, reported } = await fitSegmentRule(features, lenses, assignment, cluster.centroids, reduced, config, seeds.coldStart, logger);
    clock.lap('coldstart');
    const truthAri = await truthAriP;
    if (truthAri !== null) logger.info(`planted archetypes recovered: adjusted Rand index ${truthAri.toFixed(3)}`);
    clock.lap('truth-ari');

    // Retraining reviews the candidate before anything keyed by segment id is built or written.
    const review = opts.review ? await opts.review({ features, lenses, labels: assignment.labels, reduced, cluster, classifier, segments, silhouette: chosen?.silhouette ?? null }) : null;
    if (review) segments.cards = segments.cards.map((c, i) => ({ ...c, id: review.identities[i]!.id, name: review.identities[i]!.name }));
    const segmentIds = segments.cards.map((c) => c.id);
    const reference = fitDriftReference({ X: features.X, featureNames: features.featureNames, attributes: features.attributes, lenses }, assignment.labels, cluster.k, { bins: config.drift.bins });
    const trendCounts = await trendCountsP;
    const trends = trendCounts ? trendsFromCounts(trendCounts.counts, segmentIds, trendCounts.months, config.drift.trends) : emptyTrends(segmentIds, config.drift.trends);
    clock.lap('drift-reference+trends');

    const states = { 'preprocess.json': preprocess, 'cluster.json': cluster, 'classifier.json': classifier, 'segments.json': segments, 'coldstart.json': coldStart, 'explain.json': explain, 'reference.json': reference, 'trends.json': trends };
    const contentHash = sha256(Object.values(states).map((s) => toJson(s)).join('')).slice(0, 8);
    const fingerprints: Record<string, string> = {};
    for (const t of Object.values(ingested.tables)) fingerprints[t.table] = await fingerprintPath(t.source);
    if (fromFile) fingerprints.features = await fingerprintPath(profile?.source ?? fromFile.report.source);
    const manifest: ManifestHead = {
      kind: 'finseg.bundle',
      formatVersion: BUNDLE_FORMAT_VERSION,
      version: `${runId}-${contentHash}`,
      createdAt: startedAt.toISOString(),
      finsegVersion: runtimeInfo().finseg,
      parentVersion: review?.parentVersion ?? null,
      configSource: opts.configSource,
      config,
      seeds,
      input: {
        dataDir: resolve(opts.dataDir),
        asOf: ingested.asOf,
        tables: ingested.tables,
        absentTables: ingested.absentTables,
        ...(fromFile ? { featureFile: profile ? { ...fromFile.report, source: profile.source } : fromFile.report } : {}),
        fingerprints,
        quarantineDir: ingested.quarantineDir,
      },
      features: { catalogVersion: CATALOG_VERSION, names: features.featureNames, dropped: features.dropped, homeCurrency, vendorModules },
      metrics: {
        customers: features.X.rows,
        k: cluster.k,
        silhouette: chosen?.silhouette ?? null,
        inertia: cluster.inertia,
        segmentSizes: cluster.sizes,
        kSelection: cluster.selection,
        selectionRule: cluster.selectionRule,
        stability: { meanAri: cluster.stability.meanAri, segmentJaccard: cluster.stability.jaccard, unstableBelow: cluster.stability.unstableBelow },
        pcaComponents: preprocess.pca.nComponents,
        pcaExplainedVariance: sum(preprocess.pca.explainedVarianceRatio),
        classifier: classifier.metrics,
        coldStart: { ...coldStart.metrics, minHistory: coldStart.minHistory, activity: coldStart.activity, trainingCustomers: reported.summary },
        plantedArchetypeAri: truthAri,
        explain: { fidelity: explain.fidelity, immFidelity: explain.immFidelity, leaves: explain.leaves },
        cramersV: mapped.cramersV,
      },
      runtime: { ...runtimeInfo(), tfjsBackend: backend },
      ...review?.manifest,
    };
    const bundleDir = writeBundle(opts.registry, manifest, states, { 'assignments.csv': assignmentsCsv(features.customerIds, assignment.labels, segmentIds), ...review?.files });
    logger.info(`bundle written: ${bundleDir}`);
    // Only train has every customer, so the training assignments are exported now, beside the report (docs/report.md).
    // Exported by public segment id (a retrain may carry ids over, so id and index can differ); names indexed by id.
    const names: Bilingual[] = [];
    for (const c of segments.cards) names[c.id] = c.name;
    const exportedIds = Int32Array.from(reported.segment, (l) => (l < 0 ? l : segmentIds[l]!));
    await writeAssignments(conn, join(bundleDir, 'report'), { customerIds: features.customerIds, segment: exportedIds, distance: reported.distance, lenses }, names);
    const written = JSON.parse(readFileSync(join(bundleDir, 'manifest.json'), 'utf8')) as Manifest;
    clock.lap('bundle');
    return { bundleDir, manifest: written, labels: assignment.labels, reported: reported.segment, customerIds: features.customerIds, states, features, timings: clock.finish() };
  } finally {
    await duck.settled();
    conn.closeSync();
    profile?.remove();
  }
}

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

/**
 * Fits cold start (and the activity profile it carries) and applies the segment rule to the
 * training customers, with score's function: the reported segment (shape (n)) and distance per
 * customer, and a summary for the manifest and the log.
 */
async function fitSegmentRule(
  features: FeatureTable,
  lenses: CustomerLenses,
  assignment: { labels: Int32Array; distances: Float64Array },
  centroids: number[][],
  reduced: Matrix,
  config: FinsegConfig,
  seed: number,
  logger: Logger,
): Promise<{ coldStart: ColdStartState; reported: { segment: Int32Array; distance: Float64Array; summary: RuleSummary } }> {
  const k = centroids.length;
  const recency = featureColumn(features, RECENCY_FEATURE);
  const activity = fitActivityProfile(assignment.labels, k, recency, config.coldStart);
  const attributes = signupAttributes(features.attributes, lenses);
  // History (event rows + transactions) comes with the features, in their row order.
  const coldStart = await fitColdStart(attributes, assignment.labels, k, features.history, config.coldStart, seed, activity);
  const cs = coldStart.metrics;
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  logger.info(
    `cold start: held-out agreement with k-means ${pct(cs.heldOutAccuracy)} from signup attributes alone, majority-class baseline ${pct(cs.majorityBaseline)} ` +
      `(${cs.nHeldOut} held-out customers), lift required ${pct(cs.marginRequired)}: ${cs.used ? 'used' : 'not used; customers with little history keep their nearest centroid'}`,
  );
  logger.info(
    recency
      ? `active segments (>= ${pct(activity.activeSegmentShare)} of customers active in the last ${activity.inactiveAfterDays} days): ${activity.segmentActiveShare.map((s, i) => `${i}: ${s === null ? 'n/a' : pct(s)}${activity.activeSegments[i] ? ' active' : ''}`).join(', ')}`
      : `active segments: none measured, the model has no ${RECENCY_FEATURE} feature`,
  );
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

function ruleSummary(d: SegmentDecision, segment: Int32Array): RuleSummary {
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

function sum(xs: readonly number[]): number {
  return xs.reduce((s, x) => s + x, 0);
}
