import { createReadStream, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { DuckDBInstance } from '@duckdb/node-api';
import { CONTRACT, type ColumnSpec, type QuarantineReason, type TableName } from '../01-ingest/contract.ts';
import { csvField } from '../01-ingest/text.ts';
import { sqlString } from '../core/duck.ts';
import { InputError } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import { deriveSeed, makeRng, type Rng } from '../core/random.ts';
import { generateDataset, type Format, type GenerateParams, type GenerateSummary } from './generate.ts';
import { CsvFile, formatDay } from './rows.ts';
import { EDITIONS } from './archetypes.ts';
import { epochDay } from './customers.ts';

/**
 * `finseg generate --dirty RATE`: a generated data set with every defect class of the data
 * contract planted at a known rate, and `defects.csv` naming each corrupted row (table, line,
 * reason, column, the row's original customer id), so a test can measure the quarantine's
 * precision and recall per reason. Each planted row carries exactly one defect.
 */

/** One planted defect. */
export interface PlantedDefect {
  table: TableName;
  /** The physical line in the CSV (header = 1), or the 1-based row number in Parquet. */
  line: number;
  reason: QuarantineReason;
  column: string | null;
  /** The customer id the row had before corruption (for predicting knock-on quarantines). */
  customerId: string;
}

/** What `--dirty` planted: the rate, counts per table and reason, the as-of date to check with, and the defects file. */
export interface DirtySummary {
  rate: number;
  /** Planted rows per table and reason. */
  counts: Partial<Record<TableName, Partial<Record<QuarantineReason, number>>>>;
  /** The as-of date under which every planted `after_as_of` is after it and no clean row is. */
  asOf: string;
  /** The `ingest.plans` under which a planted unknown subscription plan is a `bad_enum` (without it every plan is accepted). */
  plans: string[];
  file: string;
}

type Table = 'customers' | 'usage_events' | 'transactions' | 'subscriptions';
const TABLES: readonly Table[] = ['customers', 'usage_events', 'transactions', 'subscriptions'];
/** A plan name no generated edition has. */
const UNKNOWN_PLANS = ['Platinum', 'Legacy 2019', 'Free forever'];

/** Values that no contract type parses (and that are not missing-value tokens). */
const UNPARSEABLE: Readonly<Record<ColumnSpec['type'], readonly string[]>> = {
  date: ['2026-02-30', 'not-a-date', '31/31/2020'],
  timestamp: ['2026-13-01 10:00:00', 'not-a-time', '2026-09-01 25:61:00'],
  int: ['12.5', 'twelve', '1e400'],
  number: ['1,234.50', 'abc', '12..5'],
  string: [],
};
/** Values outside every enum and every built-in synonym. */
const BAD_ENUM = ['teleport', 'fax machine', 'mainframe', 'barter', 'carrier pigeon'];

/** The defect classes that can be planted in a table, in reason order; malformed rows only in CSV. */
export function defectClasses(table: Table, format: Format): QuarantineReason[] {
  const cols = CONTRACT[table].columns;
  const out: QuarantineReason[] = [];
  if (format === 'csv') out.push('malformed');
  if (cols.some((c) => c.mandatoryValue)) out.push('missing_key');
  if (cols.some((c) => c.type !== 'string')) out.push('unparseable');
  if (cols.some((c) => c.allowed || c.pattern)) out.push('bad_enum');
  if (cols.some((c) => c.min !== undefined || c.max !== undefined)) out.push('out_of_range');
  if (cols.some(afterAsOfColumn(table))) out.push('after_as_of');
  if (cols.some((c) => c.notBefore)) out.push('end_before_start');
  if (table === 'customers') out.push('duplicate_id');
  else out.push('unknown_customer');
  return out;
}

const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[rng.int(xs.length)]!;

/** The columns a date after the as-of day quarantines: dates, and timestamps outside customers, but not a date that may be a scheduled end. */
const afterAsOfColumn = (table: Table) => (c: ColumnSpec) => (c.type === 'date' || (c.type === 'timestamp' && table !== 'customers')) && !c.mayFollowAsOf;

/**
 * Corrupts one row for a reason: returns the new fields and the column it broke, or for
 * duplicate_id the extra row to insert after it. `fields` follow the contract's column order.
 */
function corrupt(table: Table, reason: QuarantineReason, fields: string[], rng: Rng, rowIndex: number, extractDay: number): { fields: string[]; column: string | null; extra?: string[] } {
  const cols = CONTRACT[table].columns;
  const at = (name: string) => cols.findIndex((c) => c.name === name);
  const out = [...fields];
  switch (reason) {
    case 'malformed':
      // One field too few or one too many: the row cannot be read as a row.
      return { fields: rng.next() < 0.5 ? out.slice(0, -1) : [...out, 'surplus'], column: null };
    case 'missing_key': {
      const c = pick(rng, cols.filter((x) => x.mandatoryValue));
      out[at(c.name)] = '';
      return { fields: out, column: c.name };
    }
    case 'unparseable': {
      const c = pick(rng, cols.filter((x) => x.type !== 'string'));
      out[at(c.name)] = pick(rng, UNPARSEABLE[c.type]);
      return { fields: out, column: c.name };
    }
    case 'bad_enum': {
      // Closed value sets only: a module outside the catalog is the vendor's own module, not a defect.
      // A subscription's plan outside the declared plans (DirtySummary.plans) is the defect a vendor's export has most.
      const c = table === 'subscriptions' && rng.next() < 0.5 ? cols[at('plan')]! : pick(rng, cols.filter((x) => x.allowed || x.pattern));
      out[at(c.name)] = c.name === 'plan' ? pick(rng, UNKNOWN_PLANS) : c.pattern ? pick(rng, ['US$', 'RMB¥', 'EURO']) : pick(rng, BAD_ENUM);
      return { fields: out, column: c.name };
    }
    case 'out_of_range': {
      const c = pick(rng, cols.filter((x) => x.min !== undefined || x.max !== undefined));
      const below = c.min !== undefined && (c.max === undefined || rng.next() < 0.5);
      out[at(c.name)] = String(below ? c.min! - 1 - rng.int(50) : c.max! + 1 + rng.int(50));
      return { fields: out, column: c.name };
    }
    case 'after_as_of': {
      const c = pick(rng, cols.filter(afterAsOfColumn(table)));
      // At least a full day after the extract, so it is after the as-of day under either reading.
      const day = formatDay(extractDay + 2 + rng.int(40));
      out[at(c.name)] = c.type === 'date' ? day : `${day} 10:00:00`;
      return { fields: out, column: c.name };
    }
    case 'end_before_start': {
      const c = cols.find((x) => x.notBefore)!;
      out[at(c.name)] = formatDay(epochDay(fields[at(c.notBefore!)]!) - 1 - rng.int(60));
      return { fields: out, column: c.name };
    }
    case 'unknown_customer':
      out[at('customer_id')] = `UNKNOWN-${rowIndex}`;
      return { fields: out, column: 'customer_id' };
    case 'duplicate_id': {
      // A second row for the same customer (a conflicting later update): the first one stays.
      const extra = [...fields];
      const region = at('region');
      if (region >= 0) extra[region] = extra[region] === 'north' ? 'south' : 'north';
      return { fields: out, column: 'customer_id', extra };
    }
    default:
      throw new Error(`cannot plant ${reason} in ${table}`);
  }
}

/** Rewrites one generated CSV with defects, appending what it planted. */
async function dirtyTable(dir: string, table: Table, rate: number, seed: number, extractDay: number, format: Format, planted: PlantedDefect[]): Promise<void> {
  const path = join(dir, `${table}.csv`);
  const tmp = join(dir, `.${table}.dirty.csv`);
  const classes = defectClasses(table, format);
  const rng = makeRng(deriveSeed(seed, `dirty:${table}`));
  const out = new CsvFile(tmp);
  const idAt = CONTRACT[table].columns.findIndex((c) => c.name === 'customer_id');
  let outLine = 0;
  let rowIndex = 0;
  const lineOf = (l: number) => (format === 'csv' ? l : l - 1);
  try {
    for await (const text of createInterface({ input: createReadStream(path), crlfDelay: Infinity })) {
      outLine++;
      if (outLine === 1) {
        out.write(`${text}\n`);
        continue;
      }
      const fields = text.split(',');
      const u = rng.next();
      const k = Math.floor(u / rate);
      if (k >= classes.length) {
        out.write(`${text}\n`);
      } else {
        const reason = classes[k]!;
        const result = corrupt(table, reason, fields, rng, rowIndex, extractDay);
        // A planted value may hold a comma ("1,234.50"): quote it, or it would also break the row.
        out.write(`${result.fields.map(csvField).join(',')}\n`);
        if (result.extra) {
          out.write(`${result.extra.map(csvField).join(',')}\n`);
          outLine++;
        }
        // For duplicate_id the planted row is the inserted one, on the line just written.
        planted.push({ table, line: lineOf(outLine), reason, column: result.column, customerId: fields[idAt]! });
      }
      rowIndex++;
    }
  } finally {
    out.close();
  }
  renameSync(tmp, path);
}

/** CSV → Parquet with every column as text, as a vendor's text export would be (a dirty value cannot be typed). */
async function csvToTextParquet(csv: string, parquet: string): Promise<void> {
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  try {
    await conn.run(`COPY (SELECT * FROM read_csv(${sqlString(csv)}, header = true, all_varchar = true, delim = ',', quote = '"')) TO ${sqlString(parquet)} (FORMAT parquet)`);
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
  rmSync(csv);
}

/**
 * Generates a data set (see generateDataset) and plants each defect class of each table in
 * a share `rate` of its rows; writes `defects.csv` and records the counts in `generate.json`.
 */
export async function generateDirtyDataset(dir: string, params: GenerateParams, format: Format, rate: number, logger: Logger): Promise<GenerateSummary & { dirty: DirtySummary }> {
  const most = Math.max(...TABLES.map((t) => defectClasses(t, 'csv').length));
  if (!(rate > 0 && rate * most <= 1)) throw new InputError(`--dirty must be a share above 0 and at most ${(1 / most).toFixed(3)}, got ${rate}`);
  const summary = await generateDataset(dir, params, 'csv', logger);
  const extractDay = epochDay(params.asOf);
  const planted: PlantedDefect[] = [];
  for (const table of TABLES) await dirtyTable(summary.dir, table, rate, params.seed, extractDay, format, planted);
  if (format === 'parquet') {
    // feedback and actions get no defects of their own, but the folder stays in one format.
    for (const table of [...TABLES, 'feedback', 'actions']) await csvToTextParquet(join(summary.dir, `${table}.csv`), join(summary.dir, `${table}.parquet`));
  }
  const file = join(summary.dir, 'defects.csv');
  writeFileSync(file, `table,line,reason,column,customer_id\n${planted.map((d) => `${d.table},${d.line},${d.reason},${d.column ?? ''},${d.customerId}`).join('\n')}${planted.length ? '\n' : ''}`);
  const counts: DirtySummary['counts'] = {};
  for (const d of planted) {
    const byReason = (counts[d.table] ??= {});
    byReason[d.reason] = (byReason[d.reason] ?? 0) + 1;
  }
  const dirty: DirtySummary = { rate, counts, asOf: formatDay(extractDay - 1), plans: [...EDITIONS], file };
  const manifestPath = join(summary.dir, 'generate.json');
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as Record<string, unknown> & { summary: GenerateSummary };
  const files = summary.files.map((f) => (format === 'parquet' ? f.replace(/\.csv$/, '.parquet').replace(/truth\.parquet$/, 'truth.csv') : f));
  const out = { ...summary, format, files: [...files, file], dirty };
  writeFileSync(manifestPath, `${JSON.stringify({ ...manifest, summary: out }, null, 2)}\n`);
  logger.info(`generate: planted ${planted.length} defects (${(rate * 100).toFixed(2)}% per class) → ${file}`);
  return out;
}

/** Reads `defects.csv` back (for tests and reports). */
export function readPlantedDefects(dir: string): PlantedDefect[] {
  const lines = readFileSync(join(dir, 'defects.csv'), 'utf8').trim().split('\n').slice(1);
  return lines.filter(Boolean).map((l) => {
    const [table, line, reason, column, customerId] = l.split(',');
    return { table: table as TableName, line: Number(line), reason: reason as QuarantineReason, column: column || null, customerId: customerId! };
  });
}
