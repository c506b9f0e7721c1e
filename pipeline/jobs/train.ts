import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { ingest, type IngestResult } from '../01-ingest/ingest.ts';
import { CATALOG_VERSION } from '../02-features/catalog.ts';
import { computeFeatures, featureColumn, type FeatureTable } from '../02-features/features.ts';
import { applyPreprocess, applyScale, fitPreprocess } from '../03-preprocess/preprocess.ts';
import { assignClusters, fitClusters } from '../04-cluster/cluster.ts';
import { adjustedRandIndex } from '../04-cluster/metrics.ts';
import { initBackend } from '../05-classify/backend.ts';
import { fitClassifier } from '../05-classify/mlp.ts';
import { categorize, type CustomerLenses, type LensInput } from '../06-categorize/lenses.ts';
import { mapSegments } from '../07-map/segments.ts';
import { BUNDLE_FORMAT_VERSION, fingerprintPath, sha256, toJson, writeBundle, type Manifest, type ManifestHead } from '../registry/bundle.ts';
import type { FinsegConfig } from '../core/config.ts';
import { openDuck, queryRows, sqlString } from '../core/duck.ts';
import type { Logger } from '../core/log.ts';
import { deriveSeed } from '../core/random.ts';
import { runtimeInfo } from './runtime.ts';

/** The segments state stored in a bundle: the cards and the lens association. */
export interface SegmentsState {
  kind: 'finseg.segments';
  version: 1;
  cards: ReturnType<typeof mapSegments>['cards'];
  cramersV: Record<string, number>;
}

export interface TrainOptions {
  dataDir: string;
  /** The model registry folder; the bundle goes to `<registry>/<version>/`. */
  registry: string;
  config: FinsegConfig;
  /** Where the config came from (a path or "defaults"), recorded in the manifest. */
  configSource: string;
  /** Root of quarantine output; this run writes to `<root>/<version-less run id>/`. */
  quarantineRoot: string;
  logger: Logger;
  /** The clock, passed in so tests can fix it. */
  now: () => Date;
}

export interface TrainOutcome {
  bundleDir: string;
  manifest: Manifest;
  /** Segment id per training customer, in `customerIds` order. */
  labels: Int32Array;
  customerIds: string[];
  /** The fitted states as written to the bundle (in memory). */
  states: {
    'preprocess.json': ReturnType<typeof fitPreprocess>;
    'cluster.json': ReturnType<typeof fitClusters>;
    'classifier.json': Awaited<ReturnType<typeof fitClassifier>>;
    'segments.json': SegmentsState;
  };
  /** The training feature table, for callers that score or inspect in memory. */
  features: FeatureTable;
}

/** Lens inputs from the feature table; a dropped behavioural feature reads as NaN, which the lens rules treat as unknown. */
export function lensInputFrom(table: FeatureTable): LensInput {
  const col = (name: string) => featureColumn(table, name) ?? new Float64Array(table.X.rows).fill(Number.NaN);
  const a = table.attributes;
  return {
    asOf: table.asOf,
    industry: a.industry,
    employees: a.employees,
    annualRevenue: a.annualRevenue,
    foundedYear: a.foundedYear,
    deployment: a.deployment,
    buyerRole: a.buyerRole,
    tenureDays: col('tenure_days'),
    usageTrend: col('usage_trend'),
    volumeTrend: col('volume_trend'),
    mobileShare: col('device_mobile_share'),
    apiShare: col('device_api_share'),
    moduleBreadth: col('module_breadth_90'),
  };
}

/** ARI of the segments against `truth.csv` (customer_id, archetype) when the data folder has one (generated data does). */
async function plantedTruthAri(conn: DuckDBConnection, dataDir: string, customerIds: string[], labels: Int32Array): Promise<number | null> {
  const path = join(dataDir, 'truth.csv');
  if (!existsSync(path)) return null;
  const rows = await queryRows(conn, `SELECT customer_id, archetype FROM read_csv(${sqlString(path)}, header = true, all_varchar = true)`);
  const truth = new Map(rows.map((r) => [String(r.customer_id), String(r.archetype)]));
  const codes = new Map<string, number>();
  const a: number[] = [];
  const b: number[] = [];
  customerIds.forEach((id, i) => {
    const t = truth.get(id);
    if (t === undefined) return;
    if (!codes.has(t)) codes.set(t, codes.size);
    a.push(codes.get(t)!);
    b.push(labels[i]!);
  });
  return a.length ? adjustedRandIndex(a, b) : null;
}

/** Ingest → features → preprocess → cluster → classify → categorize → map → bundle. */
export async function trainJob(opts: TrainOptions): Promise<TrainOutcome> {
  const { config, logger } = opts;
  const startedAt = opts.now();
  const runId = startedAt.toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '-');
  const quarantineDir = resolve(opts.quarantineRoot, runId);
  const conn = await openDuck();
  try {
    logger.info(`train: reading ${opts.dataDir}`);
    const ingested: IngestResult = await ingest(conn, opts.dataDir, config.ingest, quarantineDir, logger);
    const features = await computeFeatures(conn, ingested.asOf, config.features, ingested.absentTables);
    logger.info(`features: ${features.X.rows} customers × ${features.featureNames.length} features as of ${ingested.asOf}`);
    for (const d of features.dropped) logger.warn(`feature ${d.feature} dropped: ${d.reason}`);
    if (features.X.rows < 20) throw new Error(`only ${features.X.rows} customers were accepted; at least 20 are needed to find segments`);

    const seeds = {
      run: config.seed,
      cluster: deriveSeed(config.seed, 'cluster'),
      classify: deriveSeed(config.seed, 'classify'),
    };
    const preprocess = fitPreprocess(features.X, features.featureNames, config.preprocess);
    const reduced = applyPreprocess(preprocess, features.X);
    logger.info(`preprocess: ${preprocess.pca.nComponents} principal components keep ${(sum(preprocess.pca.explainedVarianceRatio) * 100).toFixed(1)}% of the variance`);

    const cluster = fitClusters(reduced, config.cluster, seeds.cluster);
    const assignment = assignClusters(cluster, reduced);
    const chosen = cluster.selection.find((r) => r.k === cluster.k);
    logger.info(`cluster: k = ${cluster.k}${chosen ? ` (silhouette ${chosen.silhouette.toFixed(3)})` : ''}, sizes ${cluster.sizes.join(' / ')}`);

    const backend = await initBackend(logger);
    const scaled = applyScale(preprocess, features.X);
    const classifier = await fitClassifier(scaled, assignment.labels, cluster.k, config.classify, seeds.classify);
    logger.info(`classify: held-out agreement with k-means ${(classifier.metrics.heldOutAccuracy * 100).toFixed(1)}%`);

    const lenses: CustomerLenses = categorize(lensInputFrom(features), config.lenses);
    const mapped = mapSegments({
      labels: assignment.labels,
      k: cluster.k,
      lenses,
      features: features.X,
      featureNames: features.featureNames,
      customerIds: features.customerIds,
      distances: assignment.distances,
    });
    const segments: SegmentsState = { kind: 'finseg.segments', version: 1, cards: mapped.cards, cramersV: mapped.cramersV };
    const truthAri = await plantedTruthAri(conn, opts.dataDir, features.customerIds, assignment.labels);
    if (truthAri !== null) logger.info(`planted archetypes recovered: adjusted Rand index ${truthAri.toFixed(3)}`);

    const states = { 'preprocess.json': preprocess, 'cluster.json': cluster, 'classifier.json': classifier, 'segments.json': segments };
    const contentHash = sha256(Object.values(states).map((s) => toJson(s)).join('')).slice(0, 8);
    const fingerprints: Record<string, string> = {};
    for (const t of Object.values(ingested.tables)) fingerprints[t.table] = await fingerprintPath(t.source);
    const manifest: ManifestHead = {
      kind: 'finseg.bundle',
      formatVersion: BUNDLE_FORMAT_VERSION,
      version: `${runId}-${contentHash}`,
      createdAt: startedAt.toISOString(),
      finsegVersion: runtimeInfo().finseg,
      parentVersion: null,
      configSource: opts.configSource,
      config,
      seeds,
      input: {
        dataDir: resolve(opts.dataDir),
        asOf: ingested.asOf,
        tables: ingested.tables,
        absentTables: ingested.absentTables,
        fingerprints,
        quarantineDir: Object.values(ingested.tables).some((t) => t.quarantined > 0) ? quarantineDir : null,
      },
      features: { catalogVersion: CATALOG_VERSION, names: features.featureNames, dropped: features.dropped },
      metrics: {
        customers: features.X.rows,
        k: cluster.k,
        silhouette: chosen?.silhouette ?? null,
        inertia: cluster.inertia,
        segmentSizes: cluster.sizes,
        kSelection: cluster.selection,
        pcaComponents: preprocess.pca.nComponents,
        pcaExplainedVariance: sum(preprocess.pca.explainedVarianceRatio),
        classifier: classifier.metrics,
        plantedArchetypeAri: truthAri,
        cramersV: mapped.cramersV,
      },
      runtime: { ...runtimeInfo(), tfjsBackend: backend },
    };
    const bundleDir = writeBundle(opts.registry, manifest, states);
    logger.info(`bundle written: ${bundleDir}`);
    const written = JSON.parse(readFileSync(join(bundleDir, 'manifest.json'), 'utf8')) as Manifest;
    return { bundleDir, manifest: written, labels: assignment.labels, customerIds: features.customerIds, states, features };
  } finally {
    conn.closeSync();
  }
}

function sum(xs: readonly number[]): number {
  return xs.reduce((s, x) => s + x, 0);
}
