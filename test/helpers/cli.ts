import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';

/** The CLI's entry point, as `npx finseg` runs it. */
export const FINSEG_BIN = resolve(import.meta.dirname, '../../bin/finseg.mjs');

/** What one run of the CLI printed and its exit code. */
export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `node bin/finseg.mjs ...args` in a child process (env added to this process's); never throws for a non-zero exit. */
export async function finsegCli(args: readonly string[], options: { env?: Record<string, string>; cwd?: string } = {}): Promise<CliRun> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [FINSEG_BIN, ...args], { env: { ...process.env, ...options.env }, cwd: options.cwd, maxBuffer: 1 << 26 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof err.code === 'number' ? err.code : 1, stdout: err.stdout ?? '', stderr: err.stderr ?? '' };
  }
}
