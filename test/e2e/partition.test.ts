import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ingest } from '../../pipeline/01-ingest/ingest.ts';
import { writeFeatureTable } from '../../pipeline/02-features/feature-file.ts';
import { defaultConfig } from '../../pipeline/config/config.ts';
import { openDuck, queryRows } from '../../pipeline/core/duck.ts';
import { quietLogger } from '../../pipeline/core/log.ts';
import { partitionOf } from '../../pipeline/core/partition.ts';
import { defaultGenerateParams, generateDataset } from '../../pipeline/generate/generate.ts';
import { trainJob, type TrainOutcome } from '../../pipeline/jobs/train.ts';
import { scoreJob } from '../../pipeline/jobs/score.ts';

/**
 * Scale-out on generated data: a model trained from a precomputed feature table is the model
 * trained from the raw tables, and scoring partition by partition gives exactly the rows of one
 * unpartitioned score (docs/scale-out.md).
 */
const work = mkdtempSync(join(tmpdir(), 'finseg-scale-out-'));
const trainData = join(work, 'train');
const newData = join(work, 'new');
const trainFeatures = join(trainData, 'features.parquet');
const newFeatures = join(work, 'new-features.parquet');
const config = defaultConfig();
let fromRaw: TrainOutcome;
let fromTable: TrainOutcome;

async function exportFeatures(dataDir: string, out: string): Promise<void> {
  const conn = await openDuck();
  try {
    const ingested = await ingest(conn, dataDir, config.ingest, null, quietLogger);
    await writeFeatureTable(conn, ingested.asOf, config.features, ingested.absentTables, out);
  } finally {
    conn.closeSync();
  }
}

const train = (registry: string, featureFile?: string) =>
  trainJob({ dataDir: trainData, ...(featureFile ? { featureFile } : {}), registry: join(work, registry), config, configSource: 'defaults', quarantineRoot: join(work, 'quarantine'), logger: quietLogger, now: () => new Date('2026-11-27T08:00:00Z') });

beforeAll(async () => {
  await generateDataset(trainData, { ...defaultGenerateParams, customers: 3000, seed: 21 }, 'parquet', quietLogger);
  await generateDataset(newData, { ...defaultGenerateParams, customers: 1200, seed: 22, idPrefix: 'N' }, 'parquet', quietLogger);
  await exportFeatures(trainData, trainFeatures);
  await exportFeatures(newData, newFeatures);
  fromRaw = await train('models-raw');
  fromTable = await train('models-table', trainFeatures);
}, 600_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Data lines of a scores CSV (header dropped), sorted: the comparison ignores only row order. */
const lines = (file: string) => readFileSync(file, 'utf8').trim().split('\n').slice(1).sort();

describe('train --features', () => {
  it('gives the model trained from the raw tables: same features, centroids, labels, classifier and cold-start weights', () => {
    expect(fromTable.customerIds).toEqual(fromRaw.customerIds);
    expect(fromTable.features.featureNames).toEqual(fromRaw.features.featureNames);
    expect(Array.from(fromTable.features.X.data)).toEqual(Array.from(fromRaw.features.X.data));
    expect(fromTable.states['cluster.json'].k).toBe(fromRaw.states['cluster.json'].k);
    expect(fromTable.states['cluster.json'].centroids).toEqual(fromRaw.states['cluster.json'].centroids);
    expect(Array.from(fromTable.labels)).toEqual(Array.from(fromRaw.labels));
    for (const state of ['preprocess.json', 'cluster.json', 'classifier.json', 'coldstart.json', 'explain.json', 'reference.json'] as const) {
      expect(JSON.stringify(fromTable.states[state]), state).toBe(JSON.stringify(fromRaw.states[state]));
    }
    // Generated data has planted archetypes; truth.csv beside the table is found as beside the raw files.
    const ari = (o: TrainOutcome) => (o.manifest.metrics as { plantedArchetypeAri: number }).plantedArchetypeAri;
    expect(ari(fromTable)).toBe(ari(fromRaw));
    expect(ari(fromTable)).toBeGreaterThan(0.6);
  });

  it('records the feature table, its reconciliation and fingerprint in the manifest', () => {
    const input = fromTable.manifest.input as { featureFile: { source: string; read: number; accepted: number; quarantined: number }; fingerprints: Record<string, string> };
    expect(input.featureFile).toMatchObject({ source: trainFeatures, read: 3000, accepted: 3000, quarantined: 0 });
    expect(input.fingerprints.features).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('score --partition', () => {
  it('over all partitions of a feature table equals one unpartitioned score: same rows, segments, probabilities, flags', async () => {
    const whole = await scoreJob({ modelPath: fromRaw.bundleDir, dataDir: null, featureFile: newFeatures, outFile: join(work, 'scores-all.csv'), config: null, quarantineDir: null, logger: quietLogger });
    expect(whole.rows).toBe(1200);
    expect(whole.scores.coldStart.some(Boolean)).toBe(true); // history is in the table, so new customers are still told apart
    const union: string[] = [];
    for (let i = 0; i < 4; i++) {
      const out = join(work, `scores-part-${i}-of-4.csv`);
      const part = await scoreJob({ modelPath: fromRaw.bundleDir, dataDir: null, featureFile: newFeatures, partition: { index: i, count: 4 }, outFile: out, config: null, quarantineDir: null, logger: quietLogger });
      expect(part.rows).toBeGreaterThan(200);
      expect(part.scores.customerIds.every((id) => partitionOf(id, 4) === i)).toBe(true);
      union.push(...lines(out));
    }
    expect(union.sort()).toEqual(lines(join(work, 'scores-all.csv')));
  }, 120_000);

  it('on raw data too, and the feature-table score equals the raw-data score row for row', async () => {
    const whole = join(work, 'raw-all.csv');
    await scoreJob({ modelPath: fromRaw.bundleDir, dataDir: newData, outFile: whole, config: null, quarantineDir: null, logger: quietLogger });
    expect(lines(whole)).toEqual(lines(join(work, 'scores-all.csv')));
    const union: string[] = [];
    for (let i = 0; i < 3; i++) {
      const out = join(work, `raw-part-${i}.csv`);
      await scoreJob({ modelPath: fromRaw.bundleDir, dataDir: newData, partition: { index: i, count: 3 }, outFile: out, config: null, quarantineDir: null, logger: quietLogger });
      union.push(...lines(out));
    }
    expect(union.sort()).toEqual(lines(whole));
  }, 120_000);
});

describe('the scores file', () => {
  it('holds the same values in Parquet as in CSV, with typed columns, also for an empty partition', async () => {
    const parquet = join(work, 'scores-all.parquet');
    await scoreJob({ modelPath: fromRaw.bundleDir, dataDir: null, featureFile: newFeatures, outFile: parquet, config: null, quarantineDir: null, logger: quietLogger });
    const csv = join(work, 'scores-all.csv');
    const conn = await openDuck();
    try {
      const schema = await queryRows(conn, `DESCRIBE SELECT * FROM read_parquet('${parquet}')`);
      const types = Object.fromEntries(schema.map((r) => [String(r.column_name), String(r.column_type)]));
      expect(types).toMatchObject({ customer_id: 'VARCHAR', segment_id: 'INTEGER', confidence: 'DOUBLE', distance: 'DOUBLE', margin: 'DOUBLE', ambiguous: 'BOOLEAN', novel: 'BOOLEAN', cold_start: 'BOOLEAN', rec_lead_modules: 'VARCHAR' });
      const asTyped = `read_csv('${csv}', header = true, types = {${schema.map((r) => `'${r.column_name}': '${r.column_type}'`).join(', ')}})`;
      const [diff] = await queryRows(conn, `SELECT (SELECT count(*) FROM (SELECT * FROM read_parquet('${parquet}') EXCEPT ALL SELECT * FROM ${asTyped})) + (SELECT count(*) FROM (SELECT * FROM ${asTyped} EXCEPT ALL SELECT * FROM read_parquet('${parquet}'))) AS n`);
      expect(diff!.n).toBe(0);
      // Cold-start rows have no distance or flags: NULL, as the CSV leaves them empty.
      const [cold] = await queryRows(conn, `SELECT count(*) AS n, count(distance) AS distance, count(ambiguous) AS ambiguous FROM read_parquet('${parquet}') WHERE cold_start`);
      expect(cold).toMatchObject({ distance: 0, ambiguous: 0 });
      expect(cold!.n).toBeGreaterThan(0);

      // A partition no customer falls into (n larger than the customers) still writes the typed header.
      const empty = join(work, 'scores-empty.parquet');
      const ids = (await queryRows(conn, `SELECT customer_id FROM read_parquet('${newFeatures}')`)).map((r) => String(r.customer_id));
      const emptyIndex = Array.from({ length: 5000 }, (_, i) => i).find((i) => ids.every((id) => partitionOf(id, 5000) !== i))!;
      const result = await scoreJob({ modelPath: fromRaw.bundleDir, dataDir: null, featureFile: newFeatures, partition: { index: emptyIndex, count: 5000 }, outFile: empty, config: null, quarantineDir: null, logger: quietLogger });
      expect(result.rows).toBe(0);
      const emptySchema = await queryRows(conn, `DESCRIBE SELECT * FROM read_parquet('${empty}')`);
      expect(emptySchema.map((r) => `${r.column_name} ${r.column_type}`)).toEqual(schema.map((r) => `${r.column_name} ${r.column_type}`));
    } finally {
      conn.closeSync();
    }
  }, 120_000);
});

describe('scale-out from the command line', () => {
  const bin = join(import.meta.dirname, '../../bin/finseg.mjs');
  const finseg = (...args: string[]) =>
    promisify(execFile)(process.execPath, [bin, ...args], { cwd: work }).then(
      (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
      (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
    );

  it('refuses a bad --partition with exit 2 and says what i/n means', async () => {
    for (const bad of ['4/4', 'x', '1/0']) {
      const r = await finseg('score', '--model', fromRaw.bundleDir, '--features', newFeatures, '--partition', bad, '--out', join(work, 'bad.csv'), '--quiet');
      expect(r.code).toBe(2);
      expect(r.stderr.split('\n')[0]).toMatch(/^finseg: --partition /);
    }
  }, 60_000);

  it('refuses a feature table without a model feature: exit 2, the file and the column named', async () => {
    const conn = await openDuck();
    const short = join(work, 'short.parquet');
    await conn.run(`COPY (SELECT * EXCLUDE (txn_avg_size) FROM read_parquet('${newFeatures}')) TO '${short}' (FORMAT parquet)`);
    conn.closeSync();
    const r = await finseg('score', '--model', fromRaw.bundleDir, '--features', short, '--out', join(work, 'short.csv'), '--quiet');
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')[0]).toBe(`finseg: ${short}: feature column "txn_avg_size" of the model is missing`);
  }, 60_000);

  it('writes the feature table with `finseg features`, and train refuses one with a text feature column: exit 2, column named', async () => {
    const out = join(work, 'cli-features.parquet');
    const written = await finseg('features', '--data', newData, '--out', out, '--quiet');
    expect(written.code).toBe(0);
    const conn = await openDuck();
    const rows = await queryRows(conn, `SELECT count(*) AS n, count(DISTINCT as_of) AS dates, min(history) >= 0 AS history_ok FROM read_parquet('${out}')`);
    const labelled = join(work, 'labelled.parquet');
    await conn.run(`COPY (SELECT *, 'gold' AS tier FROM read_parquet('${out}')) TO '${labelled}' (FORMAT parquet)`);
    conn.closeSync();
    expect(rows[0]).toEqual({ n: 1200, dates: 1, history_ok: true });
    const r = await finseg('train', '--features', labelled, '--out', join(work, 'models-labelled'), '--quiet');
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')[0]).toBe(`finseg: ${labelled}: column "tier" is not numeric: 1200 of 1200 values are not numbers`);
  }, 60_000);

  it('prints the feature SQL, and refuses --data with --features', async () => {
    const sql = await finseg('features-sql', '--as-of', '2026-09-29', '--dialect', 'trino');
    expect(sql.code).toBe(0);
    expect(sql.stdout).toMatch(/^WITH features AS \(/);
    expect(sql.stdout).toContain(`DATE '2026-09-29' AS as_of`);
    const both = await finseg('train', '--data', trainData, '--features', trainFeatures, '--quiet');
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/give --data or --features, not both/);
  }, 60_000);
});
