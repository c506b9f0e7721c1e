/**
 * `finseg score`: the edge around applyModel. Reads the model (loadModel) and the new customers
 * (ingest + features, a feature table, or a profile table), applies the model, checks the batch
 * for drift against the bundle's reference, writes the scores as Parquet or CSV and the drift
 * summary beside them (`<scores file>.drift.json`).
 */
import { closeSync, mkdirSync, openSync, writeFileSync, writeSync } from 'node:fs';
import type { DuckDBConnection } from '@duckdb/node-api';
import { BOOLEAN, DOUBLE, DuckDBDataChunk, INTEGER, VARCHAR } from '@duckdb/node-api';
import { basename, dirname } from 'node:path';
import { ingest } from '../01-ingest/ingest.ts';
import { computeFeatures, type FeatureTable } from '../02-features/features.ts';
import { withTrainedDrops } from '../02-features/select.ts';
import { readFeatureFile, type FeatureFileReport } from '../02-features/feature-file.ts';
import { profileFeatureFile } from '../02-features/profile-table.ts';
import { initBackend } from '../05-classify/backend.ts';
import { signupAttributes } from '../05-classify/coldstart.ts';
import { categorize, LENS_NAMES } from '../06-categorize/lenses.ts';
import { evidenceText, modulesText } from '../07-map/next-module.ts';
import type { FinsegConfig } from '../config/config.ts';
import { openDuck, sqlIdent, sqlString } from '../core/duck.ts';
import { InputError } from '../core/errors.ts';
import { partitionSql, type Partition } from '../core/partition.ts';
import { withQueryProgress } from '../core/duck-progress.ts';
import { progressOf, type Logger } from '../core/log.ts';
import { applyModel, bundleFeatureParams, scoreStates, type Scores } from '../model/apply.ts';
import { loadModel, trainedSettings, type LoadedModel } from '../model/load.ts';
import { ScoreThreads } from '../model/score-threads.ts';
import { lensInputFrom } from '../model/lens-input.ts';
import { StageClock, type StageTimings } from '../core/timings.ts';
import { csvField, lensColumn } from '../10-report/exports.ts';
import { driftSummaryPath, scoringDrift, scoringDriftText, type ScoringDrift } from '../09-drift/scoring.ts';
import type { CustomerLenses } from '../06-categorize/lenses.ts';

/**
 * Exit code of `finseg score --strict` (and `finseg drift --strict`) when the batch drifted over a
 * `drift.scoring` limit: the scores are written all the same. 0, 1, 2 keep their meaning; 3 and 4
 * are retrain's.
 */
export const SCORE_EXIT_DRIFTED = 5;

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

/** Reads new customers, scores them with a bundle, writes Parquet or CSV by the out file's extension. */
export async function scoreJob(
  opts: ScoreOptions,
): Promise<{ outFile: string; rows: number; scores: Scores; model: LoadedModel; timings: StageTimings; featureFile: FeatureFileReport | null; drift: ScoringDrift; driftFile: string }> {
  const clock = new StageClock('score', opts.logger);
  if ((opts.dataDir ? 1 : 0) + (opts.featureFile ? 1 : 0) !== 1) throw new InputError('score: give either a data folder (--data) or a feature table (--features)');
  const model = loadModel(opts.modelPath);
  const base = opts.config ?? trainedSettings(model);
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
    const lenses = categorize(lensInputFrom(features), model.config.lenses, model.states['segments.json'].lifecycleFit);
    clock.lap('lenses');
    // History comes with the features (the feature query counts it). A feature table without a
    // history column cannot tell new customers apart: all are then scored on behaviour.
    const cold = featureFile && !featureFile.hasHistory ? undefined : { attributes: signupAttributes(features.attributes, lenses), history: features.history };
    const scores = await applyModel(model, { X: features.X, customerIds: features.customerIds, lenses, ...(cold ? { cold } : {}) }, { clock, threads, logger: opts.logger });
    await threads.close();
    logRule(scores, model, opts.logger);
    const drift = batchDrift(model, { features, lenses, featureFile }, scores, config, opts);
    clock.lap('drift');
    await writeScores(conn, scores, model, opts.outFile, drift.drifted, progressOf(opts.logger, 'score: writing'));
    const driftFile = driftSummaryPath(opts.outFile);
    writeFileSync(driftFile, `${JSON.stringify(drift, null, 2)}\n`);
    clock.lap('write');
    opts.logger.info(`scored ${features.X.rows} customers with ${model.manifest.version} → ${opts.outFile} (drift summary ${driftFile})`);
    return { outFile: opts.outFile, rows: features.X.rows, scores, model, timings: clock.finish(), featureFile, drift, driftFile };
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
  model: LoadedModel,
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
      const ingested = await ingest(conn, opts.dataDir!, config.ingest, opts.quarantineDir, opts.logger, { command: 'score', now: () => new Date(), onProgress: progressOf(opts.logger, 'ingest') });
      // The partition is cut at the customers table: features and history start from it, and
      // everything that is not per customer (the as-of date, the home currency) still sees all rows.
      // (Ingest writes customers as a table, in file order; events may stay views over Parquet.)
      if (partition) await conn.run(`DELETE FROM customers WHERE ${partitionSql('customer_id', partition.count)} <> ${partition.index}`);
      clock?.lap('ingest');
      features = await withQueryProgress(conn, progressOf(opts.logger, 'features'), () => computeFeatures(conn, ingested.asOf, bundleFeatureParams(model), ingested.absentTables, model.featureNames, onAggregated));
      clock?.lap('features');
    }
    features = withTrainedDrops(features, model.manifest.features.dropped ?? []);
    return { features, featureFile };
  } finally {
    profile?.remove();
  }
}

/**
 * The batch against the bundle's reference (09-drift/scoring.ts), judged by the run's
 * `drift.scoring` limits; a drifted batch is a warning naming what is over its limit. A partition
 * is checked on its own customers: a hash partition is a random sample of the batch, so it shows
 * the same shift with more noise (drift.scoring.minCustomers keeps a small one from being judged).
 */
function batchDrift(
  model: LoadedModel,
  batch: { features: FeatureTable; lenses: CustomerLenses; featureFile: FeatureFileReport | null },
  scores: Scores,
  config: FinsegConfig,
  opts: ScoreOptions,
): ScoringDrift {
  const { features, lenses, featureFile } = batch;
  const partition = opts.partition ? `${opts.partition.index}/${opts.partition.count}` : null;
  const reference = model.states['reference.json'];
  // A feature table may leave out the customers columns: those read as all missing, which is no shift of the population.
  const attributes = [...reference.numeric, ...reference.categorical].filter((r) => r.source === 'attribute').map((r) => r.name);
  const absent = featureFile ? attributes.filter((name) => !featureFile.attributeColumns.includes(name)) : [];
  const drift = scoringDrift(
    reference,
    {
      inputs: { X: features.X, featureNames: features.featureNames, attributes: features.attributes, lenses },
      nearest: scores.nearest,
      novel: scores.novel,
      ambiguous: scores.ambiguous,
      coldStart: scores.coldStart,
      noMargin: scores.movedFromActive.map((moved, i) => moved || scores.unplaced[i]!),
      absent,
    },
    config.drift.scoring,
    { model: model.manifest.version, scores: basename(opts.outFile), partition, noveltyQuantile: model.states['cluster.json'].novelty.quantile },
  );
  if (drift.drifted) opts.logger.warn(scoringDriftText(drift).trimEnd());
  else if (!drift.judged) opts.logger.info(`drift: not judged, ${drift.customers} customers is fewer than drift.scoring.minCustomers (${drift.limits.minCustomers})`);
  else opts.logger.info(`drift: none over the limits (largest PSI ${drift.inputs[0]?.psi.toFixed(3) ?? 'n/a'})`);
  return drift;
}

/** One line on what the segment rule did to this batch. */
function logRule(scores: Scores, model: LoadedModel, logger: Logger): void {
  const count = (xs: readonly (boolean | null)[]) => xs.filter((x) => x === true).length;
  const low = count(scores.insufficientHistory);
  const cold = count(scores.coldStart);
  const moved = count(scores.movedFromActive);
  const unplaced = count(scores.unplaced);
  if (low === 0 && moved === 0 && unplaced === 0) return;
  const coldStart = model.states['coldstart.json'];
  const how = coldStart.metrics.used ? `${cold} placed by cold start from signup attributes, the rest by nearest centroid` : 'placed by nearest centroid (cold start did not beat its baseline)';
  logger.info(`segment rule: ${low} customers with fewer than ${coldStart.minHistory} usage events and transactions, ${how}; ${moved} inactive customers moved out of an active segment${unplaced ? `, ${unplaced} given no segment (every segment is active)` : ''}`);
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
function scoreColumns(scores: Scores, model: LoadedModel): ScoreColumn[] {
  const k = scores.probabilities.cols;
  const cards = model.states['segments.json'].cards;
  const rec = scores.recommendation;
  const next = scores.nextModules;
  const nextModules = model.states['nextmodule.json']?.modules ?? [];
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
    // Next best modules and their evidence (module:peer share:lift), null when the bundle has no nextmodule state.
    coded('next_modules', (i) => (next ? modulesText(next[i]!, nextModules) : null)),
    coded('next_modules_evidence', (i) => (next ? evidenceText(next[i]!, nextModules) : null)),
    // Empty when the bundle has no churn model (docs/churn.md).
    column('churn_risk', 'DOUBLE', (i) => scores.churnRisk?.[i] ?? null),
  ];
}

/** Rows per CSV write and per DuckDB data chunk (DuckDB's vector size). */
const WRITE_BATCH = 2048;

/**
 * Writes scores as CSV, or as Parquet by extension. Parquet goes through DuckDB from typed
 * values appended chunk by chunk, with no text round trip (1M rows here: 15.0 s and a 5.3 GB
 * peak RSS through one CSV string, 8.9 s and 2.3 GB this way); a blank text or a non-finite
 * number is NULL, as the CSV leaves it empty. Both formats stream in batches, never one string;
 * `onProgress` gets the rows written (CSV) or appended (Parquet, before DuckDB's COPY) after each.
 */
async function writeScores(conn: Awaited<ReturnType<typeof openDuck>>, scores: Scores, model: LoadedModel, outFile: string, drifted: boolean, onProgress?: (done: number, total: number) => void): Promise<void> {
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
        onProgress?.(Math.min(n, start + WRITE_BATCH), n);
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
      onProgress?.(start + m, n);
    }
    appender.flushSync();
    appender.closeSync();
    const select = columns.map((c, j) => (c.coded ? `list_extract(CAST([${[...dictionaries[j]!.keys()].map(sqlString).join(', ')}] AS VARCHAR[]), ${sqlIdent(c.name)}) AS ${sqlIdent(c.name)}` : sqlIdent(c.name)));
    // The drift verdict also travels inside the Parquet file (key-value metadata), for readers that never see the summary beside it.
    await conn.run(`COPY (SELECT ${select.join(', ')} FROM ${table}) TO ${sqlString(outFile)} (FORMAT parquet, KV_METADATA {'finseg.drifted': '${drifted}'})`);
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
