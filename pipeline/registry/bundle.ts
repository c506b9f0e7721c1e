import { createHash } from 'node:crypto';
import { closeSync, createReadStream, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { InputError } from '../core/errors.ts';
import { toJson } from '../core/json.ts';
import { failpoint } from './failpoints.ts';

/** The on-disk format of a bundle; a loader refuses any other. */
export const BUNDLE_FORMAT_VERSION = 1;

/** The files holding a bundle's fitted state, each checksummed in the manifest. */
export const STATE_FILES = ['preprocess.json', 'cluster.json', 'classifier.json', 'segments.json', 'coldstart.json', 'explain.json', 'reference.json', 'trends.json'] as const;
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

/** The file beside manifest.json holding its sha256, so an altered byte in the manifest is caught like one in any state file. */
export const MANIFEST_CHECKSUM_FILE = 'manifest.sha256';

/** A written manifest: the head plus the sha256 of every state file and extra file. */
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

/** The bundle's JSON text form, for the writers of extra files (a retrain's comparison). */
export { toJson } from '../core/json.ts';

/** Writes a file and flushes it to disk before returning, so a rename that follows never publishes an empty file after a power cut. */
export function writeFileDurable(path: string, text: string | Uint8Array): void {
  const fd = openSync(path, 'w');
  try {
    writeSync(fd, typeof text === 'string' ? Buffer.from(text, 'utf8') : text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Replaces a small file atomically (temporary sibling + rename): readers see the old content or the new, never a torn one. */
export function writeFileAtomic(path: string, text: string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileDurable(tmp, text);
  const name = basename(path);
  if (name === 'latest' || name === 'production') failpoint(`pointer:${name}`);
  renameSync(tmp, path);
}

/** Prefix of the temporary folders bundles are written in; a registry listing never shows them. */
export const TEMP_PREFIX = '.tmp-';

/**
 * Writes a bundle atomically: every file goes into a temporary sibling folder, which is then
 * renamed to `<registry>/<version>`, so a crash never leaves half a bundle under a version name.
 * `extraFiles` (file name → text, e.g. the comparison of a retrain) are written and checksummed
 * like the state files. Moves the registry's `latest` pointer to the new version.
 */
export function writeBundle(registry: string, manifest: ManifestHead, states: Record<StateFile, unknown>, extraFiles: Record<string, string> = {}): string {
  mkdirSync(registry, { recursive: true });
  const finalDir = resolve(registry, manifest.version);
  if (existsSync(finalDir)) throw new InputError(`model version ${manifest.version} already exists in ${registry}`);
  const tmpDir = resolve(registry, `${TEMP_PREFIX}${manifest.version}-${process.pid}`);
  rmSync(tmpDir, { recursive: true, force: true });
  mkdirSync(tmpDir);
  const files: Record<string, string> = {};
  const entries: [string, string][] = [...STATE_FILES.map((name): [string, string] => [name, toJson(states[name])]), ...Object.entries(extraFiles)];
  for (const [name, text] of entries) {
    if (name === 'manifest.json' || name === MANIFEST_CHECKSUM_FILE || name.includes('/') || name in files) throw new Error(`writeBundle: bad or repeated file name ${name}`);
    writeFileDurable(join(tmpDir, name), text);
    files[name] = sha256(text);
    failpoint('bundle:partial');
  }
  const manifestText = toJson({ ...manifest, files });
  writeFileDurable(join(tmpDir, 'manifest.json'), manifestText);
  writeFileDurable(join(tmpDir, MANIFEST_CHECKSUM_FILE), `${sha256(manifestText)}\n`);
  failpoint('bundle:before-rename');
  renameSync(tmpDir, finalDir);
  writeFileAtomic(join(registry, 'latest'), `${manifest.version}\n`);
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
    if (!existsSync(p)) continue;
    const version = readFileSync(p, 'utf8').trim();
    if (!version || version.includes('/') || version.startsWith('.')) throw new InputError(`${p} does not name a model version (it holds ${JSON.stringify(version)})`);
    return join(path, version);
  }
  throw new InputError(`no model bundle at ${path}`, ['expected a manifest.json there, or a models/ folder with a production or latest pointer', 'train one with: finseg train --data DIR']);
}

/** Reads a bundle and verifies its kind, format version and every checksum before trusting it. */
export function loadBundle(path: string): LoadedBundle {
  const dir = resolveBundleDir(path);
  const manifestPath = join(dir, 'manifest.json');
  if (!existsSync(manifestPath)) throw new InputError(`no manifest.json in ${dir}`);
  const manifestText = readFileSync(manifestPath, 'utf8');
  const checksumPath = join(dir, MANIFEST_CHECKSUM_FILE);
  if (!existsSync(checksumPath)) throw new InputError(`${dir}: ${MANIFEST_CHECKSUM_FILE} is missing, the bundle is incomplete or was written by an older finseg`, ['retrain with this version of finseg']);
  const expectedManifest = readFileSync(checksumPath, 'utf8').trim();
  if (sha256(manifestText) !== expectedManifest) {
    throw new InputError(`${manifestPath}: checksum mismatch, the bundle was modified or is corrupt`, [`${MANIFEST_CHECKSUM_FILE} ${expectedManifest}`, `file sha256 ${sha256(manifestText)}`]);
  }
  let manifest: Manifest;
  try {
    manifest = JSON.parse(manifestText) as Manifest;
  } catch (e) {
    throw new InputError(`${manifestPath} is not valid JSON`, [String(e)]);
  }
  if (manifest.kind !== 'finseg.bundle') throw new InputError(`${manifestPath} is not a finseg bundle (kind ${JSON.stringify(manifest.kind)})`);
  if (manifest.formatVersion !== BUNDLE_FORMAT_VERSION) {
    throw new InputError(`${dir}: bundle format ${manifest.formatVersion} is not supported (this finseg reads format ${BUNDLE_FORMAT_VERSION}): retrain needed`, ['retrain with this version of finseg']);
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
    try {
      states[name] = JSON.parse(text);
    } catch (e) {
      throw new InputError(`${file} is not valid JSON`, [String(e)]);
    }
  }
  // Extra files (a retrain's comparison, the training assignments) are verified too, read on demand.
  for (const [name, expected] of Object.entries(manifest.files ?? {})) {
    if ((STATE_FILES as readonly string[]).includes(name)) continue;
    readBundleFile({ dir, manifest }, name, expected);
  }
  return { dir, manifest, states };
}

/** The text of a file listed in a bundle's manifest, verified against its checksum; null when the manifest does not list it. */
export function readBundleFile(bundle: { dir: string; manifest: Manifest }, name: string, expected = bundle.manifest.files?.[name]): string | null {
  if (expected === undefined) return null;
  const file = join(bundle.dir, name);
  if (!existsSync(file)) throw new InputError(`${bundle.dir}: bundle file ${name} is missing`);
  const text = readFileSync(file, 'utf8');
  if (sha256(text) !== expected) {
    throw new InputError(`${file}: checksum mismatch, the bundle was modified or is corrupt`, [`manifest sha256 ${expected}`, `file sha256 ${sha256(text)}`]);
  }
  return text;
}
