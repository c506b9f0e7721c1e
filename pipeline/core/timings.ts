import type { Logger } from '../core/log.ts';

/** Wall-clock seconds per stage of one job, in run order, and the process's peak resident memory. */
export interface StageTimings {
  /** Seconds per stage, keys in the order the stages ran. */
  stages: Record<string, number>;
  /** Seconds from the clock's start to `finish()`. */
  totalSeconds: number;
  /** Peak resident set size of the whole process so far (getrusage maxrss), in MiB. */
  peakRssMiB: number;
}

/**
 * Times consecutive stages of a job: `lap(stage)` charges the time since the previous lap (or
 * the start) to that stage and logs it, so the benchmark and a user's log read the same numbers.
 */
export class StageClock {
  private readonly stages: Record<string, number> = {};
  private readonly start: number;
  private last: number;

  constructor(
    private readonly job: string,
    private readonly logger: Logger,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.start = now();
    this.last = this.start;
  }

  /** Ends the stage running since the last lap; a stage timed twice accumulates. */
  lap(stage: string): void {
    const t = this.now();
    const seconds = (t - this.last) / 1000;
    const before = this.stages[stage];
    this.stages[stage] = (before ?? 0) + seconds;
    this.last = t;
    // A stage timed again (cluster, around the stability refits) also shows its running total.
    const total = before === undefined ? '' : ` (${this.stages[stage]!.toFixed(2)} s in all)`;
    this.logger.info(`${this.job} timing: ${stage} ${seconds.toFixed(2)} s${total}`);
  }

  /** The timings so far, with the total since the start. */
  finish(): StageTimings {
    const totalSeconds = (this.now() - this.start) / 1000;
    const timings = { stages: { ...this.stages }, totalSeconds, peakRssMiB: process.resourceUsage().maxRSS / 1024 };
    this.logger.info(`${this.job} timing: total ${totalSeconds.toFixed(2)} s, peak RSS ${timings.peakRssMiB.toFixed(0)} MiB`);
    return timings;
  }
}
