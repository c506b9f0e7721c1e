/**
 * The training customers from a data folder, a precomputed feature table or a profile table, as
 * the feature table fitModel takes: ingest → features (or the table read and checked) → the
 * uninformative columns dropped, with the home currency and the vendor modules resolved once.
 */
import { dirname, resolve } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { ingest, type IngestResult } from '../01-ingest/ingest.ts';
import { computeFeatures, resolveHomeCurrency, resolveVendorModules, type FeatureTable } from '../02-features/features.ts';
import { readFeatureFile, type FeatureFileResult } from '../02-features/feature-file.ts';
import { profileFeatureFile, type ProfileFeatureFile } from '../02-features/profile-table.ts';
import { dropUninformative } from '../02-features/select.ts';
import { profileWithoutLabel } from '../05-classify/churn-params.ts';
import type { FinsegConfig } from '../config/config.ts';
import { fingerprintPath } from '../registry/bundle.ts';
import { withQueryProgress } from '../core/duck-progress.ts';
import { progressOf, type Logger } from '../core/log.ts';
import { InputError } from '../core/errors.ts';
import type { ModelInput } from '../model/fit.ts';
import type { InputRecord } from '../model/write.ts';
import { readChurnTraining } from './churn-input.ts';

/** Where the training customers come from. */
export interface TrainingSource {
  dataDir: string;
  /** A precomputed feature table used instead of ingest + features; `dataDir` is then only where truth.csv is looked for. */
  featureFile?: string;
  config: FinsegConfig;
  /** Root of quarantine output (absolute). */
  quarantineRoot: string;
  logger: Logger;
  lap: (stage: string) => void;
}

/** The training customers read, and what the manifest records of how. */
export interface TrainingInput {
  model: ModelInput;
  ingested: IngestResult;
  /** The feature table's read, when the customers came from one. */
  fromFile: FeatureFileResult | null;
  /** The temporary feature table a profile table was turned into; removed by the caller. */
  profile: ProfileFeatureFile | null;
}

/** Reads the training customers; `keep.profile` receives a temporary profile feature table as soon as it exists, so the caller removes it even when a later step fails. */
export async function readTrainingInput(conn: DuckDBConnection, src: TrainingSource, keep: { profile: ProfileFeatureFile | null }): Promise<TrainingInput> {
  const { config, logger } = src;
  logger.info(`train: reading ${src.featureFile ?? src.dataDir}`);
  // A profile table (a per-customer snapshot) is read as the feature table it is turned into.
  const profile = !src.featureFile && config.profileTable.file ? await profileFeatureFile(conn, src.dataDir, profileWithoutLabel(config.profileTable, config.churn), null) : null;
  keep.profile = profile;
  const featureFile = src.featureFile ?? profile?.path;
  // A feature table stands for ingest + features: no event tables are read, so module use, feedback and trends are left out.
  const fromFile = featureFile
    ? await readFeatureFile(conn, featureFile, { asOf: config.ingest.asOf, requiredFeatures: null, partition: null, missingValues: config.ingest.missingValues, quarantineLimit: config.ingest.quarantineLimit, quarantineDir: src.quarantineRoot, logger, ...(profile ? { source: profile.readAs } : {}) })
    : null;
  const ingested: IngestResult = fromFile
    ? { asOf: fromFile.features.asOf, tables: {}, absentTables: ['usage_events', 'transactions', 'feedback', 'subscriptions'], quarantineDir: fromFile.report.quarantineFile ? dirname(fromFile.report.quarantineFile) : null }
    : // retrain reads its data through here too; the quarantine record names both "train".
      await ingest(conn, src.dataDir, config.ingest, src.quarantineRoot, logger, { command: 'train', now: () => new Date(), onProgress: progressOf(logger, 'ingest') });
  src.lap('ingest');
  // Resolved once and recorded in the manifest: score measures foreign_share against the same currency.
  const homeCurrency = fromFile || ingested.absentTables.includes('transactions') ? config.features.homeCurrency : await resolveHomeCurrency(conn, config.features);
  // Likewise the vendor modules with a share of their own; a feature table names none (its vendor shares are read as they are).
  const vendorModules = fromFile || ingested.absentTables.includes('usage_events') ? [] : await resolveVendorModules(conn, ingested.asOf, config.features);
  // Constant, near-constant and duplicate columns are dropped here, at fit time only: score computes the bundle's names.
  const features = dropUninformative(
    fromFile ? fromFile.features : await withQueryProgress(conn, progressOf(logger, 'features'), () => computeFeatures(conn, ingested.asOf, { ...config.features, homeCurrency, vendorModules }, ingested.absentTables)),
  );
  const model: ModelInput = { features, vendorModules, homeCurrency };
  // Churn labels (a subscriptions table or a profile table's label column) train the churn model beside the segments.
  const churn = await readChurnTraining({ conn, dataDir: src.dataDir, config, ingested, model, fromProfile: profile !== null, logger });
  if (churn) model.churn = churn;
  return { model, ingested, fromFile, profile };
}

/** Logs what was read and the dropped columns; refuses too few customers to segment. */
export function checkTrainingFeatures(features: FeatureTable, asOf: string, logger: Logger): void {
  logger.info(`features: ${features.X.rows} customers × ${features.featureNames.length} features as of ${asOf}`);
  // One line per reason: a transactions-only export drops two dozen usage features for one reason.
  const byReason = new Map<string, string[]>();
  for (const d of features.dropped) byReason.set(d.reason, [...(byReason.get(d.reason) ?? []), d.feature]);
  for (const [reason, names] of byReason) logger.warn(`${names.length} feature${names.length > 1 ? 's' : ''} dropped (${reason}): ${names.join(', ')}`);
  // Too few customers is a property of the input, not a failure of the run: exit 2 (InputError).
  if (features.X.rows < 20) throw new InputError(`only ${features.X.rows} customers were accepted; at least 20 are needed to find segments`);
}

/** The manifest's `input` block, with a fingerprint of every file read. */
export async function inputRecord(input: TrainingInput, dataDir: string): Promise<InputRecord> {
  const { ingested, fromFile, profile } = input;
  const fingerprints: Record<string, string> = {};
  for (const t of Object.values(ingested.tables)) fingerprints[t.table] = await fingerprintPath(t.source);
  if (fromFile) fingerprints.features = await fingerprintPath(profile?.source ?? fromFile.report.source);
  return {
    dataDir: resolve(dataDir),
    asOf: ingested.asOf,
    tables: ingested.tables,
    absentTables: ingested.absentTables,
    ...(fromFile ? { featureFile: profile ? { ...fromFile.report, source: profile.source } : fromFile.report } : {}),
    fingerprints,
    quarantineDir: ingested.quarantineDir,
  };
}
