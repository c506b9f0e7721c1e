import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { defaultIngestParams, type IngestParams } from '../01-ingest/ingest.ts';
import { validateIngestParams } from '../01-ingest/params.ts';
import { defaultFeatureParams, type FeatureParams } from '../02-features/features.ts';
import { defaultProfileTableParams, validateProfileTableParams, type ProfileTableParams } from '../02-features/profile-table.ts';
import { defaultPreprocessParams, type PreprocessParams } from '../03-preprocess/preprocess.ts';
import { defaultClusterParams, type ClusterParams } from '../04-cluster/cluster.ts';
import { defaultClassifierParams, type ClassifierParams } from '../05-classify/mlp.ts';
import { defaultColdStartParams, validateColdStartParams, type ColdStartParams } from '../05-classify/coldstart.ts';
import { defaultLensParams, parseLensParams, type LensParams } from '../06-categorize/lenses.ts';
import { PLAYBOOK_TABLE, parsePlaybookTable, type PlaybookTable } from '../07-map/playbooks.ts';
import { defaultExplainParams, type ExplainParams } from '../08-explain/explain.ts';
import { defaultDriftMonitorParams, defaultRetrainParams, validateDriftParams, validateRetrainParams, type DriftMonitorParams, type RetrainParams } from '../09-drift/params.ts';
import { InputError } from '../core/errors.ts';
import { mergeSettings } from '../core/settings.ts';

/** The whole run configuration: each stage reads only its own slice. */
export interface FinsegConfig {
  /** The run seed; every stage derives its own stream from it (recorded in the manifest). */
  seed: number;
  ingest: IngestParams;
  /** A per-customer table of measures (a CRM or billing snapshot) segmented instead of event and transaction lines. */
  profileTable: ProfileTableParams;
  features: FeatureParams;
  preprocess: PreprocessParams;
  cluster: ClusterParams;
  classify: ClassifierParams;
  lenses: LensParams;
  /** The product playbook per lens label (editions, modules, deployment, service, messages). */
  playbooks: PlaybookTable;
  /** The signup-attributes classifier for customers with too little history. */
  coldStart: ColdStartParams;
  /** The threshold tree that explains the segments in feature units. */
  explain: ExplainParams;
  /** Drift reference bins and module-adoption trend forecasts, stored in every bundle. */
  drift: DriftMonitorParams;
  /** Retraining: promotion gates, segment-id matching, stability resampling, registry retention. */
  retrain: RetrainParams;
}

/** Defaults live next to their meaning in each stage; this only gathers them. */
export function defaultConfig(): FinsegConfig {
  return structuredClone({
    seed: 42,
    ingest: defaultIngestParams,
    profileTable: defaultProfileTableParams,
    features: defaultFeatureParams,
    preprocess: defaultPreprocessParams,
    cluster: defaultClusterParams,
    classify: defaultClassifierParams,
    lenses: defaultLensParams,
    playbooks: PLAYBOOK_TABLE,
    coldStart: defaultColdStartParams,
    explain: defaultExplainParams,
    drift: defaultDriftMonitorParams,
    retrain: defaultRetrainParams,
  });
}

/** Objects whose keys are the user's own (column maps, value maps), not settings to check by name. */
const FREE_MAPS = new Set(['ingest.columns', 'ingest.files', 'ingest.values', 'profileTable.attributes']);

/**
 * Turns untrusted JSON into a fully defaulted config. Unknown keys and wrong types are errors
 * that name the key and the source, so a typo never silently falls back to a default.
 */
export function parseConfig(json: unknown, source = 'config'): FinsegConfig {
  const defaults = defaultConfig();
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new InputError(`${source}: the config must be a JSON object`);
  }
  const { $schema: _schema, $comment: _comment, lenses, playbooks, ...rest } = json as Record<string, unknown>;
  let config: FinsegConfig;
  try {
    config = mergeSettings(defaults, rest, '', FREE_MAPS) as FinsegConfig;
  } catch (e) {
    if (e instanceof InputError) throw new InputError(`${source}: ${e.message}`, e.detail);
    throw e;
  }
  // The ingest stage checks what the generic merge cannot: table and column names in its maps, units, dates.
  validateIngestParams(config.ingest, source);
  validateProfileTableParams(config.profileTable, source);
  validateColdStartParams(config.coldStart, source);
  // The lens and map stages own their validation (label sets, ascending thresholds, module and edition ids).
  try {
    config.lenses = parseLensParams(lenses ?? {});
    config.playbooks = parsePlaybookTable(playbooks ?? {});
    validateDriftParams(config.drift);
    validateRetrainParams(config.retrain);
  } catch (e) {
    if (e instanceof InputError) throw new InputError(`${source}: ${e.message}`, e.detail);
    throw e;
  }
  return config;
}

/** Reads and parses a config file; no path → defaults. */
export function loadConfig(path: string | null): FinsegConfig {
  if (!path) return defaultConfig();
  if (!existsSync(path)) throw new InputError(`config file not found: ${path}`);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new InputError(`${path}: not valid JSON`, [String(e instanceof Error ? e.message : e)]);
  }
  const config = parseConfig(json, path);
  // A data folder named in a config file is relative to that file, so examples run from any working directory.
  if (config.ingest.dataDir !== null) config.ingest.dataDir = resolve(dirname(path), config.ingest.dataDir);
  return config;
}
