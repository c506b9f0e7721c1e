import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { TableName } from './contract.ts';
import { sqlString } from '../core/duck.ts';
import { InputError } from '../core/errors.ts';

/** How a table's file is read; the format is taken from the extension. */
export type SourceFormat = 'parquet' | 'csv' | 'jsonl';

export interface TableSource {
  readonly table: TableName;
  /** The file, or the folder of files, the table is read from. */
  readonly path: string;
  readonly format: SourceFormat;
  /** A DuckDB table-function expression that reads every row, as text where the format allows. */
  readonly reader: string;
}

const EXTENSIONS: readonly [string, SourceFormat][] = [
  ['.parquet', 'parquet'],
  ['.csv', 'csv'],
  ['.csv.gz', 'csv'],
  ['.tsv', 'csv'],
  ['.jsonl', 'jsonl'],
  ['.ndjson', 'jsonl'],
];

/** The format of a file by its extension, or null when finseg cannot read it. */
export function formatOf(path: string): SourceFormat | null {
  const lower = path.toLowerCase();
  for (const [ext, format] of EXTENSIONS) if (lower.endsWith(ext)) return format;
  return null;
}

/** A DuckDB reader for a file or glob. CSV is read all-text so that finseg, not the sniffer, decides what is unparseable. */
export function readerFor(pathOrGlob: string, format: SourceFormat): string {
  const p = sqlString(pathOrGlob);
  switch (format) {
    case 'parquet':
      return `read_parquet(${p}, union_by_name = true)`;
    case 'csv':
      return `read_csv(${p}, header = true, all_varchar = true, union_by_name = true)`;
    case 'jsonl':
      return `read_json(${p}, format = 'newline_delimited', union_by_name = true)`;
  }
}

/**
 * Finds where a table lives in a data folder: `<table>.<ext>` for any supported extension,
 * or a folder `<table>/` of such files (e.g. one Parquet file per month), or an explicit
 * path from the config (relative to the data folder).
 */
export function locateTable(dataDir: string, table: TableName, explicit?: string): TableSource | null {
  if (explicit) {
    const path = explicit.startsWith('/') ? explicit : join(dataDir, explicit);
    return sourceFromPath(table, path);
  }
  for (const [ext] of EXTENSIONS) {
    const path = join(dataDir, `${table}${ext}`);
    if (existsSync(path)) return sourceFromPath(table, path);
  }
  const dir = join(dataDir, table);
  if (existsSync(dir) && statSync(dir).isDirectory()) return sourceFromPath(table, dir);
  return null;
}

function sourceFromPath(table: TableName, path: string): TableSource {
  if (existsSync(path) && statSync(path).isDirectory()) {
    const files = listFilesDeep(path);
    const formats = new Set(files.map(formatOf).filter((f): f is SourceFormat => f !== null));
    if (formats.size !== 1) {
      throw new InputError(`folder ${path} for table ${table} must hold files of one supported format, found: ${[...formats].join(', ') || 'none'}`);
    }
    const format = [...formats][0]!;
    const ext = format === 'parquet' ? 'parquet' : format === 'csv' ? 'csv' : 'jsonl';
    return { table, path, format, reader: readerFor(join(path, `**/*.${ext}`), format) };
  }
  const format = formatOf(path);
  if (!format) throw new InputError(`cannot tell the format of ${path} from its extension (use .parquet, .csv, .csv.gz, .jsonl)`);
  return { table, path, format, reader: readerFor(path, format) };
}

function listFilesDeep(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listFilesDeep(full));
    else out.push(full);
  }
  return out;
}
