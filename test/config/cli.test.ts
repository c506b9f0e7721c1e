import { afterAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { main } from '../../pipeline/cli/main.ts';

/**
 * Every stage's settings are checked when the config is loaded, before any data is read: `train`
 * is pointed at a data folder that does not exist, so an error that names the config key (and not
 * the folder) can only come from the config check. A slice's case runs the CLI's `main` in this
 * process (a node start costs seconds); the command itself (bin/finseg.mjs) runs for a few.
 */
const bin = join(import.meta.dirname, '../../bin/finseg.mjs');
const root = mkdtempSync(join(tmpdir(), 'finseg-config-cli-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const nowhere = join(root, 'no-such-data');

const trainArgs = (config: unknown): string[] => {
  const path = join(root, 'bad.json');
  writeFileSync(path, JSON.stringify(config));
  return ['train', '--data', nowhere, '--config', path, '--out', join(root, 'models'), '--quiet'];
};

/** `node bin/finseg.mjs train …`: the exit code and stderr. */
async function train(config: unknown): Promise<{ code: number; stderr: string }> {
  return promisify(execFile)(process.execPath, [bin, ...trainArgs(config)], { cwd: root }).then(
    () => ({ code: 0, stderr: '' }),
    (e: { code: number; stderr: string }) => ({ code: e.code, stderr: e.stderr }),
  );
}

/** The same command through `main` in this process. */
async function trainInProcess(config: unknown): Promise<{ code: number; stderr: string }> {
  let stderr = '';
  const write = process.stderr.write;
  process.stderr.write = ((chunk: string) => ((stderr += chunk), true)) as typeof process.stderr.write;
  try {
    return { code: await main(trainArgs(config)), stderr };
  } finally {
    process.stderr.write = write;
  }
}

describe('finseg train with a bad setting', () => {
  const config = join(root, 'bad.json');
  const cases: [string, unknown, string][] = [
    ['cluster', { cluster: { kMax: 'x' } }, 'cluster.kMax: expected an integer >= 2, got "x"'],
    ['cluster (across keys)', { cluster: { kMin: 6, kMax: 4 } }, 'cluster.kMax: expected kMax >= kMin (6), got 4'],
    ['classify', { classify: { hidden: [64, 0] } }, 'classify.hidden[1]: expected an integer >= 1, got 0'],
    ['preprocess', { preprocess: { pcaVarianceTarget: 1.5 } }, 'preprocess.pcaVarianceTarget: expected a number in (0, 1], got 1.5'],
    ['explain', { explain: { maxLeavesPerSegment: 0 } }, 'explain.maxLeavesPerSegment: expected an integer >= 1, got 0'],
    ['features', { features: { smallTicketAmount: '100' } }, 'features.smallTicketAmount: expected a number >= 0, got "100"'],
    ['drift', { drift: { trends: { minCoveredDays: 31 } } }, 'drift.trends.minCoveredDays: expected an integer in 1..28, got 31'],
    ['coldStart', { coldStart: { classifier: { heldOutShare: 1 } } }, 'coldStart.classifier.heldOutShare: expected a number in (0, 1), got 1'],
  ];
  for (const [slice, bad, message] of cases) {
    it(`exits 2 naming the ${slice} key, before looking for the data`, async () => {
      const r = await trainInProcess(bad);
      expect(r.code).toBe(2);
      expect(r.stderr.split('\n')[0]).toBe(`finseg: ${config}: ${message}`);
    }, 60_000);
  }

  it('exits 2 from the command itself, naming the key', async () => {
    const r = await train({ cluster: { kMax: 'x' } });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`finseg: ${config}: cluster.kMax: expected an integer >= 2, got "x"\n`);
  }, 60_000);

  it('lists the known keys for an unknown one', async () => {
    const r = await trainInProcess({ classify: { epoch: 3 } });
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n').slice(0, 2)).toEqual([`finseg: ${config}: classify.epoch: unknown setting`, '  known settings here: hidden, epochs, batchSize, learningRate, heldOutShare, maxTrainRows']);
  }, 60_000);

  it('with a good config, the same command fails on the data folder instead', async () => {
    const r = await train({ cluster: { kMax: 6 } });
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')[0]).toMatch(/no-such-data/);
    expect(r.stderr).not.toMatch(/bad\.json/);
  }, 60_000);
});
