import type { DuckDBConnection } from '@duckdb/node-api';
import type { TableName } from './contract.ts';
import type { NormalisedFile } from './normalise.ts';
import type { IngestParams } from './params.ts';
import type { SourceFile } from './sources.ts';
import { RecordScanner, displayText, utf8Chunks } from './text.ts';
import { queryRows, sqlIdent, sqlString } from '../core/duck.ts';
import { InputError } from '../core/errors.ts';

/**
 * Rows the readers could not take as rows: DuckDB's CSV rejects and the JSON lines it could not
 * parse, recorded in `malformed_<table>` with their line and, for JSON, their text.
 */

/** Lines DuckDB could not parse in a JSON Lines file get their text read back only up to this many. */
const MAX_TEXT_LOOKUPS = 10_000;

async function countRows(conn: DuckDBConnection, table: string): Promise<number> {
  const [row] = await queryRows(conn, `SELECT count(*) AS n FROM ${table}`);
  return Number(row!.n);
}

/** DuckDB's reject reason in the user's terms; its field counts include the two provenance fields, which are taken off. */
const REJECT_MESSAGE = `CASE error_type
  WHEN 'TOO MANY COLUMNS' THEN 'more fields than the header (' || (TRY_CAST(regexp_extract(error_message, 'Found: (\\d+)', 1) AS INTEGER) - 2) || ' instead of ' || (TRY_CAST(regexp_extract(error_message, 'Expected Number of Columns: (\\d+)', 1) AS INTEGER) - 2) || ')'
  WHEN 'MISSING COLUMNS' THEN 'fewer fields than the header (' || (TRY_CAST(regexp_extract(error_message, 'Found: (\\d+)', 1) AS INTEGER) - 2) || ' instead of ' || (TRY_CAST(regexp_extract(error_message, 'Expected Number of Columns: (\\d+)', 1) AS INTEGER) - 2) || ')'
  WHEN 'INVALID ENCODING' THEN 'INVALID ENCODING: bytes that are not valid UTF-8'
  WHEN 'UNQUOTED VALUE' THEN 'a quoted field with text after its closing quote'
  ELSE error_type || ': ' || error_message END`;

/**
 * Moves the records DuckDB rejected while reading a scan group's normalised CSV copies into the
 * malformed table, and drops the rejects tables; returns how many records they were.
 */
export async function collectRejects(conn: DuckDBConnection, rejectsTables: { table: string; scan: string }, delimiter: string, malformedTable: string): Promise<number> {
  const rejects = sqlIdent(rejectsTables.table);
  const d = sqlString(delimiter);
  // The normaliser put "file<d>line<d>" in front of every record, so a rejected record still names its file and line.
  const inserted = (
    await conn.run(
      `INSERT INTO ${malformedTable}
       SELECT file, line, string_agg(DISTINCT message, '; '), any_value(text)
       FROM (SELECT TRY_CAST(split_part(csv_line, ${d}, 1) AS INTEGER) AS file, TRY_CAST(split_part(csv_line, ${d}, 2) AS BIGINT) AS line, ${REJECT_MESSAGE} AS message,
                    substr(csv_line, length(split_part(csv_line, ${d}, 1)) + length(split_part(csv_line, ${d}, 2)) + 3) AS text
             FROM ${rejects})
       GROUP BY file, line`,
    )
  ).rowsChanged;
  await conn.run(`DROP TABLE IF EXISTS ${rejects}; DROP TABLE IF EXISTS ${sqlIdent(rejectsTables.scan)}`);
  if (inserted > 0) {
    const [row] = await queryRows(conn, `SELECT count(*) AS unknown FROM ${malformedTable} WHERE __file IS NULL OR __line IS NULL`);
    if (Number(row!.unknown) > 0) throw new InputError(`table ${malformedTable}: DuckDB rejected rows whose file or line cannot be told`, ['this is a finseg bug; run with --debug and report it']);
  }
  return inserted;
}

/** Finds the JSON Lines rows DuckDB could not parse (written but not staged) and records them as malformed. */
export async function collectJsonRejects(
  conn: DuckDBConnection,
  table: TableName,
  p: { file: SourceFile; index: number; normalised: NormalisedFile | null },
  raw: string,
  malformedTable: string,
  params: IngestParams,
): Promise<number> {
  const normalised = p.normalised!;
  if (normalised.ranges.length === 0) return 0;
  const ranges = normalised.ranges.map(([a, b]) => `(${a}, ${b})`).join(', ');
  const missing = sqlIdent(`json_missing_${table}`);
  await conn.run(
    `CREATE OR REPLACE TEMP TABLE ${missing} AS
     SELECT l.line FROM (SELECT unnest(range(a, b + 1)) AS line FROM (VALUES ${ranges}) v(a, b)) l
     ANTI JOIN (SELECT __line FROM ${raw} WHERE __file = ${p.index}) r ON r.__line = l.line`,
  );
  const lines = (await queryRows(conn, `SELECT line FROM ${missing} ORDER BY line LIMIT ${MAX_TEXT_LOOKUPS}`)).map((r) => Number(r.line));
  const texts = lines.length ? await textOfLines(p.file, params.csv.encoding, new Set(lines)) : new Map<number, string>();
  await conn.run(`CREATE OR REPLACE TEMP TABLE ${sqlIdent(`json_text_${table}`)} (line BIGINT, text VARCHAR)`);
  if (texts.size) {
    const values = [...texts].map(([l, t]) => `(${l}, ${sqlString(displayText(t))})`);
    for (let i = 0; i < values.length; i += 1000) await conn.run(`INSERT INTO ${sqlIdent(`json_text_${table}`)} VALUES ${values.slice(i, i + 1000).join(', ')}`);
  }
  await conn.run(
    `INSERT INTO ${malformedTable} SELECT ${p.index}, m.line, 'not valid JSON', t.text FROM ${missing} m LEFT JOIN ${sqlIdent(`json_text_${table}`)} t USING (line)`,
  );
  const n = await countRows(conn, missing);
  await conn.run(`DROP TABLE ${missing}`);
  await conn.run(`DROP TABLE ${sqlIdent(`json_text_${table}`)}`);
  return n;
}

/** The text of some physical lines of a file, streamed. */
async function textOfLines(file: SourceFile, encoding: string, lines: ReadonlySet<number>): Promise<Map<number, string>> {
  const out = new Map<number, string>();
  const scanner = new RecordScanner('lines', { delimiter: ',', quote: '"' }, (buf, start, end, line) => {
    if (lines.has(line)) out.set(line, buf.toString('utf8', start, end));
  });
  for await (const chunk of utf8Chunks(file, encoding)) scanner.push(chunk);
  scanner.end();
  return out;
}
