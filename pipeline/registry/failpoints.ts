/**
 * Failpoints for crash tests: named places in the registry's write paths where a test can have
 * the process kill itself with SIGKILL, exactly as an OOM killer or a node reboot would, to prove
 * that no partial version ever becomes visible. Armed only by the environment variable
 * FINSEG_FAILPOINT (one name); unset, each call is a comparison and nothing else. The names are
 * listed in docs/retraining.md.
 */

/** The places a crash test can stop a writer. */
export const FAILPOINTS = [
  'retrain:locked',
  'bundle:partial',
  'bundle:before-rename',
  'retrain:before-promote',
  'pointer:latest',
  'pointer:production',
] as const;
export type Failpoint = (typeof FAILPOINTS)[number];

// Read once at load: the failpoint is a property of the process, set by the test that spawned it.
const armed = process.env.FINSEG_FAILPOINT ?? null;

/** Kills this process with SIGKILL when FINSEG_FAILPOINT names this place. */
export function failpoint(name: Failpoint): void {
  if (armed === name) process.kill(process.pid, 'SIGKILL');
}

/** Places a concurrency test can hold a writer while it owns the registry lock. */
export type Pausepoint = 'retrain:comparing';

const pauseAt = process.env.FINSEG_PAUSEPOINT ?? null;

/**
 * Holds this process for FINSEG_PAUSE_MS (default 20 s) when FINSEG_PAUSEPOINT names this place,
 * so a test can start a second writer while the first provably holds the lock instead of racing
 * a small retrain that may already have finished. Unset, it returns at once.
 */
export async function pausepoint(name: Pausepoint): Promise<void> {
  if (pauseAt !== name) return;
  const ms = Number(process.env.FINSEG_PAUSE_MS ?? 20_000);
  await new Promise((resolve) => setTimeout(resolve, ms));
}
