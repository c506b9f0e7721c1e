import { afterAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ingest } from '../../pipeline/01-ingest/ingest.ts';
import { initCommand } from '../../pipeline/01-ingest/init.ts';
import { loadConfig } from '../../pipeline/core/config.ts';
import { openDuck } from '../../pipeline/core/duck.ts';
import { InputError } from '../../pipeline/core/errors.ts';
import { quietLogger } from '../../pipeline/core/log.ts';

/** The real exports live in ../shared beside the repository; they are linked into a temp folder, never copied. */
const real = resolve(import.meta.dirname, '../../../shared/data/real');
const root = mkdtempSync(join(tmpdir(), 'finseg-init-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function initOn(file: string, name: string) {
  const dir = join(root, name);
  mkdirSync(dir);
  symlinkSync(file, join(dir, file.split('/').pop()!));
  const out = join(root, `${name}.json`);
  const result = await initCommand(dir, out, name);
  return { dir, out, result, config: loadConfig(out) };
}

describe('finseg init on real exports', () => {
  it('maps the Online Retail lines: derived customers, quantity × price, and a limit raised for the NA ids', async () => {
    const { out, config } = await initOn(join(real, 'online-retail-sample/online_retail_sample_20k.csv'), 'retail');
    expect(config.ingest.deriveCustomers).toEqual({ from: 'transactions', attributes: 'mode' });
    expect(config.ingest.columns.transactions).toEqual({ customer_id: 'CustomerID', ts: 'InvoiceDate', amount: { multiply: ['Quantity', 'UnitPrice'] } });
    expect(config.ingest.columns.customers).toMatchObject({ signup_date: 'InvoiceDate', region: 'Country' });
    expect(config.ingest.quarantineLimit).toBe(0.35);
    // The proposed config runs as written: 5,078 NA ids quarantined, 3,049 customers.
    const conn = await openDuck();
    const result = await ingest(conn, config.ingest.dataDir!, config.ingest, null, quietLogger);
    conn.closeSync();
    expect(result.tables.transactions).toMatchObject({ read: 20000, accepted: 14922, quarantined: 5078 });
    expect(result.tables.customers).toMatchObject({ read: 3049, accepted: 3049 });
    expect(config.ingest.dataDir).toBe(join(root, 'retail'));
    expect(out.endsWith('retail.json')).toBe(true);
  });

  it('maps the SaaS Sales lines with the US date layout and lists the industry codes it does not know', async () => {
    const { config, result } = await initOn(join(real, 'saas-sales/SaaS-Sales_anycompany-variant.csv'), 'saas');
    expect(config.ingest.columns.transactions).toEqual({ customer_id: 'Customer ID', ts: { column: 'Order Date', format: '%m/%d/%Y' }, amount: 'Sales' });
    expect(config.ingest.columns.customers).toMatchObject({ signup_date: { column: 'Order Date', format: '%m/%d/%Y' }, industry: 'Industry', region: 'Region', edition: 'Segment' });
    expect(result.notes).toContain('industry: 7 code(s) not in the default industry table: Finance, Energy, Tech, Consumer Products, Communications, Transportation, Misc');
  });

  it('never overwrites an existing file', async () => {
    const err = await initCommand(root, join(root, 'retail.json'), '.').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).message).toMatch(/retail\.json already exists/);
  });
});
