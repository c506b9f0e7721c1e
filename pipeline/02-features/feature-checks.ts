import type { DuckDBConnection } from '@duckdb/node-api';
import { isCellLevel, type CellChecks } from '../01-ingest/cells.ts';
import type { Check } from '../01-ingest/checks.ts';
import type { ColumnSpec } from '../01-ingest/contract.ts';
import { SEPARATED_NUMBER } from '../01-ingest/numbers.ts';
import { createRejectedRows, firstFailure, reasonItems, repeatedKeysSql } from '../01-ingest/quarantine-rows.ts';
import { queryRows, sqlIdent, sqlString } from '../core/duck.ts';
import { InputError } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import { partitionSql, type Partition } from '../core/partition.ts';
import { ACTIVITY_COLUMNS, ATTRIBUTE_SPECS, HISTORY_COLUMN, KEY_COLUMN, isNumericType, type ColumnSql, type TableColumns } from './feature-columns.ts';

/**
 * The row checks of a feature table, in the order ingest checks rows (blank id, unparseable,
 * bad enum, out of range, then duplicate ids), run by ingest's quarantine engine
 * (01-ingest/quarantine-rows.ts): the failing rows go to TEMP TABLE `__ff_bad`, the failing
 * optional attribute values of the other rows to TEMP TABLE `__ff_cells` (nulled, row kept).
 */

/** A text column whose non-blank values mostly fail to parse is the wrong column, not thousands of bad rows (as in ingest). */
const WRONG_TYPE_SHARE = 0.5;
const WRONG_TYPE_MIN_ROWS = 5;

/** A text feature (or history) column that is mostly not numbers is the wrong column: an InputError naming it. Reads view `__ff_src`. */
export async function checkTextNumeric(conn: DuckDBConnection, table: TableColumns, featureColumns: readonly string[], sql: ColumnSql): Promise<void> {
  const textNumeric = featureColumns.filter(sql.isText).concat(table.types.has(HISTORY_COLUMN) && sql.isText(HISTORY_COLUMN) ? [HISTORY_COLUMN] : []);
  if (!textNumeric.length) return;
  const bad = (c: string) => `${sql.text(c)} IS NOT NULL AND ${sql.number(c)} IS NULL`;
  const counts = await queryRows(
    conn,
    `SELECT ${textNumeric.map((c, i) => `count(${sql.text(c)}) AS n${i}, count(*) FILTER (WHERE ${bad(c)}) AS bad${i}, list(${sql.text(c)}) FILTER (WHERE ${bad(c)})[1:3] AS ex${i}`).join(', ')} FROM __ff_src`,
  );
  textNumeric.forEach((c, i) => {
    const n = Number(counts[0]![`n${i}`]);
    const failing = Number(counts[0]![`bad${i}`]);
    if (n >= WRONG_TYPE_MIN_ROWS && failing > WRONG_TYPE_SHARE * n) {
      const examples = (counts[0]![`ex${i}`] as string[]).map((x) => JSON.stringify(x)).join(', ');
      // ingest.numberFormat describes the export, not this file: under thousands "." a plain 0.125 here would read as 125.
      const separated = (counts[0]![`ex${i}`] as string[]).some((x) => new RegExp(`^(?:${SEPARATED_NUMBER})$`).test(x.trim()));
      const hint = separated ? ['a feature table is read as plain numbers (1234.5), whatever ingest.numberFormat says: write it without thousands separators and with a decimal point'] : [];
      throw new InputError(table.where(`column "${c}" is not numeric: ${failing} of ${n} values are not numbers`), [`e.g. ${examples}`, 'feature columns must hold numbers (a blank or NA is a missing value)', ...hint]);
    }
  });
}

/** The checks of a feature table's rows, and what the accepted rows read. */
export interface FeatureRowChecks {
  checks: Check[];
  /** The value a quarantined row shows, per column. */
  values: [string, string][];
  /** Numeric columns, parsed once per row in view `__ff_parsed` (text `__pt<i>`, number `__pn<i>`). */
  parsed: string[];
  /**
   * The checks of the optional attribute columns (all but signup_date), by column: a failing value
   * is nulled with the row kept (a cell, as in ingest's 01-ingest/cells.ts), not a quarantined row.
   */
  cellChecks: CellChecks[];
  /** The contract attributes the table has, and the SQL each is read with. */
  attributeColumns: ColumnSpec[];
  attributeExpr: Map<string, string>;
  /** The table has a history column. */
  hasHistory: boolean;
  /** Both activity columns are there (one alone is read as unknown). */
  hasActivity: boolean;
}

/** The row checks of the feature, history, activity and attribute columns; an InputError for a non-numeric numeric attribute. */
export function featureRowChecks(table: TableColumns, featureColumns: readonly string[], sql: ColumnSql, fileName: string, logger: Logger): FeatureRowChecks {
  const { types } = table;
  const out: FeatureRowChecks = { checks: [], cellChecks: [], values: [[KEY_COLUMN, '__key']], parsed: [], attributeColumns: [], attributeExpr: new Map(), hasHistory: types.has(HISTORY_COLUMN), hasActivity: false };
  out.checks.push({ when: '__key IS NULL', reason: 'missing_key', column: KEY_COLUMN, detail: `${KEY_COLUMN} is blank` });
  // Numeric columns are checked on their parsed text and number, computed once per column in a
  // view under the checks (__ff_parsed), so that the checks and the quarantined value name a column
  // instead of repeating the parsing expression of each of 50 columns.
  const numericCheck = (c: string, min?: number, max?: number) => {
    if (!out.parsed.includes(c)) out.parsed.push(c);
    const i = out.parsed.indexOf(c);
    const [text, number] = [`__pt${i}`, `__pn${i}`];
    out.values.push([c, text]);
    if (sql.isText(c)) out.checks.push({ when: `${text} IS NOT NULL AND ${number} IS NULL`, reason: 'unparseable', column: c, detail: 'expected a number' });
    const range = [`isinf(${number})`, ...(min !== undefined ? [`${number} < ${min}`] : []), ...(max !== undefined ? [`${number} > ${max}`] : [])];
    const expected = min !== undefined && max !== undefined ? `between ${min} and ${max}` : min !== undefined ? `≥ ${min}` : 'a finite number';
    out.checks.push({ when: range.join(' OR '), reason: 'out_of_range', column: c, detail: `expected ${expected}` });
  };
  for (const f of featureColumns) numericCheck(f);
  if (out.hasHistory) numericCheck(HISTORY_COLUMN, 0);
  // Activity is read when both columns are there: the lifecycle lens needs the first and the last.
  out.hasActivity = ACTIVITY_COLUMNS.every((c) => types.has(c));
  if (out.hasActivity) for (const c of ACTIVITY_COLUMNS) numericCheck(c, 0);
  else if (ACTIVITY_COLUMNS.some((c) => types.has(c))) logger.warn(`${fileName}: ${ACTIVITY_COLUMNS.join(' and ')} come together; with one of them, activity is read as unknown`);
  out.attributeColumns = ATTRIBUTE_SPECS.filter((s) => types.has(s.name));
  for (const s of out.attributeColumns) {
    const c = s.name;
    if (s.type === 'int' || s.type === 'number') {
      if (!isNumericType(types.get(c)!) && !sql.isText(c)) throw new InputError(table.where(`column "${c}" is ${types.get(c)}; the customer attribute ${c} must be a number`));
      numericCheck(c, s.min, s.max);
      out.attributeExpr.set(c, sql.number(c));
    } else if (s.type === 'date') {
      const date = `try_cast(${sql.isText(c) ? sql.text(c) : sqlIdent(c)} AS DATE)`;
      out.values.push([c, sql.text(c)]);
      out.checks.push({ when: `${sql.text(c)} IS NOT NULL AND ${date} IS NULL`, reason: 'unparseable', column: c, detail: 'expected a date (YYYY-MM-DD)' });
      out.attributeExpr.set(c, `CAST(${date} AS VARCHAR)`);
    } else {
      const v = s.allowed ? `lower(${sql.text(c)})` : sql.text(c);
      if (s.allowed) {
        out.values.push([c, sql.text(c)]);
        out.checks.push({ when: `${v} NOT IN (${s.allowed.map(sqlString).join(', ')})`, reason: 'bad_enum', column: c, detail: `expected one of ${s.allowed.join(', ')}` });
      }
      out.attributeExpr.set(c, v);
    }
  }
  const cellLevel = new Set(out.attributeColumns.filter(isCellLevel).map((s) => s.name));
  for (const c of out.checks.filter((x) => cellLevel.has(x.column))) {
    const group = out.cellChecks.find((g) => g.column === c.column);
    if (group) (group.checks as Check[]).push(c);
    else out.cellChecks.push({ column: c.column, checks: [c] });
  }
  out.checks = out.checks.filter((x) => !cellLevel.has(x.column));
  return out;
}

/**
 * Runs the row checks over the table's rows (view `__ff_src`), or over one partition of its
 * customers, into TEMP TABLE `__ff_bad` (01-ingest/quarantine-rows.ts: `__file, __line, __reason,
 * __column, __value, __detail`, the line being the row number). Returns the relation of the rows
 * in scope, with their key as `__key`.
 */
export async function rejectFeatureRows(conn: DuckDBConnection, rows: FeatureRowChecks, sql: ColumnSql, partition: Partition | null): Promise<string> {
  // Rows without an id cannot be hashed: they belong to partition 0, so the partitions' quarantines add up to the whole file's.
  const inPartition = partition ? `WHERE (__key IS NULL AND ${partition.index} = 0) OR ${partitionSql('__key', partition.count)} = ${partition.index}` : '';
  // One partition is a small share of the file: held as a table, so the hash runs once, not at every read.
  const scoped = partition ? '__ff_part' : '__ff_scoped';
  await conn.run(`CREATE OR REPLACE TEMP ${partition ? 'TABLE' : 'VIEW'} ${scoped} AS SELECT * FROM (SELECT *, ${sql.text(KEY_COLUMN)} AS __key FROM __ff_src) ${inPartition}`);
  // Bad rows are few: the checks run once per row, the values and details are worked out for the failing rows only.
  await conn.run(`CREATE OR REPLACE TEMP VIEW __ff_parsed AS SELECT *, ${rows.parsed.map((c, i) => `${sql.text(c)} AS __pt${i}, ${sql.number(c)} AS __pn${i}`).join(', ')} FROM ${scoped}`);
  await createRejectedRows(conn, '__ff_bad', {
    from: `(SELECT *, ${reasonItems('__rc')} FROM (SELECT *, __row AS __line, ${firstFailure(rows.checks)} AS __rc FROM __ff_parsed)) c`,
    values: rows.values,
    details: rows.checks,
  });
  // Duplicate ids among the otherwise good rows: the first row (file, row order) is kept.
  const [{ repeated }] = (await queryRows(conn, `SELECT count(*) AS repeated FROM (SELECT __key FROM ${scoped} WHERE __key IS NOT NULL GROUP BY __key HAVING count(*) > 1)`)) as [{ repeated: number }];
  if (repeated > 0) {
    const passing = `SELECT __file, __row AS __line, __key FROM ${scoped} s WHERE ${notRejected('s')}`;
    await conn.run(`INSERT INTO __ff_bad SELECT __file, __line, 'duplicate_id', ${sqlString(KEY_COLUMN)}, __key, 'the id is already on an earlier row, which is kept' FROM (${repeatedKeysSql(passing)})`);
  }
  // The failing optional attribute values of rows not rejected whole: one cell per column.
  const cellCodes = rows.cellChecks.map((g) => `SELECT *, __row AS __line, ${firstFailure(g.checks)} AS __rc FROM __ff_parsed p WHERE ${notRejected('p')}`);
  await createRejectedRows(conn, '__ff_cells', {
    from: `(SELECT *, ${reasonItems('__rc')} FROM (${cellCodes.length ? cellCodes.join(' UNION ALL ') : `SELECT *, __row AS __line, CAST(NULL AS VARCHAR) AS __rc FROM __ff_parsed WHERE false`})) c`,
    values: rows.values,
    details: rows.cellChecks.flatMap((g) => g.checks),
  });
  return scoped;
}

/** SQL: the attribute `column` of the scoped row `alias` was nulled (it is in `__ff_cells`). */
export function cellNulled(alias: string, column: string): string {
  return `EXISTS (SELECT 1 FROM __ff_cells x WHERE x.__file = ${alias}.__file AND x.__line = ${alias}.__row AND x.__column = ${sqlString(column)})`;
}

/** SQL: the row `alias` of the scoped rows is not in `__ff_bad`. */
export function notRejected(alias: string): string {
  return `NOT EXISTS (SELECT 1 FROM __ff_bad b WHERE b.__file = ${alias}.__file AND b.__line = ${alias}.__row)`;
}
