import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import type { DuckDBConnection } from '@duckdb/node-api';
import { BOOLEAN, DOUBLE, DuckDBDataChunk, INTEGER, VARCHAR } from '@duckdb/node-api';
import { dirname } from 'node:path';
import { ingest } from '../01-ingest/ingest.ts';
import { computeFeatures, type FeatureTable } from '../02-features/features.ts';
import type { FeatureParams } from '../02-features/params.ts';
import type { VendorModule } from '../02-features/catalog.ts';
import { withTrainedDrops } from '../02-features/select.ts';
import { readFeatureFile, type FeatureFileReport } from '../02-features/feature-file.ts';
import { profileFeatureFile, type ProfileFeatureFile } from '../02-features/profile-table.ts';
import { checkPreprocessColumns, loadPreprocessState } from '../03-preprocess/preprocess.ts';
import { assignmentFlags, assignmentOf, checkCentroidDimensions, loadClusterState } from '../04-cluster/cluster.ts';
import { initBackend } from '../05-classify/backend.ts';
import { loadClassifierState } from '../05-classify/mlp.ts';
import { loadColdStartState, signupAttributes, type ColdStartState, type SignupAttributes } from '../05-classify/coldstart.ts';
import { decideSegments, type SegmentDecision } from '../05-classify/segment-rule.ts';
import { dominantLensesOf, recommendCustomers, type Recommendations } from '../07-map/recommend.ts';
import { categorize, LENS_NAMES, type CustomerLenses } from '../06-categorize/lenses.ts';
import { loadBundle, type LoadedBundle } from '../registry/bundle.ts';
import { parseConfig, type FinsegConfig } from '../config/config.ts';
import { openDuck, sqlIdent, sqlString } from '../core/duck.ts';
import { InputError } from '../core/errors.ts';
import { partitionSql, type Partition } from '../core/partition.ts';
import type { Logger } from '../core/log.ts';
import { sharedCopy, type Matrix } from '../core/matrix.ts';
import { allocateScoreBuffers, type ScoreStates } from './score-kernels.ts';
import { runScorePhases, ScoreThreads } from './score-threads.ts';
import type { SegmentsState } from '../model/types.ts';
import { lensInputFrom } from '../model/lens-input.ts';
import { StageClock, type StageTimings } from '../core/timings.ts';
import { csvField, lensColumn } from '../10-report/exports.ts';

/** A loaded, verified model: the fitted states ready for the apply functions. */
export interface ScoringModel {
  bundle: LoadedBundle;
  config: FinsegConfig;
  featureNames: string[];
  preprocess: ReturnType<typeof loadPreprocessState>;
  cluster: ReturnType<typeof loadClusterState>;
  classifier: ReturnType<typeof loadClassifierState>;
  segments: SegmentsState;
  /** The signup-attributes model for customers with too little history (absent: everyone is scored on behaviour). */
  coldStart?: ColdStartState;
}

/** Loads a bundle (checksums verified) into typed states. */
export function loadScoringModel(path: string): ScoringModel {
  const bundle = loadBundle(path);
  const segments = bundle.states['segments.json'] as SegmentsState;
  if (segments?.kind !== 'finseg.segments') throw new InputError(`${bundle.dir}/segments.json is not a finseg segments state`);
  return {
    bundle,
    config: parseConfig(bundle.manifest.config, `${bundle.dir}/manifest.json config`),
    featureNames: (bundle.manifest.features as { names: string[] }).names,
    preprocess: loadPreprocessState(bundle.states['preprocess.json']),
    cluster: loadClusterState(bundle.states['cluster.json']),
    classifier: loadClassifierState(bundle.states['classifier.json']),
    segments,
    coldStart: loadColdStartState(bundle.states['coldstart.json']),
  };
}

/** Scores for a batch of customers, columnar. */
export interface Scores {
  customerIds: string[];
  /** The segment rule's segment (05-classify/segment-rule.ts): the nearest centroid unless cold start or the inactivity rule moved it; train reports the same. */
  segment: Int32Array;
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
}

/** What cold start needs of a batch: signup attributes and history counts (usage events + transactions), each of length n. */
export interface ColdStartInput {
  attributes: SignupAttributes;
  history: ArrayLike<number>;
}

/**
 * Applies a model to an X of raw catalog features (n, model features) plus the customers' lenses;
 * the segment rule (segment-rule.ts) then decides each segment: with `cold`, customers below the
 * history threshold are placed from their signup attributes when the model's cold start earned
 * it, and long-inactive customers are kept out of active segments.
 */
export async function scoreFeatures(
  model: ScoringModel,
  X: Matrix,
  customerIds: string[],
  lenses: CustomerLenses,
  clock?: StageClock,
  cold?: ColdStartInput,
  /** A helper thread for preprocess, assign and classify (score-threads.ts); none = the main thread alone. */
  threads: ScoreThreads = ScoreThreads.none(),
  logger: Logger | null = null,
): Promise<Scores> {
  const states = scoreStates(model);
  checkPreprocessColumns(model.preprocess, X);
  checkCentroidDimensions(model.cluster, model.preprocess.pca.nComponents);
  // The rows are shared with the helper thread; features come in shared memory already (sharedZeros).
  const shared = X.data.buffer instanceof SharedArrayBuffer ? X : sharedCopy(X);
  const buffers = allocateScoreBuffers(states, shared);
  // Per row: scaled and projected in one pass (applyPreprocess bit for bit, plus the scaled rows in
  // float32 for the classifier), the nearest centroids, the segment probabilities.
  const arrays = await runScorePhases(threads, states, buffers, (phase) => clock?.lap(phase), logger);
  const assignment = assignmentOf(arrays.near);
  const probabilities: Matrix = { rows: X.rows, cols: model.classifier.classes, data: arrays.probabilities };
  const k = probabilities.cols;
  const confidence = new Float64Array(X.rows);
  for (let i = 0; i < X.rows; i++) confidence[i] = probabilities.data[i * k + assignment.labels[i]!]!;
  const scores = { segment: assignment.labels, distance: assignment.distances, probabilities, confidence };
  const { margin, ambiguous, novel } = assignmentFlags(model.cluster, assignment, model.config.cluster.ambiguousMargin);
  // The rule replaces segment, probabilities and confidence of its rows before anything is derived from them.
  const history = cold ? cold.history : new Float64Array(X.rows).fill(Number.NaN);
  const reduced: Matrix = { rows: X.rows, cols: model.preprocess.pca.nComponents, data: arrays.reduced };
  const decision = model.coldStart
    ? await decideSegments(model.coldStart, { reduced, centroids: model.cluster.centroids, history, recencyDays: recencyOf(model, X), attributes: cold?.attributes ?? null }, scores)
    : noDecision(assignment.labels);
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
  clock?.lap('recommend');
  const { coldStart, insufficientHistory, inactive, movedFromActive, unplaced } = decision;
  return { customerIds, ...scores, secondSegment, margin, ambiguous, novel, lenses, coldStart, insufficientHistory, inactive, movedFromActive, unplaced, history: Float64Array.from(history), recommendation };
}

/** The batch's days since last activity, from the feature the model's activity profile names (null when it has none). */
function recencyOf(model: ScoringModel, X: Matrix): Float64Array | null {
  const j = model.coldStart?.activity.recencyFeature ? model.featureNames.indexOf(model.coldStart.activity.recencyFeature) : -1;
  if (j < 0) return null;
  return Float64Array.from({ length: X.rows }, (_, i) => X.data[i * X.cols + j]!);
}

/** Every row on its nearest centroid (a model without a cold-start state). */
function noDecision(nearest: Int32Array): SegmentDecision {
  const no = () => new Array<boolean>(nearest.length).fill(false);
  return { insufficientHistory: no(), coldStart: no(), inactive: new Array<boolean | null>(nearest.length).fill(null), movedFromActive: no(), unplaced: no(), nearest: nearest.slice() };
}

/** The playbook's recommendation per row; none for a row without a segment (its segment's playbook does not describe it). */
function recommendFor(segment: Int32Array, decision: SegmentDecision, lenses: CustomerLenses, model: ScoringModel): Recommendations {
  // Unplaced rows are recommended as their nearest segment, then emptied: the recommender needs a segment for every row.
  const placed = Int32Array.from(segment, (s, i) => (decision.unplaced[i] ? decision.nearest[i]! : s));
  const rec = recommendCustomers(placed, lenses, model.segments.cards.map(dominantLensesOf), model.config.playbooks, model.segments.cards.map((c) => c.playbook));
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

/** The states the per-row kernels need (score-kernels.ts). */
function scoreStates(model: ScoringModel): ScoreStates {
  return { preprocess: model.preprocess, cluster: model.cluster, classifier: model.classifier };
}

export interface ScoreOptions {
  modelPath: string;
  /** The new customers' data folder (ingest + features), or null with `featureFile`. */
  dataDir: string | null;
  /** A precomputed feature table (pipeline/02-features/feature-file.ts) with at least the model's feature columns, instead of `dataDir`. */
  featureFile?: string | null;
  /** Only the customers whose id hashes into this partition (pipeline/core/partition.ts); null = all. */
  partition?: Partition | null;
  /** The as-of date (`--as-of`); null = inferred from the data, or the feature table's `as_of` column. */
  asOf?: string | null;
  outFile: string;
  /** Ingest settings for the new data; default: the ones the model was trained with, as-of inferred from the data. */
  config: FinsegConfig | null;
  /** Root of quarantine output: rows go to `<root>/<input fingerprint>/`, once per input; null = counted only. */
  quarantineDir: string | null;
  logger: Logger;
}

/**
 * The feature settings a batch is scored with: the bundle's, the training data's home currency
 * (recorded since bundles carry it) rather than the batch's own most common one, and the vendor
 * modules chosen at training (none for a bundle from before catalog version 2).
 */
export function bundleFeatureParams(model: ScoringModel): FeatureParams {
  const trained = model.bundle.manifest.features as { homeCurrency?: string | null; vendorModules?: VendorModule[] };
  const params = trained.homeCurrency ? { ...model.config.features, homeCurrency: trained.homeCurrency } : model.config.features;
  return { ...params, vendorModules: trained.vendorModules ?? [] };
}

/** Reads new customers, scores them with a bundle, writes Parquet or CSV by the out file's extension. */
export async function scoreJob(
  opts: ScoreOptions,
): Promise<{ outFile: string; rows: number; scores: Scores; model: ScoringModel; timings: StageTimings; featureFile: FeatureFileReport | null }> {
  const clock = new StageClock('score', opts.logger);
  if ((opts.dataDir ? 1 : 0) + (opts.featureFile ? 1 : 0) !== 1) throw new InputError('score: give either a data folder (--data) or a feature table (--features)');
  const model = loadScoringModel(opts.modelPath);
  const base = opts.config ?? { ...model.config, ingest: { ...model.config.ingest, asOf: null } };
  const config = opts.asOf ? { ...base, ingest: { ...base.ingest, asOf: opts.asOf } } : base;
  const partition = opts.partition ?? null;
  await initBackend(opts.logger);
  const conn = await openDuck();
  clock.lap('load');
  let threads: ScoreThreads | null = null;
  try {
    // The helper thread starts once DuckDB has aggregated: it loads (~0.6 s of CPU) while the main
    // thread reads the feature rows, which leaves the second core mostly idle, rather than during
    // the two-core query, whose time it would take.
    const { features, featureFile } = await scoringFeatures(conn, model, config, opts, clock, (customers) => {
      threads = ScoreThreads.start(scoreStates(model), customers);
    });
    if (partition) opts.logger.info(`partition ${partition.index}/${partition.count}: ${features.X.rows} customers`);
    // From a feature table the helper starts now, and loads while the lenses are computed.
    threads ??= ScoreThreads.start(scoreStates(model), features.X.rows);
    const lenses = categorize(lensInputFrom(features), model.config.lenses, model.segments.lifecycleFit);
    clock.lap('lenses');
    // History comes with the features (the feature query counts it). A feature table without a
    // history column cannot tell new customers apart: all are then scored on behaviour.
    const cold = featureFile && !featureFile.hasHistory ? undefined : { attributes: signupAttributes(features.attributes, lenses), history: features.history };
    const scores = await scoreFeatures(model, features.X, features.customerIds, lenses, clock, cold, threads, opts.logger);
    await threads.close();
    logRule(scores, model, opts.logger);
    await writeScores(conn, scores, model, opts.outFile);
    clock.lap('write');
    opts.logger.info(`scored ${features.X.rows} customers with ${model.bundle.manifest.version} → ${opts.outFile}`);
    return { outFile: opts.outFile, rows: features.X.rows, scores, model, timings: clock.finish(), featureFile };
  } finally {
    await (threads as ScoreThreads | null)?.close();
    conn.closeSync();
  }
}

/**
 * The batch's feature table as the model measures it: from a feature table (`--features`), from
 * a profile table the config names (written with the model's indicators), or from ingest + the
 * feature query with the bundle's settings; then the bundle's fit-time drops, so the lenses read
 * a column dropped as a duplicate from its twin as train did. `onAggregated` is called once DuckDB
 * has aggregated the raw tables (score starts its helper thread then).
 */
export async function scoringFeatures(
  conn: DuckDBConnection,
  model: ScoringModel,
  config: FinsegConfig,
  opts: Pick<ScoreOptions, 'dataDir' | 'featureFile' | 'partition' | 'asOf' | 'quarantineDir' | 'logger'>,
  clock?: StageClock,
  onAggregated?: (customers: number) => void,
): Promise<{ features: FeatureTable; featureFile: FeatureFileReport | null }> {
  const partition = opts.partition ?? null;
  const profile = !opts.featureFile && config.profileTable.file ? await profileFeatureFile(conn, opts.dataDir!, config.profileTable, model.featureNames) : null;
  try {
    let features: FeatureTable;
    let featureFile: FeatureFileReport | null = null;
    const featureFilePath = opts.featureFile ?? profile?.path;
    if (featureFilePath) {
      const read = await readFeatureFile(conn, featureFilePath, {
        asOf: opts.asOf ?? null,
        requiredFeatures: model.featureNames,
        partition,
        missingValues: config.ingest.missingValues,
        quarantineLimit: config.ingest.quarantineLimit,
        quarantineDir: opts.quarantineDir,
        logger: opts.logger,
        ...(profile ? { source: profile.readAs } : {}),
      });
      clock?.lap('read-features');
      ({ features, report: featureFile } = read);
    } else {
      const ingested = await ingest(conn, opts.dataDir!, config.ingest, opts.quarantineDir, opts.logger);
      // The partition is cut at the customers table: features and history start from it, and
      // everything that is not per customer (the as-of date, the home currency) still sees all rows.
      // (Ingest writes customers as a table, in file order; events may stay views over Parquet.)
      if (partition) await conn.run(`DELETE FROM customers WHERE ${partitionSql('customer_id', partition.count)} <> ${partition.index}`);
      clock?.lap('ingest');
      features = await computeFeatures(conn, ingested.asOf, bundleFeatureParams(model), ingested.absentTables, model.featureNames, onAggregated);
      clock?.lap('features');
    }
    features = withTrainedDrops(features, (model.bundle.manifest.features as { dropped?: FeatureTable['dropped'] }).dropped ?? []);
    return { features, featureFile };
  } finally {
    profile?.remove();
  }
}

/** One line on what the segment rule did to this batch. */
function logRule(scores: Scores, model: ScoringModel, logger: Logger): void {
  const count = (xs: readonly (boolean | null)[]) => xs.filter((x) => x === true).length;
  const low = count(scores.insufficientHistory);
  const cold = count(scores.coldStart);
  const moved = count(scores.movedFromActive);
  const unplaced = count(scores.unplaced);
  if (low === 0 && moved === 0 && unplaced === 0) return;
  const how = model.coldStart?.metrics.used ? `${cold} placed by cold start from signup attributes, the rest by nearest centroid` : 'placed by nearest centroid (cold start did not beat its baseline)';
  logger.info(`segment rule: ${low} customers with fewer than ${model.coldStart?.minHistory} usage events and transactions, ${how}; ${moved} inactive customers moved out of an active segment${unplaced ? `, ${unplaced} given no segment (every segment is active)` : ''}`);
}

/** One output column: its name, its type in the Parquet file and its value in row i (null = empty / NULL). */
interface ScoreColumn {
  name: string;
  type: 'VARCHAR' | 'INTEGER' | 'DOUBLE' | 'BOOLEAN';
  value: (i: number) => string | number | boolean | null;
  /** Text with a handful of distinct values (names, labels): appended to DuckDB as codes. */
  coded?: true;
}

/** The output columns, declared once for both the CSV and the Parquet writer. */
function scoreColumns(scores: Scores, model: ScoringModel): ScoreColumn[] {
  const k = scores.probabilities.cols;
  const cards = model.segments.cards;
  const rec = scores.recommendation;
  // Flags are empty (NULL) for cold-start rows: without behaviour there is no margin or novelty to
  // judge; a row moved out of an active segment has no margin either.
  const flag = (v: Uint8Array, alsoMoved = false) => (i: number) => (scores.coldStart[i] || (alsoMoved && (scores.movedFromActive[i] || scores.unplaced[i])) ? null : v[i] === 1);
  const column = (name: string, type: ScoreColumn['type'], value: ScoreColumn['value']): ScoreColumn => ({ name, type, value });
  const coded = (name: string, value: ScoreColumn['value']): ScoreColumn => ({ name, type: 'VARCHAR', value, coded: true });
  return [
    column('customer_id', 'VARCHAR', (i) => scores.customerIds[i]!),
    column('segment_id', 'INTEGER', (i) => (scores.segment[i]! < 0 ? null : (cards[scores.segment[i]!]?.id ?? scores.segment[i]!))),
    coded('segment_name', (i) => cards[scores.segment[i]!]?.name.en ?? null),
    coded('segment_name_zh', (i) => cards[scores.segment[i]!]?.name.zh ?? null),
    column('confidence', 'DOUBLE', (i) => scores.confidence[i]!),
    column('distance', 'DOUBLE', (i) => scores.distance[i]!),
    column('second_segment_id', 'INTEGER', (i) => {
      const second = scores.secondSegment[i]!;
      return second < 0 ? second : (cards[second]?.id ?? second);
    }),
    column('margin', 'DOUBLE', (i) => scores.margin[i]!),
    column('ambiguous', 'BOOLEAN', flag(scores.ambiguous, true)),
    column('novel', 'BOOLEAN', flag(scores.novel)),
    // Columns and ids are the public segment ids of the cards (a retrain carries them over, so they can differ from positions).
    ...Array.from({ length: k }, (_, j) => column(`p_segment_${cards[j]?.id ?? j}`, 'DOUBLE', (i) => scores.probabilities.data[i * k + j]!)),
    ...LENS_NAMES.map((l) => coded(lensColumn(l), (i) => scores.lenses[l][i] ?? null)),
    column('cold_start', 'BOOLEAN', (i) => scores.coldStart[i]!),
    // Empty when history was not counted (a feature table without it) or the recency is unknown.
    column('insufficient_history', 'BOOLEAN', (i) => (Number.isNaN(scores.history[i]!) ? null : scores.insufficientHistory[i]!)),
    column('inactive', 'BOOLEAN', (i) => scores.inactive[i] ?? null),
    // Recommendation: edition id, deployment, lead modules and the lenses filled from the segment (lists joined by ';').
    coded('rec_edition', (i) => rec.editionId[i] ?? null),
    coded('rec_deployment', (i) => rec.deployment[i] ?? null),
    coded('rec_lead_modules', (i) => rec.leadModules[i]!.join(';')),
    coded('rec_from_segment', (i) => rec.fromSegment[i]!.map(lensColumn).join(';')),
  ];
}

/** Rows per CSV write and per DuckDB data chunk (DuckDB's vector size). */
const WRITE_BATCH = 2048;

/**
 * Writes scores as CSV, or as Parquet by extension. Parquet goes through DuckDB from typed
 * values appended chunk by chunk, with no text round trip (1M rows here: 15.0 s and a 5.3 GB
 * peak RSS through one CSV string, 8.9 s and 2.3 GB this way); a blank text or a non-finite
 * number is NULL, as the CSV leaves it empty. Both formats stream in batches, never one string.
 */
async function writeScores(conn: Awaited<ReturnType<typeof openDuck>>, scores: Scores, model: ScoringModel, outFile: string): Promise<void> {
  const lower = outFile.toLowerCase();
  if (!lower.endsWith('.csv') && !lower.endsWith('.parquet')) throw new InputError(`--out ${outFile}: use a .parquet or .csv file name`);
  mkdirSync(dirname(outFile) || '.', { recursive: true });
  const columns = scoreColumns(scores, model);
  const n = scores.customerIds.length;
  if (lower.endsWith('.csv')) {
    const fd = openSync(outFile, 'w');
    try {
      writeSync(fd, `${columns.map((c) => c.name).join(',')}\n`);
      for (let start = 0; start < n; start += WRITE_BATCH) {
        const lines: string[] = [];
        for (let i = start; i < Math.min(n, start + WRITE_BATCH); i++) lines.push(columns.map((c) => csvField(c.value(i))).join(','));
        writeSync(fd, `${lines.join('\n')}\n`);
      }
    } finally {
      closeSync(fd);
    }
    return;
  }
  const table = '__scores_out';
  await conn.run(`CREATE OR REPLACE TEMP TABLE ${table} (${columns.map((c) => `${sqlIdent(c.name)} ${c.coded ? 'INTEGER' : c.type}`).join(', ')})`);
  try {
    // Coded text goes in as 1-based positions in its column's dictionary and comes out of the
    // COPY as the text again: a million rows of names and labels appended string by string took
    // seconds, integers a fraction of that.
    const dictionaries = columns.map(() => new Map<string, number>());
    const types = columns.map((c) => (c.coded ? INTEGER : DUCK_TYPES[c.type]));
    const appender = await conn.createAppender(table);
    const chunk = DuckDBDataChunk.create(types);
    for (let start = 0; start < n; start += WRITE_BATCH) {
      const m = Math.min(WRITE_BATCH, n - start);
      chunk.rowCount = m;
      chunk.setColumns(
        columns.map((c, j) => {
          const values = new Array<string | number | boolean | null>(m);
          const dictionary = dictionaries[j]!;
          for (let r = 0; r < m; r++) {
            const v = duckValue(c.value(start + r));
            if (!c.coded || v === null) values[r] = v;
            else {
              let code = dictionary.get(String(v));
              if (code === undefined) dictionary.set(String(v), (code = dictionary.size + 1));
              values[r] = code;
            }
          }
          return values;
        }),
      );
      appender.appendDataChunk(chunk);
    }
    appender.flushSync();
    appender.closeSync();
    const select = columns.map((c, j) => (c.coded ? `list_extract(CAST([${[...dictionaries[j]!.keys()].map(sqlString).join(', ')}] AS VARCHAR[]), ${sqlIdent(c.name)}) AS ${sqlIdent(c.name)}` : sqlIdent(c.name)));
    await conn.run(`COPY (SELECT ${select.join(', ')} FROM ${table}) TO ${sqlString(outFile)} (FORMAT parquet)`);
  } finally {
    await conn.run(`DROP TABLE IF EXISTS ${table}`);
  }
}

const DUCK_TYPES = { VARCHAR, INTEGER, DOUBLE, BOOLEAN } as const;

/** A value as the Parquet file holds it: what the CSV leaves empty is NULL. */
function duckValue(v: string | number | boolean | null): string | number | boolean | null {
  if (v === null || v === '') return null;
  if (typeof v === 'number' && !Number.isFinite(v)) return null;
  return v;
}
