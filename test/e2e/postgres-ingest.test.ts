import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PG_MISSING, pgBin, pgTestsRun, startPostgres, type TestPostgres } from '../helpers/postgres.ts';
import { finsegCli } from '../helpers/cli.ts';

/**
 * Reading an export straight from the vendor's PostgreSQL (`ingest.postgres`, docs/data-contract
 * / README): a throw-away server holding a generated export under the vendor's own schema, table
 * and column names, plus two bad rows. Training features read from it must equal those read from
 * the same rows as files, with the same quarantine; a wrong password and a missing table stop
 * with exit code 2 and one line naming the setting; a password written into the config is refused
 * (the config is stored in every bundle).
 */
const work = mkdtempSync(join(tmpdir(), 'finseg-pg-ingest-'));
const files = join(work, 'files');
let server: TestPostgres | null = null;
let startError: string | null = null;

const finseg = (args: string[], env: Record<string, string> = {}) => finsegCli(args, { env });

/** The config reading the vendor's tables: their names for the contract's columns, events through a query. */
function pgConfig(name: string, tables: Record<string, unknown>, url?: string): string {
  const path = join(work, `${name}.json`);
  writeFileSync(
    path,
    JSON.stringify({
      ingest: {
        postgres: { url: url ?? `postgres://finseg@127.0.0.1:${server!.port}/vendor`, tables },
        columns: {
          customers: { customer_id: 'client_no', signup_date: 'opened', industry: 'sector', employees: 'staff', annual_revenue: 'revenue_k', founded_year: 'founded', region: 'area', deployment: 'hosting', edition: 'plan', buyer_role: 'buyer' },
          transactions: { customer_id: 'client_no', ts: 'booked_at', amount: 'amount' },
        },
      },
    }),
  );
  return path;
}
const TABLES = { customers: 'crm.Clients', transactions: 'ledger.entries', usage_events: { query: 'SELECT * FROM app.events ORDER BY customer_id, ts, module' } };
const PASSWORD = { PGPASSWORD: 's3cret' };

beforeAll(async () => {
  if (!pgTestsRun) return;
  try {
    server = await startPostgres({ tcpPasswords: true });
  } catch (e) {
    startError = (e as Error).message;
    return;
  }
  const gen = await finseg(['generate', '--out', files, '--customers', '300', '--seed', '61', '--format', 'csv', '--quiet']);
  if (gen.code !== 0) throw new Error(gen.stderr);
  // The database holds the three tables features are built from; the generator's other tables and truth files stay out of both.
  for (const extra of ['truth.csv', 'subscriptions.csv', 'subscriptions_truth.csv', 'feedback.csv', 'actions.csv', 'actions_truth.csv']) rmSync(join(files, extra), { force: true });
  // Two bad rows, in the files and in the database alike: a transaction without an amount, an event of an unknown customer.
  appendFileSync(join(files, 'transactions.csv'), 'C000001,2026-09-01 10:00:00,,CNY,sale\n');
  appendFileSync(join(files, 'usage_events.csv'), 'NOBODY,2026-09-01 10:00:00,invoicing,web,NOBODY-u1,1\n');
  const psql = server.psql;
  psql(`CREATE ROLE finseg LOGIN PASSWORD 's3cret'`);
  psql('CREATE DATABASE vendor OWNER finseg');
  const sql = (s: string, input?: string) => server!.psql(s, input, 'vendor');
  sql('CREATE SCHEMA crm; CREATE SCHEMA ledger; CREATE SCHEMA app');
  sql('CREATE TABLE crm."Clients" (client_no TEXT, opened DATE, sector TEXT, staff INTEGER, revenue_k DOUBLE PRECISION, founded INTEGER, area TEXT, hosting TEXT, plan TEXT, buyer TEXT)');
  sql('CREATE TABLE ledger.entries (client_no TEXT, booked_at TIMESTAMP, amount NUMERIC(14, 2), currency TEXT, kind TEXT)');
  sql('CREATE TABLE app.events (customer_id TEXT, ts TIMESTAMP, module TEXT, device TEXT, user_id TEXT, "count" DOUBLE PRECISION)');
  sql('\\copy crm."Clients" FROM pstdin WITH (FORMAT csv, HEADER true)', readFileSync(join(files, 'customers.csv'), 'utf8'));
  sql('\\copy ledger.entries FROM pstdin WITH (FORMAT csv, HEADER true)', readFileSync(join(files, 'transactions.csv'), 'utf8'));
  sql('\\copy app.events FROM pstdin WITH (FORMAT csv, HEADER true)', readFileSync(join(files, 'usage_events.csv'), 'utf8'));
  sql('GRANT USAGE ON SCHEMA crm, ledger, app TO finseg; GRANT SELECT ON ALL TABLES IN SCHEMA crm, ledger, app TO finseg');
}, 300_000);
afterAll(() => {
  server?.stop();
  rmSync(work, { recursive: true, force: true });
});

describe.runIf(pgTestsRun)(`ingest.postgres on a real PostgreSQL server${pgBin() ? '' : ` (${PG_MISSING})`}`, () => {
  it('reads the vendor\'s tables into the same features and the same quarantine as the same rows in files', async () => {
    expect(startError).toBeNull();
    const fromPg = await finseg(['features', '--config', pgConfig('pg', TABLES), '--as-of', '2026-09-30', '--out', join(work, 'pg.csv'), '--quarantine', join(work, 'q-pg')], PASSWORD);
    expect(fromPg.code, fromPg.stderr).toBe(0);
    // The files carry the contract's names, so the same settings without the mapping read them.
    const fromFiles = await finseg(['features', '--data', files, '--as-of', '2026-09-30', '--out', join(work, 'files.csv'), '--quarantine', join(work, 'q-files')]);
    expect(fromFiles.code, fromFiles.stderr).toBe(0);
    const pgFeatures = readFileSync(join(work, 'pg.csv'), 'utf8');
    expect(pgFeatures.split('\n').length).toBeGreaterThan(300);
    expect(pgFeatures).toBe(readFileSync(join(work, 'files.csv'), 'utf8'));
    // The two bad rows are quarantined with their reasons, from the database as from the files.
    const counts = (log: string) => [...log.matchAll(/ingest (\w+): read (\d+), accepted (\d+), quarantined (\d+)/g)].map((m) => m.slice(1).join(' '));
    expect(counts(fromPg.stderr)).toEqual(counts(fromFiles.stderr));
    expect(fromPg.stderr).toMatch(/ingest transactions: read \d+, accepted \d+, quarantined 1 \(missing_key 1\)\n/);
    expect(fromPg.stderr).toMatch(/ingest usage_events: read \d+, accepted \d+, quarantined 1 \(unknown_customer 1\)\n/);
    expect(fromPg.stderr).toMatch(/postgres: customers ← crm\.Clients \(postgres:\/\/finseg@127\.0\.0\.1:\d+\/vendor\)/);
  }, 180_000);

  it('a wrong password and a missing table stop with exit code 2 and one line naming the setting', async () => {
    expect(startError).toBeNull();
    const config = pgConfig('pg', TABLES);
    const wrong = await finseg(['validate', '--config', config], { PGPASSWORD: 'wrong' });
    expect(wrong.code).toBe(2);
    expect(wrong.stderr.trim().split('\n')).toHaveLength(1);
    expect(wrong.stderr).toMatch(/^finseg: ingest\.postgres\.url: cannot connect to postgres:\/\/finseg@127\.0\.0\.1:\d+\/vendor: password authentication failed for user "finseg"/);

    const missing = await finseg(['validate', '--config', pgConfig('missing', { ...TABLES, transactions: 'ledger.nope' })], PASSWORD);
    expect(missing.code).toBe(2);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
    expect(missing.stderr).toMatch(/^finseg: ingest\.postgres\.tables\.transactions: relation "ledger\.nope" does not exist/);
  }, 120_000);

  it('refuses a password written into the config, which every bundle stores', async () => {
    const r = await finseg(['validate', '--config', pgConfig('secret', TABLES, `postgres://finseg:s3cret@127.0.0.1:${server?.port ?? 5432}/vendor`)]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/ingest\.postgres\.url: expected no password in the URL .*PGPASSWORD/);
    expect(r.stderr).not.toMatch(/s3cret/);
  });
});
