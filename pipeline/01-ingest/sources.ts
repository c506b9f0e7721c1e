import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, sep } from 'node:path';
import type { TableName } from './contract.ts';
import { closestNames } from './names.ts';
import { InputError } from '../core/errors.ts';

/** How a file is read; the format is taken from the extension. */
export type SourceFormat = 'parquet' | 'csv' | 'jsonl' | 'arrow';

/** One file of a table. */
export interface SourceFile {
  readonly path: string;
  readonly format: SourceFormat;
  readonly gzip: boolean;
  /** A tab-separated file by its extension (the delimiter is then not sniffed). */
  readonly tsv: boolean;
  /** Hive-style partition values from the folders between the table folder and the file (`month=2026-01/…`). */
  readonly partitions: Readonly<Record<string, string>>;
}

/** Where a table is read from: one file, or every supported file under a folder. */
export interface TableSource {
  readonly table: TableName;
  /** The file, or the folder of files, the table is read from. */
  readonly path: string;
  readonly format: SourceFormat;
  /** In a stable order (sorted paths), so line numbers and "first row wins" are reproducible. */
  readonly files: readonly SourceFile[];
}

/** Supported extensions, longest first so `.csv.gz` wins over `.gz`. */
const EXTENSIONS: readonly [string, SourceFormat, boolean][] = [
  ['.csv.gz', 'csv', true],
  ['.tsv.gz', 'csv', true],
  ['.jsonl.gz', 'jsonl', true],
  ['.ndjson.gz', 'jsonl', true],
  ['.parquet', 'parquet', false],
  ['.csv', 'csv', false],
  ['.tsv', 'csv', false],
  ['.jsonl', 'jsonl', false],
  ['.ndjson', 'jsonl', false],
  ['.arrow', 'arrow', false],
  ['.arrows', 'arrow', false],
  ['.ipc', 'arrow', false],
  ['.feather', 'arrow', false],
];

/** The extensions finseg reads, for messages and `finseg init`. */
export const SUPPORTED_EXTENSIONS: readonly string[] = EXTENSIONS.map(([e]) => e);

/** The format of a file by its extension, or null when finseg cannot read it. */
export function formatOf(path: string): { format: SourceFormat; gzip: boolean; tsv: boolean } | null {
  const lower = path.toLowerCase();
  for (const [ext, format, gzip] of EXTENSIONS) if (lower.endsWith(ext)) return { format, gzip, tsv: ext.startsWith('.tsv') };
  return null;
}

/** A file name without its supported extension (`customers.csv.gz` → `customers`). */
export function stemOf(path: string): string {
  const name = basename(path);
  const lower = name.toLowerCase();
  for (const [ext] of EXTENSIONS) if (lower.endsWith(ext)) return name.slice(0, name.length - ext.length);
  return name;
}

/**
 * Finds where a table lives in a data folder: `<table>.<ext>` for any supported extension,
 * or a folder `<table>/` of such files (e.g. one Parquet file per month, hive partitions), or
 * an explicit path from the config (relative to the data folder).
 */
export function locateTable(dataDir: string, table: TableName, explicit?: string): TableSource | null {
  if (explicit) {
    const path = isAbsolute(explicit) ? explicit : join(dataDir, explicit);
    if (!existsSync(path)) {
      const folder = dirname(path);
      const nearby = existsSync(folder) && statSync(folder).isDirectory() ? readdirSync(folder) : [];
      throw new InputError(`file for table ${table} not found: ${path}`, [
        `set in the config at "ingest.files.${table}" (relative to the data folder ${dataDir})`,
        nearby.length ? `closest in ${folder}: ${closestNames(basename(path), nearby).join(', ')}` : `folder ${folder} does not exist`,
      ]);
    }
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
  if (statSync(path).isDirectory()) {
    // Hidden files and Spark/Hadoop markers (_SUCCESS, .crc) are not data.
    const files = listFilesDeep(path)
      .filter((f) => !/^[._]/.test(basename(f)))
      .sort();
    const readable = files.filter((f) => formatOf(f) !== null);
    const unreadable = files.filter((f) => formatOf(f) === null);
    if (readable.length === 0) {
      throw new InputError(`folder ${path} for table ${table} holds no readable file`, [`supported: ${SUPPORTED_EXTENSIONS.join(', ')}`, unreadable.length ? `found: ${unreadable.slice(0, 5).map((f) => relative(path, f)).join(', ')}` : 'the folder is empty']);
    }
    if (unreadable.length > 0) {
      throw new InputError(`folder ${path} for table ${table} holds files finseg cannot read`, [`e.g. ${unreadable.slice(0, 5).map((f) => relative(path, f)).join(', ')}`, `supported: ${SUPPORTED_EXTENSIONS.join(', ')}`]);
    }
    const formats = new Set(readable.map((f) => formatOf(f)!.format));
    if (formats.size !== 1) throw new InputError(`folder ${path} for table ${table} mixes formats (${[...formats].join(', ')}); use one format per table`);
    const sources = readable.map((f) => fileSource(f, partitionsOf(path, f)));
    const keys = JSON.stringify(Object.keys(sources[0]!.partitions).sort());
    const odd = sources.find((s) => JSON.stringify(Object.keys(s.partitions).sort()) !== keys);
    if (odd) throw new InputError(`folder ${path} for table ${table}: partition folders differ (${relative(path, sources[0]!.path)} vs ${relative(path, odd.path)})`);
    return { table, path, format: [...formats][0]!, files: sources };
  }
  const format = formatOf(path);
  if (!format) throw new InputError(`cannot tell the format of ${path} from its extension`, [`supported: ${SUPPORTED_EXTENSIONS.join(', ')}`]);
  return { table, path, format: format.format, files: [fileSource(path, {})] };
}

function fileSource(path: string, partitions: Record<string, string>): SourceFile {
  const f = formatOf(path)!;
  return { path, format: f.format, gzip: f.gzip, tsv: f.tsv, partitions };
}

/** `key=value` folder names between the table folder and the file. */
function partitionsOf(root: string, file: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of relative(root, dirname(file)).split(sep)) {
    const m = /^([^=]+)=(.*)$/.exec(part);
    if (m) out[m[1]!] = decodeURIComponent(m[2]!);
  }
  return out;
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
