import type { DuckDBConnection } from '@duckdb/node-api';
import type { QuarantineReason } from './contract.ts';
import { localChecks, typedProjection, type Check } from './checks.ts';
import { anyCellFailed, cellFailureItems, cellFlag, collectCellFailures, countFollowed, keptValueItems, recordCells, splitChecks, type SplitChecks } from './cells.ts';
import { checkColumnTypes, WRONG_TYPE_MIN_ROWS } from './diagnose.ts';
import type { IngestParams } from './params.ts';
import { copyRejectedRows, originalColumnItems, stageOriginalRows, type QuarantineTarget } from './quarantine.ts';
import { createRejectedRows, firstFailure, reasonItems, reconcile, repeatedKeysSql, summariseRejected } from './quarantine-rows.ts';
import { countRows, firstLine } from './stage.ts';
import type { Staged } from './staged.ts';
import { queryRows, sqlIdent } from '../core/duck.ts';
import { InputError } from '../core/errors.ts';

/**
 * The second half of ingesting a table: `raw_<table>` typed and checked against the contract,
 * the accepted rows in `<table>`, the rest counted by reason and written to the quarantine
 * folder (quarantine-rows.ts, quarantine.ts).
 */

/** Why a row fails the checks beyond the table's own: a repeated customer id; an event, transaction or feedback row whose customer is not an accepted one. */
const CUSTOMER_DETAILS: readonly Pick<Check, 'reason' | 'column' | 'detail'>[] = [
  { reason: 'duplicate_id', column: 'customer_id', detail: 'customer_id is already on an earlier accepted row' },
  { reason: 'customer_quarantined', column: 'customer_id', detail: "the customer's customers row is quarantined" },
  { reason: 'unknown_customer', column: 'customer_id', detail: 'the customer is not in the customers table' },
];

/** Types and checks `raw_<table>`, writes the accepted rows to `<table>` and the rest to quarantine. */
export async function finishTable(conn: DuckDBConnection, staged: Staged, asOf: string, quarantine: QuarantineTarget | null, params: IngestParams): Promise<void> {
  const { table, report } = staged;
  const checks = localChecks(table, staged.plans, asOf);
  const split = splitChecks(checks, staged.plans);
  await checkRows(conn, staged, split, params);
  const cellCount = await collectCellFailures(conn, split.cells);
  const [tally] = await queryRows(
    conn,
    `SELECT count(*) FILTER (WHERE __reason IS NULL) AS accepted, count(*) FILTER (WHERE __reason IS NOT NULL) AS quarantined,
       count(*) FILTER (WHERE __reason = 'unparseable') + (SELECT count(*) FROM cell_failures WHERE __reason = 'unparseable') AS unparseable FROM checked`,
  );
  if (Number(tally!.unparseable) >= WRONG_TYPE_MIN_ROWS) await checkColumnTypes(conn, staged, params.missingValues);
  report.quarantined = Number(tally!.quarantined);
  report.accepted = await acceptRows(conn, staged, split, Number(tally!.accepted));
  reconcile(table, report.read, report.accepted, report.quarantined);
  report.cellsNulled = 0;
  report.cellsByColumn = {};
  report.cellDetails = [];
  if (cellCount > 0) await recordCells(conn, staged, split.cells, quarantine);
  await conn.run('DROP TABLE cell_failures');
  if (table === 'customers') {
    // With the reason of the customer's first quarantined row, so dependent rows that follow it can be counted by reason.
    await conn.run(
      `CREATE OR REPLACE TEMP TABLE __quarantined_customers AS
       SELECT customer_id, arg_min(__reason, __file * 10000000000000 + __line) AS reason FROM checked
       WHERE __reason IS NOT NULL AND customer_id IS NOT NULL AND customer_id NOT IN (SELECT customer_id FROM customers) GROUP BY customer_id`,
    );
  } else if (report.quarantined > 0) report.followed = await countFollowed(conn);

  // Staged text is not needed once the typed table exists; on 50M rows it is gigabytes. An
  // in-place table keeps its views (the accepted view reads through them).
  const raw = sqlIdent(`raw_${table}`);
  const dropRaw = staged.inPlace ? '' : `DROP VIEW ${sqlIdent(`checked_${table}`)}; DROP VIEW ${sqlIdent(`typed_${table}`)}; DROP TABLE IF EXISTS ${raw}; `;
  const dropStaged = `DROP TABLE checked; ${dropRaw}DROP TABLE IF EXISTS ${sqlIdent(`malformed_${table}`)}; DROP TABLE IF EXISTS ${sqlIdent(`files_${table}`)}`;
  if (report.quarantined === 0) {
    // The common case: nothing to explain or write.
    await conn.run(dropStaged);
    return;
  }
  await createRejectedRows(conn, 'quarantined', {
    from: `checked c LEFT JOIN ${raw} r ON r.__file = c.__file AND r.__line = c.__line LEFT JOIN ${sqlIdent(`malformed_${table}`)} m ON m.__file = c.__file AND m.__line = c.__line`,
    values: staged.plans.map((p) => [p.spec.name, `CAST(r.${sqlIdent(p.spec.name)} AS VARCHAR)`] as const),
    details: [...checks, ...CUSTOMER_DETAILS],
    malformed: { value: 'm.__text', detail: 'm.__detail' },
  });
  const summary = await summariseRejected<QuarantineReason>(conn, 'quarantined', { order: 'count', blankExamples: false, exampleChars: 80 });
  report.byReason = summary.byReason;
  report.details = summary.details;
  if (quarantine) await writeQuarantine(conn, staged, quarantine, params);
  await conn.run(`DROP TABLE quarantined; ${dropStaged}`);
}

/**
 * Creates TEMP TABLE `checked`: `__file, __line, __reason, __column` and the typed columns of
 * the customers (small, and duplicates need the whole table) or, for the large tables, of the
 * failing rows only: accepted events are never copied. Malformed rows are added with no columns.
 */
async function checkRows(conn: DuckDBConnection, staged: Staged, split: SplitChecks, params: IngestParams): Promise<void> {
  const { table, plans } = staged;
  let failure = firstFailure(split.row);
  if (table !== 'customers') {
    failure = `coalesce(${failure}, CASE WHEN t.customer_id IN (SELECT customer_id FROM customers) THEN NULL
      WHEN t.customer_id IN (SELECT customer_id FROM __quarantined_customers) THEN 'customer_quarantined:customer_id' ELSE 'unknown_customer:customer_id' END)`;
  }
  const cellItems = cellFailureItems(split.cells);
  const flags = split.cells.map((_, i) => `, ${cellFlag(i)}`).join('');
  const typedView = sqlIdent(`typed_${table}`);
  const checkedView = sqlIdent(`checked_${table}`);
  // Typed values come from an inner projection that DuckDB evaluates once per row: a value map's
  // CASE inlined into every check instead cost 86 s rather than 1 s on 1.2M events.
  await conn.run(`CREATE OR REPLACE TEMP VIEW ${typedView} AS SELECT r.__file, r.__line, ${typedProjection(plans, params.missingValues)} FROM ${sqlIdent(`raw_${table}`)} r`);
  await conn.run(
    `CREATE OR REPLACE TEMP VIEW ${checkedView} AS
     SELECT __file, __line, ${reasonItems('__rc')}, ${keptValueItems(plans, split.cells, cellFlag)}${flags}
     FROM (SELECT t.*, ${[`${failure} AS __rc`, ...cellItems].join(', ')} FROM ${typedView} t)`,
  );
  const isCustomers = table === 'customers';
  try {
    await conn.run(`CREATE OR REPLACE TEMP TABLE checked AS SELECT * FROM ${checkedView}${isCustomers ? '' : ` WHERE __reason IS NOT NULL OR ${anyCellFailed(split.cells)}`}`);
  } catch (e) {
    // An in-place table's pages are first decoded here (a corrupt page, a truncated file).
    if (!staged.inPlace) throw e;
    throw new InputError(`cannot read ${staged.report.source} (table ${table}, parquet)`, [firstLine(e), 'the file may be truncated, still being written, or not Parquet']);
  }
  if (isCustomers) {
    // The first row of a customer id (in file order) wins; later ones are duplicates.
    const passing = `SELECT __file, __line, customer_id AS __key FROM checked WHERE __reason IS NULL`;
    await conn.run(`UPDATE checked SET __reason = 'duplicate_id', __column = 'customer_id' FROM (${repeatedKeysSql(passing)}) d WHERE checked.__file = d.__file AND checked.__line = d.__line`);
  }
  if (staged.malformed > 0) await conn.run(`INSERT INTO checked (__file, __line, __reason, __column) SELECT __file, __line, 'malformed', NULL FROM ${sqlIdent(`malformed_${table}`)}`);
}

/** Writes the accepted rows of `checked` to the table `<table>`; returns how many. */
async function acceptRows(conn: DuckDBConnection, staged: Staged, split: SplitChecks, accepted: number): Promise<number> {
  const { table, plans, report } = staged;
  const names = plans.map((p) => sqlIdent(p.spec.name)).join(', ');
  if (table === 'customers') {
    // Only customers keep file order (small, and read in order by people); every feature is an order-free aggregate.
    await conn.run(`CREATE OR REPLACE TABLE customers AS SELECT ${names} FROM checked WHERE __reason IS NULL ORDER BY __file, __line`);
    return accepted;
  }
  if (staged.inPlace) {
    // Parquet stays where it lies: the accepted table is a view that types each row as it is read
    // and leaves out the rows quarantined here, by (file, line). Every reader scans the files
    // again (seconds at 50M events), which costs less than holding the events in memory (4.5 GB
    // at 50M) and copying them there. The checks ran once, above; the input must not change
    // during the run (docs/performance.md).
    const rejected = sqlIdent(`rejected_${table}`);
    await conn.run(`CREATE OR REPLACE TEMP TABLE ${rejected} AS SELECT __file, __line FROM checked WHERE __reason IS NOT NULL`);
    const keep = report.quarantined === 0 ? '' : ` ANTI JOIN ${rejected} q ON q.__file = t.__file AND q.__line = t.__line`;
    const kept = keptValueItems(plans, split.cells, (i) => `(${firstFailure(split.cells[i]!.checks)})`, 't');
    await conn.run(`CREATE OR REPLACE TEMP VIEW ${sqlIdent(table)} AS SELECT ${kept} FROM ${sqlIdent(`typed_${table}`)} t${keep}`);
    return report.read - report.quarantined;
  }
  await conn.run(`CREATE OR REPLACE TABLE ${sqlIdent(table)} AS SELECT ${names} FROM ${sqlIdent(`checked_${table}`)} WHERE __reason IS NULL`);
  return countRows(conn, sqlIdent(table));
}

/**
 * Writes TEMP TABLE `quarantined` to `<table>.csv` in the quarantine folder, unless an earlier run
 * on the same input did: finseg's columns, then the source row's own columns as the file holds
 * them (blank for a malformed row, which has no columns; its text is in `value`).
 */
async function writeQuarantine(conn: DuckDBConnection, staged: Staged, quarantine: QuarantineTarget, params: IngestParams): Promise<void> {
  await quarantine.writeOnce(`${staged.table}.csv`, async (tmp) => {
    await stageOriginalRows(conn, staged.sources, staged.csvShapes, `SELECT __file, __line FROM quarantined WHERE __reason <> 'malformed'`, params.csv, 'original_rows');
    const original = await originalColumnItems(conn, 'original_rows', 'o');
    await copyRejectedRows(conn, tmp, {
      rows: 'quarantined',
      sourceFile: 'f.path',
      joins: `JOIN ${sqlIdent(`files_${staged.table}`)} f ON f.__file = q.__file LEFT JOIN original_rows o ON o.__file = q.__file AND o.__line = q.__line`,
      columns: original,
    });
    await conn.run('DROP TABLE original_rows');
  });
}
