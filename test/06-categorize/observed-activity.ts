import type { DuckDBConnection } from '@duckdb/node-api';
import type { LensInput } from '../../pipeline/06-categorize/lenses.ts';
import { queryRows, sqlString } from '../../pipeline/core/duck.ts';

/**
 * The activity dates and transaction recency of the ingested tables, read with plain SQL here
 * (independently of the features stage): first and last activity per customer, the data's span
 * and days since the last transaction, each to the end of the as-of date. Fills only what the
 * lens input lacks, so once the features stage provides them (FeatureTable.activity,
 * txn_recency_days) the pipeline's own values are used and this is a cross-check of nothing.
 */
export async function withObservedActivity(conn: DuckDBConnection, input: LensInput, customerIds: readonly string[], asOf: string, absentTables: readonly string[]): Promise<LensInput> {
  const end = `CAST(DATE ${sqlString(asOf)} + INTERVAL '1' DAY AS DATE)`;
  const parts: string[] = [];
  if (!absentTables.includes('usage_events')) parts.push(`SELECT customer_id, ts, 0 AS txn FROM usage_events WHERE ts < ${end}`);
  if (!absentTables.includes('transactions')) parts.push(`SELECT customer_id, ts, 1 AS txn FROM transactions WHERE ts < ${end}`);
  const rows = await queryRows(
    conn,
    `SELECT customer_id,
        date_diff('day', CAST(min(ts) AS DATE), ${end}) AS first_seen,
        date_diff('day', CAST(max(ts) FILTER (WHERE txn = 1) AS DATE), ${end}) AS txn_last,
        date_diff('day', CAST(min(min(ts)) OVER () AS DATE), ${end}) AS span
     FROM (${parts.join(' UNION ALL ')}) a GROUP BY customer_id`,
  );
  const byId = new Map(rows.map((r) => [String(r.customer_id), r]));
  const num = (v: unknown): number => (v === null || v === undefined ? Number.NaN : Number(v));
  const firstSeenDays = Float64Array.from(customerIds, (id) => num(byId.get(id)?.first_seen));
  const spanDays = rows.length ? num(rows[0]!.span) : Number.NaN;
  // Like the catalog's recency: counted from signup (tenure) when the customer has no transaction.
  const txnRecencyDays = Float64Array.from(customerIds, (id, i) => {
    const last = num(byId.get(id)?.txn_last);
    return Number.isFinite(last) ? last : input.tenureDays[i]!;
  });
  const hasTxnRecency = input.txnRecencyDays?.some(Number.isFinite) ?? false;
  return {
    ...input,
    firstSeenDays: input.firstSeenDays ?? firstSeenDays,
    spanDays: input.spanDays ?? spanDays,
    txnRecencyDays: hasTxnRecency || absentTables.includes('transactions') ? input.txnRecencyDays : txnRecencyDays,
  };
}
