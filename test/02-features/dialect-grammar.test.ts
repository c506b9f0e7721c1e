import { describe, expect, it } from 'vitest';
import { SparkSQL, TrinoSQL } from 'dt-sql-parser';
import { vendorModuleFeatures } from '../../pipeline/02-features/catalog.ts';
import { dialectSpelling } from '../../pipeline/02-features/dialect.ts';
import { featureTableSql } from '../../pipeline/02-features/feature-file.ts';
import { defaultFeatureParams, type FeatureParams } from '../../pipeline/02-features/params.ts';
import { main } from '../../pipeline/cli/main.ts';

/**
 * The Spark SQL and Trino spellings of the feature query against the engines' own grammars
 * (dt-sql-parser's ANTLR grammars of Spark SQL 3 and Trino): 0 syntax errors, with vendor module
 * names that need escaping. A grammar cannot see what parses but means something else (Spark
 * reads "count" as a text literal and 'a''b' as "ab"), so those spellings are pinned from the
 * engines' documented rules. PostgreSQL's spelling runs on a real server instead (test/e2e/postgres-features.test.ts).
 */
const AS_OF = '2026-09-30';
// A quote, a backslash, accents and CJK: each engine must read the same module name back.
const vendorModules = vendorModuleFeatures(["Bank's feeds", 'Reports\\v2', 'Café öffnen', '银行对账']);
const settings: FeatureParams[] = [
  { ...defaultFeatureParams, vendorModules },
  { ...defaultFeatureParams, vendorModules: [], homeCurrency: 'CNY', smallTicketAmount: 12.5 },
];

describe.each([
  ['spark', () => new SparkSQL()],
  ['trino', () => new TrinoSQL()],
] as const)('the %s feature SQL', (dialect, parser) => {
  it.each(settings.map((p, i) => [i, p] as const))('parses with 0 errors under the engine grammar (settings %i)', (_, params) => {
    expect(parser().validate(featureTableSql(AS_OF, params, dialect))).toEqual([]);
  });
});

describe('what a grammar check can and cannot catch', () => {
  it('rejects the DuckDB spelling under the Trino grammar (bit shifts, list literals), so a pass means something', () => {
    expect(new TrinoSQL().validate(featureTableSql(AS_OF, settings[0]!, 'duckdb')).length).toBeGreaterThan(0);
  });

  it('spells Spark without double-quoted names, VARCHAR or date_diff', () => {
    const sql = featureTableSql(AS_OF, settings[0]!, 'spark');
    // Outside text literals: double quotes would be text in Spark, VARCHAR needs a length, date_diff(unit, …) does not exist.
    const code = sql.replace(/'(?:[^'\\]|\\.)*'/g, "''");
    expect(code).not.toContain('"');
    expect(code).not.toMatch(/\bVARCHAR\b/);
    expect(code).not.toMatch(/\bdate_diff\b/);
    expect(code).toContain('coalesce(`count`, 1)');
    expect(code).toContain('CAST(c.signup_date AS STRING) AS signup_date');
    // Spark's grammar accepts 'Bank''s feeds' too, as two adjacent literals meaning "Banks feeds".
    expect(sql).toContain(String.raw`module = 'Bank\'s feeds'`);
  });
});

describe('dialect spellings (hand-checked against each engine manual)', () => {
  it('writes text literals each engine reads back as the same string', () => {
    expect(dialectSpelling('spark').text("it's a\\b")).toBe(String.raw`'it\'s a\\b'`);
    for (const d of ['duckdb', 'trino', 'postgres'] as const) expect(dialectSpelling(d).text("it's a\\b")).toBe(String.raw`'it''s a\b'`);
  });

  it('counts days between dates, end minus start', () => {
    expect(dialectSpelling('spark').days('a', 'b')).toBe('datediff(b, a)');
    expect(dialectSpelling('trino').days('a', 'b')).toBe(`date_diff('day', a, b)`);
    expect(dialectSpelling('postgres').days('a', 'b')).toBe('(b - a)');
  });

  it('uses PostgreSQL type names and byte-order sorting there', () => {
    const sql = featureTableSql(AS_OF, settings[0]!, 'postgres');
    expect(sql).not.toMatch(/AS DOUBLE\)/);
    expect(sql).toContain('AS DOUBLE PRECISION)');
    expect(sql).toMatch(/ORDER BY f\.customer_id COLLATE "C"$/);
  });
});

describe('finseg features-sql --dialect', () => {
  async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
    let out = '';
    let err = '';
    const write = [process.stdout.write, process.stderr.write];
    process.stdout.write = ((chunk: string) => ((out += chunk), true)) as typeof process.stdout.write;
    process.stderr.write = ((chunk: string) => ((err += chunk), true)) as typeof process.stderr.write;
    try {
      return { code: await main(['features-sql', '--as-of', AS_OF, ...args]), out, err };
    } finally {
      [process.stdout.write, process.stderr.write] = write as [typeof process.stdout.write, typeof process.stderr.write];
    }
  }

  it('prints the chosen dialect', async () => {
    const r = await run(['--dialect', 'postgres']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('DOUBLE PRECISION');
    expect(r.out.trimEnd().endsWith(';')).toBe(true);
  });

  it('refuses a missing or unknown dialect with exit code 2, naming the choices', async () => {
    const missing = await run([]);
    expect(missing.code).toBe(2);
    expect(missing.err).toContain('--dialect is required');
    const unknown = await run(['--dialect', 'mysql']);
    expect(unknown.code).toBe(2);
    expect(unknown.err).toContain('--dialect must be one of duckdb, spark, trino, postgres, got "mysql"');
  });
});
