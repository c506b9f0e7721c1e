import type { DuckDBConnection } from '@duckdb/node-api';

/**
 * DuckDB's own estimate of how far the statement running on a connection is, fed to a progress
 * callback as a percentage (done of 100) while `work` runs: the feature query is one statement, so
 * this is the only count it has. Without a callback (no terminal, --quiet) nothing is set or polled.
 */
export async function withQueryProgress<T>(conn: DuckDBConnection, onProgress: ((done: number, total: number) => void) | undefined, work: () => Promise<T>, intervalMs = 100): Promise<T> {
  if (!onProgress) return work();
  // Tracking is off by default; the print setting keeps DuckDB from drawing a bar of its own.
  await conn.run('SET enable_progress_bar = true; SET enable_progress_bar_print = false');
  const timer = setInterval(() => {
    // -1 between statements; a statement at 100 has not yet handed its result over.
    const percent = conn.progress.percentage;
    if (percent >= 0 && percent < 100) onProgress(Math.floor(percent), 100);
  }, intervalMs);
  try {
    return await work();
  } finally {
    clearInterval(timer);
    onProgress(100, 100);
    await conn.run('RESET enable_progress_bar; RESET enable_progress_bar_print');
  }
}
