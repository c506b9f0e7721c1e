import type { DuckDBConnection } from '@duckdb/node-api';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { TableName } from './contract.ts';
import { blankExpr, nativeTypeFits, sourceColumns, type ColumnPlan } from './checks.ts';
import { EXTRA_PREFIX } from './derive.ts';
import { closestNames } from './names.ts';
import { numberSql } from './numbers.ts';
import { MalformedSink, normaliseArrow, normaliseCsv, normaliseJsonl, type CsvShape, type NormalisedFile } from './normalise.ts';
import type { ColumnSource, IngestParams } from './params.ts';
import { collectJsonRejects, collectRejects } from './rejects.ts';
import { csvCopyReader, scanGroups, SharedCopies } from './scan-groups.ts';
import type { SourceFile, TableSource } from './sources.ts';
import type { Staged } from './staged.ts';
import { MAX_RECORD_BYTES } from './text.ts';
import { queryRows, sqlIdent, sqlString } from '../core/duck.ts';
import { InputError } from '../core/errors.ts';

/**
 * The first half of ingesting a table: every file of it read into `raw_<table>` (`__file`,
 * `__line`, the contract columns as text or native types), rows that are not rows recorded in
 * `malformed_<table>` (rejects.ts), and the file paths by index in `files_<table>`. Text, JSON
 * Lines and Arrow files are normalised: CSV or Arrow parts with the same header into one shared
 * copy read by one scan (scan-groups.ts), JSON Lines file by file. Parquet alone is read in place.
 */

/** Column names in a file, and the native SQL type of each (VARCHAR for text formats). */
interface FileColumns {
  names: string[];
  types: Map<string, string>;
  partitions: Readonly<Record<string, string>>;
}

/** A file ready to stage: its columns and the DuckDB reader of it (of its normalised copy for JSON Lines; null for a CSV copy, which its scan group reads). */
interface PreparedFile {
  file: SourceFile;
  index: number;
  cols: FileColumns;
  reader: string | null;
  normalised: NormalisedFile | null;
}

/** A column of `raw_<table>`: a contract column, or a customer attribute staged under EXTRA_PREFIX. */
interface StagedColumn {
  plan: ColumnPlan;
  name: string;
}

/** The select items of one file's columns, and what was found while making them. */
interface Projection {
  /** `files`: how many files share these columns (a scan group), each counted where a column is present. */
  items: (p: PreparedFile, cast: boolean, files?: number) => string[];
  /** In how many files each column is present. */
  presentIn: Map<string, number>;
  /** The source column name each column was first found under (for messages). */
  sourceNames: Map<string, string>;
}

/** Resolves a source column name against a file's columns: exact, else ignoring case. */
function findColumn(wanted: string, cols: FileColumns): string | undefined {
  if (cols.types.has(wanted)) return wanted;
  const lower = wanted.toLowerCase();
  return cols.names.find((n) => n.toLowerCase() === lower);
}

const sourceLabel = (source: ColumnSource): string =>
  typeof source === 'string' ? source : 'column' in source ? source.column : 'multiply' in source ? source.multiply.join(' × ') : `constant ${JSON.stringify(source.constant)}`;

/** The rows of a table or view. */
export async function countRows(conn: DuckDBConnection, table: string): Promise<number> {
  const [row] = await queryRows(conn, `SELECT count(*) AS n FROM ${table}`);
  return Number(row!.n);
}

/** The first line of an error's message: DuckDB's further lines repeat the query. */
export function firstLine(e: unknown): string {
  return String(e instanceof Error ? e.message : e).split('\n')[0]!;
}

/** Reads every file of a table into `raw_<table>` (`__file`, `__line`, contract columns as text or native types). */
export async function stageTable(conn: DuckDBConnection, source: TableSource, plans: ColumnPlan[], extra: ColumnPlan[], params: IngestParams, work: string): Promise<Staged> {
  const table = source.table;
  const sidecarPath = join(work, `${table}.malformed.csv`);
  const sidecar = new MalformedSink(sidecarPath);
  const files = source.files.map((f) => f.path);
  const all: StagedColumn[] = [...plans.map((p) => ({ plan: p, name: p.spec.name })), ...extra.map((p) => ({ plan: p, name: `${EXTRA_PREFIX}${p.spec.name}` }))];
  const projection = projector(all, table, params);
  let staged: { read: number; malformed: number; inPlace: boolean };
  let csvShapes: (CsvShape | null)[] = [];
  try {
    // Normalise text and Arrow files first, so column types are known for every file before the raw table is made.
    const prepared: PreparedFile[] = [];
    const copies = new SharedCopies(work, `${table}-copy`);
    try {
      for (const [index, file] of source.files.entries()) {
        prepared.push(await prepareFile(conn, file, index, params, work, { sidecar, copies }, table));
      }
    } finally {
      copies.close();
    }
    chooseRawTypes(all, prepared);
    csvShapes = prepared.map((p) => (p.file.format === 'csv' && p.normalised ? { dialect: p.normalised.dialect, mode: p.normalised.mode } : null));
    await conn.run(`CREATE OR REPLACE TEMP TABLE ${sqlIdent(`malformed_${table}`)} (__file INTEGER, __line BIGINT, __detail VARCHAR, __text VARCHAR)`);
    const inPlace = prepared.length > 0 && prepared.every((p) => p.normalised === null);
    if (inPlace) staged = { read: await stageInPlace(conn, source, prepared, projection.items), malformed: 0, inPlace };
    else staged = { ...(await stageCopies(conn, table, prepared, all, projection.items, params)), inPlace };
  } finally {
    sidecar.close();
  }
  if (sidecar.count > 0) {
    await conn.run(
      `INSERT INTO ${sqlIdent(`malformed_${table}`)} SELECT * FROM read_csv(${sqlString(sidecarPath)}, auto_detect = false, header = true, delim = ',', quote = '"', escape = '"',
        columns = {'__file': 'INTEGER', '__line': 'BIGINT', '__detail': 'VARCHAR', '__text': 'VARCHAR'}, max_line_size = ${MAX_RECORD_BYTES * 2})`,
    );
  }
  await conn.run(`CREATE OR REPLACE TEMP TABLE ${sqlIdent(`files_${table}`)} AS SELECT * FROM (VALUES ${files.map((f, i) => `(${i}, ${sqlString(f)})`).join(', ')}) v(__file, path)`);
  const missingOptionalColumns = plans.filter((p) => !p.spec.required && projection.presentIn.get(p.spec.name) === 0 && p.fill === null).map((p) => p.spec.name);
  return {
    table,
    plans,
    extra,
    files,
    sources: source.files,
    csvShapes,
    sourceNames: projection.sourceNames,
    malformed: staged.malformed,
    inPlace: staged.inPlace,
    report: { table, source: source.path, format: source.format, files: files.length, read: staged.read, accepted: 0, quarantined: 0, byReason: {}, details: [], missingOptionalColumns },
  };
}

/**
 * The select items of a file's columns in `raw_<table>` (cast to the raw type when `cast`),
 * noting in which files each column is present and the source name it was found under.
 */
function projector(all: readonly StagedColumn[], table: TableName, params: IngestParams): Projection {
  const presentIn = new Map<string, number>(all.map((c) => [c.name, 0]));
  const sourceNames = new Map<string, string>();
  const items = (p: PreparedFile, cast: boolean, files = 1): string[] =>
    all.map(({ plan, name }) => {
      const expr = columnExpr(plan, p.cols, p.file.path, table, name.startsWith(EXTRA_PREFIX), params);
      if (expr.present) presentIn.set(name, presentIn.get(name)! + files);
      if (expr.label && !sourceNames.has(name)) sourceNames.set(name, expr.label);
      return `${cast ? `CAST(${expr.sql} AS ${plan.rawType})` : expr.sql} AS ${sqlIdent(name)}`;
    });
  return { items, presentIn, sourceNames };
}

/** Sets each column's raw type: a native Parquet type is kept only when every file has the same fitting type for the column. */
function chooseRawTypes(all: readonly StagedColumn[], prepared: readonly PreparedFile[]): void {
  for (const { plan } of all) {
    const types = new Set<string>();
    for (const p of prepared) {
      const src = plan.source;
      if (src === null || typeof src === 'object' && !('column' in src)) types.add('VARCHAR');
      else {
        const col = findColumn(sourceColumns(src)[0]!, p.cols);
        types.add(col && !(col in p.cols.partitions) ? p.cols.types.get(col)! : 'VARCHAR');
      }
    }
    const only = [...types][0]!;
    plan.rawType = types.size === 1 && only !== 'VARCHAR' && nativeTypeFits(plan.spec, only) ? only : 'VARCHAR';
  }
}

/**
 * Parquet is typed and cannot hold a malformed record, so it is read where it lies: `raw_<table>`
 * is a view instead of a staged copy. At 50M events a copy costs gigabytes and most of ingest's
 * time. Returns the rows read.
 */
async function stageInPlace(conn: DuckDBConnection, source: TableSource, prepared: readonly PreparedFile[], items: Projection['items']): Promise<number> {
  const raw = sqlIdent(`raw_${source.table}`);
  const selects = prepared.map((p) => `SELECT CAST(${p.index} AS INTEGER) AS __file, CAST(file_row_number + 1 AS BIGINT) AS __line, ${items(p, true).join(', ')} FROM ${p.reader!}`);
  await conn.run(`CREATE OR REPLACE TEMP VIEW ${raw} AS ${selects.join('\nUNION ALL ')}`);
  try {
    return await countRows(conn, raw);
  } catch (e) {
    throw new InputError(`cannot read ${source.path} (table ${source.table}, parquet)`, [firstLine(e)]);
  }
}

/**
 * Stages text, JSON Lines and Arrow files (and Parquet mixed with them) into the table
 * `raw_<table>`, one DuckDB scan per shared CSV copy (scan-groups.ts) or per other file, and
 * the records DuckDB rejected into `malformed_<table>`. Returns the records read and how many of
 * them are malformed (besides those in the normaliser's sidecar).
 */
async function stageCopies(
  conn: DuckDBConnection,
  table: TableName,
  prepared: readonly PreparedFile[],
  all: readonly StagedColumn[],
  items: Projection['items'],
  params: IngestParams,
): Promise<{ read: number; malformed: number }> {
  const raw = sqlIdent(`raw_${table}`);
  const malformedTable = sqlIdent(`malformed_${table}`);
  const columnDefs = all.map(({ plan, name }) => `${sqlIdent(name)} ${plan.rawType}`);
  await conn.run(`CREATE OR REPLACE TEMP TABLE ${raw} (__file INTEGER, __line BIGINT, ${columnDefs.join(', ')})`);
  let read = 0;
  let malformed = 0;
  for (const [g, group] of scanGroups(prepared).entries()) {
    const p = group.files[0]!;
    const rejects = { table: `rejects_${table}_${g}`, scan: `rejects_scan_${table}_${g}` };
    const reader = group.csv ? csvCopyReader(group.files, rejects.table, rejects.scan) : p.reader!;
    // A normalised copy carries its file index and line; Parquet has only its row number.
    const provenance =
      group.csv ? 'CAST(__file AS INTEGER) AS __file, CAST(__line AS BIGINT) AS __line'
      : `${p.index} AS __file, ${p.normalised ? 'CAST(__line AS BIGINT)' : '(file_row_number + 1)'} AS __line`;
    const where = p.normalised?.kind === 'jsonl' ? 'WHERE __line IS NOT NULL' : '';
    // Outside the try: a missing required column is its own InputError, not an unreadable file.
    // Every file of the group has the same columns, so one projection serves; each file still counts where a column is present.
    const exprs = items(p, false, group.files.length);
    let rows: number;
    try {
      rows = (await conn.run(`INSERT INTO ${raw} BY NAME SELECT ${provenance}, ${exprs.join(', ')} FROM ${reader} ${where}`)).rowsChanged;
    } catch (e) {
      const which = group.files.length > 1 ? `one of ${group.files.length} files with the same header, from ${p.file.path} to ${group.files.at(-1)!.file.path}` : p.file.path;
      throw new InputError(`cannot read ${which} (table ${table}, ${p.file.format})`, [firstLine(e)]);
    }
    let rejected = 0;
    if (group.csv) rejected = await collectRejects(conn, rejects, group.files[0]!.normalised!.dialect.delimiter, malformedTable);
    if (p.normalised?.kind === 'jsonl') rejected = await collectJsonRejects(conn, table, p, raw, malformedTable, params);
    if (group.files.some((f) => f.normalised)) {
      const records = group.files.reduce((n, f) => n + f.normalised!.records, 0);
      const sidecar = group.files.reduce((n, f) => n + f.normalised!.malformed, 0);
      // Every record the normaliser saw is a staged row or a malformed one; anything else would be a silent loss.
      if (rows + rejected + sidecar !== records) await unaccounted(conn, table, group.files);
      rmSync(p.normalised!.path, { force: true });
      read += records;
      malformed += rejected + sidecar;
    } else read += rows;
  }
  return { read, malformed };
}

/** Names the first file of a group whose records are neither staged nor malformed, as an InputError (a finseg bug). */
async function unaccounted(conn: DuckDBConnection, table: TableName, files: readonly PreparedFile[]): Promise<never> {
  const counted = new Map<number, number>();
  for (const t of [`raw_${table}`, `malformed_${table}`]) {
    for (const r of await queryRows(conn, `SELECT __file, count(*) AS n FROM ${sqlIdent(t)} GROUP BY __file`)) counted.set(Number(r.__file), (counted.get(Number(r.__file)) ?? 0) + Number(r.n));
  }
  const f = files.find((x) => (counted.get(x.index) ?? 0) + x.normalised!.malformed !== x.normalised!.records) ?? files[0]!;
  const n = f.normalised!;
  throw new InputError(`${f.file.path}: could not account for every row (${n.records} records, ${(counted.get(f.index) ?? 0) + n.malformed} staged or malformed)`, [
    'this is a finseg bug or a file DuckDB and finseg split differently; run with --debug and report it',
  ]);
}

/** Normalises a file when it is text or Arrow, and returns its columns and the DuckDB reader of the result. */
async function prepareFile(
  conn: DuckDBConnection,
  file: SourceFile,
  index: number,
  params: IngestParams,
  work: string,
  { sidecar, copies }: { sidecar: MalformedSink; copies: SharedCopies },
  table: TableName,
): Promise<PreparedFile> {
  const partitionTypes = Object.keys(file.partitions).map((k) => [k, 'VARCHAR'] as const);
  if (file.format === 'parquet') {
    const reader = `read_parquet(${sqlString(file.path)}, file_row_number = true)`;
    let described: Record<string, unknown>[];
    try {
      described = await queryRows(conn, `DESCRIBE SELECT * FROM read_parquet(${sqlString(file.path)})`);
    } catch (e) {
      throw new InputError(`cannot read ${file.path} as Parquet (table ${table})`, [firstLine(e), 'the file may be truncated, still being written, or not Parquet']);
    }
    const names = described.map((r) => String(r.column_name));
    const types = new Map<string, string>([...described.map((r) => [String(r.column_name), String(r.column_type)] as const), ...partitionTypes]);
    return { file, index, cols: { names: [...names, ...Object.keys(file.partitions)], types, partitions: file.partitions }, reader, normalised: null };
  }
  const out = join(work, `${table}-${index}.${file.format === 'jsonl' ? 'jsonl' : 'csv'}`);
  const normalised =
    file.format === 'csv' ? await normaliseCsv(file, index, params.csv, copies.sinkFor(file), sidecar)
    : file.format === 'jsonl' ? await normaliseJsonl(file, index, params.csv, out, sidecar)
    : await normaliseArrow(file, index, copies.sinkFor(file));
  let names: string[];
  if (normalised.kind === 'csv') names = normalised.columns!;
  else {
    names = [];
    if (normalised.records > normalised.malformed) {
      try {
        const described = await queryRows(conn, `DESCRIBE SELECT * FROM read_json(${sqlString(out)}, format = 'newline_delimited', ignore_errors = true, maximum_object_size = ${MAX_RECORD_BYTES})`);
        names = described.map((r) => String(r.column_name)).filter((n) => n !== '__file' && n !== '__line');
      } catch (e) {
        throw new InputError(`cannot read ${file.path} as JSON Lines (table ${table})`, [firstLine(e)]);
      }
    }
  }
  const types = new Map<string, string>([...names.map((n) => [n, 'VARCHAR'] as const), ...partitionTypes]);
  // A normalised CSV (or Arrow) copy is read by its group's scan (scan-groups.ts).
  let reader: string | null = null;
  if (normalised.kind === 'jsonl') {
    const columns = [`'__file': 'BIGINT'`, `'__line': 'BIGINT'`, ...names.map((n) => `${sqlString(n)}: 'VARCHAR'`)].join(', ');
    reader = `read_json(${sqlString(out)}, format = 'newline_delimited', ignore_errors = true, maximum_object_size = ${MAX_RECORD_BYTES}, columns = {${columns}})`;
  }
  return { file, index, cols: { names: [...names, ...Object.keys(file.partitions)], types, partitions: file.partitions }, reader, normalised };
}

/** The staging expression of one contract column for one file, or an InputError when a required column is missing. */
function columnExpr(plan: ColumnPlan, cols: FileColumns, path: string, table: TableName, isExtra: boolean, params: IngestParams): { sql: string; present: boolean; label: string | null } {
  const src = plan.source;
  const missing = { sql: `CAST(NULL AS ${plan.rawType})`, present: false, label: null };
  if (src === null) return missing;
  if (typeof src === 'object' && 'constant' in src) return { sql: `CAST(${sqlString(src.constant)} AS VARCHAR)`, present: true, label: sourceLabel(src) };
  const wanted = sourceColumns(src);
  const found = wanted.map((w) => findColumn(w, cols));
  const lost = wanted.filter((_, i) => found[i] === undefined);
  if (lost.length > 0) {
    // Derived customer attributes are optional by nature; only contract-required columns stop the run.
    if (!plan.spec.required || isExtra && plan.spec.name !== 'signup_date') return missing;
    const owner = isExtra ? 'customers' : table;
    throw new InputError(`${path}: required column "${lost[0]}" (${owner}.${plan.spec.name}, ${plan.spec.type}) is missing`, [
      `columns in the file: ${cols.names.join(', ') || '(none)'}`,
      `closest: ${closestNames(lost[0]!, cols.names).join(', ') || '(none)'}`,
      `map it in the config: "ingest": {"columns": {"${owner}": {"${plan.spec.name}": "<your column>"}}}`,
      ...(cols.names.length === 1 && /[,;\t|]/.test(cols.names[0]!) ? ['the header has one column with separators in it: set "ingest": {"csv": {"delimiter": ...}}'] : []),
      ...(cols.names.some((n) => n.includes('\u0000')) ? ['the header holds NUL bytes: the file looks like UTF-16; save it as UTF-8 or set "ingest": {"csv": {"encoding": "utf-16le"}}'] : []),
    ]);
  }
  const ref = (name: string): { sql: string; type: string } => {
    if (name in cols.partitions) return { sql: `CAST(${sqlString(cols.partitions[name]!)} AS VARCHAR)`, type: 'VARCHAR' };
    return { sql: sqlIdent(name), type: cols.types.get(name)! };
  };
  if (typeof src === 'object' && 'multiply' in src) {
    const factors = found.map((f) => ref(f!));
    const text = (f: { sql: string; type: string }) => (f.type === 'VARCHAR' ? f.sql : `CAST(${f.sql} AS VARCHAR)`);
    const num = (f: { sql: string; type: string }) => numberSql(`trim(${text(f)})`, params.numberFormat);
    const anyBlank = factors.map((f) => blankExpr(text(f), 'VARCHAR', params.missingValues)).join(' OR ');
    const allParse = factors.map((f) => `${num(f)} IS NOT NULL`).join(' AND ');
    const product = factors.map(num).join(' * ');
    // The product is text in the declared format (its decimal mark), as the amount's parse expects.
    const productText = params.numberFormat.decimal === ',' ? `replace(CAST(${product} AS VARCHAR), '.', ',')` : `CAST(${product} AS VARCHAR)`;
    // A factor that does not parse keeps its text, so the row is quarantined as unparseable with the value shown.
    return { sql: `(CASE WHEN ${anyBlank} THEN NULL WHEN ${allParse} THEN ${productText} ELSE concat_ws(' × ', ${factors.map(text).join(', ')}) END)`, present: true, label: sourceLabel(src) };
  }
  const r = ref(found[0]!);
  const sql = plan.rawType === 'VARCHAR' && r.type !== 'VARCHAR' ? `CAST(${r.sql} AS VARCHAR)` : r.sql;
  return { sql, present: true, label: found[0]! };
}
