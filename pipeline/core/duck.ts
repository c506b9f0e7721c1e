import { DuckDBInstance, type DuckDBAppender, type DuckDBConnection } from '@duckdb/node-api';

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
        if (!copyNumericVector(vector, n, num, rowCount)) {
          for (let i = 0; i < n; i++) {
            const v = vector.getItem(i);
            num[rowCount + i] = v === null ? Number.NaN : Number(v);
          }
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

/** What the fixed-width numeric vectors of @duckdb/node-api hold at run time (their fields are private in the typings). */
interface RawNumericVector {
  items?: unknown;
  validity?: { data: BigUint64Array | null; offset: number };
}

/**
 * Copies a fixed-width numeric vector (DOUBLE, FLOAT, integers of any width) straight from its
 * typed array into dst[offset, offset + n), NULL as NaN, reading the validity mask as bytes: ~10x
 * faster than getItem, which tests validity with BigInt arithmetic per value. Returns false for
 * other vectors (DECIMAL, dates, text), which the caller converts value by value.
 */
function copyNumericVector(vector: unknown, n: number, dst: Float64Array, offset: number): boolean {
  const raw = vector as RawNumericVector;
  const items = raw.items;
  const validity = raw.validity;
  if (!validity || validity.offset !== 0) return false;
  const mask = validity.data ? new Uint8Array(validity.data.buffer, validity.data.byteOffset, validity.data.byteLength) : null;
  if (!ArrayBuffer.isView(items) || (items as unknown as { length: number }).length < n) return false;
  // One loop per element type: a loop reading several typed-array kinds goes megamorphic and
  // runs ~50x slower than these.
  if (items instanceof Float64Array) dst.set(items.subarray(0, n), offset);
  else if (items instanceof Int32Array) copyInt32(items, n, dst, offset);
  else if (items instanceof BigInt64Array) copyBigInt64(items, n, dst, offset);
  else if (items instanceof Float32Array || items instanceof Int16Array || items instanceof Int8Array || items instanceof Uint32Array || items instanceof Uint16Array || items instanceof Uint8Array) {
    dst.set(items.subarray(0, n), offset);
  } else return false;
  // Bit i of the little-endian uint64 mask words is bit (i & 7) of byte i >> 3.
  if (mask) for (let i = 0; i < n; i++) if ((mask[i >> 3]! & (1 << (i & 7))) === 0) dst[offset + i] = Number.NaN;
  return true;
}

function copyInt32(items: Int32Array, n: number, dst: Float64Array, offset: number): void {
  for (let i = 0; i < n; i++) dst[offset + i] = items[i]!;
}

function copyBigInt64(items: BigInt64Array, n: number, dst: Float64Array, offset: number): void {
  for (let i = 0; i < n; i++) dst[offset + i] = Number(items[i]!);
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

/** The customer order each connection's `__customer_index` was loaded with. */
const registeredOrder = new WeakMap<DuckDBConnection, readonly string[]>();

/**
 * Loads `customerIds` (the feature table's row order) into TEMP TABLE `__customer_index
 * (customer_id, idx)` unless this very array is already loaded. Per-customer queries then join
 * it and return row positions, which stream into typed arrays; reading a million id strings back
 * and looking each up in a Map instead took seconds per query at vendor scale.
 */
export async function registerCustomerIndex(conn: DuckDBConnection, customerIds: readonly string[]): Promise<void> {
  if (registeredOrder.get(conn) === customerIds) return;
  await fillTempTable(conn, '__customer_index (customer_id VARCHAR, idx INTEGER)', customerIds.length, (appender, i) => {
    appender.appendVarchar(customerIds[i]!);
    appender.appendInteger(i);
  });
  registeredOrder.set(conn, customerIds);
}

/**
 * (Re)creates TEMP TABLE `definition` ("name (column TYPE, …)") with `rows` rows, row i appended
 * by `appendRow` through DuckDB's appender: how JS arrays reach SQL without a text round trip.
 */
export async function fillTempTable(conn: DuckDBConnection, definition: string, rows: number, appendRow: (appender: DuckDBAppender, i: number) => void): Promise<void> {
  await conn.run(`CREATE OR REPLACE TEMP TABLE ${definition}`);
  const appender = await conn.createAppender(definition.slice(0, definition.indexOf('(')).trim());
  for (let i = 0; i < rows; i++) {
    appendRow(appender, i);
    appender.endRow();
  }
  appender.flushSync();
  appender.closeSync();
}

/** Columns of a result with an `__idx` column scattered to row positions 0..n-1 (NaN at positions without a row). */
function byRowPosition(cols: Columns, n: number): Record<string, Float64Array> {
  const idx = cols.numeric.__idx!;
  const out: Record<string, Float64Array> = {};
  for (const name of cols.names) {
    if (name === '__idx') continue;
    const src = cols.numeric[name]!;
    const dst = new Float64Array(n).fill(Number.NaN);
    for (let r = 0; r < cols.rowCount; r++) dst[idx[r]!] = src[r]!;
    out[name] = dst;
  }
  return out;
}

/** One query of startPerCustomer: at most one row per customer, a `customer_id` column and the listed numeric ones. */
export interface PerCustomerQuery {
  sql: string;
  columns: readonly string[];
  /** Value where the query has no row for a customer (NaN unless given); NULLs it returns stay NaN. */
  fill?: number;
}

let perCustomerTables = 0;

/**
 * Per-customer queries as columns aligned with `customerIds` (row i is customer i; rows of
 * customers not in the list are left out). They run as ONE statement that DuckDB runs to the
 * end on its own threads: it is issued before this returns, so it progresses while JS computes
 * synchronously. A streamed read would advance only when JS awaits, so at vendor scale it would
 * run after the model fitting instead of beside it. `registerCustomerIndex(conn, customerIds)`
 * must have run.
 */
export function startPerCustomer(conn: DuckDBConnection, customerIds: readonly string[], queries: readonly PerCustomerQuery[]): Promise<Record<string, Float64Array>> {
  if (registeredOrder.get(conn) !== customerIds) throw new Error('startPerCustomer: registerCustomerIndex(conn, customerIds) must run first');
  const table = `__per_customer_${perCustomerTables++}`;
  const select = queries.flatMap((q, i) =>
    q.columns.map((c) => (q.fill === undefined || Number.isNaN(q.fill) ? `q${i}.${sqlIdent(c)}` : `coalesce(q${i}.${sqlIdent(c)}, ${q.fill}) AS ${sqlIdent(c)}`)),
  );
  const joins = queries.map((q, i) => `LEFT JOIN (${q.sql}) q${i} ON q${i}.customer_id = ci.customer_id`);
  const running = conn.run(`CREATE TEMP TABLE ${table} AS SELECT ci.idx AS __idx, ${select.join(', ')} FROM __customer_index ci ${joins.join(' ')}`);
  return running.then(async () => {
    try {
      // Every index row has a result row (the fills are applied in SQL).
      return byRowPosition(await readColumns(conn, `SELECT * FROM ${table}`), customerIds.length);
    } finally {
      await conn.run(`DROP TABLE ${table}`);
    }
  });
}

/** DuckDB work queued on one connection (duckQueue). */
export interface DuckQueue {
  /**
   * Starts `work` once everything queued before it has settled, at once (synchronously) when
   * nothing is queued, so a statement it issues first runs while the caller goes on computing;
   * its promise is its own result.
   */
  run<T>(work: () => Promise<T>): Promise<T>;
  /** Resolves when everything queued so far has settled (before the connection is closed). */
  settled(): Promise<void>;
}

/**
 * Lets a job start DuckDB queries early and await their results later, while JS computes: the
 * queries run one after another on the connection (temp views are connection-local). A failure
 * rejects only the promise of its own work, which is marked handled at once, so a failure not
 * yet awaited cannot end the process.
 */
export function duckQueue(): DuckQueue {
  let tail: Promise<void> = Promise.resolve();
  let pending = 0;
  return {
    run<T>(work: () => Promise<T>): Promise<T> {
      const start = async () => work();
      const p = pending === 0 ? start() : tail.then(start);
      pending++;
      tail = p.then(
        () => void pending--,
        () => void pending--,
      );
      return p;
    },
    settled: () => tail,
  };
}

/**
 * readColumns for a query some of whose text columns (`coded`) hold few distinct values
 * (customer attributes, labels, dates): the result is materialised once in DuckDB, each coded
 * column's distinct values become a dictionary, and the rows come back with integer positions
 * in its place, turned into strings in JS. Reading a million customers' six attribute strings one
 * by one took 2.6 s, their codes a tenth of that. Same columns and row order as readColumns.
 */
export async function readColumnsCoded(
  conn: DuckDBConnection,
  sql: string,
  textColumns: readonly string[],
  coded: readonly string[],
  /** Called with the row count once the query has run, before its rows are read into JS. */
  onMaterialised?: (rows: number) => void,
): Promise<Columns> {
  await conn.run(`CREATE OR REPLACE TEMP TABLE __coded_q AS ${sql}`);
  try {
    if (onMaterialised) onMaterialised(Number((await queryRows(conn, 'SELECT count(*) AS n FROM __coded_q'))[0]!.n));
    const dictionaries: string[][] = [];
    for (const [c, name] of coded.entries()) {
      const values = await readColumns(conn, `SELECT DISTINCT CAST(${sqlIdent(name)} AS VARCHAR) AS v FROM __coded_q WHERE ${sqlIdent(name)} IS NOT NULL`, ['v']);
      dictionaries.push(values.text.v as string[]);
      const list = `CAST([${dictionaries[c]!.map(sqlString).join(', ')}] AS VARCHAR[])`;
      await conn.run(`CREATE OR REPLACE TEMP TABLE __dict_${c} AS SELECT v, CAST(ordinality - 1 AS INTEGER) AS code FROM unnest(${list}) WITH ORDINALITY AS d(v, ordinality)`);
    }
    const replaced = coded.map((name, c) => `d${c}.code AS ${sqlIdent(name)}`).join(', ');
    const joins = coded.map((name, c) => `LEFT JOIN __dict_${c} d${c} ON d${c}.v = CAST(q.${sqlIdent(name)} AS VARCHAR)`).join(' ');
    // rowid is the insertion order, which is the query's order.
    const select = coded.length ? `q.* REPLACE (${replaced})` : 'q.*';
    const cols = await readColumns(conn, `SELECT ${select} FROM __coded_q q ${joins} ORDER BY q.rowid`, textColumns.filter((t) => !coded.includes(t)));
    for (const [c, name] of coded.entries()) {
      const dictionary = dictionaries[c]!;
      cols.text[name] = Array.from(cols.numeric[name]!, (code) => (Number.isNaN(code) ? null : dictionary[code]!));
      delete cols.numeric[name];
    }
    return cols;
  } finally {
    await conn.run(`DROP TABLE IF EXISTS __coded_q; ${coded.map((_, c) => `DROP TABLE IF EXISTS __dict_${c};`).join(' ')}`);
  }
}
