/**
 * `finseg schedule --cron EXPR retrain --data DIR`: runs retraining in this process on a cron
 * expression (croner; 5 fields, or 6 with seconds first), one at a time, and prints one JSON line
 * per run. A single-instance lock (`<registry>/.schedule.lock`) keeps a second scheduler for the
 * same registry from starting; each run still takes the registry's writer lock, so a manual
 * retrain in between is safe (that run reports `busy`).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Cron } from 'croner';
import { InputError } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import { describeOwner, tryLock } from '../registry/lock.ts';
import { RegistryBusyError, SCHEDULE_LOCK } from '../registry/registry.ts';
import { RETRAIN_EXIT, type RetrainOutcome } from '../jobs/retrain.ts';

/** The JSON line printed after each run. */
export interface RunRecord {
  kind: 'finseg.schedule-run';
  run: number;
  startedAt: string;
  finishedAt: string;
  seconds: number;
  outcome: 'promoted' | 'not-promoted' | 'busy' | 'failed';
  /** The exit code `finseg retrain` would have given (RETRAIN_EXIT). */
  exitCode: number;
  version: string | null;
  production: string | null;
  parentVersion: string | null;
  ari: number | null;
  driftDetected: boolean | null;
  drifted: string[];
  keptIds: number | null;
  newIds: number | null;
  vanishedIds: number[];
  reasons: string[];
  error: string | null;
}

/** A second scheduler for the same registry: the message names the running one. */
export class ScheduleBusyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ScheduleBusyError';
  }
}

/** What the scheduler runs, how often and where its output goes. */
export interface ScheduleOptions {
  cron: string;
  /** Stop after this many runs (null: until SIGINT/SIGTERM). */
  maxRuns: number | null;
  registry: string;
  /** One retrain; its outcome, or a thrown error. */
  retrain: () => Promise<RetrainOutcome>;
  /** Where each run's JSON line goes (stdout in the CLI). */
  emit: (line: string) => void;
  logger: Logger;
  now: () => Date;
  /** Resolves to stop the scheduler early (the CLI wires SIGINT/SIGTERM to it). */
  stop?: Promise<void>;
}

/** Turns a retrain's outcome or error into its JSON line. */
export function runRecord(run: number, startedAt: Date, finishedAt: Date, result: { outcome: RetrainOutcome } | { error: unknown }): RunRecord {
  const base = { kind: 'finseg.schedule-run' as const, run, startedAt: startedAt.toISOString(), finishedAt: finishedAt.toISOString(), seconds: (finishedAt.getTime() - startedAt.getTime()) / 1000 };
  if ('error' in result) {
    const e = result.error;
    const busy = e instanceof RegistryBusyError;
    return {
      ...base,
      outcome: busy ? 'busy' : 'failed',
      exitCode: busy ? RETRAIN_EXIT.busy : e instanceof InputError ? RETRAIN_EXIT.badInput : RETRAIN_EXIT.failure,
      version: null,
      production: null,
      parentVersion: null,
      ari: null,
      driftDetected: null,
      drifted: [],
      keptIds: null,
      newIds: null,
      vanishedIds: [],
      reasons: [],
      error: e instanceof Error ? e.message : String(e),
    };
  }
  const o = result.outcome;
  const c = o.comparison;
  const kept = c.segments.filter((s) => s.status === 'kept').length;
  return {
    ...base,
    outcome: o.status,
    exitCode: o.status === 'promoted' ? RETRAIN_EXIT.promoted : RETRAIN_EXIT.notPromoted,
    version: o.version,
    production: o.production,
    parentVersion: o.previousProduction,
    ari: c.agreement?.ari ?? null,
    driftDetected: c.drift?.detected ?? null,
    drifted: c.drift?.drifted ?? [],
    keptIds: c.production === null ? 0 : kept,
    newIds: c.segments.length - (c.production === null ? 0 : kept),
    vanishedIds: c.vanished.map((v) => v.id),
    reasons: c.reasons,
    error: null,
  };
}

/** Validates a cron expression, naming what is wrong. */
export function parseCron(expr: string): Cron {
  try {
    return new Cron(expr, { paused: true });
  } catch (e) {
    throw new InputError(`--cron ${JSON.stringify(expr)} is not a cron expression: ${e instanceof Error ? e.message : String(e)}`, [
      'five fields (minute hour day-of-month month day-of-week), e.g. "0 3 * * 1" for Mondays at 03:00, or six with seconds first',
    ]);
  }
}

/**
 * Runs retrain on the cron expression until `maxRuns` runs have finished (or `stop` resolves);
 * resolves with every run's record. Throws ScheduleBusyError when another scheduler holds the registry.
 */
export async function scheduleJob(opts: ScheduleOptions): Promise<RunRecord[]> {
  parseCron(opts.cron).stop();
  if (opts.maxRuns !== null && !(Number.isInteger(opts.maxRuns) && opts.maxRuns >= 1)) throw new InputError(`--max-runs must be a positive integer, got ${opts.maxRuns}`);
  mkdirSync(opts.registry, { recursive: true });
  const attempt = tryLock(join(opts.registry, SCHEDULE_LOCK), 'schedule', opts.now);
  if (!attempt.acquired) throw new ScheduleBusyError(`another finseg schedule is running for ${opts.registry}: ${describeOwner(attempt.owner)}`);
  const records: RunRecord[] = [];
  let job: Cron | null = null;
  try {
    await new Promise<void>((resolve) => {
      let runs = 0;
      job = new Cron(
        opts.cron,
        {
          maxRuns: opts.maxRuns ?? undefined,
          // Never two retrains at once: a tick that comes while one runs is skipped (and said so).
          protect: () => opts.logger.warn('schedule: a tick came while the previous retrain was still running; skipped'),
        },
        async () => {
          const run = ++runs;
          const startedAt = opts.now();
          opts.logger.info(`schedule: run ${run} started`);
          let result: { outcome: RetrainOutcome } | { error: unknown };
          try {
            result = { outcome: await opts.retrain() };
          } catch (error) {
            result = { error };
          }
          const record = runRecord(run, startedAt, opts.now(), result);
          records.push(record);
          opts.emit(JSON.stringify(record));
          if (opts.maxRuns !== null && run >= opts.maxRuns) resolve();
          else opts.logger.info(`schedule: next run at ${job?.nextRun()?.toISOString() ?? 'never'}`);
        },
      );
      opts.logger.info(`schedule: "${opts.cron}", first run at ${job.nextRun()?.toISOString() ?? 'never'}${opts.maxRuns !== null ? `, ${opts.maxRuns} run(s)` : ''}`);
      void opts.stop?.then(() => resolve());
      if (job.nextRun() === null) resolve();
    });
  } finally {
    (job as Cron | null)?.stop();
    attempt.lock.release();
  }
  return records;
}
