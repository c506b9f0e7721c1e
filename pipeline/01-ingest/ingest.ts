import type { DuckDBConnection } from '@duckdb/node-api';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { CONTRACT, type ColumnSpec, type TableName, type TableSpec } from './contract.ts';
import { locateTable, type TableSource } from './sources.ts';
import { queryRows, sqlIdent, sqlString } from '../core/duck.ts';
import { InputError } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';

/** Ingestion settings: the user's column names and file locations, the as-of date, the quarantine limit. */
export interface IngestParams {
  /** Per table: contract column → the column name in the user's export. */
  columns: Partial<Record<TableName, Record<string, string>>>;
  /** Per table: a file or folder path relative to the data folder, when not `<table>.<ext>`. */
  files: Partial<Record<TableName, string>>;
  /** Features are computed as of the end of this day; null = the day of the last usage event (or transaction). */
  asOf: string | null;
  /** A table whose quarantined share exceeds this stops the run (exit code 2). */
  quarantineLimit: number;
}

export const defaultIngestParams: IngestParams = { columns: {}, files: {}, asOf: null, quarantineLimit: 0.05 };

/** Why a row was quarantined. */
export type QuarantineReason =
  | 'missing_key'
  | 'unparseable'
  | 'bad_enum'
  | 'out_of_range'
  | 'duplicate_id'
  | 'unknown_customer'
  | 'after_as_of';

export interface TableIngestReport {
  table: TableName;
  source: string;
  format: string;
  read: number;
  accepted: number;
  quarantined: number;
  byReason: Partial<Record<QuarantineReason, number>>;
  /** Optional contract columns the file does not have (their features are computed from NULLs). */
  missingOptionalColumns: string[];
}

export interface IngestResult {
  asOf: string;
  tables: Partial<Record<TableName, TableIngestReport>>;
  /** Tables whose file was absent (only optional tables, or usage/transactions in a degraded run). */
  absentTables: TableName[];
  quarantineDir: string | null;
}

/** Tables that may be missing from an export; features that need them are dropped (and said so). */
const MAY_BE_ABSENT: readonly TableName[] = ['usage_events', 'transactions', 'feedback'];

/**
 * Loads the data folder into DuckDB tables `customers`, `usage_events`, `transactions` and
 * `feedback` with contract names and types; rows that break the contract go to
 * `<quarantineDir>/<table>.csv` with their source line and a reason. Always
 * `read = accepted + quarantined` per table.
 */
export async function ingest(
  conn: DuckDBConnection,
  dataDir: string,
  params: IngestParams,
  quarantineDir: string | null,
  logger: Logger,
): Promise<IngestResult> {
  if (!existsSync(dataDir) || !statSync(dataDir).isDirectory()) throw new InputError(`data folder ${dataDir} does not exist or is not a folder`);
  const sources: Partial<Record<TableName, TableSource>> = {};
  const absentTables: TableName[] = [];
  for (const spec of Object.values(CONTRACT)) {
    const source = locateTable(dataDir, spec.name, params.files[spec.name]);
    if (source) sources[spec.name] = source;
    else if (spec.name === 'customers') {
      throw new InputError(`no customers table in ${dataDir}`, [
        'expected customers.parquet, customers.csv, customers.csv.gz, customers.jsonl or a customers/ folder',
        'or name the file in the config: "ingest": {"files": {"customers": "my_export.csv"}}',
      ]);
    } else absentTables.push(spec.name);
  }
  if (!sources.usage_events && !sources.transactions) {
    throw new InputError(`neither usage_events nor transactions found in ${dataDir}`, ['finseg needs at least one behavioural table']);
  }
  for (const t of absentTables) if (MAY_BE_ABSENT.includes(t) && t !== 'feedback') logger.warn(`no ${t} table in ${dataDir}: features from it are dropped`);

  if (quarantineDir) mkdirSync(quarantineDir, { recursive: true });
  const tables: Partial<Record<TableName, TableIngestReport>> = {};

  // Stage every table first (raw text, contract names) so the as-of date can come from any of them.
  const order = ['customers', 'usage_events', 'transactions', 'feedback'] as const;
  for (const name of order) {
    const source = sources[name];
    if (source) tables[name] = await stageTable(conn, CONTRACT[name], source, params);
  }
  const asOf = params.asOf ?? (await inferAsOf(conn, tables));
  for (const name of order) {
    const report = tables[name];
    if (report) await finishTable(conn, CONTRACT[name], asOf, quarantineDir, report);
    else await createEmptyTable(conn, CONTRACT[name]);
  }
  for (const report of Object.values(tables)) {
    logger.info(
      `ingest ${report.table}: read ${report.read}, accepted ${report.accepted}, quarantined ${report.quarantined}` +
        (report.quarantined ? ` (${formatReasons(report.byReason)})` : ''),
    );
  }
  for (const report of Object.values(tables)) {
    const share = report.read === 0 ? 0 : report.quarantined / report.read;
    if (share > params.quarantineLimit) {
      throw new InputError(
        `${report.table}: ${report.quarantined} of ${report.read} rows quarantined (${(share * 100).toFixed(1)}%), over the limit of ${(params.quarantineLimit * 100).toFixed(1)}%`,
        [`reasons: ${formatReasons(report.byReason)}`, quarantineDir ? `see ${join(quarantineDir, `${report.table}.csv`)}` : '', 'raise "quarantineLimit" in the config if this is expected'].filter(Boolean),
      );
    }
  }
  return { asOf, tables, absentTables, quarantineDir };
}

export function formatReasons(byReason: Partial<Record<string, number>>): string {
  return Object.entries(byReason)
    .map(([r, n]) => `${r} ${n}`)
    .join(', ');
}

const SQL_TYPE: Record<ColumnSpec['type'], string> = {
  string: 'VARCHAR',
  date: 'DATE',
  timestamp: 'TIMESTAMP',
  int: 'BIGINT',
  number: 'DOUBLE',
};

/** Levenshtein distance, for "did you mean" suggestions on missing columns. */
export function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j]!;
      prev[j] = Math.min(up + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length]!;
}

/** The closest column names to `wanted`, best first. */
export function closestNames(wanted: string, available: readonly string[], count = 3): string[] {
  const norm = (s: string) => s.toLowerCase().replace(/[^a-z0-9\u4e00-\u9fff]/g, '');
  return [...available]
    // A name that contains the wanted one (or is contained in it) ranks before any edit distance.
    .map((name) => {
      const [w, n] = [norm(wanted), norm(name)];
      const contains = w.length > 0 && n.length > 0 && (n.includes(w) || w.includes(n));
      return { name, d: editDistance(w, n) - (contains ? 1000 : 0) };
    })
    .sort((x, y) => x.d - y.d || x.name.localeCompare(y.name))
    .slice(0, count)
    .map((x) => x.name);
}

/** Reads the file's column names, checks the required ones, and copies its rows into `raw_<table>` with a line number. */
async function stageTable(conn: DuckDBConnection, spec: TableSpec, source: TableSource, params: IngestParams): Promise<TableIngestReport> {
  let available: string[];
  try {
    const described = await queryRows(conn, `DESCRIBE SELECT * FROM ${source.reader}`);
    available = described.map((r) => String(r.column_name));
  } catch (e) {
    throw new InputError(`cannot read ${source.path} (table ${spec.name}, ${source.format})`, [firstLine(e)]);
  }
  const mapping = params.columns[spec.name] ?? {};
  const lowerAvailable = new Map(available.map((a) => [a.toLowerCase(), a]));
  const selected: string[] = [];
  const missingOptionalColumns: string[] = [];
  for (const column of spec.columns) {
    const wanted = mapping[column.name] ?? column.name;
    const actual = available.includes(wanted) ? wanted : lowerAvailable.get(wanted.toLowerCase());
    if (actual === undefined) {
      if (column.required) {
        throw new InputError(`${source.path}: required column "${wanted}" (${spec.name}.${column.name}, ${column.type}) is missing`, [
          `columns in the file: ${available.join(', ')}`,
          `closest: ${closestNames(wanted, available).join(', ')}`,
          `map it in the config: "ingest": {"columns": {"${spec.name}": {"${column.name}": "<your column>"}}}`,
        ]);
      }
      missingOptionalColumns.push(column.name);
      selected.push(`CAST(NULL AS VARCHAR) AS ${sqlIdent(column.name)}`);
    } else {
      selected.push(`${sqlIdent(actual)} AS ${sqlIdent(column.name)}`);
    }
  }
  // Line numbers: a CSV's first data row is line 2 (after the header); other formats count rows from 1.
  const lineOffset = source.format === 'csv' ? 1 : 0;
  try {
    await conn.run(
      `CREATE OR REPLACE TEMP TABLE ${sqlIdent(`raw_${spec.name}`)} AS
       SELECT row_number() OVER () + ${lineOffset} AS __line, ${selected.join(', ')} FROM ${source.reader}`,
    );
  } catch (e) {
    throw new InputError(`cannot read ${source.path} (table ${spec.name}, ${source.format})`, [firstLine(e)]);
  }
  const [{ n }] = (await queryRows(conn, `SELECT count(*) AS n FROM ${sqlIdent(`raw_${spec.name}`)}`)) as [{ n: number }];
  return { table: spec.name, source: source.path, format: source.format, read: n, accepted: 0, quarantined: 0, byReason: {}, missingOptionalColumns };
}

function firstLine(e: unknown): string {
  return String(e instanceof Error ? e.message : e).split('\n')[0]!;
}

/** The expression that normalises an enum value: trimmed, lower case, spaces and dashes as underscores. */
function enumValue(expr: string): string {
  return `regexp_replace(lower(trim(CAST(${expr} AS VARCHAR))), '[\\s-]+', '_', 'g')`;
}

/** The typed value of one raw column. */
function typedExpr(column: ColumnSpec): string {
  const raw = `r.${sqlIdent(column.name)}`;
  if (column.allowed) return `NULLIF(${enumValue(raw)}, '')`;
  if (column.type === 'string') return `NULLIF(trim(CAST(${raw} AS VARCHAR)), '')`;
  return `TRY_CAST(${raw} AS ${SQL_TYPE[column.type]})`;
}

/** SQL for the first reason a row breaks the contract, or NULL (table-local checks only). */
function reasonExpr(spec: TableSpec, asOf: string): string {
  const raw = (c: ColumnSpec) => `r.${sqlIdent(c.name)}`;
  const isBlank = (c: ColumnSpec) => `(${raw(c)} IS NULL OR trim(CAST(${raw(c)} AS VARCHAR)) = '')`;
  const whens: string[] = [];
  for (const c of spec.columns) if (c.mandatoryValue) whens.push(`WHEN ${isBlank(c)} THEN 'missing_key'`);
  for (const c of spec.columns) {
    if (c.type !== 'string' && !c.allowed) whens.push(`WHEN NOT ${isBlank(c)} AND ${typedExpr(c)} IS NULL THEN 'unparseable'`);
  }
  for (const c of spec.columns) {
    if (c.allowed) {
      const list = c.allowed.map(sqlString).join(', ');
      whens.push(`WHEN NOT ${isBlank(c)} AND ${typedExpr(c)} NOT IN (${list}) THEN 'bad_enum'`);
    }
  }
  for (const c of spec.columns) {
    if (c.min !== undefined) whens.push(`WHEN ${typedExpr(c)} < ${c.min} THEN 'out_of_range'`);
    if (c.max !== undefined) whens.push(`WHEN ${typedExpr(c)} > ${c.max} THEN 'out_of_range'`);
  }
  const end = `(DATE ${sqlString(asOf)} + INTERVAL 1 DAY)`;
  for (const c of spec.columns) {
    if (c.type === 'timestamp' && spec.name !== 'customers') whens.push(`WHEN ${typedExpr(c)} >= ${end} THEN 'after_as_of'`);
    if (c.type === 'date') whens.push(`WHEN ${typedExpr(c)} >= ${end} THEN 'after_as_of'`);
  }
  return `CASE ${whens.join(' ')} ELSE NULL END`;
}

/** Types and checks `raw_<table>`, writes the accepted rows to `<table>` and the rest to quarantine. */
async function finishTable(conn: DuckDBConnection, spec: TableSpec, asOf: string, quarantineDir: string | null, report: TableIngestReport): Promise<void> {
  const rawTable = sqlIdent(`raw_${spec.name}`);
  const typedCols = spec.columns.map((c) => `${typedExpr(c)} AS ${sqlIdent(c.name)}`).join(', ');
  let reason = reasonExpr(spec, asOf);
  if (spec.name !== 'customers') {
    reason = `COALESCE(${reason}, CASE WHEN trim(CAST(r.customer_id AS VARCHAR)) NOT IN (SELECT customer_id FROM customers) THEN 'unknown_customer' END)`;
  }
  await conn.run(`CREATE OR REPLACE TEMP TABLE checked AS SELECT r.__line, ${reason} AS __reason, ${typedCols} FROM ${rawTable} r`);
  if (spec.name === 'customers') {
    // The first row of a customer id wins; later ones are duplicates.
    await conn.run(`UPDATE checked SET __reason = 'duplicate_id' WHERE __reason IS NULL AND __line IN (
      SELECT __line FROM (SELECT __line, row_number() OVER (PARTITION BY customer_id ORDER BY __line) AS k FROM checked WHERE __reason IS NULL) WHERE k > 1)`);
  }
  const names = spec.columns.map((c) => sqlIdent(c.name)).join(', ');
  await conn.run(`CREATE OR REPLACE TABLE ${sqlIdent(spec.name)} AS SELECT ${names} FROM checked WHERE __reason IS NULL ORDER BY __line`);
  const reasons = await queryRows(conn, `SELECT __reason AS reason, count(*) AS n FROM checked WHERE __reason IS NOT NULL GROUP BY 1 ORDER BY 1`);
  report.byReason = Object.fromEntries(reasons.map((r) => [String(r.reason), Number(r.n)]));
  report.quarantined = reasons.reduce((s, r) => s + Number(r.n), 0);
  report.accepted = report.read - report.quarantined;
  if (quarantineDir && report.quarantined > 0) {
    const rawCols = spec.columns.map((c) => `r.${sqlIdent(c.name)}`).join(', ');
    const file = join(quarantineDir, `${spec.name}.csv`);
    await conn.run(
      `COPY (SELECT ${sqlString(report.source)} AS source_file, c.__line AS line, c.__reason AS reason, ${rawCols}
             FROM checked c JOIN ${rawTable} r USING (__line) WHERE c.__reason IS NOT NULL ORDER BY c.__line)
       TO ${sqlString(file)} (HEADER, DELIMITER ',')`,
    );
  }
  await conn.run(`DROP TABLE checked`);
}

async function createEmptyTable(conn: DuckDBConnection, spec: TableSpec): Promise<void> {
  const cols = spec.columns.map((c) => `${sqlIdent(c.name)} ${c.allowed ? 'VARCHAR' : SQL_TYPE[c.type]}`).join(', ');
  await conn.run(`CREATE OR REPLACE TABLE ${sqlIdent(spec.name)} (${cols})`);
}

/** The day of the last parseable usage event (else transaction, else signup): the default as-of date. */
async function inferAsOf(conn: DuckDBConnection, staged: Partial<Record<TableName, TableIngestReport>>): Promise<string> {
  const candidates: [TableName, string][] = [
    ['usage_events', 'CAST(max(TRY_CAST(ts AS TIMESTAMP)) AS DATE)'],
    ['transactions', 'CAST(max(TRY_CAST(ts AS TIMESTAMP)) AS DATE)'],
    ['customers', 'max(TRY_CAST(signup_date AS DATE))'],
  ];
  for (const [name, expr] of candidates) {
    if (!staged[name]) continue;
    const rows = await queryRows(conn, `SELECT (${expr})::VARCHAR AS d FROM ${sqlIdent(`raw_${name}`)}`);
    const d = rows[0]?.d;
    if (typeof d === 'string') return d;
  }
  throw new InputError('cannot infer the as-of date: no parseable timestamps', ['set "asOf": "YYYY-MM-DD" in the config']);
}
