/**
 * The edge train and retrain share: a DuckDB connection holding the training customers, the fit
 * sidecars reading beside it, and the exports only a training run can write (it alone has every
 * customer). `openTrainingRun` reads; the job fits, writes, exports, then closes the run.
 */
import { join, resolve } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { FeatureTable } from '../02-features/features.ts';
import type { ProfileFeatureFile } from '../02-features/profile-table.ts';
import { initBackend } from '../05-classify/backend.ts';
import type { Bilingual } from '../07-map/playbooks.ts';
import { writeAssignments } from '../10-report/exports.ts';
import type { FinsegConfig } from '../config/config.ts';
import { duckQueue, openDuck, registerCustomerIndex } from '../core/duck.ts';
import type { Logger } from '../core/log.ts';
import type { StageClock, StageTimings } from '../core/timings.ts';
import type { FitSidecars, FittedModel, ModelInput } from '../model/fit.ts';
import type { BundleStates } from '../model/types.ts';
import type { InputRecord, WrittenModel } from '../model/write.ts';
import type { Manifest } from '../registry/bundle.ts';
import { checkTrainingFeatures, inputRecord, readTrainingInput } from './training-input.ts';
import { startSideReads } from './side-reads.ts';

/** What a training run reads, and the clock its stages are timed on. */
export interface TrainingRunOptions {
  dataDir: string;
  /** A precomputed feature table (pipeline/02-features/feature-file.ts) used instead of ingest + features; `dataDir` is then only where truth.csv is looked for. */
  featureFile?: string;
  config: FinsegConfig;
  /** Root of quarantine output; rows go to `<root>/<input fingerprint>/`, once per input (01-ingest/quarantine.ts). */
  quarantineRoot: string;
  logger: Logger;
  clock: StageClock;
}

/** An open training run: the fit's input and sidecars; close it when done. */
export interface TrainingRun {
  conn: DuckDBConnection;
  input: ModelInput;
  sidecars: FitSidecars;
  /** The manifest's `input` block (fingerprints every input file). */
  inputRecord: () => Promise<InputRecord>;
  /** Waits for the queued DuckDB work, closes the connection and removes temporary files. */
  close: () => Promise<void>;
}

/** Opens DuckDB, reads the training customers and starts the side reads. */
export async function openTrainingRun(opts: TrainingRunOptions): Promise<TrainingRun> {
  const { config, logger, clock } = opts;
  const lap = (stage: string) => clock.lap(stage);
  // tfjs-wasm is instantiated now, so V8 has long finished optimising its code when classify,
  // the first stage to use it, starts (instantiated there, the first fit ran ~0.3 s slower).
  const backend = initBackend(logger);
  backend.catch(() => {}); // awaited (and any failure reported) at classify
  const conn = await openDuck();
  const duck = duckQueue();
  const keep: { profile: ProfileFeatureFile | null } = { profile: null };
  const close = async () => {
    await duck.settled();
    conn.closeSync();
    keep.profile?.remove();
  };
  try {
    const read = await readTrainingInput(conn, { dataDir: opts.dataDir, ...(opts.featureFile ? { featureFile: opts.featureFile } : {}), config, quarantineRoot: resolve(opts.quarantineRoot), logger, lap }, keep);
    const { features } = read.model;
    // The row order per-customer queries are placed by (startPerCustomer).
    await registerCustomerIndex(conn, features.customerIds);
    lap('features');
    checkTrainingFeatures(features, read.ingested.asOf, logger);
    const side = startSideReads({ conn, duck, ingested: read.ingested, customerIds: features.customerIds, dataDir: opts.dataDir, trends: config.drift.trends, vendorModules: read.model.vendorModules, nextModule: config.nextModule });
    return { conn, input: read.model, sidecars: { backend, ...side, logger, lap }, inputRecord: () => inputRecord(read, opts.dataDir), close };
  } catch (e) {
    await close();
    throw e;
  }
}

/**
 * Writes the training customers' reported segments beside the report (docs/report.md), by public
 * segment id (a retrain may carry ids over, so id and index can differ), names indexed by id.
 */
export async function exportTrainingAssignments(conn: DuckDBConnection, bundleDir: string, fitted: FittedModel): Promise<void> {
  const cards = fitted.states['segments.json'].cards;
  const segmentIds = cards.map((c) => c.id);
  const names: Bilingual[] = [];
  for (const c of cards) names[c.id] = c.name;
  const exportedIds = Int32Array.from(fitted.reported.segment, (l) => (l < 0 ? l : segmentIds[l]!));
  await writeAssignments(conn, join(bundleDir, 'report'), { customerIds: fitted.input.features.customerIds, segment: exportedIds, distance: fitted.reported.distance, lenses: fitted.lenses }, names);
}

/** What a training run leaves: the bundle, and the fit in memory for callers that score or inspect it. */
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

/** The outcome of a training run from the written model. */
export function trainOutcome(fitted: FittedModel, written: WrittenModel, timings: StageTimings): TrainOutcome {
  const { features } = fitted.input;
  return { bundleDir: written.bundleDir, manifest: written.manifest, labels: fitted.labels, reported: fitted.reported.segment, customerIds: features.customerIds, states: fitted.states, features, timings };
}
