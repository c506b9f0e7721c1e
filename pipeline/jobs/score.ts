import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { BOOLEAN, DOUBLE, DuckDBDataChunk, INTEGER, VARCHAR } from '@duckdb/node-api';
import { dirname } from 'node:path';
import { ingest } from '../01-ingest/ingest.ts';
import { computeFeatures, type FeatureParams, type FeatureTable } from '../02-features/features.ts';
import { readFeatureFile, type FeatureFileReport } from '../02-features/feature-file.ts';
import { checkPreprocessColumns, loadPreprocessState } from '../03-preprocess/preprocess.ts';
import { assignmentFlags, assignmentOf, checkCentroidDimensions, loadClusterState } from '../04-cluster/cluster.ts';
import { initBackend } from '../05-classify/backend.ts';
import { loadClassifierState } from '../05-classify/mlp.ts';
import { applyColdStart, loadColdStartState, signupAttributes, type ColdStartState, type SignupAttributes } from '../05-classify/coldstart.ts';
import { dominantLensesOf, recommendCustomers, type Recommendations } from '../07-map/recommend.ts';
import { categorize, LENS_NAMES, type CustomerLenses } from '../06-categorize/lenses.ts';
import { loadBundle, type LoadedBundle } from '../registry/bundle.ts';
import { parseConfig, type FinsegConfig } from '../core/config.ts';
import { openDuck, sqlIdent, sqlString } from '../core/duck.ts';
import { InputError } from '../core/errors.ts';
import { partitionSql, type Partition } from '../core/partition.ts';
import type { Logger } from '../core/log.ts';
import { sharedCopy, type Matrix } from '../core/matrix.ts';
import { allocateScoreBuffers, type ScoreStates } from './score-kernels.ts';
import { runScorePhases, ScoreThreads } from './score-threads.ts';
import type { SegmentsState } from './train.ts';
import { lensInputFrom } from './train.ts';
import { StageClock, type StageTimings } from './timings.ts';
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
  /** Nearest-centroid segment: the definition of a segment, so training customers score to their training segment. */
  segment: Int32Array;
  /** Distance to the segment's centroid in PCA space. */
  distance: Float64Array;
  /** The second-nearest centroid's segment (-1 when k = 1); for cold-start rows, the cold-start model's second most probable segment. */
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
 * with `cold` (and a model that has a cold-start state) customers below its history threshold
 * are scored from their signup attributes instead.
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
  // Cold start replaces segment, probabilities and confidence of its rows before anything is derived from them.
  const history = cold ? cold.history : null;
  const coldStart = cold && model.coldStart ? await applyColdStart(model.coldStart, scores, cold.attributes, history!) : new Array<boolean>(X.rows).fill(false);
  const secondSegment = assignment.second;
  coldStart.forEach((isCold, i) => {
    if (!isCold) return;
    // No behaviour, so no centroid distances: the runner-up is the cold-start model's, and the flags do not apply.
    secondSegment[i] = secondMostProbable(probabilities, i, scores.segment[i]!);
    margin[i] = Number.NaN;
    ambiguous[i] = 0;
    novel[i] = 0;
  });
  clock?.lap('coldstart');
  const recommendation = recommendCustomers(scores.segment, lenses, model.segments.cards.map(dominantLensesOf), model.config.playbooks, model.segments.cards.map((c) => c.playbook));
  clock?.lap('recommend');
  return { customerIds, ...scores, secondSegment, margin, ambiguous, novel, lenses, coldStart, history: Float64Array.from({ length: X.rows }, (_, i) => (history ? history[i]! : Number.NaN)), recommendation };
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
  quarantineDir: string | null;
  logger: Logger;
}

/**
 * The feature settings a batch is scored with: the bundle's, and the training data's home
 * currency (recorded since bundles carry it) rather than the batch's own most common one.
 */
export function bundleFeatureParams(model: ScoringModel): FeatureParams {
  const trainedHome = (model.bundle.manifest.features as { homeCurrency?: string | null }).homeCurrency;
  return trainedHome ? { ...model.config.features, homeCurrency: trainedHome } : model.config.features;
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
    let features: FeatureTable;
    let featureFile: FeatureFileReport | null = null;
    if (opts.featureFile) {
      const read = await readFeatureFile(conn, opts.featureFile, {
        asOf: opts.asOf ?? null,
        requiredFeatures: model.featureNames,
        partition,
        missingValues: config.ingest.missingValues,
        quarantineLimit: config.ingest.quarantineLimit,
        quarantineDir: opts.quarantineDir,
        logger: opts.logger,
      });
      clock.lap('read-features');
      ({ features, report: featureFile } = read);
    } else {
      const ingested = await ingest(conn, opts.dataDir!, config.ingest, opts.quarantineDir, opts.logger);
      // The partition is cut at the customers table: features and history start from it, and
      // everything that is not per customer (the as-of date, the home currency) still sees all rows.
      // (Ingest writes customers as a table, in file order; events may stay views over Parquet.)
      if (partition) await conn.run(`DELETE FROM customers WHERE ${partitionSql('customer_id', partition.count)} <> ${partition.index}`);
      clock.lap('ingest');
      // The helper thread starts once DuckDB has aggregated: it loads (~0.6 s of CPU) while the main
      // thread reads the feature rows, which leaves the second core mostly idle, rather than during
      // the two-core query, whose time it would take.
      features = await computeFeatures(conn, ingested.asOf, bundleFeatureParams(model), ingested.absentTables, model.featureNames, (customers) => {
        threads = ScoreThreads.start(scoreStates(model), customers);
      });
      clock.lap('features');
    }
    if (partition) opts.logger.info(`partition ${partition.index}/${partition.count}: ${features.X.rows} customers`);
    // From a feature table the helper starts now, and loads while the lenses are computed.
    threads ??= ScoreThreads.start(scoreStates(model), features.X.rows);
    const lenses = categorize(lensInputFrom(features), model.config.lenses);
    clock.lap('lenses');
    // History comes with the features (the feature query counts it). A feature table without a
    // history column cannot tell new customers apart: all are then scored on behaviour.
    const cold = featureFile && !featureFile.hasHistory ? undefined : { attributes: signupAttributes(features.attributes, lenses), history: features.history };
    const scores = await scoreFeatures(model, features.X, features.customerIds, lenses, clock, cold, threads, opts.logger);
    await threads.close();
    const nCold = scores.coldStart.filter(Boolean).length;
    if (nCold > 0) opts.logger.info(`cold start: ${nCold} customers with fewer than ${model.coldStart?.minHistory} usage events and transactions scored from signup attributes`);
    await writeScores(conn, scores, model, opts.outFile);
    clock.lap('write');
    opts.logger.info(`scored ${features.X.rows} customers with ${model.bundle.manifest.version} → ${opts.outFile}`);
    return { outFile: opts.outFile, rows: features.X.rows, scores, model, timings: clock.finish(), featureFile };
  } finally {
    await threads?.close();
    conn.closeSync();
  }
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
  // Flags are empty (NULL) for cold-start rows: without behaviour there is no margin or novelty to judge.
  const flag = (v: Uint8Array) => (i: number) => (scores.coldStart[i] ? null : v[i] === 1);
  const column = (name: string, type: ScoreColumn['type'], value: ScoreColumn['value']): ScoreColumn => ({ name, type, value });
  const coded = (name: string, value: ScoreColumn['value']): ScoreColumn => ({ name, type: 'VARCHAR', value, coded: true });
  return [
    column('customer_id', 'VARCHAR', (i) => scores.customerIds[i]!),
    column('segment_id', 'INTEGER', (i) => cards[scores.segment[i]!]?.id ?? scores.segment[i]!),
    coded('segment_name', (i) => cards[scores.segment[i]!]?.name.en ?? null),
    coded('segment_name_zh', (i) => cards[scores.segment[i]!]?.name.zh ?? null),
    column('confidence', 'DOUBLE', (i) => scores.confidence[i]!),
    column('distance', 'DOUBLE', (i) => scores.distance[i]!),
    column('second_segment_id', 'INTEGER', (i) => {
      const second = scores.secondSegment[i]!;
      return second < 0 ? second : (cards[second]?.id ?? second);
    }),
    column('margin', 'DOUBLE', (i) => scores.margin[i]!),
    column('ambiguous', 'BOOLEAN', flag(scores.ambiguous)),
    column('novel', 'BOOLEAN', flag(scores.novel)),
    // Columns and ids are the public segment ids of the cards (a retrain carries them over, so they can differ from positions).
    ...Array.from({ length: k }, (_, j) => column(`p_segment_${cards[j]?.id ?? j}`, 'DOUBLE', (i) => scores.probabilities.data[i * k + j]!)),
    ...LENS_NAMES.map((l) => coded(lensColumn(l), (i) => scores.lenses[l][i] ?? null)),
    column('cold_start', 'BOOLEAN', (i) => scores.coldStart[i]!),
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
