import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  loadBundle,
  readBundleFile,
  writeBundle,
  BUNDLE_FORMAT_VERSION,
  MANIFEST_CHECKSUM_FILE,
  sha256,
  STATE_FILES,
  type ManifestHead,
  type StateFile,
} from '../../pipeline/registry/bundle.ts';

// One small state per state file, built from the list so a stage adding its state file needs no edit here.
const states = Object.fromEntries(STATE_FILES.map((name, i) => [name, { kind: `finseg.${name.replace('.json', '')}`, values: [i, 0.5, -1] }])) as Record<StateFile, unknown>;
const manifest = (version: string): ManifestHead => ({
  kind: 'finseg.bundle',
  formatVersion: BUNDLE_FORMAT_VERSION,
  version,
  createdAt: '2026-11-27T00:00:00.000Z',
  finsegVersion: '0.1.0',
  parentVersion: null,
});
const registry = () => mkdtempSync(join(tmpdir(), 'finseg-reg-'));

/** Flips one byte of a file in place (the byte at `at`, or the middle one). */
function alterOneByte(path: string, at?: number): void {
  const bytes = readFileSync(path);
  const i = at ?? Math.floor(bytes.length / 2);
  bytes[i] = bytes[i]! ^ 0x01;
  writeFileSync(path, bytes);
}

describe('model bundle', () => {
  it('round-trips every state exactly and records a checksum per file', () => {
    const reg = registry();
    const dir = writeBundle(reg, manifest('v1'), states);
    const loaded = loadBundle(dir);
    expect(loaded.states).toEqual(states);
    expect(loaded.manifest.files['cluster.json']).toBe(sha256(readFileSync(join(dir, 'cluster.json'), 'utf8')));
    expect(readFileSync(join(dir, MANIFEST_CHECKSUM_FILE), 'utf8').trim()).toBe(sha256(readFileSync(join(dir, 'manifest.json'), 'utf8')));
    expect(readdirSync(reg).sort()).toEqual(['latest', 'v1']); // no temporary folder or pointer file left
  });

  it('resolves a registry folder through its latest pointer', () => {
    const reg = registry();
    writeBundle(reg, manifest('v1'), states);
    writeBundle(reg, manifest('v2'), states);
    expect(loadBundle(reg).manifest.version).toBe('v2');
  });

  it('writes extra files inside the version, checksummed, and reads them back verified', () => {
    const reg = registry();
    const dir = writeBundle(reg, manifest('v1'), states, { 'comparison.json': '{"kind":"finseg.comparison"}\n', 'assignments.csv': 'customer_id,segment_id\nC1,0\n' });
    const loaded = loadBundle(dir);
    expect(loaded.manifest.files['assignments.csv']).toBe(sha256('customer_id,segment_id\nC1,0\n'));
    expect(readBundleFile(loaded, 'assignments.csv')).toBe('customer_id,segment_id\nC1,0\n');
    expect(readBundleFile(loaded, 'not-there.json')).toBeNull();
  });

  it('refuses a bundle with one altered byte in any file: a state, an extra file or the manifest itself', () => {
    for (const file of ['cluster.json', 'assignments.csv', 'manifest.json', MANIFEST_CHECKSUM_FILE]) {
      const reg = registry();
      const dir = writeBundle(reg, manifest('v1'), states, { 'assignments.csv': 'customer_id,segment_id\nC1,0\nC2,1\n' });
      alterOneByte(join(dir, file));
      expect(() => loadBundle(dir), file).toThrowError(/checksum mismatch/);
    }
  });

  it('refuses a modified state with a message naming the file', () => {
    const dir = writeBundle(registry(), manifest('v1'), states);
    writeFileSync(join(dir, 'cluster.json'), '{"kind":"finseg.cluster","centroids":[[9,9]]}\n');
    expect(() => loadBundle(dir)).toThrowError(/cluster\.json: checksum mismatch, the bundle was modified or is corrupt/);
  });

  it('refuses another format version', () => {
    const dir = writeBundle(registry(), { ...manifest('v1'), formatVersion: 99 }, states);
    expect(() => loadBundle(dir)).toThrowError(/bundle format 99 is not supported/);
  });

  it('refuses to overwrite an existing version, and a pointer that names no version', () => {
    const reg = registry();
    writeBundle(reg, manifest('v1'), states);
    expect(() => writeBundle(reg, manifest('v1'), states)).toThrowError(/already exists/);
    writeFileSync(join(reg, 'latest'), '../elsewhere\n');
    expect(() => loadBundle(reg)).toThrowError(/does not name a model version/);
  });
});
