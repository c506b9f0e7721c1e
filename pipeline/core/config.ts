import { existsSync, readFileSync } from 'node:fs';
import { defaultIngestParams, type IngestParams } from '../01-ingest/ingest.ts';
import { defaultFeatureParams, type FeatureParams } from '../02-features/features.ts';
import { defaultPreprocessParams, type PreprocessParams } from '../03-preprocess/preprocess.ts';
import { defaultClusterParams, type ClusterParams } from '../04-cluster/cluster.ts';
import { defaultClassifierParams, type ClassifierParams } from '../05-classify/mlp.ts';
import { defaultLensParams, parseLensParams, type LensParams } from '../06-categorize/lenses.ts';
import { InputError } from './errors.ts';

/** The whole run configuration: each stage reads only its own slice. */
export interface FinsegConfig {
  /** The run seed; every stage derives its own stream from it (recorded in the manifest). */
  seed: number;
  ingest: IngestParams;
  features: FeatureParams;
  preprocess: PreprocessParams;
  cluster: ClusterParams;
  classify: ClassifierParams;
  lenses: LensParams;
}

/** Defaults live next to their meaning in each stage; this only gathers them. */
export function defaultConfig(): FinsegConfig {
  return structuredClone({
    seed: 42,
    ingest: defaultIngestParams,
    features: defaultFeatureParams,
    preprocess: defaultPreprocessParams,
    cluster: defaultClusterParams,
    classify: defaultClassifierParams,
    lenses: defaultLensParams,
  });
}

/** Objects whose keys are the user's own (column maps, value maps), not settings to check by name. */
const FREE_MAPS = new Set(['ingest.columns', 'ingest.files']);

/**
 * Turns untrusted JSON into a fully defaulted config. Unknown keys and wrong types are errors
 * that name the key and the source, so a typo never silently falls back to a default.
 */
export function parseConfig(json: unknown, source = 'config'): FinsegConfig {
  const defaults = defaultConfig();
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new InputError(`${source}: the config must be a JSON object`);
  }
  const { $schema: _schema, $comment: _comment, lenses, ...rest } = json as Record<string, unknown>;
  const config = mergeChecked(defaults, rest, '', source) as FinsegConfig;
  // The lens stage owns its validation (label sets, ascending thresholds).
  try {
    config.lenses = parseLensParams(lenses ?? {});
  } catch (e) {
    if (e instanceof InputError) throw new InputError(`${source}: ${e.message}`, e.detail);
    throw e;
  }
  return config;
}

function mergeChecked(defaults: unknown, user: unknown, path: string, source: string): unknown {
  if (FREE_MAPS.has(path)) {
    if (user === null || typeof user !== 'object' || Array.isArray(user)) throw new InputError(`${source}: "${path}" must be an object`);
    return { ...(defaults as object), ...(user as object) };
  }
  if (defaults !== null && typeof defaults === 'object' && !Array.isArray(defaults)) {
    if (user === null || typeof user !== 'object' || Array.isArray(user)) throw new InputError(`${source}: "${path}" must be an object`);
    const out: Record<string, unknown> = { ...(defaults as Record<string, unknown>) };
    for (const [key, value] of Object.entries(user as Record<string, unknown>)) {
      if (key.startsWith('$')) continue; // "$comment" keys document a config file
      const childPath = path ? `${path}.${key}` : key;
      if (!(key in out)) {
        throw new InputError(`${source}: unknown setting "${childPath}"`, [`known settings here: ${Object.keys(out).join(', ')}`]);
      }
      out[key] = mergeChecked(out[key], value, childPath, source);
    }
    return out;
  }
  if (Array.isArray(defaults)) {
    if (!Array.isArray(user)) throw new InputError(`${source}: "${path}" must be an array`);
    return user;
  }
  if (defaults === null) {
    // Nullable settings (asOf, homeCurrency, k) take null or a scalar.
    if (user !== null && typeof user !== 'string' && typeof user !== 'number') throw new InputError(`${source}: "${path}" must be null, a string or a number`);
    return user;
  }
  if (typeof user !== typeof defaults) {
    throw new InputError(`${source}: "${path}" must be a ${typeof defaults}, got ${JSON.stringify(user)}`);
  }
  return user;
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
  return parseConfig(json, path);
}
