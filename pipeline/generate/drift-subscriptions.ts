import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { sqlString } from '../core/duck.ts';
import { deriveSeed, makeRng } from '../core/random.ts';
import type { CustomerDraws } from './customers.ts';
import { csvSource } from './drift-base.ts';
import type { BaseCustomer, Move } from './drift-moves.ts';
import type { SnapshotTarget } from './drift-write.ts';
import type { Format } from './generate.ts';
import { CsvFile, formatDay, headerOf } from './rows.ts';
import { uniform } from './sampling.ts';
import { CHURN_WINDOW_DAYS, EXPANSION_WINDOW_DAYS, subscriptionLines, subscriptionRows } from './subscriptions.ts';

/**
 * Subscriptions of a `generate --drift` snapshot. Like events, every surviving customer's
 * periods are the base snapshot's moved forward by the elapsed days (ended and cancelled rows
 * stay, as a later export still lists them); a customer that grew adds seats on a day of the new
 * period (its active row ends `ended`, a row with 1.2–1.8× the seats at the same price per seat
 * starts); arrivals subscribe as generate draws them. A customer that churned in the drift leaves
 * the export with all its rows, as it leaves customers and events. subscriptions_truth.csv is
 * recomputed from the written rows with the definitions of subscriptions.ts.
 */

/** Writes subscriptions.<format> and subscriptions_truth.csv of the snapshot; returns the row count, or null when the base has no subscriptions table. */
export async function writeDriftSubscriptions(t: SnapshotTarget, baseDir: string, baseFormat: Format, customers: readonly BaseCustomer[], moves: readonly Move[], arrivals: CustomerDraws): Promise<number | null> {
  const basePath = join(baseDir, `subscriptions.${baseFormat}`);
  if (!existsSync(basePath)) return null;
  const { conn, dir, periodStart, periodEnd } = t;
  const growers = join(dir, '.drift-seat-changes.csv');
  const arrivalRows = join(dir, '.drift-arrival-subscriptions.csv');
  try {
    const g = new CsvFile(growers);
    g.write('customer_id,change_date,factor\n');
    customers.forEach((c, i) => {
      if (moves[i]!.movement !== 'grew') return;
      const rng = makeRng(deriveSeed(t.seed, `${c.id}:seats`));
      g.write(`${c.id},${formatDay(periodStart + rng.int(periodEnd - periodStart))},${uniform(rng, 1.2, 1.8).toFixed(3)}\n`);
    });
    g.close();
    const a = new CsvFile(arrivalRows);
    a.write(headerOf('subscriptions'));
    const rowSeed = deriveSeed(t.seed, 'arrival-subscriptions');
    for (let i = 0; i < arrivals.n; i++) a.write(subscriptionLines(arrivals, i, subscriptionRows(arrivals, i, rowSeed, periodEnd)));
    a.close();
    const base = baseFormat === 'parquet' ? `read_parquet(${sqlString(basePath)})` : csvSource(basePath, 'subscriptions');
    const elapsed = periodEnd - periodStart;
    await conn.run(
      `CREATE TABLE drift_subscriptions AS
       WITH s AS (SELECT customer_id, plan, seats, mrr, currency, start_date + ${elapsed} AS start_date, end_date + ${elapsed} AS end_date, status
                  FROM ${base} JOIN moves m USING (customer_id) WHERE m.movement <> 'churned'),
            g AS (SELECT customer_id, CAST(change_date AS DATE) AS d, CAST(factor AS DOUBLE) AS f FROM read_csv(${sqlString(growers)}, header = true, all_varchar = true)),
            sp AS (SELECT s.*, g.d, CAST(greatest(s.seats + 1, round(s.seats * g.f)) AS INTEGER) AS new_seats
                   FROM s LEFT JOIN g ON g.customer_id = s.customer_id AND s.end_date IS NULL AND g.d > s.start_date)
       SELECT customer_id, plan, seats, mrr, currency, start_date, coalesce(d, end_date) AS end_date, CASE WHEN d IS NULL THEN status ELSE 'ended' END AS status FROM sp
       UNION ALL SELECT customer_id, plan, new_seats, mrr / seats * new_seats, currency, d, NULL, 'active' FROM sp WHERE d IS NOT NULL
       UNION ALL SELECT * FROM ${csvSource(arrivalRows, 'subscriptions')}`,
    );
    const n = await copyTable(t, 'drift_subscriptions', 'ORDER BY customer_id, start_date, end_date NULLS LAST', join(dir, `subscriptions.${t.format}`), t.format);
    await writeTruthFromRows(t);
    return n;
  } finally {
    for (const p of [growers, arrivalRows]) rmSync(p, { force: true });
  }
}

async function copyTable(t: SnapshotTarget, table: string, order: string, path: string, format: Format): Promise<number> {
  const options = format === 'parquet' ? '(FORMAT parquet, COMPRESSION zstd)' : `(FORMAT csv, HEADER true, DATEFORMAT '%Y-%m-%d')`;
  await t.conn.run(`COPY (SELECT * FROM ${table} ${order}) TO ${sqlString(path)} ${options}`);
  const [r] = await t.conn.runAndReadAll(`SELECT count(*) AS n FROM ${table}`).then((x) => x.getRowObjects());
  return Number(r!.n);
}

/** subscriptions_truth.csv of the snapshot by the definitions, with T = the new export's last day. */
async function writeTruthFromRows(t: SnapshotTarget): Promise<void> {
  const day = (back: number) => `(DATE ${sqlString(formatDay(t.periodEnd - 1))} - ${back})`;
  const mrrAt = (back: number) => `coalesce(sum(mrr) FILTER (WHERE start_date <= ${day(back)} AND (end_date IS NULL OR end_date > ${day(back)})), 0)`;
  await t.conn.run(
    `COPY (
       WITH m AS (SELECT customer_id, ${mrrAt(0)} AS now, ${mrrAt(CHURN_WINDOW_DAYS)} AS before, ${mrrAt(EXPANSION_WINDOW_DAYS)} AS year_ago,
                         max(end_date) FILTER (WHERE status = 'cancelled') AS cancelled FROM drift_subscriptions GROUP BY customer_id)
       SELECT customer_id, CAST(before > 0 AND now = 0 AS INTEGER) AS churned_90d, strftime(cancelled, '%Y-%m-%d') AS churn_date,
              CAST(year_ago > 0 AND now > year_ago AS INTEGER) AS expanded_12m, year_ago AS mrr_start_12m, now AS mrr_now
       FROM m ORDER BY customer_id)
     TO ${sqlString(join(t.dir, 'subscriptions_truth.csv'))} (FORMAT csv, HEADER true)`,
  );
}
