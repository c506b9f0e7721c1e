import { createReadStream } from 'node:fs';
import { RecordBatchReader, Type, type DataType, type Vector } from 'apache-arrow';
import { detectDialectBytes } from './dialect.ts';
import type { CsvParams } from './params.ts';
import type { SourceFile } from './sources.ts';
import { FileWriter, RecordScanner, csvField, displayText, quotesBalanced, sampleOf, splitRecord, utf8Chunks, type ByteInfo, type Dialect } from './text.ts';
import { InputError } from '../core/errors.ts';

/**
 * Rewrites a text or Arrow file into a file DuckDB reads with exact provenance: every record
 * gets its source file index and physical line number as the first two fields. Records that
 * cannot be rows at all (a quote that never closes, a JSON line that is not an object) go to a
 * side file with their line instead. All of it streams: one chunk, one record, one Arrow batch.
 */

/** Rows that the normaliser itself found malformed: written as CSV (file, line, detail, text) for DuckDB to load. */
export class MalformedSink {
  private readonly writer: FileWriter;
  count = 0;
  constructor(path: string) {
    this.writer = new FileWriter(path);
    this.writer.text('__file,__line,__detail,__text\n');
  }
  add(fileIndex: number, line: number, detail: string, text: string): void {
    this.count++;
    this.writer.text(`${fileIndex},${line},${csvField(detail)},${csvField(displayText(text))}\n`);
  }
  close(): void {
    this.writer.close();
  }
}

/** The result of normalising one file. */
export interface NormalisedFile {
  /** The rewritten file: CSV (`__file`, `__line`, then the source's columns) or JSON Lines (with `__file`, `__line` keys). */
  path: string;
  kind: 'csv' | 'jsonl';
  /** The source's column names in order (CSV header, Arrow schema); null for JSON Lines, whose keys DuckDB reads. */
  columns: string[] | null;
  dialect: Dialect;
  /** Data records seen (blank lines are not records), including those sent to the malformed sink. */
  records: number;
  /** Of which the normaliser sent this many to the malformed sink. */
  malformed: number;
  /** JSON Lines: the [first, last] line ranges written, to find lines DuckDB could not parse. */
  ranges: [number, number][];
  bytes: ByteInfo;
  /** 'lines' when a quote never closed and every physical line was read as one record. */
  mode: 'quoted' | 'lines';
}

/** Column names from a header: trimmed, blanks named `column<N>`, repeats suffixed `_2`, `_3`. */
export function headerNames(fields: string[]): string[] {
  const seen = new Map<string, number>();
  return fields.map((raw, i) => {
    let name = raw.trim() || `column${i + 1}`;
    const k = seen.get(name.toLowerCase()) ?? 0;
    seen.set(name.toLowerCase(), k + 1);
    if (k > 0) name = `${name}_${k + 1}`;
    return name;
  });
}

/** Why a record with bytes that are not UTF-8 is malformed, with the fix. */
const NOT_UTF8 = 'INVALID ENCODING: bytes that are not valid UTF-8 (if the file is GBK, GB18030 or Latin-1, set ingest.csv.encoding)';

/** A field quoted in the file's own dialect when it has to be. */
function dialectField(value: string, d: Dialect): string {
  return value.includes(d.delimiter) || value.includes(d.quote) || /[\r\n]/.test(value) ? `${d.quote}${value.replaceAll(d.quote, d.quote + d.quote)}${d.quote}` : value;
}

const isBlank = (buf: Buffer, start: number, end: number): boolean => {
  for (let i = start; i < end; i++) if (buf[i] !== 0x20) return false;
  return true;
};

/**
 * Where a normaliser writes a CSV's records: a file of its own, or a copy it shares with the
 * other files of the same columns (scan-groups.ts), so DuckDB reads a folder of parts in one scan.
 */
export interface CopySink {
  /** The writer for a file with this header; the copy's header line is written when the copy is new. */
  open(columns: readonly string[], dialect: Dialect): FileWriter;
  /** This file is done: with `keep` false, what it wrote since `open` is dropped (a second pass follows). */
  close(keep: boolean): void;
}

/** The header line of a normalised copy: `__file`, `__line`, then the source's columns, in its dialect. */
export function copyHeader(columns: readonly string[], d: Dialect): string {
  return ['__file', '__line', ...columns].map((c) => dialectField(c, d)).join(d.delimiter) + '\n';
}

/** A CopySink that writes a file of its own at `path`. */
export function ownFile(path: string): CopySink & { readonly path: string } {
  let writer: FileWriter | null = null;
  return {
    path,
    open(columns, dialect) {
      writer = new FileWriter(path);
      writer.text(copyHeader(columns, dialect));
      return writer;
    },
    close() {
      writer?.close();
      writer = null;
    },
  };
}

/** Which records a normaliser writes, by physical line (row number for Arrow); null = all. */
export type LineFilter = ((line: number) => boolean) | null;

/** A filter for the lines of a sorted list, asked in ascending order (as a scanner reads a file). */
export function sortedLines(lines: Float64Array): (line: number) => boolean {
  let k = 0;
  return (line) => {
    while (k < lines.length && lines[k]! < line) k++;
    return k < lines.length && lines[k] === line;
  };
}

/** How a CSV file was read: its dialect, and whether records were split by quotes or (a quote never closed) by lines. */
export interface CsvShape {
  dialect: Dialect;
  mode: 'quoted' | 'lines';
}

/**
 * CSV/TSV (optionally gzipped) → a CSV with `__file`, `__line` prefixed to every record, in the
 * source's dialect; with `keep`, only the records it accepts (the quarantine's original rows).
 * `known` is the shape an earlier pass over the same file found (staging, for the quarantine's
 * read-back): neither sniffed nor tried in quoted mode again, so the records are the same.
 */
export async function normaliseCsv(
  file: SourceFile,
  fileIndex: number,
  csv: CsvParams,
  out: string | (CopySink & { readonly path: string }),
  malformed: MalformedSink,
  keep: LineFilter = null,
  known: CsvShape | null = null,
): Promise<NormalisedFile> {
  const sink = typeof out === 'string' ? ownFile(out) : out;
  const stream: ReadText = (bytes) => utf8Chunks(file, csv.encoding, bytes);
  if (known) {
    const again = await scanCsv(file, fileIndex, stream, known.dialect, known.mode, sink, malformed, keep);
    if (again) return again;
  }
  const sampleBytes: ByteInfo = { encoding: 'utf-8', bom: false };
  const { sample, complete } = await sampleOf(file, csv.encoding, undefined, sampleBytes);
  if (sample.length === 0) throw new InputError(`${file.path} is empty: expected a header line with column names`);
  const dialect = detectDialectBytes(sample, complete, { delimiter: csv.delimiter, quote: csv.quote, tsv: file.tsv });
  // A sample that holds the whole file (a small part) is the file: it is not read again.
  const read: ReadText = complete ? (bytes) => (Object.assign(bytes, sampleBytes), [sample]) : stream;
  const first = await scanCsv(file, fileIndex, read, dialect, 'quoted', sink, malformed, keep);
  if (first) return first;
  // A quote never closed: read every physical line as a record so one bad line costs one row.
  return (await scanCsv(file, fileIndex, read, dialect, 'lines', sink, malformed, keep))!;
}

/** A file's text as UTF-8 chunks, noting its encoding and byte-order mark in `bytes`. */
type ReadText = (bytes: ByteInfo) => AsyncIterable<Buffer> | Iterable<Buffer>;

async function scanCsv(
  file: SourceFile,
  fileIndex: number,
  read: ReadText,
  dialect: Dialect,
  mode: 'quoted' | 'lines',
  sink: CopySink & { readonly path: string },
  malformed: MalformedSink,
  keep: LineFilter,
): Promise<NormalisedFile | null> {
  let writer: FileWriter | null = null;
  const d = dialect.delimiter;
  const dCode = d.charCodeAt(0);
  const qCode = dialect.quote.charCodeAt(0);
  const bytes: ByteInfo = { encoding: 'utf-8', bom: false };
  let columns: string[] | null = null;
  let records = 0;
  let bad = 0;
  const pendingMalformed: [number, string, string][] = [];
  const scanner = new RecordScanner(mode, dialect, (buf, start, end, line, utf8) => {
    if (end === start || isBlank(buf, start, end)) return;
    if (columns === null) {
      columns = headerNames(splitRecord(buf.toString('utf8', start, end), dialect));
      writer = sink.open(columns, dialect);
      return;
    }
    records++;
    if (keep && !keep(line)) return;
    if (!utf8) {
      // Invalid bytes never reach DuckDB, whose reject path can fail on them (an INTERNAL error seen in fuzzing).
      bad++;
      pendingMalformed.push([line, NOT_UTF8, buf.toString('utf8', start, end)]);
      return;
    }
    if (mode === 'lines' && !quotesBalanced(buf, start, end, dCode, qCode)) {
      bad++;
      pendingMalformed.push([line, 'a quote opens a field and never closes', buf.toString('utf8', start, end)]);
      return;
    }
    writer!.text(`${fileIndex}${d}${line}${d}`);
    writer!.bytes(buf, start, end);
    writer!.text('\n');
  });
  let done = false;
  try {
    for await (const chunk of read(bytes)) {
      if (!scanner.push(chunk)) break;
    }
    if (!scanner.unterminated) scanner.end();
    done = !scanner.unterminated;
  } finally {
    sink.close(done);
  }
  if (scanner.unterminated) return null;
  // Only now, when this pass is final, do its malformed records count.
  for (const [line, detail, text] of pendingMalformed) malformed.add(fileIndex, line, detail, text);
  if (columns === null) throw new InputError(`${file.path} is empty: expected a header line with column names`);
  return { path: sink.path, kind: 'csv', columns, dialect, records, malformed: bad, ranges: [], bytes, mode };
}

/** JSON Lines (optionally gzipped) → JSON Lines with `"__file"` and `"__line"` keys first in every object (only the lines `keep` accepts). */
export async function normaliseJsonl(file: SourceFile, fileIndex: number, csv: CsvParams, outPath: string, malformed: MalformedSink, keep: LineFilter = null): Promise<NormalisedFile> {
  const writer = new FileWriter(outPath);
  const bytes: ByteInfo = { encoding: 'utf-8', bom: false };
  const ranges: [number, number][] = [];
  let records = 0;
  let bad = 0;
  const scanner = new RecordScanner('lines', { delimiter: ',', quote: '"' }, (buf, start, end, line, utf8) => {
    let s = start;
    while (s < end && (buf[s] === 0x20 || buf[s] === 0x09)) s++;
    if (s === end) return;
    records++;
    if (keep && !keep(line)) return;
    if (!utf8) {
      bad++;
      malformed.add(fileIndex, line, NOT_UTF8, buf.toString('utf8', start, end));
      return;
    }
    if (buf[s] !== 0x7b /* { */) {
      bad++;
      malformed.add(fileIndex, line, 'not a JSON object (a JSON Lines row must start with "{")', buf.toString('utf8', start, end));
      return;
    }
    let rest = s + 1;
    while (rest < end && (buf[rest] === 0x20 || buf[rest] === 0x09)) rest++;
    writer.text(`{"__file":${fileIndex},"__line":${line}${buf[rest] === 0x7d /* } */ ? '' : ','}`);
    writer.bytes(buf, rest, end);
    writer.text('\n');
    const last = ranges[ranges.length - 1];
    if (last && last[1] === line - 1) last[1] = line;
    else ranges.push([line, line]);
  });
  try {
    for await (const chunk of utf8Chunks(file, csv.encoding, bytes)) scanner.push(chunk);
    scanner.end();
  } finally {
    writer.close();
  }
  return { path: outPath, kind: 'jsonl', columns: null, dialect: { delimiter: ',', quote: '"' }, records, malformed: bad, ranges, bytes, mode: 'lines' };
}

const pad2 = (n: number): string => (n < 10 ? `0${n}` : String(n));

/** 'YYYY-MM-DD HH:MM:SS[.ffffff]' (UTC) of a count of microseconds since the epoch. */
function formatMicros(micros: bigint): string {
  const seconds = micros >= 0n ? micros / 1_000_000n : -((-micros + 999_999n) / 1_000_000n);
  const frac = Number(micros - seconds * 1_000_000n);
  const date = new Date(Number(seconds) * 1000);
  const base = `${date.toISOString().slice(0, 10)} ${pad2(date.getUTCHours())}:${pad2(date.getUTCMinutes())}:${pad2(date.getUTCSeconds())}`;
  return frac === 0 ? base : `${base}.${String(frac).padStart(6, '0')}`;
}

const MICROS_PER_UNIT = [1_000_000n, 1_000n, 1n]; // TimeUnit SECOND, MILLISECOND, MICROSECOND; NANOSECOND divides

/** A function that renders row i of an Arrow column as CSV text ('' for null). */
function columnFormatter(vector: Vector, type: DataType): (i: number) => string {
  const text = (v: unknown): string => {
    if (v === null || v === undefined) return '';
    if (typeof v === 'string') return csvField(v);
    if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') return String(v);
    return csvField(JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x)));
  };
  switch (type.typeId) {
    case Type.Timestamp: {
      // Raw 64-bit values keep microseconds exact (get() returns float milliseconds).
      const data = vector.data[0]!;
      const values = data.values as BigInt64Array;
      const unit = (type as unknown as { unit: number }).unit;
      return (i) => {
        if (!vector.isValid(i)) return '';
        const raw = values[data.offset + i]!;
        return formatMicros(unit === 3 ? raw / 1000n : raw * MICROS_PER_UNIT[unit]!);
      };
    }
    case Type.Date:
      return (i) => {
        const ms = vector.get(i) as number | null;
        return ms === null ? '' : new Date(ms).toISOString().slice(0, 10);
      };
    case Type.Dictionary:
    default:
      return (i) => text(vector.get(i));
  }
}

/**
 * Arrow IPC (file or stream) → CSV with `__file`, `__line` (the 1-based row number), one record
 * batch at a time (only the rows `keep` accepts); into a file of its own, or a copy shared with
 * the other parts of the same schema (scan-groups.ts).
 */
export async function normaliseArrow(file: SourceFile, fileIndex: number, out: string | (CopySink & { readonly path: string }), keep: LineFilter = null): Promise<NormalisedFile> {
  const sink = typeof out === 'string' ? ownFile(out) : out;
  let writer: FileWriter | null = null;
  let records = 0;
  let columns: string[] = [];
  let done = false;
  try {
    const reader = await RecordBatchReader.from(createReadStream(file.path, { highWaterMark: 1 << 20 }));
    await reader.open();
    if (!reader.schema) throw new Error('no schema');
    columns = headerNames(reader.schema.fields.map((f) => f.name));
    writer = sink.open(columns, ARROW_DIALECT);
    for await (const batch of reader) {
      const formatters = batch.schema.fields.map((f, j) => columnFormatter(batch.getChildAt(j)!, f.type));
      let chunk = '';
      for (let i = 0; i < batch.numRows; i++) {
        records++;
        if (keep && !keep(records)) continue;
        chunk += `${fileIndex},${records}`;
        for (const format of formatters) chunk += `,${format(i)}`;
        chunk += '\n';
        if (chunk.length > 1 << 20) {
          writer.text(chunk);
          chunk = '';
        }
      }
      writer.text(chunk);
    }
    done = true;
  } catch (e) {
    if (e instanceof InputError) throw e;
    const err = e as NodeJS.ErrnoException;
    // File-system errors say so; anything else (a bad length, a missing footer) is the file's content.
    const fsErrors: Record<string, string> = { ENOENT: 'the file does not exist', EACCES: 'permission denied', EPERM: 'permission denied', EISDIR: 'it is a folder' };
    if (err.code && err.code in fsErrors) throw new InputError(`cannot read ${file.path}: ${fsErrors[err.code]}`);
    throw new InputError(`cannot read ${file.path} as Arrow IPC: the file is truncated or not an Arrow IPC file or stream`, [`arrow: ${err.message}`, `read ${records} rows before the error`]);
  } finally {
    sink.close(done);
  }
  return { path: sink.path, kind: 'csv', columns, dialect: ARROW_DIALECT, records, malformed: 0, ranges: [], bytes: { encoding: 'binary', bom: false }, mode: 'quoted' };
}

/** The dialect Arrow rows are written in (csvField quotes a field when it has to). */
const ARROW_DIALECT: Dialect = { delimiter: ',', quote: '"' };
