import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDuck, queryRows, sqlString } from '../../pipeline/core/duck.ts';
import { partitionOf } from '../../pipeline/core/partition.ts';
import { finsegCli } from '../helpers/cli.ts';

/**
 * Partitioned scoring as a scheduler runs it (docs/scale-out.md): n separate processes, each
 * finding its partition in a Kubernetes Indexed Job's environment (`--partition auto`), then
 * `merge-scores`, which must give the unpartitioned run's file byte for byte, and must refuse a
 * set of parts with a partition missing, one twice, or a part holding another's customers.
 */
const work = mkdtempSync(join(tmpdir(), 'finseg-merge-'));
const N = 3;
let bundle = '';

const finseg = (args: string[], env: Record<string, string> = {}) => finsegCli(args, { env });

async function mustRun(args: string[], env: Record<string, string> = {}): Promise<string> {
  const r = await finseg(args, env);
  if (r.code !== 0) throw new Error(`finseg ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}

/** Scores the new batch in N processes, each told only its Indexed Job index; returns the parts folder. */
async function scoreParts(ext: string): Promise<string> {
  const dir = join(work, `parts-${ext}`);
  await Promise.all(
    Array.from({ length: N }, (_, i) =>
      mustRun(['score', '--model', bundle, '--data', join(work, 'new'), '--partition', 'auto', '--out', join(dir, `part-{i}-of-{n}.${ext}`), '--quarantine', join(work, `q-${ext}-${i}`), '--quiet'], {
        JOB_COMPLETION_INDEX: String(i),
        JOB_COMPLETIONS: String(N),
      }),
    ),
  );
  return dir;
}

beforeAll(async () => {
  await mustRun(['generate', '--out', join(work, 'train'), '--customers', '800', '--seed', '31', '--format', 'csv', '--quiet']);
  await mustRun(['generate', '--out', join(work, 'new'), '--customers', '500', '--seed', '32', '--prefix', 'N', '--format', 'csv', '--quiet']);
  await mustRun(['train', '--data', join(work, 'train'), '--out', join(work, 'models'), '--k', '4', '--quarantine', join(work, 'q'), '--quiet']);
  bundle = join(work, 'models', readFileSync(join(work, 'models', 'latest'), 'utf8').trim());
  await mustRun(['score', '--model', bundle, '--data', join(work, 'new'), '--out', join(work, 'whole.csv'), '--quarantine', join(work, 'q'), '--quiet']);
  await mustRun(['score', '--model', bundle, '--data', join(work, 'new'), '--out', join(work, 'whole.parquet'), '--quarantine', join(work, 'q'), '--quiet']);
}, 600_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('score --partition auto + merge-scores', () => {
  it('n processes told only JOB_COMPLETION_INDEX merge into the unpartitioned CSV byte for byte', async () => {
    const dir = await scoreParts('csv');
    const names = readdirSync(dir).filter((f) => f.endsWith('.csv')).sort();
    expect(names).toEqual(Array.from({ length: N }, (_, i) => `part-${i}-of-${N}.csv`));
    // Each part holds only its own customers, and none is empty (500 ids over 3 hash partitions).
    for (let i = 0; i < N; i++) {
      const ids = readFileSync(join(dir, `part-${i}-of-${N}.csv`), 'utf8').trim().split('\n').slice(1).map((l) => l.split(',')[0]!);
      expect(ids.length).toBeGreaterThan(0);
      expect(ids.every((id) => partitionOf(id, N) === i)).toBe(true);
    }
    const out = join(work, 'merged.csv');
    await mustRun(['merge-scores', '--parts', dir, '--out', out, '--quiet']);
    expect(readFileSync(out).equals(readFileSync(join(work, 'whole.csv')))).toBe(true);
    const record = JSON.parse(readFileSync(`${out}.merge.json`, 'utf8'));
    expect(record.parts.map((p: { partition: string }) => p.partition)).toEqual(['0/3', '1/3', '2/3']);
  });

  it('Parquet parts merge into the rows of the unpartitioned Parquet file, in its order', async () => {
    const dir = await scoreParts('parquet');
    const out = join(work, 'merged.parquet');
    await mustRun(['merge-scores', '--parts', dir, '--out', out, '--quiet']);
    const conn = await openDuck();
    try {
      const diff = async (a: string, b: string) => (await queryRows(conn, `SELECT count(*)::INTEGER AS n FROM (SELECT * FROM read_parquet(${sqlString(a)}) EXCEPT ALL SELECT * FROM read_parquet(${sqlString(b)}))`))[0]!.n;
      expect(await diff(out, join(work, 'whole.parquet'))).toBe(0);
      expect(await diff(join(work, 'whole.parquet'), out)).toBe(0);
      const ids = async (f: string) => (await queryRows(conn, `SELECT customer_id FROM read_parquet(${sqlString(f)})`)).map((r) => r.customer_id);
      expect(await ids(out)).toEqual(await ids(join(work, 'whole.parquet')));
    } finally {
      conn.closeSync();
    }
  });

  it('refuses a missing partition, a partition twice, and a part holding another partition\'s customers (exit 2, naming the partition)', async () => {
    const src = join(work, 'parts-csv');
    const copyParts = (name: string, keep: (f: string) => boolean): string => {
      const dir = join(work, name);
      mkdirSync(dir, { recursive: true });
      for (const f of readdirSync(src).filter(keep)) copyFileSync(join(src, f), join(dir, f));
      return dir;
    };
    const gap = copyParts('gap', (f) => !f.startsWith('part-1-'));
    let r = await finseg(['merge-scores', '--parts', gap, '--out', join(work, 'gap.csv')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/partition 1 of 3 missing/);

    const twice = copyParts('twice', () => true);
    copyFileSync(join(src, 'part-2-of-3.csv'), join(twice, 'again.csv'));
    copyFileSync(join(src, 'part-2-of-3.csv.drift.json'), join(twice, 'again.csv.drift.json'));
    r = await finseg(['merge-scores', '--parts', twice, '--out', join(work, 'twice.csv')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/partition 2 of 3 appears twice: again\.csv and part-2-of-3\.csv/);

    // Partition 0's file under partition 1's summary: every partition is "present", but the rows overlap partition 0's.
    const overlap = copyParts('overlap', () => true);
    copyFileSync(join(src, 'part-0-of-3.csv'), join(overlap, 'part-1-of-3.csv'));
    r = await finseg(['merge-scores', '--parts', overlap, '--out', join(work, 'overlap.csv')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/part-1-of-3\.csv \(partition 1\/3\) holds customer "N\w+", which belongs to partition 0/);

    // A whole run is not a part.
    const whole = join(work, 'whole-only');
    mkdirSync(whole);
    copyFileSync(join(work, 'whole.csv'), join(whole, 'whole.csv'));
    copyFileSync(join(work, 'whole.csv.drift.json'), join(whole, 'whole.csv.drift.json'));
    r = await finseg(['merge-scores', '--parts', whole, '--out', join(work, 'w.csv')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/was not scored with --partition/);
  });

  it('--partition auto without the Indexed Job environment is bad usage naming the variable', async () => {
    const env = { JOB_COMPLETION_INDEX: '', JOB_COMPLETIONS: '' };
    const r = await finseg(['score', '--model', bundle, '--data', join(work, 'new'), '--partition', 'auto', '--out', join(work, 'x.csv')], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/JOB_COMPLETION_INDEX is not set/);
    const r2 = await finseg(['score', '--model', bundle, '--data', join(work, 'new'), '--partition', 'auto', '--out', join(work, 'x.csv')], { JOB_COMPLETION_INDEX: '3', JOB_COMPLETIONS: '3' });
    expect(r2.code).toBe(2);
    expect(r2.stderr).toMatch(/i must be between 0 and 2/);
  });
});
