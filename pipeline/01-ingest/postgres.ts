/**
 * Reading an export straight from the vendor's PostgreSQL (`ingest.postgres`): each contract
 * table named in `tables` is streamed with node-postgres and `COPY (…) TO STDOUT (FORMAT csv,
 * HEADER)` into `<table>.csv` of a folder of its own, and that folder is then ingested like any
 * export: the same column mapping, checks, quarantine and reconciliation, with the file and line
 * of a quarantined row those of the streamed copy. Streaming keeps memory flat however large the
 * table; the copy is what DuckDB scans (it cannot read PostgreSQL itself here: its postgres
 * extension cannot be downloaded).
 *
 * A table is read in PostgreSQL's order; a `{ "query": "SELECT … ORDER BY …" }` gives a
 * reproducible order (which matters for "the first row of a duplicate id wins").
 */
import { createWriteStream, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { InputError } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import type { TableName } from './contract.ts';

/** Where a contract table comes from in PostgreSQL: a (schema-qualified) table or view name, or a query. */
export type PostgresTable = string | { query: string };

/** The `ingest.postgres` setting. */
export interface PostgresSource {
  /** A libpq connection URL, `postgres://user:password@host:port/database` (PG* environment variables fill what it leaves out). */
  url: string;
  /** Contract table → PostgreSQL table, view or query; a table left out is absent from the export. */
  tables: Partial<Record<TableName, PostgresTable>>;
}

/** The URL with its password masked, for messages and the manifest. */
export function maskedUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '<an unreadable postgres URL>';
  }
}

/** A PostgreSQL identifier path (`schema.table`) quoted part by part, so mixed case and odd names work. */
function quotedName(name: string): string {
  return name
    .split('.')
    .map((part) => (/^".*"$/.test(part) ? part : `"${part.replaceAll('"', '""')}"`))
    .join('.');
}

function copySql(source: PostgresTable): string {
  const select = typeof source === 'string' ? `SELECT * FROM ${quotedName(source)}` : source.query.trim().replace(/;\s*$/, '');
  return `COPY (${select}) TO STDOUT (FORMAT csv, HEADER true)`;
}

/** The problem a PostgreSQL error stands for, in the user's terms; `where` names the setting. */
function explain(e: unknown, where: string, url: string): InputError {
  const err = e as { code?: string; message?: string };
  const message = err.message ?? String(e);
  // SQLSTATE classes: 28 = invalid authorization, 3D = invalid catalog (database), 42P01 = undefined table, 08 = connection.
  if (err.code === '42P01' || err.code === '42703' || err.code === '42601' || err.code === '3F000') return new InputError(`${where}: ${message} (in ${maskedUrl(url)})`);
  if (err.code?.startsWith('28') || err.code === '3D000' || err.code?.startsWith('08') || /ECONNREFUSED|ENOTFOUND|EHOSTUNREACH|ETIMEDOUT/.test(err.code ?? message))
    return new InputError(`ingest.postgres.url: cannot connect to ${maskedUrl(url)}: ${message}`);
  return new InputError(`${where}: PostgreSQL said: ${message}`);
}

/**
 * Streams every named table to `<dir>/<table>.csv` (dir: a new temporary folder unless given)
 * and returns the folder, ready for ingest. Connection and table problems are InputErrors (exit
 * 2) naming the setting and, for a table, the relation.
 */
export async function copyFromPostgres(source: PostgresSource, logger: Logger, dir = mkdtempSync(join(tmpdir(), 'finseg-postgres-'))): Promise<string> {
  mkdirSync(dir, { recursive: true });
  const client = new pg.Client({ connectionString: source.url, connectionTimeoutMillis: 15_000 });
  try {
    await client.connect();
  } catch (e) {
    throw explain(e, 'ingest.postgres.url', source.url);
  }
  try {
    for (const [table, from] of Object.entries(source.tables) as [TableName, PostgresTable][]) {
      const file = join(dir, `${table}.csv`);
      try {
        await pipeline(client.query(copyTo(copySql(from))), createWriteStream(file));
      } catch (e) {
        throw explain(e, `ingest.postgres.tables.${table}`, source.url);
      }
      logger.info(`postgres: ${table} ← ${typeof from === 'string' ? from : 'query'} (${maskedUrl(source.url)})`);
    }
  } finally {
    await client.end().catch(() => {});
  }
  return dir;
}
