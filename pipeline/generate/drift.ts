import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { InputError } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import { deriveSeed } from '../core/random.ts';
import { epochDay } from './customers.ts';
import { createBaseViews, readBaseCustomers, readBaseManifest } from './drift-base.ts';
import { arrivalDraws, drawMove, type Move } from './drift-moves.ts';
import { drawTakeUps } from './drift-takeup.ts';
import { defaultDriftParams, MOVEMENTS, SHIFTED_FEATURES, validateDriftParams, type DriftParams, type Movement } from './drift-params.ts';
import { writeDriftSubscriptions } from './drift-subscriptions.ts';
import { DRIFT_TMP_NAMES, tmpPath, writeActivity, writeCustomerTable, writeMovements, writeTruth, type SnapshotTarget } from './drift-write.ts';
import { GENERATE_MANIFEST_KIND, GENERATE_MANIFEST_VERSION, type Format, type GenerateParams } from './generate.ts';

/**
 * `finseg generate --drift`: a second snapshot of a generated customer base some months later,
 * for testing retraining. Time passes for everyone; on top of that some customers grow, some
 * decline, small firms (the small retailers first) go mobile, a few churn and new customers
 * arrive. Every customer's movement is written to movements.csv, so tests can check what
 * retraining sees.
 *
 * How the later snapshot is built (and why): every surviving customer's history is the base
 * snapshot's, moved forward by the elapsed days, so an unchanged customer's windowed behaviour
 * (the last 90 days, the 90 before) is exactly what it was and only its tenure grows. Redrawing
 * an unchanged customer's quarter instead would add sampling noise that alone moves about one
 * customer in nine to another segment under the same model (measured on 5,000 customers), which
 * would hide the movements the snapshot exists to show. For a customer whose use changes (an
 * archetype switch, a mobile adopter) the last `months` of events are replaced by events drawn
 * from its new behaviour, so its recent window shows the change and the window before it shows
 * where it came from; a mover whose books change has its recent transactions replaced likewise.
 * Reads the base from its files and truth.csv, so it works on any `finseg generate` folder.
 */

export { DEFAULT_MOVEMENT_RULES, defaultDriftParams, MOVEMENTS, SHIFTED_FEATURES, type DriftParams, type Movement, type MovementRule } from './drift-params.ts';

/** Summary of a drifted snapshot, also recorded in its generate.json under `drift`. */
export interface DriftSummary {
  kind: 'finseg.drift';
  version: 1;
  from: string;
  dir: string;
  format: Format;
  asOfBefore: string;
  asOf: string;
  elapsedDays: number;
  params: DriftParams;
  /** Customers per movement. */
  counts: Record<Movement, number>;
  shiftedFeatures: Record<string, string>;
  rows: { customers: number; usage_events: number; transactions: number; subscriptions?: number };
}

/** `date` plus `months` calendar months, clamped to the end of a shorter month ('2026-01-31' + 1 → '2026-02-28'). */
export function addMonths(date: string, months: number): string {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const target = new Date(Date.UTC(y, m - 1 + months, 1));
  const lastDay = new Date(Date.UTC(target.getUTCFullYear(), target.getUTCMonth() + 1, 0)).getUTCDate();
  target.setUTCDate(Math.min(d, lastDay));
  return target.toISOString().slice(0, 10);
}

/**
 * Writes the later snapshot of `baseDir` (a `finseg generate` folder) into `outDir`: the three
 * contract tables, truth.csv (each customer's archetype now), movements.csv (customer_id,
 * movement, archetype_before, archetype_after) and generate.json with a `drift` section.
 */
export async function generateDriftSnapshot(baseDir: string, outDir: string, options: Partial<DriftParams>, logger: Logger, format?: Format): Promise<DriftSummary> {
  const base = readBaseManifest(baseDir);
  const params: DriftParams = { ...defaultDriftParams, seed: deriveSeed(base.params.seed, 'drift'), ...options };
  validateDriftParams(params);
  const outFormat = format ?? base.format;
  const dir = resolve(outDir);
  if (dir === resolve(baseDir)) throw new InputError('--out must differ from --from: the base snapshot is read while the new one is written');
  mkdirSync(dir, { recursive: true });
  const asOfBefore = base.params.asOf;
  const asOf = addMonths(asOfBefore, params.months);
  const periodStart = epochDay(asOfBefore);
  const periodEnd = epochDay(asOf);
  const elapsedDays = periodEnd - periodStart;

  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  const target: SnapshotTarget = { conn, dir, format: outFormat, asOfBefore, periodStart, periodEnd, seed: params.seed };
  try {
    await createBaseViews(conn, baseDir, base.format);
    const customers = await readBaseCustomers(conn, baseDir, asOfBefore, elapsedDays);
    logger.info(`generate --drift: ${customers.length} base customers, ${params.months} months later (${asOf})`);
    const moves = customers.map((c) => drawMove(c, params));
    const arrivals = arrivalDraws(Math.round(params.newCustomerRate * customers.length), params.seed, base.params, lastIdNumber(customers, base.params.idPrefix), periodStart, periodEnd);
    await writeMovements(target, customers, moves, arrivals);
    const moverIdx = moves.flatMap((m, i) => (m.movement === 'grew' || m.movement === 'declined' || m.movement === 'adopted_mobile' ? [i] : []));
    const takeUps = drawTakeUps(customers, moves, params.takeUpRate, params.seed);
    if (takeUps.length) writeFileSync(join(dir, 'take_ups.csv'), `customer_id,module\n${takeUps.map((u) => `${u.id},${u.module}\n`).join('')}`);
    const activity = await writeActivity(target, customers, moves, moverIdx, arrivals, takeUps);
    const customerRows = await writeCustomerTable(target, customers, moves, moverIdx, arrivals);
    await writeTruth(target);
    const subscriptions = await writeDriftSubscriptions(target, baseDir, base.format, customers, moves, arrivals);

    const rows = { customers: customerRows, usage_events: activity.usage_events, transactions: activity.transactions, ...(subscriptions === null ? {} : { subscriptions }) };
    const summary: DriftSummary = {
      kind: 'finseg.drift',
      version: 1,
      from: resolve(baseDir),
      dir,
      format: outFormat,
      asOfBefore,
      asOf,
      elapsedDays,
      params,
      counts: movementCounts(moves, arrivals.n),
      shiftedFeatures: { ...SHIFTED_FEATURES },
      rows,
    };
    writeDriftManifest(base.params, summary);
    logger.info(`generate --drift: ${Object.entries(summary.counts).map(([m, n]) => `${m} ${n}`).join(', ')} → ${dir}`);
    return summary;
  } finally {
    conn.closeSync();
    instance.closeSync();
    for (const name of DRIFT_TMP_NAMES) rmSync(tmpPath(dir, name), { force: true });
  }
}

/**
 * The highest number among the base's ids (`<prefix><digits>`), at least their count: arrivals
 * are numbered after it. A base that is itself a drifted snapshot has lost its churners, so its
 * count is below its highest id, and numbering from the count would reuse a live customer's id.
 */
export function lastIdNumber(customers: readonly { id: string }[], prefix: string): number {
  let last = customers.length;
  for (const c of customers) {
    if (!c.id.startsWith(prefix)) continue;
    const digits = c.id.slice(prefix.length);
    if (/^\d+$/.test(digits)) last = Math.max(last, Number(digits));
  }
  return last;
}

/** Customers per movement, the arrivals counted as `new`. */
function movementCounts(moves: readonly Move[], arrivals: number): Record<Movement, number> {
  const counts = Object.fromEntries(MOVEMENTS.map((m) => [m, 0])) as Record<Movement, number>;
  for (const m of moves) counts[m.movement]++;
  counts.new = arrivals;
  return counts;
}

/** Writes the snapshot's generate.json: the base's params moved to the new as-of date and size, and the drift summary. */
function writeDriftManifest(baseParams: GenerateParams, summary: DriftSummary): void {
  const { dir, format: outFormat, asOf, rows } = summary;
  const tables = ['customers', 'usage_events', 'transactions', ...(rows.subscriptions === undefined ? [] : ['subscriptions'])];
  const truths = rows.subscriptions === undefined ? [] : [join(dir, 'subscriptions_truth.csv')];
  const files = [...tables.map((t) => join(dir, `${t}.${outFormat}`)), join(dir, 'truth.csv'), ...truths, join(dir, 'movements.csv'), join(dir, 'generate.json')];
  const manifest = {
    kind: GENERATE_MANIFEST_KIND,
    formatVersion: GENERATE_MANIFEST_VERSION,
    // A later drift can start from this snapshot: its params describe it (as-of date, size).
    params: { ...baseParams, asOf, customers: rows.customers } satisfies GenerateParams,
    summary: { dir, format: outFormat, rows, seed: baseParams.seed, files },
    drift: summary,
  };
  writeFileSync(join(dir, 'generate.json'), `${JSON.stringify(manifest, null, 2)}\n`);
}
