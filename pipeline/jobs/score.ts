import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { ingest } from '../01-ingest/ingest.ts';
import { computeFeatures } from '../02-features/features.ts';
import { applyPreprocess, applyScale, loadPreprocessState } from '../03-preprocess/preprocess.ts';
import { assignClusters, loadClusterState } from '../04-cluster/cluster.ts';
import { initBackend } from '../05-classify/backend.ts';
import { loadClassifierState, predictProba } from '../05-classify/mlp.ts';
import { categorize, LENS_NAMES, type CustomerLenses } from '../06-categorize/lenses.ts';
import { loadBundle, type LoadedBundle } from '../registry/bundle.ts';
import { parseConfig, type FinsegConfig } from '../core/config.ts';
import { openDuck, sqlString } from '../core/duck.ts';
import { InputError } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import type { Matrix } from '../core/matrix.ts';
import type { SegmentsState } from './train.ts';
import { lensInputFrom } from './train.ts';

/** A loaded, verified model: the fitted states ready for the apply functions. */
export interface ScoringModel {
  bundle: LoadedBundle;
  config: FinsegConfig;
  featureNames: string[];
  preprocess: ReturnType<typeof loadPreprocessState>;
  cluster: ReturnType<typeof loadClusterState>;
  classifier: ReturnType<typeof loadClassifierState>;
  segments: SegmentsState;
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
  };
}

/** Scores for a batch of customers, columnar. */
export interface Scores {
  customerIds: string[];
  /** Nearest-centroid segment: the definition of a segment, so training customers score to their training segment. */
  segment: Int32Array;
  /** Distance to the segment's centroid in PCA space. */
  distance: Float64Array;
  /** Classifier probabilities, shape (n, k). */
  probabilities: Matrix;
  /** Classifier probability of `segment`. */
  confidence: Float64Array;
  lenses: CustomerLenses;
}

/** Applies a model to an X of raw catalog features (n, model features) plus the customers' lenses. */
export async function scoreFeatures(model: ScoringModel, X: Matrix, customerIds: string[], lenses: CustomerLenses): Promise<Scores> {
  const assignment = assignClusters(model.cluster, applyPreprocess(model.preprocess, X));
  const probabilities = await predictProba(model.classifier, applyScale(model.preprocess, X));
  const k = probabilities.cols;
  const confidence = new Float64Array(X.rows);
  for (let i = 0; i < X.rows; i++) confidence[i] = probabilities.data[i * k + assignment.labels[i]!]!;
  return { customerIds, segment: assignment.labels, distance: assignment.distances, probabilities, confidence, lenses };
}

export interface ScoreOptions {
  modelPath: string;
  dataDir: string;
  outFile: string;
  /** Ingest settings for the new data; default: the ones the model was trained with, as-of inferred from the data. */
  config: FinsegConfig | null;
  quarantineDir: string | null;
  logger: Logger;
}

/** Reads new customers, scores them with a bundle, writes Parquet or CSV by the out file's extension. */
export async function scoreJob(opts: ScoreOptions): Promise<{ outFile: string; rows: number; scores: Scores; model: ScoringModel }> {
  const model = loadScoringModel(opts.modelPath);
  const config = opts.config ?? { ...model.config, ingest: { ...model.config.ingest, asOf: null } };
  await initBackend(opts.logger);
  const conn = await openDuck();
  try {
    const ingested = await ingest(conn, opts.dataDir, config.ingest, opts.quarantineDir, opts.logger);
    const features = await computeFeatures(conn, ingested.asOf, model.config.features, ingested.absentTables, model.featureNames);
    const lenses = categorize(lensInputFrom(features), model.config.lenses);
    const scores = await scoreFeatures(model, features.X, features.customerIds, lenses);
    await writeScores(conn, scores, model, opts.outFile);
    opts.logger.info(`scored ${features.X.rows} customers with ${model.bundle.manifest.version} → ${opts.outFile}`);
    return { outFile: opts.outFile, rows: features.X.rows, scores, model };
  } finally {
    conn.closeSync();
  }
}

/** The output column of a lens: snake case like every other column. */
const lensColumn = (lens: string): string => lens.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

function csvField(v: string | number | null): string {
  if (v === null) return '';
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : '';
  return /[",\n\r]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v;
}

/** Writes scores as CSV, or as Parquet through DuckDB, by extension. */
async function writeScores(conn: Awaited<ReturnType<typeof openDuck>>, scores: Scores, model: ScoringModel, outFile: string): Promise<void> {
  mkdirSync(dirname(outFile) || '.', { recursive: true });
  const k = scores.probabilities.cols;
  const cards = model.segments.cards;
  const header = [
    'customer_id',
    'segment_id',
    'segment_name',
    'segment_name_zh',
    'confidence',
    'distance',
    ...Array.from({ length: k }, (_, j) => `p_segment_${j}`),
    ...LENS_NAMES.map(lensColumn),
  ];
  const lines = [header.join(',')];
  for (let i = 0; i < scores.customerIds.length; i++) {
    const s = scores.segment[i]!;
    const row: (string | number | null)[] = [scores.customerIds[i]!, s, cards[s]?.name.en ?? null, cards[s]?.name.zh ?? null, scores.confidence[i]!, scores.distance[i]!];
    for (let j = 0; j < k; j++) row.push(scores.probabilities.data[i * k + j]!);
    for (const l of LENS_NAMES) row.push(scores.lenses[l][i]!);
    lines.push(row.map(csvField).join(','));
  }
  const csv = `${lines.join('\n')}\n`;
  if (outFile.toLowerCase().endsWith('.csv')) {
    writeFileSync(outFile, csv);
    return;
  }
  if (!outFile.toLowerCase().endsWith('.parquet')) throw new InputError(`--out ${outFile}: use a .parquet or .csv file name`);
  const tmp = `${outFile}.tmp.csv`;
  writeFileSync(tmp, csv);
  try {
    const types = [`'customer_id': 'VARCHAR'`, `'segment_id': 'INTEGER'`, `'segment_name': 'VARCHAR'`, `'segment_name_zh': 'VARCHAR'`, ...LENS_NAMES.map((l) => `'${lensColumn(l)}': 'VARCHAR'`)];
    await conn.run(`COPY (SELECT * FROM read_csv(${sqlString(tmp)}, header = true, types = {${types.join(', ')}})) TO ${sqlString(outFile)} (FORMAT parquet)`);
  } finally {
    rmSync(tmp, { force: true });
  }
}
