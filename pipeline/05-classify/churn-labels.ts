/**
 * The churn labels, read with DuckDB: from a subscriptions table (churned in (T − h, T], the
 * definitions of docs/churn.md and the common subscriptions contract) or from a profile table's
 * label column; and the planted churners of a generated folder, to measure the risk against.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { formatOf } from '../01-ingest/sources.ts';
import { queryRows, readColumns, sqlIdent, sqlString } from '../core/duck.ts';
import { InputError } from '../core/errors.ts';
import { rocAuc } from './churn-metrics.ts';
import { activeOnSql } from '../01-ingest/subscription-sql.ts';

/** Labels by customer id, ids ascending. */
export interface ChurnLabels {
  customerIds: string[];
  /** 1 = churned, 0 = stayed, shape (customerIds.length). */
  churned: Uint8Array;
}

/** The day `days` before an ISO date, as an ISO date. */
export function daysBefore(isoDate: string, days: number): string {
  return new Date(Date.parse(`${isoDate}T00:00:00Z`) - days * 86_400_000).toISOString().slice(0, 10);
}

/** SQL: a customer's MRR at date d = the summed mrr of its rows active at d (start_date <= d and no end_date or end_date > d). */
const mrrAt = (d: string) => `coalesce(sum(mrr) FILTER (WHERE ${activeOnSql(`DATE ${sqlString(d)}`)}), 0)`;

/**
 * The subscriptions table's churn labels over (from, to]: every customer with MRR > 0 at `from`,
 * churned (1) when its MRR at `to` is 0. Reads the DuckDB table `subscriptions`.
 */
export async function subscriptionChurnLabels(conn: DuckDBConnection, from: string, to: string): Promise<ChurnLabels> {
  const cols = await readColumns(
    conn,
    `SELECT customer_id, CASE WHEN mrr_to = 0 THEN 1 ELSE 0 END AS churned
     FROM (SELECT customer_id, ${mrrAt(from)} AS mrr_from, ${mrrAt(to)} AS mrr_to FROM subscriptions GROUP BY customer_id)
     WHERE mrr_from > 0 ORDER BY customer_id`,
    ['customer_id'],
  );
  return { customerIds: cols.text.customer_id as string[], churned: Uint8Array.from(cols.numeric.churned!) };
}

/**
 * A profile table's label column as churn labels: a value among `positiveValues` (trimmed,
 * case-insensitive) is churned, any other non-blank value stayed; a blank label leaves the
 * customer out. `file` is read as the profile table is (CSV all text, or Parquet).
 */
export async function profileChurnLabels(conn: DuckDBConnection, dataDir: string, file: string, key: string, column: string, positiveValues: readonly string[]): Promise<ChurnLabels> {
  const path = resolve(dataDir, file);
  const format = formatOf(path);
  const reader = format?.format === 'parquet' ? `read_parquet(${sqlString(path)})` : `read_csv(${sqlString(path)}, header = true, all_varchar = true${format?.tsv ? `, delim = '\t'` : ''})`;
  const columns = (await queryRows(conn, `DESCRIBE SELECT * FROM ${reader}`)).map((r) => String(r.column_name));
  if (!columns.includes(column)) throw new InputError(`${path}: column "${column}" (churn.labelColumn) is missing`, [`columns: ${columns.join(', ')}`]);
  const label = `lower(nullif(trim(CAST(${sqlIdent(column)} AS VARCHAR)), ''))`;
  const positives = positiveValues.map((v) => sqlString(v.trim().toLowerCase())).join(', ');
  const cols = await readColumns(
    conn,
    `SELECT trim(CAST(${sqlIdent(key)} AS VARCHAR)) AS customer_id, CASE WHEN ${label} IN (${positives}) THEN 1 ELSE 0 END AS churned
     FROM ${reader} WHERE ${label} IS NOT NULL AND nullif(trim(CAST(${sqlIdent(key)} AS VARCHAR)), '') IS NOT NULL ORDER BY customer_id`,
    ['customer_id'],
  );
  return { customerIds: cols.text.customer_id as string[], churned: Uint8Array.from(cols.numeric.churned!) };
}

/** The rows of `customerIds` that have a label, and their labels (ids absent from `labels` are left out). */
export function alignLabels(customerIds: readonly string[], labels: ChurnLabels): { rows: number[]; labels: Uint8Array } {
  const byId = new Map(labels.customerIds.map((id, i) => [id, labels.churned[i]!]));
  const rows: number[] = [];
  const out: number[] = [];
  customerIds.forEach((id, i) => {
    const l = byId.get(id);
    if (l === undefined) return;
    rows.push(i);
    out.push(l);
  });
  return { rows, labels: Uint8Array.from(out) };
}

/** The planted-truth file a generated folder carries beside its subscriptions. */
export const SUBSCRIPTIONS_TRUTH = 'subscriptions_truth.csv';

/**
 * The planted churners of `<dataDir>/subscriptions_truth.csv` (column churned_90d, or churned;
 * 1 or true = planted churner); null without that file or column.
 */
export async function readPlantedChurn(conn: DuckDBConnection, dataDir: string): Promise<ChurnLabels | null> {
  const path = join(dataDir, SUBSCRIPTIONS_TRUTH);
  if (!existsSync(path)) return null;
  const reader = `read_csv(${sqlString(path)}, header = true, all_varchar = true)`;
  const columns = (await queryRows(conn, `DESCRIBE SELECT * FROM ${reader}`)).map((r) => String(r.column_name));
  const column = ['churned_90d', 'churned'].find((c) => columns.includes(c));
  if (!column || !columns.includes('customer_id')) return null;
  const truth = await readColumns(conn, `SELECT customer_id, CASE WHEN lower(trim(${sqlIdent(column)})) IN ('1', 'true') THEN 1 ELSE 0 END AS churned FROM ${reader} ORDER BY customer_id`, ['customer_id']);
  return { customerIds: truth.text.customer_id as string[], churned: Uint8Array.from(truth.numeric.churned!) };
}

/** ROC AUC of `risk` (shape (customerIds.length)) against planted churners; null when fewer than both classes match. */
export function plantedChurnAuc(customerIds: readonly string[], risk: Float64Array, planted: ChurnLabels): number | null {
  const aligned = alignLabels(customerIds, planted);
  const auc = rocAuc(Float64Array.from(aligned.rows, (r) => risk[r]!), aligned.labels);
  return Number.isNaN(auc) ? null : auc;
}
