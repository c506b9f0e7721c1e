import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultConfig } from '../../pipeline/config/config.ts';
import { openDuck, sqlString } from '../../pipeline/core/duck.ts';
import { quietLogger } from '../../pipeline/core/log.ts';
import { makeRng } from '../../pipeline/core/random.ts';
import { defaultGenerateParams, generateDataset } from '../../pipeline/generate/generate.ts';
import { trainJob, type TrainOutcome } from '../../pipeline/jobs/train.ts';
import { csvField } from '../../pipeline/10-report/exports.ts';

/**
 * A small trained bundle whose data carries markup: every customer id starts with a script
 * tag and quotes, and the data folder's name does too. The report must show them as text.
 * It also has a feedback table, so every optional section of the report has data.
 */

/** The prefix put before every generated customer id. */
export const HOSTILE_ID_PREFIX = `<script>alert("id")</script>'`;
/** The name of the data folder, shown in the report's data section. */
export const HOSTILE_DIR = `data<script>alert("dir")</script>'q`;

/** Customers in the fixture: enough for several segments, small enough to train in seconds. */
export const FIXTURE_CUSTOMERS = 1200;

export interface HostileBundle {
  dataDir: string;
  outcome: TrainOutcome;
}

/** Generates, rewrites ids, adds feedback and trains; everything under `work`. */
export async function trainHostileBundle(work: string): Promise<HostileBundle> {
  const clean = join(work, 'clean');
  const dataDir = join(work, HOSTILE_DIR);
  await generateDataset(clean, { ...defaultGenerateParams, customers: FIXTURE_CUSTOMERS, seed: 606 }, 'parquet', quietLogger);
  mkdirSync(dataDir, { recursive: true });
  const conn = await openDuck();
  try {
    for (const table of ['customers', 'usage_events', 'transactions']) {
      await conn.run(
        `COPY (SELECT * REPLACE (${sqlString(HOSTILE_ID_PREFIX)} || customer_id AS customer_id) FROM read_parquet(${sqlString(join(clean, `${table}.parquet`))}))
         TO ${sqlString(join(dataDir, `${table}.parquet`))} (FORMAT parquet)`,
      );
    }
    const ids = (await conn.runAndReadAll(`SELECT customer_id FROM read_parquet(${sqlString(join(dataDir, 'customers.parquet'))}) ORDER BY customer_id`)).getRows().map((r) => String(r[0]));
    // Two survey answers for most customers (the later one counts), tickets on some rows.
    const rng = makeRng(7);
    const lines = ['customer_id,ts,nps,tickets'];
    for (const id of ids) {
      if (rng.next() < 0.2) continue;
      for (const ts of ['2026-03-01 10:00:00', '2026-08-15 10:00:00']) {
        const nps = Math.min(10, Math.floor(rng.next() * 11));
        lines.push([csvField(id), ts, nps, Math.floor(rng.next() * 3)].join(','));
      }
    }
    writeFileSync(join(dataDir, 'feedback.csv'), `${lines.join('\n')}\n`);
  } finally {
    conn.closeSync();
  }
  // The defaults, with the k search and bootstrap trimmed to what 1,200 customers of 9 archetypes need: seconds, not a minute.
  const config = defaultConfig();
  config.cluster.kMax = 10;
  config.cluster.stabilityResamples = 8;
  const outcome = await trainJob({
    dataDir,
    registry: join(work, 'models'),
    config,
    configSource: 'defaults',
    quarantineRoot: join(work, 'quarantine'),
    logger: quietLogger,
    now: () => new Date('2026-11-27T08:00:00Z'),
  });
  return { dataDir, outcome };
}
