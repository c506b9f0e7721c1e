import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ingest, defaultIngestParams } from '../../pipeline/01-ingest/ingest.ts';
import { recognise } from '../../pipeline/01-ingest/init-roles.ts';
import { openDuck, queryRows } from '../../pipeline/core/duck.ts';
import { quietLogger } from '../../pipeline/core/log.ts';
import { CONFLICTS_SQL, MEMBERS_SQL, outcomesSql } from '../../pipeline/09-drift/evaluate-sql.ts';
import { writeFolder } from '../helpers/folder.ts';

const root = mkdtempSync(join(tmpdir(), 'finseg-actions-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

// Customer X has a bad required value (signup date), so its action row follows it into quarantine.
const files = {
  'customers.csv': 'customer_id,signup_date\nA,2026-01-01\nB,2026-01-01\nC,2026-01-01\nD,2026-01-01\nX,not a date\n',
  'usage_events.csv': [
    'customer_id,ts,module',
    'A,2026-05-01 10:00:00,general_ledger',
    'A,2026-06-10 10:00:00,invoicing', // A adopts invoicing 9 days after its action
    'B,2026-05-01 10:00:00,invoicing', // B used invoicing before: not at risk
    'C,2026-09-20 10:00:00,invoicing', // C first uses it after the 90-day window
    'D,2026-06-05 10:00:00,payroll', // D: a module new to it inside the window (newsletter)
  ].join('\n'),
  'feedback.csv': 'customer_id,ts,nps,tickets\nA,2026-05-01 10:00:00,6,\nA,2026-06-20 10:00:00,9,\nA,2026-07-01 10:00:00,10,\nC,2026-05-01 10:00:00,8,\nC,2026-06-15 10:00:00,7,\nD,2026-06-15 10:00:00,7,\n',
  'actions.csv': [
    'Customer ID,Campaign,Sent At,Group',
    'A,invoicing_upsell,2026-06-01,treatment',
    'B,invoicing_upsell,2026-06-01,control',
    'C,invoicing_upsell,2026-06-01,control',
    'D,newsletter,2026-06-01,treatment',
    'D,newsletter,2026-06-03,control', // D in both arms: left out of newsletter
    'A,newsletter,2026-06-01,control',
    'A,invoicing_upsell,2026-10-05,treatment', // after the as-of day
    'B,,2026-06-01,treatment', // blank action
    'C,newsletter,2026-06-01,', // blank variant
    'Z,newsletter,2026-06-01,control', // unknown customer
    'X,newsletter,2026-06-01,control', // customer quarantined
  ].join('\n'),
};

describe('the actions table: mapped, checked and quarantined like the others', () => {
  it('quarantines each bad row with its reason, the counts reconcile, and the outcomes follow the definitions', async () => {
    const dir = writeFolder(root, 'data', files);
    const columns = { actions: { customer_id: 'Customer ID', action: 'Campaign', date: 'Sent At', variant: 'Group' } };
    const conn = await openDuck();
    try {
      const result = await ingest(conn, dir, { ...defaultIngestParams, asOf: '2026-09-30', columns, quarantineLimit: 1 }, join(root, 'q'), quietLogger);
      const a = result.tables.actions!;
      expect(a).toMatchObject({ read: 11, accepted: 6, quarantined: 5 });
      expect(a.read).toBe(a.accepted + a.quarantined);
      expect(a.byReason).toEqual({ after_as_of: 1, missing_key: 2, unknown_customer: 1, customer_quarantined: 1 });
      const q = readFileSync(join(result.quarantineDir!, 'actions.csv'), 'utf8');
      expect(q.split('\n').filter((l) => l.includes('missing_key')).length).toBe(2);
      expect(result.absentTables).not.toContain('actions');

      await conn.run(MEMBERS_SQL);
      expect((await queryRows(conn, CONFLICTS_SQL)).map((r) => [r.action, Number(r.n)])).toEqual([['newsletter', 1]]);
      await conn.run(`CREATE TEMP TABLE __action_module AS SELECT * FROM (VALUES ('invoicing_upsell', 'invoicing'), ('newsletter', NULL)) v(action, module)`);
      const rows = await queryRows(conn, `SELECT * FROM (${outcomesSql('2026-09-30', 90, 90, { usage: true, feedback: true, subscriptions: false, segments: false })})`);
      const got = rows.map((r) => [r.action, r.variant, r.adopted, r.churned, r.nps_change === null ? null : Number(r.nps_change)]);
      expect(got).toEqual([
        // A: first invoicing use 9 days after → adopted; NPS (9+10)/2 − 6 = 3.5
        ['invoicing_upsell', 'treatment', true, null, 3.5],
        // B used invoicing before its action: not at risk
        ['invoicing_upsell', 'control', null, null, null],
        // C: first use after the window → not adopted; NPS 7 − 8 = −1
        ['invoicing_upsell', 'control', false, null, -1],
        // A in the newsletter: invoicing was new to it within the window
        ['newsletter', 'control', true, null, 3.5],
      ]);
    } finally {
      conn.closeSync();
    }
  });

  it('churn after the action from subscriptions: MRR > 0 on the day and 0 within the window', async () => {
    const conn = await openDuck();
    try {
      await conn.run(`CREATE TABLE subscriptions AS SELECT * FROM (VALUES
        ('A', 100.0, DATE '2026-01-01', DATE '2026-07-01'),
        ('B', 50.0, DATE '2026-01-01', NULL),
        ('C', 10.0, DATE '2026-01-01', DATE '2026-06-15'), ('C', 20.0, DATE '2026-06-15', NULL),
        ('D', 0.0, DATE '2026-01-01', NULL)) v(customer_id, mrr, start_date, end_date)`);
      await conn.run(`CREATE TABLE actions AS SELECT * FROM (VALUES ('A', 'p', DATE '2026-06-01', 't'), ('B', 'p', DATE '2026-06-01', 'control'), ('C', 'p', DATE '2026-06-01', 't'), ('D', 'p', DATE '2026-06-01', 't')) v(customer_id, action, date, variant)`);
      await conn.run(MEMBERS_SQL);
      await conn.run(`CREATE TEMP TABLE __action_module AS SELECT 'p' AS action, NULL AS module`);
      const rows = await queryRows(conn, outcomesSql('2026-09-30', 90, 90, { usage: false, feedback: false, subscriptions: true, segments: false }));
      expect(rows.map((r) => r.churned)).toEqual([true, false, false, null]);
    } finally {
      conn.closeSync();
    }
  });

  it('init reads a file with an id, a date, a campaign and a group as actions', () => {
    const col = (name: string, extra: Partial<Record<string, number>> = {}) => ({ name, nonBlank: 10, distinct: 5, distinctNormalised: 5, timestampShare: 0, numberShare: 0, formats: [] as string[], ...extra });
    const file = { rel: 'campaign_log.csv', rows: 10, columns: [col('customer_id'), col('campaign'), col('sent_at', { timestampShare: 1 }), col('group')] };
    const fit = recognise('actions', file as never);
    expect(fit.ok).toBe(true);
    expect(fit.found.join(' ')).toContain('variant "group"');
  });
});
