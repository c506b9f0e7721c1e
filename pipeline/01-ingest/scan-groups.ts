import { join } from 'node:path';
import { copyHeader, type CopySink, type NormalisedFile } from './normalise.ts';
import type { SourceFile } from './sources.ts';
import { FileWriter, MAX_RECORD_BYTES, type Dialect } from './text.ts';
import { sqlString } from '../core/duck.ts';

/**
 * A folder of CSV parts read as one DuckDB scan. The normaliser appends the records of every part
 * with the same header into one shared copy, each record still prefixed with its own file index
 * and physical line, so one `read_csv` stages them all and the quarantine's file and line stay
 * exact. One query per file cost more than reading the rows of a small part: planning, a rejects
 * table to collect and drop, and DuckDB's own per-file setup in a `read_csv` list (measured in
 * bench/many-files.ts, docs/performance.md).
 */

/** A file as the scan groups see it. */
export interface GroupableFile {
  file: SourceFile;
  index: number;
  normalised: NormalisedFile | null;
}

/** Files read by one scan, in file-index order. */
export interface ScanGroup<F extends GroupableFile> {
  files: F[];
  /** True when the files share one normalised CSV copy, read by `csvCopyReader`. */
  csv: boolean;
}

/**
 * The shared normalised copies of one table, one per header: the same delimiter, quote, column
 * names in the same order, and the same partition values (read as constants). `read_csv` with
 * declared columns maps fields by position, so a part whose header orders its columns otherwise
 * gets a copy, and a scan, of its own: never a misread column.
 */
export class SharedCopies {
  private readonly copies = new Map<string, FileWriter>();
  constructor(
    private readonly dir: string,
    private readonly prefix: string,
  ) {}

  /** The sink of one file: its records go to the copy of its header. */
  sinkFor(file: SourceFile): CopySink & { readonly path: string } {
    let writer: FileWriter | null = null;
    let start = 0;
    return {
      get path() {
        return writer?.path ?? '';
      },
      open: (columns: readonly string[], dialect: Dialect) => {
        const key = JSON.stringify([dialect.delimiter, dialect.quote, columns, Object.entries(file.partitions)]);
        writer = this.copies.get(key) ?? null;
        if (!writer) {
          writer = new FileWriter(join(this.dir, `${this.prefix}-${this.copies.size}.csv`));
          writer.text(copyHeader(columns, dialect));
          this.copies.set(key, writer);
        }
        start = writer.length;
        return writer;
      },
      close: (keep: boolean) => {
        if (writer && !keep) writer.truncate(start);
      },
    };
  }

  /** Closes every copy (before DuckDB reads them). */
  close(): void {
    for (const w of this.copies.values()) w.close();
  }
}

/**
 * Files read by one scan: those sharing a normalised CSV copy together, every other file (JSON
 * Lines, Parquet mixed with text) alone. Groups come in the order of their first file.
 */
export function scanGroups<F extends GroupableFile>(files: readonly F[]): ScanGroup<F>[] {
  const groups = new Map<string, ScanGroup<F>>();
  for (const f of files) {
    const n = f.normalised;
    const key = n?.kind === 'csv' ? `copy ${n.path}` : `file ${f.index}`;
    const group = groups.get(key);
    if (group) group.files.push(f);
    else groups.set(key, { files: [f], csv: n?.kind === 'csv' });
  }
  return [...groups.values()];
}

/**
 * The `read_csv` of a group's shared copy (every column text, `__file` and `__line` first),
 * rejecting malformed records into `rejects` / `rejectsScan` rather than failing.
 */
export function csvCopyReader(files: readonly GroupableFile[], rejects: string, rejectsScan: string): string {
  const n = files[0]!.normalised!;
  const columns = ['__file', '__line', ...n.columns!].map((c) => `${sqlString(c)}: 'VARCHAR'`).join(', ');
  return `read_csv(${sqlString(n.path)}, auto_detect = false, header = true, delim = ${sqlString(n.dialect.delimiter)}, quote = ${sqlString(n.dialect.quote)}, escape = ${sqlString(n.dialect.quote)},
      columns = {${columns}}, store_rejects = true, strict_mode = true, rejects_table = ${sqlString(rejects)}, rejects_scan = ${sqlString(rejectsScan)},
      max_line_size = ${MAX_RECORD_BYTES * 2})`;
}
