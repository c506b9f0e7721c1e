/**
 * Writing the drifted snapshot: movements.csv (also the join table that decides whose rows are
 * kept, moved or replaced), the three contract tables and truth.csv. Rows drawn in JS go through
 * temporary CSV files that DuckDB merges with the base rows, moved forward.
 */
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { queryRows, sqlString } from '../core/duck.ts';
import { deriveSeed, makeRng, type Rng } from '../core/random.ts';
import { ARCHETYPE_NAMES } from './archetypes.ts';
import type { CustomerDraws } from './customers.ts';
import { csvSource } from './drift-base.ts';
import { firmographicsRow, moverDraws, redrawsEvents, type BaseCustomer, type Move } from './drift-moves.ts';
import { DECLINE, GROWTH } from './drift-params.ts';
import type { Format } from './generate.ts';
import { CsvFile, writeCustomers, writeTransactions, writeUsageEvents } from './rows.ts';
import { uniform } from './sampling.ts';
import { takenUpModuleSql, type TakeUp } from './drift-takeup.ts';

/** Where and for which period a drifted snapshot is written. */
export interface SnapshotTarget {
  conn: DuckDBConnection;
  /** Output folder, and the format of its contract tables. */
  dir: string;
  format: Format;
  /** The base snapshot's as-of date; the new period runs from its epoch day (periodStart) to the new as-of's (periodEnd). */
  asOfBefore: string;
  periodStart: number;
  periodEnd: number;
  /** The drift seed. */
  seed: number;
}

/** The temporary CSV files of a snapshot, removed once it is written. */
export const DRIFT_TMP_NAMES = ['mover-events', 'arrival-events', 'arrival-transactions', 'mover-transactions', 'changes', 'arrival-customers', 'take-ups'] as const;
type TmpName = (typeof DRIFT_TMP_NAMES)[number];

/** Path of a temporary CSV file in the output folder. */
export function tmpPath(dir: string, name: TmpName): string {
  return join(dir, `.drift-${name}.csv`);
}

/** Writes movements.csv and loads it as the table `moves`, with `redraw` set for archetype switches and mobile adopters. */
export async function writeMovements(t: SnapshotTarget, customers: readonly BaseCustomer[], moves: readonly Move[], arrivals: CustomerDraws): Promise<void> {
  const { conn, dir } = t;
  // movements.csv doubles as the join table that decides whose rows are kept, moved or replaced.
  writeCsv(join(dir, 'movements.csv'), (out) => {
    out.write('customer_id,movement,archetype_before,archetype_after\n');
    customers.forEach((c, i) => {
      const { movement, becomes } = moves[i]!;
      out.write(`${c.id},${movement},${c.archetype},${movement === 'churned' ? '' : (becomes ?? c.archetype)}\n`);
    });
    for (let i = 0; i < arrivals.n; i++) out.write(`${arrivals.ids[i]},new,,${ARCHETYPE_NAMES[arrivals.archetype[i]!]}\n`);
  });
  await conn.run(`CREATE TABLE moves AS SELECT * FROM read_csv(${sqlString(join(dir, 'movements.csv'))}, header = true, all_varchar = true)`);
  // Whose events of the new period are redrawn: archetype switches and mobile adopters.
  await conn.run(`ALTER TABLE moves ADD COLUMN redraw BOOLEAN`);
  await conn.run(`UPDATE moves SET redraw = movement = 'adopted_mobile' OR (movement IN ('grew', 'declined') AND archetype_before <> archetype_after)`);
}

/**
 * Writes usage_events and transactions: every surviving customer's history moved forward, a
 * mover's last months replaced by the new-period rows (movers' new behaviour, arrivals' first
 * months). `moverIdx` lists the customers that grew, declined or adopted mobile. Returns the row counts.
 */
export async function writeActivity(t: SnapshotTarget, customers: readonly BaseCustomer[], moves: readonly Move[], moverIdx: readonly number[], arrivals: CustomerDraws, takeUps: readonly TakeUp[] = []): Promise<{ usage_events: number; transactions: number }> {
  const { conn, dir, format: outFormat, asOfBefore, periodStart, periodEnd } = t;
  const tmp = (name: TmpName) => tmpPath(dir, name);
  const redrawIdx = moverIdx.filter((i) => redrawsEvents(moves[i]!));
  const movers = moverDraws(redrawIdx.map((i) => customers[i]!), redrawIdx.map((i) => moves[i]!), t.seed, periodStart, periodEnd);
  const rowSeed = deriveSeed(t.seed, 'new-period-rows');
  writeCsv(tmp('mover-events'), (out) => writeUsageEvents(movers, rowSeed, periodStart, periodEnd - 1, out));
  writeCsv(tmp('arrival-events'), (out) => writeUsageEvents(arrivals, rowSeed, periodStart, periodEnd - 1, out));
  writeCsv(tmp('arrival-transactions'), (out) => writeTransactions(arrivals, rowSeed, periodStart, periodEnd - 1, out));
  await newPeriodTransactions(conn, tmp('mover-transactions'), movers, rowSeed, t.seed, asOfBefore, periodStart, periodEnd);

  const elapsedDays = periodEnd - periodStart;
  const shift = `INTERVAL ${elapsedDays} DAY`;
  const periodFrom = `(TIMESTAMP ${sqlString(asOfBefore)} - ${shift})`;
  const rows = { usage_events: 0, transactions: 0 };
  if (takeUps.length) {
    writeCsv(tmp('take-ups'), (out) => {
      out.write('customer_id,taken\n');
      for (const u of takeUps) out.write(`${u.id},${u.module}\n`);
    });
    await conn.run(`CREATE OR REPLACE TABLE take_ups AS SELECT * FROM read_csv(${sqlString(tmp('take-ups'))}, header = true, all_varchar = true)`);
  }
  rows.usage_events = await copyOut(
    conn,
    `SELECT customer_id, ts + ${shift} AS ts, ${takenUpModuleSql(periodFrom, takeUps.length > 0)} AS module, device, user_id, "count"
       FROM base_events JOIN moves m USING (customer_id)${takeUps.length ? ' LEFT JOIN take_ups tu USING (customer_id)' : ''}
       WHERE m.movement <> 'churned' AND (NOT m.redraw OR ts < ${periodFrom})
     UNION ALL SELECT * FROM ${csvSource(tmp('mover-events'), 'usage_events')}
     UNION ALL SELECT * FROM ${csvSource(tmp('arrival-events'), 'usage_events')}
     ORDER BY customer_id, ts, module, device, user_id, "count"`,
    join(dir, `usage_events.${outFormat}`),
    outFormat,
  );
  // Mobile adopters pay as they did; growers' and decliners' new-period transactions are replaced.
  rows.transactions = await copyOut(
    conn,
    `SELECT customer_id, ts + ${shift} AS ts, amount, currency, kind FROM base_transactions JOIN moves m USING (customer_id)
       WHERE m.movement IN ('unchanged', 'adopted_mobile') OR (m.movement IN ('grew', 'declined') AND ts < ${periodFrom})
     UNION ALL SELECT * FROM ${csvSource(tmp('mover-transactions'), 'transactions')}
     UNION ALL SELECT * FROM ${csvSource(tmp('arrival-transactions'), 'transactions')}
     ORDER BY customer_id, ts, amount, currency, kind`,
    join(dir, `transactions.${outFormat}`),
    outFormat,
  );
  return rows;
}

/** Writes customers: survivors with the movers' changed firmographics, then the arrivals. Returns the row count. */
export async function writeCustomerTable(t: SnapshotTarget, customers: readonly BaseCustomer[], moves: readonly Move[], moverIdx: readonly number[], arrivals: CustomerDraws): Promise<number> {
  const { conn, dir, format: outFormat } = t;
  const tmp = (name: TmpName) => tmpPath(dir, name);
  writeCsv(tmp('changes'), (out) => {
    out.write('customer_id,employees,annual_revenue,edition\n');
    for (const i of moverIdx) out.write(firmographicsRow(customers[i]!, moves[i]!, t.seed));
  });
  writeCsv(tmp('arrival-customers'), (out) => writeCustomers(arrivals, out));
  return copyOut(
    conn,
    `SELECT c.customer_id, c.signup_date, c.industry,
            CASE WHEN ch.customer_id IS NULL THEN c.employees ELSE TRY_CAST(ch.employees AS INTEGER) END AS employees,
            CASE WHEN ch.customer_id IS NULL THEN c.annual_revenue ELSE TRY_CAST(ch.annual_revenue AS DOUBLE) END AS annual_revenue,
            c.founded_year, c.region, c.deployment,
            CASE WHEN ch.customer_id IS NULL THEN c.edition ELSE nullif(ch.edition, '') END AS edition,
            c.buyer_role
     FROM base_customers c JOIN moves m USING (customer_id)
     LEFT JOIN read_csv(${sqlString(tmp('changes'))}, header = true, all_varchar = true) ch USING (customer_id)
     WHERE m.movement <> 'churned'
     UNION ALL SELECT * FROM ${csvSource(tmp('arrival-customers'), 'customers')}
     ORDER BY customer_id`,
    join(dir, `customers.${outFormat}`),
    outFormat,
  );
}

/** Writes truth.csv: each surviving or new customer's archetype now. */
export async function writeTruth(t: SnapshotTarget): Promise<void> {
  await t.conn.run(
    `COPY (SELECT customer_id, archetype_after AS archetype FROM moves WHERE movement <> 'churned' ORDER BY customer_id)
     TO ${sqlString(join(t.dir, 'truth.csv'))} (FORMAT csv, HEADER true)`,
  );
}

async function copyOut(conn: DuckDBConnection, select: string, path: string, format: Format): Promise<number> {
  const options = format === 'parquet' ? '(FORMAT parquet, COMPRESSION zstd)' : `(FORMAT csv, HEADER true, DATEFORMAT '%Y-%m-%d', TIMESTAMPFORMAT '%Y-%m-%d %H:%M:%S')`;
  await conn.run(`COPY (${select}) TO ${sqlString(path)} ${options}`);
  const rows = await queryRows(conn, `SELECT count(*) AS n FROM (${select})`);
  return Number(rows[0]!.n);
}

function writeCsv(path: string, body: (out: CsvFile) => void): void {
  const out = new CsvFile(path);
  try {
    body(out);
  } finally {
    out.close();
  }
}

/**
 * The movers' transactions in the new period, into one CSV: a grower that switched archetype
 * draws them from its new archetype (GROWTH.transactions × its recent count); an in-place grower
 * repeats its own recent transactions GROWTH.transactions times on average (copies a few days
 * apart, amounts varied by ±20%), so its amounts, kinds and currencies keep their profile; a
 * decliner keeps each of its own recent transactions with a probability falling linearly from
 * DECLINE.transactionsKeepStart to …KeepEnd across the period. All moved forward like the rest.
 */
async function newPeriodTransactions(
  conn: DuckDBConnection,
  path: string,
  movers: CustomerDraws,
  rowSeed: number,
  seed: number,
  asOfBefore: string,
  periodStart: number,
  periodEnd: number,
): Promise<void> {
  const elapsedDays = periodEnd - periodStart;
  const out = new CsvFile(path);
  try {
    // Only switched growers have transactionRows > 0; the writer skips everyone else.
    writeTransactions(movers, rowSeed, periodStart, periodEnd - 1, out);
    const periodFrom = `(TIMESTAMP ${sqlString(asOfBefore)} - INTERVAL ${elapsedDays} DAY)`;
    const recent = await queryRows(
      conn,
      `SELECT customer_id, m.movement, m.archetype_before = m.archetype_after AS in_place,
              epoch(ts) + ${elapsedDays * 86_400} AS seconds, amount, currency, kind,
              date_diff('second', ${periodFrom}, ts) / ${elapsedDays * 86_400}.0 AS position
       FROM base_transactions JOIN moves m USING (customer_id)
       WHERE m.movement IN ('grew', 'declined') AND ts >= ${periodFrom}
       ORDER BY customer_id, ts, amount, currency, kind`,
    );
    const first = periodStart * 86_400;
    const last = periodEnd * 86_400 - 1;
    let rng: Rng | null = null;
    let current = '';
    for (const r of recent) {
      if (r.movement === 'grew' && !r.in_place) continue;
      const id = String(r.customer_id);
      if (id !== current) {
        current = id;
        rng = makeRng(deriveSeed(seed, `${id}:recent-transactions`));
      }
      const line = (seconds: number, amount: number) =>
        out.write(`${id},${new Date(Math.min(last, Math.max(first, Math.round(seconds))) * 1000).toISOString().slice(0, 19).replace('T', ' ')},${amount.toFixed(2)},${r.currency ?? ''},${r.kind ?? ''}\n`);
      const amount = Number(r.amount);
      if (r.movement === 'declined') {
        const keep = DECLINE.transactionsKeepStart + (DECLINE.transactionsKeepEnd - DECLINE.transactionsKeepStart) * Number(r.position);
        if (rng!.next() < keep) line(Number(r.seconds), amount);
        continue;
      }
      const copies = Math.floor(GROWTH.transactions) + (rng!.next() < GROWTH.transactions % 1 ? 1 : 0);
      line(Number(r.seconds), amount);
      for (let c = 1; c < copies; c++) {
        const jitter = uniform(rng!, -3, 3) * 86_400;
        const varied = Math.sign(amount) * Math.max(0.01, Math.abs(amount) * uniform(rng!, 0.8, 1.2));
        line(Number(r.seconds) + jitter, varied);
      }
    }
  } finally {
    out.close();
  }
}
