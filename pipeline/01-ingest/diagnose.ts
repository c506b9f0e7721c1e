import type { DuckDBConnection } from '@duckdb/node-api';
import { DATE_FORMATS, blankExpr } from './checks.ts';
import { CONTRACT } from './contract.ts';
import { SEPARATED_NUMBER, formatLabel, formatSetting, isPlain } from './numbers.ts';
import type { Staged, TableIngestReport } from './staged.ts';
import { queryRows, sqlIdent, sqlString } from '../core/duck.ts';
import { InputError } from '../core/errors.ts';

/**
 * What a table's quarantine says about its cause: a column of the wrong type stops the run with
 * one file-level error; a high quarantine share gets advice on the common causes.
 */

/** A column whose non-blank values mostly fail to parse has the wrong type: a file-level error, not thousands of quarantined rows. */
const WRONG_TYPE_SHARE = 0.5;
/** Fewer unparseable values than this are bad rows, whatever their share. */
export const WRONG_TYPE_MIN_ROWS = 5;

/**
 * A column whose non-blank values mostly fail to parse is the wrong column or the wrong type
 * (swapped columns, dates in another layout): one clear file-level error with examples and, for
 * dates, the layout they do parse in, instead of quarantining most of the file. Reads TEMP TABLEs
 * `checked` (accept.ts), `cell_failures` (cells.ts) and `raw_<table>`.
 */
export async function checkColumnTypes(conn: DuckDBConnection, staged: Staged, missingValues: readonly string[]): Promise<void> {
  // Unparseable values of optional columns are nulled cells (cells.ts), not quarantined rows: both count.
  const failures = `(SELECT __file, __line, __reason, __column FROM checked UNION ALL SELECT __file, __line, __reason, __column FROM cell_failures)`;
  const suspects = await queryRows(conn, `SELECT __file AS f, __column AS col, count(*) AS n FROM ${failures} WHERE __reason = 'unparseable' GROUP BY 1, 2 HAVING count(*) >= ${WRONG_TYPE_MIN_ROWS}`);
  const raw = sqlIdent(`raw_${staged.table}`);
  for (const s of suspects) {
    const plan = staged.plans.find((p) => p.spec.name === s.col)!;
    const rawCol = `r.${sqlIdent(plan.spec.name)}`;
    const [row] = await queryRows(conn, `SELECT count(*) AS n FROM ${raw} r WHERE r.__file = ${s.f} AND NOT ${blankExpr(rawCol, plan.rawType, missingValues)}`);
    const nonBlank = Number(row!.n);
    const bad = Number(s.n);
    if (bad / Math.max(nonBlank, 1) <= WRONG_TYPE_SHARE) continue;
    // The first three distinct failing values in file order: a bare DISTINCT ... LIMIT takes
    // whichever rows DuckDB's threads reach first, so the message changed from run to run.
    const examples = (
      await queryRows(
        conn,
        `SELECT v FROM (SELECT CAST(${rawCol} AS VARCHAR) AS v, min(r.__line) AS first_line FROM ${raw} r JOIN ${failures} c ON c.__file = r.__file AND c.__line = r.__line WHERE c.__reason = 'unparseable' AND c.__column = ${sqlString(plan.spec.name)} AND r.__file = ${s.f} GROUP BY 1) ORDER BY first_line LIMIT 3`,
      )
    ).map((r) => String(r.v));
    const file = staged.files[Number(s.f)]!;
    const sourceName = staged.sourceNames.get(plan.spec.name) ?? plan.spec.name;
    const detail = [`${bad} of ${nonBlank} values do not parse, e.g. ${examples.map((x) => JSON.stringify(x)).join(', ')}`];
    if (plan.spec.type === 'date' || plan.spec.type === 'timestamp') {
      const formats = await parsingFormats(conn, `SELECT CAST(${rawCol} AS VARCHAR) AS v FROM ${raw} r WHERE r.__file = ${s.f} AND NOT ${blankExpr(rawCol, plan.rawType, missingValues)} ORDER BY r.__line LIMIT 2000`);
      if (formats.length > 0) {
        const owner = staged.report.derivedFrom ? 'customers' : staged.table;
        detail.push(`they parse with the format ${formats.map((f) => JSON.stringify(f)).join(' or ')}: map the column as "ingest": {"columns": {"${owner}": {"${plan.spec.name}": {"column": "${sourceName}", "format": "${formats[0]}"}}}}`);
      } else detail.push('dates must be ISO (2026-09-30, 2026-09-30 14:05:00) or mapped with a strptime "format"');
    } else if (plan.spec.type === 'number' || plan.spec.type === 'int') {
      const separated = new RegExp(`^(?:${SEPARATED_NUMBER})$`);
      const f = plan.numberFormat;
      detail.push(
        !examples.some((x) => separated.test(x.trim())) ? 'is the column mapping right? two columns may be swapped'
        : isPlain(f) ? `the numbers are written with separators (1,234.50, 1.234,50): declare the export's format, e.g. ${formatSetting({ thousands: ',', decimal: '.' })} (finseg init proposes it)`
        : `the numbers do not fit ingest.numberFormat (${formatLabel(f)}): is it the export's format?`,
      );
    }
    throw new InputError(`${file}: column "${sourceName}" (${staged.table}.${plan.spec.name}) does not hold ${plan.spec.type} values`, detail);
  }
}

/** The date layouts of `DATE_FORMATS` under which every value of the query parses (at most two). */
export async function parsingFormats(conn: DuckDBConnection, valuesSql: string): Promise<string[]> {
  const cols = DATE_FORMATS.map((f, i) => `count(*) FILTER (WHERE try_strptime(trim(v), ${sqlString(f)}) IS NULL) AS f${i}`).join(', ');
  const [row] = await queryRows(conn, `SELECT count(*) AS n, ${cols} FROM (${valuesSql})`);
  if (!row || Number(row.n) === 0) return [];
  return DATE_FORMATS.filter((_, i) => Number(row[`f${i}`]) === 0).slice(0, 2);
}

/** Advice for the most common causes of a high quarantine share. */
export function hintsFor(report: TableIngestReport): string[] {
  const hints: string[] = [];
  const malformed = report.details.find((d) => d.reason === 'malformed');
  if (malformed && malformed.examples.some((x) => /INVALID ENCODING|not valid text/i.test(x))) {
    hints.push('rows are not valid UTF-8: if the file is GBK/GB18030 or Latin-1, set "ingest": {"csv": {"encoding": "gb18030"}} (or "latin1")');
  }
  for (const d of report.details) {
    if (d.reason === 'bad_enum' && report.table === 'subscriptions' && d.column === 'plan') hints.push(`plans outside "ingest.plans" (e.g. ${d.examples.slice(0, 2).map((x) => JSON.stringify(x)).join(', ')}): add them to that list, or map them onto a listed plan in "ingest": {"values": {"subscriptions": {"plan": {...}}}}`);
    else if (d.reason === 'bad_enum' && d.column && d.column !== 'currency') hints.push(`map your ${d.column} values in the config: "ingest": {"values": {"${report.table}": {"${d.column}": {${d.examples.slice(0, 2).map((x) => `"${x}": "<contract value>"`).join(', ')}}}}}`);
    const type = CONTRACT[report.table].columns.find((c) => c.name === d.column)?.type;
    const separated = type === 'number' || type === 'int' ? d.examples.find((x) => new RegExp(`^(?:${SEPARATED_NUMBER})$`).test(x.trim())) : undefined;
    if (d.reason === 'unparseable' && separated !== undefined) {
      hints.push(`${d.column} values are written with separators (e.g. ${JSON.stringify(separated)}): declare the export's thousands separator and decimal mark in "ingest": {"numberFormat": ...} (finseg init proposes it)`);
    }
    if (d.reason === 'missing_key' && d.column === 'customer_id') hints.push(`${d.count} rows have no customer id: they cannot be attributed to a customer`);
  }
  return hints;
}
