import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { CONTRACT, type ColumnSpec } from '../01-ingest/contract.ts';
import { closestNames } from '../01-ingest/names.ts';
import { QuarantineTarget } from '../01-ingest/quarantine.ts';
import { queryRows, readColumnsCoded, sqlIdent, sqlString } from '../core/duck.ts';
import { InputError } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import { partitionSql, type Partition } from '../core/partition.ts';
import { sharedZeros } from '../core/matrix.ts';
import { FEATURE_NAMES, featureCatalog, needsAbsentTable } from './catalog.ts';
import { activityFrom, featureSql, resolveVendorModules, type FeatureSqlDialect, type FeatureTable } from './features.ts';
import type { FeatureParams } from './params.ts';

/**
 * A precomputed feature table (`train --features FILE`, `score --features FILE`): one row per
 * customer, computed elsewhere (Spark, Trino, or `finseg features`). Its columns are
 *
 * - `customer_id` (required), the key;
 * - feature columns: every other column that is not reserved below, numeric;
 * - `history` (optional): usage events + transactions up to the as-of date, which decides cold
 *   start; absent = cold start is off when scoring (and fitted on every customer in train);
 * - `first_seen_days`, `last_seen_days` (optional, both or neither): days from the customer's first
 *   / last usage event or transaction to the end of the as-of date, blank when none; the
 *   lifecycle lens reads them (FeatureTable.activity), absent = activity unknown;
 * - `as_of` (optional): the as-of date of the features, one value for the whole table (or `--as-of`);
 * - the customer attributes of the contract (optional): `signup_date`, `industry`, `employees`,
 *   `annual_revenue`, `founded_year`, `region`, `deployment`, `edition`, `buyer_role`, in the
 *   contract's form and units; the lenses and cold start read them, a missing one reads as unknown.
 *
 * This is exactly what `featureTableSql` (printed by `finseg features-sql`) returns.
 */

/** Columns of a feature table that are not features. */
export const KEY_COLUMN = 'customer_id';
export const HISTORY_COLUMN = 'history';
export const AS_OF_COLUMN = 'as_of';
export const ACTIVITY_COLUMNS = ['first_seen_days', 'last_seen_days'] as const;
/** The contract's customer attributes (all but the key), which a feature table may carry as extra columns. */
export const ATTRIBUTE_SPECS: readonly ColumnSpec[] = CONTRACT.customers.columns.filter((c) => c.name !== KEY_COLUMN);
export const RESERVED_COLUMNS: readonly string[] = [KEY_COLUMN, HISTORY_COLUMN, AS_OF_COLUMN, ...ACTIVITY_COLUMNS, ...ATTRIBUTE_SPECS.map((c) => c.name)];

/**
 * The feature table as one SQL query over contract-shaped tables `customers`, `usage_events`
 * and `transactions`: the catalog features (features.ts), the customer attributes, `history`,
 * `first_seen_days`, `last_seen_days` and `as_of`. What `finseg features-sql` prints for a distributed engine (`portable`) and
 * `finseg features` writes (`duckdb`).
 */
export function featureTableSql(asOf: string, params: FeatureParams, dialect: FeatureSqlDialect = 'duckdb'): string {
  const indent = (sql: string) => sql.trim().replace(/\n/g, '\n  ');
  return `WITH features AS (
  ${indent(featureSql(asOf, params, dialect))}
)
SELECT f.*, DATE ${sqlString(asOf)} AS as_of
FROM features f
ORDER BY f.customer_id`;
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
  details: { reason: FeatureQuarantineReason; column: string | null; count: number; examples: string[] }[];
  /** Columns read as features, in X order. */
  featureColumns: string[];
  /** Columns present but not used (not in the model when scoring). */
  ignoredColumns: string[];
  /** Contract attributes the file has. */
  attributeColumns: string[];
  hasHistory: boolean;
  partition: Partition | null;
  quarantineFile: string | null;
}

/** A feature table read and checked: the FeatureTable train and score use (history NaN when the file has none). */
export interface FeatureFileResult {
  features: FeatureTable;
  report: FeatureFileReport;
}

const NUMERIC_TYPE = /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT|FLOAT|DOUBLE|DECIMAL\(\d+,\s*\d+\))$/;
const TEXT_TYPE = /^VARCHAR$/;
/** A text column whose non-blank values mostly fail to parse is the wrong column, not thousands of bad rows (as in ingest). */
const WRONG_TYPE_SHARE = 0.5;
const WRONG_TYPE_MIN_ROWS = 5;

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

/** A check on one column: the condition that fails it, in the order quarantine reasons are checked. */
interface Check {
  when: string;
  reason: FeatureQuarantineReason;
  column: string | null;
  value: string;
  detail: string;
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
    await conn.run(`DROP TABLE IF EXISTS __ff_bad; DROP TABLE IF EXISTS __ff_part; DROP VIEW IF EXISTS __ff_parsed; DROP VIEW IF EXISTS __ff_scoped; DROP VIEW IF EXISTS __ff_src; DROP TABLE IF EXISTS __ff_rows; DROP TABLE IF EXISTS __ff_csv`);
  }
}

async function readChecked(conn: DuckDBConnection, path: string, format: 'parquet' | 'csv', files: string[], opts: FeatureFileOptions): Promise<FeatureFileResult> {
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
  const columns = [...types.keys()].filter((c) => c !== '__file' && c !== '__row');
  // Messages name the vendor's file when the table was written from one (a profile table).
  const shown = opts.source?.path ?? path;
  const where = (detail: string) => `${shown}: ${detail}`;
  if (!types.has(KEY_COLUMN)) {
    throw new InputError(where(`required column "${KEY_COLUMN}" is missing`), [
      `closest: ${closestNames(KEY_COLUMN, columns).join(', ')}`,
      'a feature table has one row per customer: customer_id, then numeric feature columns',
    ]);
  }

  // Which columns are features.
  const candidates = columns.filter((c) => !RESERVED_COLUMNS.includes(c));
  let featureColumns: string[];
  let ignoredColumns: string[] = [];
  if (opts.requiredFeatures) {
    const missing = opts.requiredFeatures.filter((f) => !types.has(f));
    if (missing.length) {
      throw new InputError(where(`feature column${missing.length > 1 ? 's' : ''} ${missing.map((m) => `"${m}"`).join(', ')} of the model ${missing.length > 1 ? 'are' : 'is'} missing`), [
        ...missing.slice(0, 5).map((m) => `closest to "${m}": ${closestNames(m, candidates).join(', ') || '(none)'}`),
        `the model was trained on ${opts.requiredFeatures.length} features (its manifest's features.names); the table must have every one`,
      ]);
    }
    featureColumns = [...opts.requiredFeatures];
    ignoredColumns = candidates.filter((c) => !opts.requiredFeatures!.includes(c));
    if (ignoredColumns.length) opts.logger.warn(`${path}: ${ignoredColumns.length} columns not in the model are ignored: ${ignoredColumns.slice(0, 8).join(', ')}${ignoredColumns.length > 8 ? ', …' : ''}`);
  } else {
    // Catalog features in catalog order (the order training on raw data uses), then the table's own in its order.
    featureColumns = [...FEATURE_NAMES.filter((f) => candidates.includes(f)), ...candidates.filter((c) => !FEATURE_NAMES.includes(c))];
    if (featureColumns.length === 0) throw new InputError(where('no feature columns'), [`columns: ${columns.join(', ')}`, `a feature table has customer_id and numeric feature columns; ${RESERVED_COLUMNS.slice(1).join(', ')} are not features`]);
  }
  for (const f of [...featureColumns, ...(types.has(HISTORY_COLUMN) ? [HISTORY_COLUMN] : [])]) {
    const t = types.get(f)!;
    if (!NUMERIC_TYPE.test(t) && !TEXT_TYPE.test(t)) {
      throw new InputError(where(`column "${f}" is ${t}; ${f === HISTORY_COLUMN ? 'history' : 'a feature'} must be numeric`), [
        t === 'BOOLEAN' ? 'write it as 0/1' : `drop it, or convert it to a number${RESERVED_COLUMNS.includes(f) ? '' : ` (reserved, non-feature columns: ${RESERVED_COLUMNS.join(', ')})`}`,
      ]);
    }
  }

  // Value expressions: text is trimmed and the missing-value markers are NULL; NaN is missing too.
  const missingList = opts.missingValues.map((v) => sqlString(v.trim().toUpperCase())).join(', ');
  const textOf = (c: string) => {
    const raw = `trim(CAST(${sqlIdent(c)} AS VARCHAR))`;
    // list_contains, not IN: DuckDB's optimizer rewrites an IN list in every column's expression,
    // which took it 11 s to plan for a 55-column table of 3 rows.
    return `CASE WHEN ${raw} = ''${missingList ? ` OR list_contains([${missingList}], upper(${raw}))` : ''} THEN NULL ELSE ${raw} END`;
  };
  const isText = (c: string) => TEXT_TYPE.test(types.get(c)!);
  const numberOf = (c: string) => (isText(c) ? `try_cast(${textOf(c)} AS DOUBLE)` : `CAST(${sqlIdent(c)} AS DOUBLE)`);
  // NaN stays NaN, which is what a FeatureTable calls missing.
  const cleanNumber = numberOf;
  const valueText = textOf;

  // A text column that is mostly not numbers is the wrong column: stop, naming it.
  const textNumeric = featureColumns.filter(isText).concat(types.has(HISTORY_COLUMN) && isText(HISTORY_COLUMN) ? [HISTORY_COLUMN] : []);
  if (textNumeric.length) {
    const counts = await queryRows(
      conn,
      `SELECT ${textNumeric.map((c, i) => `count(${textOf(c)}) AS n${i}, count(*) FILTER (WHERE ${textOf(c)} IS NOT NULL AND ${numberOf(c)} IS NULL) AS bad${i}, list(${textOf(c)}) FILTER (WHERE ${textOf(c)} IS NOT NULL AND ${numberOf(c)} IS NULL)[1:3] AS ex${i}`).join(', ')} FROM __ff_src`,
    );
    textNumeric.forEach((c, i) => {
      const n = Number(counts[0]![`n${i}`]);
      const bad = Number(counts[0]![`bad${i}`]);
      if (n >= WRONG_TYPE_MIN_ROWS && bad > WRONG_TYPE_SHARE * n) {
        const examples = (counts[0]![`ex${i}`] as string[]).map((x) => JSON.stringify(x)).join(', ');
        throw new InputError(where(`column "${c}" is not numeric: ${bad} of ${n} values are not numbers`), [`e.g. ${examples}`, 'feature columns must hold numbers (a blank or NA is a missing value)']);
      }
    });
  }

  // The as-of date: --as-of, or the file's single as_of value.
  let asOf = opts.asOf;
  if (types.has(AS_OF_COLUMN)) {
    const values = (await queryRows(conn, `SELECT DISTINCT CAST(try_cast(${sqlIdent(AS_OF_COLUMN)} AS DATE) AS VARCHAR) AS d FROM __ff_src LIMIT 3`)).map((r) => r.d as string | null);
    if (values.length !== 1 || values[0] === null) throw new InputError(where(`column "as_of" must hold one date for the whole table, found ${values.map((v) => v ?? 'a blank or unparseable value').join(', ')}`));
    if (asOf !== null && asOf !== values[0]) throw new InputError(where(`--as-of ${asOf} differs from the table's as_of ${values[0]}`), ['leave out --as-of, or use the date the features were computed as of']);
    asOf = values[0]!;
  }
  if (asOf === null) throw new InputError(where('no as-of date: the table has no "as_of" column and --as-of was not given'), ['the lenses (lifecycle: company age) need the date the features were computed as of; pass --as-of YYYY-MM-DD']);

  // Row checks, in the order ingest checks them.
  const checks: Check[] = [{ when: '__key IS NULL', reason: 'missing_key', column: KEY_COLUMN, value: 'NULL', detail: `'${KEY_COLUMN} is blank'` }];
  // Numeric columns are checked on their parsed text and number, computed once per column in a
  // view under the checks (__ff_parsed), so that the checks and their four CASEs name a column
  // instead of repeating the parsing expression of each of 50 columns.
  const parsed: string[] = [];
  const parsedRef = (c: string) => {
    if (!parsed.includes(c)) parsed.push(c);
    const i = parsed.indexOf(c);
    return { text: `__pt${i}`, number: `__pn${i}` };
  };
  const numericCheck = (c: string, min?: number, max?: number) => {
    const { text, number } = parsedRef(c);
    if (isText(c)) checks.push({ when: `${text} IS NOT NULL AND ${number} IS NULL`, reason: 'unparseable', column: c, value: text, detail: `'expected a number'` });
    const range = [`isinf(${number})`, ...(min !== undefined ? [`${number} < ${min}`] : []), ...(max !== undefined ? [`${number} > ${max}`] : [])];
    const expected = min !== undefined && max !== undefined ? `between ${min} and ${max}` : min !== undefined ? `≥ ${min}` : 'a finite number';
    checks.push({ when: range.join(' OR '), reason: 'out_of_range', column: c, value: text, detail: sqlString(`expected ${expected}`) });
  };
  for (const f of featureColumns) numericCheck(f);
  if (types.has(HISTORY_COLUMN)) numericCheck(HISTORY_COLUMN, 0);
  // Activity is read when both columns are there: the lifecycle lens needs the first and the last.
  const hasActivity = ACTIVITY_COLUMNS.every((c) => types.has(c));
  if (hasActivity) for (const c of ACTIVITY_COLUMNS) numericCheck(c, 0);
  else if (ACTIVITY_COLUMNS.some((c) => types.has(c))) opts.logger.warn(`${basename(path)}: ${ACTIVITY_COLUMNS.join(' and ')} come together; with one of them, activity is read as unknown`);
  const attributeColumns = ATTRIBUTE_SPECS.filter((s) => types.has(s.name));
  const attributeExpr = new Map<string, string>();
  for (const s of attributeColumns) {
    const c = s.name;
    if (s.type === 'int' || s.type === 'number') {
      if (!NUMERIC_TYPE.test(types.get(c)!) && !isText(c)) throw new InputError(where(`column "${c}" is ${types.get(c)}; the customer attribute ${c} must be a number`));
      numericCheck(c, s.min, s.max);
      attributeExpr.set(c, cleanNumber(c));
    } else if (s.type === 'date') {
      const date = `try_cast(${isText(c) ? textOf(c) : sqlIdent(c)} AS DATE)`;
      checks.push({ when: `${textOf(c)} IS NOT NULL AND ${date} IS NULL`, reason: 'unparseable', column: c, value: valueText(c), detail: `'expected a date (YYYY-MM-DD)'` });
      attributeExpr.set(c, `CAST(${date} AS VARCHAR)`);
    } else {
      const v = s.allowed ? `lower(${textOf(c)})` : textOf(c);
      if (s.allowed) checks.push({ when: `${v} NOT IN (${s.allowed.map(sqlString).join(', ')})`, reason: 'bad_enum', column: c, value: valueText(c), detail: sqlString(`expected one of ${s.allowed.join(', ')}`) });
      attributeExpr.set(c, v);
    }
  }
  const caseOf = (field: (c: Check) => string) => `CASE ${checks.map((c) => `WHEN ${c.when} THEN ${field(c)}`).join(' ')} END`;
  // Rows without an id cannot be hashed: they belong to partition 0, so the partitions' quarantines add up to the whole file's.
  const inPartition = opts.partition ? `WHERE (__key IS NULL AND ${opts.partition.index} = 0) OR ${partitionSql('__key', opts.partition.count)} = ${opts.partition.index}` : '';
  // One partition is a small share of the file: held as a table, so the hash runs once, not at every read.
  const scoped = opts.partition ? '__ff_part' : '__ff_scoped';
  await conn.run(`CREATE OR REPLACE TEMP ${opts.partition ? 'TABLE' : 'VIEW'} ${scoped} AS SELECT * FROM (SELECT *, ${textOf(KEY_COLUMN)} AS __key FROM __ff_src) ${inPartition}`);
  // Bad rows are few: the checks run once as one filter, reasons are worked out for the rows it keeps only.
  await conn.run(`CREATE OR REPLACE TEMP VIEW __ff_parsed AS SELECT *, ${parsed.map((c, i) => `${textOf(c)} AS __pt${i}, ${numberOf(c)} AS __pn${i}`).join(', ')} FROM ${scoped}`);
  await conn.run(`
CREATE OR REPLACE TEMP TABLE __ff_bad AS
SELECT __file, __row, __key, ${caseOf((c) => sqlString(c.reason))} AS reason, ${caseOf((c) => (c.column === null ? 'NULL' : sqlString(c.column)))} AS "column",
    ${caseOf((c) => c.value)} AS value, ${caseOf((c) => c.detail)} AS detail
FROM __ff_parsed WHERE ${checks.map((c) => `coalesce(${c.when}, false)`).join(' OR ')}`);
  // Duplicate ids among the otherwise good rows: the first row (file, row order) is kept.
  const bad = () => `NOT EXISTS (SELECT 1 FROM __ff_bad b WHERE b.__file = s.__file AND b.__row = s.__row)`;
  const [{ repeated }] = (await queryRows(conn, `SELECT count(*) AS repeated FROM (SELECT __key FROM ${scoped} WHERE __key IS NOT NULL GROUP BY __key HAVING count(*) > 1)`)) as [{ repeated: number }];
  if (repeated > 0) await conn.run(`
INSERT INTO __ff_bad
SELECT __file, __row, __key, 'duplicate_id', ${sqlString(KEY_COLUMN)}, __key, 'the id is already on an earlier row, which is kept'
FROM (
  SELECT __file, __row, __key, row_number() OVER (PARTITION BY __key ORDER BY __file, __row) AS n
  FROM ${scoped} s
  WHERE __key IN (SELECT __key FROM ${scoped} s WHERE ${bad()} GROUP BY __key HAVING count(*) > 1) AND ${bad()}
) WHERE n > 1`);

  // Reconcile, quarantine, stop over the limit.
  const [{ read }] = (await queryRows(conn, `SELECT count(*) AS read FROM ${scoped}`)) as [{ read: number }];
  const summary = await queryRows(conn, `SELECT reason, "column", count(*) AS n, list(value ORDER BY __file, __row)[1:3] AS examples FROM __ff_bad GROUP BY ALL`);
  const quarantined = summary.reduce((s, r) => s + Number(r.n), 0);
  const order: FeatureQuarantineReason[] = ['missing_key', 'unparseable', 'bad_enum', 'out_of_range', 'duplicate_id'];
  const details = summary
    .map((r) => ({ reason: r.reason as FeatureQuarantineReason, column: (r.column as string | null) ?? null, count: Number(r.n), examples: ((r.examples as (string | null)[]) ?? []).map((x) => x ?? '') }))
    .sort((a, b) => order.indexOf(a.reason) - order.indexOf(b.reason) || b.count - a.count);
  const byReason: Partial<Record<FeatureQuarantineReason, number>> = {};
  for (const d of details) byReason[d.reason] = (byReason[d.reason] ?? 0) + d.count;
  let quarantineFile: string | null = null;
  if (quarantined > 0 && opts.quarantineDir) {
    const settings = { kind: 'features', asOf: opts.asOf, requiredFeatures: opts.requiredFeatures, partition: opts.partition, missingValues: opts.missingValues };
    const inputs = opts.source ? [{ label: 'profile', path: opts.source.path }] : files.map((f) => ({ label: 'features', path: f }));
    const target = new QuarantineTarget(opts.quarantineDir, inputs, settings);
    const sourceFile = opts.source ? sqlString(opts.source.path) : '__file';
    await target.writeOnce('features.csv', async (tmp) => {
      await conn.run(`COPY (SELECT ${sourceFile} AS source_file, __row + ${opts.source?.lineOffset ?? 0} AS line, reason, "column", value, detail FROM __ff_bad ORDER BY __file, __row) TO ${sqlString(tmp)} (FORMAT csv, HEADER)`);
    });
    quarantineFile = join(await target.dir(), 'features.csv');
  }
  const describe = (d: (typeof details)[number]) => `${d.reason}${d.column ? ` in ${d.column}` : ''}: ${d.count}${d.examples.length ? `, e.g. ${d.examples.map((x) => JSON.stringify(x)).join(', ')}` : ''}`;
  if (quarantined > 0) opts.logger.warn(`${basename(shown)}: ${quarantined} of ${read} rows quarantined (${details.map(describe).join('; ')})${quarantineFile ? ` → ${quarantineFile}` : ''}`);
  if (read > 0 && quarantined / read > opts.quarantineLimit) {
    throw new InputError(where(`${quarantined} of ${read} rows quarantined (${((quarantined / read) * 100).toFixed(1)}%), over the limit of ${(opts.quarantineLimit * 100).toFixed(1)}%`), [
      ...details.slice(0, 8).map(describe),
      quarantineFile ? `rows and reasons: ${quarantineFile}` : 'the rows were not written (no quarantine folder)',
      'raise "ingest.quarantineLimit" in the config if this is expected',
    ]);
  }

  // The accepted rows, in customer_id order (the order computeFeatures returns).
  const textAttrs = attributeColumns.filter((s) => s.type === 'string' || s.type === 'date').map((s) => s.name);
  const select = [
    `__key AS ${KEY_COLUMN}`,
    ...featureColumns.map((f, j) => `${cleanNumber(f)} AS __f${j}`),
    types.has(HISTORY_COLUMN) ? `${cleanNumber(HISTORY_COLUMN)} AS __history` : `CAST(NULL AS DOUBLE) AS __history`,
    ...(hasActivity ? ACTIVITY_COLUMNS.map((c) => `${cleanNumber(c)} AS ${sqlIdent(c)}`) : []),
    ...attributeColumns.map((s) => `${attributeExpr.get(s.name)} AS ${sqlIdent(s.name)}`),
  ];
  const cols = await readColumnsCoded(conn, `SELECT ${select.join(', ')} FROM ${scoped} s${quarantined > 0 ? ` WHERE ${bad()}` : ''} ORDER BY __key`, [KEY_COLUMN, ...textAttrs], textAttrs);
  const n = cols.rowCount;

  const dropped: FeatureTable['dropped'] = [];
  let used = featureColumns.map((f, j) => ({ f, values: cols.numeric[`__f${j}`]! }));
  if (!opts.requiredFeatures) {
    // A table written from a vendor's profile table is the vendor's own columns: it never had catalog features to drop.
    if (!opts.source) for (const f of FEATURE_NAMES) if (!candidates.includes(f)) dropped.push({ feature: f, reason: `not in ${basename(path)}` });
    // As computeFeatures: a feature with no value at all cannot be imputed or scaled.
    for (const u of used) if (u.values.every((v) => Number.isNaN(v))) dropped.push({ feature: u.f, reason: 'no values' });
    used = used.filter((u) => !u.values.every((v) => Number.isNaN(v)));
    if (used.length === 0) throw new InputError(where('every feature column is empty'));
  }
  const p = used.length;
  // Shared memory: score splits the rows of this matrix between two threads (jobs/score-threads.ts).
  const data = sharedZeros(n, p).data;
  used.forEach((u, j) => {
    for (let i = 0; i < n; i++) data[i * p + j] = u.values[i]!;
  });
  const text = (c: string) => cols.text[c] ?? new Array<string | null>(n).fill(null);
  const number = (c: string) => cols.numeric[c] ?? new Float64Array(n).fill(Number.NaN);
  const features: FeatureTable = {
    customerIds: cols.text[KEY_COLUMN] as string[],
    featureNames: used.map((u) => u.f),
    X: { rows: n, cols: p, data },
    history: cols.numeric.__history!,
    activity: hasActivity ? activityFrom(cols.numeric.first_seen_days!, cols.numeric.last_seen_days!) : undefined,
    dropped,
    asOf,
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
  const missingAttributes = ATTRIBUTE_SPECS.filter((s) => !types.has(s.name)).map((s) => s.name);
  if (missingAttributes.length) opts.logger.warn(`${basename(shown)}: no ${missingAttributes.join(', ')} column${missingAttributes.length > 1 ? 's' : ''}: read as unknown by the lenses and cold start`);
  // A snapshot (profile table) has no history by nature: nothing to warn about.
  if (!types.has(HISTORY_COLUMN) && !opts.source) opts.logger.warn(`${basename(path)}: no "history" column (usage events + transactions): cold start cannot tell new customers apart`);
  return {
    features,
    report: {
      source: resolve(path),
      format,
      files: files.length,
      read,
      accepted: n,
      quarantined,
      byReason,
      details,
      featureColumns: features.featureNames,
      ignoredColumns,
      attributeColumns: attributeColumns.map((s) => s.name),
      hasHistory: types.has(HISTORY_COLUMN),
      partition: opts.partition,
      quarantineFile,
    },
  };
}
