import { beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadBundle } from '../../pipeline/registry/bundle.ts';
import { productionVersion, versionNames } from '../../pipeline/registry/registry.ts';
import { harness, waitFor } from './harness.ts';

/**
 * Exit codes, one writer at a time, and no trust in altered bytes, on the real CLI in child
 * processes: a candidate held by a gate exits 3 and leaves production alone; a second retrain
 * while one holds the registry exits 4; a production bundle with one altered byte is refused by
 * retrain and by score.
 */
const { work, data, reg, config, retrainArgs, start, finseg, prepare } = harness('finseg-writers-');
let production = '';

beforeAll(async () => {
  await prepare(8);
  const first = await finseg([...retrainArgs, '--quiet']);
  expect(first.code, first.stderr).toBe(0);
  production = productionVersion(reg)!;
}, 120_000);

describe('a candidate the gates hold', () => {
  it('is written as a version but not promoted, and retrain exits with code 3', async () => {
    const strict = join(work, 'strict.json');
    // The same quick settings with a silhouette no clustering of this data reaches.
    writeFileSync(strict, JSON.stringify({ ...JSON.parse(readFileSync(config, 'utf8')), retrain: { gates: { minSilhouette: 0.99 } } }));
    const before = versionNames(reg);
    const run = await finseg(['retrain', '--data', data, '--registry', reg, '--config', strict]);
    expect(run.code, run.stderr).toBe(3);
    expect(run.stdout).toMatch(/^not-promoted \S+\nproduction \S+\n/);
    expect(run.stderr).toMatch(/gates: hold \(candidate silhouette 0\.\d{3} < 0\.990\)/);
    const after = versionNames(reg);
    expect(after.length).toBe(before.length + 1);
    expect(productionVersion(reg)).toBe(production);
    const held = loadBundle(join(reg, after.at(-1)!));
    expect(held.manifest.retrain).toMatchObject({ decision: 'hold', production });
  }, 120_000);
});

describe('one writer at a time', () => {
  it('turns a second retrain away with exit code 4 while the first holds the registry', async () => {
    const before = versionNames(reg).length;
    // The first retrain pauses (test hook) right after it logs, lock held, so the second cannot miss it.
    const first = start(retrainArgs, { FINSEG_PAUSEPOINT: 'retrain:comparing', FINSEG_PAUSE_MS: '20000' });
    await waitFor(first.child, /retrain: comparing with production/);
    const second = await finseg(retrainArgs);
    expect(second.code).toBe(4);
    expect(second.stderr).toContain(`finseg: another finseg is writing to ${reg}: pid ${first.child.pid} on `);
    expect(second.stderr).toContain('(retrain) since');
    const done = await first.done;
    expect(done.code, done.stderr).toBe(0);
    expect(versionNames(reg).length).toBe(before + 1);
    production = productionVersion(reg)!;
  }, 120_000);
});

describe('tampering', () => {
  it('refuses a production bundle with one altered byte, in retrain and in score', async () => {
    const file = join(reg, production, 'preprocess.json');
    const original = readFileSync(file);
    const altered = Buffer.from(original);
    altered[100] = altered[100]! ^ 0x01;
    writeFileSync(file, altered);
    try {
      const retrain = await finseg(retrainArgs);
      expect(retrain.code).toBe(2);
      expect(retrain.stderr).toContain(`${file}: checksum mismatch, the bundle was modified or is corrupt`);
      const score = await finseg(['score', '--model', reg, '--data', data, '--out', join(work, 'scores.csv')]);
      expect(score.code).toBe(2);
      expect(score.stderr).toContain('checksum mismatch');
      expect(existsSync(join(work, 'scores.csv'))).toBe(false);
    } finally {
      writeFileSync(file, original);
    }
    expect(productionVersion(reg)).toBe(production);
    expect(() => loadBundle(reg)).not.toThrow();
  }, 120_000);
});
