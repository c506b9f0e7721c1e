import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { QuarantineTarget, copyRejectedRows } from '../01-ingest/quarantine.ts';
import { checkQuarantineLimit, describeRejected, reconcile, summariseRejected, type RejectedDetail, type RejectedSummary } from '../01-ingest/quarantine-rows.ts';
import { queryRows, readColumnsCoded, sqlIdent, sqlString } from '../core/duck.ts';
import { InputError } from '../core/errors.ts';
import type { Partition } from '../core/partition.ts';
import { sharedZeros } from '../core/matrix.ts';
import { FEATURE_NAMES, featureCatalog, needsAbsentTable } from './catalog.ts';
import { ACTIVITY_COLUMNS, AS_OF_COLUMN, ATTRIBUTE_SPECS, HISTORY_COLUMN, KEY_COLUMN, chooseFeatureColumns, columnSql, type FeatureColumnChoice, type TableColumns } from './feature-columns.ts';
import { cellNulled, checkTextNumeric, featureRowChecks, notRejected, rejectFeatureRows, type FeatureRowChecks } from './feature-checks.ts';
import { activityFrom, featureSql, resolveVendorModules, type FeatureTable } from './features.ts';
import { dialectSpelling, type SqlDialect } from './dialect.ts';
import type { Logger } from '../core/log.ts';
import type { FeatureParams } from './params.ts';

/**
 * A precomputed feature table (`train --features FILE`, `score --features FILE`): one row per
 * customer, computed elsewhere (Spark, Trino, or `finseg features`); its columns are described
 * in feature-columns.ts. Read with DuckDB, its rows checked and quarantined by ingest's engine
 * (feature-checks.ts, 01-ingest/quarantine-rows.ts).
 */

/**
 * The feature table as one SQL query over contract-shaped tables `customers`, `usage_events`
 * and `transactions`: the catalog features (features.ts), the customer attributes, `history`,
 * `first_seen_days`, `last_seen_days` and `as_of`. What `finseg features-sql --dialect` prints and
 * `finseg features` writes (`duckdb`).
 */
export function featureTableSql(asOf: string, params: FeatureParams, dialect: SqlDialect = 'duckdb'): string {
  const indent = (sql: string) => sql.trim().replace(/\n/g, '\n  ');
  const d = dialectSpelling(dialect);
  return `WITH features AS (
  ${indent(featureSql(asOf, params, dialect))}
)
SELECT f.*, DATE ${d.text(asOf)} AS as_of
FROM features f
ORDER BY ${d.textOrder('f.customer_id')}`;
}

/**
 * Writes the feature table of the ingested tables to a Parquet or CSV file (by extension).
 * Features from an absent table are left out, as training on the raw data leaves them out.
 * Vendor modules are `params.vendorModules` (a bundle's), else chosen from the data as train does.
 */
export async function writeFeatureTable(conn: DuckDBConnection, asOf: string, params: FeatureParams, absentTables: readonly string[], outFile: string): Promise<{ columns: string[]; rows: number }> {
  const lower = outFile.toLowerCase();
  const format = lower.endsWith('.parquet') ? 'parquet' : lower.endsWith('.csv') ? 'csv' : null;
  if (!format) throw new InputError(`--out ${outFile}: use a .parquet or .csv file name`);
  const resolved = { ...params, vendorModules: absentTables.includes('usage_events') ? [] : await resolveVendorModules(conn, asOf, params) };
  const left = featureCatalog(resolved.vendorModules).filter((f) => needsAbsentTable(f, absentTables));
  const sql = featureTableSql(asOf, resolved);
  const select = left.length ? `SELECT * EXCLUDE (${left.map(sqlIdent).join(', ')}) FROM (${sql})` : sql;
  mkdirSync(dirname(outFile) || '.', { recursive: true });
  await conn.run(`COPY (${select}) TO ${sqlString(outFile)} (FORMAT ${format}${format === 'csv' ? ', HEADER' : ''})`);
  const described = await queryRows(conn, `DESCRIBE SELECT * FROM (${select})`);
  const [{ n }] = (await queryRows(conn, `SELECT count(*) AS n FROM customers`)) as [{ n: number }];
  return { columns: described.map((r) => String(r.column_name)), rows: n };
}

/** How to read a feature table. */
export interface FeatureFileOptions {
  /** The as-of date (`--as-of`); null = the file's `as_of` column. */
  asOf: string | null;
  /** When scoring: exactly these feature columns (a bundle's), in this order; a missing one is an error. Null in train: every non-reserved column. */
  requiredFeatures: readonly string[] | null;
  /** Only the customers of this partition (quarantine counts: the partition's rows, and rows without an id in partition 0). */
  partition: Partition | null;
  /** Text values that mean missing (ingest.missingValues), compared case-insensitively after trimming. */
  missingValues: readonly string[];
  /** Share of rows that may be quarantined before the run stops (ingest.quarantineLimit). */
  quarantineLimit: number;
  /** Root of the quarantine output: rows go to `<root>/<input fingerprint>/features.csv`, once per input (01-ingest/quarantine.ts); null = counted only. */
  quarantineDir: string | null;
  logger: Logger;
  /**
   * The vendor's file the table was written from (a profile table, profile-table.ts): quarantined
   * rows name it with its line (the row number plus `lineOffset`, 1 for a CSV header), and its
   * content, not the temporary table's, keys the quarantine folder.
   */
  source?: { path: string; lineOffset: number };
}

/** Why a feature-table row is quarantined: the contract's reasons that apply to one row per customer. */
export type FeatureQuarantineReason = 'missing_key' | 'unparseable' | 'bad_enum' | 'out_of_range' | 'duplicate_id';

/** What reading a feature table did: `read = accepted + quarantined`. */
export interface FeatureFileReport {
  source: string;
  format: 'parquet' | 'csv';
  files: number;
  read: number;
  accepted: number;
  quarantined: number;
  byReason: Partial<Record<FeatureQuarantineReason, number>>;
  details: RejectedDetail<FeatureQuarantineReason>[];
  /** Optional attribute values that failed their check and were read as missing, the row kept. */
  cellsNulled: number;
  /** Nulled cells per attribute column. */
  cellsByColumn: Record<string, number>;
  /** Columns read as features, in X order. */
  featureColumns: string[];
  /** Columns present but not used (not in the model when scoring). */
  ignoredColumns: string[];
  /** Contract attributes the file has. */
  attributeColumns: string[];
  hasHistory: boolean;
  partition: Partition | null;
  /** `features.csv` in the quarantine folder, or `features.cells.csv` when only cells were nulled; null when nothing was written. */
  quarantineFile: string | null;
}

/** A feature table read and checked: the FeatureTable train and score use (history NaN when the file has none). */
export interface FeatureFileResult {
  features: FeatureTable;
  report: FeatureFileReport;
}

/** The files of a feature table: one file, or every .parquet / .csv file under a folder (Spark writes a folder of part files). */
function locate(path: string): { format: 'parquet' | 'csv'; files: string[] } {
  if (!existsSync(path)) throw new InputError(`feature table ${path} not found`, ['--features takes a .parquet or .csv file, or a folder of them (a Spark or Trino output folder)']);
  const formatOf = (f: string) => (/\.parquet$/i.test(f) ? 'parquet' : /\.(csv|tsv)(\.gz)?$/i.test(f) ? 'csv' : null);
  if (!statSync(path).isDirectory()) {
    const format = formatOf(path);
    if (!format) throw new InputError(`feature table ${path}: unsupported file type`, ['use .parquet (recommended), .csv, .tsv or .csv.gz']);
    return { format, files: [path] };
  }
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      if (e.name.startsWith('.') || e.name.startsWith('_')) continue; // _SUCCESS, .crc files
      if (e.isDirectory()) walk(join(dir, e.name));
      else if (formatOf(e.name)) files.push(join(dir, e.name));
    }
  };
  walk(path);
  const formats = new Set(files.map(formatOf));
  if (files.length === 0) throw new InputError(`feature table folder ${path} has no .parquet or .csv files`);
  if (formats.size > 1) throw new InputError(`feature table folder ${path} mixes Parquet and CSV files`, ['keep one format per folder']);
  return { format: formatOf(files[0]!)!, files };
}

/**
 * Reads a feature table (CSV or Parquet, a file or a folder) with DuckDB, checks it and returns
 * the FeatureTable in customer_id order. File-level problems (no file, no `customer_id`, a
 * model feature missing, a non-numeric feature column, no as-of date) are InputErrors naming
 * the file and column; bad rows (blank id, unparseable or infinite number, attribute out of
 * the contract's range or enum, duplicate id: first row wins) are quarantined with a reason.
 */
export async function readFeatureFile(conn: DuckDBConnection, path: string, opts: FeatureFileOptions): Promise<FeatureFileResult> {
  const { format, files } = locate(path);
  try {
    return await readChecked(conn, path, format, files, opts);
  } finally {
    // Also after an error: the connection may read another table next (tests, a long-lived process).
    await conn.run(`DROP TABLE IF EXISTS __ff_bad; DROP TABLE IF EXISTS __ff_cells; DROP TABLE IF EXISTS __ff_part; DROP VIEW IF EXISTS __ff_parsed; DROP VIEW IF EXISTS __ff_scoped; DROP VIEW IF EXISTS __ff_src; DROP TABLE IF EXISTS __ff_rows; DROP TABLE IF EXISTS __ff_csv`);
  }
}

/** The quarantine report of a feature table: counts by reason, written once per input under `opts.quarantineDir`. */
interface FeatureQuarantine extends RejectedSummary<FeatureQuarantineReason> {
  read: number;
  quarantineFile: string | null;
  cells: RejectedSummary<FeatureQuarantineReason>;
}

async function readChecked(conn: DuckDBConnection, path: string, format: 'parquet' | 'csv', files: string[], opts: FeatureFileOptions): Promise<FeatureFileResult> {
  // Messages name the vendor's file when the table was written from one (a profile table).
  const shown = opts.source?.path ?? path;
  const table = await openFeatureTable(conn, path, format, files, shown);
  const choice = chooseFeatureColumns(table, opts.requiredFeatures, path, opts.logger);
  const sql = columnSql(table.types, opts.missingValues);
  await checkTextNumeric(conn, table, choice.featureColumns, sql);
  const asOf = await readAsOf(conn, table, opts.asOf);
  const rows = featureRowChecks(table, choice.featureColumns, sql, basename(path), opts.logger);
  const scoped = await rejectFeatureRows(conn, rows, sql, opts.partition);
  const quarantine = await quarantineFeatureRows(conn, scoped, files, opts, shown);
  const features = await readAccepted(conn, scoped, choice, rows, sql, quarantine, { ...opts, path, asOf });
  reconcile(shown, quarantine.read, features.customerIds.length, quarantine.quarantined);
  const missingAttributes = ATTRIBUTE_SPECS.filter((s) => !table.types.has(s.name)).map((s) => s.name);
  if (missingAttributes.length) opts.logger.warn(`${basename(shown)}: no ${missingAttributes.join(', ')} column${missingAttributes.length > 1 ? 's' : ''}: read as unknown by the lenses and cold start`);
  // A snapshot (profile table) has no history by nature: nothing to warn about.
  if (!table.types.has(HISTORY_COLUMN) && !opts.source) opts.logger.warn(`${basename(path)}: no "history" column (usage events + transactions): cold start cannot tell new customers apart`);
  const cellsByColumn: Record<string, number> = {};
  for (const d of quarantine.cells.details) cellsByColumn[d.column!] = (cellsByColumn[d.column!] ?? 0) + d.count;
  return {
    features,
    report: {
      source: resolve(path),
      format,
      files: files.length,
      read: quarantine.read,
      accepted: features.customerIds.length,
      quarantined: quarantine.quarantined,
      byReason: quarantine.byReason,
      details: quarantine.details,
      cellsNulled: quarantine.cells.quarantined,
      cellsByColumn,
      featureColumns: features.featureNames,
      ignoredColumns: choice.ignoredColumns,
      attributeColumns: rows.attributeColumns.map((s) => s.name),
      hasHistory: table.types.has(HISTORY_COLUMN),
      partition: opts.partition,
      quarantineFile: quarantine.quarantineFile,
    },
  };
}

/** Creates view `__ff_src` over the files (`__file` the file's name, `__row` its row number) and returns its columns. */
async function openFeatureTable(conn: DuckDBConnection, path: string, format: 'parquet' | 'csv', files: string[], shown: string): Promise<TableColumns> {
  const fileList = `[${files.map(sqlString).join(', ')}]`;
  let described: Record<string, unknown>[];
  try {
    // Row numbers: Parquet's own (1-based); CSV's data row + 1 for the header, i.e. the physical line unless a quoted field spans lines.
    if (format === 'parquet') {
      await conn.run(`CREATE OR REPLACE TEMP VIEW __ff_src AS SELECT * EXCLUDE (file_row_number), file_row_number + 1 AS __row FROM read_parquet(${fileList}, filename = '__file', file_row_number = true, union_by_name = true)`);
    } else {
      // A table keeps the files' row order, so rowid counts rows; numbered once, not at every read of the view.
      await conn.run(`CREATE OR REPLACE TEMP TABLE __ff_csv AS SELECT * FROM read_csv(${fileList}, header = true, all_varchar = true, filename = '__file', union_by_name = true)`);
      await conn.run(`CREATE OR REPLACE TEMP TABLE __ff_rows AS SELECT *, rowid - min(rowid) OVER (PARTITION BY __file) + 2 AS __row FROM __ff_csv; DROP TABLE __ff_csv`);
      await conn.run(`CREATE OR REPLACE TEMP VIEW __ff_src AS SELECT * FROM __ff_rows`);
    }
    described = await queryRows(conn, `DESCRIBE SELECT * FROM __ff_src`);
  } catch (e) {
    throw new InputError(`cannot read feature table ${path}`, [String((e as Error).message).split('\n')[0]!, `read as ${format === 'parquet' ? 'Parquet' : 'CSV with a header row'}, by the extension`]);
  }
  const types = new Map(described.map((r) => [String(r.column_name), String(r.column_type)]));
  return { types, names: [...types.keys()].filter((c) => c !== '__file' && c !== '__row'), where: (detail) => `${shown}: ${detail}` };
}

/** The as-of date: `asOf` (--as-of), or the table's single `as_of` value; an InputError when they differ or there is none. */
async function readAsOf(conn: DuckDBConnection, table: TableColumns, given: string | null): Promise<string> {
  const { where } = table;
  let asOf = given;
  if (table.types.has(AS_OF_COLUMN)) {
    const values = (await queryRows(conn, `SELECT DISTINCT CAST(try_cast(${sqlIdent(AS_OF_COLUMN)} AS DATE) AS VARCHAR) AS d FROM __ff_src LIMIT 3`)).map((r) => r.d as string | null);
    if (values.length !== 1 || values[0] === null) throw new InputError(where(`column "as_of" must hold one date for the whole table, found ${values.map((v) => v ?? 'a blank or unparseable value').join(', ')}`));
    if (asOf !== null && asOf !== values[0]) throw new InputError(where(`--as-of ${asOf} differs from the table's as_of ${values[0]}`), ['leave out --as-of, or use the date the features were computed as of']);
    asOf = values[0]!;
  }
  if (asOf === null) throw new InputError(where('no as-of date: the table has no "as_of" column and --as-of was not given'), ['the lenses (lifecycle: company age) need the date the features were computed as of; pass --as-of YYYY-MM-DD']);
  return asOf;
}

/**
 * Counts the rows of `__ff_bad` by reason, writes them once per input to
 * `<quarantineDir>/<input fingerprint>/features.csv`, warns, and stops over the limit.
 */
async function quarantineFeatureRows(conn: DuckDBConnection, scoped: string, files: readonly string[], opts: FeatureFileOptions, shown: string): Promise<FeatureQuarantine> {
  const [{ read }] = (await queryRows(conn, `SELECT count(*) AS read FROM ${scoped}`)) as [{ read: number }];
  const summary = await summariseRejected<FeatureQuarantineReason>(conn, '__ff_bad', { order: 'reasons', blankExamples: true, exampleChars: null });
  const cells = await summariseRejected<FeatureQuarantineReason>(conn, '__ff_cells', { order: 'reasons', blankExamples: true, exampleChars: null });
  let quarantineFile: string | null = null;
  if ((summary.quarantined > 0 || cells.quarantined > 0) && opts.quarantineDir) {
    const settings = { kind: 'features', asOf: opts.asOf, requiredFeatures: opts.requiredFeatures, partition: opts.partition, missingValues: opts.missingValues };
    const inputs = opts.source ? [{ label: 'profile', path: opts.source.path }] : files.map((f) => ({ label: 'features', path: f }));
    const target = new QuarantineTarget(opts.quarantineDir, inputs, settings);
    const sourceFile = opts.source ? sqlString(opts.source.path) : 'q.__file';
    const lineOffset = opts.source?.lineOffset ?? 0;
    if (summary.quarantined > 0) await target.writeOnce('features.csv', (tmp) => copyRejectedRows(conn, tmp, { rows: '__ff_bad', sourceFile, lineOffset }));
    if (cells.quarantined > 0) await target.writeOnce('features.cells.csv', (tmp) => copyRejectedRows(conn, tmp, { rows: '__ff_cells', sourceFile, lineOffset }));
    quarantineFile = join(await target.dir(), summary.quarantined > 0 ? 'features.csv' : 'features.cells.csv');
  }
  if (cells.quarantined > 0) opts.logger.warn(`${basename(shown)}: ${cells.quarantined} optional attribute values nulled, rows kept (${cells.details.map(describeRejected).join('; ')})${quarantineFile ? ` → ${join(dirname(quarantineFile), 'features.cells.csv')}` : ''}`);
  if (summary.quarantined > 0) opts.logger.warn(`${basename(shown)}: ${summary.quarantined} of ${read} rows quarantined (${summary.details.map(describeRejected).join('; ')})${quarantineFile ? ` → ${quarantineFile}` : ''}`);
  checkQuarantineLimit(shown, Number(read), summary, opts.quarantineLimit, [quarantineFile ? `rows and reasons: ${quarantineFile}` : 'the rows were not written (no quarantine folder)']);
  return { ...summary, read: Number(read), quarantineFile, cells };
}

/** The accepted rows as a FeatureTable, in customer_id order (the order computeFeatures returns); in train, features with no value are dropped. */
async function readAccepted(
  conn: DuckDBConnection,
  scoped: string,
  choice: FeatureColumnChoice,
  rows: FeatureRowChecks,
  sql: { number(c: string): string },
  quarantine: FeatureQuarantine,
  opts: FeatureFileOptions & { path: string; asOf: string },
): Promise<FeatureTable> {
  const { featureColumns } = choice;
  const textAttrs = rows.attributeColumns.filter((s) => s.type === 'string' || s.type === 'date').map((s) => s.name);
  const select = [
    `__key AS ${KEY_COLUMN}`,
    ...featureColumns.map((f, j) => `${sql.number(f)} AS __f${j}`),
    rows.hasHistory ? `${sql.number(HISTORY_COLUMN)} AS __history` : `CAST(NULL AS DOUBLE) AS __history`,
    ...(rows.hasActivity ? ACTIVITY_COLUMNS.map((c) => `${sql.number(c)} AS ${sqlIdent(c)}`) : []),
    ...rows.attributeColumns.map((s) => {
      const expr = rows.attributeExpr.get(s.name)!;
      const nulled = quarantine.cells.details.some((d) => d.column === s.name);
      return `${nulled ? `CASE WHEN ${cellNulled('s', s.name)} THEN NULL ELSE ${expr} END` : expr} AS ${sqlIdent(s.name)}`;
    }),
  ];
  const cols = await readColumnsCoded(conn, `SELECT ${select.join(', ')} FROM ${scoped} s${quarantine.quarantined > 0 ? ` WHERE ${notRejected('s')}` : ''} ORDER BY __key`, [KEY_COLUMN, ...textAttrs], textAttrs);
  const n = cols.rowCount;
  const dropped: FeatureTable['dropped'] = [];
  let used = featureColumns.map((f, j) => ({ f, values: cols.numeric[`__f${j}`]! }));
  if (!opts.requiredFeatures) {
    // A table written from a vendor's profile table is the vendor's own columns: it never had catalog features to drop.
    if (!opts.source) for (const f of FEATURE_NAMES) if (!choice.candidates.includes(f)) dropped.push({ feature: f, reason: `not in ${basename(opts.path)}` });
    // As computeFeatures: a feature with no value at all cannot be imputed or scaled.
    for (const u of used) if (u.values.every((v) => Number.isNaN(v))) dropped.push({ feature: u.f, reason: 'no values' });
    used = used.filter((u) => !u.values.every((v) => Number.isNaN(v)));
    if (used.length === 0) throw new InputError(`${opts.source?.path ?? opts.path}: every feature column is empty`);
  }
  const p = used.length;
  // Shared memory: score splits the rows of this matrix between two threads (model/score-threads.ts).
  const data = sharedZeros(n, p).data;
  used.forEach((u, j) => {
    for (let i = 0; i < n; i++) data[i * p + j] = u.values[i]!;
  });
  const text = (c: string) => cols.text[c] ?? new Array<string | null>(n).fill(null);
  const number = (c: string) => cols.numeric[c] ?? new Float64Array(n).fill(Number.NaN);
  return {
    customerIds: cols.text[KEY_COLUMN] as string[],
    featureNames: used.map((u) => u.f),
    X: { rows: n, cols: p, data },
    history: cols.numeric.__history!,
    activity: rows.hasActivity ? activityFrom(cols.numeric.first_seen_days!, cols.numeric.last_seen_days!) : undefined,
    dropped,
    asOf: opts.asOf,
    attributes: {
      industry: text('industry'),
      region: text('region'),
      edition: text('edition'),
      deployment: text('deployment'),
      buyerRole: text('buyer_role'),
      signupDate: text('signup_date'),
      employees: number('employees'),
      annualRevenue: number('annual_revenue'),
      foundedYear: number('founded_year'),
    },
  };
}
