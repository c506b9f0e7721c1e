import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { ingest, defaultIngestParams } from '../../pipeline/01-ingest/ingest.ts';
import { featureTableSql } from '../../pipeline/02-features/feature-file.ts';
import { vendorModuleFeatures } from '../../pipeline/02-features/catalog.ts';
import { defaultFeatureParams, type FeatureParams } from '../../pipeline/02-features/params.ts';
import { openDuck, queryRows, readColumns, sqlString, type Columns } from '../../pipeline/core/duck.ts';
import { quietLogger } from '../../pipeline/core/log.ts';
import { defaultGenerateParams, generateDataset } from '../../pipeline/generate/generate.ts';
import { PG_MISSING, pgBin, pgTestsRun, startPostgres, type TestPostgres } from '../helpers/postgres.ts';

/**
 * The postgres dialect of the feature SQL on a real PostgreSQL server: a throw-away cluster
 * (initdb, pg_ctl on a loopback port, socket in a temp folder), the contract tables of a generated
 * data set as finseg's ingest accepts them loaded with COPY, the printed query run there, and its
 * table compared with the one finseg computes in DuckDB: the same columns, the same customers in
 * the same order, text equal, every number within 1e-9 and NULL in the same places.
 *
 * PostgreSQL refuses to run as root, so as root the server commands run as the `postgres` user the
 * Debian package creates. Without the binaries the test is skipped, except in CI (CI=true, where
 * .ci/run installs the `postgresql` package), where it fails; a server that does not start fails
 * everywhere, with its log.
 */
const TEXT = ['customer_id', 'industry', 'region', 'edition', 'deployment', 'buyer_role', 'signup_date'];

/** The PostgreSQL type of a DuckDB column type of the contract tables. */
function pgType(duckType: string): string {
  if (/^DECIMAL/.test(duckType)) return duckType.replace('DECIMAL', 'NUMERIC');
  const types: Record<string, string> = {
    VARCHAR: 'TEXT',
    DATE: 'DATE',
    TIMESTAMP: 'TIMESTAMP',
    'TIMESTAMP WITH TIME ZONE': 'TIMESTAMPTZ',
    DOUBLE: 'DOUBLE PRECISION',
    FLOAT: 'REAL',
    BIGINT: 'BIGINT',
    INTEGER: 'INTEGER',
    SMALLINT: 'SMALLINT',
    BOOLEAN: 'BOOLEAN',
  };
  const t = types[duckType];
  if (!t) throw new Error(`no PostgreSQL type for DuckDB ${duckType}`);
  return t;
}

describe.runIf(pgTestsRun)(`the postgres feature SQL on a real PostgreSQL server${pgBin() ? '' : ` (skipped: ${PG_MISSING})`}`, () => {
  const work = mkdtempSync(join(tmpdir(), 'finseg-pg-features-'));
  let server: TestPostgres | null = null;
  let conn: DuckDBConnection;
  let startError: string | null = null;
  let reference: Columns;
  let fromPostgres: Columns;
  let referenceColumns: string[];
  let postgresColumns: string[];

  /** psql against the throw-away server; stops at the first error. */
  const psql = (sql: string, input?: string) => server!.psql(sql, input);

  /** Loads a DuckDB table into PostgreSQL: CREATE TABLE with the matching types, then COPY FROM STDIN of its CSV. */
  async function load(table: string): Promise<number> {
    const described = await queryRows(conn, `DESCRIBE ${table}`);
    psql(`CREATE TABLE ${table} (${described.map((c) => `"${String(c.column_name)}" ${pgType(String(c.column_type))}`).join(', ')})`);
    const csv = join(work, `${table}.csv`);
    await conn.run(`COPY (SELECT * FROM ${table}) TO ${sqlString(csv)} (FORMAT csv, HEADER)`);
    psql(`\\copy ${table} FROM pstdin WITH (FORMAT csv, HEADER true)`, readFileSync(csv, 'utf8'));
    return Number(psql(`COPY (SELECT count(*) FROM ${table}) TO STDOUT`).trim());
  }

  beforeAll(async () => {
    try {
      server = await startPostgres();
    } catch (e) {
      startError = (e as Error).message;
      return;
    }
    const generated = join(work, 'generated');
    await generateDataset(generated, { ...defaultGenerateParams, customers: 300, eventsPerCustomer: 30, seed: 53 }, 'csv', quietLogger);
    conn = await openDuck();
    const ingested = await ingest(conn, generated, defaultIngestParams, null, quietLogger);
    // Vendor modules outside the catalog, one with a quote in its name: shares of their own and pooled ones.
    await conn.run(`UPDATE usage_events SET module = CASE hash(customer_id, ts) % 7 WHEN 0 THEN 'Bank''s feeds' WHEN 1 THEN 'Time sheets' ELSE module END`);
    const vendorModules = vendorModuleFeatures(["Bank's feeds"]);
    const params: FeatureParams = { ...defaultFeatureParams, vendorModules };
    for (const table of ['customers', 'usage_events', 'transactions']) {
      const [{ n }] = (await queryRows(conn, `SELECT count(*) AS n FROM ${table}`)) as [{ n: number }];
      expect(await load(table), table).toBe(Number(n));
    }
    const duckSql = featureTableSql(ingested.asOf, params, 'duckdb');
    reference = await readColumns(conn, duckSql, [...TEXT, 'as_of']);
    const described = await queryRows(conn, `DESCRIBE SELECT * FROM (${duckSql})`);
    referenceColumns = described.map((c) => String(c.column_name));
    // PostgreSQL's CSV, read back with the reference's column types (shortest exact float text, PostgreSQL 12+).
    const out = join(work, 'postgres-features.csv');
    writeFileSync(out, psql(`COPY (${featureTableSql(ingested.asOf, params, 'postgres')}) TO STDOUT WITH (FORMAT csv, HEADER true)`));
    postgresColumns = readFileSync(out, 'utf8').split('\n', 1)[0]!.split(',');
    const types = `{${described.map((c) => `${sqlString(String(c.column_name))}: ${sqlString(String(c.column_type))}`).join(', ')}}`;
    fromPostgres = await readColumns(conn, `SELECT * FROM read_csv(${sqlString(out)}, header = true, columns = ${types})`, [...TEXT, 'as_of']);
  }, 300_000);

  afterAll(() => {
    conn?.closeSync();
    server?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('starts a throw-away server', () => {
    expect(startError).toBeNull();
  });

  it('returns the columns of the DuckDB feature table, in its order', () => {
    expect(startError).toBeNull();
    expect(postgresColumns).toEqual(referenceColumns);
    expect(referenceColumns).toContain('share_vendor_bank_s_feeds');
  });

  it('gives the same customers in the same order, and the same attributes and as-of date', () => {
    expect(startError).toBeNull();
    expect(fromPostgres.rowCount).toBe(300);
    expect(fromPostgres.text).toEqual(reference.text);
  });

  it('gives every number within 1e-9, NULL in the same places', () => {
    expect(startError).toBeNull();
    const numeric = Object.keys(reference.numeric);
    expect(numeric.length).toBeGreaterThan(40);
    for (const f of numeric) {
      const a = fromPostgres.numeric[f]!;
      const b = reference.numeric[f]!;
      expect(a, f).toBeDefined();
      let worst = 0;
      for (let i = 0; i < b.length; i++) {
        expect(Number.isNaN(a[i]!), `${f} row ${i}`).toBe(Number.isNaN(b[i]!));
        if (!Number.isNaN(b[i]!)) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
      }
      expect(worst, f).toBeLessThanOrEqual(1e-9);
    }
    // The comparison covers the named vendor share and the pooled one, with values.
    expect(Array.from(reference.numeric['share_vendor_bank_s_feeds']!).some((v) => v > 0)).toBe(true);
    expect(Array.from(reference.numeric['share_vendor_other']!).some((v) => v > 0)).toBe(true);
  });
});
