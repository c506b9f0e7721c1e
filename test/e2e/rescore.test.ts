import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig, parseConfig, type FinsegConfig } from '../../pipeline/config/config.ts';
import { openDuck, queryRows, sqlString } from '../../pipeline/core/duck.ts';
import { quietLogger } from '../../pipeline/core/log.ts';
import { defaultGenerateParams, generateDataset } from '../../pipeline/generate/generate.ts';
import { trainJob, type TrainOutcome } from '../../pipeline/jobs/train.ts';
import { scoreJob } from '../../pipeline/jobs/score.ts';

/**
 * Training customers re-scored from the same data get exactly the segment train reported
 * (the report's assignments.csv/.parquet), because one function
 * (05-classify/segment-rule.ts) decides both; and no customer whose last activity is long ago, by
 * an SQL count of the raw rows, lands in a segment the bundle marks active.
 */
const work = mkdtempSync(join(tmpdir(), 'finseg-rescore-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Quick settings: the same pipeline with fewer restarts, epochs and refits. */
const FAST = { cluster: { kMin: 3, kMax: 6, restarts: 2, selectionSample: 1000, stabilityResamples: 2 }, classify: { epochs: 5, hidden: [16] } };

/** A run: the training outcome, then the score file of the same data. */
interface Run {
  outcome: TrainOutcome;
  scoresCsv: string;
}

async function trainAndRescore(name: string, dataDir: string, config: FinsegConfig): Promise<Run> {
  const outcome = await trainJob({ dataDir, registry: join(work, name, 'models'), config, configSource: name, quarantineRoot: join(work, name, 'q'), logger: quietLogger, now: () => new Date('2026-12-01T08:00:00Z') });
  const scoresCsv = join(work, name, 'scores.csv');
  await scoreJob({ modelPath: outcome.bundleDir, dataDir, outFile: scoresCsv, config, quarantineDir: null, logger: quietLogger });
  return { outcome, scoresCsv };
}

/** customer_id → segment_id text ('' = no segment) of a CSV or Parquet file, and every other column asked for. */
async function segmentsOf(file: string, extra: string[] = []): Promise<Map<string, Record<string, string>>> {
  const conn = await openDuck();
  try {
    const from = file.endsWith('.parquet') ? `read_parquet(${sqlString(file)})` : `read_csv(${sqlString(file)}, header = true, all_varchar = true)`;
    const cols = ['customer_id', 'segment_id', ...extra].map((c) => `coalesce(CAST(${c} AS VARCHAR), '') AS ${c}`);
    const rows = await queryRows(conn, `SELECT ${cols.join(', ')} FROM ${from}`);
    return new Map(rows.map((r) => [String(r.customer_id), Object.fromEntries(Object.entries(r).map(([k, v]) => [k, String(v)]))]));
  } finally {
    conn.closeSync();
  }
}

/** The public ids of the segments the bundle marks active. */
function activeSegmentIds(outcome: TrainOutcome): Set<string> {
  const active = outcome.states['coldstart.json'].activity.activeSegments;
  return new Set(outcome.states['segments.json'].cards.filter((_, s) => active[s]).map((c) => String(c.id)));
}

/**
 * Checks every customer's score against train's assignments export (report/assignments.csv and
 * .parquet); the bundle's own assignments.csv holds the k-means segments retrain compares, which
 * differ for exactly the customers the manifest counts as placed outside their k-means segment.
 */
async function expectExactRescore(run: Run): Promise<void> {
  const scored = await segmentsOf(run.scoresCsv);
  const reportCsv = await segmentsOf(join(run.outcome.bundleDir, 'report', 'assignments.csv'));
  const reportParquet = await segmentsOf(join(run.outcome.bundleDir, 'report', 'assignments.parquet'));
  expect(scored.size).toBe(run.outcome.customerIds.length);
  for (const exported of [reportCsv, reportParquet]) {
    expect(exported.size).toBe(scored.size);
    const changed = [...scored].filter(([id, r]) => exported.get(id)?.segment_id !== r.segment_id);
    expect(changed).toEqual([]);
  }
  const kmeans = await segmentsOf(join(run.outcome.bundleDir, 'assignments.csv'));
  const summary = (run.outcome.manifest.metrics as { coldStart: { trainingCustomers: { differFromKMeans: number } } }).coldStart.trainingCustomers;
  expect([...scored].filter(([id, r]) => kmeans.get(id)?.segment_id !== r.segment_id).length).toBe(summary.differFromKMeans);
}

describe('re-scoring generated training data', () => {
  const data = join(work, 'generated');
  let run: Run;
  beforeAll(async () => {
    await generateDataset(data, { ...defaultGenerateParams, customers: 1500, seed: 23 }, 'csv', quietLogger);
    run = await trainAndRescore('generated', data, parseConfig(FAST));
  }, 300_000);

  it('gives every customer exactly its training segment (the report\'s assignments export)', async () => {
    await expectExactRescore(run);
  });

  it('places low-history customers as train did, and flags them; the counts match train\'s own record', async () => {
    const scored = await segmentsOf(run.scoresCsv, ['cold_start', 'insufficient_history']);
    const summary = (run.outcome.manifest.metrics as { coldStart: { trainingCustomers: { placedByColdStart: number; insufficientHistory: number } } }).coldStart.trainingCustomers;
    const count = (col: string) => [...scored.values()].filter((r) => r[col] === 'true').length;
    expect(count('cold_start')).toBe(summary.placedByColdStart);
    expect(count('insufficient_history')).toBe(summary.insufficientHistory);
    // History is usage rows + transactions up to the as-of date: counted here from the raw files.
    const asOf = (run.outcome.manifest.input as { asOf: string }).asOf;
    const conn = await openDuck();
    const rows = await queryRows(
      conn,
      `WITH h AS (SELECT customer_id FROM read_csv(${sqlString(join(data, 'usage_events.csv'))}, all_varchar = true) WHERE CAST(ts AS TIMESTAMP) < DATE ${sqlString(asOf)} + 1
         UNION ALL SELECT customer_id FROM read_csv(${sqlString(join(data, 'transactions.csv'))}, all_varchar = true) WHERE CAST(ts AS TIMESTAMP) < DATE ${sqlString(asOf)} + 1)
       SELECT c.customer_id, count(h.customer_id) AS n FROM read_csv(${sqlString(join(data, 'customers.csv'))}, all_varchar = true) c LEFT JOIN h USING (customer_id) GROUP BY 1`,
    );
    conn.closeSync();
    const low = rows.filter((r) => Number(r.n) < run.outcome.states['coldstart.json'].minHistory).map((r) => String(r.customer_id)).sort();
    expect([...scored].filter(([, r]) => r.insufficient_history === 'true').map(([id]) => id).sort()).toEqual(low);
  });

  it('puts no customer silent for more than the window (92 days by the raw rows) in an active segment', async () => {
    const asOf = (run.outcome.manifest.input as { asOf: string }).asOf;
    const conn = await openDuck();
    const quiet = await queryRows(
      conn,
      `WITH a AS (SELECT customer_id, CAST(ts AS TIMESTAMP) AS ts FROM read_csv(${sqlString(join(data, 'usage_events.csv'))}, all_varchar = true)
         UNION ALL SELECT customer_id, CAST(ts AS TIMESTAMP) FROM read_csv(${sqlString(join(data, 'transactions.csv'))}, all_varchar = true))
       SELECT c.customer_id FROM read_csv(${sqlString(join(data, 'customers.csv'))}, all_varchar = true) c LEFT JOIN a USING (customer_id)
       GROUP BY c.customer_id, c.signup_date
       HAVING coalesce(max(a.ts) FILTER (WHERE a.ts < DATE ${sqlString(asOf)} + 1), CAST(c.signup_date AS TIMESTAMP)) < DATE ${sqlString(asOf)} - 92`,
    );
    conn.closeSync();
    expect(quiet.length).toBeGreaterThan(0); // the generated base has customers who went quiet
    const scored = await segmentsOf(run.scoresCsv, ['inactive']);
    const active = activeSegmentIds(run.outcome);
    for (const { customer_id } of quiet) {
      const r = scored.get(String(customer_id))!;
      expect(r).toBeDefined();
      expect(r.inactive).toBe('true');
      expect(active.has(r.segment_id!)).toBe(false);
    }
  });
});

describe('re-scoring the Online Retail sample (transactions only)', () => {
  const root = fileURLToPath(new URL('../..', import.meta.url));
  const data = join(root, 'test/fixtures/real/online-retail');
  let run: Run;
  beforeAll(async () => {
    run = await trainAndRescore('online-retail', data, loadConfig(join(root, 'examples/online-retail.json')));
  }, 300_000);

  it('gives every customer exactly its training segment (the report\'s assignments export)', async () => {
    await expectExactRescore(run);
  });

  it('records the cold-start evaluation and uses cold start only when it beat the baseline by the margin', () => {
    const cs = run.outcome.states['coldstart.json'].metrics;
    expect(cs.used).toBe(cs.heldOutAccuracy - cs.majorityBaseline >= cs.marginRequired);
    // Transactions only, no signup attributes but the country: nothing much to learn from.
    expect(cs.used).toBe(false);
  });

  it('puts no customer without a purchase in the last 92 days (by the raw lines) in an active segment', async () => {
    const asOf = (run.outcome.manifest.input as { asOf: string }).asOf;
    const conn = await openDuck();
    const quiet = await queryRows(
      conn,
      `SELECT CustomerID AS customer_id FROM read_csv(${sqlString(join(data, 'online_retail_sample_20k.csv'))}, all_varchar = true)
       WHERE CustomerID <> 'NA' GROUP BY 1 HAVING max(CAST(InvoiceDate AS TIMESTAMP)) < DATE ${sqlString(asOf)} - 92`,
    );
    conn.closeSync();
    expect(quiet.length).toBeGreaterThan(100);
    const scored = await segmentsOf(run.scoresCsv);
    const active = activeSegmentIds(run.outcome);
    expect(quiet.map((r) => scored.get(String(r.customer_id))?.segment_id).filter((s) => s !== undefined && active.has(s))).toEqual([]);
  });
});
