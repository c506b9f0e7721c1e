/**
 * writeModel: a fitted model as a bundle in the registry. The manifest records where the data
 * came from, the settings and seeds, what the fit measured and the runtime; the registry writes
 * every file checksummed and atomically (registry/bundle.ts).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { IngestResult } from '../01-ingest/ingest.ts';
import { CATALOG_VERSION } from '../02-features/catalog.ts';
import type { FeatureFileReport } from '../02-features/feature-file.ts';
import { runtimeInfo } from '../core/runtime.ts';
import { BUNDLE_FORMAT_VERSION, sha256, toJson, writeBundle, type Manifest, type ManifestHead } from '../registry/bundle.ts';
import type { FittedModel } from './fit.ts';
import { OPTIONAL_STATES } from './schema.ts';

/** The manifest's `input` block: what the model was trained on (keys in manifest order). */
export interface InputRecord {
  /** The data folder, absolute. */
  dataDir: string;
  asOf: string;
  tables: IngestResult['tables'];
  absentTables: IngestResult['absentTables'];
  /** The feature table's read report, when the model was trained from one (a profile table names the vendor's file). */
  featureFile?: FeatureFileReport;
  /** sha256 of every input file or folder, by table (`features` for a feature table). */
  fingerprints: Record<string, string>;
  quarantineDir: string | null;
}

/** What the manifest records beside the fitted model. */
export interface ModelHead {
  /** When the run started: the manifest's createdAt and the version's date part. */
  startedAt: Date;
  /** Where the config came from (a path, "defaults", "production V"). */
  configSource: string;
  input: InputRecord;
  /** The production version a retrain compared with; null for a train. */
  parentVersion: string | null;
  /** Manifest fields after the standard ones (a retrain's summary). */
  extra?: Record<string, unknown>;
}

/** A written bundle: its folder and its manifest as stored. */
export interface WrittenModel {
  bundleDir: string;
  manifest: Manifest;
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

/** The bundle's version: the run's start (yyyymmdd-hhmmss, UTC) and the first 8 hex digits of the states' sha256. */
export function modelVersion(fitted: FittedModel, startedAt: Date): string {
  const runId = startedAt.toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '-');
  const contentHash = sha256(Object.values(fitted.states).map((s) => toJson(s)).join('')).slice(0, 8);
  return `${runId}-${contentHash}`;
}

/** The manifest of a fitted model, before the registry adds the files' checksums. */
export function modelManifest(fitted: FittedModel, head: ModelHead, version: string): ManifestHead {
  const { features, homeCurrency, vendorModules } = fitted.input;
  return {
    kind: 'finseg.bundle',
    formatVersion: BUNDLE_FORMAT_VERSION,
    version,
    createdAt: head.startedAt.toISOString(),
    finsegVersion: runtimeInfo().finseg,
    parentVersion: head.parentVersion,
    configSource: head.configSource,
    config: fitted.config,
    seeds: fitted.seeds,
    input: head.input,
    features: { catalogVersion: CATALOG_VERSION, names: features.featureNames, dropped: features.dropped, homeCurrency, vendorModules },
    metrics: fitted.metrics,
    runtime: { ...runtimeInfo(), tfjsBackend: fitted.backend },
    ...head.extra,
  };
}

/**
 * Writes the fitted model as a new version in the registry: the eight states, `assignments.csv`
 * (by public segment id) and `extraFiles` (file name → text, e.g. a retrain's comparison.json),
 * all checksummed in the manifest. Returns the bundle folder and the manifest as written.
 */
export function writeModel(registry: string, fitted: FittedModel, head: ModelHead, extraFiles: Record<string, string> = {}): WrittenModel {
  const manifest = modelManifest(fitted, head, modelVersion(fitted, head.startedAt));
  const segmentIds = fitted.states['segments.json'].cards.map((c) => c.id);
  // Optional states travel as checksummed extra files; loadModel reads them back by name.
  const optional = OPTIONAL_STATES.filter((name) => fitted.states[name] !== undefined);
  const files = { 'assignments.csv': assignmentsCsv(fitted.input.features.customerIds, fitted.labels, segmentIds), ...Object.fromEntries(optional.map((name) => [name, toJson(fitted.states[name])])), ...extraFiles };
  const bundleDir = writeBundle(registry, manifest, fitted.states, files);
  // Read back rather than rebuilt, so callers see the manifest exactly as stored (JSON's nulls for NaN).
  const written = JSON.parse(readFileSync(join(bundleDir, 'manifest.json'), 'utf8')) as Manifest;
  return { bundleDir, manifest: written };
}
