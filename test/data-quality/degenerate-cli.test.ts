import { afterAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { makeRng } from '../../pipeline/core/random.ts';

/**
 * `train --features` on degenerate feature tables (issue 16 item 6), through the real CLI: bad
 * input exits 2 with the reason; structureless input trains but says so in the log, the manifest
 * and the report. The expected outcomes follow from how each table is built.
 */
const bin = join(import.meta.dirname, '../../bin/finseg.mjs');
const root = mkdtempSync(join(tmpdir(), 'finseg-degenerate-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const COLUMNS = ['txn_count_all', 'txn_volume_all', 'txn_avg_size', 'txn_recency_days'];

function table(name: string, rows: number[][]): string {
  const path = join(root, `${name}.csv`);
  const lines = rows.map((r, i) => [`C${String(i).padStart(3, '0')}`, '2026-06-30', ...r].join(','));
  writeFileSync(path, [['customer_id', 'as_of', ...COLUMNS].join(','), ...lines].join('\n') + '\n');
  return path;
}

async function train(features: string, ...args: string[]): Promise<{ code: number; stderr: string; out: string }> {
  const out = join(root, `models-${features.split('/').pop()}-${args.join('')}`);
  return promisify(execFile)(process.execPath, [bin, 'train', '--features', features, '--out', out, ...args], { cwd: root }).then(
    (r) => ({ code: 0, stderr: r.stderr, out }),
    (e: { code: number; stderr: string }) => ({ code: e.code, stderr: e.stderr, out }),
  );
}

const rng = makeRng(3);
const uniformRows = (n: number) => Array.from({ length: n }, () => COLUMNS.map(() => Math.round(rng.next() * 100_000) / 1000));

describe('train --features on degenerate tables', () => {
  it('50 customers with identical features: exit 2, nothing to segment', async () => {
    const r = await train(table('constant', Array.from({ length: 50 }, () => [5, 100, 20, 10])));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/the 50 customers do not differ in any feature/);
  }, 120_000);

  it('10 customers: exit 2, at least 20 needed', async () => {
    const r = await train(table('tiny', uniformRows(10)));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/only 10 customers were accepted; at least 20 are needed/);
  }, 120_000);

  it('two distinct customers repeated, --k 3: exit 2, only 2 distinct', async () => {
    const rows = Array.from({ length: 40 }, (_, i) => (i % 2 ? [1, 2, 3, 4] : [9, 8, 7, 6]));
    const r = await train(table('dup', rows), '--k', '3');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/only 2 distinct customers .* at least 3 are needed for 3 segments/);
  }, 120_000);

  it('30 uniformly random customers: trains, no empty or tiny segment, and says "no clear segment structure" everywhere', async () => {
    const r = await train(table('uniform', uniformRows(30)));
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/no clear segment structure/);
    const [version] = readdirSync(r.out).filter((f) => /^\d{8}-/.test(f));
    const manifest = JSON.parse(readFileSync(join(r.out, version!, 'manifest.json'), 'utf8'));
    expect(manifest.metrics.structure.clear).toBe(false);
    // 30 customers, segments of at least 10: at most 3 segments, none empty.
    expect(manifest.metrics.k).toBeLessThanOrEqual(3);
    expect(Math.min(...manifest.metrics.segmentSizes)).toBeGreaterThan(0);
    expect(readFileSync(join(r.out, version!, 'report', 'report.md'), 'utf8')).toMatch(/No clear segment structure/);
    expect(readFileSync(join(r.out, version!, 'report', 'index.html'), 'utf8')).toMatch(/No clear segment structure/);
  }, 120_000);
});
