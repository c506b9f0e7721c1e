import { splitRecord, type Dialect } from './text.ts';

/**
 * Dialect detection: which delimiter and quote a CSV file is written with, from a sample of its
 * first lines. On a folder of small parts every line of every part is sniffed, so the counting
 * is done on bytes (`detectDialectBytes`), checked against the plain text version.
 */

const LF = 0x0a;
const CR = 0x0d;

/** How many fields `splitRecord` finds in a line, without building them (dialect detection tries eight dialects on every file). */
export function countFields(text: string, d: Dialect): number {
  // An astral delimiter or quote is two UTF-16 units, which splitRecord never matches one at a time.
  if (d.delimiter.length !== 1 || d.quote.length !== 1) return splitRecord(text, d).length;
  const delimiter = d.delimiter.charCodeAt(0);
  const quote = d.quote.charCodeAt(0);
  let n = 1;
  let inQuote = false;
  let fieldStart = true;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (inQuote) {
      if (ch === quote) {
        if (text.charCodeAt(i + 1) === quote) i++;
        else inQuote = false;
      }
    } else if (ch === delimiter) {
      n++;
      fieldStart = true;
      continue;
    } else if (ch === quote && fieldStart) inQuote = true;
    fieldStart = false;
  }
  return n;
}

const DELIMITERS = [',', '\t', ';', '|'];

/**
 * The delimiter and quote of a CSV sample: the pair under which the first lines split into the
 * most consistent number of fields (more than one), preferring comma and double quote on ties.
 * A configured delimiter or quote is taken as given. The plain reference of `detectDialectBytes`.
 */
export function detectDialect(sample: string, complete: boolean, opts: DialectOptions): Dialect {
  let lines = sample.split('\n');
  if (!complete) lines = lines.slice(0, -1);
  lines = lines.map((l) => l.replace(/\r$/, '')).filter((l) => l.trim() !== '').slice(0, SNIFF_LINES);
  return bestDialect(opts, (c) => sample.includes(c), (dialect) => lines.map((l) => countFields(l, dialect)));
}

/**
 * `detectDialect` of the sample's UTF-8 bytes, with the same result, counting fields on the bytes:
 * on a folder of small parts every line of every part is sniffed, and decoding and splitting
 * into strings cost more than the counting. An ASCII delimiter or quote byte never occurs inside
 * a multi-byte character, so byte and character counts agree; other candidates use the text.
 */
export function detectDialectBytes(sample: Buffer, complete: boolean, opts: DialectOptions): Dialect {
  const ascii = (c: string | null) => c === null || (c.length === 1 && c.charCodeAt(0) < 0x80);
  if (!ascii(opts.delimiter) || !ascii(opts.quote)) return detectDialect(sample.toString('utf8'), complete, opts);
  const starts: number[] = [];
  const ends: number[] = [];
  for (let pos = 0; pos <= sample.length && starts.length < SNIFF_LINES; ) {
    const nl = sample.indexOf(LF, pos);
    if (nl < 0 && !complete) break;
    const next = nl < 0 ? sample.length : nl;
    const end = next > pos && sample[next - 1] === CR ? next - 1 : next;
    if (!blankBytes(sample, pos, end)) {
      starts.push(pos);
      ends.push(end);
    }
    pos = next + 1;
  }
  return bestDialect(opts, (c) => sample.includes(c), ({ delimiter, quote }) => starts.map((s, i) => countFieldBytes(sample, s, ends[i]!, delimiter.charCodeAt(0), quote.charCodeAt(0))));
}

/** What dialect detection is told: a configured delimiter or quote (null: sniff), and whether the file is a .tsv. */
export interface DialectOptions {
  delimiter: string | null;
  quote: string | null;
  tsv: boolean;
}

/** Lines of a sample that dialect detection looks at. */
const SNIFF_LINES = 200;

/** The candidates scored: fields per sniffed line under each, `counts` asked once per different count. */
function bestDialect(opts: DialectOptions, inSample: (c: string) => boolean, counts: (d: Dialect) => number[]): Dialect {
  const delimiters = opts.delimiter ? [opts.delimiter] : opts.tsv ? ['\t'] : DELIMITERS;
  const quotes = opts.quote ? [opts.quote] : ['"', "'"];
  let best: Dialect = { delimiter: delimiters[0]!, quote: quotes[0]! };
  let bestScore = -1;
  // Counting is most of the cost on a folder of small parts, so a count that cannot differ is not
  // made again: a delimiter absent from the sample splits nothing (one field, never chosen), and
  // under a quote absent from the sample the counts are those of no quote at all.
  const countsOf = new Map<string, number[]>();
  for (const quote of quotes) {
    for (const delimiter of delimiters) {
      if (delimiter === quote || !inSample(delimiter)) continue;
      const key = `${delimiter}\u0000${inSample(quote) ? quote : ''}`;
      const tally = new Map<number, number>();
      const lineCounts = countsOf.get(key) ?? countsOf.set(key, counts({ delimiter, quote })).get(key)!;
      for (const c of lineCounts) tally.set(c, (tally.get(c) ?? 0) + 1);
      let modal = 1;
      let modalN = 0;
      for (const [c, n] of tally) if (n > modalN || (n === modalN && c > modal)) [modal, modalN] = [c, n];
      if (modal < 2) continue;
      // Consistency first (a stray semicolon in a comma file does not win), then more fields.
      const score = (modalN / lineCounts.length) * 1e6 + Math.min(modal, 999_999) / 1e3;
      if (score > bestScore + 1e-9) [best, bestScore] = [{ delimiter, quote }, score];
    }
  }
  return best;
}

/** True when bytes [start, end) are blank as `String.prototype.trim` sees them (ASCII whitespace, or Unicode spaces decoded). */
function blankBytes(buf: Buffer, start: number, end: number): boolean {
  let wide = false;
  for (let i = start; i < end; i++) {
    const b = buf[i]!;
    if (b >= 0x80) wide = true;
    else if (b !== 0x20 && (b < 0x09 || b > 0x0d)) return false;
  }
  return !wide || buf.toString('utf8', start, end).trim() === '';
}

/** `countFields` of bytes [start, end) for an ASCII delimiter and quote. */
function countFieldBytes(buf: Buffer, start: number, end: number, delimiter: number, quote: number): number {
  let n = 1;
  let inQuote = false;
  let fieldStart = true;
  for (let i = start; i < end; i++) {
    const ch = buf[i]!;
    if (inQuote) {
      if (ch === quote) {
        if (i + 1 < end && buf[i + 1] === quote) i++;
        else inQuote = false;
      }
    } else if (ch === delimiter) {
      n++;
      fieldStart = true;
      continue;
    } else if (ch === quote && fieldStart) inQuote = true;
    fieldStart = false;
  }
  return n;
}
