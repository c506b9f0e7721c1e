/**
 * A one-line progress bar for long stages on a terminal: stage, done/total, percent, elapsed and
 * ETA, redrawn in place with `\r`. It draws only on a TTY (a pipe, a file or CI gets the plain log
 * lines and nothing else) and at most once per `minIntervalMs`, so a caller may report every unit
 * of work without flooding the terminal. No dependency: a bar is a few escape codes.
 */

/** The part of a stream the bar needs (process.stderr, or a fake one in tests). */
export interface ProgressStream {
  isTTY?: boolean;
  columns?: number;
  write(text: string): unknown;
}

/** How a bar is drawn: its clock and its redraw limit. */
export interface ProgressOptions {
  /** Milliseconds; injectable so tests never wait. */
  now?: () => number;
  /** At most one redraw per this many milliseconds (100 = 10 redraws a second). */
  minIntervalMs?: number;
}

const BAR_WIDTH = 10;
// Carriage return then erase to the end of the line: the cursor is back at column 0 on a blank line.
const CLEAR_LINE = '\r\x1b[K';

/** "42s", "3m05s", "1h02m": short, so a line with a million-customer count still fits 80 columns. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** The bar's text for one moment: `stage [###---] pct% done/total ETA …, … elapsed`, cut to `columns`. */
export function progressLine(stage: string, done: number, total: number, elapsedSeconds: number, columns = 80): string {
  const share = total > 0 ? Math.min(1, Math.max(0, done / total)) : 0;
  const filled = Math.round(share * BAR_WIDTH);
  const bar = `${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}`;
  // No ETA until a little work is done for a little while: the first units (warm-up, JIT) say little about the rest.
  const eta = done > 0 && share >= 0.01 && elapsedSeconds >= 1 && done < total ? formatDuration((elapsedSeconds * (total - done)) / done) : '?';
  // The ETA before the elapsed time: on a narrow terminal the cut falls on the less useful part.
  const text = `${stage} [${bar}] ${(share * 100).toFixed(0).padStart(3)}% ${done}/${total} ETA ${eta}, ${formatDuration(elapsedSeconds)} elapsed`;
  // One character short of the width, so the terminal never wraps the line (a wrapped line cannot be redrawn with \r).
  return text.length < columns ? text : text.slice(0, Math.max(0, columns - 1));
}

/**
 * A progress bar on one stream. `update` starts a task when the stage name changes or its count
 * goes back, redraws
 * at most once per interval and clears the line when done reaches total; `clear` erases a drawn
 * line (before a log line is written under it); every call is a no-op on a stream that is not a TTY.
 */
export class ProgressBar {
  private readonly enabled: boolean;
  private readonly now: () => number;
  private readonly minIntervalMs: number;
  private stage: string | null = null;
  private started = 0;
  private lastDraw = Number.NEGATIVE_INFINITY;
  private drawn = false;
  private lastDone = 0;

  constructor(
    private readonly stream: ProgressStream,
    options: ProgressOptions = {},
  ) {
    this.enabled = stream.isTTY === true;
    this.now = options.now ?? (() => performance.now());
    this.minIntervalMs = options.minIntervalMs ?? 100;
  }

  /** Reports `done` of `total` units of `stage`. */
  update(stage: string, done: number, total: number): void {
    if (!this.enabled) return;
    const t = this.now();
    // A count going back is a new run of the stage (DuckDB's percentage of the next statement): its own clock.
    if (stage !== this.stage || done < this.lastDone) {
      this.stage = stage;
      this.started = t;
      this.lastDraw = Number.NEGATIVE_INFINITY;
    }
    this.lastDone = done;
    if (done >= total) {
      // The stage's own log line says it ended; a finished bar would only repeat it.
      this.clear();
      this.stage = null;
      return;
    }
    if (t - this.lastDraw < this.minIntervalMs) return;
    this.lastDraw = t;
    // A pseudo-terminal without a size (script, some CI runners) reports 0 columns.
    const columns = this.stream.columns && this.stream.columns > 0 ? this.stream.columns : 80;
    this.stream.write(`${CLEAR_LINE}${progressLine(stage, done, total, (t - this.started) / 1000, columns)}`);
    this.drawn = true;
  }

  /** Erases the bar if one is on screen; the next update redraws it. */
  clear(): void {
    if (!this.drawn) return;
    this.stream.write(CLEAR_LINE);
    this.drawn = false;
    // Redraw on the next update, so a log line does not leave the bar missing for a whole interval.
    this.lastDraw = Number.NEGATIVE_INFINITY;
  }

  /** Erases the bar and forgets the running stage (end of a job, or an error about to be printed). */
  end(): void {
    this.clear();
    this.stage = null;
  }
}
