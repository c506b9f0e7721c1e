import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ingest, defaultIngestParams } from '../../pipeline/01-ingest/ingest.ts';
import type { DuckDBConnection } from '@duckdb/node-api';
import { openDuck, queryRows, sqlString } from '../../pipeline/core/duck.ts';
import { quietLogger } from '../../pipeline/core/log.ts';
import { defaultGenerateParams, generateDataset, type GenerateParams } from '../../pipeline/generate/generate.ts';
import { PLAN_PRICES } from '../../pipeline/generate/subscriptions.ts';

/**
 * The generated subscriptions table against its planted truth: the truth file's churn and
 * expansion flags recomputed here from the written rows with the common definitions (a row is
 * active at d when start_date <= d and (end_date IS NULL OR end_date > d); churned in (a, b]
 * when MRR at a > 0 and at b = 0), T = the export's last day; a churner's events and
 * transactions stop before its cancel date and thin out before it; same seed, same bytes.
 */
const root = mkdtempSync(join(tmpdir(), 'finseg-gen-subs-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const params: GenerateParams = { ...defaultGenerateParams, customers: 1200, eventsPerCustomer: 30, seed: 4242 };
const T = '2026-09-29'; // the day before defaultGenerateParams.asOf: the export's last day
const dirA = join(root, 'a');
const dirB = join(root, 'b');
let conn: DuckDBConnection;
const csv = (dir: string, file: string) => `read_csv(${sqlString(join(dir, file))}, header = true, all_varchar = false)`;

beforeAll(async () => {
  await generateDataset(dirA, params, 'csv', quietLogger);
  await generateDataset(dirB, params, 'csv', quietLogger);
  conn = await openDuck();
  await conn.run(`CREATE TABLE subs AS SELECT * FROM read_csv(${sqlString(join(dirA, 'subscriptions.csv'))}, header = true, types = {'start_date': 'DATE', 'end_date': 'DATE', 'mrr': 'DOUBLE', 'seats': 'INTEGER'})`);
  await conn.run(`CREATE TABLE truth AS SELECT * FROM read_csv(${sqlString(join(dirA, 'subscriptions_truth.csv'))}, header = true, all_varchar = true)`);
}, 120_000);
afterAll(() => conn?.closeSync());

describe('generate: subscriptions and their planted truth', () => {
  it('writes the same bytes for the same seed', () => {
    for (const file of ['subscriptions.csv', 'subscriptions_truth.csv', 'usage_events.csv', 'transactions.csv']) {
      expect(readFileSync(join(dirA, file)).equals(readFileSync(join(dirB, file))), file).toBe(true);
    }
  });

  it('agrees with churn and expansion recomputed from the written rows by the common definitions', async () => {
    // MRR at T − days: the sum over rows active on that day.
    const at = (days: number) => {
      const d = `(DATE '${T}' - INTERVAL ${days} DAY)`;
      return `coalesce(sum(mrr) FILTER (WHERE start_date <= ${d} AND (end_date IS NULL OR end_date > ${d})), 0)`;
    };
    const rows = await queryRows(
      conn,
      `WITH m AS (SELECT customer_id, ${at(0)} AS now, ${at(90)} AS before, ${at(365)} AS year_ago FROM subs GROUP BY customer_id)
       SELECT count(*) AS n,
         count(*) FILTER (WHERE (m.before > 0 AND m.now = 0)::INT <> t.churned_90d::INT) AS churn_mismatch,
         count(*) FILTER (WHERE (m.year_ago > 0 AND m.now > m.year_ago)::INT <> t.expanded_12m::INT) AS expansion_mismatch,
         count(*) FILTER (WHERE m.now <> t.mrr_now::DOUBLE OR m.year_ago <> t.mrr_start_12m::DOUBLE) AS mrr_mismatch,
         sum(t.churned_90d::INT) AS churned, sum(t.expanded_12m::INT) AS expanded
       FROM m JOIN truth t USING (customer_id)`,
    );
    expect(rows[0]).toMatchObject({ n: params.customers, churn_mismatch: 0, expansion_mismatch: 0, mrr_mismatch: 0 });
    expect(rows[0]!.churned).toBeGreaterThan(20);
    expect(rows[0]!.expanded).toBeGreaterThan(50);
  });

  it('gives each customer its edition as plan, MRR = seats x the plan price, periods from signup without gaps, a cancelled last period for each churn date', async () => {
    const prices = Object.entries(PLAN_PRICES).map(([plan, price]) => `('${plan}', ${price})`).join(', ');
    const [r] = await queryRows(
      conn,
      `WITH c AS (SELECT * FROM ${csv(dirA, 'customers.csv')}), p(plan, price) AS (VALUES ${prices}),
       s AS (SELECT *, lag(end_date) OVER (PARTITION BY customer_id ORDER BY start_date) AS prev_end, row_number() OVER (PARTITION BY customer_id ORDER BY start_date DESC) AS from_last FROM subs)
       SELECT count(*) FILTER (WHERE s.plan <> c.edition) AS wrong_plan,
         count(*) FILTER (WHERE s.mrr <> s.seats * p.price) AS wrong_mrr,
         count(*) FILTER (WHERE s.start_date < c.signup_date) AS before_signup,
         count(*) FILTER (WHERE s.prev_end IS NOT NULL AND s.prev_end <> s.start_date) AS gaps,
         count(*) FILTER (WHERE s.end_date IS NOT NULL AND s.end_date <= s.start_date) AS empty_periods,
         count(*) FILTER (WHERE (s.from_last = 1) AND ((t.churn_date IS NULL) <> (s.end_date IS NULL) OR CAST(s.end_date AS VARCHAR) <> t.churn_date OR (s.status = 'cancelled') <> (t.churn_date IS NOT NULL))) AS wrong_last,
         count(*) FILTER (WHERE s.from_last > 1 AND s.status <> 'ended') AS wrong_ended
       FROM s JOIN c USING (customer_id) JOIN p USING (plan) JOIN truth t USING (customer_id)`,
    );
    expect(r).toEqual({ wrong_plan: 0, wrong_mrr: 0, before_signup: 0, gaps: 0, empty_periods: 0, wrong_last: 0, wrong_ended: 0 });
  });

  it("stops a churner's events and transactions before its cancel date", async () => {
    for (const table of ['usage_events.csv', 'transactions.csv']) {
      const [r] = await queryRows(conn, `SELECT count(*) AS late FROM ${csv(dirA, table)} e JOIN truth t USING (customer_id) WHERE t.churn_date IS NOT NULL AND e.ts >= CAST(t.churn_date AS DATE)`);
      expect(r!.late, table).toBe(0);
    }
  });

  it("thins a churner's use over the months before it cancels", async () => {
    // Events per day in the 60 days before the cancel date against days 150..300 before it, over churners with that much history.
    const [r] = await queryRows(
      conn,
      `WITH ch AS (SELECT customer_id, CAST(churn_date AS DATE) AS d FROM truth WHERE churn_date IS NOT NULL),
       e AS (SELECT customer_id, CAST(ts AS DATE) AS day FROM ${csv(dirA, 'usage_events.csv')}),
       c AS (SELECT * FROM ${csv(dirA, 'customers.csv')})
       SELECT count(*) FILTER (WHERE e.day >= ch.d - 60) / 60.0 AS late_rate, count(*) FILTER (WHERE e.day >= ch.d - 300 AND e.day < ch.d - 150) / 150.0 AS early_rate
       FROM ch JOIN c USING (customer_id) JOIN e USING (customer_id) WHERE c.signup_date <= ch.d - 300 AND ch.d - 300 >= DATE '${T}' - 364`,
    );
    expect(Number(r!.early_rate)).toBeGreaterThan(0);
    expect(Number(r!.late_rate)).toBeLessThan(0.6 * Number(r!.early_rate));
  });

  it('plants more churn in the declining archetype than in the rest', async () => {
    const rows = await queryRows(
      conn,
      `SELECT a.archetype = 'declining_firm' AS declining, avg(t.churned_90d::INT) AS churn FROM truth t JOIN ${csv(dirA, 'truth.csv')} a USING (customer_id) GROUP BY 1 ORDER BY 1`,
    );
    expect(Number(rows[1]!.churn)).toBeGreaterThan(4 * Number(rows[0]!.churn));
  });

  it('passes the data contract: every generated subscription row accepted', async () => {
    const c = await openDuck();
    try {
      const result = await ingest(c, dirA, { ...defaultIngestParams, plans: ['Starter', 'Standard', 'Professional', 'Enterprise'] }, null, quietLogger);
      const s = result.tables.subscriptions!;
      expect(result.asOf).toBe(T);
      expect({ read: s.read, quarantined: s.quarantined, cells: s.cellsNulled }).toEqual({ read: s.accepted, quarantined: 0, cells: 0 });
      expect(s.read).toBeGreaterThan(params.customers);
    } finally {
      c.closeSync();
    }
  });
});

describe('generate --drift: subscriptions carried forward', () => {
  const later = join(root, 'later');
  beforeAll(async () => {
    const { generateDriftSnapshot } = await import('../../pipeline/generate/drift.ts');
    await generateDriftSnapshot(dirA, later, {}, quietLogger, 'csv');
    await conn.run(`CREATE TABLE later AS SELECT * FROM read_csv(${sqlString(join(later, 'subscriptions.csv'))}, header = true, types = {'start_date': 'DATE', 'end_date': 'DATE', 'mrr': 'DOUBLE', 'seats': 'INTEGER'})`);
    await conn.run(`CREATE TABLE moves AS SELECT * FROM ${csv(later, 'movements.csv')}`);
  }, 120_000);

  it('moves an unchanged customer\'s periods forward by the elapsed days, ended and cancelled rows included', async () => {
    const [r] = await queryRows(
      conn,
      `WITH a AS (SELECT s.* FROM subs s JOIN moves m USING (customer_id) WHERE m.movement IN ('unchanged', 'declined', 'adopted_mobile')),
            b AS (SELECT l.* FROM later l JOIN moves m USING (customer_id) WHERE m.movement IN ('unchanged', 'declined', 'adopted_mobile'))
       SELECT (SELECT count(*) FROM a) AS n, (SELECT count(*) FROM b) AS m,
              (SELECT count(*) FROM (SELECT customer_id, plan, seats, mrr, start_date + 91 AS s, end_date + 91 AS e, status FROM a
                                     EXCEPT SELECT customer_id, plan, seats, mrr, start_date, end_date, status FROM b)) AS differ,
              (SELECT count(*) FROM a WHERE status = 'cancelled') AS cancelled`,
    );
    expect(Number(r!.differ)).toBe(0);
    expect(r!.m).toBe(r!.n);
    expect(Number(r!.cancelled)).toBeGreaterThan(0);
  });

  it('adds seats to growers, drops churners with their customer, subscribes arrivals, and every row passes the contract', async () => {
    const rows = await queryRows(
      conn,
      `SELECT m.movement, count(DISTINCT l.customer_id) AS customers, count(*) FILTER (WHERE l.end_date IS NULL) AS active, count(l.customer_id) AS rows
       FROM moves m LEFT JOIN later l USING (customer_id) GROUP BY m.movement ORDER BY m.movement`,
    );
    const by = Object.fromEntries(rows.map((r) => [String(r.movement), r]));
    expect(by.churned!.rows).toBe(0);
    expect(Number(by.new!.customers)).toBeGreaterThan(0);
    // A grower whose active period began before the new period (moved forward: before 2026-09-30,
    // the base as-of date) adds seats on a day of the new period; one that had cancelled has nothing to grow.
    const [g] = await queryRows(
      conn,
      `SELECT count(*) AS growers, count(*) FILTER (WHERE now_seats > before_seats) AS added FROM (
         SELECT m.customer_id, (SELECT sum(seats) FROM later l WHERE l.customer_id = m.customer_id AND l.end_date IS NULL) AS now_seats,
                (SELECT sum(seats) FROM subs s WHERE s.customer_id = m.customer_id AND s.end_date IS NULL AND s.start_date + 91 < DATE '2026-09-30') AS before_seats
         FROM moves m WHERE m.movement = 'grew') WHERE before_seats IS NOT NULL`,
    );
    expect(Number(g!.growers)).toBeGreaterThan(10);
    expect(g!.added).toBe(g!.growers);
    const c = await openDuck();
    try {
      const result = await ingest(c, later, defaultIngestParams, null, quietLogger);
      expect(result.tables.subscriptions!.quarantined).toBe(0);
    } finally {
      c.closeSync();
    }
  });
});
