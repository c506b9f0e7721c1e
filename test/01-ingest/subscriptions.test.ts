import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ingest, defaultIngestParams, type IngestParams, type IngestResult } from '../../pipeline/01-ingest/ingest.ts';
import { openDuck, queryRows } from '../../pipeline/core/duck.ts';
import { InputError } from '../../pipeline/core/errors.ts';
import { quietLogger } from '../../pipeline/core/log.ts';
import { parseConfig } from '../../pipeline/config/config.ts';
import { writeFolder } from '../helpers/folder.ts';

/**
 * The optional subscriptions table on hand-made files: each bad row quarantined with the reason
 * written beside it, good rows typed and value-mapped, the customer cascade as for events, and
 * read = accepted + quarantined.
 */
const work = mkdtempSync(join(tmpdir(), 'finseg-subs-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const base: IngestParams = { ...defaultIngestParams, asOf: '2026-09-30', quarantineLimit: 1 };

const CUSTOMERS = ['customer_id,signup_date', 'A,2025-01-01', 'B,2025-02-01', 'Q,not a date'].join('\n');
const EVENTS = ['customer_id,ts,module', 'A,2026-09-01 10:00:00,tax', 'B,2026-09-02 10:00:00,tax'].join('\n');

/** Each subscription row with the reason the test expects (null = accepted), by file line. */
const ROWS: readonly [string, string | null][] = [
  ['A,Pro,5,500,CNY,2025-01-01,2025-06-01,upgraded', null], // 2: ended period ("upgraded" maps to ended)
  ['A,Pro,8,800,cny,2025-06-01,,Active', null], // 3: active, currency upper-cased
  ['B,Starter,1,50,,2025-02-01,2025-02-01,canceled', null], // 4: cancelled on its start day: accepted
  ['B,Starter,2,100,USD,2025-03-01,2025-02-01,cancelled', 'end_before_start'], // 5
  ['B,Starter,2,-10,USD,2025-03-01,,active', 'out_of_range'], // 6: negative MRR
  ['B,,2,10,USD,2025-03-01,,active', 'missing_key'], // 7: no plan
  ['B,Starter,2,10,USD,2026-10-05,,active', 'after_as_of'], // 8: starts after the as-of day
  ['B,Starter,2,10,USD,2026-09-01,2027-01-31,active', null], // 9: a scheduled end after as-of is accepted
  ['B,Starter,2,10,USD,2026-09-01,someday,active', 'unparseable'], // 10: a bad end date takes the row, never reads as active
  ['Z,Starter,2,10,USD,2026-01-01,,active', 'unknown_customer'], // 11
  ['Q,Starter,2,10,USD,2026-01-01,,active', 'customer_quarantined'], // 12: Q's customers row is quarantined
  ['A,Pro,-1,10,USD,2026-01-01,,teleport', null], // 13: bad seats and status are optional cells: nulled, row kept
];
const SUBS = ['customer_id,plan,seats,mrr,currency,start_date,end_date,status', ...ROWS.map((r) => r[0])].join('\n');

async function run(dir: string, params: IngestParams, sql: string): Promise<{ result: IngestResult; rows: Record<string, unknown>[] }> {
  const conn = await openDuck();
  try {
    const result = await ingest(conn, dir, params, join(dir, 'q'), quietLogger);
    return { result, rows: await queryRows(conn, sql) };
  } finally {
    conn.closeSync();
  }
}

/** "line reason" of each quarantined row of a table, from the quarantine file. */
function quarantined(result: IngestResult, table: string): string[] {
  const lines = readFileSync(join(result.quarantineDir!, `${table}.csv`), 'utf8').trim().split('\n');
  const header = lines[0]!.split(',');
  const [li, ri] = [header.indexOf('line'), header.indexOf('reason')];
  return lines.slice(1).map((l) => `${l.split(',')[li]} ${l.split(',')[ri]}`).sort();
}

const expectedQuarantine = (rows: readonly [string, string | null][]) =>
  rows.flatMap(([, reason], i) => (reason ? [`${i + 2} ${reason}`] : [])).sort();

describe('subscriptions through the contract', () => {
  const dir = writeFolder(work, 'subs', { 'customers.csv': CUSTOMERS, 'usage_events.csv': EVENTS, 'subscriptions.csv': SUBS });

  it('quarantines each bad row with its reason and accepts the rest, typed; the counts reconcile', async () => {
    const { result, rows } = await run(dir, base, `SELECT customer_id, plan, seats, mrr, currency, CAST(start_date AS VARCHAR) AS s, CAST(end_date AS VARCHAR) AS e, status FROM subscriptions ORDER BY customer_id, start_date, mrr`);
    const report = result.tables.subscriptions!;
    expect(result.absentTables).not.toContain('subscriptions');
    expect(report.read).toBe(ROWS.length);
    expect(report.accepted + report.quarantined).toBe(report.read);
    expect(report.quarantined).toBe(ROWS.filter((r) => r[1]).length);
    expect(quarantined(result, 'subscriptions')).toEqual(expectedQuarantine(ROWS));
    expect(rows).toEqual([
      { customer_id: 'A', plan: 'Pro', seats: 5, mrr: 500, currency: 'CNY', s: '2025-01-01', e: '2025-06-01', status: 'ended' },
      { customer_id: 'A', plan: 'Pro', seats: 8, mrr: 800, currency: 'CNY', s: '2025-06-01', e: null, status: 'active' },
      { customer_id: 'A', plan: 'Pro', seats: null, mrr: 10, currency: 'USD', s: '2026-01-01', e: null, status: null },
      { customer_id: 'B', plan: 'Starter', seats: 1, mrr: 50, currency: null, s: '2025-02-01', e: '2025-02-01', status: 'cancelled' },
      { customer_id: 'B', plan: 'Starter', seats: 2, mrr: 10, currency: 'USD', s: '2026-09-01', e: '2027-01-31', status: 'active' },
    ]);
  });

  it('with ingest.plans set, a plan outside the list is bad_enum and a listed one is stored as the config spells it', async () => {
    const rows: [string, string | null][] = [
      ['A,pro,1,10,USD,2026-01-01,,active', null],
      ['A,Platinum,1,10,USD,2026-01-01,,active', 'bad_enum'],
      ['B,STARTER,1,10,USD,2026-01-01,,active', null],
    ];
    const d = writeFolder(work, 'plans', { 'customers.csv': CUSTOMERS, 'usage_events.csv': EVENTS, 'subscriptions.csv': ['customer_id,plan,seats,mrr,currency,start_date,end_date,status', ...rows.map((r) => r[0])].join('\n') });
    const { result, rows: plans } = await run(d, { ...base, plans: ['Pro', 'Starter'] }, 'SELECT plan FROM subscriptions ORDER BY plan');
    expect(quarantined(result, 'subscriptions')).toEqual(expectedQuarantine(rows));
    expect(plans.map((r) => r.plan)).toEqual(['Pro', 'Starter']);
  });

  it('maps the export\'s own column names through ingest.columns', async () => {
    const d = writeFolder(work, 'mapped', {
      'customers.csv': CUSTOMERS,
      'usage_events.csv': EVENTS,
      'billing.csv': ['account,套餐,用户数,月费,开始日期,结束日期,状态', 'A,旗舰版,3,300,2026-01-01,,试用', 'B,基础版,1,-5,2026-01-01,,流失'].join('\n'),
    });
    const params: IngestParams = {
      ...base,
      files: { subscriptions: 'billing.csv' },
      columns: { subscriptions: { customer_id: 'account', plan: '套餐', seats: '用户数', mrr: '月费', start_date: '开始日期', end_date: '结束日期', status: '状态' } },
    };
    const { result, rows } = await run(d, params, 'SELECT customer_id, plan, status FROM subscriptions');
    expect(rows).toEqual([{ customer_id: 'A', plan: '旗舰版', status: 'trialing' }]);
    expect(quarantined(result, 'subscriptions')).toEqual(['3 out_of_range']);
  });

  it('is optional: an export without it lists it as absent and gives an empty table', async () => {
    const d = writeFolder(work, 'none', { 'customers.csv': CUSTOMERS, 'usage_events.csv': EVENTS });
    const { result, rows } = await run(d, base, 'SELECT count(*) AS n FROM subscriptions');
    expect(result.absentTables).toContain('subscriptions');
    expect(rows[0]!.n).toBe(0);
  });
});

describe('ingest.plans in the config', () => {
  it('takes a list of names; a blank name is an InputError naming the key', () => {
    expect(parseConfig({ ingest: { plans: ['Pro'] } }, 'c.json').ingest.plans).toEqual(['Pro']);
    expect(() => parseConfig({ ingest: { plans: ['Pro', ' '] } }, 'c.json')).toThrow(InputError);
  });
});

describe('finseg init on an export with a billing file', () => {
  it('reads the file as subscriptions, maps its columns by their (Chinese) names, and the proposal ingests', async () => {
    const customers = ['客户编号,注册日期,版本', ...Array.from({ length: 30 }, (_, i) => `K${i},2025-0${1 + (i % 9)}-01,Pro`)].join('\n');
    const events = ['客户编号,时间,功能', ...Array.from({ length: 90 }, (_, i) => `K${i % 30},2026-09-${String(1 + (i % 28)).padStart(2, '0')} 10:00:00,发票`)].join('\n');
    const billing = [
      '客户编号,套餐,用户数,月费,开始日期,结束日期,状态',
      ...Array.from({ length: 30 }, (_, i) => `K${i},${i % 2 ? '旗舰版' : '标准版'},${1 + (i % 5)},${100 * (1 + (i % 5))},2025-0${1 + (i % 9)}-01,${i % 4 === 0 ? '2026-03-01' : ''},${i % 4 === 0 ? '已取消' : '正常'}`),
    ].join('\n');
    const d = writeFolder(work, 'init', { 'kehu.csv': customers, 'shiyong.csv': events, 'billing_export.csv': billing });
    const { proposeConfig } = await import('../../pipeline/jobs/init.ts');
    const proposal = await proposeConfig(d, '.');
    const ingestSlice = proposal.config.ingest as { files: Record<string, string>; columns: Record<string, Record<string, unknown>> };
    expect(ingestSlice.files.subscriptions).toBe('billing_export.csv');
    expect(ingestSlice.columns.subscriptions).toMatchObject({ customer_id: '客户编号', plan: '套餐', seats: '用户数', mrr: '月费', start_date: '开始日期', end_date: '结束日期', status: '状态' });
    const config = parseConfig(proposal.config, 'proposal');
    const { result, rows } = await run(d, { ...config.ingest, asOf: '2026-09-30', quarantineLimit: 1 }, "SELECT count(*) FILTER (WHERE status = 'cancelled') AS cancelled, count(*) AS n FROM subscriptions");
    expect(result.tables.subscriptions!.quarantined).toBe(0);
    expect(rows[0]).toEqual({ cancelled: 8, n: 30 });
  });
});
