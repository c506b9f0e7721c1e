import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { writeFolder } from '../helpers/folder.ts';
import { finsegCli } from '../helpers/cli.ts';

/** File-level errors through the real CLI: one line naming the file and problem, indented detail, exit code 2, a stack trace only with --debug. */
const root = mkdtempSync(join(tmpdir(), 'finseg-cli-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const finseg = (...args: string[]) => finsegCli(args, { cwd: root });

const folder = (name: string, files: Record<string, string | Buffer>): string => writeFolder(root, name, files);

const noStack = (s: string) => !/^\s+at .*:\d+:\d+\)?$/m.test(s);

describe('file-level errors from the command line', () => {
  it('a missing required column: the file, the column, the closest names; exit 2, no stack', async () => {
    const dir = folder('missing-column', { 'customers.csv': 'CustomerNo,signup_date\nA,2026-01-01\n', 'transactions.csv': 'customer_id,ts,amount\nA,2026-09-01,5\n' });
    const r = await finseg('validate', '--data', dir);
    expect(r.code).toBe(2);
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines[0]).toBe(`finseg: ${join(dir, 'customers.csv')}: required column "customer_id" (customers.customer_id, string) is missing`);
    expect(lines).toContain('  closest: CustomerNo, signup_date');
    expect(lines.slice(1).every((l) => l.startsWith('  '))).toBe(true);
    expect(noStack(r.stderr)).toBe(true);
  }, 60_000);

  it('a truncated gzip file, and the stack trace only with --debug', async () => {
    const whole = gzipSync('customer_id,ts,amount\n' + 'A,2026-09-01 10:00:00,5\n'.repeat(5000));
    const dir = folder('truncated', { 'customers.csv': 'customer_id,signup_date\nA,2026-01-01\n', 'transactions.csv.gz': whole.subarray(0, whole.length >> 1) });
    const plain = await finseg('train', '--data', dir, '--out', join(root, 'models'), '--quiet');
    expect(plain.code).toBe(2);
    expect(plain.stderr.split('\n')[0]).toMatch(/^finseg: cannot read .*transactions\.csv\.gz: the file is truncated \(the gzip stream ends early\)$/);
    expect(noStack(plain.stderr)).toBe(true);
    const debug = await finseg('train', '--data', dir, '--out', join(root, 'models'), '--quiet', '--debug');
    expect(debug.code).toBe(2);
    expect(noStack(debug.stderr)).toBe(false);
  }, 60_000);

  it('a data folder that does not exist, and a config naming an unknown column', async () => {
    const r = await finseg('validate', '--data', join(root, 'nowhere'));
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`finseg: data folder ${join(root, 'nowhere')} does not exist or is not a folder\n`);
    writeFileSync(join(root, 'bad.json'), JSON.stringify({ ingest: { columns: { transactions: { amout: 'Sales' } } } }));
    const c = await finseg('validate', '--config', join(root, 'bad.json'), '--data', root);
    expect(c.code).toBe(2);
    expect(c.stderr.split('\n')[0]).toBe(`finseg: ${join(root, 'bad.json')}: ingest.columns.transactions.amout: expected a column of transactions, got "amout"`);
  }, 60_000);
});
