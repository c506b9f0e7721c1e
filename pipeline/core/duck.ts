import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';

/** An in-memory DuckDB connection; the caller closes it with `closeSync()`. */
export async function openDuck(): Promise<DuckDBConnection> {
  const instance = await DuckDBInstance.create(':memory:');
  return instance.connect();
}

/** A SQL string literal. */
export function sqlString(s: string): string {
  return `'${s.replaceAll("'", "''")}'`;
}

/** A SQL identifier, quoted so any export's column name (spaces, Chinese, quotes) works. */
export function sqlIdent(s: string): string {
  return `"${s.replaceAll('"', '""')}"`;
}

/** The result of a query as columns: numbers as Float64Array (NULL → NaN), everything else as strings (NULL → null). */
export interface Columns {
  readonly names: string[];
  readonly rowCount: number;
  readonly numeric: Record<string, Float64Array>;
  readonly text: Record<string, (string | null)[]>;
}

/**
 * Streams a query chunk by chunk straight into typed arrays, so large results never exist as
 * row objects. Columns named in `textColumns` are read as strings, all others as numbers.
 */
export async function readColumns(conn: DuckDBConnection, sql: string, textColumns: readonly string[] = []): Promise<Columns> {
  const result = await conn.stream(sql);
  const names = result.columnNames();
  const isText = names.map((n) => textColumns.includes(n));
  let capacity = 1 << 14;
  let numericBuffers = names.map((_, c) => (isText[c] ? null : new Float64Array(capacity)));
  const textBuffers = names.map((_, c) => (isText[c] ? ([] as (string | null)[]) : null));
  let rowCount = 0;
  for await (const chunk of result) {
    const n = chunk.rowCount;
    if (rowCount + n > capacity) {
      while (rowCount + n > capacity) capacity *= 2;
      numericBuffers = numericBuffers.map((b) => {
        if (!b) return null;
        const grown = new Float64Array(capacity);
        grown.set(b.subarray(0, rowCount));
        return grown;
      });
    }
    for (let c = 0; c < names.length; c++) {
      const vector = chunk.getColumnVector(c);
      const num = numericBuffers[c];
      if (num) {
        for (let i = 0; i < n; i++) {
          const v = vector.getItem(i);
          num[rowCount + i] = v === null ? Number.NaN : Number(v);
        }
      } else {
        const txt = textBuffers[c]!;
        for (let i = 0; i < n; i++) {
          const v = vector.getItem(i);
          txt.push(v === null ? null : String(v));
        }
      }
    }
    rowCount += n;
  }
  const numeric: Record<string, Float64Array> = {};
  const text: Record<string, (string | null)[]> = {};
  names.forEach((name, c) => {
    if (isText[c]) text[name] = textBuffers[c]!;
    else numeric[name] = numericBuffers[c]!.slice(0, rowCount);
  });
  return { names, rowCount, numeric, text };
}

/** All rows of a small query as plain objects (numbers, strings, null); for summaries, never for per-customer data. */
export async function queryRows(conn: DuckDBConnection, sql: string): Promise<Record<string, unknown>[]> {
  const reader = await conn.runAndReadAll(sql);
  return reader.getRowObjectsJS().map((row) => {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(row)) out[k] = typeof v === 'bigint' ? Number(v) : v;
    return out;
  });
}
