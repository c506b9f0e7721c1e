/**
 * `finseg retrain`: train a candidate on current data and compare it with production on the same
 * customers (drift, agreement, stable ids, migration, gates), write it as a new version with its
 * comparison, and move the production pointer only when the gates pass. One writer at a time:
 * the registry's lock is held from start to finish, so a second retrain exits at once.
 *
 * Crash safety, step by step: the candidate is written to a temporary folder and renamed into
 * place (bundle.ts), so before the rename there is no version and after it a complete one;
 * production moves by an atomic pointer replace after that; a run killed anywhere leaves
 * production as it was or, after the last step, exactly promoted. The lock and temporary folders
 * of a killed run are cleaned up by the next one.
 */
import { join } from 'node:path';
import { applyPreprocess } from '../03-preprocess/preprocess.ts';
import { assignClusters } from '../04-cluster/cluster.ts';
import { compareWithProduction, type Comparison, type ProductionModel } from '../09-drift/compare.ts';
import { candidateQuality } from '../09-drift/quality.ts';
import type { FinsegConfig } from '../config/config.ts';
import { parseConfig } from '../config/config.ts';
import { InputError } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import type { Matrix } from '../core/matrix.ts';
import { deriveSeed } from '../core/random.ts';
import { toJson } from '../registry/bundle.ts';
import { failpoint, pausepoint } from '../registry/failpoints.ts';
import { applyRetention, cleanStaleTemp, lockRegistry, productionVersion, setProduction, type Fence } from '../registry/registry.ts';
import { writeReport } from '../10-report/report.ts';
import { modelReportInput } from '../model/report-input.ts';
import { StageClock } from '../core/timings.ts';
import { fitModel, type FittedModel } from '../model/fit.ts';
import { withIdentities } from '../model/identities.ts';
import { writeModel } from '../model/write.ts';
import { exportTrainingAssignments, openTrainingRun, trainOutcome, type TrainOutcome } from '../io/training-run.ts';
import { loadModel, readModelFile, trainedSettings, type LoadedModel } from '../model/load.ts';

/**
 * Exit codes of `finseg retrain` (and of each `schedule` run, in its JSON line): 0 the candidate
 * was promoted, 3 it was written but not promoted (a gate failed; production unchanged), 4 another
 * writer holds the registry (nothing done). 1 and 2 keep their meaning: failure, bad input.
 */
export const RETRAIN_EXIT = { promoted: 0, failure: 1, badInput: 2, notPromoted: 3, busy: 4 } as const;

/** What a retrain reads and where it writes. */
export interface RetrainOptions {
  dataDir: string;
  /** The registry folder (models/). */
  registry: string;
  /** The settings; null = production's own (its ingest as-of date cleared), or the defaults for a first model. */
  config: FinsegConfig | null;
  configSource: string;
  quarantineRoot: string;
  logger: Logger;
  now: () => Date;
}

/** What a retrain did: the candidate, the comparison, the pointer, retention. */
export interface RetrainOutcome {
  status: 'promoted' | 'not-promoted';
  version: string;
  bundleDir: string;
  /** Production before and after this run. */
  previousProduction: string | null;
  production: string | null;
  comparison: Comparison;
  train: TrainOutcome;
  /** Versions deleted by retention. */
  removed: string[];
  report: { markdown: string; html: string };
}

/** Today's customers as production reads them: its own feature columns, NaN where the candidate's table lacks one (its imputation fills it). */
function featuresFor(model: LoadedModel, names: readonly string[], X: Matrix): Matrix {
  const p = model.featureNames.length;
  const cols = model.featureNames.map((f) => names.indexOf(f));
  const data = new Float64Array(X.rows * p);
  for (let i = 0; i < X.rows; i++) for (let j = 0; j < p; j++) data[i * p + j] = cols[j]! < 0 ? Number.NaN : X.data[i * X.cols + cols[j]!]!;
  return { rows: X.rows, cols: p, data };
}

/** Parses a bundle's assignments.csv (customer_id,segment_id). */
function parseAssignments(text: string): Map<string, number> {
  const out = new Map<string, number>();
  const lines = text.split('\n');
  for (let r = 1; r < lines.length; r++) {
    const line = lines[r]!;
    if (!line) continue;
    const comma = line.lastIndexOf(',');
    out.set(line.slice(0, comma), Number(line.slice(comma + 1)));
  }
  return out;
}

/** Production's model, and production as the comparison reads it minus today's labels (filled once the candidate's features exist). */
interface Production {
  model: LoadedModel;
  view: Omit<ProductionModel, 'labelsNow'>;
}

/** Reads production and its training assignments. */
function loadProduction(registry: string, version: string): Production {
  const model = loadModel(join(registry, version));
  const assignments = readModelFile(model, 'assignments.csv');
  if (assignments === null) throw new InputError(`production ${version} has no assignments.csv: it was trained by an older finseg`, ['retrain needs a production trained with this version; train one and promote it: finseg models promote VERSION']);
  const retrain = model.manifest.retrain;
  const cards = model.states['segments.json'].cards;
  const ids = cards.map((c) => c.id);
  return {
    model,
    view: {
      version,
      reference: model.states['reference.json'],
      segments: cards.map((c) => ({ id: c.id, name: c.name })),
      nextId: retrain?.nextSegmentId ?? Math.max(...ids) + 1,
      trainingAssignments: parseAssignments(assignments),
      heldOutAccuracy: model.states['classifier.json'].metrics.heldOutAccuracy,
    },
  };
}

/** Production's settings for a retrain without --config (its ingest as-of date cleared), or the defaults for a first model. */
function productionConfig(production: Production | null): FinsegConfig {
  return production ? trainedSettings(production.model) : parseConfig({});
}

/** Retrains under the registry lock; promotes when the gates pass. Throws RegistryBusyError when another writer holds the registry. */
export async function retrainJob(opts: RetrainOptions): Promise<RetrainOutcome> {
  const { logger, registry } = opts;
  const lock = lockRegistry(registry, 'retrain', opts.now);
  try {
    failpoint('retrain:locked');
    const cleaned = cleanStaleTemp(registry);
    if (cleaned.length) logger.warn(`retrain: removed what killed runs left behind: ${cleaned.join(', ')}`);
    const previousProduction = productionVersion(registry);
    const production = previousProduction === null ? null : loadProduction(registry, previousProduction);
    logger.info(previousProduction ? `retrain: comparing with production ${previousProduction}` : 'retrain: no production yet, the candidate is judged on its own');
    await pausepoint('retrain:comparing');
    const config = opts.config ?? productionConfig(production);
    const configSource = opts.config ? opts.configSource : production ? `production ${previousProduction}` : 'defaults';
    const { train, comparison } = await trainCandidate(opts, config, configSource, production, lock);
    const version = train.manifest.version;
    const report = await writeReport(train.bundleDir, modelReportInput(train.manifest, train.states, comparison));

    failpoint('retrain:before-promote');
    const promoted = comparison.decision === 'promote';
    if (promoted) {
      setProduction(registry, version, 'promote', 'retrain', previousProduction ? `gates passed against ${previousProduction}` : 'first model, gates passed', opts.now(), lock);
      logger.info(`retrain: promoted ${version}`);
    } else {
      logger.warn(`retrain: ${version} kept but not promoted; production stays ${previousProduction ?? 'unset'}`);
    }
    const removed = applyRetention(registry, config.retrain.retention, lock);
    if (removed.length) logger.info(`retrain: retention removed ${removed.join(', ')}`);
    return {
      status: promoted ? 'promoted' : 'not-promoted',
      version,
      bundleDir: train.bundleDir,
      previousProduction,
      production: promoted ? version : previousProduction,
      comparison,
      train,
      removed,
      report: { markdown: report.markdown, html: report.html },
    };
  } finally {
    lock.release();
  }
}

/**
 * Reads today's customers, fits a candidate, compares it with production, gives it the
 * carried-over segment ids and names and writes it with its comparison.
 */
async function trainCandidate(opts: RetrainOptions, config: FinsegConfig, configSource: string, production: Production | null, fence: Fence): Promise<{ train: TrainOutcome; comparison: Comparison }> {
  const { logger } = opts;
  const startedAt = opts.now();
  const clock = new StageClock('train', logger);
  const run = await openTrainingRun({ dataDir: opts.dataDir, config, quarantineRoot: opts.quarantineRoot, logger, clock });
  try {
    const candidate = await fitModel(run.input, config, run.sidecars);
    const comparison = compareCandidate(production, candidate, config);
    logComparison(comparison, logger);
    clock.lap('compare');
    const fitted = withIdentities(candidate, comparison.segments.map((s) => ({ id: s.id, name: s.name })));
    const head = { startedAt, configSource, input: await run.inputRecord(), parentVersion: production?.view.version ?? null, extra: { retrain: retrainSummary(comparison) } };
    // Minutes of fitting lie behind: a run paused past its lease and taken over writes no bundle.
    fence.check();
    const written = writeModel(opts.registry, fitted, head, { 'comparison.json': toJson(comparison) });
    logger.info(`bundle written: ${written.bundleDir}`);
    await exportTrainingAssignments(run.conn, written.bundleDir, fitted);
    clock.lap('bundle');
    return { train: trainOutcome(fitted, written, clock.finish()), comparison };
  } finally {
    await run.close();
  }
}

/** The candidate against production on today's customers (compare.ts), with its own quality measured as production's was. */
function compareCandidate(production: Production | null, candidate: FittedModel, config: FinsegConfig): Comparison {
  const { features } = candidate.input;
  const quality = candidateQuality(candidate.reduced, candidate.states['cluster.json'], config.retrain.stability, deriveSeed(config.seed, 'retrain-quality'));
  const labelsNow = production
    ? assignClusters(production.model.states['cluster.json'], applyPreprocess(production.model.states['preprocess.json'], featuresFor(production.model, features.featureNames, features.X))).labels
    : null;
  return compareWithProduction(
    production && labelsNow ? { ...production.view, labelsNow } : null,
    {
      customerIds: features.customerIds,
      labels: candidate.labels,
      names: candidate.states['segments.json'].cards.map((c) => c.name),
      inputs: { X: features.X, featureNames: features.featureNames, attributes: features.attributes, lenses: candidate.lenses },
      silhouette: quality.silhouette,
      stability: quality.stability,
      heldOutAccuracy: candidate.states['classifier.json'].metrics.heldOutAccuracy,
    },
    { retrain: config.retrain, drift: config.drift },
  );
}

function logComparison(c: Comparison, logger: Logger): void {
  const kept = c.segments.filter((s) => s.status === 'kept').length;
  logger.info(
    `retrain: ${kept} of ${c.segments.length} segments keep their id${c.vanished.length ? `, ${c.vanished.length} vanished` : ''}` +
      (c.agreement ? `; ARI with production ${c.agreement.ari.toFixed(3)}` : '') +
      (c.drift ? `; drift ${c.drift.detected ? `detected (${c.drift.drifted.join(', ') || 'segment shares'})` : 'not detected'}` : '') +
      `; gates: ${c.decision}${c.reasons.length ? ` (${c.reasons.join('; ')})` : ''}`,
  );
}

/** The manifest's `retrain` block: the comparison in brief (the whole of it is comparison.json). */
function retrainSummary(c: Comparison): Record<string, unknown> {
  const kept = c.segments.filter((s) => s.status === 'kept').length;
  return {
    production: c.production,
    decision: c.decision,
    reasons: c.reasons,
    nextSegmentId: c.nextSegmentId,
    ari: c.agreement?.ari ?? null,
    driftDetected: c.drift?.detected ?? null,
    drifted: c.drift?.drifted ?? [],
    maxPsi: c.drift?.inputs[0]?.psi ?? null,
    keptIds: kept,
    newIds: c.segments.length - kept,
    vanishedIds: c.vanished.map((v) => v.id),
    sameIdShare: c.migration && c.migration.inBoth ? c.migration.sameId / c.migration.inBoth : null,
  };
}
