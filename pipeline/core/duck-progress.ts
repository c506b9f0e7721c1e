import type { DuckDBConnection } from '@duckdb/node-api';

/**
 * DuckDB's own estimate of how far the statement running on a connection is, fed to a progress
 * callback as a percentage (done of 100): the feature query and a Parquet COPY are one statement
 * each, so this is the only count they have. Without a callback (no terminal, --quiet) nothing is
 * set or polled.
 */

/** Turns DuckDB's progress tracking on for the connection; its own printed bar stays off. */
export async function trackQueryProgress(conn: DuckDBConnection): Promise<void> {
  await conn.run('SET enable_progress_bar = true; SET enable_progress_bar_print = false');
}

/** Polls the running statement's percentage every `intervalMs` into onProgress(percent, 100); returns the function that stops it and ends the bar. */
export function pollQueryProgress(conn: DuckDBConnection, onProgress: (done: number, total: number) => void, intervalMs = 100): () => void {
  const timer = setInterval(() => {
    // -1 between statements; a statement at 100 has not yet handed its result over.
    const percent = conn.progress.percentage;
    if (percent >= 0 && percent < 100) onProgress(Math.floor(percent), 100);
  }, intervalMs);
  return () => {
    clearInterval(timer);
    onProgress(100, 100);
  };
}

/** Runs `work` (statements on conn) with DuckDB's progress polled into onProgress; the connection's settings are reset after. */
export async function withQueryProgress<T>(conn: DuckDBConnection, onProgress: ((done: number, total: number) => void) | undefined, work: () => Promise<T>, intervalMs = 100): Promise<T> {
  if (!onProgress) return work();
  await trackQueryProgress(conn);
  const stop = pollQueryProgress(conn, onProgress, intervalMs);
  try {
    return await work();
  } finally {
    stop();
    await conn.run('RESET enable_progress_bar; RESET enable_progress_bar_print');
  }
}
