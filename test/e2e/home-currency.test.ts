import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendFileSync, cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultConfig } from '../../pipeline/config/config.ts';
import { openDuck, queryRows, sqlString } from '../../pipeline/core/duck.ts';
import { quietLogger } from '../../pipeline/core/log.ts';
import { defaultGenerateParams, generateDataset } from '../../pipeline/generate/generate.ts';
import { trainJob, type TrainOutcome } from '../../pipeline/jobs/train.ts';
import { scoreJob } from '../../pipeline/jobs/score.ts';
import type { Scores } from '../../pipeline/model/apply.ts';
import { main } from '../../pipeline/cli/main.ts';

/**
 * foreign_share is measured against the home currency of the training data, recorded in the
 * bundle, not against whatever currency is most common in a scored batch: adding customers who
 * pay mostly in USD to a batch must not change the scores of the others.
 */
const work = mkdtempSync(join(tmpdir(), 'finseg-home-'));
const plain = join(work, 'plain');
const mixed = join(work, 'mixed');
let trained: TrainOutcome;
let alone: Scores;
let together: Scores;

async function score(dataDir: string, name: string): Promise<Scores> {
  const result = await scoreJob({ modelPath: trained.bundleDir, dataDir, outFile: join(work, `${name}.csv`), config: null, quarantineDir: null, logger: quietLogger });
  return result.scores;
}

beforeAll(async () => {
  await generateDataset(plain, { ...defaultGenerateParams, customers: 400, seed: 5 }, 'csv', quietLogger);
  trained = await trainJob({ dataDir: plain, registry: join(work, 'models'), config: defaultConfig(), configSource: 'defaults', quarantineRoot: join(work, 'q'), logger: quietLogger, now: () => new Date('2026-11-27T08:00:00Z') });
  alone = await score(plain, 'alone');
  // The same customers plus 40 who pay in USD, enough USD rows to outnumber the CNY ones.
  cpSync(plain, mixed, { recursive: true });
  const template = readFileSync(join(plain, 'customers.csv'), 'utf8').split('\n')[1]!.split(',').slice(1).join(',');
  for (let c = 0; c < 40; c++) {
    const id = `X${String(c).padStart(6, '0')}`;
    appendFileSync(join(mixed, 'customers.csv'), `${id},${template}\n`);
    const lines: string[] = [];
    for (let t = 0; t < 320; t++) lines.push(`${id},2026-09-${String(1 + (t % 28)).padStart(2, '0')} 10:00:00,${(50 + t).toFixed(2)},USD,sale`);
    appendFileSync(join(mixed, 'transactions.csv'), `${lines.join('\n')}\n`);
  }
  together = await score(mixed, 'together');
}, 300_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('home currency', () => {
  it('is recorded in the bundle: the most common currency of the training data', () => {
    expect((trained.manifest.features as { homeCurrency: string }).homeCurrency).toBe('CNY');
  });

  it('would flip to USD if taken from the mixed batch', async () => {
    const conn = await openDuck();
    try {
      const [top] = await queryRows(conn, `SELECT currency, count(*) AS n FROM read_csv(${sqlString(join(mixed, 'transactions.csv'))}) GROUP BY 1 ORDER BY n DESC LIMIT 1`);
      expect(top!.currency).toBe('USD');
    } finally {
      conn.closeSync();
    }
  });

  it("leaves the original customers' scores unchanged when the batch's most common currency differs", () => {
    const index = new Map(together.customerIds.map((id, i) => [id, i]));
    const k = alone.probabilities.cols;
    let compared = 0;
    alone.customerIds.forEach((id, i) => {
      const j = index.get(id)!;
      expect(together.segment[j], id).toBe(alone.segment[i]);
      for (let c = 0; c < k; c++) expect(together.probabilities.data[j * k + c], id).toBe(alone.probabilities.data[i * k + c]);
      compared++;
    });
    expect(compared).toBe(400);
  });

  describe('in a feature table made for scoring (finseg features --model)', () => {
    /** foreign_share by customer id from `finseg features` on a data folder, with the given extra flags. */
    async function foreignShare(dataDir: string, name: string, extra: string[]): Promise<Map<string, number>> {
      const out = join(work, `${name}.parquet`);
      const write = process.stdout.write;
      process.stdout.write = (() => true) as typeof process.stdout.write;
      try {
        expect(await main(['features', '--data', dataDir, '--out', out, '--quiet', ...extra])).toBe(0);
      } finally {
        process.stdout.write = write;
      }
      const conn = await openDuck();
      try {
        const rows = await queryRows(conn, `SELECT customer_id, coalesce(foreign_share, -1) AS f FROM read_parquet(${sqlString(out)})`);
        return new Map(rows.map((r) => [String(r.customer_id), Number(r.f)]));
      } finally {
        conn.closeSync();
      }
    }

    it("measures foreign_share against the bundle's home currency, whatever the batch pays in", async () => {
      const model = ['--model', trained.bundleDir];
      const reference = await foreignShare(plain, 'plain-model', model);
      const withModel = await foreignShare(mixed, 'mixed-model', model);
      const withoutModel = await foreignShare(mixed, 'mixed-batch', []);
      let changedWithout = 0;
      for (const [id, f] of reference) {
        expect(withModel.get(id), id).toBe(f);
        if (withoutModel.get(id) !== f) changedWithout++;
      }
      expect(reference.size).toBe(400);
      // Without --model the USD batch becomes its own home: most paying customers' shares move.
      expect(changedWithout).toBeGreaterThan(200);
    }, 120_000);

    it('prints the SQL with the home currency fixed to the bundle\'s', async () => {
      let printed = '';
      const write = process.stdout.write;
      process.stdout.write = ((chunk: string) => ((printed += chunk), true)) as typeof process.stdout.write;
      try {
        expect(await main(['features-sql', '--as-of', '2026-09-30', '--dialect', 'spark', '--model', trained.bundleDir])).toBe(0);
      } finally {
        process.stdout.write = write;
      }
      expect(printed).toContain(`home AS (SELECT 'CNY' AS home)`);
    });
  });
});
