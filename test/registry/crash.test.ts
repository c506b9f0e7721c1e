import { beforeAll, describe, expect, it } from 'vitest';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadBundle } from '../../pipeline/registry/bundle.ts';
import { FAILPOINTS } from '../../pipeline/registry/failpoints.ts';
import { latestVersion, productionVersion, readHistory, versionNames } from '../../pipeline/registry/registry.ts';
import { harness, waitFor } from './harness.ts';

/**
 * Crash safety of `finseg retrain`, on the real CLI in child processes: SIGKILL at every
 * failpoint of the write path and once mid-training must leave production as it was and no
 * partial version visible, and the next run must recover.
 */
const { reg, retrainArgs, start, finseg, prepare } = harness('finseg-crash-');
let production = '';

/** Production is still the version it was, and every version listed loads with all its checksums. */
function expectRegistryIntact(): void {
  expect(productionVersion(reg)).toBe(production);
  for (const v of versionNames(reg)) expect(() => loadBundle(join(reg, v)), v).not.toThrow();
  expect(loadBundle(reg).manifest.version).toBe(production);
}

beforeAll(async () => {
  await prepare(3);
  const first = await finseg([...retrainArgs, '--quiet']);
  expect(first.code, first.stderr).toBe(0);
  production = productionVersion(reg)!;
  expect(first.stdout).toContain(`promoted ${production}`);
}, 120_000);

describe('retrain under SIGKILL', () => {
  it('never leaves a partial version or moves production, whichever step it is killed at', async () => {
    expect(FAILPOINTS).toEqual(['retrain:locked', 'bundle:partial', 'bundle:before-rename', 'retrain:before-promote', 'pointer:latest', 'pointer:production']);
    for (const point of FAILPOINTS) {
      const before = versionNames(reg);
      const run = await finseg([...retrainArgs, '--quiet'], { FINSEG_FAILPOINT: point });
      expect(run.signal, `${point}: ${run.stderr}`).toBe('SIGKILL');
      expectRegistryIntact();
      const after = versionNames(reg);
      const left = readdirSync(reg);
      expect(left, point).toContain('.lock'); // the killed writer's lock stays behind, stale
      if (point === 'bundle:partial' || point === 'bundle:before-rename') {
        // Killed while writing: the temporary folder is there, no version under a real name.
        expect(left.some((e) => e.startsWith('.tmp-')), point).toBe(true);
        expect(after, point).toEqual(before);
      } else if (point === 'retrain:locked') {
        expect(after, point).toEqual(before);
      } else {
        // Killed after the rename: one more version, complete; production untouched.
        expect(after.length, point).toBe(before.length + 1);
        if (point === 'pointer:latest') expect(latestVersion(reg)).not.toBe(after.at(-1));
        if (point === 'pointer:production') expect(readHistory(reg).at(-1)).toMatchObject({ action: 'promote', version: after.at(-1), previous: production });
      }
    }
  }, 300_000);

  it('never leaves a partial version when killed at an arbitrary moment of training', async () => {
    const before = versionNames(reg);
    const { child, done } = start(retrainArgs);
    await waitFor(child, /train timing: cluster/);
    child.kill('SIGKILL');
    expect((await done).signal).toBe('SIGKILL');
    expectRegistryIntact();
    expect(versionNames(reg)).toEqual(before);
  }, 120_000);

  it('recovers on the next run: takes over the stale lock, removes the leftovers, promotes', async () => {
    // Leave the leftovers of a kill mid-write (a temporary folder and a stale lock) for this run to deal with.
    expect((await finseg([...retrainArgs, '--quiet'], { FINSEG_FAILPOINT: 'bundle:before-rename' })).signal).toBe('SIGKILL');
    const run = await finseg(retrainArgs);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/retrain: removed what killed runs left behind: \.tmp-\S+-\d+/);
    const now = productionVersion(reg)!;
    expect(now).not.toBe(production);
    // Nothing the killed run left behind; the lock's fencing counter (.lock.epoch) stays by design.
    expect(readdirSync(reg).filter((e) => (e.startsWith('.') && e !== '.lock.epoch') || e.includes('.tmp-'))).toEqual([]);
    production = now;
    expectRegistryIntact();
  }, 120_000);
});
