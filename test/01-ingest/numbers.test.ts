import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { ingest } from '../../pipeline/01-ingest/ingest.ts';
import { readFeatureFile } from '../../pipeline/02-features/feature-file.ts';
import { numberSql, parseNumber, proposeNumberFormat, NUMBER_FORMATS } from '../../pipeline/01-ingest/numbers.ts';
import { defaultIngestParams, ingestParamsRule, type IngestParams, type NumberFormat } from '../../pipeline/01-ingest/params.ts';
import { proposeConfig } from '../../pipeline/jobs/init.ts';
import { parseConfig } from '../../pipeline/config/config.ts';
import { openDuck, queryRows, sqlString } from '../../pipeline/core/duck.ts';
import { InputError } from '../../pipeline/core/errors.ts';
import { quietLogger } from '../../pipeline/core/log.ts';
import { parseSettings } from '../../pipeline/core/settings.ts';

/**
 * `ingest.numberFormat`: hand-made exports whose numbers are written `1,234.50`, `1.234,50`,
 * `1 234,50`, read with and without the setting; every expected value is worked out by hand
 * from the text of the cell.
 */

const US: NumberFormat = { thousands: ',', decimal: '.' };
const DE: NumberFormat = { thousands: '.', decimal: ',' };
const FR: NumberFormat = { thousands: ' ', decimal: ',' };
const CH: NumberFormat = { thousands: "'", decimal: '.' };
const PLAIN: NumberFormat = { thousands: null, decimal: '.' };

/** [text, format, value by hand (null = not read)]. */
const CASES: [string, NumberFormat, number | null][] = [
  ['1,234.50', US, 1234.5],
  ['-1,234,567.25', US, -1234567.25],
  ['+1,000', US, 1000],
  ['1234.50', US, 1234.5],
  ['1,234', US, 1234],
  ['0.5', US, 0.5],
  ['1,23,4.5', US, null],
  ['12,34', US, null],
  ['1.234,50', US, null],
  ['1,234.5.6', US, null],
  ['$1,234.50', US, null],
  ['(1,234.50)', US, null],
  ['1.234,50', DE, 1234.5],
  ['-1.234.567,5', DE, -1234567.5],
  ['1.234', DE, 1234],
  ['1,234', DE, 1.234],
  ['7', DE, 7],
  ['1.5', DE, null],
  ['1,234.50', DE, null],
  ['1 234,50', FR, 1234.5],
  ['1\u00A0234,50', FR, 1234.5],
  ['-12\u202F345', FR, -12345],
  ['1 23,5', FR, null],
  ["1'234.50", CH, 1234.5],
  ['1\u2019234.50', CH, 1234.5],
  ['1234,5', { thousands: null, decimal: ',' }, 1234.5],
  ['1.234,5', { thousands: null, decimal: ',' }, null],
  ['1234.50', PLAIN, 1234.5],
  ['-2e3', PLAIN, -2000],
  ['1,234.50', PLAIN, null],
];

describe('number formats, value by value', () => {
  let conn: DuckDBConnection;
  beforeAll(async () => (conn = await openDuck()));
  afterAll(() => conn.closeSync());

  it('reads each text as worked out by hand, in JavaScript (init) and in SQL (ingest) alike', async () => {
    const sql = CASES.map(([t, f], i) => `${numberSql(sqlString(t), f)} AS v${i}`).join(', ');
    const [row] = await queryRows(conn, `SELECT ${sql}`);
    CASES.forEach(([t, f, want], i) => {
      expect([t, f, parseNumber(t, f)]).toEqual([t, f, want]);
      expect([t, f, row![`v${i}`]]).toEqual([t, f, want]);
    });
  });

  it('weighs eight formats: none or one of four separators, with either decimal mark, never the same character twice', () => {
    expect(NUMBER_FORMATS).toHaveLength(8);
    expect(NUMBER_FORMATS.every((f) => f.thousands !== f.decimal)).toBe(true);
  });

  it('rejects a setting whose thousands separator is its decimal mark, or an unknown mark', () => {
    const problem = (numberFormat: unknown) => {
      try {
        parseSettings(ingestParamsRule, { numberFormat }, 'c.json', 'ingest');
      } catch (e) {
        return (e as InputError).message;
      }
      return 'accepted';
    };
    expect(problem({ thousands: '.', decimal: '.' })).toMatch(/^c\.json: ingest\.numberFormat\.thousands: expected a thousands separator other than the decimal mark, got "\."/);
    expect(problem({ thousands: '_' })).toMatch(/^c\.json: ingest\.numberFormat\.thousands: expected a thousands separator/);
    expect(problem({ decimal: ';' })).toMatch(/^c\.json: ingest\.numberFormat\.decimal: expected a decimal mark/);
    expect(problem({ thousands: ',' })).toBe('accepted');
    expect(parseSettings(ingestParamsRule, {}, 'c.json', 'ingest').numberFormat).toEqual(PLAIN);
  });
});

describe('proposing a format from counts', () => {
  /** Counts as init makes them: per format of NUMBER_FORMATS, the values it reads. */
  const countsOf = (values: string[]) => {
    const reads = values.map((v) => NUMBER_FORMATS.map((f) => parseNumber(v, f) !== null));
    return { numeric: reads.filter((r) => r.some(Boolean)).length, byFormat: NUMBER_FORMATS.map((_, i) => reads.filter((r) => r[i]).length) };
  };
  const propose = (values: string[]) => proposeNumberFormat(countsOf(values), values).format;

  it('proposes nothing for plain numbers, even 1.234 (plain numbers read it)', () => {
    expect(propose(['12.5', '-3', '1.234'])).toBeNull();
  });
  it('proposes the one format that reads every value', () => {
    expect(propose(['1,234.50', '12.5', '-2,000'])).toEqual(US);
    expect(propose(['1.234,50', '1.234', '7'])).toEqual(DE);
    expect(propose(['1 234,50', '12,5'])).toEqual(FR);
    expect(propose(["1'234.50", '3'])).toEqual(CH);
  });
  it('proposes a decimal comma without a separator when the sample shows none', () => {
    expect(propose(['12,5', '1234,75'])).toEqual({ thousands: null, decimal: ',' });
  });
  it('proposes nothing when a thousands comma and a decimal comma read the sample alike, or when formats are mixed', () => {
    const tie = proposeNumberFormat(countsOf(['1,234', '5,000']), ['1,234']);
    expect(tie.format).toBeNull();
    expect(tie.note).toMatch(/alike/);
    const mixed = proposeNumberFormat(countsOf(['1,234.50', '1.234,50']), ['1,234.50', '1.234,50']);
    expect(mixed.format).toBeNull();
    expect(mixed.note).toMatch(/mix number formats/);
  });
});

describe('ingest with and without ingest.numberFormat', () => {
  const root = mkdtempSync(join(tmpdir(), 'finseg-numbers-'));
  let conn: DuckDBConnection;
  beforeAll(async () => (conn = await openDuck()));
  afterAll(() => {
    conn.closeSync();
    rmSync(root, { recursive: true, force: true });
  });

  /** A folder with customers A and B and the given transaction amounts (one per line, quoted), on consecutive days. */
  function exportWith(name: string, amounts: string[], customers = 'customer_id,signup_date,employees,annual_revenue\nA,2026-01-01,5,300\nB,2026-01-02,7,400\n'): string {
    const dir = join(root, name);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'customers.csv'), customers);
    const lines = amounts.map((a, i) => `B,2026-09-${String(i + 1).padStart(2, '0')} 10:00:00,"${a}",USD,sale`);
    writeFileSync(join(dir, 'transactions.csv'), `customer_id,ts,amount,currency,kind\n${lines.join('\n')}\n`);
    return dir;
  }

  async function run(dir: string, numberFormat: NumberFormat, extra: Partial<IngestParams> = {}) {
    const qdir = mkdtempSync(join(root, 'q-'));
    const result = await ingest(conn, dir, { ...defaultIngestParams, asOf: '2026-09-30', quarantineLimit: 1, numberFormat, ...extra }, qdir, quietLogger);
    const amounts = (await queryRows(conn, 'SELECT amount FROM transactions ORDER BY ts')).map((r) => r.amount);
    const q = result.quarantineDir && existsSync(join(result.quarantineDir, 'transactions.csv')) ? join(result.quarantineDir, 'transactions.csv') : null;
    const details = q ? (await queryRows(conn, `SELECT value, detail FROM read_csv(${sqlString(q)}, all_varchar = true) ORDER BY CAST(line AS INT)`)).map((r) => [r.value, r.detail]) : [];
    return { result, amounts, details };
  }

  it('without the setting reads plain numbers only, and says a separated number needs the setting', async () => {
    const dir = exportWith('plain', ['1,234.50', '12.5', '-2,000.75', 'abc']);
    const { amounts, details } = await run(dir, PLAIN);
    expect(amounts).toEqual([12.5]);
    expect(details.map(([v]) => v)).toEqual(['1,234.50', '-2,000.75', 'abc']);
    expect(details[0]![1]).toMatch(/^amount is not a number: it is written with a thousands separator or a decimal comma .*"ingest": \{"numberFormat": /);
    expect(details[1]![1]).toBe(details[0]![1]);
    expect(details[2]![1]).toBe('amount is not a number');
  });

  it('over the quarantine limit, says which setting reads numbers written with separators', async () => {
    const dir = exportWith('limit', ['12.5', 'abc', '1,234.50', '3', '4', '5']);
    const err = await run(dir, PLAIN, { quarantineLimit: 0.05 }).then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).detail).toContain('amount values are written with separators (e.g. "1,234.50"): declare the export\'s thousands separator and decimal mark in "ingest": {"numberFormat": ...} (finseg init proposes it)');
  });

  it('with thousands "," and decimal "." reads 1,234.50, negatives and plain numbers, and quarantines what does not fit as ambiguous', async () => {
    const dir = exportWith('us', ['1,234.50', '12.5', '-2,000.75', '1,23,4.5', '1.234,50', 'abc']);
    const { amounts, details } = await run(dir, US);
    expect(amounts).toEqual([1234.5, 12.5, -2000.75]);
    expect(details.map(([v]) => v)).toEqual(['1,23,4.5', '1.234,50', 'abc']);
    for (const [, d] of details.slice(0, 2)) expect(d).toBe('amount is not a number: its separators do not fit ingest.numberFormat (thousands ",", decimal ".": digits grouped by three, one decimal mark), so which mark is which is ambiguous and it is not read');
    expect(details[2]![1]).toBe('amount is not a number');
  });

  it('with thousands "." and decimal "," reads 1.234,50 and integers grouped the same way', async () => {
    const customers = 'customer_id,signup_date,employees,annual_revenue\nA,2026-01-01,"1.200","1.234,5"\nB,2026-01-02,7,400\nC,2026-01-03,"1.200,5",400\n';
    const dir = exportWith('de', ['1.234,50', '-1.234.567,5', '7', '1,5'], customers);
    const { result, amounts } = await run(dir, DE);
    expect(amounts).toEqual([1234.5, -1234567.5, 7, 1.5]);
    expect(await queryRows(conn, 'SELECT customer_id, employees, annual_revenue FROM customers')).toEqual([
      { customer_id: 'A', employees: 1200, annual_revenue: 1234.5 },
      { customer_id: 'B', employees: 7, annual_revenue: 400 },
      // employees is optional: C is kept with its head count nulled (a cell, not a row).
      { customer_id: 'C', employees: null, annual_revenue: 400 },
    ]);
    // 1.200,5 is a number but not an integer: its detail is the integer's, not the format's.
    expect(result.tables.customers!.cellDetails).toEqual([{ reason: 'unparseable', column: 'employees', count: 1, examples: ['1.200,5'] }]);
  });

  it('with thousands " " and decimal "," reads 1 234,50 with a space or a no-break space', async () => {
    const dir = exportWith('fr', ['1 234,50', '1\u00A0234,50', '-12 345']);
    expect((await run(dir, FR)).amounts).toEqual([1234.5, 1234.5, -12345]);
  });

  it('reads the factors of a quantity × unit price amount in the declared format', async () => {
    const dir = join(root, 'lines');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'customers.csv'), 'customer_id,signup_date\nA,2026-01-01\n');
    writeFileSync(join(dir, 'transactions.csv'), 'customer_id,ts,qty,price,currency,kind\nA,2026-09-01 10:00:00,2,"1.234,50",EUR,sale\nA,2026-09-02 10:00:00,-1,"0,25",EUR,sale\n');
    const { amounts } = await run(dir, DE, { columns: { transactions: { amount: { multiply: ['qty', 'price'] } } } });
    expect(amounts).toEqual([2469, -0.25]);
  });
});

describe('init proposes the format from the sample', () => {
  const root = mkdtempSync(join(tmpdir(), 'finseg-numbers-init-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  /** A customers file and a transactions file whose amounts are the given texts, 30 customers. */
  function exportWith(name: string, amounts: (i: number) => string): string {
    const dir = join(root, name);
    mkdirSync(dir, { recursive: true });
    const ids = Array.from({ length: 30 }, (_, i) => `C${100 + i}`);
    writeFileSync(join(dir, 'customers.csv'), `customer_id,signup_date,industry\n${ids.map((id) => `${id},2026-01-01,retail`).join('\n')}\n`);
    const lines = ids.flatMap((id, i) => [0, 1, 2].map((k) => `${id},2026-09-${String(k + 1).padStart(2, '0')} 10:00:00,"${amounts(i * 3 + k)}",EUR,sale`));
    writeFileSync(join(dir, 'transactions.csv'), `customer_id,ts,amount,currency,kind\n${lines.join('\n')}\n`);
    return dir;
  }
  const ingestOf = (config: Record<string, unknown>) => config.ingest as Record<string, unknown>;

  it('writes thousands "." and decimal "," for an export of 1.234,50 amounts, and ingest then reads them', async () => {
    // Values 1.000,25 + i: every tenth a plain small number 5,5.
    const text = (i: number) => (i % 10 === 0 ? '5,5' : `1.${String(i).padStart(3, '0')},25`);
    const dir = exportWith('de', text);
    const { config } = await proposeConfig(dir, dir);
    const { $comment, ...format } = ingestOf(config).numberFormat as Record<string, unknown>;
    expect(format).toEqual(DE);
    expect(String($comment)).toMatch(/thousands "\.", decimal ","/);
    const conn = await openDuck();
    try {
      const parsed = parseConfig(JSON.parse(JSON.stringify(config)), 'init.json');
      const result = await ingest(conn, dir, { ...parsed.ingest, dataDir: null, asOf: '2026-09-30' }, null, quietLogger);
      expect(result.tables.transactions).toMatchObject({ read: 90, accepted: 90 });
      const [{ total }] = (await queryRows(conn, 'SELECT sum(amount) AS total FROM transactions')) as [{ total: number }];
      // By hand: 9 values of 5.5, and 1000 + i + 0.25 for the 81 other i of 0..89.
      const others = Array.from({ length: 90 }, (_, i) => i).filter((i) => i % 10 !== 0);
      expect(total).toBeCloseTo(9 * 5.5 + others.reduce((s, i) => s + 1000 + i + 0.25, 0), 6);
    } finally {
      conn.closeSync();
    }
  });

  it('proposes nothing for plain numbers, and nothing (with a note) for a sample that mixes formats', async () => {
    const plain = await proposeConfig(exportWith('plain', (i) => `${i}.5`), 'plain');
    expect(ingestOf(plain.config).numberFormat).toBeUndefined();
    expect(plain.notes.join('\n')).not.toMatch(/numbers:/);
    const mixed = await proposeConfig(exportWith('mixed', (i) => (i % 2 ? `1,${String(i).padStart(3, '0')}.25` : `1.${String(i).padStart(3, '0')},25`)), 'mixed');
    expect(ingestOf(mixed.config).numberFormat).toBeUndefined();
    expect(mixed.notes.join('\n')).toMatch(/mix number formats/);
  });
});

describe('a feature table is read as plain numbers', () => {
  it('refuses a feature column written 1.234,50, saying a feature table takes plain numbers whatever ingest.numberFormat says', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'finseg-numbers-ff-'));
    const conn = await openDuck();
    try {
      const path = join(dir, 'features.csv');
      writeFileSync(path, `customer_id,events_90\n${['A', 'B', 'C', 'D', 'E', 'F'].map((id, i) => `${id},"1.23${i},5"`).join('\n')}\n`);
      const opts = { asOf: '2026-09-30', requiredFeatures: null, partition: null, missingValues: defaultIngestParams.missingValues, quarantineLimit: 1, quarantineDir: null, logger: quietLogger };
      const err = await readFeatureFile(conn, path, opts).then(() => null, (e: unknown) => e);
      expect(err).toBeInstanceOf(InputError);
      expect((err as InputError).message).toBe(`${path}: column "events_90" is not numeric: 6 of 6 values are not numbers`);
      expect((err as InputError).detail).toContain('a feature table is read as plain numbers (1234.5), whatever ingest.numberFormat says: write it without thousands separators and with a decimal point');
    } finally {
      conn.closeSync();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
