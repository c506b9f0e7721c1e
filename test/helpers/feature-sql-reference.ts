import { MODULES } from '../../pipeline/01-ingest/contract.ts';
import { CHANNEL_FEATURES, MODULE_SHARE_FEATURES, VENDOR_OTHER_FEATURE, WINDOW_DAYS } from '../../pipeline/02-features/catalog.ts';
import type { FeatureParams } from '../../pipeline/02-features/params.ts';
import { sqlString } from '../../pipeline/core/duck.ts';

/**
 * The feature SQL as first written: one CTE per aggregate, the event CTE read three times. DuckDB
 * materialises such a CTE (about 1 GB per 5M events), which is why features.ts now aggregates in
 * two streaming passes. Kept here as the straightforward reference the fast query is tested
 * against (test/02-features/reference-sql.test.ts). The catalog version 2 features are added in
 * the same plain style: activity from one union of both tables, vendor modules by a join to
 * the list of named ones, months as 'YYYY-MM' text.
 */
export function referenceFeatureSql(asOf: string, params: FeatureParams): string {
  const end = `(DATE ${sqlString(asOf)} + INTERVAL 1 DAY)`;
  const start = `(${end} - INTERVAL ${WINDOW_DAYS} DAY)`;
  const prevStart = `(${end} - INTERVAL ${2 * WINDOW_DAYS} DAY)`;
  // A share is 0 when the customer has events but none of this kind, undefined (NULL) when it has no events.
  const share = (cond: string) => `CAST(coalesce(sum(n) FILTER (WHERE ${cond}), 0) AS DOUBLE) / CAST(nullif(sum(n), 0) AS DOUBLE)`;
  const vendor = params.vendorModules ?? [];
  const moduleShares = [
    ...MODULES.map((m) => `${share(`module = ${sqlString(m)}`)} AS share_${m}`),
    `${share('NOT is_catalog AND vendor_feature IS NULL')} AS ${VENDOR_OTHER_FEATURE}`,
    ...vendor.map((v) => `${share(`vendor_feature = ${sqlString(v.feature)}`)} AS ${v.feature}`),
  ].join(',\n      ');
  const named = vendor.length
    ? `SELECT * FROM (VALUES ${vendor.map((v) => `(${sqlString(v.name)}, ${sqlString(v.feature)})`).join(', ')}) t(name, feature)`
    : `SELECT CAST(NULL AS VARCHAR) AS name, CAST(NULL AS VARCHAR) AS feature WHERE false`;
  const txnShare = (cond: string) => `count(*) FILTER (WHERE ${cond}) / nullif(count(*), 0)`;
  const home = params.homeCurrency
    ? `SELECT ${sqlString(params.homeCurrency)} AS home`
    : `SELECT coalesce((SELECT currency FROM transactions WHERE currency IS NOT NULL GROUP BY currency ORDER BY count(*) DESC, currency LIMIT 1), '') AS home`; // ties broken by code, so the choice is deterministic
  // Counts and amounts are summed as DECIMAL: DuckDB's parallel hash aggregation adds doubles
  // in a varying order, which changed the last bits of a sum from run to run and so broke
  // "same data and seed, same bundle". Decimal sums are exact; amounts keep 4 decimal places.
  return `
WITH named AS (${named}),
ev AS (
  SELECT e.customer_id, e.ts, e.module, e.device, e.user_id, CAST(coalesce(e."count", 1) AS DECIMAL(18, 4)) AS n,
      e.module IN (${MODULES.map(sqlString).join(', ')}) AS is_catalog, nm.feature AS vendor_feature
  FROM usage_events e LEFT JOIN named nm ON nm.name = e.module
  WHERE e.ts < ${end}
),
win AS (SELECT * FROM ev WHERE ts >= ${start}),
usage_win AS (
  SELECT customer_id,
      count(DISTINCT CAST(ts AS DATE)) AS active_days_90,
      CAST(sum(n) AS DOUBLE) AS events_90,
      count(DISTINCT user_id) AS users_90,
      count(DISTINCT module) AS module_breadth_90,
      ${moduleShares},
      ${share(`device = 'mobile'`)} AS device_mobile_share,
      ${share(`device = 'api'`)} AS device_api_share,
      ${share(`device = 'desktop'`)} AS device_desktop_share
  FROM win GROUP BY customer_id
),
usage_prev AS (SELECT customer_id, CAST(sum(n) AS DOUBLE) AS events_prev FROM ev WHERE ts >= ${prevStart} AND ts < ${start} GROUP BY customer_id),
home AS (${home}),
tx AS (SELECT customer_id, ts, amount, CAST(abs(amount) AS DECIMAL(18, 4)) AS size, currency, kind FROM transactions WHERE ts < ${end}),
tx_win AS (
  SELECT customer_id,
      count(*) AS txn_count_90,
      CAST(sum(size) AS DOUBLE) AS txn_volume_90,
      CAST(sum(size) AS DOUBLE) / count(*) AS txn_avg_size,
      ${txnShare(`size < ${params.smallTicketAmount}`)} AS small_ticket_share,
      count(DISTINCT currency) AS currencies_90,
      CAST(coalesce(sum(size) FILTER (WHERE currency IS NOT NULL AND currency <> (SELECT home FROM home)), 0) AS DOUBLE) / CAST(nullif(sum(size), 0) AS DOUBLE) AS foreign_share,
      ${txnShare('amount < 0')} AS refund_share,
      ${txnShare(`kind = 'sale'`)} AS kind_sale_share,
      ${txnShare(`kind = 'purchase'`)} AS kind_purchase_share,
      ${txnShare(`kind = 'payroll'`)} AS kind_payroll_share,
      ${txnShare(`kind = 'transfer'`)} AS kind_transfer_share
  FROM tx WHERE ts >= ${start} GROUP BY customer_id
),
tx_prev AS (SELECT customer_id, CAST(sum(size) AS DOUBLE) AS volume_prev FROM tx WHERE ts >= ${prevStart} AND ts < ${start} GROUP BY customer_id),
tx_all AS (
  SELECT customer_id, count(*) AS n_all, CAST(sum(size) AS DOUBLE) AS volume_all, count(DISTINCT strftime(ts, '%Y-%m')) AS months,
      min(ts) AS first_ts, max(ts) AS last_ts
  FROM tx GROUP BY customer_id
),
seen AS (
  SELECT customer_id, min(ts) AS first_ts, max(ts) AS last_ts
  FROM (SELECT customer_id, ts FROM ev UNION ALL SELECT customer_id, ts FROM tx) a
  GROUP BY customer_id
)
SELECT c.customer_id,
    coalesce(u.active_days_90, 0) AS active_days_90,
    coalesce(u.events_90, 0) AS events_90,
    coalesce(u.users_90, 0) AS users_90,
    coalesce(u.events_90, 0) / greatest(coalesce(u.users_90, 0), 1) AS events_per_user_90,
    -- never active: recency counts from signup, the longest it could be
    date_diff('day', coalesce(s.last_ts, CAST(c.signup_date AS TIMESTAMP)), ${end}) AS recency_days,
    date_diff('day', CAST(c.signup_date AS TIMESTAMP), ${end}) AS tenure_days,
    coalesce(u.module_breadth_90, 0) AS module_breadth_90,
    ${MODULE_SHARE_FEATURES.map((f) => `u.${f}`).join(', ')}, u.${VENDOR_OTHER_FEATURE},
    ${CHANNEL_FEATURES.map((f) => `u.${f}`).join(', ')},
    coalesce(t.txn_count_90, 0) AS txn_count_90,
    coalesce(t.txn_volume_90, 0) AS txn_volume_90,
    t.txn_avg_size, t.small_ticket_share,
    coalesce(t.currencies_90, 0) AS currencies_90,
    t.foreign_share, t.refund_share,
    t.kind_sale_share, t.kind_purchase_share, t.kind_payroll_share, t.kind_transfer_share,
    date_diff('day', coalesce(ta.last_ts, CAST(c.signup_date AS TIMESTAMP)), ${end}) AS txn_recency_days,
    date_diff('day', ta.first_ts, ${end}) AS txn_tenure_days,
    coalesce(ta.months, 0) AS txn_active_months,
    coalesce(ta.n_all, 0) AS txn_count_all,
    coalesce(ta.volume_all, 0) AS txn_volume_all,
    ta.volume_all / ta.n_all AS txn_avg_basket,
    ${vendor.map((v) => `u.${v.feature}, `).join('')}
    date_diff('day', s.first_ts, ${end}) AS first_seen_days,
    date_diff('day', s.last_ts, ${end}) AS last_seen_days,
    ln((coalesce(u.events_90, 0) + 1) / (coalesce(p.events_prev, 0) + 1)) AS usage_trend,
    ln((coalesce(t.txn_volume_90, 0) + 1) / (coalesce(tp.volume_prev, 0) + 1)) AS volume_trend,
    c.industry, c.region, c.edition, c.deployment, c.buyer_role, CAST(c.signup_date AS VARCHAR) AS signup_date,
    c.employees, c.annual_revenue, c.founded_year
FROM customers c
LEFT JOIN usage_win u USING (customer_id)
LEFT JOIN usage_prev p USING (customer_id)
LEFT JOIN tx_win t USING (customer_id)
LEFT JOIN tx_prev tp USING (customer_id)
LEFT JOIN tx_all ta USING (customer_id)
LEFT JOIN seen s USING (customer_id)
ORDER BY c.customer_id`;
}
