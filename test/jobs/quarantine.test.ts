import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { defaultIngestParams, ingest } from '../../pipeline/01-ingest/ingest.ts';
import { QUARANTINE_META, readQuarantineMeta } from '../../pipeline/01-ingest/quarantine-meta.ts';
import { main } from '../../pipeline/cli/main.ts';
import { openDuck, queryRows, sqlString } from '../../pipeline/core/duck.ts';
import { InputError } from '../../pipeline/core/errors.ts';
import { quietLogger } from '../../pipeline/core/log.ts';
import { listQuarantine, pruneQuarantine, quarantineJob } from '../../pipeline/jobs/quarantine.ts';

/**
 * `finseg quarantine list | prune` on a root written by real ingest runs over three hand-made
 * inputs whose bad rows are planted (counted by hand below), next to entries that are not
 * quarantine folders and must survive every prune. Run times come from an injected clock, so
 * "newest" is known without waiting.
 */
const work = mkdtempSync(join(tmpdir(), 'finseg-qcmd-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const CUSTOMERS = 'customer_id,signup_date\nc1,2025-01-01\nc2,2025-02-01\nc3,2025-03-01\n';
const TRANSACTIONS = 'customer_id,ts,amount\nc1,2025-06-01T10:00:00,10.5\nc2,2025-06-03T10:00:00,20\nc3,2025-06-05T10:00:00,7\n';
/** Each input: its files and the rows planted as bad, per table. */
const INPUTS = {
  // A blank id (missing_key); an amount that is not a number and a customer that does not exist.
  a: {
    files: { 'customers.csv': `${CUSTOMERS},2025-04-01\n`, 'transactions.csv': `${TRANSACTIONS}c1,2025-06-02T10:00:00,abc\nc9,2025-06-04T10:00:00,5\n` },
    planted: { customers: 1, transactions: 2 },
  },
  // Clean customers; one unparseable timestamp.
  b: { files: { 'customers.csv': CUSTOMERS, 'transactions.csv': `${TRANSACTIONS}c2,not a date,3\n` }, planted: { transactions: 1 } },
  // A repeated customer id (the second is duplicate_id); clean transactions, so no transactions.csv.
  c: { files: { 'customers.csv': `${CUSTOMERS}c2,2025-05-01\n`, 'transactions.csv': TRANSACTIONS }, planted: { customers: 1 } },
} as const;
type InputName = keyof typeof INPUTS;

let conn: DuckDBConnection;
const folderOf: Partial<Record<InputName, string>> = {};

/** Ingests input `name` into `root` as `command` at `at` (the quarantine limit lifted, as validate does). */
async function run(root: string, name: InputName, at: string, command = 'validate'): Promise<void> {
  const dir = join(work, 'data', name);
  const result = await ingest(conn, dir, { ...defaultIngestParams, quarantineLimit: Number.POSITIVE_INFINITY }, root, quietLogger, { command, now: () => new Date(at) });
  folderOf[name] = result.quarantineDir!;
}

/** A root with input a at 10:00, b at 11:00, c at 12:00, plus three entries that are not quarantine folders. */
async function makeRoot(label: string): Promise<string> {
  const root = join(work, label);
  await run(root, 'a', '2026-03-01T10:00:00Z');
  await run(root, 'b', '2026-03-01T11:00:00Z');
  await run(root, 'c', '2026-03-01T12:00:00Z');
  mkdirSync(join(root, 'notes'));
  writeFileSync(join(root, 'notes', 'todo.txt'), 'keep me\n');
  // Named like a quarantine folder, but holding a file finseg never writes there.
  mkdirSync(join(root, '0123456789abcdef'));
  writeFileSync(join(root, '0123456789abcdef', 'photo.jpg'), 'x');
  writeFileSync(join(root, 'README.txt'), 'not a folder\n');
  return root;
}

/** Records in a CSV, counted by DuckDB's reader. */
async function csvRows(path: string): Promise<number> {
  const [row] = await queryRows(conn, `SELECT count(*) AS n FROM read_csv(${sqlString(path)}, all_varchar = true, header = true)`);
  return Number(row!.n);
}

const STRAYS = ['0123456789abcdef', 'README.txt', 'notes'];

beforeAll(async () => {
  conn = await openDuck();
  for (const [name, input] of Object.entries(INPUTS)) {
    mkdirSync(join(work, 'data', name), { recursive: true });
    for (const [file, text] of Object.entries(input.files)) writeFileSync(join(work, 'data', name, file), text);
  }
});
afterAll(() => conn.closeSync());

describe('finseg quarantine list', () => {
  let root: string;
  beforeAll(async () => {
    root = await makeRoot('list');
  });

  it('shows one entry per input, newest first, with its run and the planted rows per table', async () => {
    const l = await listQuarantine(root);
    expect(l.folders.map((f) => f.path)).toEqual([folderOf.c, folderOf.b, folderOf.a]);
    expect(l.ignored).toEqual(STRAYS);
    for (const [name, f] of [['c', l.folders[0]!], ['b', l.folders[1]!], ['a', l.folders[2]!]] as const) {
      const planted: Record<string, number> = INPUTS[name].planted;
      expect(Object.fromEntries(f.tables.map((t) => [t.table, t.rows]))).toEqual(planted);
      expect(f.rows).toBe(Object.values(planted).reduce((s, n) => s + n, 0));
      expect(f.runs).toEqual([{ at: expect.any(String), command: 'validate', dataDir: join(work, 'data', name) }]);
      expect(f.lastWrittenFrom).toBe('record');
      // Ingest records its nulled cells (none in these inputs).
      expect(f.cells).toBe(0);
      expect(f.fingerprint).toMatch(/^[0-9a-f]{16}$/);
    }
    expect(l.folders.map((f) => f.lastWritten)).toEqual(['2026-03-01T12:00:00.000Z', '2026-03-01T11:00:00.000Z', '2026-03-01T10:00:00.000Z']);
  });

  it('counts equal the records of the quarantine files, and the size is the files on disk', async () => {
    const l = await listQuarantine(root);
    for (const f of l.folders) {
      for (const t of f.tables) expect(t.rows).toBe(await csvRows(join(f.path, `${t.table}.csv`)));
      const files = readdirSync(f.path);
      expect(files.sort()).toEqual([QUARANTINE_META, ...f.tables.map((t) => `${t.table}.csv`)].sort());
      expect(f.bytes).toBeGreaterThan(0);
    }
  });

  it('a later run on the same input adds its run to the record and makes the folder the newest', async () => {
    const r2 = join(work, 'rerun');
    await run(r2, 'a', '2026-03-01T10:00:00Z');
    await run(r2, 'b', '2026-03-01T11:00:00Z');
    await run(r2, 'a', '2026-03-02T09:00:00Z', 'train');
    const l = await listQuarantine(r2);
    expect(l.folders.map((f) => f.path)).toEqual([folderOf.a, folderOf.b]);
    expect(l.folders[0]!.runs.map((r) => [r.at, r.command])).toEqual([['2026-03-01T10:00:00.000Z', 'validate'], ['2026-03-02T09:00:00.000Z', 'train']]);
    expect(l.folders[0]!.tables.map((t) => t.rows)).toEqual([1, 2]);
  });

  it('a folder without a record is listed by its file time, its rows counted in its files', async () => {
    const r3 = join(work, 'norecord');
    await run(r3, 'a', '2026-03-01T10:00:00Z');
    await run(r3, 'b', '2026-03-01T11:00:00Z');
    rmSync(join(folderOf.a!, QUARANTINE_META));
    const later = new Date('2026-04-01T00:00:00Z');
    for (const f of readdirSync(folderOf.a!)) utimesSync(join(folderOf.a!, f), later, later);
    const l = await listQuarantine(r3);
    expect(l.folders[0]).toMatchObject({ path: folderOf.a, lastWritten: later.toISOString(), lastWrittenFrom: 'mtime', runs: [], rows: 3 });
    expect(l.folders[0]!.tables).toEqual([{ table: 'customers', rows: 1, cells: null }, { table: 'transactions', rows: 2, cells: null }]);
  });

  it('reads cell counts from a <table>.cells.csv when the folder has one, and from the record when it says', async () => {
    const r4 = join(work, 'cells');
    await run(r4, 'b', '2026-03-01T11:00:00Z');
    const dir = folderOf.b!;
    // A record without cell counts (as written before ingest counted cells): the cells file is counted.
    const written = readQuarantineMeta(dir)!;
    const tables = Object.fromEntries(Object.entries(written.tables).map(([t, { cells: _cells, ...counts }]) => [t, counts]));
    writeFileSync(join(dir, QUARANTINE_META), JSON.stringify({ ...written, tables }));
    writeFileSync(join(dir, 'customers.cells.csv'), 'source_file,line,reason,column,value\nx.csv,2,out_of_range,employees,"12\n5"\nx.csv,3,bad_enum,buyer_role,teleport\n');
    let f = (await listQuarantine(r4)).folders[0]!;
    expect(f.tables).toEqual([{ table: 'customers', rows: 0, cells: 2 }, { table: 'transactions', rows: 1, cells: null }]);
    expect(f.cells).toBe(2);
    const meta = readQuarantineMeta(dir)!;
    writeFileSync(join(dir, QUARANTINE_META), JSON.stringify({ ...meta, tables: { ...meta.tables, transactions: { ...meta.tables.transactions, cells: 4 } } }));
    f = (await listQuarantine(r4)).folders[0]!;
    expect(f.tables.find((t) => t.table === 'transactions')!.cells).toBe(4);
    expect(f.cells).toBe(6);
  });

  it('--json gives the root, the folders with their fields, and the entries left alone', async () => {
    const out = JSON.parse(await quarantineJob('list', { root, json: true, keep: null, dryRun: false })) as Record<string, unknown>;
    expect(Object.keys(out).sort()).toEqual(['folders', 'ignored', 'root']);
    const folders = out.folders as Record<string, unknown>[];
    expect(folders).toHaveLength(3);
    expect(Object.keys(folders[0]!).sort()).toEqual(['bytes', 'cells', 'fingerprint', 'lastWritten', 'lastWrittenFrom', 'path', 'rows', 'runs', 'tables']);
    expect(out.ignored).toEqual(STRAYS);
  });

  it('a missing root, a missing --keep and an unknown action are bad input', async () => {
    await expect(listQuarantine(join(work, 'nowhere'))).rejects.toThrow(InputError);
    await expect(quarantineJob('prune', { root, json: false, keep: null, dryRun: false })).rejects.toThrow(/--keep N is required/);
    await expect(quarantineJob('purge', { root, json: false, keep: 1, dryRun: false })).rejects.toThrow(InputError);
    await expect(pruneQuarantine(root, -1, false)).rejects.toThrow(InputError);
  });
});

describe('finseg quarantine prune', () => {
  const present = (root: string) => readdirSync(root).sort();

  it('--dry-run names what would go and removes nothing', async () => {
    const root = await makeRoot('dry');
    const before = present(root);
    const p = await pruneQuarantine(root, 1, true);
    expect(p.removed.map((f) => f.path)).toEqual([folderOf.b, folderOf.a]);
    expect(present(root)).toEqual(before);
  });

  it('--keep 1 keeps the newest and every entry that is not a quarantine folder', async () => {
    const root = await makeRoot('keep1');
    const p = await pruneQuarantine(root, 1, false);
    expect(p.kept.map((f) => f.path)).toEqual([folderOf.c]);
    expect(p.removed.map((f) => f.path)).toEqual([folderOf.b, folderOf.a]);
    expect(present(root)).toEqual([folderOf.c!.split('/').at(-1), ...STRAYS].sort());
    expect(existsSync(join(root, 'notes', 'todo.txt'))).toBe(true);
    expect(existsSync(join(root, '0123456789abcdef', 'photo.jpg'))).toBe(true);
  });

  it('--keep 0 removes every quarantine folder and nothing else', async () => {
    const root = await makeRoot('keep0');
    const p = await pruneQuarantine(root, 0, false);
    expect(p.removed).toHaveLength(3);
    expect(present(root)).toEqual(STRAYS);
  });

  it('--keep more than there are removes nothing', async () => {
    const root = await makeRoot('keep9');
    const before = present(root);
    const p = await pruneQuarantine(root, 9, false);
    expect(p.removed).toEqual([]);
    expect(p.kept).toHaveLength(3);
    expect(present(root)).toEqual(before);
  });

  it('through the CLI: exit 0 on prune, 2 on a bad --keep or a missing folder', async () => {
    const root = await makeRoot('cli');
    const out = process.stdout.write;
    const err = process.stderr.write;
    let text = '';
    process.stdout.write = ((c: string) => ((text += c), true)) as typeof process.stdout.write;
    process.stderr.write = ((c: string) => ((text += c), true)) as typeof process.stderr.write;
    try {
      expect(await main(['quarantine', 'prune', '--keep', '2', '--quarantine', root])).toBe(0);
      expect(text).toContain(`removed ${folderOf.a}`);
      expect(await main(['quarantine', 'prune', '--keep', 'two', '--quarantine', root])).toBe(2);
      expect(await main(['quarantine', 'list', '--quarantine', join(root, 'nope')])).toBe(2);
    } finally {
      process.stdout.write = out;
      process.stderr.write = err;
    }
    expect(present(root)).toEqual([folderOf.b!.split('/').at(-1), folderOf.c!.split('/').at(-1), ...STRAYS].sort());
  });
});
