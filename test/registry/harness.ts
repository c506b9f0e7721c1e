/**
 * Runs the real `finseg` CLI in child processes against a scratch registry, for the suites that
 * kill it or run two at once. The data and settings are small (400 customers, few restarts and
 * epochs) because what those suites test is the registry, not the model.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { quietLogger } from '../../pipeline/core/log.ts';
import { defaultGenerateParams, generateDataset } from '../../pipeline/generate/generate.ts';

/** How a child run ended and what it printed. */
export interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

const bin = fileURLToPath(new URL('../../bin/finseg.mjs', import.meta.url));

/** The quick settings every child run uses; gates low enough that this small model always passes. */
export const FAST_CONFIG = {
  $comment: 'quick settings for registry tests: the same pipeline with fewer restarts, epochs and refits',
  cluster: { kMin: 3, kMax: 5, restarts: 2, selectionSample: 400, stabilityResamples: 2 },
  classify: { epochs: 5, hidden: [16] },
  coldStart: { classifier: { epochs: 3, hidden: [8] } },
  retrain: { stability: { resamples: 2, sample: 200, restarts: 1 }, gates: { minSilhouette: 0.05, minStability: 0.3 } },
};

/** A scratch folder with 400 generated customers, the fast config and an (empty) registry. */
export function harness(prefix: string) {
  const work = mkdtempSync(join(tmpdir(), prefix));
  const data = join(work, 'data');
  const reg = join(work, 'models');
  const config = join(work, 'fast.json');
  const retrainArgs = ['retrain', '--data', data, '--registry', reg, '--config', config];

  /** Starts `finseg ...args` in the scratch folder with extra environment variables. */
  function start(args: string[], env: Record<string, string> = {}): { child: ChildProcess; done: Promise<Run> } {
    const child = spawn(process.execPath, [bin, ...args], { cwd: work, env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const done = new Promise<Run>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
    return { child, done };
  }

  return {
    work,
    data,
    reg,
    config,
    retrainArgs,
    start,
    finseg: (args: string[], env: Record<string, string> = {}) => start(args, env).done,
    /** Writes the data (seeded) and the config. */
    async prepare(seed: number): Promise<void> {
      await generateDataset(data, { ...defaultGenerateParams, customers: 400, seed }, 'parquet', quietLogger);
      writeFileSync(config, JSON.stringify(FAST_CONFIG));
    },
  };
}

/** Resolves when the child's stderr shows a match of `pattern`; rejects if it exits first. */
export function waitFor(child: ChildProcess, pattern: RegExp): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    child.stderr!.on('data', (d: Buffer) => {
      seen += d.toString();
      if (pattern.test(seen)) resolve();
    });
    child.on('close', () => reject(new Error(`exited before printing ${pattern}:\n${seen}`)));
  });
}
