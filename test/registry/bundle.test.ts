import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadBundle, writeBundle, BUNDLE_FORMAT_VERSION, sha256, type Manifest, type ManifestHead } from '../../pipeline/registry/bundle.ts';

const states = {
  'preprocess.json': { kind: 'finseg.preprocess', v: [1, 2] },
  'cluster.json': { kind: 'finseg.cluster', centroids: [[0.5, -1]] },
  'classifier.json': { kind: 'finseg.classifier' },
  'segments.json': { kind: 'finseg.segments', cards: [] },
};
const manifest = (version: string): ManifestHead => ({
  kind: 'finseg.bundle',
  formatVersion: BUNDLE_FORMAT_VERSION,
  version,
  createdAt: '2026-11-27T00:00:00.000Z',
  finsegVersion: '0.1.0',
  parentVersion: null,
});

describe('model bundle', () => {
  it('round-trips every state exactly and records a checksum per file', () => {
    const registry = mkdtempSync(join(tmpdir(), 'finseg-reg-'));
    const dir = writeBundle(registry, manifest('v1'), states);
    const loaded = loadBundle(dir);
    expect(loaded.states).toEqual(states);
    expect(loaded.manifest.files['cluster.json']).toBe(sha256(readFileSync(join(dir, 'cluster.json'), 'utf8')));
    expect(readdirSync(registry).sort()).toEqual(['latest', 'v1']); // no temporary folder left
  });

  it('resolves a registry folder through its latest pointer', () => {
    const registry = mkdtempSync(join(tmpdir(), 'finseg-reg-'));
    writeBundle(registry, manifest('v1'), states);
    writeBundle(registry, manifest('v2'), states);
    expect(loadBundle(registry).manifest.version).toBe('v2');
  });

  it('refuses a modified file with a checksum message', () => {
    const registry = mkdtempSync(join(tmpdir(), 'finseg-reg-'));
    const dir = writeBundle(registry, manifest('v1'), states);
    writeFileSync(join(dir, 'cluster.json'), '{"kind":"finseg.cluster","centroids":[[9,9]]}\n');
    expect(() => loadBundle(dir)).toThrowError(/cluster\.json: checksum mismatch/);
  });

  it('refuses another format version', () => {
    const registry = mkdtempSync(join(tmpdir(), 'finseg-reg-'));
    const dir = writeBundle(registry, { ...manifest('v1'), formatVersion: 99 }, states);
    expect(() => loadBundle(dir)).toThrowError(/bundle format 99 is not supported/);
  });

  it('refuses to overwrite an existing version', () => {
    const registry = mkdtempSync(join(tmpdir(), 'finseg-reg-'));
    writeBundle(registry, manifest('v1'), states);
    expect(() => writeBundle(registry, manifest('v1'), states)).toThrowError(/already exists/);
  });
});
