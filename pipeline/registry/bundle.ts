import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { InputError } from '../core/errors.ts';

/** The on-disk format of a bundle; a loader refuses any other. */
export const BUNDLE_FORMAT_VERSION = 1;

/** The files holding a bundle's fitted state, each checksummed in the manifest. */
export const STATE_FILES = ['preprocess.json', 'cluster.json', 'classifier.json', 'segments.json'] as const;
export type StateFile = (typeof STATE_FILES)[number];

/** The fields every manifest has; everything else (config, seeds, inputs, metrics, runtime) is as the trainer recorded it. */
export interface ManifestHead {
  kind: 'finseg.bundle';
  formatVersion: number;
  version: string;
  createdAt: string;
  finsegVersion: string;
  parentVersion: string | null;
  [key: string]: unknown;
}

/** A written manifest: the head plus the sha256 of every state file. */
export interface Manifest extends ManifestHead {
  files: Record<string, string>;
}

/** sha256 of a byte string, hex. */
export function sha256(bytes: string | Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** sha256 of a file, streamed so large inputs are never held in memory. */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** sha256 over every file under a path (a file or a folder), in path order. */
export async function fingerprintPath(path: string): Promise<string> {
  if (!statSync(path).isDirectory()) return sha256File(path);
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const full = join(dir, e.name);
      if (e.isDirectory()) walk(full);
      else files.push(full);
    }
  };
  walk(path);
  const hash = createHash('sha256');
  for (const f of files) hash.update(`${f.slice(path.length)}:${await sha256File(f)}\n`);
  return hash.digest('hex');
}

/** JSON with a trailing newline and stable two-space indentation. */
export function toJson(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

/**
 * Writes a bundle atomically: every file goes into a temporary sibling folder, which is then
 * renamed to `<registry>/<version>`, so a crash never leaves half a bundle under a version name.
 */
export function writeBundle(registry: string, manifest: ManifestHead, states: Record<StateFile, unknown>): string {
  mkdirSync(registry, { recursive: true });
  const finalDir = resolve(registry, manifest.version);
  if (existsSync(finalDir)) throw new InputError(`model version ${manifest.version} already exists in ${registry}`);
  const tmpDir = resolve(registry, `.tmp-${manifest.version}-${process.pid}`);
  rmSync(tmpDir, { recursive: true, force: true });
  mkdirSync(tmpDir);
  const files: Record<string, string> = {};
  for (const name of STATE_FILES) {
    const text = toJson(states[name]);
    writeFileSync(join(tmpDir, name), text);
    files[name] = sha256(text);
  }
  writeFileSync(join(tmpDir, 'manifest.json'), toJson({ ...manifest, files }));
  renameSync(tmpDir, finalDir);
  writeFileSync(join(registry, 'latest'), `${manifest.version}\n`);
  return finalDir;
}

export interface LoadedBundle {
  dir: string;
  manifest: Manifest;
  states: Record<StateFile, unknown>;
}

/**
 * Resolves a bundle folder: the folder itself when it holds a manifest, else the version named
 * by its `production` or `latest` pointer (so `--model models/` works).
 */
export function resolveBundleDir(path: string): string {
  if (existsSync(join(path, 'manifest.json'))) return path;
  for (const pointer of ['production', 'latest']) {
    const p = join(path, pointer);
    if (existsSync(p)) return join(path, readFileSync(p, 'utf8').trim());
  }
  throw new InputError(`no model bundle at ${path}`, ['expected a manifest.json there, or a models/ folder with a production or latest pointer', 'train one with: finseg train --data DIR']);
}

/** Reads a bundle and verifies its kind, format version and every checksum before trusting it. */
export function loadBundle(path: string): LoadedBundle {
  const dir = resolveBundleDir(path);
  const manifestPath = join(dir, 'manifest.json');
  if (!existsSync(manifestPath)) throw new InputError(`no manifest.json in ${dir}`);
  let manifest: Manifest;
  try {
    manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as Manifest;
  } catch (e) {
    throw new InputError(`${manifestPath} is not valid JSON`, [String(e)]);
  }
  if (manifest.kind !== 'finseg.bundle') throw new InputError(`${manifestPath} is not a finseg bundle (kind ${JSON.stringify(manifest.kind)})`);
  if (manifest.formatVersion !== BUNDLE_FORMAT_VERSION) {
    throw new InputError(`${dir}: bundle format ${manifest.formatVersion} is not supported (this finseg reads format ${BUNDLE_FORMAT_VERSION})`, ['retrain with this version of finseg']);
  }
  const states = {} as Record<StateFile, unknown>;
  for (const name of STATE_FILES) {
    const file = join(dir, name);
    if (!existsSync(file)) throw new InputError(`${dir}: bundle file ${name} is missing`);
    const text = readFileSync(file, 'utf8');
    const expected = manifest.files?.[name];
    if (sha256(text) !== expected) {
      throw new InputError(`${file}: checksum mismatch, the bundle was modified or is corrupt`, [`manifest sha256 ${expected}`, `file sha256 ${sha256(text)}`]);
    }
    states[name] = JSON.parse(text);
  }
  return { dir, manifest, states };
}
