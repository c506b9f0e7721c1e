/**
 * Exports a generated data set as NumPy `.npy` columns for the Python reference pipeline.
 *
 * Why not let pandas read the Parquet files: Debian's python3-pandas has no Parquet engine
 * (neither pyarrow nor fastparquet is packaged in Debian 12), and no other Python packages may be
 * installed here. Decoded binary columns are the fastest input pandas can get, so the
 * reference's "ingest" (np.load) does strictly less work than ours (Parquet decode + contract
 * checks + quarantine); the benchmark reports it but does not count it as a comparable stage.
 *
 * Layout: `<out>/<table>/<column>.npy`, text columns as int codes into `<out>/meta.json`'s
 * dictionaries (-1 = missing), timestamps as int64 epoch seconds, dates as int32 epoch days.
 */
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { openDuck, queryRows, sqlString } from '../pipeline/core/duck.ts';

/** numpy dtype of each exported SQL type. */
const NPY_DTYPE: Record<string, { descr: string; bytes: number }> = {
  INTEGER: { descr: '<i4', bytes: 4 },
  BIGINT: { descr: '<i8', bytes: 8 },
  TINYINT: { descr: '|i1', bytes: 1 },
  SMALLINT: { descr: '<i2', bytes: 2 },
  DOUBLE: { descr: '<f8', bytes: 8 },
};

/** Fixed header size: the shape is only known at the end, when the header is rewritten in place. */
const HEADER_BYTES = 128;

function npyHeader(descr: string, rows: number): Buffer {
  const dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${rows},), }`;
  const prefix = 10; // magic (6) + version (2) + header length (2)
  const body = dict.padEnd(HEADER_BYTES - prefix - 1, ' ') + '\n';
  const out = Buffer.alloc(HEADER_BYTES);
  out.write('\x93NUMPY', 0, 'latin1');
  out[6] = 1;
  out[7] = 0;
  out.writeUInt16LE(body.length, 8);
  out.write(body, prefix, 'latin1');
  return out;
}

/** Streams a query whose columns are all fixed-width numbers into one .npy file per column. */
async function exportQuery(conn: DuckDBConnection, sql: string, types: Record<string, string>, dir: string): Promise<number> {
  mkdirSync(dir, { recursive: true });
  const result = await conn.stream(sql);
  const names = result.columnNames();
  const fds = names.map((name) => {
    const fd = openSync(join(dir, `${name}.npy`), 'w');
    writeSync(fd, Buffer.alloc(HEADER_BYTES));
    return fd;
  });
  let rows = 0;
  for await (const chunk of result) {
    for (let c = 0; c < names.length; c++) {
      const items = (chunk.getColumnVector(c) as unknown as { items: ArrayBufferView }).items;
      writeSync(fds[c]!, Buffer.from(items.buffer, items.byteOffset, items.byteLength));
    }
    rows += chunk.rowCount;
  }
  names.forEach((name, c) => {
    writeSync(fds[c]!, npyHeader(NPY_DTYPE[types[name]!]!.descr, rows), 0, HEADER_BYTES, 0);
    closeSync(fds[c]!);
  });
  return rows;
}

/** Exports `dataDir` (customers, usage_events, transactions) into `outDir` unless already done. */
export async function exportColumns(dataDir: string, outDir: string): Promise<void> {
  const done = join(outDir, 'meta.json');
  if (existsSync(done)) return;
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  // The bench generates Parquet; reading it directly keeps this export independent of ingest's internals.
  const reader = (table: string): string => `read_parquet(${sqlString(join(dataDir, `${table}.parquet`))})`;
  const conn = await openDuck();
  try {
    await conn.run(`CREATE TEMP VIEW c AS SELECT * FROM ${reader('customers')}`);
    await conn.run(`CREATE TEMP VIEW e AS SELECT * FROM ${reader('usage_events')}`);
    await conn.run(`CREATE TEMP VIEW t AS SELECT * FROM ${reader('transactions')}`);
    await conn.run(`CREATE TEMP TABLE cust AS SELECT customer_id, (row_number() OVER (ORDER BY customer_id) - 1)::INTEGER AS code FROM c`);
    const dictionaries: Record<string, string[]> = {};
    const dict = async (name: string, table: string, column: string): Promise<void> => {
      await conn.run(
        `CREATE TEMP TABLE d_${name} AS SELECT v, (row_number() OVER (ORDER BY v) - 1)::${name === 'user' ? 'INTEGER' : 'TINYINT'} AS code
         FROM (SELECT DISTINCT CAST(${column} AS VARCHAR) AS v FROM ${table} WHERE ${column} IS NOT NULL)`,
      );
      if (name !== 'user') dictionaries[name] = (await queryRows(conn, `SELECT v FROM d_${name} ORDER BY code`)).map((r) => String(r.v));
    };
    await dict('module', 'e', 'module');
    await dict('device', 'e', 'device');
    await dict('user', 'e', 'user_id');
    await dict('currency', 't', 'currency');
    await dict('kind', 't', 'kind');
    const rows: Record<string, number> = {};
    rows.customers = await exportQuery(
      conn,
      `SELECT code AS customer, (CAST(c.signup_date AS DATE) - DATE '1970-01-01')::INTEGER AS signup_day FROM c JOIN cust USING (customer_id) ORDER BY code`,
      { customer: 'INTEGER', signup_day: 'INTEGER' },
      join(outDir, 'customers'),
    );
    rows.usage_events = await exportQuery(
      conn,
      `SELECT cust.code AS customer, epoch(CAST(e.ts AS TIMESTAMP))::BIGINT AS ts, dm.code AS module, dd.code AS device,
              coalesce(du.code, -1)::INTEGER AS "user", coalesce(CAST(e."count" AS INTEGER), -1)::INTEGER AS "count"
       FROM e JOIN cust USING (customer_id)
       JOIN d_module dm ON dm.v = CAST(e.module AS VARCHAR) JOIN d_device dd ON dd.v = CAST(e.device AS VARCHAR)
       LEFT JOIN d_user du ON du.v = CAST(e.user_id AS VARCHAR)`,
      { customer: 'INTEGER', ts: 'BIGINT', module: 'TINYINT', device: 'TINYINT', user: 'INTEGER', count: 'INTEGER' },
      join(outDir, 'usage_events'),
    );
    rows.transactions = await exportQuery(
      conn,
      `SELECT cust.code AS customer, epoch(CAST(t.ts AS TIMESTAMP))::BIGINT AS ts, coalesce(CAST(t.amount AS DOUBLE), 'NaN'::DOUBLE) AS amount,
              coalesce(dc.code, -1)::TINYINT AS currency, coalesce(dk.code, -1)::TINYINT AS kind
       FROM t JOIN cust USING (customer_id)
       LEFT JOIN d_currency dc ON dc.v = CAST(t.currency AS VARCHAR) LEFT JOIN d_kind dk ON dk.v = CAST(t.kind AS VARCHAR)`,
      { customer: 'INTEGER', ts: 'BIGINT', amount: 'DOUBLE', currency: 'TINYINT', kind: 'TINYINT' },
      join(outDir, 'transactions'),
    );
    // The as-of date finseg infers: the day of the last usage event.
    const [{ d }] = (await queryRows(conn, `SELECT CAST(max(CAST(ts AS TIMESTAMP)) AS DATE)::VARCHAR AS d FROM e`)) as [{ d: string }];
    const truthPath = join(dataDir, 'truth.csv');
    writeFileSync(done, `${JSON.stringify({ asOf: d, rows, dictionaries, truth: existsSync(truthPath) ? resolve(truthPath) : null }, null, 2)}\n`);
  } finally {
    conn.closeSync();
  }
}

/** The export's meta.json. */
export function readExportMeta(outDir: string): { asOf: string; rows: Record<string, number> } {
  return JSON.parse(readFileSync(join(outDir, 'meta.json'), 'utf8'));
}
