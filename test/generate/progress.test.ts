import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { drawCustomers, epochDay } from '../../pipeline/generate/customers.ts';
import { CsvFile, writeCustomers, writeTransactions, writeUsageEvents } from '../../pipeline/generate/rows.ts';

const dir = mkdtempSync(join(tmpdir(), 'finseg-gen-progress-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const asOfDay = epochDay('2026-09-30');
const draws = drawCustomers({ seed: 5, customers: 2500, eventsPerCustomer: 4, asOfDay, historyDays: 90, idPrefix: 'P' });

/** Runs one writer into a file, with or without a progress feed; returns the text and the calls. */
function run(name: string, body: (out: CsvFile, onProgress?: (done: number, total: number) => void) => number, feed: boolean): { text: string; calls: number[][] } {
  const calls: number[][] = [];
  const path = join(dir, `${name}-${feed}.csv`);
  const out = new CsvFile(path);
  body(out, feed ? (done, total) => calls.push([done, total]) : undefined);
  out.close();
  return { text: readFileSync(path, 'utf8'), calls };
}

describe('generator progress feed', () => {
  it('reports customers written every 1024 and once at the end, and writes the same bytes as without it', () => {
    const writers: Record<string, (out: CsvFile, onProgress?: (done: number, total: number) => void) => number> = {
      customers: (out, p) => writeCustomers(draws, out, p),
      usage_events: (out, p) => writeUsageEvents(draws, 5, asOfDay - 90, asOfDay - 1, out, undefined, p),
      transactions: (out, p) => writeTransactions(draws, 5, asOfDay - 90, asOfDay - 1, out, p),
    };
    for (const [name, body] of Object.entries(writers)) {
      const fed = run(name, body, true);
      expect(fed.calls, name).toEqual([[0, 2500], [1024, 2500], [2048, 2500], [2500, 2500]]);
      expect(fed.text, name).toBe(run(name, body, false).text);
    }
  });
});
