/**
 * The scan floor of `npm run bench` (issue 19): what DuckDB itself needs to read the data set's
 * usage_events.parquet and group all its rows by customer. The feature stage does at least this
 * much work, so features ÷ floor says how far it is from what the machine can do. The second
 * query adds the two distinct counts the feature catalog needs (modules used, active days), for
 * information: it shows what distinct counts cost when computed straight from the raw rows.
 */
import { DuckDBInstance } from '@duckdb/node-api';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { sqlString } from '../pipeline/core/duck.ts';

/** The floor job's result, in the shape of the other bench jobs (stages, total, peak RSS). */
export interface FloorResult {
  job: 'floor';
  file: string;
  rows: number;
  customers: number;
  /** `count` = per-customer count(*) (the floor); `distinct` = the same plus count(DISTINCT module) and count(DISTINCT day). */
  stages: { count: number; distinct: number };
  totalSeconds: number;
  peakRssMiB: number;
}

/** Both floor queries over DATA/usage_events.parquet, each timed from query to last result row. */
export async function scanFloor(dataDir: string): Promise<FloorResult> {
  const file = join(dataDir, 'usage_events.parquet');
  if (!existsSync(file)) throw new Error(`scan floor: ${file} not found (the bench reads the generator's single usage_events.parquet)`);
  // Start-up is not part of the floor: the feature stage's own DuckDB is already open when it starts.
  const conn = await (await DuckDBInstance.create(':memory:')).connect();
  const source = `read_parquet(${sqlString(file)})`;
  // Summing every aggregate over the groups keeps the optimizer from dropping an unused one, and
  // keeps the result one row, so moving results into JavaScript costs nothing.
  const countSql = `SELECT count(*) AS customers, sum(n) AS rows FROM (SELECT customer_id, count(*) AS n FROM ${source} GROUP BY customer_id)`;
  const distinctSql =
    'SELECT count(*) AS customers, sum(n) AS rows, sum(m) AS modules, sum(d) AS days FROM (SELECT customer_id, count(*) AS n, ' +
    `count(DISTINCT module) AS m, count(DISTINCT CAST(ts AS DATE)) AS d FROM ${source} GROUP BY customer_id)`;
  const start = performance.now();
  const timed = async (sql: string): Promise<{ seconds: number; row: Record<string, unknown> }> => {
    const t = performance.now();
    const row = (await conn.runAndReadAll(sql)).getRowObjects()[0]!;
    return { seconds: (performance.now() - t) / 1000, row };
  };
  const count = await timed(countSql);
  const distinct = await timed(distinctSql);
  const totalSeconds = (performance.now() - start) / 1000;
  conn.closeSync();
  return {
    job: 'floor',
    file,
    rows: Number(count.row.rows),
    customers: Number(count.row.customers),
    stages: { count: count.seconds, distinct: distinct.seconds },
    totalSeconds,
    peakRssMiB: process.resourceUsage().maxRSS / 1024,
  };
}
