import type { DuckDBConnection } from '@duckdb/node-api';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { CONTRACT, TABLE_NAMES, type TableName } from './contract.ts';
import { finishTable } from './accept.ts';
import { planTable, typedExpr, typedSqlType } from './checks.ts';
import { hintsFor } from './diagnose.ts';
import { validateIngestParams, type IngestParams } from './params.ts';
import { QuarantineTarget } from './quarantine.ts';
import { recordQuarantineRun, type QuarantineTableRecord } from './quarantine-meta.ts';
import { checkQuarantineLimit } from './quarantine-rows.ts';
import { deriveCustomers } from './derive.ts';
import { locateTable, SUPPORTED_EXTENSIONS, type TableSource } from './sources.ts';
import { stageTable } from './stage.ts';
import { copyFromPostgres, type PostgresSource } from './postgres.ts';
import { queryRows, sqlIdent } from '../core/duck.ts';
import { InputError } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';

export { defaultIngestParams, type IngestParams } from './params.ts';
export { closestNames, editDistance } from './names.ts';
export type { QuarantineReason } from './contract.ts';
export type { QuarantineDetail, Staged, TableIngestReport } from './staged.ts';
import type { Staged, TableIngestReport } from './staged.ts';

/**
 * Ingestion wired: the tables located (sources.ts), each staged (stage.ts; derive.ts for derived
 * customers), then typed, checked and split into accepted and quarantined rows (accept.ts), and
 * the run stopped when a table's quarantined share is over the limit (quarantine-rows.ts).
 */

/** What ingestion did: the as-of date used, a report per table, the tables that were absent, where quarantined rows went. */
export interface IngestResult {
  asOf: string;
  tables: Partial<Record<TableName, TableIngestReport>>;
  /** Tables whose file was absent (only optional tables, or usage/transactions in a degraded run). */
  absentTables: TableName[];
  /** The folder holding the quarantined rows (`<root>/<input fingerprint>/`); null when no row was quarantined or no root was given. */
  quarantineDir: string | null;
  /** True when every quarantine file was already there from an earlier run on the same input (nothing was written). */
  quarantineReused?: boolean;
}

/**
 * Whether ingest accepted any row of `table`: false for a table the export does not have, one
 * whose every row was quarantined, and a run that ingested nothing (a feature file). Asked of the
 * counts ingest reports, not of DuckDB's catalogue, where a Parquet table is a view over the file.
 */
export function hasAcceptedRows(ingested: Pick<IngestResult, 'tables'>, table: TableName): boolean {
  return (ingested.tables[table]?.accepted ?? 0) > 0;
}

const ORDER: readonly TableName[] = ['customers', 'usage_events', 'transactions', 'feedback', 'subscriptions', 'actions'];

/** What the quarantine folder's record says of the run: the command that ingests, and the clock. */
export interface IngestRun {
  command: string | null;
  now: () => Date;
  /** Called as each table is staged and as each is checked: `done` of `total` (two steps per table found). */
  onProgress?: (done: number, total: number) => void;
}

/**
 * Loads the data folder into DuckDB tables `customers`, `usage_events`, `transactions`,
 * `feedback`, `subscriptions` and `actions` with contract names and types; rows that break the contract go to
 * `<quarantineRoot>/<input fingerprint>/<table>.csv` with their source file, line, a reason and
 * the source row's own columns, once per input (quarantine.ts); a bad optional value is nulled
 * with its row kept and goes to `<table>.cells.csv` (cells.ts). Always
 * `read = accepted + quarantined` per table, nulled cells counted apart. Files are streamed, never held as JS rows.
 */
/**
 * The folder of CSV copies of the PostgreSQL tables: removed when the process exits, not after
 * ingest, because a table DuckDB reads in place is read again later in the run.
 */
async function postgresCopy(source: PostgresSource, logger: Logger): Promise<string> {
  const dir = await copyFromPostgres(source, logger);
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export async function ingest(
  conn: DuckDBConnection,
  dataDir: string,
  params: IngestParams,
  quarantineRoot: string | null,
  logger: Logger,
  run: IngestRun = { command: null, now: () => new Date() },
): Promise<IngestResult> {
  validateIngestParams({ ...params, quarantineLimit: Math.min(params.quarantineLimit, 1) });
  if (params.postgres) dataDir = await postgresCopy(params.postgres, logger);
  if (!existsSync(dataDir) || !statSync(dataDir).isDirectory()) throw new InputError(`data folder ${dataDir} does not exist or is not a folder`);
  // Timestamps with an offset are converted to UTC; the session zone must not depend on the machine.
  await conn.run(`SET TimeZone = 'UTC'`);
  const { sources, absentTables } = locateSources(dataDir, params, logger);
  const steps = { done: 0, total: 2 * Object.keys(sources).length + (params.deriveCustomers.from ? 1 : 0) };
  const step = (): void => run.onProgress?.(++steps.done, steps.total);
  run.onProgress?.(0, steps.total);
  const staged = await stageAll(conn, sources, params, step);
  const asOf = params.asOf ?? (await inferAsOf(conn, staged, params));
  const quarantine = quarantineRoot ? quarantineTargetOf(quarantineRoot, sources, params, asOf) : null;
  for (const table of ORDER) {
    const s = staged[table];
    if (s) {
      await finishTable(conn, s, asOf, quarantine, params);
      step();
    } else await createEmptyTable(conn, table);
  }
  const quarantineDir = quarantine && (quarantine.written > 0 || quarantine.reused > 0) ? await quarantine.dir() : null;
  // __quarantined_customers stays: the accepted view of an in-place table checks against it when read.
  const tables: Partial<Record<TableName, TableIngestReport>> = {};
  for (const table of ORDER) if (staged[table]) tables[table] = staged[table]!.report;
  if (quarantineDir) {
    logger.info(`quarantine: ${quarantineDir}${quarantine!.written === 0 ? ' (already written by an earlier run on the same input)' : ''}`);
    recordQuarantineRun(quarantineDir, await quarantine!.fingerprint(), { at: run.now().toISOString(), command: run.command, dataDir: resolve(dataDir) }, tableRecords(tables));
  }
  for (const report of Object.values(tables)) {
    const derived = report.derivedFrom ? ` (derived from ${report.sourceRows} ${report.derivedFrom} rows)` : '';
    logger.info(
      `ingest ${report.table}${derived}: read ${report.read}, accepted ${report.accepted}, quarantined ${report.quarantined}` +
        (report.quarantined ? ` (${formatReasons(report.byReason)})` : '') +
        (report.cellsNulled ? `; ${report.cellsNulled} optional values nulled, rows kept (${formatReasons(report.cellsByColumn ?? {})})` : ''),
    );
    const followed = Object.keys(report.followed ?? {}).length ? report.followed! : null;
    if (followed) logger.info(`ingest ${report.table}: ${report.byReason.customer_quarantined} rows followed their quarantined customer (customer rows quarantined for ${formatReasons(followed)})`);
  }
  for (const report of Object.values(tables)) {
    checkQuarantineLimit(report.table, report.read, report, params.quarantineLimit, [
      ...hintsFor(report),
      quarantineDir ? `rows and reasons: ${join(quarantineDir, `${report.table}.csv`)}` : 'run finseg validate --data DIR to write the quarantined rows',
    ]);
  }
  return { asOf, tables, absentTables, quarantineDir, quarantineReused: quarantineDir !== null && quarantine!.written === 0 };
}

/** The file or folder of each table in the data folder, and the tables that are absent; an InputError when a needed one is missing. */
function locateSources(dataDir: string, params: IngestParams, logger: Logger): { sources: Partial<Record<TableName, TableSource>>; absentTables: TableName[] } {
  const derive = params.deriveCustomers.from;
  const sources: Partial<Record<TableName, TableSource>> = {};
  const absentTables: TableName[] = [];
  for (const table of TABLE_NAMES) {
    if (table === 'customers' && derive) continue;
    const source = locateTable(dataDir, table, params.files[table]);
    if (source) sources[table] = source;
    else if (table === 'customers') {
      throw new InputError(`no customers table in ${dataDir}`, [
        `expected customers with one of ${SUPPORTED_EXTENSIONS.join(', ')}, or a customers/ folder`,
        'or name the file in the config: "ingest": {"files": {"customers": "my_export.csv"}}',
        'or derive customers from transaction lines: "ingest": {"deriveCustomers": {"from": "transactions"}}',
      ]);
    } else absentTables.push(table);
  }
  if (!sources.usage_events && !sources.transactions) {
    throw new InputError(`neither usage_events nor transactions found in ${dataDir}`, ['finseg needs at least one behavioural table', 'name the file in the config: "ingest": {"files": {"transactions": "my_export.csv"}}']);
  }
  if (derive && !sources[derive]) throw new InputError(`customers are to be derived from ${derive}, but there is no ${derive} table in ${dataDir}`);
  for (const t of absentTables) if (CONTRACT[t].required) logger.warn(`no ${t} table in ${dataDir}: features from it are dropped`);
  return { sources, absentTables };
}

/** Stages every table found (stage.ts), and derives customers when the config says so; the work folder of the normalised files is removed after. */
async function stageAll(conn: DuckDBConnection, sources: Partial<Record<TableName, TableSource>>, params: IngestParams, step: () => void): Promise<Partial<Record<TableName, Staged>>> {
  const derive = params.deriveCustomers.from;
  const work = mkdtempSync(join(tmpdir(), 'finseg-ingest-'));
  const staged: Partial<Record<TableName, Staged>> = {};
  try {
    for (const table of ORDER) {
      const source = sources[table];
      if (!source) continue;
      const extra = table === derive ? planTable('customers', params).filter((p) => p.spec.name !== 'customer_id') : [];
      staged[table] = await stageTable(conn, source, planTable(table, params), extra, params, work);
      step();
    }
    if (derive) {
      staged.customers = await deriveCustomers(conn, staged[derive]!, params);
      step();
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return staged;
}

/** The quarantine folder of this input: every table's files, and the settings that decide what is quarantined. */
function quarantineTargetOf(root: string, sources: Partial<Record<TableName, TableSource>>, params: IngestParams, asOf: string): QuarantineTarget {
  const files = ORDER.flatMap((t) => (sources[t]?.files ?? []).map((f) => ({ label: t, path: f.path })));
  // The limit decides whether a run stops, not which rows are quarantined: validate (no limit) and train share a folder.
  // A PostgreSQL source is read into files, whose content the fingerprint covers.
  const { quarantineLimit: _limit, dataDir: _dir, plans, postgres: _postgres, ...settings } = params;
  // Unset plans leave the fingerprint as it was before the setting existed, so earlier quarantine folders are reused.
  return new QuarantineTarget(root, files, { ...settings, ...(plans ? { plans } : {}), asOf });
}

/** Each table's counts as the quarantine record keeps them. */
function tableRecords(tables: Partial<Record<TableName, TableIngestReport>>): Record<string, QuarantineTableRecord> {
  const out: Record<string, QuarantineTableRecord> = {};
  for (const r of Object.values(tables)) out[r.table] = { read: r.read, accepted: r.accepted, quarantined: r.quarantined, ...(r.cellsNulled === undefined ? {} : { cells: r.cellsNulled }) };
  return out;
}

/** "reason n, reason n" in the reasons' documented order. */
export function formatReasons(byReason: Partial<Record<string, number>>): string {
  return Object.entries(byReason)
    .map(([r, n]) => `${r} ${n}`)
    .join(', ');
}

/** An accepted table with the contract's columns and no rows, for a table the data folder does not have. */
async function createEmptyTable(conn: DuckDBConnection, table: TableName): Promise<void> {
  const cols = CONTRACT[table].columns.map((c) => `${sqlIdent(c.name)} ${typedSqlType(c)}`).join(', ');
  await conn.run(`CREATE OR REPLACE TABLE ${sqlIdent(table)} (${cols})`);
}

/** The day of the last parseable usage event (else transaction, else signup): the default as-of date. */
async function inferAsOf(conn: DuckDBConnection, staged: Partial<Record<TableName, Staged>>, params: IngestParams): Promise<string> {
  const candidates: [TableName, string][] = [
    ['usage_events', 'ts'],
    ['transactions', 'ts'],
    ['customers', 'signup_date'],
  ];
  for (const [name, column] of candidates) {
    const s = staged[name];
    if (!s) continue;
    const plan = s.plans.find((p) => p.spec.name === column)!;
    const typed = typedExpr(plan, `r.${sqlIdent(column)}`, params.missingValues);
    const rows = await queryRows(conn, `SELECT CAST(CAST(max(${typed}) FILTER (WHERE isfinite(${typed})) AS DATE) AS VARCHAR) AS d FROM ${sqlIdent(`raw_${name}`)} r`);
    const d = rows[0]?.d;
    if (typeof d === 'string') return d;
  }
  throw new InputError('cannot infer the as-of date: no parseable timestamps', ['set "ingest": {"asOf": "YYYY-MM-DD"} in the config']);
}
