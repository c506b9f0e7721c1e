import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ScoringDrift } from '../../pipeline/09-drift/scoring.ts';
import { defaultConfig } from '../../pipeline/config/config.ts';
import { openDuck, queryRows } from '../../pipeline/core/duck.ts';
import { quietLogger } from '../../pipeline/core/log.ts';
import { generateDriftSnapshot, type DriftSummary } from '../../pipeline/generate/drift.ts';
import { defaultGenerateParams, generateDataset } from '../../pipeline/generate/generate.ts';
import { trainJob, type TrainOutcome } from '../../pipeline/jobs/train.ts';

/**
 * Drift at scoring on the command line: a model trained on a generated base scores (1) the base's
 * snapshot three months later, in which the generator shifted the features it records in
 * `shiftedFeatures`, and (2) a fresh sample drawn from the same generator with another seed. The
 * first must show PSI > 0.2 on exactly the shifted features and exit 5 under --strict with its
 * scores written; the second must show no drift and exit 0.
 */
const work = mkdtempSync(join(tmpdir(), 'finseg-score-drift-'));
const base = join(work, 'base');
const later = join(work, 'later');
const fresh = join(work, 'fresh');
const cli = fileURLToPath(new URL('../../bin/finseg.mjs', import.meta.url));
let model: TrainOutcome;
let drift: DriftSummary;

/** Runs the CLI; resolves with its exit code and output (never rejects on a non-zero exit). */
function finseg(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [cli, ...args], { cwd: work, maxBuffer: 64 << 20 }, (error, stdout, stderr) => {
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

const summary = (scores: string): ScoringDrift => JSON.parse(readFileSync(`${scores}.drift.json`, 'utf8')) as ScoringDrift;

beforeAll(async () => {
  await generateDataset(base, { ...defaultGenerateParams, customers: 3000, seed: 31 }, 'parquet', quietLogger);
  await generateDataset(fresh, { ...defaultGenerateParams, customers: 1500, seed: 32, idPrefix: 'F' }, 'parquet', quietLogger);
  drift = await generateDriftSnapshot(base, later, {}, quietLogger);
  model = await trainJob({ dataDir: base, registry: join(work, 'models'), config: defaultConfig(), configSource: 'defaults', quarantineRoot: join(work, 'quarantine'), logger: quietLogger, now: () => new Date('2026-12-07T08:00:00Z') });
}, 600_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('score on the drift snapshot', () => {
  const out = () => join(work, 'later-scores.parquet');
  let run: { code: number; stdout: string; stderr: string };
  beforeAll(async () => {
    run = await finseg('score', '--model', model.bundleDir, '--data', later, '--out', out(), '--strict');
  }, 300_000);

  it('exits 5 under --strict and writes the scores anyway, marked as drifted', async () => {
    expect(run.code, run.stderr).toBe(5);
    expect(run.stderr).toContain('DRIFTED');
    const conn = await openDuck();
    try {
      const [rows] = await queryRows(conn, `SELECT count(*) AS n FROM '${out()}'`);
      expect(Number(rows!.n)).toBe(drift.rows.customers);
      const meta = await queryRows(conn, `SELECT key::VARCHAR AS k, value::VARCHAR AS v FROM parquet_kv_metadata('${out()}')`);
      expect(meta).toContainEqual({ k: 'finseg.drifted', v: 'true' });
    } finally {
      conn.closeSync();
    }
    const d = summary(out());
    expect(d).toMatchObject({ kind: 'finseg.scoring-drift', model: model.manifest.version, scores: 'later-scores.parquet', customers: drift.rows.customers, judged: true, drifted: true });
  });

  it('reports PSI > 0.2 on exactly the features the generator shifted', () => {
    const d = summary(out());
    const shifted = Object.keys(drift.shiftedFeatures);
    expect(shifted.length).toBeGreaterThan(0);
    const features = d.inputs.filter((i) => i.source === 'feature');
    expect(features.map((i) => i.name).sort()).toEqual([...model.features.featureNames].sort());
    expect(features.filter((i) => i.psi > 0.2).map((i) => i.name).sort()).toEqual([...shifted].sort());
    // Nor does any customers column or lens cross the limit: the drift is the planted one alone.
    expect(d.driftedInputs).toEqual(shifted);
    expect(d.checks.filter((c) => c.over).map((c) => c.check)).toEqual(['inputs']);
  });

  it('is shown by finseg drift --model --scores, which exits 5 only with --strict', async () => {
    const shown = await finseg('drift', '--model', model.bundleDir, '--scores', out());
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain('DRIFTED: over inputs');
    expect(shown.stdout).toMatch(/over\s+inputs\s+PSI ≥ 0.2 on 1 of \d+ inputs: device_mobile_share/);
    expect((await finseg('drift', '--model', model.bundleDir, '--scores', out(), '--strict')).code).toBe(5);
    const json = await finseg('drift', '--model', model.bundleDir, '--scores', out(), '--json', '--quiet');
    expect(JSON.parse(json.stdout)).toEqual(summary(out()));
    const missing = await finseg('drift', '--model', model.bundleDir, '--scores', join(work, 'nothing.csv'));
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('no drift summary');
  });

  it('checks each partition of a feature table on its own customers', async () => {
    const table = join(work, 'later-features.parquet');
    expect((await finseg('features', '--model', model.bundleDir, '--data', later, '--out', table, '--quiet')).code).toBe(0);
    const part = join(work, 'later-0.csv');
    const scored = await finseg('score', '--model', model.bundleDir, '--features', table, '--partition', '0/2', '--out', part, '--strict', '--quiet');
    expect(scored.code).toBe(5);
    const d = summary(part);
    const rows = readFileSync(part, 'utf8').trim().split('\n').length - 1;
    expect(d).toMatchObject({ partition: '0/2', customers: rows, drifted: true });
    expect(d.driftedInputs).toContain('device_mobile_share');
  });
});

describe('score on a fresh sample from the same generator', () => {
  it('finds no drift and exits 0 under --strict', async () => {
    const out = join(work, 'fresh-scores.csv');
    const run = await finseg('score', '--model', model.bundleDir, '--data', fresh, '--out', out, '--strict');
    expect(run.code, run.stderr).toBe(0);
    expect(existsSync(out)).toBe(true);
    const d = summary(out);
    expect(d).toMatchObject({ customers: 1500, judged: true, drifted: false, driftedInputs: [] });
    // A sample of 1,500 puts PSI by chance near (bins − 1) / 1,500 ≈ 0.006 per input.
    for (const i of d.inputs) expect(i.psi, i.name).toBeLessThan(0.1);
    expect(d.segmentMix.psi).toBeLessThan(0.1);
    expect(d.flags.novel).toBeLessThan(0.05);
  });
});
