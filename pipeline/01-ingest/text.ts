import { isUtf8 } from 'node:buffer';
import { closeSync, createReadStream, ftruncateSync, openSync, readFileSync, statSync, writeSync, type ReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
import type { SourceFile } from './sources.ts';
import { InputError } from '../core/errors.ts';

/**
 * Byte-level reading of text tables (CSV, TSV, JSON Lines, gzipped or not) as a stream:
 * decompression, encodings and byte-order marks, and a record scanner that knows each record's
 * physical line number (dialect detection is in dialect.ts). Nothing here holds more than one chunk and one
 * record in memory, so a 50M-row file streams through in constant memory.
 */

const LF = 0x0a;
const CR = 0x0d;
/** A single record longer than this is not a table row (a quote that never closes, a binary file). */
export const MAX_RECORD_BYTES = 16 << 20;
const CHUNK_BYTES = 1 << 20;

/** The delimiter and quote character of a CSV file. */
export interface Dialect {
  delimiter: string;
  quote: string;
}

/** What the reader learnt about a file's bytes. */
export interface ByteInfo {
  /** 'utf-8' (with or without BOM), or the decoder used. */
  encoding: string;
  bom: boolean;
}

function fileError(path: string, e: unknown): InputError {
  const err = e as NodeJS.ErrnoException;
  const why =
    err.code === 'ENOENT' ? 'the file does not exist'
    : err.code === 'EACCES' || err.code === 'EPERM' ? 'permission denied'
    : err.code === 'EISDIR' ? 'it is a folder'
    : err.code === 'Z_BUF_ERROR' || /unexpected end of file/i.test(err.message) ? 'the file is truncated (the gzip stream ends early)'
    : err.code === 'Z_DATA_ERROR' ? `it is not valid gzip data (${err.message})`
    : err instanceof TypeError && /encoded data was not valid/i.test(err.message) ? `it is not valid text in its encoding (${err.message})`
    : err.message;
  return new InputError(`cannot read ${path}: ${why}`);
}

/**
 * The file's bytes as UTF-8 chunks: gunzipped when the name says so, a UTF-8 BOM removed, a
 * UTF-16 BOM or a configured encoding transcoded (strictly: invalid bytes there stop the file).
 * UTF-8 bytes pass through untouched, so a bad byte costs only its row (DuckDB rejects it).
 */
export async function* utf8Chunks(file: SourceFile, encoding: string, info?: ByteInfo): AsyncGenerator<Buffer> {
  let raw: ReadStream | null = null;
  let stream: Iterable<Buffer> | AsyncIterable<Buffer>;
  try {
    // A small part (one day of a daily export) is read at once: a stream's setup costs more than its bytes.
    if (!file.gzip && statSync(file.path).size <= CHUNK_BYTES) stream = [readFileSync(file.path)];
    else {
      raw = createReadStream(file.path, { highWaterMark: CHUNK_BYTES });
      stream = raw;
      if (file.gzip) {
        const gunzip = createGunzip({ chunkSize: CHUNK_BYTES });
        raw.on('error', (e) => gunzip.destroy(e));
        raw.pipe(gunzip);
        stream = gunzip;
      }
    }
  } catch (e) {
    throw fileError(file.path, e);
  }
  const utf8 = encoding === 'auto' || /^utf-?8$/i.test(encoding);
  let decoder: TextDecoder | null = utf8 ? null : new TextDecoder(encoding, { fatal: true });
  if (info) info.encoding = utf8 ? 'utf-8' : encoding;
  let head: Buffer | null = Buffer.alloc(0);
  try {
    for await (const piece of stream) {
      let chunk = piece;
      if (head !== null) {
        // The byte-order mark needs the first 3 bytes, which a tiny first chunk may not hold.
        head = head.length ? Buffer.concat([head, chunk]) : chunk;
        if (head.length < 3) continue;
        chunk = head;
        head = null;
        if (chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf) {
          chunk = chunk.subarray(3);
          if (info) info.bom = true;
        } else if (utf8 && ((chunk[0] === 0xff && chunk[1] === 0xfe) || (chunk[0] === 0xfe && chunk[1] === 0xff))) {
          const label = chunk[0] === 0xff ? 'utf-16le' : 'utf-16be';
          decoder = new TextDecoder(label, { fatal: true });
          chunk = chunk.subarray(2);
          if (info) Object.assign(info, { encoding: label, bom: true });
        }
      }
      if (decoder) {
        const text = decoder.decode(chunk, { stream: true });
        if (text.length) yield Buffer.from(text, 'utf8');
      } else if (chunk.length) yield chunk;
    }
    if (head !== null && head.length) yield decoder ? Buffer.from(decoder.decode(head, { stream: true }), 'utf8') : head;
    if (decoder) {
      const tail = decoder.decode();
      if (tail.length) yield Buffer.from(tail, 'utf8');
    }
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw fileError(file.path, e);
  } finally {
    raw?.destroy();
  }
}

/** Up to `bytes` bytes from the start of a file (decoded), for sniffing; the whole file when it is smaller (`info` as utf8Chunks fills it). */
export async function sampleOf(file: SourceFile, encoding: string, bytes = 1 << 16, info?: ByteInfo): Promise<{ sample: Buffer; complete: boolean }> {
  const parts: Buffer[] = [];
  let size = 0;
  const it = utf8Chunks(file, encoding, info);
  for await (const chunk of it) {
    parts.push(chunk);
    size += chunk.length;
    if (size >= bytes) {
      await it.return(undefined);
      return { sample: Buffer.concat(parts), complete: false };
    }
  }
  return { sample: Buffer.concat(parts), complete: true };
}

/** Fields of one CSV line, honouring quotes that open a field (`""` inside is one quote). */
export function splitRecord(text: string, d: Dialect): string[] {
  const out: string[] = [];
  let field = '';
  let inQuote = false;
  let fieldStart = true;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (inQuote) {
      if (ch === d.quote) {
        if (text[i + 1] === d.quote) {
          field += ch;
          i++;
        } else inQuote = false;
      } else field += ch;
    } else if (ch === d.delimiter) {
      out.push(field);
      field = '';
      fieldStart = true;
      continue;
    } else if (ch === d.quote && fieldStart) inQuote = true;
    else field += ch;
    fieldStart = false;
  }
  out.push(field);
  return out;
}

/** True when every quote that opens a field in this record also closes. */
export function quotesBalanced(buf: Buffer, start: number, end: number, d: number, q: number): boolean {
  let inQuote = false;
  let fieldStart = true;
  for (let i = start; i < end; i++) {
    const b = buf[i]!;
    if (inQuote) {
      if (b === q) {
        if (i + 1 < end && buf[i + 1] === q) i++;
        else inQuote = false;
      }
      continue;
    }
    if (b === d) {
      fieldStart = true;
      continue;
    }
    if (b === q && fieldStart) inQuote = true;
    fieldStart = false;
  }
  return !inQuote;
}

/**
 * Called once per record: bytes [start, end) of buf (no line terminator), the physical line it
 * starts on, and whether the record is valid UTF-8.
 */
export type RecordSink = (buf: Buffer, start: number, end: number, line: number, utf8: boolean) => void;

/**
 * Splits a byte stream into records. In 'quoted' mode a newline inside a quoted field belongs to
 * the record (RFC 4180); in 'lines' mode every physical line is a record (the fallback when a
 * quote never closes, so one stray quote cannot swallow the rest of the file). Each record is
 * reported with the physical line it starts on (1-based). Trailing CR is stripped.
 */
export class RecordScanner {
  private buf: Buffer = Buffer.alloc(0);
  private line = 1;
  /** Set when 'quoted' mode met a quote that never closes (at the end, or within MAX_RECORD_BYTES). */
  unterminated = false;

  constructor(
    private readonly mode: 'quoted' | 'lines',
    private readonly dialect: Dialect,
    private readonly sink: RecordSink,
  ) {}

  /** Feeds the next chunk; returns false once 'quoted' mode gave up (see `unterminated`). */
  push(chunk: Buffer): boolean {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    this.scan(false);
    if (this.buf.length > MAX_RECORD_BYTES) {
      if (this.mode === 'quoted') {
        this.unterminated = true;
        return false;
      }
      throw new InputError(`line ${this.line} is longer than ${MAX_RECORD_BYTES >> 20} MB: this does not look like a text table`);
    }
    return !this.unterminated;
  }

  /** Flushes the last record; returns false when 'quoted' mode ended inside a quote. */
  end(): boolean {
    this.scan(true);
    return !this.unterminated;
  }

  private scan(eof: boolean): void {
    const buf = this.buf;
    const len = buf.length;
    const q = this.dialect.quote.charCodeAt(0);
    let line = this.line;
    let recStart = 0;
    let pos = 0;
    let inQuote = false;
    let sawQuote = false;
    let nextQuote = -2;
    // One native check over every complete line of the buffer (a newline byte never sits inside a
    // multi-byte character); only when it fails is each record checked on its own.
    const lastLF = buf.lastIndexOf(LF);
    const allValid = isUtf8(eof ? buf : buf.subarray(0, lastLF + 1));
    const finish = (end: number, next: number): void => {
      const stop = end > recStart && buf[end - 1] === CR ? end - 1 : end;
      this.sink(buf, recStart, stop, line, allValid || isUtf8(buf.subarray(recStart, stop)));
      // A record with quotes may span lines; count them only then (the common case has none).
      if (sawQuote) for (let i = buf.indexOf(LF, recStart); i !== -1 && i < end; i = buf.indexOf(LF, i + 1)) line++;
      line++;
      recStart = pos = next;
      inQuote = false;
      sawQuote = false;
    };
    if (this.mode === 'lines') {
      for (let nl = buf.indexOf(LF, pos); nl !== -1; nl = buf.indexOf(LF, pos)) finish(nl, nl + 1);
    } else {
      const d = this.dialect.delimiter.charCodeAt(0);
      while (pos < len) {
        if (!inQuote) {
          if (nextQuote !== -1 && nextQuote < pos) nextQuote = buf.indexOf(q, pos);
          const nl = buf.indexOf(LF, pos);
          if (nl !== -1 && (nextQuote === -1 || nl < nextQuote)) {
            finish(nl, nl + 1);
            continue;
          }
          if (nextQuote === -1) break;
          sawQuote = true;
          if (nextQuote === recStart || buf[nextQuote - 1] === d) inQuote = true;
          pos = nextQuote + 1;
        } else {
          const close = buf.indexOf(q, pos);
          if (close === -1) break;
          if (close + 1 >= len) {
            // A quote at the end of the buffer may be the first of a doubled quote: wait for more.
            if (!eof) break;
            inQuote = false;
            pos = close + 1;
            continue;
          }
          if (buf[close + 1] === q) pos = close + 2;
          else {
            inQuote = false;
            pos = close + 1;
          }
        }
      }
    }
    if (eof) {
      if (inQuote) {
        this.unterminated = true;
        return;
      }
      if (recStart < len) finish(len, len);
      this.buf = Buffer.alloc(0);
    } else {
      this.buf = buf.subarray(recStart);
    }
    this.line = line;
  }
}

/** Buffered binary output to a file, flushed in large writes; it can be cut back to an earlier length. */
export class FileWriter {
  private readonly fd: number;
  private readonly out = Buffer.allocUnsafe(4 << 20);
  private pos = 0;
  /** Bytes already in the file (the buffer holds the rest); writes go there by position. */
  private written = 0;
  constructor(readonly path: string) {
    this.fd = openSync(path, 'w');
  }
  /** Bytes written so far, buffered or not. */
  get length(): number {
    return this.written + this.pos;
  }
  text(s: string): void {
    if (this.pos + s.length * 3 > this.out.length) this.flush();
    if (s.length * 3 > this.out.length) {
      this.written += writeSync(this.fd, Buffer.from(s, 'utf8'), 0, undefined, this.written);
      return;
    }
    this.pos += this.out.write(s, this.pos, 'utf8');
  }
  bytes(buf: Buffer, start: number, end: number): void {
    const n = end - start;
    if (this.pos + n > this.out.length) this.flush();
    if (n > this.out.length) {
      this.written += writeSync(this.fd, buf, start, n, this.written);
      return;
    }
    buf.copy(this.out, this.pos, start, end);
    this.pos += n;
  }
  flush(): void {
    if (this.pos > 0) this.written += writeSync(this.fd, this.out, 0, this.pos, this.written);
    this.pos = 0;
  }
  /** Drops everything written after the first `length` bytes (a length taken from `length` earlier). */
  truncate(length: number): void {
    if (length >= this.written) {
      this.pos = length - this.written;
      return;
    }
    ftruncateSync(this.fd, length);
    this.written = length;
    this.pos = 0;
  }
  close(): void {
    this.flush();
    closeSync(this.fd);
  }
}

/** Text of a bad record for display: control characters (NUL, escape, …) shown as \xNN, at most `max` characters. */
export function displayText(text: string, max = 2000): string {
  const shown = text.length > max ? `${text.slice(0, max)}…` : text;
  return shown.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** A CSV field, quoted when it has to be. */
export function csvField(value: string): string {
  return /[",\r\n]/.test(value) || value !== value.trim() ? `"${value.replaceAll('"', '""')}"` : value;
}
