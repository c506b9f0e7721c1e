import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { TABLE_NAMES } from '../../pipeline/01-ingest/contract.ts';
import { defaultConfig, type FinsegConfig } from '../../pipeline/config/config.ts';
import { openDuck, queryRows, sqlString } from '../../pipeline/core/duck.ts';
import { quietLogger } from '../../pipeline/core/log.ts';
import { makeRng } from '../../pipeline/core/random.ts';
import { defaultProfileTableParams } from '../../pipeline/02-features/params.ts';
import type { ProfileFeatureFile } from '../../pipeline/02-features/profile-table.ts';
import { defaultGenerateParams, generateDataset } from '../../pipeline/generate/generate.ts';
import { inputRecord, readTrainingInput } from '../../pipeline/io/training-input.ts';
import { scoreJob } from '../../pipeline/jobs/score.ts';
import { trainJob } from '../../pipeline/jobs/train.ts';
import { fitModel } from '../../pipeline/model/fit.ts';
import { loadModel } from '../../pipeline/model/load.ts';
import { writeModel } from '../../pipeline/model/write.ts';
import { daysBefore } from '../../pipeline/05-classify/churn-labels.ts';
import { csvFields } from '../helpers/csv.ts';

/**
 * The churn model end to end: trained from a subscriptions table (features as of T − 90 days,
 * churned in (T − 90, T]) on generated customers with hand-planted churn, measured against the
 * planted churners (subscriptions_truth.csv), written, loaded and scored; trained from a profile
 * table's label column and scored; and absent on an export with no churn label, whose scores
 * carry an empty churn_risk column.
 */
const work = mkdtempSync(join(tmpdir(), 'finseg-churn-e2e-'));
const dataDir = join(work, 'data');
const asOf = defaultGenerateParams.asOf;
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Churn planted by archetype (the declining firms most), dated inside the last 90 days; every customer subscribed from 2025-01-01. */
function plantSubscriptions(truthCsv: string): { subscriptions: string; truth: string; churners: number } {
  const rng = makeRng(2024);
  const rows = truthCsv.trim().split('\n').slice(1).map(csvFields);
  const subs = ['customer_id,plan,seats,mrr,currency,start_date,end_date,status'];
  const truth = ['customer_id,churned_90d,churn_date'];
  let churners = 0;
  const from = Date.parse(`${daysBefore(asOf, 89)}T00:00:00Z`);
  for (const [id, archetype] of rows) {
    const p = archetype === 'declining_firm' ? 0.7 : archetype === 'new_micro_services' ? 0.3 : 0.05;
    const churned = rng.next() < p;
    const date = churned ? new Date(from + rng.int(89) * 86_400_000).toISOString().slice(0, 10) : '';
    subs.push(`${id},standard,${1 + rng.int(20)},${(50 + rng.int(500)).toFixed(2)},EUR,2025-01-01,${date},${churned ? 'cancelled' : 'active'}`);
    truth.push(`${id},${churned ? 1 : 0},${date}`);
    churners += churned ? 1 : 0;
  }
  return { subscriptions: `${subs.join('\n')}\n`, truth: `${truth.join('\n')}\n`, churners };
}

const config: FinsegConfig = defaultConfig();
let cleanScores: string;

beforeAll(async () => {
  await generateDataset(dataDir, { ...defaultGenerateParams, customers: 1200, seed: 31 }, 'csv', quietLogger);
  // This test plants its own churn: any subscriptions the generator writes are removed first.
  for (const f of readdirSync(dataDir)) if (f.startsWith('subscriptions')) rmSync(join(dataDir, f));
  // Without a churn label first: no churn model, an empty churn_risk column.
  const clean = await trainJob({ dataDir, registry: join(work, 'clean'), config, configSource: 'defaults', quarantineRoot: join(work, 'q'), logger: quietLogger, now: () => new Date('2026-10-01T00:00:00Z') });
  expect(clean.states['churn.json']).toBeUndefined();
  await scoreJob({ modelPath: clean.bundleDir, dataDir, outFile: join(work, 'clean.csv'), config: null, quarantineDir: null, logger: quietLogger });
  cleanScores = readFileSync(join(work, 'clean.csv'), 'utf8');
}, 600_000);

describe('churn model from a subscriptions table', () => {
  it('fits on features as of T − 90 days, records AUC against planted churners, and scores churn_risk in [0, 1]', async () => {
    const planted = plantSubscriptions(readFileSync(join(dataDir, 'truth.csv'), 'utf8'));
    writeFileSync(join(dataDir, 'subscriptions.csv'), planted.subscriptions);
    writeFileSync(join(dataDir, 'subscriptions_truth.csv'), planted.truth);
    const conn = await openDuck();
    const keep: { profile: ProfileFeatureFile | null } = { profile: null };
    try {
      // Until the contract ingests subscriptions, the table is staged here as ingest would stage it.
      if (!(TABLE_NAMES as readonly string[]).includes('subscriptions')) {
        await conn.run(`CREATE TABLE subscriptions AS SELECT customer_id, plan, CAST(seats AS INTEGER) AS seats, CAST(mrr AS DOUBLE) AS mrr, currency, CAST(start_date AS DATE) AS start_date, CAST(nullif(end_date, '') AS DATE) AS end_date, status
          FROM read_csv(${sqlString(join(dataDir, 'subscriptions.csv'))}, header = true, all_varchar = true)`);
      }
      const read = await readTrainingInput(conn, { dataDir, config, quarantineRoot: join(work, 'q'), logger: quietLogger, lap: () => {} }, keep);
      const churn = read.model.churn!;
      // T is the export's as-of day (ingest infers it from the data).
      const T = read.ingested.asOf;
      expect(churn.input.source).toMatchObject({ kind: 'subscriptions', horizonDays: 90, trainingAsOf: daysBefore(T, 90), labelAsOf: T });
      expect(churn.input.labels.reduce((s, l) => s + l, 0)).toBe(planted.churners);
      const fitted = await fitModel(read.model, config);
      const written = writeModel(join(work, 'subs'), fitted, { startedAt: new Date('2026-10-01T00:00:00Z'), configSource: 'defaults', input: await inputRecord(read, dataDir), parentVersion: null });
      const model = loadModel(written.bundleDir);
      const state = model.states['churn.json']!;
      const metrics = (model.manifest.metrics as unknown as { churn: { plantedAuc: number; auc: number } }).churn;
      console.info(`churn on generated data: 5-fold AUC ${state.backtest.auc.toFixed(3)}, AUC against planted churners ${metrics.plantedAuc.toFixed(3)} (${planted.churners} of 1200 planted)`);
      expect(metrics.plantedAuc).toBe(state.plantedAuc);
      // Planted by archetype, which the features recover: far better than chance.
      expect(metrics.plantedAuc).toBeGreaterThan(0.7);
      expect(state.segments.reduce((s, g) => s + g.customers, 0)).toBe(1200);

      const out = join(work, 'subs.csv');
      const scored = await scoreJob({ modelPath: written.bundleDir, dataDir, outFile: out, config: null, quarantineDir: null, logger: quietLogger });
      const risk = scored.scores.churnRisk!;
      expect(risk).toHaveLength(1200);
      for (const r of risk) expect(r >= 0 && r <= 1).toBe(true);
      const rows = await queryRows(conn, `SELECT count(*) AS n, min(churn_risk) AS lo, max(churn_risk) AS hi FROM read_csv(${sqlString(out)})`);
      expect(Number(rows[0]!.n)).toBe(1200);
      expect(Number(rows[0]!.hi)).toBeLessThanOrEqual(1);
    } finally {
      conn.closeSync();
      keep.profile?.remove();
    }
  });

  it('an export with no churn label: no churn.json, and churn_risk is an empty column', () => {
    const lines = cleanScores.trim().split('\n');
    const j = csvFields(lines[0]!).indexOf('churn_risk');
    expect(j).toBeGreaterThan(0);
    for (const line of lines.slice(1)) expect(csvFields(line)[j]).toBe('');
  });
});

describe('churn model from a profile table label column', () => {
  it('trains beside the segments and scores churn_risk in [0, 1] for every row', async () => {
    const dir = join(work, 'telco');
    const csv = readFileSync(resolve(import.meta.dirname, '../fixtures/real/telco-churn/Telco-Customer-Churn.csv'), 'utf8').split('\n');
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir);
    writeFileSync(join(dir, 'telco.csv'), `${csv.slice(0, 801).join('\n')}\n`);
    const cfg = defaultConfig();
    const categorical = csvFields(csv[0]!).filter((c) => !['customerID', 'SeniorCitizen', 'tenure', 'MonthlyCharges', 'TotalCharges', 'Churn'].includes(c));
    // The label column deliberately not in exclude: it must stay out of the features all the same.
    cfg.profileTable = { ...defaultProfileTableParams, file: 'telco.csv', key: 'customerID', exclude: [], categorical: [...categorical, 'Churn'], asOf: '2026-06-30' };
    cfg.churn.labelColumn = 'Churn';
    const trained = await trainJob({ dataDir: dir, registry: join(dir, 'models'), config: cfg, configSource: 'test', quarantineRoot: join(dir, 'q'), logger: quietLogger, now: () => new Date('2026-10-01T00:00:00Z') });
    expect(trained.features.featureNames.some((f) => f.startsWith('Churn'))).toBe(false);
    const state = trained.states['churn.json']!;
    expect(state.source).toMatchObject({ kind: 'profileColumn', column: 'Churn' });
    expect(state.backtest.n).toBe(800);
    const scored = await scoreJob({ modelPath: trained.bundleDir, dataDir: dir, outFile: join(dir, 'scores.csv'), config: null, quarantineDir: null, logger: quietLogger });
    expect(scored.scores.churnRisk).toHaveLength(800);
    for (const r of scored.scores.churnRisk!) expect(r >= 0 && r <= 1).toBe(true);
  });
});

describe('churn model on the generator’s own subscriptions', () => {
  // Parquet: ingest accepts a Parquet table as a view over the file, which the churn read must find too.
  it('records the AUC against the planted churners of subscriptions_truth.csv in churn.json and the manifest', async () => {
    const dir = join(work, 'generated');
    await generateDataset(dir, { ...defaultGenerateParams, customers: 1500, seed: 32 }, 'parquet', quietLogger);
    expect(existsSync(join(dir, 'subscriptions_truth.csv'))).toBe(true);
    const trained = await trainJob({ dataDir: dir, registry: join(dir, 'models'), config, configSource: 'defaults', quarantineRoot: join(dir, 'q'), logger: quietLogger, now: () => new Date('2026-10-01T00:00:00Z') });
    const state = trained.states['churn.json']!;
    expect(state.source.kind).toBe('subscriptions');
    const metrics = (trained.manifest.metrics as unknown as { churn: { plantedAuc: number | null } }).churn;
    console.info(`generated subscriptions: 5-fold AUC ${state.backtest.auc.toFixed(3)}, AUC against planted churners ${String(metrics.plantedAuc)}`);
    expect(metrics.plantedAuc).toBe(state.plantedAuc);
    expect(state.plantedAuc).toBeGreaterThan(0.5);

    // Past churn.sampleSize rows the model is fitted and backtested on a stratified sample, which the bundle records.
    const sampled = { ...defaultConfig(), churn: { ...defaultConfig().churn, sampleSize: 600 } };
    const small = await trainJob({ dataDir: dir, registry: join(dir, 'models-sampled'), config: sampled, configSource: 'test', quarantineRoot: join(dir, 'q'), logger: quietLogger, now: () => new Date('2026-10-01T00:00:00Z') });
    const b = small.states['churn.json']!.backtest;
    expect(b.n).toBe(600);
    expect(b.sampledFrom).toBe(state.backtest.n);
    expect(b.positives / b.n).toBeCloseTo(state.backtest.baseRate, 2);
    expect(`${JSON.stringify(loadModel(small.bundleDir).states['churn.json'], null, 2)}\n`).toBe(readFileSync(join(small.bundleDir, 'churn.json'), 'utf8'));
  });
});
