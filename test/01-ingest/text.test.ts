import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { RecordScanner, quotesBalanced, splitRecord, utf8Chunks, type Dialect } from '../../pipeline/01-ingest/text.ts';
import { detectDialect, detectDialectBytes } from '../../pipeline/01-ingest/dialect.ts';
import { headerNames } from '../../pipeline/01-ingest/normalise.ts';
import { InputError } from '../../pipeline/core/errors.ts';
import { makeRng } from '../../pipeline/core/random.ts';

const comma: Dialect = { delimiter: ',', quote: '"' };

/** Records (text and start line) of a byte string fed in chunks of `size` bytes. */
function scan(text: string | Buffer, mode: 'quoted' | 'lines', size: number, dialect = comma): { records: [number, string][]; ok: boolean } {
  const records: [number, string][] = [];
  const scanner = new RecordScanner(mode, dialect, (buf, s, e, line) => records.push([line, buf.toString('utf8', s, e)]));
  const bytes = Buffer.isBuffer(text) ? text : Buffer.from(text, 'utf8');
  let ok = true;
  for (let i = 0; i < bytes.length && ok; i += size) ok = scanner.push(bytes.subarray(i, i + size));
  if (ok) ok = scanner.end();
  return { records, ok };
}

describe('the record scanner', () => {
  const text = 'id,note\r\n1,"two\r\nlines"\r\n\r\n2,"a ""quoted"" word"\r\n3,plain';

  it('reports each record with the physical line it starts on, quoted newlines included', () => {
    expect(scan(text, 'quoted', 1 << 20).records).toEqual([
      [1, 'id,note'],
      [2, '1,"two\r\nlines"'],
      [4, ''],
      [5, '2,"a ""quoted"" word"'],
      [6, '3,plain'],
    ]);
  });

  it('gives the same records whatever the chunk size, down to one byte', () => {
    const whole = scan(text, 'quoted', 1 << 20).records;
    for (const size of [1, 2, 3, 5, 7, 13]) expect(scan(text, 'quoted', size).records).toEqual(whole);
  });

  it('gives up in quoted mode when a quote never closes, and reads lines instead', () => {
    const broken = 'id,note\n1,"open\n2,fine\n3,fine\n';
    expect(scan(broken, 'quoted', 4).ok).toBe(false);
    expect(scan(broken, 'lines', 4).records).toEqual([
      [1, 'id,note'],
      [2, '1,"open'],
      [3, '2,fine'],
      [4, '3,fine'],
    ]);
  });

  it('treats a quote inside an unquoted field as text', () => {
    expect(scan('a,b\n1,5"7 inch\n2,x\n', 'quoted', 3).records.map((r) => r[1])).toEqual(['a,b', '1,5"7 inch', '2,x']);
  });

  it('tells balanced from unbalanced quotes in one record', () => {
    const check = (s: string) => quotesBalanced(Buffer.from(s), 0, Buffer.byteLength(s), 44, 34);
    expect([check('1,"a,b",c'), check('1,"a""b"'), check('1,5"7'), check('1,"open')]).toEqual([true, true, true, false]);
  });
});

describe('dialect detection', () => {
  it('finds semicolons in a European export despite commas inside values', () => {
    const sample = 'Kunde;Betrag;Notiz\nA;1,50;"x, y"\nB;2,75;z\nC;3,00;w\n';
    expect(detectDialect(sample, true, { delimiter: null, quote: null, tsv: false })).toEqual({ delimiter: ';', quote: '"' });
  });

  it('finds tabs, pipes, and single quotes when they split the lines consistently', () => {
    expect(detectDialect('a\tb\tc\n1\t2\t3\n', true, { delimiter: null, quote: null, tsv: false }).delimiter).toBe('\t');
    expect(detectDialect('a|b\n1|2\n3|4\n', true, { delimiter: null, quote: null, tsv: false }).delimiter).toBe('|');
    expect(detectDialect("id,name\n1,'Smith, J'\n2,'Li, Q'\n", true, { delimiter: null, quote: null, tsv: false })).toEqual({ delimiter: ',', quote: "'" });
  });

  it('gives on the bytes the dialect the plain text detection gives, on 3,000 random samples', () => {
    // Pieces that matter to detection: every candidate delimiter and quote, doubled quotes, CR, blank
    // and Unicode-blank lines, multi-byte characters, invalid UTF-8 (a lone 0xff byte).
    const pieces = [',', ';', '\t', '|', '"', "'", '""', 'a', 'bc', ' ', '\r', '\n', '\n', '\n', '\r\n', 'é', '\u3000', '\u00a0', '中', '，'];
    const rng = makeRng(16);
    const optionSets = [
      { delimiter: null, quote: null, tsv: false },
      { delimiter: null, quote: null, tsv: true },
      { delimiter: ';', quote: null, tsv: false },
      { delimiter: null, quote: "'", tsv: false },
      { delimiter: '，', quote: null, tsv: false },
    ];
    const differ: string[] = [];
    for (let k = 0; k < 3000; k++) {
      const parts: Buffer[] = [];
      const n = 1 + rng.int(60);
      for (let i = 0; i < n; i++) parts.push(rng.next() < 0.02 ? Buffer.from([0xff]) : Buffer.from(pieces[rng.int(pieces.length)]!));
      const bytes = Buffer.concat(parts);
      const complete = rng.next() < 0.5;
      const opts = optionSets[rng.int(optionSets.length)]!;
      const plain = detectDialect(bytes.toString('utf8'), complete, opts);
      const fast = detectDialectBytes(bytes, complete, opts);
      if (plain.delimiter !== fast.delimiter || plain.quote !== fast.quote) differ.push(JSON.stringify({ text: bytes.toString('utf8'), complete, opts, plain, fast }));
    }
    expect(differ).toEqual([]);
  });

  it('takes a configured delimiter as given, and tab for a .tsv', () => {
    expect(detectDialect('a;b,c\n', true, { delimiter: ',', quote: null, tsv: false }).delimiter).toBe(',');
    expect(detectDialect('a b\n', true, { delimiter: null, quote: null, tsv: true }).delimiter).toBe('\t');
  });

  it('splits a record honouring quotes and doubled quotes', () => {
    expect(splitRecord('1,"a,b","say ""hi""",', comma)).toEqual(['1', 'a,b', 'say "hi"', '']);
  });

  it('names blank and repeated header columns', () => {
    expect(headerNames([' id ', '', 'Amount', 'amount'])).toEqual(['id', 'column2', 'Amount', 'amount_2']);
  });
});

describe('reading bytes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'finseg-text-'));
  const read = async (name: string, bytes: Buffer, encoding = 'auto', gzip = false) => {
    const path = join(dir, name);
    writeFileSync(path, bytes);
    const parts: Buffer[] = [];
    for await (const c of utf8Chunks({ path, format: 'csv', gzip, tsv: false, partitions: {} }, encoding)) parts.push(c);
    return Buffer.concat(parts).toString('utf8');
  };

  it('drops a UTF-8 byte-order mark and transcodes UTF-16 with a BOM', async () => {
    expect(await read('bom.csv', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('客户,金额\n')]))).toBe('客户,金额\n');
    expect(await read('u16.csv', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('id,名\n', 'utf16le')]))).toBe('id,名\n');
  });

  it('decodes a configured encoding (GB18030) and gunzips', async () => {
    const gbk = Buffer.from([0xbf, 0xcd, 0xbb, 0xa7, 0x0a]); // 客户\n in GBK
    expect(await read('gbk.csv', gbk, 'gb18030')).toBe('客户\n');
    expect(await read('z.csv.gz', gzipSync(Buffer.from('a,b\n1,2\n')), 'auto', true)).toBe('a,b\n1,2\n');
  });

  it('stops with a clear error on a truncated gzip file', async () => {
    const whole = gzipSync(Buffer.from('a,b\n'.repeat(10_000)));
    const err = await read('cut.csv.gz', whole.subarray(0, whole.length / 2), 'auto', true).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).message).toMatch(/cut\.csv\.gz: the file is truncated/);
  });
});
