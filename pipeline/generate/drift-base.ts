/**
 * Reading the base snapshot of `finseg generate --drift`: its manifest, its tables as DuckDB
 * views, and each customer's observed behaviour.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { DEVICES, MODULES } from '../01-ingest/contract.ts';
import { queryRows, sqlString } from '../core/duck.ts';
import { InputError } from '../core/errors.ts';
import type { ArchetypeName } from './archetypes.ts';
import type { BaseCustomer } from './drift-moves.ts';
import { ARCHETYPE_INDEX } from './drift-params.ts';
import { csvColumns, GENERATE_MANIFEST_KIND, GENERATE_MANIFEST_VERSION, type Format, type GeneratedTable, type GenerateParams } from './generate.ts';

/** The base folder's generate.json params and table format; rejects a folder finseg generate did not write. */
export function readBaseManifest(baseDir: string): { params: GenerateParams; format: Format } {
  const path = join(baseDir, 'generate.json');
  if (!existsSync(path)) throw new InputError(`--from ${baseDir}: no generate.json there`, ['--drift needs a folder written by finseg generate']);
  const json = JSON.parse(readFileSync(path, 'utf8')) as { kind?: string; formatVersion?: number; params?: GenerateParams; summary?: { format?: Format } };
  if (json.kind !== GENERATE_MANIFEST_KIND || json.formatVersion !== GENERATE_MANIFEST_VERSION || !json.params) {
    throw new InputError(`${path} is not a finseg generate manifest (format ${GENERATE_MANIFEST_VERSION})`);
  }
  if (!existsSync(join(baseDir, 'truth.csv'))) throw new InputError(`--from ${baseDir}: no truth.csv there`, ['the movements are drawn per archetype, which truth.csv records']);
  return { params: json.params, format: json.summary?.format ?? 'parquet' };
}

/** Creates the views base_customers, base_events and base_transactions over the base folder's tables. */
export async function createBaseViews(conn: DuckDBConnection, baseDir: string, format: Format): Promise<void> {
  for (const [view, table] of [['base_customers', 'customers'], ['base_events', 'usage_events'], ['base_transactions', 'transactions']] as const) {
    await conn.run(`CREATE VIEW ${view} AS SELECT * FROM ${tableSource(baseDir, table, format)}`);
  }
}

function tableSource(dir: string, table: 'customers' | 'usage_events' | 'transactions', format: Format): string {
  const path = join(dir, `${table}.${format}`);
  if (!existsSync(path)) throw new InputError(`--from ${dir}: ${table}.${format} is missing`);
  return format === 'parquet' ? `read_parquet(${sqlString(path)})` : csvSource(path, table);
}

/** A DuckDB read_csv of a contract table written by the generator, with its declared column types. */
export function csvSource(path: string, table: GeneratedTable): string {
  return `read_csv(${sqlString(path)}, header = true, nullstr = '', dateformat = '%Y-%m-%d', timestampformat = '%Y-%m-%d %H:%M:%S', columns = ${csvColumns(table)})`;
}

/**
 * Every base customer with its archetype (truth.csv), firmographics and observed use: the last
 * `elapsedDays` before `asOf` count as recent. Ordered by customer id.
 */
export async function readBaseCustomers(conn: DuckDBConnection, baseDir: string, asOf: string, elapsedDays: number): Promise<BaseCustomer[]> {
  const recentFrom = `(TIMESTAMP ${sqlString(asOf)} - INTERVAL ${elapsedDays} DAY)`;
  const moduleCols = MODULES.map((m) => `count(*) FILTER (WHERE module = ${sqlString(m)}) AS "m_${m}"`);
  const deviceCols = DEVICES.map((d) => `count(*) FILTER (WHERE device = ${sqlString(d)}) AS "d_${d}"`);
  const rows = await queryRows(
    conn,
    `WITH ev AS (SELECT customer_id, count(*) FILTER (WHERE ts >= ${recentFrom}) AS recent_events, count(DISTINCT user_id) AS users,
                        ${[...moduleCols, ...deviceCols].join(', ')}
                 FROM base_events GROUP BY customer_id),
          tx AS (SELECT customer_id, count(*) FILTER (WHERE ts >= ${recentFrom}) AS recent_transactions FROM base_transactions GROUP BY customer_id),
          truth AS (SELECT * FROM read_csv(${sqlString(join(baseDir, 'truth.csv'))}, header = true, all_varchar = true))
     SELECT c.customer_id, t.archetype, c.employees, c.annual_revenue, c.edition,
            coalesce(ev.recent_events, 0) AS recent_events, coalesce(ev.users, 0) AS users,
            coalesce(tx.recent_transactions, 0) AS recent_transactions,
            ${[...MODULES.map((m) => `m_${m}`), ...DEVICES.map((d) => `d_${d}`)].map((c) => `coalesce(ev."${c}", 0) AS "${c}"`).join(', ')}
     FROM base_customers c JOIN truth t USING (customer_id) LEFT JOIN ev USING (customer_id) LEFT JOIN tx USING (customer_id)
     ORDER BY c.customer_id`,
  );
  return rows.map((r) => {
    const archetype = String(r.archetype) as ArchetypeName;
    if (!ARCHETYPE_INDEX.has(archetype)) throw new InputError(`truth.csv: unknown archetype ${JSON.stringify(r.archetype)} for ${String(r.customer_id)}`);
    return {
      id: String(r.customer_id),
      archetype,
      recentEvents: Number(r.recent_events),
      recentTransactions: Number(r.recent_transactions),
      users: Math.max(1, Number(r.users)),
      moduleCounts: MODULES.map((m) => Number(r[`m_${m}`])),
      deviceCounts: DEVICES.map((d) => Number(r[`d_${d}`])),
      employees: r.employees === null ? null : Number(r.employees),
      annualRevenue: r.annual_revenue === null ? null : Number(r.annual_revenue),
      edition: r.edition === null ? null : String(r.edition),
    };
  });
}
