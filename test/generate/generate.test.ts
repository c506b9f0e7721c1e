import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUYER_ROLES, CONTRACT, DEPLOYMENTS, DEVICES, MODULES, TRANSACTION_KINDS } from '../../pipeline/01-ingest/contract.ts';
import { openDuck, queryRows, sqlString } from '../../pipeline/core/duck.ts';
import { InputError } from '../../pipeline/core/errors.ts';
import { quietLogger } from '../../pipeline/core/log.ts';
import { makeRng } from '../../pipeline/core/random.ts';
import { ARCHETYPES, ARCHETYPE_SPECS, INDUSTRIES, INDUSTRY_CODES } from '../../pipeline/generate/archetypes.ts';
import { MISSING_RATES } from '../../pipeline/generate/customers.ts';
import {
  defaultGenerateParams,
  generateDataset,
  validateGenerateParams,
  type GenerateParams,
  type GenerateSummary,
} from '../../pipeline/generate/generate.ts';
import { cumulative, dirichletInto, gamma, pick, trendedPosition } from '../../pipeline/generate/sampling.ts';

const TABLES = ['customers', 'usage_events', 'transactions'] as const;
type Table = (typeof TABLES)[number];
const DUCK_TYPES = { string: 'VARCHAR', date: 'DATE', timestamp: 'TIMESTAMP', int: 'INTEGER', number: 'DOUBLE' } as const;

const params: GenerateParams = { ...defaultGenerateParams, seed: 7, customers: 800, eventsPerCustomer: 40 };
let root: string;
let csv: GenerateSummary;
let csvAgain: GenerateSummary;
let csvOtherSeed: GenerateSummary;
let parquet: GenerateSummary;
let duck: DuckDBConnection;

/** The generated CSV of a table read with the contract's column types. */
function csvTable(dir: string, table: Table): string {
  const columns = CONTRACT[table].columns.map((c) => `${sqlString(c.name)}: ${sqlString(DUCK_TYPES[c.type])}`).join(', ');
  return `read_csv(${sqlString(join(dir, `${table}.csv`))}, header = true, nullstr = '', columns = {${columns}})`;
}

const inList = (values: readonly string[]): string => values.map(sqlString).join(', ');

async function one(sql: string): Promise<Record<string, unknown>> {
  return (await queryRows(duck, sql))[0]!;
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'finseg-generate-'));
  csv = await generateDataset(join(root, 'csv'), params, 'csv', quietLogger);
  csvAgain = await generateDataset(join(root, 'csv-again'), params, 'csv', quietLogger);
  csvOtherSeed = await generateDataset(join(root, 'csv-seed8'), { ...params, seed: 8 }, 'csv', quietLogger);
  parquet = await generateDataset(join(root, 'parquet'), params, 'parquet', quietLogger);
  duck = await openDuck();
  for (const table of TABLES) await duck.run(`CREATE TABLE ${table} AS SELECT * FROM ${csvTable(csv.dir, table)}`);
  await duck.run(`CREATE TABLE truth AS SELECT * FROM read_csv(${sqlString(join(csv.dir, 'truth.csv'))}, header = true)`);
});

afterAll(() => {
  duck?.closeSync();
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('generateDataset determinism', () => {
  it('writes byte-identical CSV files for the same params', () => {
    for (const name of ['customers.csv', 'usage_events.csv', 'transactions.csv', 'truth.csv']) {
      expect(readFileSync(join(csvAgain.dir, name)).equals(readFileSync(join(csv.dir, name))), name).toBe(true);
    }
    expect(csvAgain.rows).toEqual(csv.rows);
  });

  it('draws different data for a different seed', () => {
    for (const name of ['customers.csv', 'usage_events.csv', 'transactions.csv']) {
      expect(readFileSync(join(csvOtherSeed.dir, name)).equals(readFileSync(join(csv.dir, name))), name).toBe(false);
    }
  });

  it('draws different customers for another id prefix under the same seed', async () => {
    const dir = join(root, 'prefix-n');
    await generateDataset(dir, { ...params, customers: 50, idPrefix: 'N' }, 'csv', quietLogger);
    const lines = readFileSync(join(dir, 'customers.csv'), 'utf8').split('\n');
    expect(lines[1]!.startsWith('N000001,')).toBe(true);
    const cLines = readFileSync(join(csv.dir, 'customers.csv'), 'utf8').split('\n');
    const strip = (l: string): string => l.slice(l.indexOf(','));
    expect(lines.slice(1, 51).map(strip)).not.toEqual(cLines.slice(1, 51).map(strip));
  });
});

describe('generated tables follow the data contract', () => {
  it('writes every contract column, in order, with the contract types in Parquet', async () => {
    for (const table of TABLES) {
      const header = readFileSync(join(csv.dir, `${table}.csv`), 'utf8').split('\n', 1)[0];
      expect(header).toBe(CONTRACT[table].columns.map((c) => c.name).join(','));
      const described = await queryRows(duck, `DESCRIBE SELECT * FROM read_parquet(${sqlString(join(parquet.dir, `${table}.parquet`))})`);
      expect(described.map((r) => [r.column_name, r.column_type])).toEqual(
        CONTRACT[table].columns.map((c) => [c.name, DUCK_TYPES[c.type]]),
      );
    }
  });

  it('lists the written files and reports the row counts it wrote', async () => {
    expect(csv.files.map((f) => f.slice(csv.dir.length + 1))).toEqual([
      'customers.csv',
      'usage_events.csv',
      'transactions.csv',
      'subscriptions.csv',
      'feedback.csv',
      'actions.csv',
      'truth.csv',
      'subscriptions_truth.csv',
      'actions_truth.csv',
      'generate.json',
    ]);
    for (const table of TABLES) {
      const { n } = await one(`SELECT count(*) AS n FROM ${table}`);
      expect(n).toBe(csv.rows[table]);
    }
    const manifest = JSON.parse(readFileSync(join(csv.dir, 'generate.json'), 'utf8'));
    expect(manifest.kind).toBe('finseg.generate');
    expect(manifest.params).toEqual(params);
    expect(manifest.summary.rows).toEqual(csv.rows);
  });

  it('keeps customer ids unique and every event and transaction on a known customer', async () => {
    expect(await one('SELECT count(*) AS n, count(DISTINCT customer_id) AS d FROM customers')).toEqual({ n: 800, d: 800 });
    for (const table of ['usage_events', 'transactions']) {
      const { orphans } = await one(`SELECT count(*) AS orphans FROM ${table} WHERE customer_id NOT IN (SELECT customer_id FROM customers)`);
      expect(orphans, table).toBe(0);
    }
  });

  it('keeps categorical values within their allowed sets', async () => {
    const codes = INDUSTRY_CODES.map((c) => c.code);
    const bad = await one(`SELECT
      (SELECT count(*) FROM customers WHERE deployment NOT IN (${inList(DEPLOYMENTS)})) AS deployment,
      (SELECT count(*) FROM customers WHERE buyer_role NOT IN (${inList(BUYER_ROLES)})) AS buyer_role,
      (SELECT count(*) FROM customers WHERE industry NOT IN (${inList(codes)})) AS industry,
      (SELECT count(*) FROM customers WHERE region IS NULL OR edition IS NULL OR signup_date IS NULL) AS mandatory,
      (SELECT count(*) FROM usage_events WHERE module IS NULL OR module NOT IN (${inList(MODULES)})) AS module,
      (SELECT count(*) FROM usage_events WHERE device IS NULL OR device NOT IN (${inList(DEVICES)})) AS device,
      (SELECT count(*) FROM transactions WHERE kind IS NULL OR kind NOT IN (${inList(TRANSACTION_KINDS)})) AS kind,
      (SELECT count(*) FROM transactions WHERE NOT regexp_full_match(currency, '[A-Z]{3}')) AS currency`);
    expect(bad).toEqual({ deployment: 0, buyer_role: 0, industry: 0, mandatory: 0, module: 0, device: 0, kind: 0, currency: 0 });
  });

  it('keeps every timestamp inside the history window, before the as-of date and after signup', async () => {
    for (const table of ['usage_events', 'transactions']) {
      const r = await one(`SELECT
        count(*) FILTER (WHERE ts >= TIMESTAMP '${params.asOf}') AS after_as_of,
        count(*) FILTER (WHERE ts < TIMESTAMP '${params.asOf}' - INTERVAL ${params.historyDays} DAY) AS before_history,
        count(*) FILTER (WHERE ts::DATE < c.signup_date) AS before_signup,
        count(*) FILTER (WHERE ts IS NULL) AS missing
        FROM ${table} JOIN customers c USING (customer_id)`);
      expect(r, table).toEqual({ after_as_of: 0, before_history: 0, before_signup: 0, missing: 0 });
    }
    const { late } = await one(`SELECT count(*) AS late FROM customers WHERE signup_date >= DATE '${params.asOf}'`);
    expect(late).toBe(0);
  });

  it('keeps numbers in range: counts >= 1, amounts non-negative except refunds on sales and purchases', async () => {
    const r = await one(`SELECT
      (SELECT count(*) FROM usage_events WHERE count IS NULL OR count < 1) AS bad_count,
      (SELECT avg((count > 1)::INT) FROM usage_events) AS multi_share,
      (SELECT count(*) FROM transactions WHERE amount IS NULL OR amount = 0) AS zero_amount,
      (SELECT count(*) FROM transactions WHERE amount < 0 AND kind NOT IN ('sale', 'purchase')) AS negative_other,
      (SELECT avg((amount < 0)::INT) FROM transactions) AS refund_share,
      (SELECT count(*) FROM customers WHERE employees < 0 OR annual_revenue < 0) AS negative_size,
      (SELECT count(*) FROM customers WHERE founded_year < 1800 OR founded_year > year(signup_date)) AS bad_founded`);
    expect(r.bad_count).toBe(0);
    expect(r.multi_share as number).toBeGreaterThan(0.05);
    expect(r.multi_share as number).toBeLessThan(0.35);
    expect(r.zero_amount).toBe(0);
    expect(r.negative_other).toBe(0);
    expect(r.refund_share as number).toBeGreaterThan(0.005);
    expect(r.refund_share as number).toBeLessThan(0.1);
    expect(r.negative_size).toBe(0);
    expect(r.bad_founded).toBe(0);
  });
});

describe('realism', () => {
  it('leaves 2-11% of each optional customers column missing, around the configured rates', async () => {
    const columns = Object.keys(MISSING_RATES) as (keyof typeof MISSING_RATES)[];
    const r = await one(`SELECT ${columns.map((c) => `avg((${c} IS NULL)::INT) AS ${c}`).join(', ')} FROM customers`);
    for (const c of columns) {
      expect(r[c] as number, c).toBeGreaterThan(0.015);
      expect(r[c] as number, c).toBeLessThan(0.11);
      expect(Math.abs((r[c] as number) - MISSING_RATES[c]), c).toBeLessThan(0.03);
    }
  });

  it('leaves some events without a user', async () => {
    const { missing } = await one('SELECT avg((user_id IS NULL)::INT) AS missing FROM usage_events');
    expect(missing as number).toBeGreaterThan(0.01);
    expect(missing as number).toBeLessThan(0.08);
  });

  it('writes about customers x eventsPerCustomer event rows, skewed across customers, few customers without events', async () => {
    expect(csv.rows.usage_events / (params.customers * params.eventsPerCustomer)).toBeGreaterThan(0.95);
    expect(csv.rows.usage_events / (params.customers * params.eventsPerCustomer)).toBeLessThan(1.05);
    const r = await one(`WITH per AS (SELECT c.customer_id, count(e.customer_id) AS n FROM customers c LEFT JOIN usage_events e USING (customer_id) GROUP BY 1)
      SELECT avg((n = 0)::INT) AS silent, max(n) / avg(n) AS whale, median(n) / avg(n) AS median_ratio FROM per`);
    expect(r.silent as number).toBeLessThan(0.03);
    expect(r.whale as number).toBeGreaterThan(5);
    expect(r.median_ratio as number).toBeLessThan(0.9);
  });

  it('emits only catalogued industry codes, both names and NAICS-style codes', async () => {
    const rows = await queryRows(duck, 'SELECT DISTINCT industry FROM customers WHERE industry IS NOT NULL');
    const seen = rows.map((r) => r.industry as string);
    expect(seen).toContain('Manufacturing');
    expect(seen).toContain('31-33');
    expect(seen.every((code) => INDUSTRY_CODES.some((c) => c.code === code))).toBe(true);
  });

  it('moves usage up for growing firms and down for declining ones', async () => {
    const rows = await queryRows(
      duck,
      `SELECT t.archetype,
        sum(e.count) FILTER (WHERE ts >= TIMESTAMP '${params.asOf}' - INTERVAL 90 DAY) AS recent,
        sum(e.count) FILTER (WHERE ts < TIMESTAMP '${params.asOf}' - INTERVAL 90 DAY AND ts >= TIMESTAMP '${params.asOf}' - INTERVAL 180 DAY) AS previous
       FROM usage_events e JOIN truth t USING (customer_id) WHERE t.archetype IN ('growing_sme', 'declining_firm') GROUP BY 1`,
    );
    const ratio = Object.fromEntries(rows.map((r) => [r.archetype, (r.recent as number) / (r.previous as number)]));
    expect(ratio.growing_sme).toBeGreaterThan(1.3);
    expect(ratio.declining_firm).toBeLessThan(0.75);
  });
});

describe('ground truth', () => {
  it('assigns every customer exactly one archetype, all nine present, matching the summary', async () => {
    const r = await one(`SELECT count(*) AS n, count(DISTINCT customer_id) AS ids, count(DISTINCT archetype) AS archetypes,
      (SELECT count(*) FROM customers WHERE customer_id NOT IN (SELECT customer_id FROM truth)) AS uncovered FROM truth`);
    expect(r).toEqual({ n: 800, ids: 800, archetypes: ARCHETYPES.length, uncovered: 0 });
    expect(ARCHETYPES.length).toBeGreaterThanOrEqual(9);
    const counts = await queryRows(duck, 'SELECT archetype, count(*) AS n FROM truth GROUP BY 1');
    expect(Object.fromEntries(counts.map((c) => [c.archetype, c.n]))).toEqual(csv.archetypeCounts);
  });

  it('declares unequal archetype weights summing to 1, the smallest at least 4%', () => {
    const weights = ARCHETYPES.map((a) => a.weight);
    expect(weights.reduce((s, w) => s + w, 0)).toBeCloseTo(1, 10);
    expect(Math.min(...weights)).toBeGreaterThanOrEqual(0.04);
    expect(new Set(weights).size).toBeGreaterThan(3);
    expect(new Set(ARCHETYPES.map((a) => a.name)).size).toBe(ARCHETYPES.length);
    expect(ARCHETYPES.every((a) => a.description.length > 20)).toBe(true);
  });

  it('maps every raw industry code to a documented industry, covering all of them', () => {
    expect(new Set(INDUSTRY_CODES.map((c) => c.code)).size).toBe(INDUSTRY_CODES.length);
    expect(new Set(INDUSTRY_CODES.map((c) => c.industry))).toEqual(new Set(INDUSTRIES));
  });

  it("puts each archetype's top module well above its population share, so segments are recoverable", async () => {
    for (const spec of ARCHETYPE_SPECS) {
      const top = Object.entries(spec.modules).sort((a, b) => b[1] - a[1])[0]![0];
      const r = await one(`WITH recent AS (SELECT * FROM usage_events WHERE ts >= TIMESTAMP '${params.asOf}' - INTERVAL 90 DAY)
        SELECT sum(count) FILTER (WHERE module = ${sqlString(top)} AND archetype = ${sqlString(spec.name)}) / sum(count) FILTER (WHERE archetype = ${sqlString(spec.name)}) AS inside,
               sum(count) FILTER (WHERE module = ${sqlString(top)}) / sum(count) AS overall
        FROM recent JOIN truth USING (customer_id)`);
      expect(r.inside as number, spec.name).toBeGreaterThan(1.8 * (r.overall as number));
    }
  });
});

describe('CSV and Parquet', () => {
  it('hold the same rows for the same params', async () => {
    for (const table of TABLES) {
      const parquetTable = `read_parquet(${sqlString(join(parquet.dir, `${table}.parquet`))})`;
      const r = await one(`SELECT
        (SELECT count(*) FROM (SELECT * FROM ${table} EXCEPT ALL SELECT * FROM ${parquetTable})) AS only_csv,
        (SELECT count(*) FROM (SELECT * FROM ${parquetTable} EXCEPT ALL SELECT * FROM ${table})) AS only_parquet,
        (SELECT count(*) FROM ${parquetTable}) AS n`);
      expect(r, table).toEqual({ only_csv: 0, only_parquet: 0, n: csv.rows[table] });
    }
    expect(readFileSync(join(parquet.dir, 'truth.csv')).equals(readFileSync(join(csv.dir, 'truth.csv')))).toBe(true);
    expect(parquet.rows).toEqual(csv.rows);
  });

  it('writes byte-identical Parquet files for the same params', async () => {
    const again = await generateDataset(join(root, 'parquet-again'), params, 'parquet', quietLogger);
    for (const table of TABLES) {
      const name = `${table}.parquet`;
      expect(readFileSync(join(again.dir, name)).equals(readFileSync(join(parquet.dir, name))), name).toBe(true);
    }
  });

  it('leaves no temporary CSV next to the Parquet files', async () => {
    const { readdirSync } = await import('node:fs');
    expect(readdirSync(parquet.dir).sort()).toEqual([
      'actions.parquet',
      'actions_truth.csv',
      'customers.parquet',
      'feedback.parquet',
      'generate.json',
      'subscriptions.parquet',
      'subscriptions_truth.csv',
      'transactions.parquet',
      'truth.csv',
      'usage_events.parquet',
    ]);
  });
});

describe('validateGenerateParams', () => {
  it('rejects impossible params with an InputError naming each field', () => {
    const bad = { ...defaultGenerateParams, customers: 0, asOf: '30/09/2026', idPrefix: 'a,b' };
    expect(() => validateGenerateParams(bad)).toThrow(InputError);
    try {
      validateGenerateParams(bad);
    } catch (e) {
      const detail = (e as InputError).detail.join('\n');
      expect(detail).toContain('customers');
      expect(detail).toContain('asOf');
      expect(detail).toContain('idPrefix');
    }
  });

  it('accepts the defaults', () => {
    expect(() => validateGenerateParams(defaultGenerateParams)).not.toThrow();
  });
});

describe('sampling', () => {
  it('gamma has mean equal to its shape, above and below 1', () => {
    const rng = makeRng(1);
    for (const shape of [0.3, 2.5]) {
      let sum = 0;
      for (let i = 0; i < 20_000; i++) sum += gamma(rng, shape);
      expect(sum / 20_000).toBeCloseTo(shape, 1);
    }
  });

  it('dirichletInto returns a probability vector scattered around the mean', () => {
    const rng = makeRng(2);
    const out = new Float64Array(3);
    const mean = [0.6, 0.3, 0.1];
    const acc = [0, 0, 0];
    for (let i = 0; i < 5000; i++) {
      dirichletInto(rng, mean, 50, out);
      expect(out.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 12);
      out.forEach((v, j) => (acc[j]! += v));
    }
    acc.forEach((v, j) => expect(v / 5000).toBeCloseTo(mean[j]!, 2));
  });

  it('pick follows a cumulative distribution', () => {
    const rng = makeRng(3);
    const cdf = cumulative([1, 3]);
    expect(Array.from(cdf)).toEqual([0.25, 1]);
    let ones = 0;
    for (let i = 0; i < 10_000; i++) ones += pick(rng, cdf);
    expect(ones / 10_000).toBeCloseTo(0.75, 1);
  });

  it('trendedPosition stays inside the span and leans toward the end for growth', () => {
    const rng = makeRng(4);
    for (const rate of [-0.02, 0, 0.02]) {
      let late = 0;
      let outside = 0;
      for (let i = 0; i < 10_000; i++) {
        const x = trendedPosition(rng, 100, rate);
        if (x < 0 || x >= 100) outside += 1;
        if (x >= 50) late += 1;
      }
      expect(outside).toBe(0);
      // P(x >= 50) = 1 / (1 + exp(-50 * rate)) for the truncated exponential.
      expect(late / 10_000).toBeCloseTo(1 / (1 + Math.exp(-50 * rate)), 1);
    }
  });
});
