import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { MODULES } from '../../pipeline/01-ingest/contract.ts';
import { validateCommand } from '../../pipeline/jobs/validate.ts';
import { initCommand, type InitResult } from '../../pipeline/jobs/init.ts';
import { loadConfig, type FinsegConfig } from '../../pipeline/config/config.ts';
import { openDuck, queryRows, sqlString } from '../../pipeline/core/duck.ts';
import { InputError } from '../../pipeline/core/errors.ts';
import { quietLogger } from '../../pipeline/core/log.ts';
import { defaultGenerateParams } from '../../pipeline/generate/generate.ts';
import {
  defaultVendorExportParams,
  EXPORT_LAYOUT,
  EXPORT_SHAPES,
  generateVendorExports,
  LOGIN_EVENT,
  outcomeAccountId,
  parseShapes,
  VENDOR_EVENTS,
  writeVendorExports,
  type ExportShape,
  type VendorExportSummary,
} from '../../pipeline/generate/vendor-export.ts';
import { trainJob, type TrainOutcome } from '../../pipeline/jobs/train.ts';
import type { SegmentsState } from '../../pipeline/model/types.ts';
import { scoreJob } from '../../pipeline/jobs/score.ts';
import { reportInputOf, writeReport, type ManifestView } from '../../pipeline/10-report/report.ts';
import { LENS_NAMES } from '../../pipeline/06-categorize/lenses.ts';

/**
 * Issue 14's "Done when" on the three export shapes an analyst brings (docs/export-shapes.md):
 * each vendor-shaped export goes through `init` → the config exactly as written → validate →
 * train → score → report, and the results are checked against what the export holds and
 * against what later happened to the accounts (outcomes.csv, which finseg never reads).
 */
const ACCOUNTS = 1200;
const work = mkdtempSync(join(tmpdir(), 'finseg-shapes-'));
let bench: VendorExportSummary;

beforeAll(async () => {
  bench = await generateVendorExports(work, EXPORT_SHAPES, { ...defaultGenerateParams, customers: ACCOUNTS, seed: 14 }, defaultVendorExportParams, quietLogger);
}, 120_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

const exportOf = (shape: ExportShape) => bench.exports.find((e) => e.shape === shape)!;

/** All rows of a query over files, as plain objects. */
async function sql(query: string): Promise<Record<string, unknown>[]> {
  const conn = await openDuck();
  try {
    return await queryRows(conn, query);
  } finally {
    conn.closeSync();
  }
}
const csv = (path: string) => `read_csv(${sqlString(path)}, header = true, all_varchar = true)`;
const source = (table: string) => csv(join(work, 'source', 'base', `${table}.csv`));

// ---- chi-square test of independence, written out here so the test does not trust the code it tests ----

/** Regularised upper incomplete gamma Q(a, x) (series below a + 1, continued fraction above; Numerical Recipes §6.2). */
function gammaQ(a: number, x: number): number {
  if (x <= 0) return 1;
  const lnGammaA = lnGamma(a);
  if (x < a + 1) {
    let sum = 1 / a;
    let term = sum;
    for (let n = 1; n < 1000; n++) {
      term *= x / (a + n);
      sum += term;
      if (Math.abs(term) < Math.abs(sum) * 1e-15) break;
    }
    return 1 - sum * Math.exp(-x + a * Math.log(x) - lnGammaA);
  }
  let b = x + 1 - a;
  let c = 1e300;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 1000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    d = Math.abs(d) < 1e-300 ? 1e-300 : d;
    c = b + an / c;
    c = Math.abs(c) < 1e-300 ? 1e-300 : c;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-15) break;
  }
  return Math.exp(-x + a * Math.log(x) - lnGammaA) * h;
}

function lnGamma(x: number): number {
  const g = [76.18009172947146, -86.50532032941677, 24.01409824083091, -1.231739572450155, 0.1208650973866179e-2, -0.5395239384953e-5];
  let y = x;
  const tmp = x + 5.5 - (x + 0.5) * Math.log(x + 5.5);
  let ser = 1.000000000190015;
  for (const c of g) ser += c / ++y;
  return -tmp + Math.log((2.5066282746310005 * ser) / x);
}

/** χ², degrees of freedom, p-value and Cramér's V of a contingency table (rows or columns that are all zero are dropped). */
function chiSquare(table: number[][]): { chi2: number; df: number; p: number; v: number } {
  const rows = table.filter((r) => r.some((x) => x > 0));
  const keep = rows[0]!.map((_, j) => rows.some((r) => r[j]! > 0));
  const t = rows.map((r) => r.filter((_, j) => keep[j]));
  const n = t.flat().reduce((s, x) => s + x, 0);
  const rowSum = t.map((r) => r.reduce((s, x) => s + x, 0));
  const colSum = t[0]!.map((_, j) => t.reduce((s, r) => s + r[j]!, 0));
  let chi2 = 0;
  t.forEach((r, i) => r.forEach((x, j) => (chi2 += (x - (rowSum[i]! * colSum[j]!) / n) ** 2 / ((rowSum[i]! * colSum[j]!) / n))));
  const df = (t.length - 1) * (colSum.length - 1);
  return { chi2, df, p: gammaQ(df / 2, chi2 / 2), v: Math.sqrt(chi2 / (n * (Math.min(t.length, colSum.length) - 1))) };
}

describe('the chi-square reference used below', () => {
  it('gives the textbook critical values: p(3.841, 1 df) = 0.05, p(11.345, 3 df) = 0.01, p(20.090, 8 df) = 0.01', () => {
    expect(gammaQ(0.5, 3.841 / 2)).toBeCloseTo(0.05, 4);
    expect(gammaQ(1.5, 11.345 / 2)).toBeCloseTo(0.01, 4);
    expect(gammaQ(4, 20.09 / 2)).toBeCloseTo(0.01, 4);
  });
  it('gives V = 1 and p ≈ 0 for a table where rows determine columns, V = 0 and p = 1 for independence', () => {
    const perfect = chiSquare([[50, 0], [0, 50]]);
    expect(perfect.v).toBeCloseTo(1, 10);
    expect(perfect.p).toBeLessThan(1e-10);
    const none = chiSquare([[10, 20], [20, 40]]);
    expect(none.v).toBeCloseTo(0, 10);
    expect(none.p).toBeCloseTo(1, 10);
  });
});

// ---- the writer: the exports look like vendors' files, not like the contract ----

describe('finseg generate --shape writes vendor-shaped exports', () => {
  it('usage-only: an activity log with Account, Date, Event, events (no device), one row per account, day and event', async () => {
    const e = exportOf('usage-only');
    expect(readdirSync(e.dir).sort()).toEqual([EXPORT_LAYOUT.accounts.file, EXPORT_LAYOUT.activity.file].sort());
    const log = join(e.dir, EXPORT_LAYOUT.activity.file);
    expect(readFileSync(log, 'utf8').split('\n', 1)[0]).toBe('Account,Date,Event,events');
    const [keys] = await sql(`SELECT count(*) AS n, count(DISTINCT (Account, Date, Event)) AS k, count(*) FILTER (WHERE NOT regexp_matches(Account, '^ACC-\\d+$')) AS bad FROM ${csv(log)}`);
    expect(keys).toEqual({ n: e.rows.activity, k: e.rows.activity, bad: 0 });
  });

  it('usage-only: the daily counts of the non-login events add up to the generated events, and the names mix catalog-like and vendor-only ones', async () => {
    const log = join(exportOf('usage-only').dir, EXPORT_LAYOUT.activity.file);
    const [logged] = await sql(`SELECT sum(CAST(events AS BIGINT)) AS n FROM ${csv(log)} WHERE Event <> ${sqlString(LOGIN_EVENT)}`);
    const [generated] = await sql(`SELECT sum(coalesce(CAST(count AS BIGINT), 1)) AS n FROM ${source('usage_events')}`);
    expect(logged!.n).toBe(generated!.n);
    const names = (await sql(`SELECT DISTINCT Event AS e FROM ${csv(log)}`)).map((r) => String(r.e));
    expect(names).toEqual(expect.arrayContaining(['Bank feeds', 'Expense claims', 'Reports v2', 'Invoices', 'Payroll run', LOGIN_EVENT]));
    expect(names.filter((n) => (MODULES as readonly string[]).includes(n))).toEqual([]);
    expect(names.length).toBe(new Set(Object.values(VENDOR_EVENTS).flat().map((v) => v.name)).size + 1);
  });

  it('usage-only: the accounts file has one row per account under the vendor CRM names, dates as DD/MM/YYYY', async () => {
    const path = join(exportOf('usage-only').dir, EXPORT_LAYOUT.accounts.file);
    expect(readFileSync(path, 'utf8').split('\n', 1)[0]).toBe('Account,Created,Plan,Sector,Staff');
    const [r] = await sql(`SELECT count(*) AS n, count(DISTINCT Account) AS k, count(try_strptime(Created, '%d/%m/%Y')) AS dates FROM ${csv(path)}`);
    expect(r).toEqual({ n: ACCOUNTS, k: ACCOUNTS, dates: ACCOUNTS });
  });

  it('transactions-only: daily files YYYY-MM-DD.csv in a folder whose name says nothing, every line booked on its file’s day', async () => {
    const e = exportOf('transactions-only');
    expect(readdirSync(e.dir)).toEqual([EXPORT_LAYOUT.transactions.folder]);
    const folder = join(e.dir, EXPORT_LAYOUT.transactions.folder);
    const files = readdirSync(folder);
    expect(files.length).toBe(e.rows.transactionFiles);
    expect(files.every((f) => /^\d{4}-\d{2}-\d{2}\.csv$/.test(f))).toBe(true);
    const [r] = await sql(
      `SELECT count(*) AS n, count(*) FILTER (WHERE strftime(strptime("Booked at", '%d/%m/%Y %H:%M'), '%Y-%m-%d') || '.csv' <> parse_filename(filename)) AS off_day
       FROM read_csv(${sqlString(join(folder, '*.csv'))}, header = true, all_varchar = true, filename = true)`,
    );
    expect(r).toEqual({ n: e.rows.transactionLines, off_day: 0 });
  });

  it('transactions-only: ids as floats, a quarter of the lines without one, quantity × unit price within half a cent per unit of the amount', async () => {
    const folder = join(exportOf('transactions-only').dir, EXPORT_LAYOUT.transactions.folder);
    const lines = `read_csv(${sqlString(join(folder, '*.csv'))}, header = true, all_varchar = true)`;
    const [r] = await sql(
      `SELECT count(*) AS n, count(*) FILTER (WHERE "Customer No" IS NULL) AS blank,
              count(*) FILTER (WHERE "Customer No" IS NOT NULL AND NOT regexp_matches("Customer No", '^\\d+\\.0$')) AS not_float
       FROM ${lines}`,
    );
    expect(r!.not_float).toBe(0);
    expect(Number(r!.blank) / Number(r!.n)).toBeGreaterThan(0.23);
    expect(Number(r!.blank) / Number(r!.n)).toBeLessThan(0.27);
    // Lines are written in booking order, as the generated transactions sorted by time and customer are.
    const [m] = await sql(
      `WITH x AS (SELECT CAST(Qty AS DOUBLE) * CAST("Unit price" AS DOUBLE) AS written, abs(CAST(Qty AS DOUBLE)) AS q, row_number() OVER () AS i FROM ${lines}),
            g AS (SELECT CAST(amount AS DOUBLE) AS amount, row_number() OVER (ORDER BY CAST(ts AS TIMESTAMP), customer_id, CAST(amount AS DOUBLE), currency, kind) AS i FROM ${source('transactions')})
       SELECT count(*) AS n, max(abs(written - amount) - 0.005 * q) AS worst FROM x JOIN g USING (i)`,
    );
    expect(m!.n).toBe(r!.n);
    expect(Number(m!.worst)).toBeLessThanOrEqual(1e-6); // float noise on amounts up to about 10^6
  });

  it('outcomes.csv sits beside each export folder, one row per base account, the outcomes counted from the later snapshot’s movements', async () => {
    const [moves] = await sql(
      `SELECT count(*) FILTER (WHERE movement = 'churned') AS churned, count(*) FILTER (WHERE movement = 'declined') AS declined,
              count(*) FILTER (WHERE movement = 'grew') AS grew, count(*) FILTER (WHERE movement IN ('unchanged', 'adopted_mobile')) AS stable
       FROM ${csv(join(work, 'source', 'later', 'movements.csv'))}`,
    );
    for (const e of bench.exports) {
      expect(basename(join(e.outcomes, '..'))).toBe(e.shape);
      expect(readdirSync(e.dir)).not.toContain('outcomes.csv');
      expect(e.outcomeCounts).toEqual(moves);
      const ids = (await sql(`SELECT account_id FROM ${csv(e.outcomes)} LIMIT 1`))[0]!.account_id;
      expect(ids).toBe(outcomeAccountId(e.shape, 'C0001'));
    }
    expect(Number(moves!.declined) + Number(moves!.grew) + Number(moves!.churned)).toBeGreaterThan(0.03 * ACCOUNTS);
  });

  it('--shape takes one shape or all, and names the choices when given anything else', () => {
    expect(parseShapes('all')).toEqual(['usage-only', 'transactions-only', 'both']);
    expect(parseShapes('both')).toEqual(['both']);
    expect(() => parseShapes('usage')).toThrow(/usage-only, transactions-only, both or all/);
  });

  it('is deterministic: the same source and seed write the same bytes', async () => {
    const again = join(work, 'again');
    const second = await writeVendorExports(join(work, 'source', 'base'), join(work, 'source', 'later'), again, ['both'], defaultVendorExportParams, quietLogger);
    const digest = (dir: string) => {
      const h = createHash('sha256');
      for (const f of readdirSync(dir, { recursive: true }).map(String).sort()) {
        const p = join(dir, f);
        if (f.endsWith('.csv')) h.update(f).update(readFileSync(p));
      }
      return h.digest('hex');
    };
    expect(digest(second.exports[0]!.dir)).toBe(digest(exportOf('both').dir));
  }, 30_000);
});

// ---- the pipeline on each shape, with the config init wrote ----

type Step = 'init' | 'validate' | 'train' | 'score' | 'report';

/** One shape's run: what each step returned, or why it failed (later steps are then not run). */
interface ShapeRun {
  shapeDir: string;
  dataDir: string;
  configPath: string;
  init?: InitResult;
  config?: FinsegConfig;
  validate?: { text: string; exitCode: number };
  train?: TrainOutcome;
  scoresFile?: string;
  report?: { en: Awaited<ReturnType<typeof writeReport>>; zh: Awaited<ReturnType<typeof writeReport>> };
  errors: Partial<Record<Step, string>>;
}

async function attempt<T>(run: ShapeRun, step: Step, body: () => Promise<T>): Promise<T | undefined> {
  if (Object.keys(run.errors).length > 0) return undefined;
  try {
    return await body();
  } catch (e) {
    run.errors[step] = e instanceof InputError ? `${e.message} (${e.detail.join('; ')})` : e instanceof Error ? e.message : String(e);
    return undefined;
  }
}

/** The value a step produced, or a failure that names the first step that failed and why. */
function after<T>(run: ShapeRun, step: Step, value: T | undefined): T {
  if (value === undefined) {
    const [first, why] = Object.entries(run.errors)[0] ?? [step, 'not run'];
    throw new Error(`${step} has no result: ${first} failed: ${why}`);
  }
  return value;
}

/** validateCommand; the clock argument is dropped where quarantine folders are named by input fingerprint, and is then ignored. */
const validate = validateCommand as (dataDir: string, params: FinsegConfig['ingest'], quarantineRoot: string, now?: Date) => Promise<{ text: string; exitCode: number }>;

/** `finseg init --data <export>` → the config file exactly as written → validate → train → score the same data → report (en, zh). */
async function runShape(shape: ExportShape): Promise<ShapeRun> {
  const e = exportOf(shape);
  const shapeDir = join(e.dir, '..');
  const run: ShapeRun = { shapeDir, dataDir: e.dir, configPath: join(shapeDir, 'finseg.config.json'), errors: {} };
  const now = () => new Date('2026-12-07T12:00:00Z');
  run.init = await attempt(run, 'init', () => initCommand(e.dir, run.configPath, 'export'));
  run.config = await attempt(run, 'init', async () => loadConfig(run.configPath));
  run.validate = await attempt(run, 'validate', async () => {
    const v = await validate(run.config!.ingest.dataDir ?? e.dir, run.config!.ingest, join(shapeDir, 'quarantine'), now());
    if (v.exitCode !== 0) throw new Error(`validate exit ${v.exitCode}:\n${v.text}`);
    return v;
  });
  run.train = await attempt(run, 'train', () =>
    trainJob({ dataDir: run.config!.ingest.dataDir ?? e.dir, registry: join(shapeDir, 'models'), config: run.config!, configSource: run.configPath, quarantineRoot: join(shapeDir, 'quarantine'), logger: quietLogger, now }),
  );
  run.scoresFile = await attempt(run, 'score', async () => {
    const out = join(shapeDir, 'scores.csv');
    await scoreJob({ modelPath: run.train!.bundleDir, dataDir: e.dir, outFile: out, config: null, quarantineDir: null, logger: quietLogger });
    return out;
  });
  run.report = await attempt(run, 'report', async () => {
    const input = reportInputOf(run.train!.manifest as unknown as ManifestView, run.train!.states);
    const en = await writeReport(run.train!.bundleDir, input, { lang: 'en' });
    const zh = await writeReport(run.train!.bundleDir, input, { lang: 'zh' });
    return { en, zh };
  });
  return run;
}

/** Which file init must assign to which table, by shape; customers come from transactions when there is no accounts file. */
const EXPECTED_ROLES: Readonly<Record<ExportShape, Record<string, string>>> = {
  'usage-only': { customers: EXPORT_LAYOUT.accounts.file, usage_events: EXPORT_LAYOUT.activity.file },
  'transactions-only': { transactions: EXPORT_LAYOUT.transactions.folder },
  both: { customers: EXPORT_LAYOUT.accounts.file, usage_events: EXPORT_LAYOUT.activity.file, transactions: EXPORT_LAYOUT.transactions.folder },
};

/** The lenses no shape can measure (no column for them) and the ones each shape must leave unmeasured. */
const UNMEASURABLE: Readonly<Record<ExportShape, readonly string[]>> = {
  'usage-only': ['buyerRole'],
  'transactions-only': ['size', 'industry', 'technology', 'buyerRole'],
  both: ['buyerRole'],
};

/** The file a config maps a table to: `ingest.files`, or the table's own name when the entry is absent. */
function fileOf(config: Record<string, unknown>, table: string): string | undefined {
  const files = ((config.ingest as Record<string, unknown>).files ?? {}) as Record<string, string>;
  // A folder may be named with or without a trailing slash or file pattern.
  return files[table]?.replace(/\/(\*+\.csv)?$/, '');
}

/** A column source's column name(s), whatever form the config gives it. */
function columnsOf(source: unknown): string[] {
  if (typeof source === 'string') return [source];
  if (source && typeof source === 'object') {
    const s = source as Record<string, unknown>;
    if (typeof s.column === 'string') return [s.column];
    if (Array.isArray(s.multiply)) return s.multiply.map(String);
  }
  return [];
}

/**
 * The segments train reports for its customers (customer_id → segment_id): the report's
 * assignments export, which holds what score gives; the bundle's own assignments.csv may hold the
 * raw k-means labels that retraining compares, so it is only the fallback.
 */
function assignments(run: ShapeRun): Map<string, string> {
  const bundle = after(run, 'train', run.train).bundleDir;
  const exported = join(bundle, 'report', 'assignments.csv');
  const text = readFileSync(existsSync(exported) ? exported : join(bundle, 'assignments.csv'), 'utf8').trim().split('\n').slice(1);
  return new Map(text.map((l) => l.split(',') as [string, string]));
}

/** The id outcomes.csv uses for an id as finseg wrote it (a float id read without normalisation still matches its account). */
const accountKey = (id: string) => id.replace(/\.0+$/, '');

describe.each(EXPORT_SHAPES)('%s export: init → the config as written → validate → train → score → report', (shape) => {
  let run: ShapeRun;
  beforeAll(async () => {
    run = await runShape(shape);
  }, 180_000);

  it('init recognises every table by its content and maps every required column', () => {
    const config = after(run, 'init', run.init).config;
    const ingest = config.ingest as Record<string, unknown>;
    for (const [table, file] of Object.entries(EXPECTED_ROLES[shape])) expect({ table, file: fileOf(config, table) }).toEqual({ table, file });
    if (!EXPECTED_ROLES[shape].customers) expect(ingest.deriveCustomers).toMatchObject({ from: 'transactions' });
    const columns = ingest.columns as Record<string, Record<string, unknown>>;
    expect(JSON.stringify(columns)).not.toContain('<column for');
    if (EXPECTED_ROLES[shape].usage_events) {
      expect(columnsOf(columns.usage_events?.customer_id)).toEqual(['Account']);
      expect(columnsOf(columns.usage_events?.module)).toEqual(['Event']);
      expect(columnsOf(columns.usage_events?.count)).toEqual(['events']);
      expect(columns.usage_events?.device).toBeUndefined();
    }
    if (EXPECTED_ROLES[shape].customers) expect(columnsOf(columns.customers?.customer_id)).toEqual(['Account']);
    if (EXPECTED_ROLES[shape].transactions) {
      expect(columnsOf(columns.transactions?.customer_id)).toEqual(['Customer No']);
      expect(columnsOf(columns.transactions?.amount)).toEqual(['Qty', 'Unit price']);
      expect(ingest.normaliseIds).toBe(true);
    }
  });

  it.runIf(shape !== 'usage-only')('init samples across all the daily files, says how many it read, and reports the ids and the missing share of that sample', async () => {
    const notes = after(run, 'init', run.init).notes.join('\n');
    const files = exportOf(shape).rows.transactionFiles;
    expect(notes).toMatch(new RegExp(`\\b${files}\\b[^\\n]{0,20}files?|files?[^\\n]{0,20}\\b${files}\\b`));
    // The first daily file alone holds about a hundred ids; a sample across the folder sees most of them.
    const [truth] = await sql(`SELECT count(DISTINCT "Customer No") AS ids FROM read_csv(${sqlString(join(exportOf(shape).dir, EXPORT_LAYOUT.transactions.folder, '*.csv'))}, header = true, all_varchar = true)`);
    const reported = [...notes.matchAll(/([\d,]+) (?:distinct )?(?:customer )?ids/g)].map((m) => Number(m[1]!.replaceAll(',', '')));
    expect(Math.max(0, ...reported)).toBeGreaterThan(0.5 * Number(truth!.ids));
    expect(notes).toMatch(/\b2[3-7](\.\d+)?%/);
  });

  it.runIf(shape !== 'transactions-only')('init lists the event names with their shares and keeps the ones outside the catalog as the vendor’s own', () => {
    const notes = after(run, 'init', run.init).notes.join('\n');
    for (const name of ['Bank feeds', 'Expense claims', 'Reports v2']) expect(notes).toContain(name);
    // A vendor event name must never be mapped onto an unrelated catalog module just to pass the enum check.
    const values = ((after(run, 'init', run.init).config.ingest as Record<string, unknown>).values ?? {}) as Record<string, Record<string, Record<string, string>>>;
    const moduleMap = values.usage_events?.module ?? {};
    for (const name of ['Bank feeds', 'Expense claims', LOGIN_EVENT]) expect(moduleMap[name]).toBeUndefined();
  });

  it('validate accepts the export with the config as written (exit 0)', () => {
    expect(after(run, 'validate', run.validate).exitCode).toBe(0);
  });

  it('train succeeds with the config as written and keeps every account', () => {
    const train = after(run, 'train', run.train);
    // usage-only and both list every account in the accounts file; transactions-only derives them from the lines that carry an id.
    if (shape !== 'transactions-only') expect(train.customerIds.length).toBe(ACCOUNTS);
    else expect(train.customerIds.length).toBeGreaterThan(0.95 * ACCOUNTS);
    expect(train.states['cluster.json'].k).toBeGreaterThanOrEqual(2);
  });

  it('ids appear normalised: no float id in the training assignments', () => {
    expect([...assignments(run).keys()].filter((id) => /\.0+$/.test(id))).toEqual([]);
  });

  it('segment names are unique in English and in Chinese', () => {
    const cards = (after(run, 'train', run.train).states['segments.json'] as SegmentsState).cards;
    for (const lang of ['en', 'zh'] as const) {
      const names = cards.map((c) => c.name[lang]);
      expect({ lang, duplicates: names.filter((n, i) => names.indexOf(n) !== i) }).toEqual({ lang, duplicates: [] });
    }
  });

  it('no lens is reported measurable when ≥ 90% of the accounts are unknown on it, and the lenses without a column are not measurable', () => {
    const segments = after(run, 'train', run.train).states['segments.json'] as SegmentsState & { lensMeasurability?: Record<string, { measurable: boolean; unknownShare: number }> };
    expect(segments.lensMeasurability, 'segments.json has no lensMeasurability').toBeDefined();
    const total = segments.cards.reduce((s, c) => s + c.size, 0);
    for (const lens of LENS_NAMES) {
      const unknown = segments.cards.reduce((s, c) => s + (c.lenses.find((l) => l.lens === lens)?.counts.unknown ?? 0), 0);
      if (unknown / total >= 0.9) expect({ lens, measurable: segments.lensMeasurability![lens]!.measurable }).toEqual({ lens, measurable: false });
    }
    for (const lens of UNMEASURABLE[shape]) expect({ lens, measurable: segments.lensMeasurability![lens]!.measurable }).toEqual({ lens, measurable: false });
  });

  it('lifecycle is not one label for ≥ 95% of the accounts', () => {
    const cards = (after(run, 'train', run.train).states['segments.json'] as SegmentsState).cards;
    const counts = new Map<string, number>();
    for (const c of cards) for (const [label, n] of Object.entries(c.lenses.find((l) => l.lens === 'lifecycle')!.counts)) counts.set(label, (counts.get(label) ?? 0) + n);
    const total = [...counts.values()].reduce((s, x) => s + x, 0);
    const [top, n] = [...counts.entries()].sort((a, b) => b[1] - a[1])[0]!;
    expect({ top, share: n / total < 0.95 }).toEqual({ top, share: true });
  });

  it('segments that behave differently get different playbooks; no message is shared by more than half of the segments', () => {
    const train = after(run, 'train', run.train);
    const cards = (train.states['segments.json'] as SegmentsState).cards;
    const messages = new Map<string, number>();
    for (const c of cards) messages.set(c.playbook.message, (messages.get(c.playbook.message) ?? 0) + 1);
    expect(Math.max(...messages.values())).toBeLessThanOrEqual(Math.floor(cards.length / 2));
    // The most lapsed and the most recently active segment, measured here from the raw recency feature.
    const f = train.features;
    const col = f.featureNames.indexOf('recency_days');
    expect(col, 'recency_days is not among the features').toBeGreaterThanOrEqual(0);
    const sums = new Map<number, [number, number]>();
    for (let i = 0; i < f.customerIds.length; i++) {
      const v = f.X.data[i * f.X.cols + col]!;
      if (Number.isNaN(v)) continue;
      const s = sums.get(train.labels[i]!) ?? [0, 0];
      sums.set(train.labels[i]!, [s[0] + v, s[1] + 1]);
    }
    const means = [...sums.entries()].map(([label, [s, n]]) => ({ label, mean: s / n })).sort((a, b) => a.mean - b.mean);
    const [active, lapsed] = [cards[means[0]!.label]!, cards[means.at(-1)!.label]!];
    expect(JSON.stringify(lapsed.playbook)).not.toBe(JSON.stringify(active.playbook));
  });

  it('training accounts re-scored from the same export get exactly their training segment', async () => {
    const trained = assignments(run);
    // A customer given no segment (blank in assignments.csv, null in the scores) must stay without one.
    const scored = await sql(`SELECT CAST(customer_id AS VARCHAR) AS id, coalesce(CAST(segment_id AS VARCHAR), '') AS seg FROM ${csv(after(run, 'score', run.scoresFile))}`);
    const moved = scored.filter((r) => trained.get(String(r.id)) !== String(r.seg)).map((r) => `${r.id}: ${trained.get(String(r.id))} → ${r.seg}`);
    expect(scored.length).toBe(trained.size);
    expect(moved.slice(0, 10)).toEqual([]);
  });

  it('report writes the English and the Chinese page side by side', () => {
    const report = after(run, 'report', run.report);
    expect(report.zh.html).not.toBe(report.en.html);
    expect(existsSync(report.en.html) && existsSync(report.zh.html)).toBe(true);
  });

  it('segments relate to what later happened to the accounts (χ² p < 0.01 and Cramér’s V ≥ 0.15 over segment × outcome)', async () => {
    const trained = assignments(run);
    const outcomes = await sql(`SELECT account_id, outcome FROM ${csv(exportOf(shape).outcomes)}`);
    const segmentIds = [...new Set(trained.values())].sort();
    const kinds = ['churned', 'declined', 'grew', 'stable'];
    const table = segmentIds.map(() => kinds.map(() => 0));
    const byAccount = new Map([...trained].map(([id, seg]) => [accountKey(id), seg]));
    let matched = 0;
    for (const o of outcomes) {
      const seg = byAccount.get(String(o.account_id));
      if (seg === undefined) continue;
      table[segmentIds.indexOf(seg)]![kinds.indexOf(String(o.outcome))]!++;
      matched++;
    }
    // Every trained account has an outcome; with an accounts file every outcome's account was trained
    // (transactions only: an account without a transaction is no customer of that export).
    expect(matched).toBe(trained.size);
    if (shape !== 'transactions-only') expect(matched).toBe(outcomes.length);
    const { p, v } = chiSquare(table);
    expect({ p: p < 0.01, v: v >= 0.15 }).toEqual({ p: true, v: true });
  });
});
