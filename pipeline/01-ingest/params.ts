import { CONTRACT, DEFAULT_MISSING_VALUES, TABLE_NAMES, type ColumnSpec, type TableName } from './contract.ts';
import { closestNames } from './names.ts';
import * as v from 'valibot';
import { boolean, crossCheck, expected, fieldsOf, isoDate, listOf, number, oneOf, orNull, parseSettings, settingsOf, shown, text, userMap, type Problem, type Rule } from '../core/settings.ts';
import type { PostgresSource } from './postgres.ts';

/**
 * Where a contract column comes from in the user's file: a column name, a column with a
 * strptime format (dates such as `11/9/2023`), the product of numeric columns (an order line's
 * quantity × unit price), or a constant (an export that only holds sales).
 */
export type ColumnSource = string | { column: string; format?: string } | { multiply: string[] } | { constant: string };

/** How CSV text is read; null = detected from the file. */
export interface CsvParams {
  /** One character; null = detected from the first lines (comma, tab, semicolon, pipe). */
  delimiter: string | null;
  /** One character; null = detected (double quote unless the file quotes with single quotes). */
  quote: string | null;
  /** 'auto' = UTF-8 (a UTF-8 or UTF-16 byte-order mark is honoured); or a WHATWG label such as 'gb18030', 'utf-16le', 'latin1'. */
  encoding: string;
}

/** Units of the user's numbers, converted at ingestion so every stage sees the contract's unit. */
export interface UnitParams {
  /** The unit of `customers.annual_revenue` in the file; the contract's unit is thousands. */
  annualRevenue: 'units' | 'thousands' | 'millions';
  /** Every `transactions.amount` is multiplied by this (0.01 for amounts in cents). */
  amountScale: number;
  /** ISO 4217 code for transactions without a currency (an export in one currency often has no column). */
  currency: string | null;
}

/**
 * How the export writes numbers: `1,234.50` is thousands ",", decimal "."; `1.234,50` is
 * thousands ".", decimal ","; `1 234,50` is thousands " ". Applies to every number and integer
 * column read from text (Parquet numbers are typed already).
 */
export interface NumberFormat {
  /** The digit-group separator; null = none (a value with one is not read). " " also matches no-break spaces, "'" also ’. */
  thousands: ',' | '.' | ' ' | "'" | null;
  decimal: '.' | ',';
}

/** Plain numbers (`1234.50`, `-3`, `1e6`), read as DuckDB casts text. */
export const PLAIN_NUMBERS: NumberFormat = { thousands: null, decimal: '.' };

/**
 * Deriving the customers table from an export of transaction (or usage) lines that repeat the
 * customer's attributes on every row: one customer per distinct id instead of `duplicate_id`.
 */
export interface DeriveCustomersParams {
  /** The table whose rows carry the customer attributes; null = read a customers table. */
  from: 'transactions' | 'usage_events' | null;
  /** How an attribute is chosen among a customer's rows: the most common value (ties: the earliest), the first or the last. signup_date is always the earliest date. */
  attributes: 'mode' | 'first' | 'last';
}

/** Ingestion settings (config slice `ingest`): the user's files, column names, value maps and units, the as-of date, the quarantine limit. */
export interface IngestParams {
  /** The data folder when `--data` is not given; a relative path is resolved from the config file's folder. */
  dataDir: string | null;
  /** Per table: contract column → where it comes from in the user's export. */
  columns: Partial<Record<TableName, Record<string, ColumnSource>>>;
  /** Per table: a file or folder path relative to the data folder, when not `<table>.<ext>`. */
  files: Partial<Record<TableName, string>>;
  /** Per table and column: the user's value → the contract's value (module names, device names, kinds, industry codes). */
  values: Partial<Record<TableName, Record<string, Record<string, string>>>>;
  /** Text values that mean "missing", compared case-insensitively after trimming. */
  missingValues: string[];
  csv: CsvParams;
  units: UnitParams;
  /** The export's thousands separator and decimal mark; a value that does not fit them is quarantined as unparseable. */
  numberFormat: NumberFormat;
  deriveCustomers: DeriveCustomersParams;
  /** Features are computed as of the end of this day; null = the day of the last usage event (or transaction). */
  asOf: string | null;
  /** A table whose quarantined share exceeds this stops the run (exit code 2). */
  quarantineLimit: number;
  /**
   * Ids (customer_id in every table, user_id) written as a number with a zero fraction
   * (`17850.0`, as a spreadsheet or pandas writes a numeric column with gaps) are read as the
   * integer (`17850`) before keys are matched, so every output shows the normalised id.
   */
  normaliseIds: boolean;
  /** Read the tables from a PostgreSQL database instead of files (01-ingest/postgres.ts); null = files. */
  postgres: PostgresSource | null;
  /**
   * The vendor's plan names (`subscriptions.plan`), compared ignoring case; a subscription row
   * with another plan is quarantined as `bad_enum`. Null = every non-blank plan is accepted.
   */
  plans: string[] | null;
}

/** No mapping, detected CSV dialect, contract units, customers read as a table, as-of from the data, a 5% quarantine limit. */
export const defaultIngestParams: IngestParams = {
  dataDir: null,
  columns: {},
  files: {},
  values: {},
  missingValues: [...DEFAULT_MISSING_VALUES],
  csv: { delimiter: null, quote: null, encoding: 'auto' },
  units: { annualRevenue: 'thousands', amountScale: 1, currency: null },
  numberFormat: PLAIN_NUMBERS,
  deriveCustomers: { from: null, attributes: 'mode' },
  asOf: null,
  quarantineLimit: 0.05,
  normaliseIds: false,
  postgres: null,
  plans: null,
};

/** Multiplier from `units.annualRevenue` to the contract's thousands. */
export const REVENUE_TO_THOUSANDS: Readonly<Record<UnitParams['annualRevenue'], number>> = { units: 0.001, thousands: 1, millions: 1000 };

const isObject = (x: unknown): x is Record<string, unknown> => x !== null && typeof x === 'object' && !Array.isArray(x);
/** Keys starting with `$` document a config file ("$comment") and are never settings. */
const userKeys = (o: Record<string, unknown>): [string, unknown][] => Object.entries(o).filter(([k]) => !k.startsWith('$'));

/** The problem with a table name, or null. */
function tableProblem(key: string): string | null {
  if ((TABLE_NAMES as readonly string[]).includes(key)) return null;
  return `expected a table of the contract, got "${key}"\ntables: ${TABLE_NAMES.join(', ')}\nclosest: ${closestNames(key, TABLE_NAMES).join(', ')}`;
}

function columnOf(table: TableName, key: string): ColumnSpec | Problem {
  const spec = CONTRACT[table].columns.find((c) => c.name === key);
  if (spec) return spec;
  const names = CONTRACT[table].columns.map((c) => c.name);
  return { path: [key], message: `expected a column of ${table}, got "${key}"\n${table} columns: ${names.join(', ')}\nclosest: ${closestNames(key, names).join(', ')}` };
}

/** Checks a column source and returns the problem, or null. */
function columnSourceProblem(spec: ColumnSpec, source: unknown): string | null {
  if (typeof source === 'string') return source.trim() === '' ? 'must not be empty' : null;
  if (!isObject(source)) return 'must be a column name or an object {"column"}, {"multiply"} or {"constant"}';
  const keys = userKeys(source).map(([k]) => k);
  if ('column' in source) {
    if (typeof source.column !== 'string' || source.column === '') return '"column" must be a column name';
    if (keys.some((k) => k !== 'column' && k !== 'format')) return 'takes only "column" and "format"';
    if (source.format !== undefined) {
      if (typeof source.format !== 'string' || !source.format.includes('%')) return '"format" must be a strptime format such as "%m/%d/%Y"';
      if (spec.type !== 'date' && spec.type !== 'timestamp') return `"format" applies to dates and timestamps, ${spec.name} is ${spec.type}`;
    }
    return null;
  }
  if ('multiply' in source) {
    if (keys.length !== 1) return 'takes only "multiply"';
    if (!Array.isArray(source.multiply) || source.multiply.length < 2 || source.multiply.some((c) => typeof c !== 'string' || c === '')) return '"multiply" must list two or more column names';
    if (spec.type !== 'number' && spec.type !== 'int') return `"multiply" makes a number, ${spec.name} is ${spec.type}`;
    return null;
  }
  if ('constant' in source) {
    if (keys.length !== 1) return 'takes only "constant"';
    return typeof source.constant === 'string' ? null : '"constant" must be a string';
  }
  return 'must be a column name or an object {"column"}, {"multiply"} or {"constant"}';
}

/** A WHATWG encoding label this Node build can decode, or false. */
export function encodingSupported(label: string): boolean {
  try {
    new TextDecoder(label);
    return true;
  } catch {
    return false;
  }
}

const within = (prefix: (string | number)[], problems: Problem[]): Problem[] => problems.map((p) => ({ ...p, path: [...prefix, ...p.path] }));

/** `columns.<table>.<column>`: contract columns, each with a usable source. */
function columnsProblems(table: TableName, map: unknown): Problem[] {
  if (!isObject(map)) return [{ path: [], message: `expected an object of contract column → your column, got ${shown(map)}` }];
  const problems: Problem[] = [];
  for (const [c, src] of userKeys(map)) {
    const spec = columnOf(table, c);
    if ('path' in spec) problems.push(spec);
    else {
      const problem = columnSourceProblem(spec, src);
      if (problem) problems.push({ path: [c], message: `${problem}, got ${shown(src)}` });
    }
  }
  return problems;
}

/** `values.<table>.<column>`: text columns, each mapped onto the contract's values where it has a closed list. */
function valuesProblems(table: TableName, byColumn: unknown): Problem[] {
  if (!isObject(byColumn)) return [{ path: [], message: `expected an object of column → value map, got ${shown(byColumn)}` }];
  const problems: Problem[] = [];
  for (const [c, map] of userKeys(byColumn)) {
    const spec = columnOf(table, c);
    if ('path' in spec) {
      problems.push(spec);
      continue;
    }
    if (spec.type !== 'string') problems.push({ path: [c], message: `expected a text column (value maps apply to text columns), got ${c}, which is ${spec.type}` });
    else if (!isObject(map)) problems.push({ path: [c], message: `expected an object of your value → contract value, got ${shown(map)}` });
    else {
      for (const [from, to] of userKeys(map)) {
        if (typeof to !== 'string') problems.push({ path: [c, from], message: `expected a string, got ${shown(to)}` });
        // An open vocabulary (module) takes any target: a catalog id, or the vendor's own name.
        else if (spec.allowed && !spec.allowed.includes(normaliseEnum(to))) {
          problems.push({ path: [c, from], message: `maps to "${to}", which is not one of ${spec.allowed.join(', ')}\nclosest: ${closestNames(to, spec.allowed).join(', ')}` });
        }
      }
    }
  }
  return problems;
}

/** What the key rules cannot see: the maps' tables and columns, the CSV dialect, derived customers. */
function ingestProblems(p: IngestParams): Problem[] {
  const problems: Problem[] = [];
  const tables = (map: object) => userKeys(map as Record<string, unknown>).filter(([t]) => tableProblem(t) === null) as [TableName, unknown][];
  for (const [t, map] of tables(p.columns)) problems.push(...within(['columns', t], columnsProblems(t, map)));
  for (const [t, byColumn] of tables(p.values)) problems.push(...within(['values', t], valuesProblems(t, byColumn)));
  if (p.numberFormat.thousands === p.numberFormat.decimal) problems.push({ path: ['numberFormat', 'thousands'], message: `expected a thousands separator other than the decimal mark, got ${shown(p.numberFormat.thousands)}` });
  if (p.csv.delimiter !== null && p.csv.delimiter === p.csv.quote) problems.push({ path: ['csv', 'quote'], message: `expected a quote other than the delimiter, got ${shown(p.csv.quote)}` });
  const from = p.deriveCustomers.from;
  if (from !== null) {
    if (p.columns.customers?.customer_id !== undefined) problems.push({ path: ['columns', 'customers', 'customer_id'], message: `customers derived from ${from} take their id from ${from}.customer_id; remove this mapping` });
    if (p.files.customers !== undefined) problems.push({ path: ['files', 'customers'], message: `customers are derived from ${from}; remove this file or set "deriveCustomers.from": null` });
  }
  return problems;
}

const csvCharacter = () => orNull(v.pipe(text('one character'), v.check((c) => [...c].length === 1 && c !== '\n' && c !== '\r', expected('one character'))));

const encoding = () =>
  v.pipe(
    text('an encoding label'),
    v.check((e) => e === 'auto' || encodingSupported(e), (i) => `unknown encoding ${shown(i.input)}\nuse "auto" (UTF-8) or a label such as "gb18030", "gbk", "big5", "utf-16le", "latin1", "windows-1252"`),
  );

/** The `ingest` slice: each key's rule, the user's maps checked against the contract. */
export const ingestParamsRule: Rule<IngestParams> = v.pipe(
  settingsOf(defaultIngestParams, {
    dataDir: orNull(text('a folder path', true)),
    // A table's column and value maps are checked against that table's contract, in ingestProblems.
    columns: userMap(v.unknown() as Rule<Record<string, ColumnSource>>, { keys: tableProblem, keepNotes: true }),
    files: userMap(text('a file or folder path', true), { keys: tableProblem, keepNotes: true }),
    values: userMap(v.unknown() as Rule<Record<string, Record<string, string>>>, { keys: tableProblem, keepNotes: true }),
    missingValues: listOf(text(), 'strings'),
    csv: settingsOf(defaultIngestParams.csv, { delimiter: csvCharacter(), quote: csvCharacter(), encoding: encoding() }),
    units: settingsOf(defaultIngestParams.units, {
      annualRevenue: oneOf(['units', 'thousands', 'millions']),
      amountScale: number({ min: 0, minOpen: true }),
      currency: orNull(v.pipe(text('an ISO 4217 code such as "USD"'), v.regex(/^[A-Z]{3}$/, expected('an ISO 4217 code such as "USD"')))),
    }),
    numberFormat: settingsOf(defaultIngestParams.numberFormat, {
      thousands: orNull(v.picklist([',', '.', ' ', "'"], expected('a thousands separator: ",", ".", " ", "\'" or null'))),
      decimal: v.picklist(['.', ','], expected('a decimal mark: "." or ","')),
    }),
    deriveCustomers: settingsOf(defaultIngestParams.deriveCustomers, { from: orNull(oneOf(['transactions', 'usage_events'])), attributes: oneOf(['mode', 'first', 'last']) }),
    asOf: orNull(isoDate()),
    quarantineLimit: number({ min: 0, max: 1 }),
    normaliseIds: boolean(),
    postgres: orNull(
      fieldsOf<PostgresSource>({
        // The config is stored in every model bundle: a password belongs in PGPASSWORD or ~/.pgpass, which node-postgres reads.
        url: v.pipe(
          text('a postgres:// connection URL', true),
          v.regex(/^postgres(ql)?:\/\//, expected('a postgres:// connection URL')),
          v.check((u) => !/^postgres(ql)?:\/\/[^/@]*:[^/@]*@/.test(u), 'expected no password in the URL (the config is stored in every model bundle): set PGPASSWORD or use ~/.pgpass'),
        ),
        tables: userMap(v.union([text('a table name', true), v.strictObject({ query: text('a SELECT query', true) })], expected('a table name or {"query": "SELECT …"}')), { keys: tableProblem }),
      }),
    ),
    plans: orNull(listOf(text('a plan name', true), 'plan names')),
  }),
  crossCheck(ingestProblems),
);

/**
 * Checks an ingest slice built in code (the `--as-of` flag, a capped quarantine limit) with the
 * config's rule. Throws an InputError naming `ingest.<key path>`.
 */
export function validateIngestParams(p: IngestParams, source = 'config'): void {
  parseSettings(ingestParamsRule, p, source, 'ingest');
}

/** The enum normal form: trimmed, lower case, runs of spaces and dashes as `_` (mirrors the SQL in checks.ts). */
export function normaliseEnum(value: string): string {
  return value.trim().toLowerCase().replace(/[\s-]+/g, '_');
}
