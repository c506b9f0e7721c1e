import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MODULES } from '../../pipeline/01-ingest/contract.ts';
import { defaultConfig } from '../../pipeline/config/config.ts';
import { openDuck, queryRows } from '../../pipeline/core/duck.ts';
import { quietLogger } from '../../pipeline/core/log.ts';
import { generateDriftSnapshot } from '../../pipeline/generate/drift.ts';
import { defaultGenerateParams, generateDataset } from '../../pipeline/generate/generate.ts';
import { trainJob, type TrainOutcome } from '../../pipeline/jobs/train.ts';
import { loadModel } from '../../pipeline/model/load.ts';
import { toJson } from '../../pipeline/registry/bundle.ts';

/**
 * Next best module against what happened: a model fitted on a generated base snapshot recommends
 * three modules per base customer (`finseg score` on the base); the drifted snapshot three months
 * later says which catalog modules each customer took up (adopted in its last 90 days at the
 * model's threshold, never used in the base history). The reference is the popularity baseline
 * computed here from the base data alone: the three modules most adopted in the customer's scored
 * segment that it lacks. Next best module must hit more often at 3.
 */
const work = mkdtempSync(join(tmpdir(), 'finseg-nbm-drift-'));
const base = join(work, 'base');
const later = join(work, 'later');
const scores = join(work, 'base-scores.csv');
const cli = fileURLToPath(new URL('../../bin/finseg.mjs', import.meta.url));
let model: TrainOutcome;

function finseg(...args: string[]): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [cli, ...args], { cwd: work, maxBuffer: 64 << 20 }, (error, _stdout, stderr) => resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stderr }));
  });
}

/** Per customer, the catalog modules whose share of its events in the 90 days up to `asOf` is at least minShare. */
function adoptedSql(dir: string, asOf: string, minShare: number): string {
  return `WITH e AS (SELECT customer_id, module, CAST(coalesce("count", 1) AS DOUBLE) AS n FROM read_parquet('${dir}/usage_events.parquet')
                  WHERE ts >= DATE '${asOf}' + INTERVAL 1 DAY - INTERVAL 90 DAY AND ts < DATE '${asOf}' + INTERVAL 1 DAY),
          m AS (SELECT customer_id, module, sum(n) AS n FROM e GROUP BY ALL)
     SELECT customer_id, module FROM m QUALIFY n > 0 AND n / sum(n) OVER (PARTITION BY customer_id) >= ${minShare}`;
}

interface Hits {
  customers: number;
  nextModule: number;
  popularity: number;
}
let hits: Hits;

beforeAll(async () => {
  await generateDataset(base, { ...defaultGenerateParams, customers: 3000, seed: 41 }, 'parquet', quietLogger);
  await generateDriftSnapshot(base, later, { takeUpRate: 0.3 }, quietLogger);
  model = await trainJob({ dataDir: base, registry: join(work, 'models'), config: defaultConfig(), configSource: 'defaults', quarantineRoot: join(work, 'quarantine'), logger: quietLogger, now: () => new Date('2026-12-07T08:00:00Z') });
  const run = await finseg('score', '--model', model.bundleDir, '--data', base, '--out', scores, '--quiet');
  expect(run.code, run.stderr).toBe(0);
  const baseAsOf = JSON.parse(readFileSync(join(base, 'generate.json'), 'utf8')).params.asOf as string;
  const laterAsOf = JSON.parse(readFileSync(join(later, 'generate.json'), 'utf8')).params.asOf as string;
  const minShare = model.states['nextmodule.json']!.params.minShare;
  const catalog = `[${MODULES.map((m) => `'${m}'`).join(', ')}]`;
  const conn = await openDuck();
  try {
    await conn.run(`CREATE TABLE s AS SELECT customer_id, segment_id, next_modules FROM read_csv('${scores}', header = true, all_varchar = true)`);
    await conn.run(`CREATE TABLE before AS ${adoptedSql(base, baseAsOf, minShare)}`);
    await conn.run(`CREATE TABLE ever AS SELECT DISTINCT customer_id, module FROM read_parquet('${base}/usage_events.parquet')`);
    await conn.run(`CREATE TABLE truth AS SELECT a.customer_id, a.module FROM (${adoptedSql(later, laterAsOf, minShare)}) a
                      ANTI JOIN ever USING (customer_id, module) WHERE list_contains(${catalog}, a.module)`);
    // The baseline's rates: per scored segment, the share of its customers with module use who adopted each module.
    await conn.run(`CREATE TABLE rates AS SELECT s.segment_id, b.module, count(*) / any_value(u.users) AS rate
                      FROM before b JOIN s USING (customer_id)
                      JOIN (SELECT segment_id, count(DISTINCT customer_id) AS users FROM before JOIN s USING (customer_id) GROUP BY ALL) u USING (segment_id)
                     GROUP BY ALL`);
    await conn.run(`CREATE TABLE popular AS SELECT customer_id, module FROM (
                      SELECT s.customer_id, r.module, row_number() OVER (PARTITION BY s.customer_id ORDER BY r.rate DESC, list_position(${catalog}, r.module)) AS rk
                        FROM s JOIN rates r USING (segment_id) ANTI JOIN before b ON b.customer_id = s.customer_id AND b.module = r.module) WHERE rk <= 3`);
    // Evaluated: customers with module use at the base date who took up a catalog module by the later one.
    const rows = await queryRows(
      conn,
      `WITH evaluated AS (SELECT DISTINCT customer_id FROM truth SEMI JOIN before USING (customer_id))
       SELECT count(*) AS customers,
              count(*) FILTER (WHERE EXISTS (SELECT 1 FROM truth t, s WHERE t.customer_id = e.customer_id AND s.customer_id = e.customer_id AND list_contains(string_split(s.next_modules, ';'), t.module))) AS next_hits,
              count(*) FILTER (WHERE EXISTS (SELECT 1 FROM truth t JOIN popular p USING (customer_id, module) WHERE t.customer_id = e.customer_id)) AS popular_hits
         FROM evaluated e`,
    );
    const r = rows[0] as Record<string, number | bigint>;
    hits = { customers: Number(r.customers), nextModule: Number(r.next_hits), popularity: Number(r.popular_hits) };
  } finally {
    conn.closeSync();
  }
}, 600_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('the nextmodule state and the score columns', () => {
  it('round-trips through the bundle, with its evaluation in the manifest metrics', () => {
    const loaded = loadModel(model.bundleDir);
    const state = model.states['nextmodule.json']!;
    expect(toJson(loaded.states['nextmodule.json'])).toBe(toJson(state));
    expect(loaded.manifest.metrics.nextModule).toEqual(state.evaluation);
    expect(state.evaluation!.customers).toBeGreaterThan(0);
  });

  it('writes next_modules and its evidence (module:peer share:lift) for every scored customer', async () => {
    const conn = await openDuck();
    try {
      const rows = (await queryRows(conn, `SELECT next_modules, next_modules_evidence FROM read_csv('${scores}', header = true, all_varchar = true)`)) as { next_modules: string | null; next_modules_evidence: string | null }[];
      const filled = rows.filter((r) => r.next_modules);
      expect(filled.length / rows.length).toBeGreaterThan(0.95);
      for (const r of filled) {
        const names = r.next_modules!.split(';');
        expect(names.length).toBeLessThanOrEqual(3);
        expect(r.next_modules_evidence!.split(';').map((e) => e.split(':')[0])).toEqual(names);
        for (const e of r.next_modules_evidence!.split(';')) expect(e).toMatch(/^[a-z_]+:(0|1)\.\d\d:\d+\.\d\d$/);
      }
    } finally {
      conn.closeSync();
    }
  });
});

describe('next best module on the drifted snapshot', () => {
  it('evaluates enough customers who took up a module to tell the two apart', () => {
    console.log(`next best module drift check: ${JSON.stringify(hits)}; train-time holdout ${JSON.stringify(model.states['nextmodule.json']!.evaluation)}`);
    expect(hits.customers).toBeGreaterThan(100);
  });

  it('hits more often at 3 than the popularity baseline', () => {
    expect(hits.nextModule).toBeGreaterThan(hits.popularity);
  });
});
