import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { CONTRACT, type ColumnType, type TableName } from '../01-ingest/contract.ts';
import { sqlString } from '../core/duck.ts';
import { pollQueryProgress, trackQueryProgress } from '../core/duck-progress.ts';
import { InputError } from '../core/errors.ts';
import { progressOf, type Logger } from '../core/log.ts';
import { ARCHETYPE_SPECS } from './archetypes.ts';
import { drawCustomers, epochDay } from './customers.ts';
import { CsvFile, writeCustomers, writeTransactions, writeTruth, writeUsageEvents, type GenerateProgress } from './rows.ts';
import { writeSubscriptions } from './subscriptions.ts';
import { actionUsageHook, planActions, writeActions, writeActionsTruth } from './actions.ts';
import { writeFeedback } from './feedback.ts';

/**
 * The seeded synthetic data generator (DESIGN §8): draws customers from the archetypes in
 * archetypes.ts and writes the three contract tables, subscriptions (subscriptions.ts) and the truth files. Same params, same
 * bytes (CSV) or the same rows (Parquet).
 */

export interface GenerateParams {
  /** Every random draw derives from it. */
  seed: number;
  customers: number;
  /** Mean event rows per customer. */
  eventsPerCustomer: number;
  /** 'YYYY-MM-DD': the moment of the extract (00:00 of that day); every timestamp is before it. */
  asOf: string;
  /** Events and transactions span [asOf - historyDays, asOf). */
  historyDays: number;
  /** Customer id prefix; score batches use another one so ids never collide with training data. */
  idPrefix: string;
  /** Mean transaction rows per customer; absent or null keeps each archetype's own rate (about 30 in the demo). */
  transactionsPerCustomer?: number | null;
}

/** The demo data set: 20,000 customers, about 1.2 million event rows and 0.6 million transactions. */
export const defaultGenerateParams: GenerateParams = {
  seed: 20260930,
  customers: 20_000,
  eventsPerCustomer: 60,
  asOf: '2026-09-30',
  historyDays: 365,
  idPrefix: 'C',
};

export type Format = 'parquet' | 'csv';

/** The contract tables generate writes, in the order it writes them. */
export const GENERATED_TABLES = ['customers', 'usage_events', 'transactions', 'subscriptions', 'feedback', 'actions'] as const;

export interface GenerateSummary {
  dir: string;
  format: Format;
  rows: { customers: number; usage_events: number; transactions: number; subscriptions: number; feedback: number; actions: number };
  archetypeCounts: Record<string, number>;
  seed: number;
  files: string[];
}

/** Kind and version of generate.json, so a reader can reject a file it does not understand. */
export const GENERATE_MANIFEST_KIND = 'finseg.generate';
export const GENERATE_MANIFEST_VERSION = 1;

const DUCK_TYPES: Readonly<Record<ColumnType, string>> = {
  string: 'VARCHAR',
  date: 'DATE',
  timestamp: 'TIMESTAMP',
  int: 'INTEGER',
  number: 'DOUBLE',
};

/** Rejects params the generator cannot honour, naming the field and what was expected. */
export function validateGenerateParams(params: GenerateParams): void {
  const problems: string[] = [];
  if (!Number.isInteger(params.seed) || params.seed < 0 || params.seed > 0xffffffff) problems.push(`seed: expected an integer in [0, 2^32), got ${params.seed}`);
  if (!Number.isInteger(params.customers) || params.customers < 1) problems.push(`customers: expected a positive integer, got ${params.customers}`);
  if (!(params.eventsPerCustomer >= 0) || !Number.isFinite(params.eventsPerCustomer)) problems.push(`eventsPerCustomer: expected a number >= 0, got ${params.eventsPerCustomer}`);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(params.asOf) || Number.isNaN(Date.parse(`${params.asOf}T00:00:00Z`))) problems.push(`asOf: expected a date 'YYYY-MM-DD', got '${params.asOf}'`);
  const tpc = params.transactionsPerCustomer;
  if (tpc !== undefined && tpc !== null && !(tpc >= 0 && Number.isFinite(tpc))) problems.push(`transactionsPerCustomer: expected a number >= 0 or null, got ${tpc}`);
  if (!Number.isInteger(params.historyDays) || params.historyDays < 1) problems.push(`historyDays: expected a positive integer, got ${params.historyDays}`);
  if (!/^[A-Za-z0-9_-]*$/.test(params.idPrefix)) problems.push(`idPrefix: expected letters, digits, '_' or '-', got '${params.idPrefix}'`);
  if (problems.length > 0) throw new InputError('invalid generate parameters', problems);
}

/** The contract tables the generator writes. */
export type GeneratedTable = 'customers' | 'usage_events' | 'transactions' | 'subscriptions';

/** The read_csv column declaration for a contract table, so Parquet gets the contract's types. */
export function csvColumns(table: TableName): string {
  const entries = CONTRACT[table].columns.map((c) => `${sqlString(c.name)}: ${sqlString(DUCK_TYPES[c.type])}`);
  return `{${entries.join(', ')}}`;
}

/** Converts one generated CSV file to Parquet with the contract's column types, in row order. */
async function csvToParquet(conn: DuckDBConnection, table: TableName, csvPath: string, parquetPath: string): Promise<void> {
  await conn.run(
    `COPY (SELECT * FROM read_csv(${sqlString(csvPath)}, header = true, delim = ',', quote = '"', nullstr = '', ` +
      `dateformat = '%Y-%m-%d', timestampformat = '%Y-%m-%d %H:%M:%S', columns = ${csvColumns(table)})) ` +
      `TO ${sqlString(parquetPath)} (FORMAT parquet, COMPRESSION zstd)`,
  );
}

/** How many customers each archetype drew. */
function countArchetypes(draws: ReturnType<typeof drawCustomers>): Record<string, number> {
  const counts: Record<string, number> = Object.fromEntries(ARCHETYPE_SPECS.map((a) => [a.name, 0]));
  for (let i = 0; i < draws.n; i++) counts[ARCHETYPE_SPECS[draws.archetype[i]!]!.name]! += 1;
  return counts;
}

/** Waits for the Parquet conversions still running (usage_events' is the longest), showing DuckDB's percentage of the table converting (`converting()`) on a terminal. */
async function conversionsDone(pending: Promise<void>, conn: DuckDBConnection | null, logger: Logger, converting: () => string): Promise<void> {
  const progress = logger.progress;
  const stop = conn && progress ? pollQueryProgress(conn, (done, total) => progress.call(logger, `generate: Parquet ${converting()}`, done, total)) : null;
  try {
    await pending;
  } finally {
    stop?.();
  }
}

/**
 * Writes customers.<ext>, usage_events.<ext>, transactions.<ext>, subscriptions.<ext>,
 * feedback.<ext>, actions.<ext>, truth.csv (customer_id,archetype), subscriptions_truth.csv and
 * actions_truth.csv (generate/actions.ts) into dir (created if missing), plus generate.json
 * (params + summary). On a terminal each table shows a bar of customers written (logger.progress).
 */
export async function generateDataset(dir: string, params: GenerateParams, format: Format, logger: Logger): Promise<GenerateSummary> {
  validateGenerateParams(params);
  const outDir = resolve(dir);
  mkdirSync(outDir, { recursive: true });
  const asOfDay = epochDay(params.asOf);
  const [firstDay, lastDay] = [asOfDay - params.historyDays, asOfDay - 1];
  logger.info(`generate: drawing ${params.customers} customers (seed ${params.seed})`);
  const draws = drawCustomers({ ...params, asOfDay });

  const tables = GENERATED_TABLES;
  const finalPath = (table: string): string => join(outDir, `${table}.${format}`);
  // Parquet goes through a temporary CSV that DuckDB converts while the next table is drawn.
  const textPath = (table: string): string => (format === 'csv' ? finalPath(table) : join(outDir, `.${table}.generating.csv`));
  const rows = { customers: 0, usage_events: 0, transactions: 0, subscriptions: 0, feedback: 0, actions: 0 };
  const subscriptionsTruthPath = join(outDir, 'subscriptions_truth.csv');
  const actionPlan = planActions(draws, params.seed, asOfDay);

  let instance: DuckDBInstance | null = null;
  let conn: DuckDBConnection | null = null;
  try {
    if (format === 'parquet') {
      instance = await DuckDBInstance.create(':memory:');
      conn = await instance.connect();
      if (logger.progress) await trackQueryProgress(conn); // before any COPY is queued: see conversionsDone
    }
    let pending: Promise<void> = Promise.resolve();
    let converting = ''; // the table whose COPY runs now, for the progress label
    const convert = (table: (typeof tables)[number]): void => {
      const c = conn;
      if (c) pending = pending.then(() => void (converting = table)).then(() => csvToParquet(c, table, textPath(table), finalPath(table))).then(() => rmSync(textPath(table)));
    };
    const write = (table: (typeof tables)[number], body: (out: CsvFile, onProgress?: GenerateProgress) => number): void => {
      const out = new CsvFile(textPath(table));
      try {
        rows[table] = body(out, progressOf(logger, `generate ${table}`));
      } finally {
        out.close();
      }
      logger.info(`generate: ${table}: ${rows[table]} rows`);
    };

    write('customers', (out, onProgress) => writeCustomers(draws, out, onProgress));
    convert('customers');
    write('usage_events', (out, onProgress) => writeUsageEvents(draws, params.seed, firstDay, lastDay, out, actionUsageHook(actionPlan, draws, params.seed, asOfDay), onProgress));
    await pending;
    convert('usage_events');
    write('transactions', (out, onProgress) => writeTransactions(draws, params.seed, firstDay, lastDay, out, onProgress));
    convert('transactions');
    write('subscriptions', (out, onProgress) => writeSubscriptions(draws, params.seed, asOfDay, out, subscriptionsTruthPath, onProgress));
    convert('subscriptions');
    write('feedback', (out, onProgress) => writeFeedback(draws, actionPlan, params.seed, asOfDay, out, onProgress));
    convert('feedback');
    write('actions', (out) => writeActions(actionPlan, draws, out));
    convert('actions');
    await conversionsDone(pending, conn, logger, () => converting);
  } finally {
    conn?.closeSync();
    instance?.closeSync();
    if (format === 'parquet') for (const table of tables) rmSync(textPath(table), { force: true });
  }

  const truthPath = join(outDir, 'truth.csv');
  const truth = new CsvFile(truthPath);
  writeTruth(draws, truth);
  truth.close();
  const actionsTruthPath = writeActionsTruth(actionPlan, join(outDir, 'actions_truth.csv'));
  const manifestPath = join(outDir, 'generate.json');
  const summary: GenerateSummary = {
    dir: outDir,
    format,
    rows,
    archetypeCounts: countArchetypes(draws),
    seed: params.seed,
    files: [...tables.map(finalPath), truthPath, subscriptionsTruthPath, actionsTruthPath, manifestPath],
  };
  const manifest = { kind: GENERATE_MANIFEST_KIND, formatVersion: GENERATE_MANIFEST_VERSION, params, summary };
  writeFileSync(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
  logger.info(`generate: wrote ${rows.customers} customers, ${rows.usage_events} events, ${rows.transactions} transactions, ${rows.subscriptions} subscription periods to ${outDir}`);
  return summary;
}
