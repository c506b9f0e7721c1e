import { CONTRACT, type ColumnSpec } from '../01-ingest/contract.ts';
import { closestNames } from '../01-ingest/names.ts';
import { sqlIdent, sqlString } from '../core/duck.ts';
import { InputError } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import { FEATURE_NAMES } from './catalog.ts';

/**
 * The columns of a precomputed feature table (feature-file.ts): one row per customer, with
 *
 * - `customer_id` (required), the key;
 * - feature columns: every other column that is not reserved below, numeric;
 * - `history` (optional): usage events + transactions up to the as-of date, which decides cold
 *   start; absent = cold start is off when scoring (and fitted on every customer in train);
 * - `first_seen_days`, `last_seen_days` (optional, both or neither): days from the customer's first
 *   / last usage event or transaction to the end of the as-of date, blank when none; the
 *   lifecycle lens reads them (FeatureTable.activity), absent = activity unknown;
 * - `as_of` (optional): the as-of date of the features, one value for the whole table (or `--as-of`);
 * - the customer attributes of the contract (optional): `signup_date`, `industry`, `employees`,
 *   `annual_revenue`, `founded_year`, `region`, `deployment`, `edition`, `buyer_role`, in the
 *   contract's form and units; the lenses and cold start read them, a missing one reads as unknown.
 *
 * This is exactly what `featureTableSql` (printed by `finseg features-sql`) returns.
 */

/** Columns of a feature table that are not features. */
export const KEY_COLUMN = 'customer_id';
export const HISTORY_COLUMN = 'history';
export const AS_OF_COLUMN = 'as_of';
export const ACTIVITY_COLUMNS = ['first_seen_days', 'last_seen_days'] as const;
/** The contract's customer attributes (all but the key), which a feature table may carry as extra columns. */
export const ATTRIBUTE_SPECS: readonly ColumnSpec[] = CONTRACT.customers.columns.filter((c) => c.name !== KEY_COLUMN);
export const RESERVED_COLUMNS: readonly string[] = [KEY_COLUMN, HISTORY_COLUMN, AS_OF_COLUMN, ...ACTIVITY_COLUMNS, ...ATTRIBUTE_SPECS.map((c) => c.name)];

const NUMERIC_TYPE = /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT|FLOAT|DOUBLE|DECIMAL\(\d+,\s*\d+\))$/;
const TEXT_TYPE = /^VARCHAR$/;

/** A feature table's columns as DuckDB reads them: name → SQL type, and a message prefix naming the file. */
export interface TableColumns {
  types: ReadonlyMap<string, string>;
  /** Every column but the reader's own (`__file`, `__row`), in file order. */
  names: readonly string[];
  /** `<file>: <detail>`, for messages. */
  where: (detail: string) => string;
}

/** True when the column's type is a number DuckDB reads as one. */
export const isNumericType = (type: string): boolean => NUMERIC_TYPE.test(type);

/** How a column's values read: text trimmed with the missing-value markers as NULL, and numbers (NaN stays NaN, a FeatureTable's missing). */
export interface ColumnSql {
  isText(column: string): boolean;
  text(column: string): string;
  number(column: string): string;
}

/** The value expressions of a table's columns, with `missingValues` (compared case-insensitively after trimming) read as NULL. */
export function columnSql(types: ReadonlyMap<string, string>, missingValues: readonly string[]): ColumnSql {
  const missingList = missingValues.map((v) => sqlString(v.trim().toUpperCase())).join(', ');
  const text = (c: string) => {
    const raw = `trim(CAST(${sqlIdent(c)} AS VARCHAR))`;
    // list_contains, not IN: DuckDB's optimizer rewrites an IN list in every column's expression,
    // which took it 11 s to plan for a 55-column table of 3 rows.
    return `CASE WHEN ${raw} = ''${missingList ? ` OR list_contains([${missingList}], upper(${raw}))` : ''} THEN NULL ELSE ${raw} END`;
  };
  const isText = (c: string) => TEXT_TYPE.test(types.get(c)!);
  return { isText, text, number: (c) => (isText(c) ? `try_cast(${text(c)} AS DOUBLE)` : `CAST(${sqlIdent(c)} AS DOUBLE)`) };
}

/** The columns read as features, and those a scoring run leaves out. */
export interface FeatureColumnChoice {
  featureColumns: string[];
  ignoredColumns: string[];
  /** Every column that is not reserved. */
  candidates: string[];
}

/**
 * Which columns are features (an InputError when there is no key): when scoring, exactly the model's (`requiredFeatures`, a missing
 * one is an InputError); in train, every column that is not reserved. Each must be numeric or text.
 */
export function chooseFeatureColumns(table: TableColumns, requiredFeatures: readonly string[] | null, path: string, logger: Logger): FeatureColumnChoice {
  const { types, where } = table;
  if (!types.has(KEY_COLUMN)) {
    throw new InputError(where(`required column "${KEY_COLUMN}" is missing`), [
      `closest: ${closestNames(KEY_COLUMN, table.names).join(', ')}`,
      'a feature table has one row per customer: customer_id, then numeric feature columns',
    ]);
  }
  const candidates = table.names.filter((c) => !RESERVED_COLUMNS.includes(c));
  let featureColumns: string[];
  let ignoredColumns: string[] = [];
  if (requiredFeatures) {
    const missing = requiredFeatures.filter((f) => !types.has(f));
    if (missing.length) {
      throw new InputError(where(`feature column${missing.length > 1 ? 's' : ''} ${missing.map((m) => `"${m}"`).join(', ')} of the model ${missing.length > 1 ? 'are' : 'is'} missing`), [
        ...missing.slice(0, 5).map((m) => `closest to "${m}": ${closestNames(m, candidates).join(', ') || '(none)'}`),
        `the model was trained on ${requiredFeatures.length} features (its manifest's features.names); the table must have every one`,
      ]);
    }
    featureColumns = [...requiredFeatures];
    ignoredColumns = candidates.filter((c) => !requiredFeatures.includes(c));
    if (ignoredColumns.length) logger.warn(`${path}: ${ignoredColumns.length} columns not in the model are ignored: ${ignoredColumns.slice(0, 8).join(', ')}${ignoredColumns.length > 8 ? ', …' : ''}`);
  } else {
    // Catalog features in catalog order (the order training on raw data uses), then the table's own in its order.
    featureColumns = [...FEATURE_NAMES.filter((f) => candidates.includes(f)), ...candidates.filter((c) => !FEATURE_NAMES.includes(c))];
    if (featureColumns.length === 0) throw new InputError(where('no feature columns'), [`columns: ${table.names.join(', ')}`, `a feature table has customer_id and numeric feature columns; ${RESERVED_COLUMNS.slice(1).join(', ')} are not features`]);
  }
  for (const f of [...featureColumns, ...(types.has(HISTORY_COLUMN) ? [HISTORY_COLUMN] : [])]) {
    const t = types.get(f)!;
    if (!NUMERIC_TYPE.test(t) && !TEXT_TYPE.test(t)) {
      throw new InputError(where(`column "${f}" is ${t}; ${f === HISTORY_COLUMN ? 'history' : 'a feature'} must be numeric`), [
        t === 'BOOLEAN' ? 'write it as 0/1' : `drop it, or convert it to a number${RESERVED_COLUMNS.includes(f) ? '' : ` (reserved, non-feature columns: ${RESERVED_COLUMNS.join(', ')})`}`,
      ]);
    }
  }
  return { featureColumns, ignoredColumns, candidates };
}
