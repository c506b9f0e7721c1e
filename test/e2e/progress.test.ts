import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { finsegCli } from '../helpers/cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'finseg-progress-e2e-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('progress when stderr is a pipe', () => {
  it('generate prints its plain log lines and nothing else: no carriage return, no escape code', async () => {
    const out = join(dir, 'gen');
    const run = await finsegCli(['generate', '--out', out, '--customers', '300', '--seed', '3']);
    expect(run.code).toBe(0);
    expect(run.stderr).not.toMatch(/[\r\x1b]/);
    const rows = JSON.parse(readFileSync(join(out, 'generate.json'), 'utf8')).summary.rows as Record<string, number>;
    const messages = run.stderr.trimEnd().split('\n').map((line) => {
      expect(line).toMatch(/^\[ *\d+\.\ds\] /);
      return line.replace(/^\[ *\d+\.\ds\] /, '');
    });
    expect(messages).toEqual([
      'generate: drawing 300 customers (seed 3)',
      ...['customers', 'usage_events', 'transactions', 'subscriptions', 'feedback', 'actions'].map((t) => `generate: ${t}: ${rows[t]} rows`),
      `generate: wrote 300 customers, ${rows.usage_events} events, ${rows.transactions} transactions, ${rows.subscriptions} subscription periods to ${out}`,
    ]);
  });
});
