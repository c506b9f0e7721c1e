import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { DEVICES, MODULES } from '../01-ingest/contract.ts';
import { queryRows, sqlString } from '../core/duck.ts';
import { InputError } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import { deriveSeed, makeRng, type Rng } from '../core/random.ts';
import { ARCHETYPE_NAMES, EDITIONS, type ArchetypeName } from './archetypes.ts';
import { allocDraws, COMPILED_ARCHETYPES, drawCustomers, epochDay, type CustomerDraws } from './customers.ts';
import { csvColumns, GENERATE_MANIFEST_KIND, GENERATE_MANIFEST_VERSION, type Format, type GenerateParams } from './generate.ts';
import { CsvFile, writeCustomers, writeTransactions, writeUsageEvents } from './rows.ts';
import { cumulative, dirichletInto, uniform } from './sampling.ts';

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

/** What happened to a customer between the two snapshots. */
export const MOVEMENTS = ['unchanged', 'grew', 'declined', 'adopted_mobile', 'churned', 'new'] as const;
export type Movement = (typeof MOVEMENTS)[number];

/**
 * One way customers move: `share` of the active customers of `archetypes` (null = every
 * archetype) take `movement`, and take on another archetype's behaviour when `becomes` is set.
 * Rules apply in order to each customer with one uniform draw, so their shares add up per archetype.
 */
export interface MovementRule {
  movement: 'grew' | 'declined' | 'adopted_mobile';
  archetypes: ArchetypeName[] | null;
  share: number;
  becomes: ArchetypeName | null;
}

/** Settings of the drifted snapshot. */
export interface DriftParams {
  /** Months between the base snapshot's as-of date and this one. Default 3. */
  months: number;
  /** Seeds the movements and every draw of the new period. Default: derived from the base seed. */
  seed: number;
  /** Share of all customers that churn (their rows leave the extract). Default 0.03. */
  churnRate: number;
  /** New customers, as a share of the base count; they sign up during the elapsed months. Default 0.06. */
  newCustomerRate: number;
  rules: MovementRule[];
}

/**
 * The default movements. Micro firms growing into SMEs and manufacturers declining into
 * basics change archetype, so their migration has a known destination. The mobile app spreads
 * from the small retailers (mobile-heavy already) to the web-heavy small firms: growing SMEs,
 * clinics and construction firms. The adoption is broad on purpose: PSI over deciles flags a
 * shift only when about a fifth of the base moves across bins (measured on 5,000 customers: a
 * random fifth going mobile gives 0.24, a random fifth tripling its events 0.05), whereas the
 * growth and decline of under a tenth of the base each stay below PSI 0.1 on every feature and
 * show in the migration matrix instead.
 */
export const DEFAULT_MOVEMENT_RULES: readonly MovementRule[] = [
  { movement: 'grew', archetypes: ['new_micro_services'], share: 0.25, becomes: 'growing_sme' },
  { movement: 'declined', archetypes: ['midsize_manufacturer'], share: 0.25, becomes: 'declining_firm' },
  { movement: 'adopted_mobile', archetypes: ['small_retail_mobile', 'growing_sme', 'clinic', 'construction_contractor'], share: 0.8, becomes: null },
];

/** Default settings (the seed defaults to one derived from the base seed when left null). */
export const defaultDriftParams: Omit<DriftParams, 'seed'> & { seed: number | null } = {
  months: 3,
  seed: null,
  churnRate: 0.03,
  newCustomerRate: 0.06,
  rules: DEFAULT_MOVEMENT_RULES.map((r) => ({ ...r })),
};

/**
 * How movers change, documented once here. A grower that switches archetype draws events and
 * transactions from its new archetype at GROWTH.switchedEvents / .transactions times its recent
 * rate, with GROWTH.users times the users; a decliner that switches draws DECLINE.events of its
 * recent events on a falling trend. Every grower books GROWTH.transactions times its recent
 * transactions and every decliner keeps a falling share of them; a rule without `becomes`
 * (growth or decline in place) changes only the books, not the product use.
 */
const GROWTH = { switchedEvents: 3, users: 2, transactions: 2.5, employees: [2, 4] as const, revenuePerEmployee: 1.2, trend: 2.2 };
const DECLINE = { events: 0.3, transactionsKeepStart: 0.6, transactionsKeepEnd: 0.1, employees: 0.8, trend: -3 };
/** Share of a customer's web (browser) use that moves to the mobile app when it adopts mobile; desktop-client and API use stay. */
const WEB_TO_MOBILE = 0.95;
const MODULE_CONCENTRATION = 60;
const DEVICE_CONCENTRATION = 30;

/**
 * The catalog features whose population distribution the movements shift by design, which a
 * drift check should flag, with the movement that shifts each. Every other feature keeps its
 * distribution up to the churn and the arrivals (each a few percent of the base) and the
 * archetype switches (under a tenth of the base each), which move individual customers but no
 * feature's deciles much.
 */
export const SHIFTED_FEATURES: Readonly<Record<string, string>> = {
  device_mobile_share: 'retailers, growing SMEs, clinics and construction firms move their browser use to the mobile app',
};

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
  rows: { customers: number; usage_events: number; transactions: number };
}

const ARCHETYPE_INDEX = new Map<string, number>(ARCHETYPE_NAMES.map((n, i) => [n, i]));

/** `date` plus `months` calendar months, clamped to the end of a shorter month ('2026-01-31' + 1 → '2026-02-28'). */
export function addMonths(date: string, months: number): string {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const target = new Date(Date.UTC(y, m - 1 + months, 1));
  const lastDay = new Date(Date.UTC(target.getUTCFullYear(), target.getUTCMonth() + 1, 0)).getUTCDate();
  target.setUTCDate(Math.min(d, lastDay));
  return target.toISOString().slice(0, 10);
}

/** A base customer's observed behaviour, read from the base snapshot. */
interface BaseCustomer {
  id: string;
  archetype: ArchetypeName;
  /** Event rows and transactions in the last `elapsedDays` of the base history. */
  recentEvents: number;
  recentTransactions: number;
  users: number;
  /** Event rows per module and per device over the whole base history, shapes (MODULES.length) and (DEVICES.length). */
  moduleCounts: number[];
  deviceCounts: number[];
  employees: number | null;
  annualRevenue: number | null;
  edition: string | null;
}

/** A customer's movement and, for an archetype switch, the archetype it now behaves like. */
interface Move {
  movement: Movement;
  becomes: ArchetypeName | null;
}

function readBaseManifest(baseDir: string): { params: GenerateParams; format: Format } {
  const path = join(baseDir, 'generate.json');
  if (!existsSync(path)) throw new InputError(`--from ${baseDir}: no generate.json there`, ['--drift needs a folder written by finseg generate']);
  const json = JSON.parse(readFileSync(path, 'utf8')) as { kind?: string; formatVersion?: number; params?: GenerateParams; summary?: { format?: Format } };
  if (json.kind !== GENERATE_MANIFEST_KIND || json.formatVersion !== GENERATE_MANIFEST_VERSION || !json.params) {
    throw new InputError(`${path} is not a finseg generate manifest (format ${GENERATE_MANIFEST_VERSION})`);
  }
  if (!existsSync(join(baseDir, 'truth.csv'))) throw new InputError(`--from ${baseDir}: no truth.csv there`, ['the movements are drawn per archetype, which truth.csv records']);
  return { params: json.params, format: json.summary?.format ?? 'parquet' };
}

function tableSource(dir: string, table: 'customers' | 'usage_events' | 'transactions', format: Format): string {
  const path = join(dir, `${table}.${format}`);
  if (!existsSync(path)) throw new InputError(`--from ${dir}: ${table}.${format} is missing`);
  return format === 'parquet' ? `read_parquet(${sqlString(path)})` : csvSource(path, table);
}

function csvSource(path: string, table: 'customers' | 'usage_events' | 'transactions'): string {
  return `read_csv(${sqlString(path)}, header = true, nullstr = '', dateformat = '%Y-%m-%d', timestampformat = '%Y-%m-%d %H:%M:%S', columns = ${csvColumns(table)})`;
}

async function readBaseCustomers(conn: DuckDBConnection, baseDir: string, asOf: string, elapsedDays: number): Promise<BaseCustomer[]> {
  const recentFrom = `(TIMESTAMP ${sqlString(asOf)} - INTERVAL ${elapsedDays} DAY)`;
  const moduleCols = MODULES.map((m) => `count(*) FILTER (WHERE module = ${sqlString(m)}) AS "m_${m}"`);
  const deviceCols = DEVICES.map((d) => `count(*) FILTER (WHERE device = ${sqlString(d)}) AS "d_${d}"`);
  const rows = await queryRows(
    conn,
    `WITH ev AS (SELECT customer_id, count(*) FILTER (WHERE ts >= ${recentFrom}) AS recent_events, count(DISTINCT user_id) AS users,
                        ${[...moduleCols, ...deviceCols].join(', ')}
                 FROM base_events GROUP BY customer_id),
          tx AS (SELECT customer_id, count(*) FILTER (WHERE ts >= ${recentFrom}) AS recent_transactions FROM base_transactions GROUP BY customer_id),
          truth AS (SELECT * FROM read_csv(${sqlString(join(baseDir, 'truth.csv'))}, header = true, all_varchar = true))
     SELECT c.customer_id, t.archetype, c.employees, c.annual_revenue, c.edition,
            coalesce(ev.recent_events, 0) AS recent_events, coalesce(ev.users, 0) AS users,
            coalesce(tx.recent_transactions, 0) AS recent_transactions,
            ${[...MODULES.map((m) => `m_${m}`), ...DEVICES.map((d) => `d_${d}`)].map((c) => `coalesce(ev."${c}", 0) AS "${c}"`).join(', ')}
     FROM base_customers c JOIN truth t USING (customer_id) LEFT JOIN ev USING (customer_id) LEFT JOIN tx USING (customer_id)
     ORDER BY c.customer_id`,
  );
  return rows.map((r) => {
    const archetype = String(r.archetype) as ArchetypeName;
    if (!ARCHETYPE_INDEX.has(archetype)) throw new InputError(`truth.csv: unknown archetype ${JSON.stringify(r.archetype)} for ${String(r.customer_id)}`);
    return {
      id: String(r.customer_id),
      archetype,
      recentEvents: Number(r.recent_events),
      recentTransactions: Number(r.recent_transactions),
      users: Math.max(1, Number(r.users)),
      moduleCounts: MODULES.map((m) => Number(r[`m_${m}`])),
      deviceCounts: DEVICES.map((d) => Number(r[`d_${d}`])),
      employees: r.employees === null ? null : Number(r.employees),
      annualRevenue: r.annual_revenue === null ? null : Number(r.annual_revenue),
      edition: r.edition === null ? null : String(r.edition),
    };
  });
}

/** Draws each base customer's movement from its own stream, so one customer's draw never shifts another's. */
function drawMove(c: BaseCustomer, params: DriftParams): Move {
  const rng = makeRng(deriveSeed(params.seed, `${c.id}:movement`));
  if (rng.next() < params.churnRate) return { movement: 'churned', becomes: null };
  const u = rng.next();
  // Only customers active in the recent months can visibly change how they use the product.
  if (c.recentEvents === 0) return { movement: 'unchanged', becomes: null };
  let cumulativeShare = 0;
  for (const rule of params.rules) {
    if (rule.archetypes !== null && !rule.archetypes.includes(c.archetype)) continue;
    cumulativeShare += rule.share;
    if (u < cumulativeShare) return { movement: rule.movement, becomes: rule.becomes };
  }
  return { movement: 'unchanged', becomes: null };
}

const API_DEVICE = DEVICES.indexOf('api');

/** A Dirichlet draw around `mean` stored as a cumulative distribution in row `row` of `cdf`; returns the mix. */
function drawMixInto(rng: Rng, mean: ArrayLike<number>, concentration: number, cdf: Float64Array, row: number): Float64Array {
  const mix = new Float64Array(mean.length);
  dirichletInto(rng, mean, concentration, mix);
  cdf.set(cumulative(mix), row * mean.length);
  return mix;
}

/** A customer's own observed mix (counts plus a small floor, so no option becomes impossible) stored in row `row` of `cdf`. */
function observedMixInto(counts: readonly number[], cdf: Float64Array, row: number): Float64Array {
  const total = counts.reduce((s, x) => s + x, 0) || 1;
  const mix = Float64Array.from(counts, (x) => x / total + 0.002);
  cdf.set(cumulative(mix), row * counts.length);
  return mix;
}

/** Whether a move redraws the customer's events of the new period (the others keep their history, moved forward). */
function redrawsEvents(m: Move): boolean {
  return m.becomes !== null || m.movement === 'adopted_mobile';
}

/**
 * The new period's event behaviour of the customers whose use changes. An archetype switch takes
 * the new archetype's module and device mix and volume (growers GROWTH.switchedEvents, decliners
 * DECLINE.events times their recent rate) and trend; a mobile adopter keeps its own observed
 * module mix and volume and moves WEB_TO_MOBILE of its web use to mobile.
 */
function moverDraws(movers: readonly BaseCustomer[], moves: readonly Move[], seed: number, periodStart: number, periodEnd: number): CustomerDraws {
  const draws = allocDraws(movers.length);
  const web = DEVICES.indexOf('web');
  const mobile = DEVICES.indexOf('mobile');
  movers.forEach((c, i) => {
    const rng = makeRng(deriveSeed(seed, `${c.id}:new-period`));
    const { movement, becomes } = moves[i]!;
    draws.ids[i] = c.id;
    draws.archetype[i] = ARCHETYPE_INDEX.get(becomes ?? c.archetype)!;
    draws.activeStart[i] = periodStart;
    draws.activeEnd[i] = periodEnd;
    draws.users[i] = c.users;
    let deviceMix: Float64Array;
    if (becomes !== null) {
      const target = COMPILED_ARCHETYPES[ARCHETYPE_INDEX.get(becomes)!]!;
      const grew = movement === 'grew';
      draws.users[i] = grew ? Math.round(c.users * GROWTH.users) : c.users;
      draws.eventRows[i] = c.recentEvents * (grew ? GROWTH.switchedEvents : DECLINE.events);
      draws.trend[i] = grew ? GROWTH.trend : DECLINE.trend;
      drawMixInto(rng, target.moduleProfile, MODULE_CONCENTRATION, draws.moduleCdf, i);
      deviceMix = drawMixInto(rng, target.deviceProfile, DEVICE_CONCENTRATION, draws.deviceCdf, i);
      if (grew) {
        // Only switched growers draw transactions (see newPeriodTransactions); zero rows elsewhere.
        draws.transactionRows[i] = Math.max(1, c.recentTransactions) * GROWTH.transactions;
        draws.amountScale[i] = target.spec.amount.median * Math.exp(0.3 * rng.normal());
        draws.refundRate[i] = target.spec.refundRate;
        draws.foreignShare[i] = Math.min(0.9, target.spec.foreign.share * Math.exp(0.5 * rng.normal()));
      }
    } else {
      draws.eventRows[i] = c.recentEvents;
      observedMixInto(c.moduleCounts, draws.moduleCdf, i);
      const devices = [...c.deviceCounts];
      devices[mobile] = devices[mobile]! + WEB_TO_MOBILE * devices[web]!;
      devices[web] = (1 - WEB_TO_MOBILE) * devices[web]!;
      deviceMix = observedMixInto(devices, draws.deviceCdf, i);
    }
    draws.offHoursShare[i] = Math.min(0.9, deviceMix[API_DEVICE]! / deviceMix.reduce((s, x) => s + x, 0) + 0.03);
  });
  return draws;
}

/**
 * New customers: drawn like any generated customer (from the archetype mix, with their own seed
 * stream), then signed up on a day of the elapsed months, active from then on at their drawn
 * daily rate, with ids continuing the base numbering.
 */
function arrivalDraws(count: number, seed: number, base: GenerateParams, baseCount: number, periodStart: number, periodEnd: number): CustomerDraws {
  const draws = drawCustomers({
    seed: deriveSeed(seed, 'arrivals'),
    customers: count,
    eventsPerCustomer: base.eventsPerCustomer,
    asOfDay: periodEnd,
    historyDays: base.historyDays,
    idPrefix: 'arrival',
  });
  const width = Math.max(6, String(baseCount + count).length);
  const rng = makeRng(deriveSeed(seed, 'arrival-signups'));
  for (let i = 0; i < count; i++) {
    const drawnSpan = Math.max(1, draws.activeEnd[i]! - draws.activeStart[i]!);
    const signup = periodStart + Math.floor(uniform(rng, 0, periodEnd - periodStart));
    const span = periodEnd - signup;
    draws.ids[i] = `${base.idPrefix}${String(baseCount + i + 1).padStart(width, '0')}`;
    draws.signupDay[i] = signup;
    draws.activeStart[i] = signup;
    draws.activeEnd[i] = periodEnd;
    draws.eventRows[i] = (draws.eventRows[i]! / drawnSpan) * span;
    draws.transactionRows[i] = (draws.transactionRows[i]! / drawnSpan) * span;
  }
  return draws;
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
  const tmp = (name: string) => join(dir, `.drift-${name}.csv`);
  const tmpNames = ['mover-events', 'arrival-events', 'arrival-transactions', 'mover-transactions', 'changes', 'arrival-customers'];
  try {
    for (const [view, table] of [['base_customers', 'customers'], ['base_events', 'usage_events'], ['base_transactions', 'transactions']] as const) {
      await conn.run(`CREATE VIEW ${view} AS SELECT * FROM ${tableSource(baseDir, table, base.format)}`);
    }
    const customers = await readBaseCustomers(conn, baseDir, asOfBefore, elapsedDays);
    logger.info(`generate --drift: ${customers.length} base customers, ${params.months} months later (${asOf})`);
    const moves = customers.map((c) => drawMove(c, params));
    const arrivals = arrivalDraws(Math.round(params.newCustomerRate * customers.length), params.seed, base.params, customers.length, periodStart, periodEnd);

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

    // New-period rows: the movers' new behaviour and the arrivals' first months.
    const moverIdx = moves.flatMap((m, i) => (m.movement === 'grew' || m.movement === 'declined' || m.movement === 'adopted_mobile' ? [i] : []));
    const redrawIdx = moverIdx.filter((i) => redrawsEvents(moves[i]!));
    const movers = moverDraws(redrawIdx.map((i) => customers[i]!), redrawIdx.map((i) => moves[i]!), params.seed, periodStart, periodEnd);
    const rowSeed = deriveSeed(params.seed, 'new-period-rows');
    writeCsv(tmp('mover-events'), (out) => writeUsageEvents(movers, rowSeed, periodStart, periodEnd - 1, out));
    writeCsv(tmp('arrival-events'), (out) => writeUsageEvents(arrivals, rowSeed, periodStart, periodEnd - 1, out));
    writeCsv(tmp('arrival-transactions'), (out) => writeTransactions(arrivals, rowSeed, periodStart, periodEnd - 1, out));
    await newPeriodTransactions(conn, tmp('mover-transactions'), movers, rowSeed, params.seed, asOfBefore, periodStart, periodEnd);

    const shift = `INTERVAL ${elapsedDays} DAY`;
    const periodFrom = `(TIMESTAMP ${sqlString(asOfBefore)} - ${shift})`;
    const rows = { customers: 0, usage_events: 0, transactions: 0 };
    // Every surviving customer's history moves forward; a mover's last months are replaced.
    rows.usage_events = await copyOut(
      conn,
      `SELECT customer_id, ts + ${shift} AS ts, module, device, user_id, "count" FROM base_events JOIN moves m USING (customer_id)
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

    writeCsv(tmp('changes'), (out) => {
      out.write('customer_id,employees,annual_revenue,edition\n');
      for (const i of moverIdx) {
        const c = customers[i]!;
        const { movement } = moves[i]!;
        const rng = makeRng(deriveSeed(params.seed, `${c.id}:firmographics`));
        // Only a change of archetype changes the firm: growing books alone do not hire.
        const switched = moves[i]!.becomes !== null;
        const factor = !switched ? 1 : movement === 'grew' ? uniform(rng, GROWTH.employees[0], GROWTH.employees[1]) : DECLINE.employees;
        const employees = c.employees === null ? '' : String(Math.max(1, Math.round(c.employees * factor)));
        const revenueFactor = switched && movement === 'grew' ? factor * GROWTH.revenuePerEmployee : factor;
        const revenue = c.annualRevenue === null ? '' : (Math.round(10 * c.annualRevenue * revenueFactor) / 10).toFixed(1);
        // A micro firm grown into an SME outgrows the Starter edition.
        const edition = switched && movement === 'grew' && c.edition === 'Starter' ? EDITIONS[1] : (c.edition ?? '');
        out.write(`${c.id},${employees},${revenue},${edition}\n`);
      }
    });
    writeCsv(tmp('arrival-customers'), (out) => writeCustomers(arrivals, out));
    rows.customers = await copyOut(
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
    await conn.run(
      `COPY (SELECT customer_id, archetype_after AS archetype FROM moves WHERE movement <> 'churned' ORDER BY customer_id)
       TO ${sqlString(join(dir, 'truth.csv'))} (FORMAT csv, HEADER true)`,
    );

    const counts = Object.fromEntries(MOVEMENTS.map((m) => [m, 0])) as Record<Movement, number>;
    for (const m of moves) counts[m.movement]++;
    counts.new = arrivals.n;
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
      counts,
      shiftedFeatures: { ...SHIFTED_FEATURES },
      rows,
    };
    const files = [...['customers', 'usage_events', 'transactions'].map((t) => join(dir, `${t}.${outFormat}`)), join(dir, 'truth.csv'), join(dir, 'movements.csv'), join(dir, 'generate.json')];
    const manifest = {
      kind: GENERATE_MANIFEST_KIND,
      formatVersion: GENERATE_MANIFEST_VERSION,
      // A later drift can start from this snapshot: its params describe it (as-of date, size).
      params: { ...base.params, asOf, customers: rows.customers } satisfies GenerateParams,
      summary: { dir, format: outFormat, rows, seed: base.params.seed, files },
      drift: summary,
    };
    writeFileSync(join(dir, 'generate.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    logger.info(`generate --drift: ${Object.entries(counts).map(([m, n]) => `${m} ${n}`).join(', ')} → ${dir}`);
    return summary;
  } finally {
    conn.closeSync();
    instance.closeSync();
    for (const name of tmpNames) rmSync(tmp(name), { force: true });
  }
}

function validateDriftParams(params: DriftParams): void {
  const problems: string[] = [];
  if (!(Number.isInteger(params.months) && params.months >= 1 && params.months <= 12)) problems.push(`months: expected an integer in 1..12, got ${params.months}`);
  if (!Number.isInteger(params.seed) || params.seed < 0 || params.seed > 0xffffffff) problems.push(`seed: expected an integer in [0, 2^32), got ${params.seed}`);
  for (const [name, v] of [['churnRate', params.churnRate], ['newCustomerRate', params.newCustomerRate]] as const) {
    if (!(v >= 0 && v <= 1)) problems.push(`${name}: expected a share in [0, 1], got ${v}`);
  }
  for (const r of params.rules) {
    if (!(r.share >= 0 && r.share <= 1)) problems.push(`rule ${r.movement}: share must be in [0, 1], got ${r.share}`);
    for (const a of [...(r.archetypes ?? []), ...(r.becomes ? [r.becomes] : [])]) if (!ARCHETYPE_INDEX.has(a)) problems.push(`rule ${r.movement}: unknown archetype ${a}`);
  }
  if (problems.length > 0) throw new InputError('invalid drift parameters', problems);
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
