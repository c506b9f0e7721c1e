import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { DuckDBConnection } from '@duckdb/node-api';
import { ingest, defaultIngestParams, type IngestResult } from '../../pipeline/01-ingest/ingest.ts';
import { CONTRACT } from '../../pipeline/01-ingest/contract.ts';
import { isCellLevel } from '../../pipeline/01-ingest/cells.ts';
import { defectClasses, generateDirtyDataset, readPlantedDefects, type PlantedDefect } from '../../pipeline/generate/dirty.ts';
import { defaultGenerateParams, type Format } from '../../pipeline/generate/generate.ts';
import { openDuck, queryRows, sqlIdent, sqlString } from '../../pipeline/core/duck.ts';
import { quietLogger } from '../../pipeline/core/log.ts';

/**
 * `finseg generate --dirty RATE` plants every defect class at a known rate; ingestion must
 * quarantine exactly the planted rows with a bad required value with exactly the planted reason
 * (plus the knock-on rows of a broken customer, predicted from defects.csv), null exactly the
 * planted bad optional values as cells (the row kept), and nothing else.
 */
const root = mkdtempSync(join(tmpdir(), 'finseg-dirty-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const RATE = 0.02;
const params = { ...defaultGenerateParams, customers: 1500, eventsPerCustomer: 25, seed: 17 };

/** A planted defect in an optional column of the contract: its value is nulled, its row kept (a subscription's end date quarantines the row). */
const isOptional = (d: PlantedDefect): boolean => d.column !== null && isCellLevel(CONTRACT[d.table].columns.find((c) => c.name === d.column)!);
const TABLES = ['customers', 'usage_events', 'transactions', 'subscriptions', 'feedback', 'actions'] as const;
/** The tables --dirty plants defects in (feedback and actions rows only follow their customer). */
const PLANTED_TABLES = ['customers', 'usage_events', 'transactions', 'subscriptions'] as const;

interface Run {
  dir: string;
  planted: PlantedDefect[];
  result: IngestResult;
  /** table:line → reason, as quarantined. */
  actual: Map<string, string>;
  /** table:line → reason, as planted or implied by a planted customer defect. */
  expected: Map<string, string>;
  /** table:line → reason:column of the nulled cells, from the `<table>.cells.csv` files. */
  actualCells: Map<string, string>;
  /** table:line → reason:column of the planted optional defects whose row is kept. */
  expectedCells: Map<string, string>;
  /** Per table, the customer_quarantined rows expected by the planted reason of their customer's row. */
  expectedFollowed: Record<string, Record<string, number>>;
  /** Rows in each accepted table (a view over Parquet, a table for text) after ingest. */
  acceptedRows: Record<string, number>;
}

async function run(format: Format): Promise<Run> {
  const dir = join(root, format);
  const { dirty } = await generateDirtyDataset(dir, params, format, RATE, quietLogger);
  const planted = readPlantedDefects(dir);
  const qdir = join(root, `q-${format}`);
  const conn: DuckDBConnection = await openDuck();
  try {
    const result = await ingest(conn, dir, { ...defaultIngestParams, asOf: '2026-09-29', quarantineLimit: 1, plans: dirty.plans }, qdir, quietLogger);
    const expected = new Map(planted.filter((d) => !isOptional(d)).map((d) => [`${d.table}:${d.line}`, d.reason as string]));
    // A customers row quarantined for a required value takes its customer's other rows with it:
    // customer_quarantined, or unknown_customer when the id itself is gone (blanked, or the row
    // unreadable). A bad optional value takes nothing with it.
    const knockOn = new Map<string, { reason: string; customerReason: string }>();
    for (const d of planted) {
      if (d.table !== 'customers' || d.reason === 'duplicate_id' || isOptional(d)) continue;
      knockOn.set(d.customerId, { reason: d.reason === 'malformed' || (d.reason === 'missing_key' && d.column === 'customer_id') ? 'unknown_customer' : 'customer_quarantined', customerReason: d.reason });
    }
    const expectedFollowed: Record<string, Record<string, number>> = {};
    // The generator's feedback and actions rows carry no planted defects of their own: they follow their customer only.
    for (const table of TABLES.slice(1)) {
      const src = format === 'csv' ? `read_csv(${sqlString(join(dir, `${table}.csv`))}, all_varchar = true, strict_mode = false, null_padding = true)` : `read_parquet(${sqlString(join(dir, `${table}.parquet`))})`;
      // Generated lines hold no quoted newlines, so the n-th data row is on line n + 1 (row n in Parquet).
      const offset = format === 'csv' ? 1 : 0;
      for (const r of await queryRows(conn, `SELECT row_number() OVER () + ${offset} AS line, customer_id FROM ${src}`)) {
        const key = `${table}:${r.line}`;
        const k = knockOn.get(String(r.customer_id));
        if (!k || expected.has(key)) continue;
        expected.set(key, k.reason);
        if (k.reason === 'customer_quarantined') {
          const byReason = (expectedFollowed[table] ??= {});
          byReason[k.customerReason] = (byReason[k.customerReason] ?? 0) + 1;
        }
      }
    }
    const actual = new Map<string, string>();
    for (const table of TABLES) {
      if (!existsSync(join(result.quarantineDir!, `${table}.csv`))) continue;
      for (const r of await queryRows(conn, `SELECT line, reason FROM read_csv(${sqlString(join(result.quarantineDir!, `${table}.csv`))}, all_varchar = true)`)) actual.set(`${table}:${r.line}`, String(r.reason));
    }
    // An optional defect on a row that followed its customer goes with the row, not as a cell.
    const expectedCells = new Map(planted.filter((d) => isOptional(d) && !expected.has(`${d.table}:${d.line}`)).map((d) => [`${d.table}:${d.line}`, `${d.reason}:${d.column}`]));
    const actualCells = new Map<string, string>();
    for (const table of TABLES) {
      const file = join(result.quarantineDir!, `${table}.cells.csv`);
      if (!existsSync(file)) continue;
      for (const r of await queryRows(conn, `SELECT line, reason, "column" FROM read_csv(${sqlString(file)}, all_varchar = true)`)) actualCells.set(`${table}:${r.line}`, `${r.reason}:${r.column}`);
    }
    const acceptedRows: Record<string, number> = {};
    for (const table of TABLES) acceptedRows[table] = Number((await queryRows(conn, `SELECT count(*) AS n FROM ${table}`))[0]!.n);
    for (const table of ['customers', 'usage_events', 'transactions']) acceptedRows[`${table}:nulls`] = 0;
    // Each customer with a planted optional defect is accepted, with that attribute missing.
    for (const d of planted.filter((x) => x.table === 'customers' && isOptional(x))) {
      const [row] = await queryRows(conn, `SELECT ${sqlIdent(d.column!)} IS NULL AS nulled FROM customers WHERE customer_id = ${sqlString(d.customerId)}`);
      if (row?.nulled === true) acceptedRows['customers:nulls']!++;
    }
    return { dir, planted, result, actual, expected, actualCells, expectedCells, expectedFollowed, acceptedRows };
  } finally {
    conn.closeSync();
  }
}

/** Per reason: true positives, false positives (quarantined with it but not expected) and false negatives. */
function confusion(r: Run): Record<string, { tp: number; fp: number; fn: number }> {
  const out: Record<string, { tp: number; fp: number; fn: number }> = {};
  const cell = (reason: string) => (out[reason] ??= { tp: 0, fp: 0, fn: 0 });
  for (const [key, reason] of r.actual) {
    if (r.expected.get(key) === reason) cell(reason).tp++;
    else cell(reason).fp++;
  }
  for (const [key, reason] of r.expected) if (r.actual.get(key) !== reason) cell(reason).fn++;
  return out;
}

describe.each(['csv', 'parquet'] as const)('--dirty %s: precision and recall of the quarantine per defect class', (format) => {
  let r: Run;
  beforeAll(async () => {
    r = await run(format);
  }, 120_000);

  it('plants every defect class of every table', () => {
    for (const table of PLANTED_TABLES) {
      const planted = new Set(r.planted.filter((d) => d.table === table).map((d) => d.reason));
      expect([...planted].sort()).toEqual([...defectClasses(table, format)].sort());
    }
  });

  it('plants the subscription defects of a billing export: end before start, negative MRR, unknown plan, unknown customer', () => {
    const kinds = new Set(r.planted.filter((d) => d.table === 'subscriptions').map((d) => `${d.reason}:${d.column}`));
    for (const k of ['end_before_start:end_date', 'out_of_range:mrr', 'bad_enum:plan', 'unknown_customer:customer_id']) expect(kinds).toContain(k);
  });

  it('plants each class in about RATE of the rows', () => {
    const events = r.result.tables.usage_events!.read;
    for (const reason of defectClasses('usage_events', format)) {
      const n = r.planted.filter((d) => d.table === 'usage_events' && d.reason === reason).length;
      // Binomial(events, RATE): 4 standard deviations either side.
      const sd = Math.sqrt(events * RATE * (1 - RATE));
      expect(Math.abs(n - events * RATE)).toBeLessThan(4 * sd);
    }
  });

  it('quarantines every planted row with its reason and no clean row: 100% precision and recall per reason', () => {
    const perReason = confusion(r);
    for (const [reason, c] of Object.entries(perReason)) {
      expect({ reason, fp: c.fp, fn: c.fn }).toEqual({ reason, fp: 0, fn: 0 });
      expect(c.tp).toBeGreaterThan(0);
    }
    expect(r.actual.size).toBe(r.expected.size);
    expect(r.expected.size).toBeGreaterThan(r.planted.length);
  });

  it('nulls every planted optional value as a cell at its file, line and column, and no other cell', () => {
    expect(r.expectedCells.size).toBeGreaterThan(50);
    const missing = [...r.expectedCells].filter(([k, v]) => r.actualCells.get(k) !== v);
    const extra = [...r.actualCells].filter(([k, v]) => r.expectedCells.get(k) !== v);
    expect({ missing, extra }).toEqual({ missing: [], extra: [] });
    for (const table of TABLES) {
      const byColumn: Record<string, number> = {};
      for (const [k, v] of r.expectedCells) if (k.startsWith(`${table}:`)) byColumn[v.split(':')[1]!] = (byColumn[v.split(':')[1]!] ?? 0) + 1;
      const t = r.result.tables[table]!;
      expect({ table, cells: t.cellsNulled, byColumn: t.cellsByColumn }).toEqual({ table, cells: Object.values(byColumn).reduce((a, b) => a + b, 0), byColumn: expect.objectContaining(byColumn) });
      expect(Object.keys(t.cellsByColumn!).sort()).toEqual(Object.keys(byColumn).sort());
    }
  });

  it('loses no customer for a bad optional value: each is accepted with the value missing, and none of its rows follow it', () => {
    const optionalOnly = r.planted.filter((d) => d.table === 'customers' && isOptional(d));
    expect(optionalOnly.length).toBeGreaterThan(20);
    expect(r.acceptedRows['customers:nulls']).toBe(optionalOnly.length);
    const ids = new Set(optionalOnly.map((d) => d.customerId));
    const followedIds = [...r.actual].filter(([, reason]) => reason === 'customer_quarantined').length;
    expect(followedIds).toBe([...r.expected.values()].filter((x) => x === 'customer_quarantined').length);
    expect(ids.size).toBe(optionalOnly.length);
  });

  it('counts the rows that followed their customer by the reason of the customer\'s row', () => {
    for (const table of TABLES.slice(1)) {
      const t = r.result.tables[table]!;
      expect({ table, followed: t.followed }).toEqual({ table, followed: r.expectedFollowed[table] ?? {} });
      expect(Object.values(t.followed ?? {}).reduce((a, b) => a + (b ?? 0), 0)).toBe(t.byReason.customer_quarantined ?? 0);
      // Only reasons of a required value make a customer unusable.
      for (const reason of Object.keys(t.followed ?? {})) expect(['missing_key', 'unparseable', 'after_as_of']).toContain(reason);
    }
  });

  it('reconciles read = accepted + quarantined, with reads counting the inserted duplicates', () => {
    for (const t of Object.values(r.result.tables)) expect(t.read).toBe(t.accepted + t.quarantined);
    const duplicates = r.planted.filter((d) => d.reason === 'duplicate_id').length;
    expect(r.result.tables.customers!.read).toBe(params.customers + duplicates);
  });

  it('leaves exactly the accepted rows in the tables the features read', () => {
    // Parquet tables are views that drop the quarantined (file, line)s; text tables are copies.
    for (const t of Object.values(r.result.tables)) expect({ table: t.table, rows: r.acceptedRows[t.table] }).toEqual({ table: t.table, rows: t.accepted });
    expect(r.result.tables.usage_events!.quarantined).toBeGreaterThan(0);
  });
});

describe('finseg validate on a dirty folder', () => {
  it('prints the per-reason table and exits 2 over the quarantine limit', async () => {
    const dir = join(root, 'cli');
    await generateDirtyDataset(dir, { ...params, customers: 150 }, 'csv', 0.01, quietLogger);
    const bin = join(import.meta.dirname, '../../bin/finseg.mjs');
    const result = await promisify(execFile)(process.execPath, [bin, 'validate', '--data', dir, '--as-of', '2026-09-29'], { cwd: root }).then(
      () => ({ code: 0, stdout: '' }),
      (e: { code: number; stdout: string }) => ({ code: e.code, stdout: e.stdout }),
    );
    expect(result.code).toBe(2);
    expect(result.stdout).toMatch(/usage_events +csv, 1 file +[\d,]+ +[\d,]+ +[\d,]+ +\d+\.\d% +[\d,]+ +OVER THE LIMIT/);
    for (const reason of defectClasses('usage_events', 'csv')) expect(result.stdout).toContain(`  ${reason}`);
    expect(result.stdout).toContain('usage_events: optional values nulled (rows kept) by reason');
    expect(result.stdout).toContain('result: over the quarantine limit (exit code 2)');
    expect(result.stdout).toMatch(/quarantined rows with source file, line, reason and the row's own columns \(nulled cells in <table>\.cells\.csv\): .*data\/quarantine\/[0-9a-f]{16}\n/);
  }, 60_000);
});
