/**
 * `finseg features` and `finseg features-sql`: the feature table finseg computes itself (the
 * input `--features` takes, and a check for another engine's output), and the SQL that computes
 * it on DuckDB, Spark SQL, Trino or PostgreSQL (docs/scale-out.md).
 */
import { ingest } from '../01-ingest/ingest.ts';
import type { SqlDialect } from '../02-features/dialect.ts';
import { featureTableSql, writeFeatureTable } from '../02-features/feature-file.ts';
import type { FinsegConfig } from '../config/config.ts';
import { openDuck } from '../core/duck.ts';
import { progressOf, type Logger } from '../core/log.ts';

/** What `finseg features` reads and writes. */
export interface FeaturesOptions {
  /** Ingest and feature settings (with --model, the bundle's feature settings and home currency). */
  config: FinsegConfig;
  dataDir: string;
  /** The table written: .parquet or .csv. */
  outFile: string;
  /** Root of quarantine output. */
  quarantineRoot: string;
  logger: Logger;
}

/** Ingests a data folder and writes its feature table; returns the file written. */
export async function featuresJob(opts: FeaturesOptions): Promise<string> {
  const { config, logger, outFile } = opts;
  const conn = await openDuck();
  try {
    const ingested = await ingest(conn, opts.dataDir, config.ingest, opts.quarantineRoot, logger, { command: 'features', now: () => new Date(), onProgress: progressOf(logger, 'ingest') });
    const written = await writeFeatureTable(conn, ingested.asOf, config.features, ingested.absentTables, outFile);
    logger.info(`features: ${written.rows} customers × ${written.columns.length} columns as of ${ingested.asOf} → ${outFile}`);
  } finally {
    conn.closeSync();
  }
  return outFile;
}

/** The feature table's SQL as of a date, written for one engine, ending in a semicolon. */
export function featuresSqlJob(config: FinsegConfig, asOf: string, dialect: SqlDialect): string {
  return `${featureTableSql(asOf, config.features, dialect)};\n`;
}
