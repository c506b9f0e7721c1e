import type { DuckDBConnection } from '@duckdb/node-api';
import { blankExpr, normalisedIdSql, planTable, typedExpr, type ColumnPlan } from './checks.ts';
import type { Staged } from './staged.ts';
import type { IngestParams } from './params.ts';
import { queryRows, sqlIdent } from '../core/duck.ts';

/** Customer attributes staged beside a table's own columns (`__c_<column>`) when customers are derived from it. */
export const EXTRA_PREFIX = '__c_';

/**
 * Derives `raw_customers` from a table whose rows repeat customer attributes (a transaction-lines
 * export): one row per distinct customer id, at the line of its first row; signup_date is the
 * earliest parseable date, each other attribute the most common (or first, or last) non-blank value.
 */
export async function deriveCustomers(conn: DuckDBConnection, from: Staged, params: IngestParams): Promise<Staged> {
  const plans = planTable('customers', params);
  const idPlan = plans.find((p) => p.spec.name === 'customer_id')!;
  idPlan.rawType = 'VARCHAR';
  const src = sqlIdent(`raw_${from.table}`);
  const fromId = from.plans.find((p) => p.spec.name === 'customer_id')!;
  const blankId = blankExpr('r.customer_id', fromId.rawType, params.missingValues);
  const attrs = from.extra;
  for (const a of attrs) plans.find((p) => p.spec.name === a.spec.name)!.rawType = a.rawType;
  const col = (a: ColumnPlan) => sqlIdent(`${EXTRA_PREFIX}${a.spec.name}`);
  const pick = (a: ColumnPlan): string => {
    const name = sqlIdent(a.spec.name);
    const notBlank = `NOT ${blankExpr(`s.${col(a)}`, a.rawType, params.missingValues)}`;
    if (a.spec.name === 'signup_date') {
      const typed = typedExpr(a, `s.${col(a)}`, params.missingValues);
      // The earliest date that parses; when none does, the first value, so the row is quarantined with it.
      return `SELECT customer_id, coalesce(arg_min(s.${col(a)}, ${typed}) FILTER (WHERE isfinite(${typed})), arg_min(s.${col(a)}, __ord) FILTER (WHERE ${notBlank})) AS ${name} FROM src s GROUP BY customer_id`;
    }
    if (params.deriveCustomers.attributes === 'first') return `SELECT customer_id, arg_min(s.${col(a)}, __ord) FILTER (WHERE ${notBlank}) AS ${name} FROM src s GROUP BY customer_id`;
    if (params.deriveCustomers.attributes === 'last') return `SELECT customer_id, arg_max(s.${col(a)}, __ord) FILTER (WHERE ${notBlank}) AS ${name} FROM src s GROUP BY customer_id`;
    return `SELECT customer_id, ${name} FROM (
        SELECT customer_id, v AS ${name}, row_number() OVER (PARTITION BY customer_id ORDER BY n DESC, first_ord) AS rank
        FROM (SELECT customer_id, s.${col(a)} AS v, count(*) AS n, min(__ord) AS first_ord FROM src s WHERE ${notBlank} GROUP BY customer_id, s.${col(a)}))
      WHERE rank = 1`;
  };
  const withs = attrs.map((a, i) => `a${i} AS (${pick(a)})`);
  const joins = attrs.map((_, i) => `LEFT JOIN a${i} USING (customer_id)`).join(' ');
  const selected = plans.filter((p) => p.spec.name !== 'customer_id').map((p) => (attrs.some((a) => a.spec.name === p.spec.name) ? sqlIdent(p.spec.name) : `CAST(NULL AS ${p.rawType}) AS ${sqlIdent(p.spec.name)}`));
  const idRaw = fromId.rawType === 'VARCHAR' ? 'r.customer_id' : 'CAST(r.customer_id AS VARCHAR)';
  // Ids are grouped as the accepted table will hold them, so `17850.0` and `17850` are one customer.
  const idText = params.normaliseIds ? normalisedIdSql(`trim(${idRaw})`) : `trim(${idRaw})`;
  await conn.run(
    `CREATE OR REPLACE TEMP TABLE raw_customers AS
     WITH src AS (SELECT r.* EXCLUDE (customer_id), ${idText} AS customer_id, CAST(r.__file AS BIGINT) * 10000000000000 + r.__line AS __ord FROM ${src} r WHERE NOT ${blankId}),
     base AS (SELECT customer_id, arg_min(__file, __ord) AS __file, arg_min(__line, __ord) AS __line FROM src GROUP BY customer_id)
     ${withs.length ? `, ${withs.join(', ')}` : ''}
     SELECT b.__file, b.__line, b.customer_id, ${selected.join(', ')} FROM base b ${joins} ORDER BY b.__file, b.__line`,
  );
  // The derived table reads the source's files; its own quarantine file names the same file and the customer's first line.
  await conn.run(`CREATE OR REPLACE TEMP TABLE files_customers AS SELECT * FROM ${sqlIdent(`files_${from.table}`)}`);
  await conn.run(`CREATE OR REPLACE TEMP TABLE malformed_customers (__file INTEGER, __line BIGINT, __detail VARCHAR, __text VARCHAR)`);
  const [row] = await queryRows(conn, `SELECT (SELECT count(*) FROM raw_customers) AS n, (SELECT count(*) FROM ${src} r WHERE NOT ${blankId}) AS rows`);
  const sourceNames = new Map<string, string>();
  for (const [k, v] of from.sourceNames) if (k.startsWith(EXTRA_PREFIX)) sourceNames.set(k.slice(EXTRA_PREFIX.length), v);
  sourceNames.set('customer_id', from.sourceNames.get('customer_id') ?? 'customer_id');
  const missingOptionalColumns = plans.filter((p) => !p.spec.required && !sourceNames.has(p.spec.name)).map((p) => p.spec.name);
  return {
    table: 'customers',
    plans,
    extra: [],
    files: from.files,
    sources: from.sources,
    csvShapes: from.csvShapes,
    sourceNames,
    malformed: 0,
    inPlace: false,
    report: {
      table: 'customers',
      source: from.report.source,
      format: from.report.format,
      files: from.report.files,
      read: Number(row!.n),
      accepted: 0,
      quarantined: 0,
      byReason: {},
      details: [],
      missingOptionalColumns,
      derivedFrom: from.table,
      sourceRows: Number(row!.rows),
    },
  };
}
