import type { DuckDBConnection } from '@duckdb/node-api';
import { QUARANTINE_REASONS } from './contract.ts';
import type { Check } from './checks.ts';
import { queryRows, sqlString } from '../core/duck.ts';
import { InputError } from '../core/errors.ts';

/**
 * The quarantine engine of ingest (accept.ts) and of the feature-table reader
 * (02-features/feature-file.ts). A reader checks its rows with a list of checks (checks.ts);
 * a row fails with the first check that fires, and the failing rows go to a table of rejected
 * rows, one per source row:
 *
 *   __file, __line      where the row is (a file index or name, and its line or row number)
 *   __reason, __column  why (a QUARANTINE_REASONS code) and which column
 *   __value, __detail   the value shown and the check's explanation
 *
 * From that table come the counts by reason (with examples), the quarantine file (quarantine.ts),
 * the reconciliation `read = accepted + quarantined` and the limit that stops a run.
 */

/** Quarantined rows of one reason and column, with up to three example values. */
export interface RejectedDetail<R extends string = string> {
  reason: R;
  /** The column that failed; null for a malformed row (ingest's reader rejects). */
  column: string | null;
  count: number;
  examples: string[];
}

/** The rejected rows counted: in total, by reason (in the contract's order) and by reason and column. */
export interface RejectedSummary<R extends string = string> {
  quarantined: number;
  byReason: Partial<Record<R, number>>;
  details: RejectedDetail<R>[];
}

/**
 * How a reader presents its counts. Ingest lists the largest groups first and leaves out blank
 * values (a blank is a missing key: its row shows no value); the feature table lists the groups
 * in the order its checks run, shows a blank id as "" and keeps values whole.
 */
export interface SummaryStyle {
  /** `count`: most rows first; `reasons`: in the contract's order of reasons, then most rows first. */
  order: 'count' | 'reasons';
  /** Whether a blank (NULL) value is an example, shown as "". */
  blankExamples: boolean;
  /** Examples longer than this are cut, with "…"; null = never. */
  exampleChars: number | null;
}

/** Reasons in the order the contract documents (and checks) them, for stable reports. */
const REASON_ORDER: readonly string[] = QUARANTINE_REASONS.map((r) => r.code);

/** SQL: 'reason:column' of the first check that fires, or NULL. */
export function firstFailure(checks: readonly Check[]): string {
  if (checks.length === 0) return 'CAST(NULL AS VARCHAR)';
  return `CASE ${checks.map((c) => `WHEN ${c.when} THEN ${sqlString(`${c.reason}:${c.column}`)}`).join(' ')} ELSE NULL END`;
}

/**
 * SQL select items `__reason, __column` from a firstFailure code. The column is everything after
 * the first colon: a feature table's own column names may hold one.
 */
export function reasonItems(code: string): string {
  return `nullif(split_part(${code}, ':', 1), '') AS __reason, nullif(substr(${code}, strpos(${code}, ':') + 1), '') AS __column`;
}

/**
 * SQL: `__file, __line, __key` of the rows of `passing` (rows with `__file, __line, __key` that
 * passed every check) whose key an earlier row has, in file and line order: duplicates, the first
 * row being kept. Only keys seen twice are ordered, so a large table is not sorted whole.
 */
export function repeatedKeysSql(passing: string): string {
  return `SELECT __file, __line, __key FROM (
  SELECT __file, __line, __key, row_number() OVER (PARTITION BY __key ORDER BY __file, __line) AS n
  FROM (${passing}) p
  WHERE __key IN (SELECT __key FROM (${passing}) p GROUP BY __key HAVING count(*) > 1)
) WHERE n > 1`;
}

/** What the rejected rows of a reader hold beyond their reason and column. */
export interface Rejection {
  /** FROM clause: the checked rows as `c` (`__file, __line, __reason, __column`), joined to what the values read. */
  from: string;
  /** For each column, the SQL of the value shown for a row that failed on it. */
  values: readonly (readonly [column: string, sql: string])[];
  /** For each reason and column, the detail text. */
  details: readonly Pick<Check, 'reason' | 'column' | 'detail' | 'detailOf'>[];
  /** The value and detail (SQL) of a malformed row, which has no column: the reader's own record of it. */
  malformed?: { value: string; detail: string };
}

/** Creates TEMP TABLE `name`: the rows of `rejection.from` with a reason, with their value and detail (shape above). */
export async function createRejectedRows(conn: DuckDBConnection, name: string, rejection: Rejection): Promise<void> {
  const m = rejection.malformed;
  const caseOf = (branches: string[]) => (branches.length ? `CASE ${branches.join(' ')} END` : 'CAST(NULL AS VARCHAR)');
  const value = caseOf([
    ...(m ? [`WHEN c.__reason = 'malformed' THEN ${m.value}`] : []),
    ...rejection.values.map(([column, sql]) => `WHEN c.__column = ${sqlString(column)} THEN ${sql}`),
  ]);
  const detail = caseOf([
    ...(m ? [`WHEN c.__reason = 'malformed' THEN ${m.detail}`] : []),
    ...rejection.details.map((d) => {
      const valueSql = rejection.values.find(([column]) => column === d.column)?.[1];
      return `WHEN c.__reason = ${sqlString(d.reason)} AND c.__column = ${sqlString(d.column)} THEN ${d.detailOf && valueSql ? d.detailOf(valueSql) : sqlString(d.detail)}`;
    }),
  ]);
  await conn.run(
    `CREATE OR REPLACE TEMP TABLE ${name} AS
     SELECT c.__file, c.__line, c.__reason, c.__column, ${value} AS __value, ${detail} AS __detail
     FROM ${rejection.from}
     WHERE c.__reason IS NOT NULL`,
  );
}

/** Counts the rejected rows of TEMP TABLE `table` by reason and column, with up to three examples each (first in file order). */
export async function summariseRejected<R extends string>(conn: DuckDBConnection, table: string, style: SummaryStyle): Promise<RejectedSummary<R>> {
  const values = `list(__value ORDER BY __file, __line)${style.blankExamples ? '' : ' FILTER (WHERE __value IS NOT NULL)'}[1:3]`;
  const rows = await queryRows(
    conn,
    // A malformed row's text says less than why it is malformed: its examples are the distinct reasons.
    `SELECT __reason AS reason, __column AS col, count(*) AS n,
       CASE WHEN __reason = 'malformed' THEN list_sort(list(DISTINCT __detail))[1:3] ELSE ${values} END AS examples
     FROM ${table} GROUP BY 1, 2 ORDER BY n DESC, reason, col`,
  );
  const cut = (x: string) => (style.exampleChars !== null && x.length > style.exampleChars ? `${x.slice(0, style.exampleChars)}…` : x);
  const details: RejectedDetail<R>[] = rows.map((r) => ({
    reason: String(r.reason) as R,
    column: r.col === null ? null : String(r.col),
    count: Number(r.n),
    examples: ((r.examples as unknown[] | null) ?? []).map((x) => cut(x === null ? '' : String(x))),
  }));
  // Array.sort is stable: within a reason, the SQL order (most rows, then column) stays.
  if (style.order === 'reasons') details.sort((a, b) => REASON_ORDER.indexOf(a.reason) - REASON_ORDER.indexOf(b.reason));
  const counts = new Map<string, number>();
  for (const d of details) counts.set(d.reason, (counts.get(d.reason) ?? 0) + d.count);
  const byReason = Object.fromEntries(REASON_ORDER.filter((r) => counts.has(r)).map((r) => [r, counts.get(r)!])) as Partial<Record<R, number>>;
  return { quarantined: details.reduce((s, d) => s + d.count, 0), byReason, details };
}

/** Every row read is accepted or quarantined; anything else is a lost row, which must stop the run. */
export function reconcile(label: string, read: number, accepted: number, quarantined: number): void {
  if (accepted + quarantined !== read) {
    throw new InputError(`${label}: ${read} rows read but ${accepted} accepted and ${quarantined} quarantined`, ['this is a finseg bug; run with --debug and report it']);
  }
}

/** "reason in column: count, e.g. "x", "y"": one line of a quarantine report. */
export function describeRejected(d: RejectedDetail): string {
  return `${d.reason}${d.column ? ` in ${d.column}` : ''}: ${d.count}${d.examples.length ? `, e.g. ${d.examples.map((x) => JSON.stringify(x)).join(', ')}` : ''}`;
}

/**
 * Stops the run when more than `limit` of the rows read were quarantined: an InputError naming
 * `subject`, with the largest groups, the reader's hints and where the rows were written.
 */
export function checkQuarantineLimit(subject: string, read: number, summary: RejectedSummary, limit: number, hints: readonly string[]): void {
  const share = read === 0 ? 0 : summary.quarantined / read;
  if (share <= limit) return;
  throw new InputError(`${subject}: ${summary.quarantined} of ${read} rows quarantined (${(share * 100).toFixed(1)}%), over the limit of ${(limit * 100).toFixed(1)}%`, [
    ...summary.details.slice(0, 8).map(describeRejected),
    ...hints,
    'raise "ingest.quarantineLimit" in the config if this is expected',
  ]);
}
