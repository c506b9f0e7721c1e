import type { DuckDBConnection } from '@duckdb/node-api';
import { readdirSync, statSync, writeFileSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { DEFAULT_MISSING_VALUES } from './contract.ts';
import { DATE_FORMATS } from './checks.ts';
import { MalformedSink, normaliseArrow, normaliseCsv, normaliseJsonl } from './normalise.ts';
import { NUMBER_FORMATS, numberPattern, numberSql, type FormatCounts } from './numbers.ts';
import { defaultIngestParams } from './params.ts';
import { formatOf, locateTable, type SourceFile } from './sources.ts';
import { sampleOf } from './text.ts';
import { queryRows, sqlIdent, sqlString } from '../core/duck.ts';
import { InputError } from '../core/errors.ts';

/**
 * The sample `finseg init` profiles: for every file or folder in the data folder, a bounded
 * number of rows from each of a bounded, evenly spaced set of its files, loaded as text into one
 * DuckDB table, and what each column's values look like.
 */

/**
 * At most this many files of a folder are read, evenly spaced over its sorted file list: every
 * file of a few years of daily dumps (a file costs ~10 ms), so the id count and missing share
 * are of the whole period, not of the first files.
 */
export const SAMPLE_FILES = 1000;
/** At most this many rows in all, split evenly over the files read, each file's share spread evenly over it (every k-th row). */
export const SAMPLE_ROWS = 200_000;
/** At most this many bytes of text in all, split over the files read (at least 256 KB each). */
const SAMPLE_BYTES = 8 << 20;

/** The share of a column's values that must parse under a date layout for init to propose it. */
const FORMAT_SHARE = 0.8;

/** A value some format of NUMBER_FORMATS reads (a sample column's number share). */
const ANY_NUMBER_FORMAT = NUMBER_FORMATS.map((f) => `(?:${numberPattern(f)})`).join('|');

/** What init learnt about one column of a sample. */
export interface ColumnProfile {
  name: string;
  nonBlank: number;
  distinct: number;
  /** Distinct values when a number written with a zero fraction counts as the integer (`17850.0` = `17850`). */
  distinctNormalised: number;
  /** Shares of non-blank values that parse as an ISO timestamp, a number (in any of NUMBER_FORMATS: `1,234.50`, `1.234,50`, …). */
  timestampShare: number;
  numberShare: number;
  /** Shares of non-blank values written as an integer (`17850`), as an integer with a zero fraction (`17850.0`). */
  intShare: number;
  floatIntShare: number;
  /** Date layouts under which at least FORMAT_SHARE of the non-blank values parse, the best first. */
  formats: string[];
  /** The 40 most common values. */
  top: { value: string; n: number }[];
}

/** A file or folder in the data folder, with the files a table there would be read from. */
export interface Candidate {
  path: string;
  /** The path relative to the data folder, as the config's `ingest.files` says it. */
  rel: string;
  files: readonly SourceFile[];
}

/** The profile of one candidate's sample; `table` is the DuckDB temp table that holds the sample. */
export interface FileProfile {
  path: string;
  rel: string;
  table: string;
  /** Files in the candidate, files the sample read, rows it read. */
  filesTotal: number;
  filesRead: number;
  rows: number;
  columns: ColumnProfile[];
}

/** `m` indices spread evenly over 0..n-1, first and last included (all of them when m >= n). */
export function spreadIndices(n: number, m: number): number[] {
  if (m >= n) return Array.from({ length: n }, (_, i) => i);
  if (m <= 1) return n > 0 ? [0] : [];
  return Array.from({ length: m }, (_, i) => Math.round((i * (n - 1)) / (m - 1)));
}

/** Files and table folders directly in the data folder; `problems` says why an entry cannot be a table. */
export function candidates(dataDir: string): { found: Candidate[]; problems: string[] } {
  const found: Candidate[] = [];
  const problems: string[] = [];
  for (const name of readdirSync(dataDir).sort()) {
    if (/^[._]/.test(name)) continue;
    const path = join(dataDir, name);
    if (!statSync(path).isDirectory() && !formatOf(name)) continue;
    try {
      const source = locateTable(dataDir, 'transactions', name)!;
      found.push({ path, rel: relative(dataDir, path) || basename(path), files: source.files });
    } catch (e) {
      if (!(e instanceof InputError)) throw e;
      problems.push(`${name}: ${e.message.replace(/ for table transactions/, '')}`);
    }
  }
  return { found, problems };
}

/** Loads up to `rows` rows of one file as text columns into `into`, evenly spaced over the file (over its first `bytes` bytes for text). */
async function loadFile(conn: DuckDBConnection, file: SourceFile, rows: number, bytes: number, into: string, work: string): Promise<void> {
  // Every reader adds __pos, the row's place in the file, so the rows kept can be spread over it.
  let reader: string;
  if (file.format === 'parquet') reader = `SELECT COLUMNS(c -> c <> 'file_row_number')::VARCHAR, file_row_number AS __pos FROM read_parquet(${sqlString(file.path)}, file_row_number = true)`;
  else {
    const out = join(work, `${into}.${file.format === 'jsonl' ? 'jsonl' : 'csv'}`);
    const sink = new MalformedSink(join(work, `${into}.bad.csv`));
    try {
      let sampled = file;
      if (file.format !== 'arrow') {
        // A text file is cut at a line end, so init stays fast on files of any size.
        const { sample, complete } = await sampleOf(file, defaultIngestParams.csv.encoding, bytes);
        const end = complete ? sample.length : sample.lastIndexOf(0x0a) + 1;
        const cut = join(work, `${into}.sample.${file.format === 'jsonl' ? 'jsonl' : 'csv'}`);
        writeFileSync(cut, sample.subarray(0, end));
        sampled = { ...file, path: cut, gzip: false };
      }
      const n =
        file.format === 'csv' ? await normaliseCsv(sampled, 0, defaultIngestParams.csv, out, sink)
        : file.format === 'jsonl' ? await normaliseJsonl(sampled, 0, defaultIngestParams.csv, out, sink)
        : await normaliseArrow(file, 0, out);
      reader =
        n.kind === 'csv'
          ? `SELECT * EXCLUDE (__file, __line), TRY_CAST(__line AS BIGINT) AS __pos FROM read_csv(${sqlString(out)}, auto_detect = false, header = true, delim = ${sqlString(n.dialect.delimiter)}, quote = ${sqlString(n.dialect.quote)}, escape = ${sqlString(n.dialect.quote)}, ignore_errors = true, columns = {${['__file', '__line', ...n.columns!].map((c) => `${sqlString(c)}: 'VARCHAR'`).join(', ')}})`
          : `SELECT COLUMNS(c -> c NOT IN ('__file', '__line'))::VARCHAR, TRY_CAST(__line AS BIGINT) AS __pos FROM read_json(${sqlString(out)}, format = 'newline_delimited', ignore_errors = true)`;
    } finally {
      sink.close();
    }
  }
  const all = `${into}_all`;
  try {
    await conn.run(`CREATE OR REPLACE TEMP TABLE ${sqlIdent(all)} AS ${reader}`);
  } catch (e) {
    throw new InputError(`cannot read ${file.path}`, [String(e instanceof Error ? e.message : e).split('\n')[0]!]);
  }
  const [{ n }] = (await queryRows(conn, `SELECT count(*) AS n FROM ${sqlIdent(all)}`)) as [{ n: number }];
  const step = Math.max(1, Math.ceil(Number(n) / rows));
  await conn.run(`CREATE OR REPLACE TEMP TABLE ${sqlIdent(into)} AS SELECT * EXCLUDE (__pos) FROM ${sqlIdent(all)} QUALIFY (row_number() OVER (ORDER BY __pos) - 1) % ${step} = 0`);
  await conn.run(`DROP TABLE ${sqlIdent(all)}`);
}

/** Loads the spread sample of a candidate into `table` and profiles every column. */
export async function profileCandidate(conn: DuckDBConnection, c: Candidate, table: string, work: string): Promise<FileProfile> {
  const picked = spreadIndices(c.files.length, SAMPLE_FILES).map((i) => c.files[i]!);
  const rowsEach = Math.floor(SAMPLE_ROWS / picked.length);
  const bytesEach = Math.max(256 << 10, Math.floor(SAMPLE_BYTES / picked.length));
  const parts: string[] = [];
  for (const [k, file] of picked.entries()) {
    parts.push(`${table}_f${k}`);
    await loadFile(conn, file, rowsEach, bytesEach, parts[k]!, work);
  }
  // Files of one table may differ in their columns; a column missing from a file is blank there.
  await conn.run(`CREATE OR REPLACE TEMP TABLE ${sqlIdent(table)} AS ${parts.map((p) => `SELECT * FROM ${sqlIdent(p)}`).join(' UNION ALL BY NAME ')}`);
  for (const p of parts) await conn.run(`DROP TABLE ${sqlIdent(p)}`);
  const described = await queryRows(conn, `DESCRIBE ${sqlIdent(table)}`);
  const [{ n: rows }] = (await queryRows(conn, `SELECT count(*) AS n FROM ${sqlIdent(table)}`)) as [{ n: number }];
  const columns: ColumnProfile[] = [];
  for (const d of described) columns.push(await profileColumn(conn, table, String(d.column_name)));
  return { path: c.path, rel: c.rel, table, filesTotal: c.files.length, filesRead: picked.length, rows: Number(rows), columns };
}

/** The non-blank, trimmed text values of a sample column as a subquery with one column `v`. */
export function nonBlankValues(table: string, column: string): string {
  const tokens = ['', ...DEFAULT_MISSING_VALUES.map((v) => v.toLowerCase())].map(sqlString).join(', ');
  const v = `trim(CAST(${sqlIdent(column)} AS VARCHAR))`;
  return `SELECT ${v} AS v FROM ${sqlIdent(table)} WHERE ${sqlIdent(column)} IS NOT NULL AND lower(${v}) NOT IN (${tokens})`;
}

async function profileColumn(conn: DuckDBConnection, table: string, name: string): Promise<ColumnProfile> {
  const values = nonBlankValues(table, name);
  const [s] = await queryRows(
    conn,
    `SELECT count(*) AS n, count(DISTINCT v) AS k, count(DISTINCT regexp_replace(v, '^([+-]?[0-9]+)\\.0+$', '\\1')) AS kn,
       count(TRY_CAST(TRY_CAST(v AS TIMESTAMPTZ) AS TIMESTAMP)) AS ts, count(*) FILTER (WHERE TRY_CAST(v AS DOUBLE) IS NOT NULL OR regexp_full_match(v, ${sqlString(ANY_NUMBER_FORMAT)})) AS num,
       count(*) FILTER (WHERE regexp_full_match(v, '[+-]?[0-9]+')) AS int, count(*) FILTER (WHERE regexp_full_match(v, '[+-]?[0-9]+\\.0+')) AS fint
     FROM (${values})`,
  );
  const nonBlank = Number(s!.n);
  const share = (k: string) => (nonBlank ? Number(s![k]) / nonBlank : 0);
  const formatCounts = DATE_FORMATS.map((f, i) => `count(try_strptime(v, ${sqlString(f)})) AS f${i}`).join(', ');
  const [fc] = nonBlank ? await queryRows(conn, `SELECT ${formatCounts} FROM (${values} LIMIT 2000)`) : [{}];
  const sampled = Math.min(nonBlank, 2000);
  // A layout under which most values parse is the column's layout; the few that do not are quarantined as unparseable.
  const parsed = DATE_FORMATS.map((f, i) => ({ f, n: Number((fc as Record<string, unknown>)[`f${i}`]) }));
  const formats = nonBlank ? parsed.filter((p) => p.n >= FORMAT_SHARE * sampled).sort((a, b) => b.n - a.n).map((p) => p.f) : [];
  const top = (await queryRows(conn, `SELECT v AS value, count(*) AS n FROM (${values}) GROUP BY 1 ORDER BY n DESC, value LIMIT 40`)).map((r) => ({ value: String(r.value), n: Number(r.n) }));
  return {
    name,
    nonBlank,
    distinct: Number(s!.k),
    distinctNormalised: Number(s!.kn),
    timestampShare: share('ts'),
    numberShare: share('num'),
    intShare: share('int'),
    floatIntShare: share('fint'),
    formats,
    top,
  };
}

/**
 * How many of a sample column's non-blank values each format of NUMBER_FORMATS reads, and up to
 * three values (most common first) that plain numbers do not read but a format does.
 */
export async function formatCounts(conn: DuckDBConnection, table: string, column: string): Promise<FormatCounts & { examples: string[] }> {
  const reads = NUMBER_FORMATS.map((f) => `${numberSql('v', f)} IS NOT NULL`);
  const [row] = await queryRows(
    conn,
    `SELECT count(*) FILTER (WHERE ${reads.join(' OR ')}) AS numeric, ${reads.map((r, i) => `count(*) FILTER (WHERE ${r}) AS f${i}`).join(', ')},
       (SELECT list(v ORDER BY n DESC, v)[1:3] FROM (SELECT v, count(*) AS n FROM (${nonBlankValues(table, column)}) WHERE NOT (${reads[0]}) AND (${reads.slice(1).join(' OR ')}) GROUP BY v)) AS examples
     FROM (${nonBlankValues(table, column)})`,
  );
  return { numeric: Number(row!.numeric), byFormat: NUMBER_FORMATS.map((_, i) => Number(row![`f${i}`])), examples: ((row!.examples as unknown[] | null) ?? []).map(String) };
}

/**
 * The distinct values of a sample column with their shares, most common first: shares of the
 * summed `countColumn` when given (a daily count per account and event), else of rows.
 */
export async function valueShares(conn: DuckDBConnection, table: string, column: string, countColumn: string | null): Promise<{ value: string; share: number }[]> {
  const v = `trim(CAST(${sqlIdent(column)} AS VARCHAR))`;
  const weight = countColumn ? `coalesce(TRY_CAST(${sqlIdent(countColumn)} AS DOUBLE), 1)` : '1';
  const rows = await queryRows(
    conn,
    `SELECT ${v} AS value, sum(${weight}) AS w FROM ${sqlIdent(table)} WHERE ${sqlIdent(column)} IS NOT NULL AND ${v} <> '' GROUP BY 1 ORDER BY w DESC, value`,
  );
  const total = rows.reduce((s, r) => s + Number(r.w), 0);
  return rows.map((r) => ({ value: String(r.value), share: total > 0 ? Number(r.w) / total : 0 }));
}
