import type { DuckDBConnection } from '@duckdb/node-api';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CONTRACT, QUARANTINE_REASONS, TABLE_NAMES, type QuarantineReason, type TableName } from './contract.ts';
import { DATE_FORMATS, blankExpr, firstFailure, localChecks, nativeTypeFits, planTable, sourceColumns, typedExpr, typedProjection, typedSqlType, type Check, type ColumnPlan } from './checks.ts';
import { MalformedSink, normaliseArrow, normaliseCsv, normaliseJsonl, type NormalisedFile } from './normalise.ts';
import { closestNames } from './names.ts';
import { validateIngestParams, type ColumnSource, type IngestParams } from './params.ts';
import { QuarantineTarget, originalColumnItems, stageOriginalRows } from './quarantine.ts';
import { collectJsonRejects, collectRejects } from './rejects.ts';
import { EXTRA_PREFIX, deriveCustomers } from './derive.ts';
import { locateTable, SUPPORTED_EXTENSIONS, type SourceFile, type TableSource } from './sources.ts';
import { MAX_RECORD_BYTES } from './text.ts';
import { queryRows, sqlIdent, sqlString } from '../core/duck.ts';
import { InputError } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';

export { defaultIngestParams, type IngestParams } from './params.ts';
export { closestNames, editDistance } from './names.ts';
export type { QuarantineReason } from './contract.ts';
export type { QuarantineDetail, Staged, TableIngestReport } from './staged.ts';
import type { Staged, TableIngestReport } from './staged.ts';


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


const ORDER: readonly TableName[] = ['customers', 'usage_events', 'transactions', 'feedback'];
/** A column whose non-blank values mostly fail to parse has the wrong type: a file-level error, not thousands of quarantined rows. */
const WRONG_TYPE_SHARE = 0.5;
const WRONG_TYPE_MIN_ROWS = 5;

/**
 * Loads the data folder into DuckDB tables `customers`, `usage_events`, `transactions` and
 * `feedback` with contract names and types; rows that break the contract go to
 * `<quarantineRoot>/<input fingerprint>/<table>.csv` with their source file, line, a reason and
 * the source row's own columns, once per input (quarantine.ts). Always
 * `read = accepted + quarantined` per table. Files are streamed, never held as JS rows.
 */
export async function ingest(
  conn: DuckDBConnection,
  dataDir: string,
  params: IngestParams,
  quarantineRoot: string | null,
  logger: Logger,
): Promise<IngestResult> {
  validateIngestParams({ ...params, quarantineLimit: Math.min(params.quarantineLimit, 1) });
  if (!existsSync(dataDir) || !statSync(dataDir).isDirectory()) throw new InputError(`data folder ${dataDir} does not exist or is not a folder`);
  // Timestamps with an offset are converted to UTC; the session zone must not depend on the machine.
  await conn.run(`SET TimeZone = 'UTC'`);
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
  for (const t of absentTables) if (t !== 'feedback') logger.warn(`no ${t} table in ${dataDir}: features from it are dropped`);

  const work = mkdtempSync(join(tmpdir(), 'finseg-ingest-'));
  const staged: Partial<Record<TableName, Staged>> = {};
  try {
    for (const table of ORDER) {
      const source = sources[table];
      if (!source) continue;
      const extra = table === derive ? planTable('customers', params).filter((p) => p.spec.name !== 'customer_id') : [];
      staged[table] = await stageTable(conn, source, planTable(table, params), extra, params, work);
    }
    if (derive) staged.customers = await deriveCustomers(conn, staged[derive]!, params);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }

  const asOf = params.asOf ?? (await inferAsOf(conn, staged, params));
  const quarantine = quarantineRoot ? quarantineTargetOf(quarantineRoot, sources, params, asOf) : null;
  for (const table of ORDER) {
    const s = staged[table];
    if (s) await finishTable(conn, s, asOf, quarantine, params);
    else await createEmptyTable(conn, table);
  }
  const quarantineDir = quarantine && (quarantine.written > 0 || quarantine.reused > 0) ? await quarantine.dir() : null;
  if (quarantineDir) logger.info(`quarantine: ${quarantineDir}${quarantine!.written === 0 ? ' (already written by an earlier run on the same input)' : ''}`);
  // __quarantined_customers stays: the accepted view of an in-place table checks against it when read.
  const tables: Partial<Record<TableName, TableIngestReport>> = {};
  for (const table of ORDER) if (staged[table]) tables[table] = staged[table]!.report;
  for (const report of Object.values(tables)) {
    const derived = report.derivedFrom ? ` (derived from ${report.sourceRows} ${report.derivedFrom} rows)` : '';
    logger.info(
      `ingest ${report.table}${derived}: read ${report.read}, accepted ${report.accepted}, quarantined ${report.quarantined}` +
        (report.quarantined ? ` (${formatReasons(report.byReason)})` : ''),
    );
  }
  for (const report of Object.values(tables)) {
    const share = report.read === 0 ? 0 : report.quarantined / report.read;
    if (share > params.quarantineLimit) {
      throw new InputError(
        `${report.table}: ${report.quarantined} of ${report.read} rows quarantined (${(share * 100).toFixed(1)}%), over the limit of ${(params.quarantineLimit * 100).toFixed(1)}%`,
        [
          ...report.details.slice(0, 8).map((d) => `${d.reason}${d.column ? ` in ${d.column}` : ''}: ${d.count}${d.examples.length ? `, e.g. ${d.examples.map((x) => JSON.stringify(x)).join(', ')}` : ''}`),
          ...hintsFor(report),
          quarantineDir ? `rows and reasons: ${join(quarantineDir, `${report.table}.csv`)}` : 'run finseg validate --data DIR to write the quarantined rows',
          'raise "ingest.quarantineLimit" in the config if this is expected',
        ],
      );
    }
  }
  return { asOf, tables, absentTables, quarantineDir, quarantineReused: quarantineDir !== null && quarantine!.written === 0 };
}

/** The quarantine folder of this input: every table's files, and the settings that decide what is quarantined. */
function quarantineTargetOf(root: string, sources: Partial<Record<TableName, TableSource>>, params: IngestParams, asOf: string): QuarantineTarget {
  const files = ORDER.flatMap((t) => (sources[t]?.files ?? []).map((f) => ({ label: t, path: f.path })));
  // The limit decides whether a run stops, not which rows are quarantined: validate (no limit) and train share a folder.
  const { quarantineLimit: _limit, dataDir: _dir, ...settings } = params;
  return new QuarantineTarget(root, files, { ...settings, asOf });
}

/** "reason n, reason n" in the reasons' documented order. */
export function formatReasons(byReason: Partial<Record<string, number>>): string {
  return Object.entries(byReason)
    .map(([r, n]) => `${r} ${n}`)
    .join(', ');
}

/** Advice for the most common causes of a high quarantine share. */
function hintsFor(report: TableIngestReport): string[] {
  const hints: string[] = [];
  const malformed = report.details.find((d) => d.reason === 'malformed');
  if (malformed && malformed.examples.some((x) => /INVALID ENCODING|not valid text/i.test(x))) {
    hints.push('rows are not valid UTF-8: if the file is GBK/GB18030 or Latin-1, set "ingest": {"csv": {"encoding": "gb18030"}} (or "latin1")');
  }
  for (const d of report.details) {
    if (d.reason === 'bad_enum' && d.column && d.column !== 'currency') hints.push(`map your ${d.column} values in the config: "ingest": {"values": {"${report.table}": {"${d.column}": {${d.examples.slice(0, 2).map((x) => `"${x}": "<contract value>"`).join(', ')}}}}}`);
    if (d.reason === 'missing_key' && d.column === 'customer_id') hints.push(`${d.count} rows have no customer id: they cannot be attributed to a customer`);
  }
  return hints;
}

/** Column names in a file, and the native SQL type of each (VARCHAR for text formats). */
interface FileColumns {
  names: string[];
  types: Map<string, string>;
  partitions: Readonly<Record<string, string>>;
}

/** Resolves a source column name against a file's columns: exact, else ignoring case. */
function findColumn(wanted: string, cols: FileColumns): string | undefined {
  if (cols.types.has(wanted)) return wanted;
  const lower = wanted.toLowerCase();
  return cols.names.find((n) => n.toLowerCase() === lower);
}

const sourceLabel = (source: ColumnSource): string =>
  typeof source === 'string' ? source : 'column' in source ? source.column : 'multiply' in source ? source.multiply.join(' × ') : `constant ${JSON.stringify(source.constant)}`;

/** Reads every file of a table into `raw_<table>` (`__file`, `__line`, contract columns as text or native types). */
async function stageTable(conn: DuckDBConnection, source: TableSource, plans: ColumnPlan[], extra: ColumnPlan[], params: IngestParams, work: string): Promise<Staged> {
  const table = source.table;
  const raw = sqlIdent(`raw_${table}`);
  const malformedTable = sqlIdent(`malformed_${table}`);
  const sidecarPath = join(work, `${table}.malformed.csv`);
  const sidecar = new MalformedSink(sidecarPath);
  const files = source.files.map((f) => f.path);
  const all = [...plans.map((p) => ({ plan: p, name: p.spec.name })), ...extra.map((p) => ({ plan: p, name: `${EXTRA_PREFIX}${p.spec.name}` }))];
  const presentIn = new Map<string, number>(all.map((c) => [c.name, 0]));
  const sourceNames = new Map<string, string>();
  let read = 0;
  let malformedRows = 0;
  let inPlace = false;
  try {
    // Normalise text and Arrow files first, so column types are known for every file before the raw table is made.
    const prepared: { file: SourceFile; index: number; cols: FileColumns; reader: string; normalised: NormalisedFile | null }[] = [];
    for (const [index, file] of source.files.entries()) {
      prepared.push(await prepareFile(conn, file, index, params, work, sidecar, table));
    }
    // A native Parquet type is kept only when every file has the same fitting type for the column.
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
    await conn.run(`CREATE OR REPLACE TEMP TABLE ${malformedTable} (__file INTEGER, __line BIGINT, __detail VARCHAR, __text VARCHAR)`);
    /** One file's contract columns as select items (cast to the raw type when `cast`), noting which columns the file has. */
    const projectionOf = (p: (typeof prepared)[number], cast: boolean): string[] =>
      all.map(({ plan, name }) => {
        const expr = columnExpr(plan, p.cols, p.file.path, table, name.startsWith(EXTRA_PREFIX), params);
        if (expr.present) presentIn.set(name, presentIn.get(name)! + 1);
        if (expr.label && !sourceNames.has(name)) sourceNames.set(name, expr.label);
        return `${cast ? `CAST(${expr.sql} AS ${plan.rawType})` : expr.sql} AS ${sqlIdent(name)}`;
      });
    inPlace = prepared.length > 0 && prepared.every((p) => p.normalised === null);
    if (inPlace) {
      // Parquet is typed and cannot hold a malformed record, so it is read where it lies: a view
      // instead of a staged copy. At 50M events a copy costs gigabytes and most of ingest's time.
      const selects = prepared.map((p) => `SELECT CAST(${p.index} AS INTEGER) AS __file, CAST(file_row_number + 1 AS BIGINT) AS __line, ${projectionOf(p, true).join(', ')} FROM ${p.reader}`);
      await conn.run(`CREATE OR REPLACE TEMP VIEW ${raw} AS ${selects.join('\nUNION ALL ')}`);
      try {
        read = await countRows(conn, raw);
      } catch (e) {
        throw new InputError(`cannot read ${source.path} (table ${table}, parquet)`, [firstLine(e)]);
      }
    } else {
      const columnDefs = all.map(({ plan, name }) => `${sqlIdent(name)} ${plan.rawType}`);
      await conn.run(`CREATE OR REPLACE TEMP TABLE ${raw} (__file INTEGER, __line BIGINT, ${columnDefs.join(', ')})`);
    }

    // Text, JSON Lines and Arrow files (and Parquet mixed with them) are staged file by file.
    for (const p of inPlace ? [] : prepared) {
      const exprs = projectionOf(p, false);
      const lineExpr = p.file.format === 'parquet' ? '(file_row_number + 1)' : 'CAST(__line AS BIGINT)';
      const where = p.normalised?.kind === 'jsonl' ? 'WHERE __line IS NOT NULL' : '';
      let rows: number;
      try {
        rows = (await conn.run(`INSERT INTO ${raw} BY NAME SELECT ${p.index} AS __file, ${lineExpr} AS __line, ${exprs.join(', ')} FROM ${p.reader} ${where}`)).rowsChanged;
      } catch (e) {
        throw new InputError(`cannot read ${p.file.path} (table ${table}, ${p.file.format})`, [firstLine(e)]);
      }
      let rejected = 0;
      if (p.normalised?.kind === 'csv') rejected = await collectRejects(conn, table, p.index, p.normalised, malformedTable);
      if (p.normalised?.kind === 'jsonl') rejected = await collectJsonRejects(conn, table, p, raw, malformedTable, params);
      malformedRows += rejected + (p.normalised?.malformed ?? 0);
      if (p.normalised) {
        // Every record the normaliser saw is a staged row or a malformed one; anything else would be a silent loss.
        if (rows + rejected + p.normalised.malformed !== p.normalised.records) {
          throw new InputError(`${p.file.path}: could not account for every row (${p.normalised.records} records, ${rows} read, ${rejected + p.normalised.malformed} malformed)`, ['this is a finseg bug or a file DuckDB and finseg split differently; run with --debug and report it']);
        }
        rmSync(p.normalised.path, { force: true });
        read += p.normalised.records;
      } else read += rows;
    }
  } finally {
    sidecar.close();
  }
  if (sidecar.count > 0) {
    await conn.run(
      `INSERT INTO ${malformedTable} SELECT * FROM read_csv(${sqlString(sidecarPath)}, auto_detect = false, header = true, delim = ',', quote = '"', escape = '"',
        columns = {'__file': 'INTEGER', '__line': 'BIGINT', '__detail': 'VARCHAR', '__text': 'VARCHAR'}, max_line_size = ${MAX_RECORD_BYTES * 2})`,
    );
  }
  await conn.run(`CREATE OR REPLACE TEMP TABLE ${sqlIdent(`files_${table}`)} AS SELECT * FROM (VALUES ${files.map((f, i) => `(${i}, ${sqlString(f)})`).join(', ')}) v(__file, path)`);
  const missingOptionalColumns = plans.filter((p) => !p.spec.required && presentIn.get(p.spec.name) === 0 && p.fill === null).map((p) => p.spec.name);
  return {
    table,
    plans,
    extra,
    files,
    sources: source.files,
    sourceNames,
    malformed: malformedRows,
    inPlace,
    report: { table, source: source.path, format: source.format, files: files.length, read, accepted: 0, quarantined: 0, byReason: {}, details: [], missingOptionalColumns },
  };
}

async function countRows(conn: DuckDBConnection, table: string): Promise<number> {
  const [row] = await queryRows(conn, `SELECT count(*) AS n FROM ${table}`);
  return Number(row!.n);
}

/** Normalises a file when it is text or Arrow, and returns its columns and the DuckDB reader of the result. */
async function prepareFile(conn: DuckDBConnection, file: SourceFile, index: number, params: IngestParams, work: string, sidecar: MalformedSink, table: TableName) {
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
    file.format === 'csv' ? await normaliseCsv(file, index, params.csv, out, sidecar)
    : file.format === 'jsonl' ? await normaliseJsonl(file, index, params.csv, out, sidecar)
    : await normaliseArrow(file, index, out);
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
  let reader: string;
  if (normalised.kind === 'csv') {
    const d = normalised.dialect;
    const columns = ['__file', '__line', ...names].map((n) => `${sqlString(n)}: 'VARCHAR'`).join(', ');
    reader = `read_csv(${sqlString(out)}, auto_detect = false, header = true, delim = ${sqlString(d.delimiter)}, quote = ${sqlString(d.quote)}, escape = ${sqlString(d.quote)},
      columns = {${columns}}, store_rejects = true, strict_mode = true, rejects_table = ${sqlString(`rejects_${table}_${index}`)}, rejects_scan = ${sqlString(`rejects_scan_${table}_${index}`)},
      max_line_size = ${MAX_RECORD_BYTES * 2})`;
  } else {
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
    const num = (f: { sql: string; type: string }) => `TRY_CAST(trim(${text(f)}) AS DOUBLE)`;
    const anyBlank = factors.map((f) => blankExpr(text(f), 'VARCHAR', params.missingValues)).join(' OR ');
    const allParse = factors.map((f) => `${num(f)} IS NOT NULL`).join(' AND ');
    const product = factors.map(num).join(' * ');
    // A factor that does not parse keeps its text, so the row is quarantined as unparseable with the value shown.
    return { sql: `(CASE WHEN ${anyBlank} THEN NULL WHEN ${allParse} THEN CAST(${product} AS VARCHAR) ELSE concat_ws(' × ', ${factors.map(text).join(', ')}) END)`, present: true, label: sourceLabel(src) };
  }
  const r = ref(found[0]!);
  const sql = plan.rawType === 'VARCHAR' && r.type !== 'VARCHAR' ? `CAST(${r.sql} AS VARCHAR)` : r.sql;
  return { sql, present: true, label: found[0]! };
}

/** Types and checks `raw_<table>`, writes the accepted rows to `<table>` and the rest to quarantine. */
async function finishTable(conn: DuckDBConnection, staged: Staged, asOf: string, quarantine: QuarantineTarget | null, params: IngestParams): Promise<void> {
  const { table, plans, report } = staged;
  const raw = sqlIdent(`raw_${table}`);
  const malformed = sqlIdent(`malformed_${table}`);
  const mv = params.missingValues;
  const checks: Check[] = localChecks(table, plans, asOf);
  let failure = firstFailure(checks);
  if (table !== 'customers') {
    failure = `coalesce(${failure}, CASE WHEN t.customer_id IN (SELECT customer_id FROM customers) THEN NULL
      WHEN t.customer_id IN (SELECT customer_id FROM __quarantined_customers) THEN 'customer_quarantined:customer_id' ELSE 'unknown_customer:customer_id' END)`;
  }
  const names = plans.map((p) => sqlIdent(p.spec.name)).join(', ');
  const typedView = sqlIdent(`typed_${table}`);
  const checkedView = sqlIdent(`checked_${table}`);
  // Typed values come from an inner projection that DuckDB evaluates once per row: a value map's
  // CASE inlined into every check instead cost 86 s rather than 1 s on 1.2M events.
  await conn.run(`CREATE OR REPLACE TEMP VIEW ${typedView} AS SELECT r.__file, r.__line, ${typedProjection(plans, mv)} FROM ${raw} r`);
  await conn.run(
    `CREATE OR REPLACE TEMP VIEW ${checkedView} AS
     SELECT __file, __line, nullif(split_part(__rc, ':', 1), '') AS __reason, nullif(split_part(__rc, ':', 2), '') AS __column, ${names}
     FROM (SELECT t.*, ${failure} AS __rc FROM ${typedView} t)`,
  );
  // `checked` holds the customers (small, and duplicates need the whole table) or, for the large
  // tables, only the failing rows: accepted events are never copied.
  const isCustomers = table === 'customers';
  try {
    await conn.run(`CREATE OR REPLACE TEMP TABLE checked AS SELECT * FROM ${checkedView}${isCustomers ? '' : ' WHERE __reason IS NOT NULL'}`);
  } catch (e) {
    // An in-place table's pages are first decoded here (a corrupt page, a truncated file).
    if (!staged.inPlace) throw e;
    throw new InputError(`cannot read ${staged.report.source} (table ${table}, parquet)`, [firstLine(e), 'the file may be truncated, still being written, or not Parquet']);
  }
  if (isCustomers) {
    // The first row of a customer id (in file order) wins; later ones are duplicates.
    await conn.run(
      `UPDATE checked SET __reason = 'duplicate_id', __column = 'customer_id' FROM (
         SELECT __file AS f, __line AS l FROM (SELECT __file, __line, row_number() OVER (PARTITION BY customer_id ORDER BY __file, __line) AS k FROM checked WHERE __reason IS NULL) WHERE k > 1
       ) d WHERE checked.__file = d.f AND checked.__line = d.l`,
    );
  }
  if (staged.malformed > 0) await conn.run(`INSERT INTO checked (__file, __line, __reason, __column) SELECT __file, __line, 'malformed', NULL FROM ${malformed}`);
  const [tally] = await queryRows(conn, `SELECT count(*) FILTER (WHERE __reason IS NULL) AS accepted, count(*) FILTER (WHERE __reason IS NOT NULL) AS quarantined, count(*) FILTER (WHERE __reason = 'unparseable') AS unparseable FROM checked`);
  if (Number(tally!.unparseable) >= WRONG_TYPE_MIN_ROWS) await checkColumnTypes(conn, staged, mv);
  report.quarantined = Number(tally!.quarantined);
  if (isCustomers) {
    // Only customers keep file order (small, and read in order by people); every feature is an order-free aggregate.
    await conn.run(`CREATE OR REPLACE TABLE customers AS SELECT ${names} FROM checked WHERE __reason IS NULL ORDER BY __file, __line`);
    report.accepted = Number(tally!.accepted);
  } else if (staged.inPlace) {
    // Parquet stays where it lies: the accepted table is a view that types each row as it is read
    // and leaves out the rows quarantined here, by (file, line). Every reader scans the files
    // again (seconds at 50M events), which costs less than holding the events in memory (4.5 GB
    // at 50M) and copying them there. The checks ran once, above; the input must not change
    // during the run (docs/performance.md).
    const rejected = sqlIdent(`rejected_${table}`);
    await conn.run(`CREATE OR REPLACE TEMP TABLE ${rejected} AS SELECT __file, __line FROM checked`);
    const keep = report.quarantined === 0 ? '' : ` ANTI JOIN ${rejected} q ON q.__file = t.__file AND q.__line = t.__line`;
    await conn.run(`CREATE OR REPLACE TEMP VIEW ${sqlIdent(table)} AS SELECT ${names} FROM ${typedView} t${keep}`);
    report.accepted = staged.report.read - report.quarantined;
  } else {
    await conn.run(`CREATE OR REPLACE TABLE ${sqlIdent(table)} AS SELECT ${names} FROM ${checkedView} WHERE __reason IS NULL`);
    report.accepted = await countRows(conn, sqlIdent(table));
  }
  if (report.accepted + report.quarantined !== report.read) {
    throw new InputError(`${table}: ${report.read} rows read but ${report.accepted} accepted and ${report.quarantined} quarantined`, ['this is a finseg bug; run with --debug and report it']);
  }
  if (table === 'customers') {
    await conn.run(
      `CREATE OR REPLACE TEMP TABLE __quarantined_customers AS
       SELECT DISTINCT customer_id FROM checked WHERE __reason IS NOT NULL AND customer_id IS NOT NULL AND customer_id NOT IN (SELECT customer_id FROM customers)`,
    );
  }

  // Staged text is not needed once the typed table exists; on 50M rows it is gigabytes. An
  // in-place table keeps its views (the accepted view reads through them).
  const dropRaw = staged.inPlace ? '' : `DROP VIEW ${checkedView}; DROP VIEW ${typedView}; DROP TABLE IF EXISTS ${raw}; `;
  const dropStaged = `DROP TABLE checked; ${dropRaw}DROP TABLE IF EXISTS ${malformed}; DROP TABLE IF EXISTS ${sqlIdent(`files_${table}`)}`;
  if (report.quarantined === 0) {
    // The common case: nothing to explain or write.
    await conn.run(dropStaged);
    return;
  }
  const valueExpr = `CASE WHEN c.__reason = 'malformed' THEN m.__text ${plans.map((p) => `WHEN c.__column = ${sqlString(p.spec.name)} THEN CAST(r.${sqlIdent(p.spec.name)} AS VARCHAR)`).join(' ')} END`;
  const details: [string, string][] = [
    ...checks.map((c) => [`${c.reason}:${c.column}`, c.detail] as [string, string]),
    ['duplicate_id:customer_id', 'customer_id is already on an earlier accepted row'],
    ['customer_quarantined:customer_id', "the customer's customers row is quarantined"],
    ['unknown_customer:customer_id', 'the customer is not in the customers table'],
  ];
  const detailExpr = `CASE WHEN c.__reason = 'malformed' THEN m.__detail ${details.map(([k, v]) => `WHEN c.__reason || ':' || c.__column = ${sqlString(k)} THEN ${sqlString(v)}`).join(' ')} END`;
  await conn.run(
    `CREATE OR REPLACE TEMP TABLE quarantined AS
     SELECT c.__file, c.__line, c.__reason, c.__column, ${valueExpr} AS __value, ${detailExpr} AS __detail
     FROM checked c LEFT JOIN ${raw} r ON r.__file = c.__file AND r.__line = c.__line LEFT JOIN ${malformed} m ON m.__file = c.__file AND m.__line = c.__line
     WHERE c.__reason IS NOT NULL`,
  );
  const detailRows = await queryRows(
    conn,
    // A malformed row's text says less than why it is malformed: its examples are the distinct reasons.
    `SELECT __reason AS reason, __column AS col, count(*) AS n,
       CASE WHEN __reason = 'malformed' THEN list_sort(list(DISTINCT __detail))[1:3] ELSE list(__value ORDER BY __file, __line) FILTER (WHERE __value IS NOT NULL)[1:3] END AS examples
     FROM quarantined GROUP BY 1, 2 ORDER BY n DESC, reason, col`,
  );
  const counts = new Map<string, number>();
  for (const r of detailRows) counts.set(String(r.reason), (counts.get(String(r.reason)) ?? 0) + Number(r.n));
  report.byReason = Object.fromEntries(REASON_ORDER.filter((r) => counts.has(r)).map((r) => [r, counts.get(r)!]));
  report.details = detailRows.map((r) => ({
    reason: String(r.reason) as QuarantineReason,
    column: r.col === null ? null : String(r.col),
    count: Number(r.n),
    examples: ((r.examples as unknown[] | null) ?? []).map((x) => (String(x).length > 80 ? `${String(x).slice(0, 80)}…` : String(x))),
  }));
  if (quarantine) await writeQuarantine(conn, staged, quarantine, params);
  await conn.run(`DROP TABLE quarantined; ${dropStaged}`);
}

/**
 * Writes TEMP TABLE `quarantined` to `<table>.csv` in the quarantine folder, unless an earlier run
 * on the same input did: finseg's columns, then the source row's own columns as the file holds
 * them (blank for a malformed row, which has no columns; its text is in `value`).
 */
async function writeQuarantine(conn: DuckDBConnection, staged: Staged, quarantine: QuarantineTarget, params: IngestParams): Promise<void> {
  await quarantine.writeOnce(`${staged.table}.csv`, async (tmp) => {
    await stageOriginalRows(conn, staged.sources, `SELECT __file, __line FROM quarantined WHERE __reason <> 'malformed'`, params.csv, 'original_rows');
    const original = await originalColumnItems(conn, 'original_rows', 'o');
    await conn.run(
      `COPY (SELECT f.path AS source_file, q.__line AS line, q.__reason AS reason, q.__column AS "column", q.__value AS value, q.__detail AS detail${original.map((c) => `, ${c}`).join('')}
             FROM quarantined q JOIN ${sqlIdent(`files_${staged.table}`)} f ON f.__file = q.__file LEFT JOIN original_rows o ON o.__file = q.__file AND o.__line = q.__line
             ORDER BY q.__file, q.__line)
       TO ${sqlString(tmp)} (FORMAT csv, HEADER, DELIMITER ',')`,
    );
    await conn.run('DROP TABLE original_rows');
  });
}

/** Reasons in the order the contract documents (and checks) them, for stable reports. */
const REASON_ORDER: readonly string[] = QUARANTINE_REASONS.map((r) => r.code);

/**
 * A column whose non-blank values mostly fail to parse is the wrong column or the wrong type
 * (swapped columns, dates in another layout): one clear file-level error with examples and, for
 * dates, the layout they do parse in, instead of quarantining most of the file.
 */
async function checkColumnTypes(conn: DuckDBConnection, staged: Staged, missingValues: readonly string[]): Promise<void> {
  const suspects = await queryRows(conn, `SELECT __file AS f, __column AS col, count(*) AS n FROM checked WHERE __reason = 'unparseable' GROUP BY 1, 2 HAVING count(*) >= ${WRONG_TYPE_MIN_ROWS}`);
  const raw = sqlIdent(`raw_${staged.table}`);
  for (const s of suspects) {
    const plan = staged.plans.find((p) => p.spec.name === s.col)!;
    const rawCol = `r.${sqlIdent(plan.spec.name)}`;
    const [row] = await queryRows(conn, `SELECT count(*) AS n FROM ${raw} r WHERE r.__file = ${s.f} AND NOT ${blankExpr(rawCol, plan.rawType, missingValues)}`);
    const nonBlank = Number(row!.n);
    const bad = Number(s.n);
    if (bad / Math.max(nonBlank, 1) <= WRONG_TYPE_SHARE) continue;
    // The first three distinct failing values in file order: a bare DISTINCT ... LIMIT takes
    // whichever rows DuckDB's threads reach first, so the message changed from run to run.
    const examples = (
      await queryRows(
        conn,
        `SELECT v FROM (SELECT CAST(${rawCol} AS VARCHAR) AS v, min(r.__line) AS first_line FROM ${raw} r JOIN checked c ON c.__file = r.__file AND c.__line = r.__line WHERE c.__reason = 'unparseable' AND c.__column = ${sqlString(plan.spec.name)} AND r.__file = ${s.f} GROUP BY 1) ORDER BY first_line LIMIT 3`,
      )
    ).map((r) => String(r.v));
    const file = staged.files[Number(s.f)]!;
    const sourceName = staged.sourceNames.get(plan.spec.name) ?? plan.spec.name;
    const detail = [`${bad} of ${nonBlank} values do not parse, e.g. ${examples.map((x) => JSON.stringify(x)).join(', ')}`];
    if (plan.spec.type === 'date' || plan.spec.type === 'timestamp') {
      const formats = await parsingFormats(conn, `SELECT CAST(${rawCol} AS VARCHAR) AS v FROM ${raw} r WHERE r.__file = ${s.f} AND NOT ${blankExpr(rawCol, plan.rawType, missingValues)} ORDER BY r.__line LIMIT 2000`);
      if (formats.length > 0) {
        const owner = staged.report.derivedFrom ? 'customers' : staged.table;
        detail.push(`they parse with the format ${formats.map((f) => JSON.stringify(f)).join(' or ')}: map the column as "ingest": {"columns": {"${owner}": {"${plan.spec.name}": {"column": "${sourceName}", "format": "${formats[0]}"}}}}`);
      } else detail.push('dates must be ISO (2026-09-30, 2026-09-30 14:05:00) or mapped with a strptime "format"');
    } else if (plan.spec.type === 'number' || plan.spec.type === 'int') {
      detail.push(examples.some((x) => /\d,\d{3}/.test(x)) ? 'numbers with thousands separators (1,234.50) are not read; export plain numbers' : 'is the column mapping right? two columns may be swapped');
    }
    throw new InputError(`${file}: column "${sourceName}" (${staged.table}.${plan.spec.name}) does not hold ${plan.spec.type} values`, detail);
  }
}

/** The date layouts of `DATE_FORMATS` under which every value of the query parses (at most two). */
export async function parsingFormats(conn: DuckDBConnection, valuesSql: string): Promise<string[]> {
  const cols = DATE_FORMATS.map((f, i) => `count(*) FILTER (WHERE try_strptime(trim(v), ${sqlString(f)}) IS NULL) AS f${i}`).join(', ');
  const [row] = await queryRows(conn, `SELECT count(*) AS n, ${cols} FROM (${valuesSql})`);
  if (!row || Number(row.n) === 0) return [];
  return DATE_FORMATS.filter((_, i) => Number(row[`f${i}`]) === 0).slice(0, 2);
}

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

function firstLine(e: unknown): string {
  return String(e instanceof Error ? e.message : e).split('\n')[0]!;
}
