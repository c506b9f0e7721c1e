import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { ingest } from '../01-ingest/ingest.ts';
import { computeFeatures } from '../02-features/features.ts';
import { applyScale, loadPreprocessState, projectScaled } from '../03-preprocess/preprocess.ts';
import { assignClusters, assignmentFlags, loadClusterState } from '../04-cluster/cluster.ts';
import { initBackend } from '../05-classify/backend.ts';
import { loadClassifierState, predictProba } from '../05-classify/mlp.ts';
import { applyColdStart, historySql, loadColdStartState, signupAttributes, type ColdStartState, type SignupAttributes } from '../05-classify/coldstart.ts';
import { dominantLensesOf, recommendCustomers, type Recommendations } from '../07-map/recommend.ts';
import { categorize, LENS_NAMES, type CustomerLenses } from '../06-categorize/lenses.ts';
import { loadBundle, type LoadedBundle } from '../registry/bundle.ts';
import { parseConfig, type FinsegConfig } from '../core/config.ts';
import { openDuck, readColumns, sqlString } from '../core/duck.ts';
import { InputError } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import type { Matrix } from '../core/matrix.ts';
import type { SegmentsState } from './train.ts';
import { lensInputFrom } from './train.ts';
import { StageClock, type StageTimings } from './timings.ts';

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
export async function scoreFeatures(model: ScoringModel, X: Matrix, customerIds: string[], lenses: CustomerLenses, clock?: StageClock, cold?: ColdStartInput): Promise<Scores> {
  // Scaled once for both: projectScaled(applyScale(X)) is applyPreprocess(X) bit for bit.
  const scaled = applyScale(model.preprocess, X);
  const reduced = projectScaled(model.preprocess, scaled);
  clock?.lap('preprocess');
  const assignment = assignClusters(model.cluster, reduced);
  clock?.lap('assign');
  const probabilities = await predictProba(model.classifier, scaled);
  clock?.lap('classify');
  const k = probabilities.cols;
  const confidence = new Float64Array(X.rows);
  for (let i = 0; i < X.rows; i++) confidence[i] = probabilities.data[i * k + assignment.labels[i]!]!;
  const scores = { segment: assignment.labels, distance: assignment.distances, probabilities, confidence };
  const { margin, ambiguous, novel } = assignmentFlags(model.cluster, assignment, model.config.cluster.ambiguousMargin);
  // Cold start replaces segment, probabilities and confidence of its rows before anything is derived from them.
  const coldStart = cold && model.coldStart ? await applyColdStart(model.coldStart, scores, cold.attributes, cold.history) : new Array<boolean>(X.rows).fill(false);
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
  const recommendation = recommendCustomers(scores.segment, lenses, model.segments.cards.map(dominantLensesOf), model.config.playbooks);
  return { customerIds, ...scores, secondSegment, margin, ambiguous, novel, lenses, coldStart, history: Float64Array.from({ length: X.rows }, (_, i) => (cold ? cold.history[i]! : Number.NaN)), recommendation };
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
export async function scoreJob(
  opts: ScoreOptions,
): Promise<{ outFile: string; rows: number; scores: Scores; model: ScoringModel; timings: StageTimings }> {
  const clock = new StageClock('score', opts.logger);
  const model = loadScoringModel(opts.modelPath);
  const config = opts.config ?? { ...model.config, ingest: { ...model.config.ingest, asOf: null } };
  await initBackend(opts.logger);
  const conn = await openDuck();
  clock.lap('load');
  try {
    const ingested = await ingest(conn, opts.dataDir, config.ingest, opts.quarantineDir, opts.logger);
    clock.lap('ingest');
    const features = await computeFeatures(conn, ingested.asOf, model.config.features, ingested.absentTables, model.featureNames);
    clock.lap('features');
    const lenses = categorize(lensInputFrom(features), model.config.lenses);
    clock.lap('lenses');
    const history = await readColumns(conn, historySql(ingested.asOf), ['customer_id']);
    const cold = { attributes: signupAttributes(features.attributes, lenses), history: history.numeric.history! };
    const scores = await scoreFeatures(model, features.X, features.customerIds, lenses, clock, cold);
    const nCold = scores.coldStart.filter(Boolean).length;
    if (nCold > 0) opts.logger.info(`cold start: ${nCold} customers with fewer than ${model.coldStart?.minHistory} usage events and transactions scored from signup attributes`);
    await writeScores(conn, scores, model, opts.outFile);
    clock.lap('write');
    opts.logger.info(`scored ${features.X.rows} customers with ${model.bundle.manifest.version} → ${opts.outFile}`);
    return { outFile: opts.outFile, rows: features.X.rows, scores, model, timings: clock.finish() };
  } finally {
    conn.closeSync();
  }
}

/** Recommendation columns: edition id, deployment, lead modules and the lenses filled from the segment (lists joined by ';'). */
const REC_COLUMNS = ['rec_edition', 'rec_deployment', 'rec_lead_modules', 'rec_from_segment'] as const;

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
    'second_segment_id',
    'margin',
    'ambiguous',
    'novel',
    // Columns and ids are the public segment ids of the cards (a retrain carries them over, so they can differ from positions).
    ...Array.from({ length: k }, (_, j) => `p_segment_${cards[j]?.id ?? j}`),
    ...LENS_NAMES.map(lensColumn),
    'cold_start',
    ...REC_COLUMNS,
  ];
  const lines = [header.join(',')];
  for (let i = 0; i < scores.customerIds.length; i++) {
    const s = scores.segment[i]!;
    const row: (string | number | null)[] = [scores.customerIds[i]!, cards[s]?.id ?? s, cards[s]?.name.en ?? null, cards[s]?.name.zh ?? null, scores.confidence[i]!, scores.distance[i]!];
    // Flags are empty (NULL) for cold-start rows: without behaviour there is no margin or novelty to judge.
    const flag = (v: number): string | null => (scores.coldStart[i] ? null : String(v === 1));
    const second = scores.secondSegment[i]!;
    row.push(second < 0 ? second : (cards[second]?.id ?? second), scores.margin[i]!, flag(scores.ambiguous[i]!), flag(scores.novel[i]!));
    for (let j = 0; j < k; j++) row.push(scores.probabilities.data[i * k + j]!);
    for (const l of LENS_NAMES) row.push(scores.lenses[l][i]!);
    const rec = scores.recommendation;
    row.push(String(scores.coldStart[i]!), rec.editionId[i]!, rec.deployment[i]!, rec.leadModules[i]!.join(';'), rec.fromSegment[i]!.map(lensColumn).join(';'));
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
    const types = [`'customer_id': 'VARCHAR'`, `'segment_id': 'INTEGER'`, `'segment_name': 'VARCHAR'`, `'segment_name_zh': 'VARCHAR'`, `'second_segment_id': 'INTEGER'`, `'margin': 'DOUBLE'`, `'ambiguous': 'BOOLEAN'`, `'novel': 'BOOLEAN'`, ...LENS_NAMES.map((l) => `'${lensColumn(l)}': 'VARCHAR'`), `'cold_start': 'BOOLEAN'`, ...REC_COLUMNS.map((c) => `'${c}': 'VARCHAR'`)];
    await conn.run(`COPY (SELECT * FROM read_csv(${sqlString(tmp)}, header = true, types = {${types.join(', ')}})) TO ${sqlString(outFile)} (FORMAT parquet)`);
  } finally {
    rmSync(tmp, { force: true });
  }
}
