import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ingest } from '../../pipeline/01-ingest/ingest.ts';
import { catalogModuleFor } from '../../pipeline/01-ingest/init-roles.ts';
import { spreadIndices } from '../../pipeline/01-ingest/init-sample.ts';
import { initCommand } from '../../pipeline/jobs/init.ts';
import { loadConfig } from '../../pipeline/config/config.ts';
import { openDuck } from '../../pipeline/core/duck.ts';
import { InputError } from '../../pipeline/core/errors.ts';
import { quietLogger } from '../../pipeline/core/log.ts';
import { csvFields } from '../helpers/csv.ts';

/**
 * `finseg init` on exports whose file and folder names say nothing: the repository's Online
 * Retail sample split into per-day and per-month files, the vendor-export fixture, and small
 * usage-only exports built here. Every expected figure is computed below from the files
 * themselves, by plain code that shares nothing with init.
 */

const fixtures = resolve(import.meta.dirname, '../fixtures');
const retailCsv = join(fixtures, 'real/online-retail/online_retail_sample_20k.csv');
const root = mkdtempSync(join(tmpdir(), 'finseg-init-test-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const fields = csvFields;
const quote = (v: string) => `"${v.replaceAll('"', '""')}"`;

const [retailHeader, ...retailLines] = readFileSync(retailCsv, 'utf8').trimEnd().split('\n');
const retailRows = retailLines.map(fields);
const col = (name: string) => fields(retailHeader!).indexOf(name);

/** Writes the retail rows grouped by `key` into `dir/<name(key)>.csv` (sorted keys); returns the rows of each file in file order. */
function splitRetail(dir: string, key: (r: string[]) => string, name: (k: string, i: number) => string, id: (v: string) => string = (v) => v): string[][][] {
  mkdirSync(dir, { recursive: true });
  const groups = new Map<string, string[][]>();
  for (const r of retailRows) groups.set(key(r), [...(groups.get(key(r)) ?? []), r]);
  const keys = [...groups.keys()].sort();
  const out: string[][][] = [];
  for (const [i, k] of keys.entries()) {
    const rows = groups.get(k)!.map((r) => r.map((v, j) => (j === col('CustomerID') ? id(v) : v)));
    writeFileSync(join(dir, `${name(k, i)}.csv`), [retailHeader, ...rows.map((r) => r.map(quote).join(','))].join('\n') + '\n');
    out.push(rows);
  }
  return out;
}

/** The documented sample: at most 1000 files evenly spaced over the sorted list, from each at most floor(200000 / files read) rows, every k-th. */
function expectedSample(files: string[][][]): { filesRead: number; rows: number; ids: number; missingIdShare: number } {
  const m = Math.min(files.length, 1000);
  const picked = m === files.length ? files : Array.from({ length: m }, (_, i) => files[Math.round((i * (files.length - 1)) / (m - 1))]!);
  const rows = picked.flatMap((f) => {
    const step = Math.ceil(f.length / Math.floor(200000 / m));
    return f.filter((_, i) => i % step === 0);
  });
  const ids = rows.map((r) => r[col('CustomerID')]!).filter((v) => v !== 'NA' && v !== '');
  return { filesRead: m, rows: rows.length, ids: new Set(ids.map((v) => v.replace(/\.0+$/, ''))).size, missingIdShare: (rows.length - ids.length) / rows.length };
}

describe('init on the Online Retail sample split into files whose names say nothing', () => {
  let byDay: string[][][];
  let byMonth: string[][][];
  beforeAll(() => {
    byDay = splitRetail(join(root, 'days/by-day'), (r) => r[col('InvoiceDate')]!.slice(0, 10), (k) => k);
    byMonth = splitRetail(join(root, 'months/x7'), (r) => r[col('InvoiceDate')]!.slice(0, 7), (_, i) => `part-${String(i).padStart(4, '0')}`, (v) => (v === 'NA' ? v : `${v}.0`));
  });

  it('recognises by-day/2011-03-01.csv … as transactions from a sample across all 305 files', async () => {
    const result = await initCommand(join(root, 'days'), join(root, 'days.json'), 'days');
    const want = expectedSample(byDay);
    expect(byDay.length).toBe(new Set(retailRows.map((r) => r[col('InvoiceDate')]!.slice(0, 10))).size);
    expect(result.samples.transactions).toMatchObject({ rel: 'by-day', filesTotal: byDay.length, filesRead: byDay.length, rows: want.rows, ids: want.ids });
    // Every file read, each day's few dozen lines whole: the sample's figures are the data's own.
    const allIds = retailRows.map((r) => r[col('CustomerID')]!).filter((v) => v !== 'NA' && v !== '');
    expect(want.ids).toBe(new Set(allIds).size);
    expect(want.missingIdShare).toBeCloseTo((retailRows.length - allIds.length) / retailRows.length, 12);
    expect(result.samples.transactions!.missingIdShare).toBeCloseTo(want.missingIdShare, 12);
    expect(Object.keys(result.samples)).toEqual(['transactions']);
    const config = loadConfig(join(root, 'days.json'));
    expect(config.ingest.files).toEqual({ transactions: 'by-day' });
    expect(config.ingest.columns.transactions).toEqual({ customer_id: 'CustomerID', ts: 'InvoiceDate', amount: { multiply: ['Quantity', 'UnitPrice'] } });
    expect(config.ingest.deriveCustomers).toEqual({ from: 'transactions', attributes: 'mode' });
    expect(config.ingest.normaliseIds).toBe(false);
    expect(result.notes).toContain(`transactions ← by-day: sampled ${want.rows} rows from ${byDay.length} of ${byDay.length} files: ${want.ids} distinct customer ids, ${(want.missingIdShare * 100).toFixed(1)}% of rows without one`);
  });

  it('the by-day config runs as written: every NA id quarantined, one customer per distinct id', async () => {
    const config = loadConfig(join(root, 'days.json'));
    const na = retailRows.filter((r) => r[col('CustomerID')] === 'NA').length;
    const ids = new Set(retailRows.map((r) => r[col('CustomerID')]).filter((v) => v !== 'NA')).size;
    expect(config.ingest.quarantineLimit).toBeGreaterThan(na / retailRows.length);
    const conn = await openDuck();
    const result = await ingest(conn, config.ingest.dataDir!, config.ingest, null, quietLogger);
    conn.closeSync();
    expect(result.tables.transactions).toMatchObject({ read: retailRows.length, quarantined: na });
    expect(result.tables.customers).toMatchObject({ read: ids, accepted: ids });
  });

  it('reads every row of a folder of 13 monthly files, and proposes normaliseIds for ids written as 12621.0', async () => {
    const result = await initCommand(join(root, 'months'), join(root, 'months.json'), 'months');
    const want = expectedSample(byMonth);
    const allIds = new Set(retailRows.map((r) => r[col('CustomerID')]).filter((v) => v !== 'NA')).size;
    expect(want.rows).toBe(retailRows.length);
    expect(result.samples.transactions).toMatchObject({ rel: 'x7', filesTotal: 13, filesRead: 13, rows: retailRows.length, ids: allIds });
    expect(result.samples.transactions!.missingIdShare).toBeCloseTo(want.missingIdShare, 12);
    const config = loadConfig(join(root, 'months.json'));
    expect(config.ingest.normaliseIds).toBe(true);
    const written = JSON.parse(readFileSync(join(root, 'months.json'), 'utf8')) as { ingest: { $comment_checks: string[] } };
    expect(written.ingest.$comment_checks.some((c) => /normaliseIds/.test(c) && /"\d+\.0"/.test(c))).toBe(true);
  });
});

describe('init on the vendor-export fixture (Chinese headers, a JSON Lines folder, a TSV)', () => {
  it('tells each file by its content and lists the event names with their shares of the count column', async () => {
    const dir = join(root, 'vendor');
    cpSync(join(fixtures, 'vendor-export'), dir, { recursive: true });
    rmSync(join(dir, 'finseg.config.json'));
    const result = await initCommand(dir, join(root, 'vendor.json'), 'vendor');
    const config = loadConfig(join(root, 'vendor.json'));
    expect(config.ingest.files).toEqual({ transactions: 'sales.tsv', usage_events: 'events', customers: 'clients.csv' });
    expect(Object.keys(result.samples).sort()).toEqual(['customers', 'feedback', 'transactions', 'usage_events']);
    expect(result.samples.usage_events).toMatchObject({ filesTotal: 2, filesRead: 2 });
    expect(config.ingest.columns.usage_events).toEqual({ customer_id: 'cust', ts: 'time', module: 'feature', device: 'channel', user_id: 'user', count: 'n' });
    expect(config.ingest.columns.transactions).toEqual({ customer_id: 'client', ts: 'booked', amount: 'total', currency: 'ccy', kind: 'type' });
    expect(config.ingest.columns.customers).toMatchObject({ customer_id: '客户编号', signup_date: { column: '注册日期', format: '%d.%m.%Y' } });
    // Readable event rows: 总账 (n absent = 1), Ledger Pro n=3, Reports, invoicing twice, tax: 8 events.
    const line = result.notes.find((n) => n.startsWith('usage_events.module: 5 distinct'));
    expect(line).toContain('Ledger Pro 37.5% → general_ledger, invoicing 25.0%, Reports 12.5% → reporting, tax 12.5%, 总账 12.5% → general_ledger');
    const { $comment, ...map } = config.ingest.values.usage_events!.module!;
    expect(map).toEqual({ 'Ledger Pro': 'general_ledger', Reports: 'reporting', 总账: 'general_ledger' });
    expect($comment).toMatch(/share of summed "n"/);
  });
});

/** A usage-only export: an activity log with the vendor's event names and a daily count per account and event, no device; and an accounts file. */
function usageExport(dir: string, countName: string): { events: Map<string, number> } {
  mkdirSync(dir, { recursive: true });
  const names = ['Invoices', 'Payroll run', 'Bank feeds', 'Expense claims', 'Reports v2'];
  const events = new Map<string, number>();
  const log = [`day,account_id,event,${countName}`];
  for (let a = 1; a <= 12; a++) {
    for (let day = 1; day <= 10; day++) {
      for (const [e, name] of names.entries()) {
        if ((a + day + e) % 3 === 0) continue;
        const n = 1 + ((a * 7 + day * 3 + e * 5) % 9);
        log.push(`2026-03-${String(day).padStart(2, '0')},A${String(a).padStart(3, '0')},${name},${n}`);
        events.set(name, (events.get(name) ?? 0) + n);
      }
    }
  }
  writeFileSync(join(dir, 'export_1.csv'), log.join('\n') + '\n');
  const accounts = ['account_id,created,plan,country,staff'];
  for (let a = 1; a <= 12; a++) accounts.push(`A${String(a).padStart(3, '0')},2025-0${1 + (a % 9)}-15,${a % 2 ? 'Pro' : 'Starter'},${a % 3 ? 'DE' : 'FR'},${a * 4}`);
  writeFileSync(join(dir, 'export_2.csv'), accounts.join('\n') + '\n');
  return { events };
}

describe('init on a usage-only export (vendor event names, a daily count, no device)', () => {
  it('finds the log and the accounts by content, the count column, no device demanded, and lists the event names', async () => {
    const dir = join(root, 'usage');
    const { events } = usageExport(dir, 'hits');
    const result = await initCommand(dir, join(root, 'usage.json'), 'usage');
    const config = loadConfig(join(root, 'usage.json'));
    expect(config.ingest.files).toEqual({ usage_events: 'export_1.csv', customers: 'export_2.csv' });
    expect(config.ingest.columns.usage_events).toEqual({ customer_id: 'account_id', ts: 'day', module: 'event', count: 'hits' });
    expect(config.ingest.columns.customers).toEqual({ customer_id: 'account_id', signup_date: 'created', employees: 'staff', region: 'country', edition: 'plan' });
    expect(config.ingest.deriveCustomers.from).toBeNull();
    expect(result.samples.usage_events!.ids).toBe(12);
    expect(result.samples.customers).toMatchObject({ rows: 12, ids: 12, missingIdShare: 0 });
    const total = [...events.values()].reduce((s, n) => s + n, 0);
    const listed = [...events].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([name, n]) => `${name} ${((n / total) * 100).toFixed(1)}%`);
    const line = result.notes.find((n) => n.startsWith('usage_events.module: 5 distinct'))!;
    expect(line.replace(/ \(vendor module\)| → [a-z_]+/g, '')).toContain(listed.join(', '));
    const { $comment, ...map } = config.ingest.values.usage_events!.module!;
    expect(map).toEqual({ Invoices: 'invoicing', 'Payroll run': 'payroll', 'Reports v2': 'reporting' });
    expect($comment).toMatch(/Bank feeds [\d.]+% \(vendor module\)/);
    const vendor = ['Bank feeds', 'Expense claims'].sort((a, b) => events.get(b)! - events.get(a)!);
    expect($comment).toContain(`2 name(s) match no catalog module and are kept as the vendor's own modules (${vendor.join(', ')})`);
    expect(result.text).not.toMatch(/device/);
  });

  it.each(['events', 'n', 'cnt', 'times'])('recognises a count column named %s', async (name) => {
    const dir = join(root, `count-${name}`);
    usageExport(dir, name);
    await initCommand(dir, join(root, `count-${name}.json`), 'x');
    expect(loadConfig(join(root, `count-${name}.json`)).ingest.columns.usage_events?.count).toBe(name);
  });
});

describe('init tells an accounts file from transactions by whether ids repeat', () => {
  it('reads a file with a date and a revenue per account as customers, the one with repeated ids as transactions, and names a file it cannot read', async () => {
    const dir = join(root, 'both');
    mkdirSync(dir);
    const accounts = ['account_id,created_at,revenue,plan', ...Array.from({ length: 20 }, (_, i) => `C${i},2025-01-${String(i + 1).padStart(2, '0')},${1000 + i},Pro`)];
    const lines = ['account_id,booked_at,amount', ...Array.from({ length: 60 }, (_, i) => `C${i % 20},2026-02-${String((i % 28) + 1).padStart(2, '0')} 10:00:00,${i}.5`)];
    writeFileSync(join(dir, 'f1.csv'), accounts.join('\n') + '\n');
    writeFileSync(join(dir, 'f2.csv'), lines.join('\n') + '\n');
    writeFileSync(join(dir, 'f3.csv'), 'title,body\nhello,world\n');
    const result = await initCommand(dir, join(root, 'both.json'), 'both');
    const config = loadConfig(join(root, 'both.json'));
    expect(config.ingest.files).toEqual({ transactions: 'f2.csv', customers: 'f1.csv' });
    // A column already named as the contract's needs no entry.
    expect(config.ingest.columns.transactions).toEqual({ customer_id: 'account_id', ts: 'booked_at' });
    expect(result.samples.transactions).toMatchObject({ rows: 60, ids: 20, missingIdShare: 0 });
    expect(result.unrecognised).toEqual(['f3.csv is not recognised: closest is transactions, missing a customer id column (customer_id, account_id, client, …); a timestamp column (values that read as dates); an amount column (or quantity and unit price)']);
  });
});

describe('init says why a file is not recognised', () => {
  it('names the closest table and the missing column, and stops when nothing is behaviour', async () => {
    const dir = join(root, 'unknown');
    mkdirSync(dir);
    writeFileSync(join(dir, 'dump.csv'), 'customer_id,ts,comment\nK1,2026-01-01,hello\nK1,2026-01-02,again\nK2,2026-01-03,x\n');
    const err = await initCommand(dir, join(root, 'unknown.json'), '.').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).detail).toContain('dump.csv is not recognised: closest is transactions (found id "customer_id", timestamp "ts"), missing an amount column (or quantity and unit price)');
    expect(existsSync(join(root, 'unknown.json'))).toBe(false);
  });

  it('never overwrites an existing file', async () => {
    writeFileSync(join(root, 'exists.json'), '{}');
    const err = await initCommand(join(root, 'usage'), join(root, 'exists.json'), '.').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).message).toMatch(/exists\.json already exists/);
  });
});

describe('init helpers', () => {
  it('spreads the files it reads evenly, first and last included', () => {
    expect(spreadIndices(3, 50)).toEqual([0, 1, 2]);
    expect(spreadIndices(10, 4)).toEqual([0, 3, 6, 9]);
    expect(spreadIndices(305, 50)[49]).toBe(304);
    expect(new Set(spreadIndices(305, 50)).size).toBe(50);
  });

  it('maps an event name onto the catalog by the whole name or one word, and leaves the vendor its own names', () => {
    expect(catalogModuleFor('Invoices')).toBe('invoicing');
    expect(catalogModuleFor('Payroll run')).toBe('payroll');
    expect(catalogModuleFor('Reports v2')).toBe('reporting');
    expect(catalogModuleFor('General ledger')).toBe('general_ledger');
    expect(catalogModuleFor('总账查询')).toBe('general_ledger');
    expect(catalogModuleFor('Bank feeds')).toBeNull();
    expect(catalogModuleFor('Expense claims')).toBeNull();
    // Two modules named in one event: neither is a safe guess.
    expect(catalogModuleFor('Payroll tax')).toBeNull();
  });
});

const realData = process.env.FINSEG_REAL_DATA;
describe.skipIf(!realData)('init on the real exports outside the repository (skipped: FINSEG_REAL_DATA is not set)', () => {
  it('maps the SaaS Sales lines with the US date layout and lists the industry codes it does not know', async () => {
    const dir = join(root, 'saas');
    mkdirSync(dir);
    symlinkSync(join(realData!, 'saas-sales/SaaS-Sales_anycompany-variant.csv'), join(dir, 'SaaS-Sales_anycompany-variant.csv'));
    const result = await initCommand(dir, join(root, 'saas.json'), 'saas');
    const config = loadConfig(join(root, 'saas.json'));
    expect(config.ingest.columns.transactions).toEqual({ customer_id: 'Customer ID', ts: { column: 'Order Date', format: '%m/%d/%Y' }, amount: 'Sales' });
    expect(config.ingest.columns.customers).toMatchObject({ signup_date: { column: 'Order Date', format: '%m/%d/%Y' }, industry: 'Industry', region: 'Region', edition: 'Segment' });
    expect(result.notes).toContain('industry: 7 code(s) not in the default industry table: Finance, Energy, Tech, Consumer Products, Communications, Transportation, Misc');
  });
});
