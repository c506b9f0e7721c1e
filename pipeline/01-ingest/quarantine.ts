import type { DuckDBConnection } from '@duckdb/node-api';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { MalformedSink, normaliseArrow, normaliseCsv, normaliseJsonl, sortedLines, type CsvShape, type NormalisedFile } from './normalise.ts';
import { SharedCopies } from './scan-groups.ts';
import type { CsvParams } from './params.ts';
import type { SourceFile } from './sources.ts';
import { MAX_RECORD_BYTES } from './text.ts';
import { queryRows, readColumns, sqlIdent, sqlString } from '../core/duck.ts';

/**
 * Where quarantined rows go and what they hold. One folder per input: `<root>/<fingerprint>/`,
 * the fingerprint being the first 16 hex digits of a sha256 over every file read (path and
 * content) and the settings that decide what is quarantined. A rerun of validate, train or score
 * on the same files with the same settings finds the folder and writes no quarantine file again:
 * the same rows, written again on every run, piled up as copies. It only adds its run to the
 * folder's record, `quarantine.json` (quarantine-meta.ts). Each row keeps the source row's own columns.
 * Nulled optional values go beside the rows, one per cell, in `<table>.cells.csv` (cells.ts).
 */

/** Raised when the quarantine file's columns change, so a folder written in the old layout is not reused. */
export const QUARANTINE_LAYOUT = 3;
/** Hex digits of the fingerprint in the folder name: 64 bits, no collision among one user's inputs. */
const FOLDER_DIGITS = 16;
/** The columns finseg writes before the source row's own. */
export const QUARANTINE_COLUMNS: readonly string[] = ['source_file', 'line', 'reason', 'column', 'value', 'detail'];

/** JSON with object keys sorted and undefined left out, so equal settings always give equal text. */
export function canonicalJson(x: unknown): string {
  if (Array.isArray(x)) return `[${x.map((v) => canonicalJson(v === undefined ? null : v)).join(',')}]`;
  if (x !== null && typeof x === 'object') {
    const entries = Object.entries(x as Record<string, unknown>).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  // JSON has no Infinity; the text only has to be stable.
  return typeof x === 'number' && !Number.isFinite(x) ? JSON.stringify(String(x)) : JSON.stringify(x);
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  // A small part (one day of a daily export) is read at once: a stream's setup costs more than its bytes.
  if (statSync(path).size <= 1 << 20) return hash.update(readFileSync(path)).digest('hex');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** sha256 (hex) over each file's label, absolute path and content hash, in the order given, and the settings' canonical JSON. */
export async function inputFingerprint(files: readonly { label: string; path: string }[], settings: unknown): Promise<string> {
  const hash = createHash('sha256');
  hash.update(`finseg quarantine layout ${QUARANTINE_LAYOUT}\n${canonicalJson(settings)}\n`);
  for (const f of files) hash.update(`${f.label}\t${resolve(f.path)}\t${await sha256File(f.path)}\n`);
  return hash.digest('hex');
}

/** The quarantine folder of an input: `<root>/<first 16 hex digits of its fingerprint>`. */
export function quarantineFolder(root: string, fingerprint: string): string {
  return resolve(root, fingerprint.slice(0, FOLDER_DIGITS));
}

/**
 * The quarantine folder of one ingest run. The input is fingerprinted only when a first row is
 * quarantined: hashing gigabytes of clean input would cost seconds for nothing.
 */
export class QuarantineTarget {
  private fingerprintPromise: Promise<string> | null = null;
  /** Files this run wrote, and files it found already written by an earlier run on the same input. */
  written = 0;
  reused = 0;
  constructor(
    private readonly root: string,
    private readonly files: readonly { label: string; path: string }[],
    private readonly settings: unknown,
  ) {}

  /** The input's fingerprint (sha256 hex), computed once. */
  fingerprint(): Promise<string> {
    return (this.fingerprintPromise ??= inputFingerprint(this.files, this.settings));
  }

  /** The folder (not created). */
  async dir(): Promise<string> {
    return quarantineFolder(this.root, await this.fingerprint());
  }

  /**
   * Writes `<dir>/<name>` unless it exists. `write(tmp)` fills a temporary sibling that is then
   * renamed into place, so a run that dies midway leaves no partial file for a later run to reuse.
   */
  async writeOnce(name: string, write: (tmp: string) => Promise<void>): Promise<void> {
    const dir = await this.dir();
    const path = join(dir, name);
    if (existsSync(path)) {
      this.reused++;
      return;
    }
    mkdirSync(dir, { recursive: true });
    const tmp = join(dir, `.${name}.${process.pid}.tmp`);
    try {
      await write(tmp);
      renameSync(tmp, path);
    } finally {
      rmSync(tmp, { force: true });
    }
    this.written++;
  }
}

/**
 * Creates TEMP TABLE `target (__file, __line, <the source files' own columns as text>)` holding
 * the rows at the (file index, line) pairs `linesSql` selects, read again from the source files:
 * text and Arrow through the normaliser with a line filter (CSV in the shape staging found, `csvShapes`
 * by file index; CSV or Arrow parts with the same header into one shared copy, one scan), Parquet by row number. Files with differing columns are combined by name. Only quarantined rows are read back, so nothing of the
 * accepted rows is held.
 */
export async function stageOriginalRows(conn: DuckDBConnection, files: readonly SourceFile[], csvShapes: readonly (CsvShape | null)[], linesSql: string, csv: CsvParams, target: string): Promise<void> {
  const wanted = await readColumns(conn, `SELECT __file, __line FROM (${linesSql}) ORDER BY __file, __line`);
  const byFile = new Map<number, number[]>();
  for (let i = 0; i < wanted.rowCount; i++) {
    const f = wanted.numeric.__file![i]!;
    const lines = byFile.get(f) ?? byFile.set(f, []).get(f)!;
    lines.push(wanted.numeric.__line![i]!);
  }
  const work = mkdtempSync(join(tmpdir(), 'finseg-quarantine-'));
  const selects: string[] = [];
  const text = `CAST(COLUMNS(* EXCLUDE (__file, __line)) AS VARCHAR)`;
  // CSV or Arrow parts with the same header share one copy, read by one scan (scan-groups.ts); the records dropped as malformed are not read back.
  const copies = new SharedCopies(work, 'copy');
  const csvCopies = new Map<string, NormalisedFile>();
  const sink = new MalformedSink(join(work, 'malformed.csv'));
  try {
    try {
      for (const [index, lineList] of byFile) {
        const file = files[index]!;
        const keep = sortedLines(Float64Array.from(lineList));
        if (file.format === 'parquet') {
          selects.push(`SELECT CAST(${index} AS INTEGER) AS __file, CAST(file_row_number + 1 AS BIGINT) AS __line, CAST(COLUMNS(* EXCLUDE (file_row_number)) AS VARCHAR)
            FROM read_parquet(${sqlString(file.path)}, file_row_number = true) WHERE file_row_number + 1 IN (SELECT __line FROM (${linesSql}) WHERE __file = ${index})`);
          continue;
        }
        if (file.format === 'csv' || file.format === 'arrow') {
          const n = file.format === 'csv' ? await normaliseCsv(file, index, csv, copies.sinkFor(file), sink, keep, csvShapes[index] ?? null) : await normaliseArrow(file, index, copies.sinkFor(file), keep);
          csvCopies.set(n.path, n);
          continue;
        }
        const out = join(work, `${index}.jsonl`);
        const n = await normaliseJsonl(file, index, csv, out, sink, keep);
        if (statSync(out).size > 0) {
          // Declared as text, a nested value reads as its JSON, as ingest staged it.
          const reader = (columns: string) => `read_json(${sqlString(out)}, format = 'newline_delimited', ignore_errors = true, maximum_object_size = ${MAX_RECORD_BYTES}${columns})`;
          const names = (await queryRows(conn, `DESCRIBE SELECT * FROM ${reader('')}`)).map((r) => String(r.column_name)).filter((c) => c !== '__file' && c !== '__line');
          const columns = [`'__file': 'BIGINT'`, `'__line': 'BIGINT'`, ...names.map((c) => `${sqlString(c)}: 'VARCHAR'`)].join(', ');
          selects.push(`SELECT CAST(__file AS INTEGER) AS __file, CAST(__line AS BIGINT) AS __line${names.length ? `, ${text}` : ''} FROM ${reader(`, columns = {${columns}}`)}`);
        }
      }
    } finally {
      copies.close();
      sink.close();
    }
    for (const n of csvCopies.values()) {
      const d = n.dialect;
      const columns = ['__file', '__line', ...n.columns!].map((c) => `${sqlString(c)}: 'VARCHAR'`).join(', ');
      selects.push(`SELECT CAST(__file AS INTEGER) AS __file, CAST(__line AS BIGINT) AS __line, ${text}
        FROM read_csv(${sqlString(n.path)}, auto_detect = false, header = true, delim = ${sqlString(d.delimiter)}, quote = ${sqlString(d.quote)}, escape = ${sqlString(d.quote)},
          columns = {${columns}}, ignore_errors = true, max_line_size = ${MAX_RECORD_BYTES * 2})`);
    }
    const body = selects.length ? selects.join('\nUNION ALL BY NAME\n') : 'SELECT CAST(NULL AS INTEGER) AS __file, CAST(NULL AS BIGINT) AS __line WHERE false';
    await conn.run(`CREATE OR REPLACE TEMP TABLE ${sqlIdent(target)} AS ${body}`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * Select items for the original columns of `table` (alias `alias`), each under its own name; a
 * name that is one of finseg's quarantine columns (a vendor column called `value`) gets `_2`.
 */
export async function originalColumnItems(conn: DuckDBConnection, table: string, alias: string): Promise<string[]> {
  const names = (await queryRows(conn, `DESCRIBE ${sqlIdent(table)}`)).map((r) => String(r.column_name)).filter((n) => n !== '__file' && n !== '__line');
  const taken = new Set(QUARANTINE_COLUMNS.map((c) => c.toLowerCase()));
  return names.map((name) => {
    let out = name;
    for (let k = 2; taken.has(out.toLowerCase()); k++) out = `${name}_${k}`;
    taken.add(out.toLowerCase());
    return `${alias}.${sqlIdent(name)} AS ${sqlIdent(out)}`;
  });
}

/** Where the rows of a rejected-rows table (quarantine-rows.ts) come from, for the quarantine file. */
export interface RejectedRowsFile {
  /** The rejected rows, a TEMP TABLE read as `q`. */
  rows: string;
  /** SQL of a row's source file path (reads `q` and `joins`). */
  sourceFile: string;
  /** Added to `__line` to give the line in the source file. */
  lineOffset?: number;
  /** Joins after `q`, and the select items they add after finseg's columns (the source row's own columns). */
  joins?: string;
  columns?: readonly string[];
}

/** COPYs rejected rows (or nulled cells) to a CSV at `path`: QUARANTINE_COLUMNS, then the extra columns, in file, line and column order. */
export async function copyRejectedRows(conn: DuckDBConnection, path: string, file: RejectedRowsFile): Promise<void> {
  const line = file.lineOffset ? `q.__line + ${file.lineOffset}` : 'q.__line';
  const extra = (file.columns ?? []).map((c) => `, ${c}`).join('');
  await conn.run(
    `COPY (SELECT ${file.sourceFile} AS source_file, ${line} AS line, q.__reason AS reason, q.__column AS "column", q.__value AS value, q.__detail AS detail${extra}
           FROM ${file.rows} q${file.joins ? ` ${file.joins}` : ''}
           ORDER BY q.__file, q.__line, q.__column)
     TO ${sqlString(path)} (FORMAT csv, HEADER, DELIMITER ',')`,
  );
}
