import { ProgressBar } from './progress.ts';

/** Progress and messages go through a Logger passed in from the CLI, so tests can run quietly. */
export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  /** `done` of `total` units of a long stage: a bar on a terminal (core/progress.ts), nothing elsewhere. */
  progress?(stage: string, done: number, total: number): void;
  /** Erases a progress bar still on screen, before the CLI prints an error or exits. */
  endProgress?(): void;
}

export const quietLogger: Logger = { info: () => {}, warn: () => {} };

/**
 * Logs to stderr with the elapsed seconds since creation, so stdout stays clean for data; when
 * stderr is a terminal, long stages also draw a progress bar that each log line clears first.
 */
export function stderrLogger(): Logger {
  const t0 = Date.now();
  const stamp = (): string => `[${((Date.now() - t0) / 1000).toFixed(1).padStart(5)}s]`;
  const bar = new ProgressBar(process.stderr);
  return {
    info: (m) => {
      bar.clear();
      process.stderr.write(`${stamp()} ${m}\n`);
    },
    warn: (m) => {
      bar.clear();
      process.stderr.write(`${stamp()} warning: ${m}\n`);
    },
    progress: (stage, done, total) => bar.update(stage, done, total),
    endProgress: () => bar.end(),
  };
}

/** The `onProgress(done, total)` a stage takes, labelled `stage` on the logger's bar; undefined when the logger shows none. */
export function progressOf(logger: Logger, stage: string): ((done: number, total: number) => void) | undefined {
  const progress = logger.progress;
  return progress ? (done, total) => progress.call(logger, stage, done, total) : undefined;
}
