import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { defaultIngestParams, ingestParamsRule, type IngestParams } from '../01-ingest/params.ts';
import { defaultFeatureParams, defaultProfileTableParams, featureParamsRule, profileTableParamsRule, type FeatureParams, type ProfileTableParams } from '../02-features/params.ts';
import { defaultPreprocessParams, preprocessParamsRule, type PreprocessParams } from '../03-preprocess/params.ts';
import { clusterParamsRule, defaultClusterParams, type ClusterParams } from '../04-cluster/params.ts';
import { classifierParamsRule, coldStartParamsRule, defaultClassifierParams, defaultColdStartParams, type ClassifierParams, type ColdStartParams } from '../05-classify/params.ts';
import { churnParamsRule, defaultChurnParams, type ChurnParams } from '../05-classify/churn-params.ts';
import { defaultLensParams, lensParamsRule, type LensParams } from '../06-categorize/params.ts';
import { playbookTableRule } from '../07-map/params.ts';
import { defaultNextModuleParams, nextModuleParamsRule, type NextModuleParams } from '../07-map/next-module-params.ts';
import { PLAYBOOK_TABLE, type PlaybookTable } from '../07-map/playbooks.ts';
import { defaultExplainParams, explainParamsRule, type ExplainParams } from '../08-explain/params.ts';
import { defaultDriftMonitorParams, defaultRetrainParams, driftMonitorParamsRule, retrainParamsRule, type DriftMonitorParams, type RetrainParams } from '../09-drift/params.ts';
import { evaluateParamsRule, type EvaluateParams } from '../09-drift/evaluate-params.ts';
import { InputError } from '../core/errors.ts';
import { integer, parseSettings, settingsOf, type Rule } from '../core/settings.ts';

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
  /** Next best module per customer: adoption threshold, peers, evaluation horizon. */
  nextModule: NextModuleParams;
  /** The signup-attributes classifier for customers with too little history. */
  coldStart: ColdStartParams;
  /** The threshold tree that explains the segments in feature units. */
  explain: ExplainParams;
  /** Drift reference bins and module-adoption trend forecasts, stored in every bundle. */
  drift: DriftMonitorParams;
  /** Retraining: promotion gates, segment-id matching, stability resampling, registry retention. */
  retrain: RetrainParams;
  /** `finseg evaluate` (09-drift/evaluate-params.ts); absent unless the config file sets it. */
  evaluate?: EvaluateParams | undefined;
  /** The churn propensity model (docs/churn.md). */
  churn: ChurnParams;
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
    nextModule: defaultNextModuleParams,
    coldStart: defaultColdStartParams,
    explain: defaultExplainParams,
    drift: defaultDriftMonitorParams,
    retrain: defaultRetrainParams,
    evaluate: undefined,
    churn: defaultChurnParams,
  });
}

/**
 * The whole config's rule: each stage's slice rule, every key checked before any data is read.
 * The seed is an integer because the random streams read it as a 32-bit integer (a fraction
 * would be dropped without a word).
 */
const configRule: Rule<FinsegConfig> = settingsOf(defaultConfig(), {
  seed: integer(),
  ingest: ingestParamsRule,
  profileTable: profileTableParamsRule,
  features: featureParamsRule,
  preprocess: preprocessParamsRule,
  cluster: clusterParamsRule,
  classify: classifierParamsRule,
  lenses: lensParamsRule,
  playbooks: playbookTableRule,
  nextModule: nextModuleParamsRule,
  coldStart: coldStartParamsRule,
  explain: explainParamsRule,
  drift: driftMonitorParamsRule,
  retrain: retrainParamsRule,
  evaluate: evaluateParamsRule,
  churn: churnParamsRule,
});

/**
 * Turns untrusted JSON into a fully defaulted config. Unknown keys and wrong types are errors
 * that name the source and the key path, so a typo never silently falls back to a default.
 */
export function parseConfig(json: unknown, source = 'config'): FinsegConfig {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new InputError(`${source}: the config must be a JSON object`);
  }
  return parseSettings(configRule, json, source);
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
