import { sqlString } from '../core/duck.ts';
import { assertUnreachable } from '../core/errors.ts';

/**
 * The engines the feature SQL is written for (`finseg features-sql --dialect`). `duckdb` is the
 * query finseg runs itself: active days and modules counted as bit masks (bit_or, bit_count);
 * the others count them with count(DISTINCT …) and differ only in the spellings below. Every
 * dialect computes the same table (docs/scale-out.md; test/02-features/reference-sql.test.ts,
 * test/02-features/dialect-grammar.test.ts, test/e2e/postgres-features.test.ts).
 */
export const SQL_DIALECTS = ['duckdb', 'spark', 'trino', 'postgres'] as const;

/** One of SQL_DIALECTS. */
export type SqlDialect = (typeof SQL_DIALECTS)[number];

/** How one engine spells what the feature SQL needs and engines disagree on. */
export interface DialectSpelling {
  /** Bit masks for distinct days and modules (DuckDB only) rather than count(DISTINCT …). */
  bitMasks: boolean;
  /** A 64-bit float type (PostgreSQL has no `DOUBLE`). */
  double: string;
  /** A text literal. */
  text: (value: string) => string;
  /** A column name that is also a function or keyword (`count`). */
  ident: (name: string) => string;
  /** Whole days from DATE `from` to DATE `to` (an integer; both expressions are DATEs). */
  days: (from: string, to: string) => string;
  /** A DATE as 'YYYY-MM-DD' text. */
  dateText: (date: string) => string;
  /** An ORDER BY key that sorts text by code point, as DuckDB, Spark and Trino do. */
  textOrder: (expr: string) => string;
}

/**
 * Spark SQL's text literal: a backslash escapes, and `'a''b'` is two adjacent literals ("ab"),
 * so a quote is written `\'`, not doubled.
 */
function sparkString(value: string): string {
  return `'${value.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
}

/** The spellings of a dialect. */
export function dialectSpelling(dialect: SqlDialect): DialectSpelling {
  // DuckDB and Trino read `date_diff('day', DATE, DATE)` alike: days between the dates. On
  // timestamps they would not (Trino counts whole elapsed days, DuckDB day boundaries), which is
  // why every caller passes DATEs.
  const dateDiff = (from: string, to: string) => `date_diff('day', ${from}, ${to})`;
  const same = (expr: string) => expr;
  switch (dialect) {
    case 'duckdb':
      return { bitMasks: true, double: 'DOUBLE', text: sqlString, ident: (n) => `"${n}"`, days: dateDiff, dateText: (d) => `CAST(${d} AS VARCHAR)`, textOrder: same };
    case 'trino':
      return { bitMasks: false, double: 'DOUBLE', text: sqlString, ident: (n) => `"${n}"`, days: dateDiff, dateText: (d) => `CAST(${d} AS VARCHAR)`, textOrder: same };
    case 'spark':
      // Double quotes are a string literal in Spark unless spark.sql.ansi.doubleQuotedIdentifiers;
      // VARCHAR needs a length there (STRING does not); datediff takes the end first.
      return {
        bitMasks: false,
        double: 'DOUBLE',
        text: sparkString,
        ident: (n) => `\`${n}\``,
        days: (from, to) => `datediff(${to}, ${from})`,
        dateText: (d) => `CAST(${d} AS STRING)`,
        textOrder: same,
      };
    case 'postgres':
      // DATE - DATE is the integer number of days; to_char does not depend on the session's
      // DateStyle; COLLATE "C" orders ids by code point (UTF-8 byte order) whatever the database's locale.
      return {
        bitMasks: false,
        double: 'DOUBLE PRECISION',
        text: sqlString,
        ident: (n) => `"${n}"`,
        days: (from, to) => `(${to} - ${from})`,
        dateText: (d) => `to_char(${d}, 'YYYY-MM-DD')`,
        textOrder: (expr) => `${expr} COLLATE "C"`,
      };
    default:
      return assertUnreachable(dialect);
  }
}
