import type { DuckDBConnection } from '@duckdb/node-api';
import type { ColumnSpec, QuarantineReason } from './contract.ts';
import type { Check, ColumnPlan } from './checks.ts';
import { copyRejectedRows, type QuarantineTarget } from './quarantine.ts';
import { createRejectedRows, firstFailure, reasonItems, summariseRejected } from './quarantine-rows.ts';
import type { Staged } from './staged.ts';
import { queryRows, sqlIdent, sqlString } from '../core/duck.ts';

/**
 * Cell-level quarantine. A bad value in an optional column (a head count of "12.5", a buyer role
 * "teleport", a founding year 1762) says nothing about the row's key, time or amount: the value
 * becomes missing, the row is kept, and the cell is recorded in `<table>.cells.csv` beside the
 * quarantined rows. A bad required value (key, timestamp, amount, signup date) still quarantines
 * the row, and a check on the row's time (after the as-of date) always does.
 */

/** Whether a failing value of this column is nulled with the row kept: the column is optional in the contract (and not declared row-level). */
export function isCellLevel(spec: ColumnSpec): boolean {
  return !spec.required && !spec.rowLevel;
}

/** The checks of one cell-level column; a cell fails with the first that fires. */
export interface CellChecks {
  readonly column: string;
  readonly checks: readonly Check[];
}

/** A table's checks split: those that quarantine the row, and those of each cell-level column. */
export interface SplitChecks {
  readonly row: Check[];
  readonly cells: CellChecks[];
}

/** Splits checks (checks.ts localChecks) into row checks and cell checks by the column each names. */
export function splitChecks(checks: readonly Check[], plans: readonly ColumnPlan[]): SplitChecks {
  const cellLevel = new Set(plans.filter((p) => isCellLevel(p.spec)).map((p) => p.spec.name));
  const row = checks.filter((c) => !cellLevel.has(c.column) || c.reason === 'after_as_of');
  const cells: CellChecks[] = [];
  for (const c of checks) {
    if (row.includes(c)) continue;
    const group = cells.find((g) => g.column === c.column);
    if (group) (group.checks as Check[]).push(c);
    else cells.push({ column: c.column, checks: [c] });
  }
  return { row, cells };
}

/** The name of the i-th cell failure code (`reason:column` or NULL) in the checked rows. */
export const cellFlag = (i: number): string => `__cf${i}`;

/** SQL select items: each cell-level column's failure code, read from the typed projection. */
export function cellFailureItems(cells: readonly CellChecks[]): string[] {
  return cells.map((g, i) => `${firstFailure(g.checks)} AS ${cellFlag(i)}`);
}

/**
 * SQL select items of the accepted values: each contract column as typed, a cell-level column
 * NULL where its cell failed. `failed(i)` is the SQL of the i-th cell failure code.
 */
export function keptValueItems(plans: readonly ColumnPlan[], cells: readonly CellChecks[], failed: (i: number) => string, alias = ''): string {
  const prefix = alias ? `${alias}.` : '';
  return plans
    .map((p) => {
      const name = sqlIdent(p.spec.name);
      const i = cells.findIndex((g) => g.column === p.spec.name);
      return i < 0 ? `${prefix}${name}` : `CASE WHEN ${failed(i)} IS NULL THEN ${prefix}${name} END AS ${name}`;
    })
    .join(', ');
}

/** SQL: some cell of the row failed. */
export function anyCellFailed(cells: readonly CellChecks[]): string {
  return cells.length ? cells.map((_, i) => `${cellFlag(i)} IS NOT NULL`).join(' OR ') : 'false';
}

/**
 * Creates TEMP TABLE `cell_failures (__file, __line, __reason, __column)`: the failed cells of
 * the accepted rows of TEMP TABLE `checked` (a cell of a quarantined row goes with its row).
 */
export async function collectCellFailures(conn: DuckDBConnection, cells: readonly CellChecks[]): Promise<number> {
  const parts = cells.map((_, i) => `SELECT __file, __line, ${reasonItems(cellFlag(i))} FROM checked WHERE __reason IS NULL AND ${cellFlag(i)} IS NOT NULL`);
  const body = parts.length ? parts.join(' UNION ALL ') : 'SELECT CAST(NULL AS INTEGER) AS __file, CAST(NULL AS BIGINT) AS __line, CAST(NULL AS VARCHAR) AS __reason, CAST(NULL AS VARCHAR) AS __column WHERE false';
  await conn.run(`CREATE OR REPLACE TEMP TABLE cell_failures AS ${body}`);
  const [row] = await queryRows(conn, 'SELECT count(*) AS n FROM cell_failures');
  return Number(row!.n);
}

/**
 * Counts the nulled cells (TEMP TABLE `cell_failures`) into the table's report, by reason and
 * column with examples and by column, and writes them to `<table>.cells.csv`: source file, line,
 * reason, column, the value as the file holds it, and the check's explanation.
 */
export async function recordCells(conn: DuckDBConnection, staged: Staged, cells: readonly CellChecks[], quarantine: QuarantineTarget | null): Promise<void> {
  const { table, report } = staged;
  const raw = sqlIdent(`raw_${table}`);
  await createRejectedRows(conn, 'nulled_cells', {
    from: `cell_failures c LEFT JOIN ${raw} r ON r.__file = c.__file AND r.__line = c.__line`,
    values: cells.map((g) => [g.column, `CAST(r.${sqlIdent(g.column)} AS VARCHAR)`] as const),
    details: cells.flatMap((g) => g.checks),
  });
  const summary = await summariseRejected<QuarantineReason>(conn, 'nulled_cells', { order: 'count', blankExamples: false, exampleChars: 80 });
  report.cellsNulled = summary.quarantined;
  report.cellDetails = summary.details;
  const byColumn: Record<string, number> = {};
  for (const d of summary.details) byColumn[d.column!] = (byColumn[d.column!] ?? 0) + d.count;
  report.cellsByColumn = Object.fromEntries(Object.entries(byColumn).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  if (quarantine) {
    await quarantine.writeOnce(`${table}.cells.csv`, (tmp) =>
      copyRejectedRows(conn, tmp, { rows: 'nulled_cells', sourceFile: 'f.path', joins: `JOIN ${sqlIdent(`files_${table}`)} f ON f.__file = q.__file` }),
    );
  }
  await conn.run('DROP TABLE nulled_cells');
}

/**
 * Counts the rows of a dependent table that followed their customer into quarantine
 * (`customer_quarantined` in TEMP TABLE `checked`), by the reason the customer's row was
 * quarantined for (TEMP TABLE `__quarantined_customers`).
 */
export async function countFollowed(conn: DuckDBConnection): Promise<Partial<Record<QuarantineReason, number>>> {
  const rows = await queryRows(
    conn,
    `SELECT q.reason, count(*) AS n FROM checked c JOIN __quarantined_customers q ON q.customer_id = c.customer_id
     WHERE c.__reason = ${sqlString('customer_quarantined')} GROUP BY 1 ORDER BY 2 DESC, 1`,
  );
  return Object.fromEntries(rows.map((r) => [String(r.reason), Number(r.n)]));
}
