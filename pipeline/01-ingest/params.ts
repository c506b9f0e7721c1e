import { CONTRACT, DEFAULT_MISSING_VALUES, TABLE_NAMES, type ColumnSpec, type TableName } from './contract.ts';
import { closestNames } from './names.ts';
import { InputError } from '../core/errors.ts';

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
  deriveCustomers: { from: null, attributes: 'mode' },
  asOf: null,
  quarantineLimit: 0.05,
  normaliseIds: false,
};

/** Multiplier from `units.annualRevenue` to the contract's thousands. */
export const REVENUE_TO_THOUSANDS: Readonly<Record<UnitParams['annualRevenue'], number>> = { units: 0.001, thousands: 1, millions: 1000 };

const isObject = (x: unknown): x is Record<string, unknown> => x !== null && typeof x === 'object' && !Array.isArray(x);
/** Keys starting with `$` document a config file ("$comment") and are never settings. */
const userKeys = (o: Record<string, unknown>): [string, unknown][] => Object.entries(o).filter(([k]) => !k.startsWith('$'));

function tableOf(key: string, where: string): TableName {
  if ((TABLE_NAMES as readonly string[]).includes(key)) return key as TableName;
  throw new InputError(`${where}: unknown table "${key}"`, [`tables: ${TABLE_NAMES.join(', ')}`, `closest: ${closestNames(key, TABLE_NAMES).join(', ')}`]);
}

function columnOf(table: TableName, key: string, where: string): ColumnSpec {
  const spec = CONTRACT[table].columns.find((c) => c.name === key);
  if (spec) return spec;
  const names = CONTRACT[table].columns.map((c) => c.name);
  throw new InputError(`${where}: "${key}" is not a column of ${table}`, [`${table} columns: ${names.join(', ')}`, `closest: ${closestNames(key, names).join(', ')}`]);
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

/**
 * Checks the parts of the ingest slice the generic config merge cannot: table and column names
 * in the maps, column sources, enum targets, units, dates. Throws an InputError naming the key.
 */
export function validateIngestParams(p: IngestParams, source = 'config'): void {
  const at = (path: string) => `${source}: "ingest.${path}"`;
  for (const [t, map] of userKeys(p.columns as Record<string, unknown>)) {
    const table = tableOf(t, at('columns'));
    if (!isObject(map)) throw new InputError(`${at(`columns.${t}`)} must be an object of contract column → your column`);
    for (const [c, src] of userKeys(map)) {
      const spec = columnOf(table, c, at(`columns.${t}`));
      const problem = columnSourceProblem(spec, src);
      if (problem) throw new InputError(`${at(`columns.${t}.${c}`)} ${problem}`, [`got ${JSON.stringify(src)}`]);
    }
  }
  for (const [t, path] of userKeys(p.files as Record<string, unknown>)) {
    tableOf(t, at('files'));
    if (typeof path !== 'string' || path === '') throw new InputError(`${at(`files.${t}`)} must be a file or folder path`);
  }
  for (const [t, byColumn] of userKeys(p.values as Record<string, unknown>)) {
    const table = tableOf(t, at('values'));
    if (!isObject(byColumn)) throw new InputError(`${at(`values.${t}`)} must be an object of column → value map`);
    for (const [c, map] of userKeys(byColumn)) {
      const spec = columnOf(table, c, at(`values.${t}`));
      if (spec.type !== 'string') throw new InputError(`${at(`values.${t}.${c}`)}: value maps apply to text columns, ${c} is ${spec.type}`);
      if (!isObject(map)) throw new InputError(`${at(`values.${t}.${c}`)} must be an object of your value → contract value`);
      for (const [from, to] of userKeys(map)) {
        if (typeof to !== 'string') throw new InputError(`${at(`values.${t}.${c}`)}["${from}"] must be a string`);
        // An open vocabulary (module) takes any target: a catalog id, or the vendor's own name.
        if (spec.allowed && !spec.allowed.includes(normaliseEnum(to))) {
          throw new InputError(`${at(`values.${t}.${c}`)}["${from}"] maps to "${to}", which is not one of ${spec.allowed.join(', ')}`, [`closest: ${closestNames(to, spec.allowed).join(', ')}`]);
        }
      }
    }
  }
  if (!p.missingValues.every((v) => typeof v === 'string')) throw new InputError(`${at('missingValues')} must be a list of strings`);
  for (const key of ['delimiter', 'quote'] as const) {
    const v = p.csv[key];
    if (v !== null && (typeof v !== 'string' || [...v].length !== 1 || v === '\n' || v === '\r')) throw new InputError(`${at(`csv.${key}`)} must be one character or null, got ${JSON.stringify(v)}`);
  }
  if (p.csv.delimiter !== null && p.csv.delimiter === p.csv.quote) throw new InputError(`${at('csv')}: delimiter and quote must differ`);
  if (typeof p.csv.encoding !== 'string' || (p.csv.encoding !== 'auto' && !encodingSupported(p.csv.encoding))) {
    throw new InputError(`${at('csv.encoding')}: unknown encoding ${JSON.stringify(p.csv.encoding)}`, ['use "auto" (UTF-8) or a label such as "gb18030", "gbk", "big5", "utf-16le", "latin1", "windows-1252"']);
  }
  if (!(p.units.annualRevenue in REVENUE_TO_THOUSANDS)) throw new InputError(`${at('units.annualRevenue')} must be one of units, thousands, millions, got ${JSON.stringify(p.units.annualRevenue)}`);
  if (!(Number.isFinite(p.units.amountScale) && p.units.amountScale > 0)) throw new InputError(`${at('units.amountScale')} must be a positive number, got ${JSON.stringify(p.units.amountScale)}`);
  if (p.units.currency !== null && !(typeof p.units.currency === 'string' && /^[A-Z]{3}$/.test(p.units.currency))) {
    throw new InputError(`${at('units.currency')} must be an ISO 4217 code such as "USD" or null, got ${JSON.stringify(p.units.currency)}`);
  }
  if (p.deriveCustomers.from !== null && p.deriveCustomers.from !== 'transactions' && p.deriveCustomers.from !== 'usage_events') {
    throw new InputError(`${at('deriveCustomers.from')} must be "transactions", "usage_events" or null, got ${JSON.stringify(p.deriveCustomers.from)}`);
  }
  if (!['mode', 'first', 'last'].includes(p.deriveCustomers.attributes)) throw new InputError(`${at('deriveCustomers.attributes')} must be mode, first or last, got ${JSON.stringify(p.deriveCustomers.attributes)}`);
  if (p.deriveCustomers.from !== null) {
    const own = p.columns.customers?.customer_id;
    if (own !== undefined) throw new InputError(`${at('columns.customers.customer_id')}: customers derived from ${p.deriveCustomers.from} take their id from ${p.deriveCustomers.from}.customer_id; remove this mapping`);
    if (p.files.customers !== undefined) throw new InputError(`${at('files.customers')}: customers are derived from ${p.deriveCustomers.from}; remove this file or set "deriveCustomers.from": null`);
  }
  if (p.asOf !== null && !(typeof p.asOf === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(p.asOf) && !Number.isNaN(Date.parse(`${p.asOf}T00:00:00Z`)))) {
    throw new InputError(`${at('asOf')} must be a date "YYYY-MM-DD" or null, got ${JSON.stringify(p.asOf)}`);
  }
  if (!(p.quarantineLimit >= 0 && p.quarantineLimit <= 1)) throw new InputError(`${at('quarantineLimit')} must be a share between 0 and 1, got ${JSON.stringify(p.quarantineLimit)}`);
  if (typeof p.normaliseIds !== 'boolean') throw new InputError(`${at('normaliseIds')} must be true or false, got ${JSON.stringify(p.normaliseIds)}`);
  if (p.dataDir !== null && (typeof p.dataDir !== 'string' || p.dataDir === '')) throw new InputError(`${at('dataDir')} must be a folder path or null`);
}

/** The enum normal form: trimmed, lower case, runs of spaces and dashes as `_` (mirrors the SQL in checks.ts). */
export function normaliseEnum(value: string): string {
  return value.trim().toLowerCase().replace(/[\s-]+/g, '_');
}
