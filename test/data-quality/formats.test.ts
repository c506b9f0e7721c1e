import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { DateDay, Float64, Int32, Table, TimestampMicrosecond, TimestampMillisecond, Utf8, tableToIPC, vectorFromArray, type DataType, type Vector } from 'apache-arrow';
import { ingest, defaultIngestParams, type IngestResult } from '../../pipeline/01-ingest/ingest.ts';
import { CONTRACT, type ColumnSpec } from '../../pipeline/01-ingest/contract.ts';
import { computeFeatures, type FeatureTable } from '../../pipeline/02-features/features.ts';
import { defaultFeatureParams } from '../../pipeline/02-features/params.ts';
import { openDuck, queryRows, sqlString } from '../../pipeline/core/duck.ts';
import { quietLogger } from '../../pipeline/core/log.ts';
import { defaultGenerateParams, generateDataset } from '../../pipeline/generate/generate.ts';

/**
 * One generated data set written in every supported format (and CSV dialect); each must give
 * exactly the same feature matrix, customer order and attributes as the plain CSV.
 */
const root = mkdtempSync(join(tmpdir(), 'finseg-formats-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const params = { ...defaultGenerateParams, customers: 250, eventsPerCustomer: 20, seed: 23 };
const TABLES = ['customers', 'usage_events', 'transactions'] as const;

async function featuresOf(dir: string): Promise<{ features: FeatureTable; result: IngestResult }> {
  const conn = await openDuck();
  try {
    const result = await ingest(conn, dir, { ...defaultIngestParams, asOf: '2026-09-29' }, null, quietLogger);
    return { features: await computeFeatures(conn, result.asOf, defaultFeatureParams, result.absentTables), result };
  } finally {
    conn.closeSync();
  }
}

/** An Arrow type for a contract column (timestamps in microseconds for events, milliseconds elsewhere, to cover both units). */
function arrowType(c: ColumnSpec, table: string): DataType {
  if (c.type === 'timestamp') return table === 'usage_events' ? new TimestampMicrosecond() : new TimestampMillisecond();
  if (c.type === 'date') return new DateDay();
  if (c.type === 'int') return new Int32();
  if (c.type === 'number') return new Float64();
  return new Utf8();
}

/** Writes every table of `csvDir` as Arrow IPC (file, or stream for usage events) into `out`. */
async function writeArrow(csvDir: string, out: string): Promise<void> {
  const conn = await openDuck();
  for (const table of TABLES) {
    const rows = await queryRows(conn, `SELECT * FROM read_csv(${sqlString(join(csvDir, `${table}.csv`))}, header = true)`);
    const columns: Record<string, Vector> = {};
    const toVector = vectorFromArray as (values: unknown[], type?: DataType) => Vector;
    for (const c of CONTRACT[table].columns) {
      const values = rows.map((r) => (r[c.name] === undefined ? null : r[c.name]));
      // Customers' text columns get the inferred type (dictionary-encoded strings), so that path is covered too.
      columns[c.name] = toVector(values, c.type === 'string' && table === 'customers' ? undefined : arrowType(c, table));
    }
    const ipc = tableToIPC(new Table(columns), table === 'usage_events' ? 'stream' : 'file');
    writeFileSync(join(out, `${table}.${table === 'usage_events' ? 'arrows' : 'arrow'}`), ipc);
  }
  conn.closeSync();
}

describe('the same data in every format gives identical features', () => {
  const variants: Record<string, string> = {};
  let baseline: FeatureTable;
  let baselineResult: IngestResult;

  beforeAll(async () => {
    const csv = join(root, 'csv');
    await generateDataset(csv, params, 'csv', quietLogger);
    await generateDataset(join(root, 'parquet'), params, 'parquet', quietLogger);
    variants.parquet = join(root, 'parquet');

    // JSON Lines (gzipped for transactions), written by DuckDB from the typed CSV.
    const jsonl = join(root, 'jsonl');
    mkdirSync(jsonl);
    const conn = await openDuck();
    for (const table of TABLES) {
      const target = join(jsonl, table === 'transactions' ? 'transactions.jsonl.gz' : `${table}.jsonl`);
      await conn.run(`COPY (SELECT * FROM read_csv(${sqlString(join(csv, `${table}.csv`))}, header = true)) TO ${sqlString(target)} (FORMAT json${table === 'transactions' ? ", COMPRESSION 'gzip'" : ''})`);
    }
    variants.jsonl = jsonl;

    // Hive-partitioned Parquet folder for usage events, one folder per month.
    const hive = join(root, 'hive');
    mkdirSync(hive);
    await conn.run(`COPY (SELECT *, strftime(ts, '%Y-%m') AS month FROM read_csv(${sqlString(join(csv, 'usage_events.csv'))}, header = true)) TO ${sqlString(join(hive, 'usage_events'))} (FORMAT parquet, PARTITION_BY (month))`);
    for (const table of ['customers', 'transactions']) writeFileSync(join(hive, `${table}.csv`), readFileSync(join(csv, `${table}.csv`)));
    variants.hive = hive;
    conn.closeSync();

    // A European spreadsheet export: BOM, semicolons, CRLF; TSV customers; gzipped transactions.
    const excel = join(root, 'excel');
    mkdirSync(excel);
    const text = (table: string) => readFileSync(join(csv, `${table}.csv`), 'utf8');
    writeFileSync(join(excel, 'usage_events.csv'), `\uFEFF${text('usage_events').replaceAll(',', ';').replaceAll('\n', '\r\n')}`);
    writeFileSync(join(excel, 'customers.tsv'), text('customers').replaceAll(',', '\t'));
    writeFileSync(join(excel, 'transactions.csv.gz'), gzipSync(text('transactions')));
    variants.excel = excel;

    const arrow = join(root, 'arrow');
    mkdirSync(arrow);
    await writeArrow(csv, arrow);
    variants.arrow = arrow;

    ({ features: baseline, result: baselineResult } = await featuresOf(csv));
  }, 120_000);

  it('the baseline is a real feature matrix: every customer, no quarantine', () => {
    expect(baseline.X.rows).toBe(250);
    expect(baseline.featureNames.length).toBeGreaterThan(30);
    for (const t of Object.values(baselineResult.tables)) expect(t.quarantined).toBe(0);
  });

  it.each(['parquet', 'jsonl', 'hive', 'excel', 'arrow'])('%s gives the same customers, features and attributes as CSV', async (name) => {
    const { features, result } = await featuresOf(variants[name]!);
    for (const t of TABLES) expect(result.tables[t]).toMatchObject({ read: baselineResult.tables[t]!.read, quarantined: 0 });
    expect(features.customerIds).toEqual(baseline.customerIds);
    expect(features.featureNames).toEqual(baseline.featureNames);
    expect(Array.from(features.X.data)).toEqual(Array.from(baseline.X.data));
    expect(features.attributes).toEqual(baseline.attributes);
  });
});
