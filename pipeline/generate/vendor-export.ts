import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { Module } from '../01-ingest/contract.ts';
import { openDuck, queryRows, readColumns, sqlString } from '../core/duck.ts';
import { InputError } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import { deriveSeed } from '../core/random.ts';
import { generateDriftSnapshot } from './drift.ts';
import { csvColumns, generateDataset, type GenerateParams } from './generate.ts';

/**
 * `finseg generate --shape`: turns a generated data set and its later snapshot (`generate
 * --drift`) into exports shaped like real vendors' ones, not like the data contract, so the
 * tests see what an analyst hands to `finseg init`:
 * - usage-only: an activity log in the vendor's own event names, one row per account, day and
 *   event with a daily count and no device, plus an accounts file with its own column names;
 * - transactions-only: a folder of daily files `YYYY-MM-DD.csv` whose names say nothing about
 *   the table, ids written as floats, a quarter of the lines without a customer id, quantity and
 *   unit price instead of an amount;
 * - both: the two together, the log and accounts with integer ids, the daily files with float ids.
 * Beside each export folder, outcomes.csv says what later happened to each account (churned,
 * declined, grew, stable) according to the later snapshot. finseg never reads it; tests do.
 */

export const EXPORT_SHAPES = ['usage-only', 'transactions-only', 'both'] as const;
export type ExportShape = (typeof EXPORT_SHAPES)[number];

/** What later happened to an account, from the later snapshot's movements. */
export const OUTCOMES = ['churned', 'declined', 'grew', 'stable'] as const;
export type Outcome = (typeof OUTCOMES)[number];

/** Settings of the vendor exports. */
export interface VendorExportParams {
  /** Seeds the split of a module over several event names, the quantities and the lines without an id. */
  seed: number;
  /** Share of transaction lines written without a customer id (guest sales, unmatched payers). Default 0.25. */
  missingIdShare: number;
}

/** Default settings: a quarter of the transaction lines without an id, as in the UCI Online Retail export. */
export const defaultVendorExportParams: VendorExportParams = { seed: 20261207, missingIdShare: 0.25 };

/**
 * The vendor's event names for each catalog module, with the share of the module's events
 * each takes. Some names match a catalog module ("Invoices", "Payroll run", "Budgets"), some do
 * not ("Bank feeds", "Expense claims", "Reports v2"), and some modules split over two events, as
 * product-analytics tools log screens rather than modules.
 */
export const VENDOR_EVENTS: Readonly<Record<Module, readonly { name: string; share: number }[]>> = {
  general_ledger: [{ name: 'Journal entries', share: 0.6 }, { name: 'Bank feeds', share: 0.4 }],
  receivables_payables: [{ name: 'Bills', share: 0.6 }, { name: 'Expense claims', share: 0.4 }],
  invoicing: [{ name: 'Invoices', share: 1 }],
  inventory: [{ name: 'Stock items', share: 1 }],
  payroll: [{ name: 'Payroll run', share: 1 }],
  tax: [{ name: 'VAT return', share: 1 }],
  multi_currency: [{ name: 'FX revaluation', share: 1 }],
  consolidation: [{ name: 'Group consolidation', share: 1 }],
  project_costing: [{ name: 'Project costing', share: 1 }],
  contracts: [{ name: 'Contracts', share: 1 }],
  budgeting: [{ name: 'Budgets', share: 1 }],
  reporting: [{ name: 'Reports v2', share: 0.7 }, { name: 'Dashboards', share: 0.3 }],
  compliance: [{ name: 'Audit trail', share: 1 }],
  api: [{ name: 'API calls', share: 1 }],
};

/** An event every account logs once a day per active user, whatever it does: the noise real logs carry. */
export const LOGIN_EVENT = 'Login';

/** File and column names of the exports, documented once (docs/export-shapes.md shows them). */
export const EXPORT_LAYOUT = {
  accounts: { file: 'crm_extract.csv', columns: ['Account', 'Created', 'Plan', 'Sector', 'Staff'] },
  activity: { file: 'feature_activity_daily.csv', columns: ['Account', 'Date', 'Event', 'events'] },
  transactions: { folder: 'by-day', columns: ['Document', 'Booked at', 'Customer No', 'Qty', 'Unit price', 'Ccy'] },
} as const;

/** Which tables each shape carries. */
const SHAPE_TABLES: Readonly<Record<ExportShape, { accounts: boolean; activity: boolean; transactions: boolean }>> = {
  'usage-only': { accounts: true, activity: true, transactions: false },
  'transactions-only': { accounts: false, activity: false, transactions: true },
  both: { accounts: true, activity: true, transactions: true },
};

/** How a shape writes an account id in its accounts file and activity log: the vendor's own format. */
function accountIdSql(shape: ExportShape, num: string): string {
  return shape === 'usage-only' ? `'ACC-' || CAST(${num} AS VARCHAR)` : `CAST(${num} AS VARCHAR)`;
}

/** The vendor's account number of a generated id (C000123 → 10123), as SQL over `col`. */
function accountNumberSql(col: string): string {
  return `(10000 + CAST(regexp_extract(${col}, '(\\d+)$', 1) AS BIGINT))`;
}

/** The id outcomes.csv gives an account: the accounts file's text, or for transactions-only the float id's integer. */
export function outcomeAccountId(shape: ExportShape, generatedId: string): string {
  const num = 10000 + Number(/(\d+)$/.exec(generatedId)![1]);
  return shape === 'usage-only' ? `ACC-${num}` : String(num);
}

/** Multipliers coprime with 100, so each purpose's bucket is uniform and no purpose's bucket is a shift of another's. */
const BUCKET_MULTIPLIERS = [7919, 7927, 7933, 7937, 7949, 7951, 7963] as const;

/**
 * A seeded bucket in [0, 100) per row, from the row's timestamp and account number: SQL so the
 * whole table is written in one pass, arithmetic rather than DuckDB's hash() so the bytes do not
 * depend on the DuckDB version.
 */
function bucketSql(ts: string, num: string, seed: number, purpose: string): string {
  const salt = deriveSeed(seed, purpose);
  const multiplier = BUCKET_MULTIPLIERS[salt % BUCKET_MULTIPLIERS.length]!;
  return `(((epoch(${ts})::BIGINT % 1000003) * ${multiplier} + ${num} * 104729 + ${salt % 1_000_003}) % 100)`;
}

/** The vendor event name of a usage row, as a SQL CASE over `module` and a seeded bucket. */
function eventNameSql(seed: number): string {
  const bucket = bucketSql('ts', accountNumberSql('customer_id'), seed, 'event-split');
  const arms = Object.entries(VENDOR_EVENTS).map(([module, events]) => {
    if (events.length === 1) return `WHEN module = ${sqlString(module)} THEN ${sqlString(events[0]!.name)}`;
    let upTo = 0;
    const inner = events.slice(0, -1).map((e) => `WHEN ${bucket} < ${(upTo += Math.round(e.share * 100))} THEN ${sqlString(e.name)}`);
    return `WHEN module = ${sqlString(module)} THEN CASE ${inner.join(' ')} ELSE ${sqlString(events.at(-1)!.name)} END`;
  });
  return `CASE ${arms.join(' ')} ELSE module END`;
}

/** A generated table as a DuckDB source, CSV or Parquet, typed by the contract. */
function tableSource(dir: string, table: 'customers' | 'usage_events' | 'transactions'): string {
  const parquet = join(dir, `${table}.parquet`);
  if (existsSync(parquet)) return `read_parquet(${sqlString(parquet)})`;
  const csv = join(dir, `${table}.csv`);
  if (!existsSync(csv)) throw new InputError(`${dir}: neither ${table}.parquet nor ${table}.csv is there`, ['the exports are written from a folder made by finseg generate']);
  return `read_csv(${sqlString(csv)}, header = true, nullstr = '', dateformat = '%Y-%m-%d', timestampformat = '%Y-%m-%d %H:%M:%S', columns = ${csvColumns(table)})`;
}

/** Writes a query's rows as CSV with a header; returns the row count. */
async function copyCsv(conn: DuckDBConnection, select: string, path: string): Promise<number> {
  // Materialised once, so the count does not run the query a second time.
  await conn.run(`CREATE OR REPLACE TEMP TABLE export_rows AS ${select}`);
  await conn.run(`COPY export_rows TO ${sqlString(path)} (FORMAT csv, HEADER true)`);
  const [row] = await queryRows(conn, 'SELECT count(*) AS n FROM export_rows');
  await conn.run('DROP TABLE export_rows');
  return Number(row!.n);
}

/** The accounts file: the vendor's CRM columns, dates as DD/MM/YYYY, no revenue, founded year, region or buyer role. */
async function writeAccounts(conn: DuckDBConnection, shape: ExportShape, path: string): Promise<number> {
  const num = accountNumberSql('customer_id');
  return copyCsv(
    conn,
    `SELECT ${accountIdSql(shape, num)} AS "Account", strftime(signup_date, '%d/%m/%Y') AS "Created", edition AS "Plan",
            industry AS "Sector", employees AS "Staff"
     FROM base_customers ORDER BY ${num}`,
    path,
  );
}

/** The activity log: one row per account, day and vendor event with the day's count; plus a Login row per active user-day. */
async function writeActivity(conn: DuckDBConnection, shape: ExportShape, seed: number, path: string): Promise<number> {
  const num = accountNumberSql('customer_id');
  return copyCsv(
    conn,
    `WITH named AS (SELECT customer_id, ts, user_id, coalesce(count, 1) AS n, ${eventNameSql(seed)} AS event FROM base_events),
          daily AS (SELECT customer_id, CAST(ts AS DATE) AS day, event, sum(n) AS events FROM named GROUP BY ALL
                    UNION ALL
                    SELECT customer_id, CAST(ts AS DATE) AS day, ${sqlString(LOGIN_EVENT)} AS event, count(DISTINCT user_id) AS events FROM named GROUP BY ALL)
     SELECT ${accountIdSql(shape, num)} AS "Account", strftime(day, '%Y-%m-%d') AS "Date", event AS "Event", CAST(events AS BIGINT) AS events
     FROM daily ORDER BY day, ${num}, event`,
    path,
  );
}

/**
 * The daily transaction files: `<folder>/YYYY-MM-DD.csv`, one per booking day, ids as floats
 * (`10123.0`), `missingIdShare` of the lines without one, and the amount split into a quantity
 * (1–5; negative for a refund) and a unit price rounded to cents.
 */
async function writeDailyTransactions(conn: DuckDBConnection, params: VendorExportParams, folder: string): Promise<{ files: number; lines: number }> {
  mkdirSync(folder, { recursive: true });
  const num = accountNumberSql('customer_id');
  const qtyBucket = bucketSql('ts', num, params.seed, 'quantity');
  const idBucket = bucketSql('ts', num, params.seed, 'missing-id');
  const missing = Math.round(params.missingIdShare * 100);
  const lines = await readColumns(
    conn,
    `WITH t AS (SELECT *, row_number() OVER (ORDER BY ts, customer_id, amount, currency, kind) AS doc, 1 + ${qtyBucket} % 5 AS q FROM base_transactions)
     SELECT strftime(ts, '%Y-%m-%d') AS day,
            concat_ws(',', 'D' || CAST(100000 + doc AS VARCHAR), strftime(ts, '%d/%m/%Y %H:%M'),
                      CASE WHEN ${idBucket} < ${missing} THEN '' ELSE CAST(${num} AS VARCHAR) || '.0' END,
                      CAST(CASE WHEN amount < 0 THEN -q ELSE q END AS VARCHAR),
                      printf('%.2f', abs(amount) / q), coalesce(currency, '')) AS line
     FROM t ORDER BY doc`,
    ['day', 'line'],
  );
  const header = `${EXPORT_LAYOUT.transactions.columns.join(',')}\n`;
  let files = 0;
  for (let start = 0; start < lines.rowCount; ) {
    const day = lines.text.day![start]!;
    let end = start;
    while (end < lines.rowCount && lines.text.day![end] === day) end++;
    writeFileSync(join(folder, `${day}.csv`), header + lines.text.line!.slice(start, end).join('\n') + '\n');
    files++;
    start = end;
  }
  return { files, lines: lines.rowCount };
}

/**
 * outcomes.csv: per base account, what the later snapshot says happened to it afterwards
 * (churned, declined, grew, stable; a mobile adopter is stable, as no export shows devices), the
 * generator's raw movement, and the usage events and transactions it logged in the later period.
 */
async function writeOutcomes(conn: DuckDBConnection, shape: ExportShape, path: string): Promise<Record<Outcome, number>> {
  const num = accountNumberSql('m.customer_id');
  const outcome = `CASE m.movement WHEN 'churned' THEN 'churned' WHEN 'declined' THEN 'declined' WHEN 'grew' THEN 'grew' ELSE 'stable' END`;
  await copyCsv(
    conn,
    `WITH ev AS (SELECT customer_id, sum(coalesce(count, 1)) AS n FROM later_events WHERE ts >= (SELECT as_of FROM base_as_of) GROUP BY 1),
          tx AS (SELECT customer_id, count(*) AS n FROM later_transactions WHERE ts >= (SELECT as_of FROM base_as_of) GROUP BY 1)
     SELECT ${accountIdSql(shape, num)} AS account_id, ${outcome} AS outcome, m.movement,
            CAST(coalesce(ev.n, 0) AS BIGINT) AS events_after, CAST(coalesce(tx.n, 0) AS BIGINT) AS transactions_after
     FROM movements m LEFT JOIN ev USING (customer_id) LEFT JOIN tx USING (customer_id)
     WHERE m.movement <> 'new' ORDER BY ${num}`,
    path,
  );
  const rows = await queryRows(conn, `SELECT outcome, count(*) AS n FROM read_csv(${sqlString(path)}, header = true, all_varchar = true) GROUP BY 1`);
  const counts = Object.fromEntries(OUTCOMES.map((o) => [o, 0])) as Record<Outcome, number>;
  for (const r of rows) counts[String(r.outcome) as Outcome] = Number(r.n);
  return counts;
}

/** Kind and version of vendor-export.json. */
export const VENDOR_EXPORT_KIND = 'finseg.vendor-export';
export const VENDOR_EXPORT_VERSION = 1;

/** One written export: the folder to hand to `finseg init --data`, its outcomes file and row counts. */
export interface WrittenExport {
  shape: ExportShape;
  /** The export folder (what an analyst would receive). */
  dir: string;
  /** outcomes.csv, beside the export folder, never inside it. */
  outcomes: string;
  rows: { accounts: number; activity: number; transactionLines: number; transactionFiles: number };
  outcomeCounts: Record<Outcome, number>;
}

/** Summary of `finseg generate --shape`, also written as vendor-export.json. */
export interface VendorExportSummary {
  kind: typeof VENDOR_EXPORT_KIND;
  version: typeof VENDOR_EXPORT_VERSION;
  base: string;
  later: string;
  /** The base snapshot's as-of date: every exported row is before it; the outcomes happen after it. */
  asOf: string;
  params: VendorExportParams;
  exports: WrittenExport[];
}

async function baseAsOf(conn: DuckDBConnection, baseDir: string): Promise<string> {
  const path = join(baseDir, 'generate.json');
  if (!existsSync(path)) throw new InputError(`${baseDir}: no generate.json there`, ['the exports are written from a folder made by finseg generate']);
  const [row] = await queryRows(conn, `SELECT json_extract_string(j, '$.params.asOf') AS as_of FROM (SELECT content::JSON AS j FROM read_text(${sqlString(path)}))`);
  return String(row!.as_of);
}

/**
 * Writes `<outDir>/<shape>/export/` and `<outDir>/<shape>/outcomes.csv` for each shape, from a
 * `finseg generate` folder (`baseDir`) and its later snapshot (`laterDir`, `generate --drift
 * --from baseDir`), plus `<outDir>/vendor-export.json`. A shape's folder is replaced.
 */
export async function writeVendorExports(baseDir: string, laterDir: string, outDir: string, shapes: readonly ExportShape[], params: VendorExportParams, logger: Logger): Promise<VendorExportSummary> {
  if (!(params.missingIdShare >= 0 && params.missingIdShare <= 1)) throw new InputError(`missingIdShare: expected a share in [0, 1], got ${params.missingIdShare}`);
  if (!existsSync(join(laterDir, 'movements.csv'))) throw new InputError(`${laterDir}: no movements.csv there`, [`write it with: finseg generate --drift --from ${baseDir} --out ${laterDir}`]);
  const conn = await openDuck();
  try {
    const asOf = await baseAsOf(conn, baseDir);
    for (const [view, dir, table] of [
      ['base_customers', baseDir, 'customers'],
      ['base_events', baseDir, 'usage_events'],
      ['base_transactions', baseDir, 'transactions'],
      ['later_events', laterDir, 'usage_events'],
      ['later_transactions', laterDir, 'transactions'],
    ] as const) {
      await conn.run(`CREATE VIEW ${view} AS SELECT * FROM ${tableSource(dir, table)}`);
    }
    await conn.run(`CREATE TABLE movements AS SELECT * FROM read_csv(${sqlString(join(laterDir, 'movements.csv'))}, header = true, all_varchar = true)`);
    await conn.run(`CREATE TABLE base_as_of AS SELECT TIMESTAMP ${sqlString(asOf)} AS as_of`);
    const exports: WrittenExport[] = [];
    for (const shape of shapes) exports.push(await writeShape(conn, shape, resolve(outDir, shape), params, logger));
    const summary: VendorExportSummary = { kind: VENDOR_EXPORT_KIND, version: VENDOR_EXPORT_VERSION, base: resolve(baseDir), later: resolve(laterDir), asOf, params, exports };
    writeFileSync(join(outDir, 'vendor-export.json'), `${JSON.stringify(summary, null, 2)}\n`);
    return summary;
  } finally {
    conn.closeSync();
  }
}

async function writeShape(conn: DuckDBConnection, shape: ExportShape, shapeDir: string, params: VendorExportParams, logger: Logger): Promise<WrittenExport> {
  rmSync(shapeDir, { recursive: true, force: true });
  const dir = join(shapeDir, 'export');
  mkdirSync(dir, { recursive: true });
  const tables = SHAPE_TABLES[shape];
  const rows = { accounts: 0, activity: 0, transactionLines: 0, transactionFiles: 0 };
  if (tables.accounts) rows.accounts = await writeAccounts(conn, shape, join(dir, EXPORT_LAYOUT.accounts.file));
  if (tables.activity) rows.activity = await writeActivity(conn, shape, params.seed, join(dir, EXPORT_LAYOUT.activity.file));
  if (tables.transactions) {
    const t = await writeDailyTransactions(conn, params, join(dir, EXPORT_LAYOUT.transactions.folder));
    [rows.transactionLines, rows.transactionFiles] = [t.lines, t.files];
  }
  const outcomes = join(shapeDir, 'outcomes.csv');
  const outcomeCounts = await writeOutcomes(conn, shape, outcomes);
  logger.info(`generate --shape ${shape}: ${JSON.stringify(rows)} → ${dir}; outcomes ${JSON.stringify(outcomeCounts)}`);
  return { shape, dir, outcomes, rows, outcomeCounts };
}

/** Parses `--shape`: one shape or `all`. */
export function parseShapes(text: string): ExportShape[] {
  if (text === 'all') return [...EXPORT_SHAPES];
  if ((EXPORT_SHAPES as readonly string[]).includes(text)) return [text as ExportShape];
  throw new InputError(`--shape must be one of ${EXPORT_SHAPES.join(', ')} or all, got ${JSON.stringify(text)}`);
}

/**
 * The whole test bench in one call: generates a base data set (CSV) in `<outDir>/source/base`,
 * its later snapshot `months` later in `<outDir>/source/later`, and the vendor exports of `shapes`.
 */
export async function generateVendorExports(outDir: string, shapes: readonly ExportShape[], generateParams: GenerateParams, params: VendorExportParams, logger: Logger, months = 3): Promise<VendorExportSummary> {
  const base = join(outDir, 'source', 'base');
  const later = join(outDir, 'source', 'later');
  await generateDataset(base, generateParams, 'csv', logger);
  await generateDriftSnapshot(base, later, { months }, logger, 'csv');
  return writeVendorExports(base, later, outDir, shapes, params, logger);
}
