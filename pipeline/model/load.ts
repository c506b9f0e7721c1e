/**
 * `loadModel`: the one way a bundle is read. The registry verifies every checksum (bundle.ts);
 * here the manifest and every state file are checked against their schemas (schema.ts), each
 * file's kind and format version first, then the dimensions across files (state-checks.ts).
 * Every failure is an InputError (exit 2) naming the file and, inside it, the key path.
 */
import { join } from 'node:path';
import * as v from 'valibot';
import { parseConfig, type FinsegConfig } from '../config/config.ts';
import { InputError } from '../core/errors.ts';
import type { Comparison } from '../09-drift/compare.ts';
import { loadBundle, readBundleFile, STATE_FILES } from '../registry/bundle.ts';
import { comparisonSchema, manifestSchema, OPTIONAL_STATES, STATE_SCHEMAS, type Manifest } from './schema.ts';
import { crossProblems, fileProblems } from './state-checks.ts';
import type { BundleStates } from './types.ts';

/** A verified model: its manifest and states, each checked by its schema, and the config it was trained with. */
export interface LoadedModel {
  dir: string;
  manifest: Manifest;
  states: BundleStates;
  config: FinsegConfig;
  /** The model's feature columns, in the order X must have them (manifest `features.names`). */
  featureNames: string[];
}

/** The kind and format version a file's schema requires, checked first so a foreign or older file gets a message of its own. */
function kindOf(schema: { entries: { kind: { literal: string }; version: { literal: number } } }): { kind: string; version: number } {
  return { kind: schema.entries.kind.literal, version: schema.entries.version.literal };
}

const RETRAIN_HINT = 'retrain needed: train a new model with this version of finseg (finseg train --data DIR)';

/** A valibot issue's path as "centroids[2][0]" or "pca.components". */
export function issuePath(issue: v.BaseIssue<unknown>): string {
  let out = '';
  for (const item of issue.path ?? []) {
    const key = item.key as string | number;
    out += typeof key === 'number' ? `[${key}]` : out === '' ? String(key) : `.${String(key)}`;
  }
  return out;
}

/** An issue in words: what was expected and what the file holds. */
function issueMessage(issue: v.BaseIssue<unknown>): string {
  if (issue.kind === 'schema') return issue.received === 'undefined' ? 'missing' : `expected ${issue.expected}, got ${issue.received}`;
  return issue.message;
}

/** Checks kind, format version, then the schema; returns the schema's output. `label` names the file in errors. */
export function parseStateFile<S extends v.GenericSchema>(label: string, json: unknown, schema: S, expected: { kind: string; version: number }): v.InferOutput<S> {
  const obj = json as { kind?: unknown; version?: unknown } | null;
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) throw new InputError(`${label}: expected a JSON object`);
  if (obj.kind !== expected.kind) throw new InputError(`${label}: kind ${JSON.stringify(obj.kind ?? null)}, expected "${expected.kind}"`, ['the file belongs to something else, or the bundle was assembled by hand']);
  if (obj.version !== expected.version) {
    const older = typeof obj.version === 'number' && obj.version < expected.version;
    throw new InputError(`${label}: ${expected.kind} format version ${JSON.stringify(obj.version ?? null)}, this finseg reads version ${expected.version}`, [older ? RETRAIN_HINT : 'written by another finseg version: use that version, or retrain with this one']);
  }
  const result = v.safeParse(schema, json);
  if (!result.success) {
    const [first, ...rest] = result.issues;
    const where = issuePath(first);
    throw new InputError(`${label}: ${where ? `${where}: ` : ''}${issueMessage(first)}`, rest.slice(0, 4).map((i) => `${issuePath(i)}: ${issueMessage(i)}`));
  }
  return result.output;
}

/** One state file's parsed JSON as its stage's type: kind, format version, schema and the file's own dimensions checked. `label` names it in errors. */
export function parseState<N extends keyof typeof STATE_SCHEMAS>(name: N, json: unknown, label: string = name): BundleStates[N] {
  const state = parseStateFile(label, json, STATE_SCHEMAS[name], kindOf(STATE_SCHEMAS[name])) as BundleStates[N];
  const problems = fileProblems(name, state);
  if (problems.length > 0) throw new InputError(`${label}: ${problems[0]}`, problems.slice(1, 5));
  return state;
}

/** Loads a bundle (a version folder, or a registry's production / latest): checksums, schemas, kinds, versions and dimensions verified. */
export function loadModel(path: string): LoadedModel {
  const bundle = loadBundle(path);
  const dir = bundle.dir;
  const manifestLabel = join(dir, 'manifest.json');
  const manifestResult = v.safeParse(manifestSchema, bundle.manifest);
  if (!manifestResult.success) {
    const issue = manifestResult.issues[0];
    throw new InputError(`${manifestLabel}: ${issuePath(issue)}: ${issueMessage(issue)}`, [RETRAIN_HINT]);
  }
  const manifest = manifestResult.output;
  const states = {} as Record<keyof BundleStates, unknown>;
  for (const name of STATE_FILES) states[name] = parseState(name, bundle.states[name], join(dir, name));
  // Optional states are extra files: a bundle without one has no such model.
  for (const name of OPTIONAL_STATES) {
    const text = readModelFile({ dir, manifest }, name);
    if (text !== null) states[name] = parseState(name, parseJsonFile(text, join(dir, name)), join(dir, name));
  }
  const typed = states as BundleStates;
  const problems = crossProblems(typed, manifest.features.names);
  if (problems.length > 0) {
    const [first, ...rest] = problems;
    throw new InputError(`${join(dir, first!.file)}: ${first!.problem}`, rest.slice(0, 4).map((p) => `${p.file}: ${p.problem}`));
  }
  const config = parseConfig(manifest.config, `${manifestLabel} config`);
  readComparison({ dir, manifest });
  return { dir, manifest, states: typed, config, featureNames: manifest.features.names };
}

/** The text of an extra file the manifest lists (assignments.csv, comparison.json), checksum verified; null when the bundle has none. */
export function readModelFile(model: Pick<LoadedModel, 'dir' | 'manifest'>, name: string): string | null {
  return readBundleFile(model, name);
}

function parseJsonFile(text: string, label: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new InputError(`${label} is not valid JSON`, [String(e)]);
  }
}

/** A retrain's comparison.json, schema-checked; null for a model written by train. */
export function readComparison(model: Pick<LoadedModel, 'dir' | 'manifest'>): Comparison | null {
  const text = readModelFile(model, 'comparison.json');
  if (text === null) return null;
  const label = join(model.dir, 'comparison.json');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new InputError(`${label} is not valid JSON`, [String(e)]);
  }
  return parseStateFile(label, json, comparisonSchema, kindOf(comparisonSchema));
}

/**
 * The settings a model was trained with, for a new run on new data: a copy of its config with the
 * ingest as-of date cleared, so the new data's own date applies (score, features --model, retrain).
 */
export function trainedSettings(model: Pick<LoadedModel, 'config'>): FinsegConfig {
  const config = structuredClone(model.config);
  config.ingest.asOf = null;
  // The training tables' database is not the batch's: scoring from PostgreSQL names its own in --config.
  config.ingest.postgres = null;
  return config;
}
