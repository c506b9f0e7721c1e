/**
 * The SQL side of `finseg evaluate`: each action member's outcomes from the accepted tables
 * (`actions`, `usage_events`, `feedback`, `subscriptions`), with the definitions of evaluate.ts.
 * A customer is a member of an action once: at its earliest date; one put in two arms of the same
 * action is left out and counted (`conflicts`).
 */
import { catalogModuleFor } from '../01-ingest/init-roles.ts';
import { nameKey } from '../01-ingest/names.ts';
import { sqlString } from '../core/duck.ts';
import { activeOnSql } from '../01-ingest/subscription-sql.ts';

/** The tables the outcomes read: a missing one makes its outcome unavailable. */
export interface OutcomeTables {
  usage: boolean;
  feedback: boolean;
  subscriptions: boolean;
  /** `__segments(customer_id, segment_id)` exists. */
  segments: boolean;
}

/**
 * The module an action promotes: the config's `evaluate.modules` entry ("" = none), else the
 * catalog module the action's name names, else the longest vendor module (a module in the usage
 * table) whose name the action's name contains; null = none (any new module is measured).
 */
export function actionModule(action: string, configured: Readonly<Record<string, string>>, dataModules: readonly string[]): string | null {
  if (Object.hasOwn(configured, action)) return configured[action] || null;
  const catalog = catalogModuleFor(action);
  if (catalog) return catalog;
  const key = nameKey(action);
  const contained = dataModules.filter((m) => nameKey(m).length >= 3 && key.includes(nameKey(m))).sort((a, b) => nameKey(b).length - nameKey(a).length);
  return contained[0] ?? null;
}

/** `__members`: one row per (action, customer) with its date and variant, customers in two arms left out. */
export const MEMBERS_SQL = `CREATE OR REPLACE TEMP TABLE __members AS
  SELECT customer_id, action, min(date) AS date, arg_min(variant, date) AS variant FROM actions
  GROUP BY customer_id, action HAVING count(DISTINCT variant) = 1`;

/** Customers put in two arms of one action, per action. */
export const CONFLICTS_SQL = `SELECT action, count(*) AS n FROM (SELECT customer_id, action FROM actions GROUP BY ALL HAVING count(DISTINCT variant) > 1) GROUP BY action ORDER BY action`;

/**
 * One row per member: action, variant, segment_id, adopted, churned, nps_change (NULL where not
 * measured). Needs `__members` and `__action_module(action, module)`; windows end at the as-of day.
 */
export function outcomesSql(asOf: string, windowDays: number, churnDays: number, tables: OutcomeTables): string {
  const end = `DATE ${sqlString(asOf)} + INTERVAL 1 DAY`;
  const windowEnd = `least(m.date + INTERVAL ${windowDays} DAY, ${end})`;
  const churnEnd = `least(CAST(m.date + INTERVAL ${churnDays} DAY AS DATE), DATE ${sqlString(asOf)})`;
  const firstUse = tables.usage
    ? `first_use AS (SELECT customer_id, module, min(ts) AS first_ts FROM usage_events WHERE customer_id IN (SELECT customer_id FROM __members) GROUP BY ALL),`
    : '';
  const adopted = tables.usage
    ? `CASE WHEN am.module IS NOT NULL THEN
         (SELECT CASE WHEN min(f.first_ts) < m.date THEN NULL ELSE coalesce(bool_or(f.first_ts < ${windowEnd}), false) END FROM first_use f WHERE f.customer_id = m.customer_id AND f.module = am.module)
       ELSE coalesce((SELECT bool_or(f.first_ts >= m.date AND f.first_ts < ${windowEnd}) FROM first_use f WHERE f.customer_id = m.customer_id), false) END`
    : 'NULL';
  const mrrAt = (day: string) => `(SELECT coalesce(sum(s.mrr), 0) FROM subscriptions s WHERE s.customer_id = m.customer_id AND ${activeOnSql(day, 's.')})`;
  const churned = tables.subscriptions ? `CASE WHEN ${mrrAt('m.date')} > 0 THEN ${mrrAt(churnEnd)} = 0 ELSE NULL END` : 'NULL';
  const npsChange = tables.feedback
    ? `(SELECT avg(nps) FILTER (WHERE fb.ts >= m.date AND fb.ts < ${windowEnd}) - avg(nps) FILTER (WHERE fb.ts < m.date) FROM feedback fb WHERE fb.customer_id = m.customer_id AND fb.nps IS NOT NULL)`
    : 'NULL';
  return `WITH ${firstUse} base AS (SELECT m.customer_id, m.action, m.variant, m.date FROM __members m)
    SELECT m.action, m.variant, ${tables.segments ? 'sg.segment_id' : 'NULL'} AS segment_id,
      ${adopted} AS adopted, ${churned} AS churned, CAST(${npsChange} AS DOUBLE) AS nps_change
    FROM base m JOIN __action_module am ON am.action = m.action
    ${tables.segments ? 'LEFT JOIN __segments sg ON sg.customer_id = m.customer_id' : ''}
    ORDER BY m.action, m.customer_id`;
}
