import { BUILTIN_VALUE_MAPS, CONTRACT, enumValues, type ColumnSpec, type TableName } from './contract.ts';
import { numberDetailSql, numberSql } from './numbers.ts';
import { PLAIN_NUMBERS, REVENUE_TO_THOUSANDS, normaliseEnum, type ColumnSource, type IngestParams, type NumberFormat } from './params.ts';
import { sqlIdent, sqlString } from '../core/duck.ts';

/**
 * SQL for typing and checking one contract column, built from the contract and the ingest
 * settings. The raw column is text (CSV, JSON Lines, Arrow) or a compatible native type
 * (Parquet); every check reads the raw value so the quarantine file can show it unchanged.
 */

/** How one contract column is read and checked. */
export interface ColumnPlan {
  readonly spec: ColumnSpec;
  /** Where it comes from in the user's files; null = not there (NULL, or the `fill` value). */
  readonly source: ColumnSource | null;
  /** SQL type of the staged raw column: VARCHAR, or a native type that needs no parsing. */
  rawType: string;
  /** strptime format for dates and timestamps given as text. */
  readonly format: string | null;
  /** Normalised user value → contract value (built-ins first, the config's entries win). */
  readonly valueMap: ReadonlyMap<string, string>;
  /** Multiplier to the contract's unit (annual revenue in thousands, amount scale). */
  readonly scale: number;
  /** Value of a blank (the configured currency). */
  readonly fill: string | null;
  /** An id whose `17850.0` is read as `17850` (`ingest.normaliseIds`). */
  readonly normaliseId: boolean;
  /** How a number or integer given as text is written (`ingest.numberFormat`). */
  readonly numberFormat: NumberFormat;
  /** The values the config declares for an open text column (`ingest.plans`); any other is a `bad_enum`. Null = every value. */
  readonly declared: readonly string[] | null;
}

/** The id columns `ingest.normaliseIds` applies to. */
export const ID_COLUMNS: readonly string[] = ['customer_id', 'user_id'];

/** The plans of a table's columns under the ingest settings. */
export function planTable(table: TableName, params: IngestParams): ColumnPlan[] {
  const mapping = params.columns[table] ?? {};
  const userValues = params.values[table] ?? {};
  return CONTRACT[table].columns.map((spec) => {
    const source = (mapping[spec.name] as ColumnSource | undefined) ?? spec.name;
    const format = typeof source === 'object' && 'column' in source ? (source.format ?? null) : null;
    const valueMap = new Map<string, string>();
    const known = enumValues(spec);
    const norm = (s: string) => (known ? normaliseEnum(s) : s.trim().toLowerCase());
    // A target outside an open catalog is a vendor module name and keeps its own spelling.
    const target = (to: string) => (!known ? to : spec.catalog && !known.includes(normaliseEnum(to)) ? to.trim() : normaliseEnum(to));
    const declared = table === 'subscriptions' && spec.name === 'plan' ? params.plans : null;
    // A declared plan is stored as the config spells it, whatever case the export writes.
    const declaredMap = declared ? Object.fromEntries(declared.map((d) => [d, d])) : undefined;
    for (const map of [declaredMap, BUILTIN_VALUE_MAPS[table]?.[spec.name], userValues[spec.name]]) {
      for (const [from, to] of Object.entries(map ?? {})) if (!from.startsWith('$')) valueMap.set(norm(from), target(to));
    }
    const scale = table === 'customers' && spec.name === 'annual_revenue' ? REVENUE_TO_THOUSANDS[params.units.annualRevenue] : table === 'transactions' && spec.name === 'amount' ? params.units.amountScale : 1;
    const fill = (table === 'transactions' || table === 'subscriptions') && spec.name === 'currency' ? params.units.currency : null;
    const normaliseId = params.normaliseIds && ID_COLUMNS.includes(spec.name);
    const numberFormat = spec.type === 'number' || spec.type === 'int' ? params.numberFormat : PLAIN_NUMBERS;
    return { spec, source, rawType: 'VARCHAR', format, valueMap, scale, fill, normaliseId, numberFormat, declared };
  });
}

/** The source column names a column source reads. */
export function sourceColumns(source: ColumnSource): string[] {
  if (typeof source === 'string') return [source];
  if ('column' in source) return [source.column];
  if ('multiply' in source) return source.multiply;
  return [];
}

const INTEGER_TYPES = /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT)$/;
const FLOAT_TYPES = /^(FLOAT|DOUBLE|DECIMAL.*)$/;
const TIMESTAMP_TYPES = /^(TIMESTAMP|TIMESTAMP_S|TIMESTAMP_MS|TIMESTAMP_NS|TIMESTAMP WITH TIME ZONE|DATE)$/;

/** Whether a native (Parquet) type can be checked as the contract type without going through text. */
export function nativeTypeFits(spec: ColumnSpec, duckType: string): boolean {
  if (spec.type === 'string') return false;
  if (spec.type === 'timestamp' || spec.type === 'date') return TIMESTAMP_TYPES.test(duckType);
  return INTEGER_TYPES.test(duckType) || FLOAT_TYPES.test(duckType);
}

/**
 * SQL: `expr` is one of `values`. Written as list_contains, not IN: DuckDB's in_clause optimizer
 * rewrites every IN list into a join, which made a 10-column check 10x slower to run.
 */
export function oneOf(expr: string, values: readonly string[]): string {
  return `list_contains([${values.map(sqlString).join(', ')}], ${expr})`;
}

/** The lower-cased missing-value tokens, with the empty string. */
function missingTokens(missingValues: readonly string[]): string[] {
  return [...new Set(['', ...missingValues.map((v) => v.trim().toLowerCase())])];
}

/**
 * SQL: raw text that is certainly not a missing-value token and needs no trimming: ASCII (so
 * lower() keeps its length), longer than every token, no space at either end. Ids and user ids
 * are decided by this alone; trim and lower on every one of 50M user ids cost 2x as much.
 */
function plainText(raw: string, missingValues: readonly string[]): string {
  const longest = Math.max(...missingTokens(missingValues).map((t) => Buffer.byteLength(t)));
  return `(strlen(${raw}) > ${longest} AND strlen(${raw}) = length(${raw}) AND NOT starts_with(${raw}, ' ') AND NOT ends_with(${raw}, ' '))`;
}

/** SQL: the raw value is missing (NULL, blank, or a missing-value token). */
export function blankExpr(raw: string, rawType: string, missingValues: readonly string[]): string {
  if (rawType !== 'VARCHAR') return `(${raw} IS NULL)`;
  return `(CASE WHEN ${raw} IS NULL THEN true WHEN ${plainText(raw, missingValues)} THEN false ELSE ${oneOf(`lower(trim(${raw}))`, missingTokens(missingValues))} END)`;
}

/** SQL: the mapped value of `expr`, else `otherwise` (`expr` itself by default). */
function mapLookup(expr: string, map: ReadonlyMap<string, string>, otherwise = expr): string {
  if (map.size === 0) return otherwise;
  // A MAP literal, not CASE: a long CASE nested in the blank test's CASE ran 50x slower in DuckDB 1.5.
  const literal = `MAP {${[...map].map(([k, v]) => `${sqlString(k)}: ${sqlString(v)}`).join(', ')}}`;
  return `coalesce(${literal}[${expr}], ${otherwise})`;
}

/**
 * SQL: an id text with a zero fraction read as the integer (`17850.0` → `17850`); any other
 * text unchanged. Exports that passed through a float column (pandas with NaN, spreadsheets)
 * write integer ids that way, and the same customer must not become two.
 */
export function normalisedIdSql(expr: string): string {
  return `regexp_replace(${expr}, '^(-?[0-9]+)\\.0+$', '\\1')`;
}

/** SQL: the typed (contract) value of a raw column, NULL when blank or when it does not parse. */
export function typedExpr(plan: ColumnPlan, raw: string, missingValues: readonly string[]): string {
  const { spec, rawType } = plan;
  const finite = (x: string) => `(CASE WHEN isfinite(${x}) THEN ${x} END)`;
  const scaled = (x: string) => (plan.scale === 1 ? x : `(${x} * ${plan.scale})`);
  let value: string;
  if (rawType !== 'VARCHAR') {
    switch (spec.type) {
      case 'timestamp':
        value = finite(`CAST(${raw} AS TIMESTAMP)`);
        break;
      case 'date':
        value = finite(`CAST(${raw} AS DATE)`);
        break;
      case 'int':
        value = INTEGER_TYPES.test(rawType) ? `TRY_CAST(${raw} AS BIGINT)` : `(CASE WHEN ${raw} = trunc(${raw}) THEN TRY_CAST(${raw} AS BIGINT) END)`;
        break;
      case 'number':
        value = scaled(finite(`CAST(${raw} AS DOUBLE)`));
        break;
      case 'string':
        value = `CAST(${raw} AS VARCHAR)`;
        break;
    }
    return value;
  }
  const t = `trim(${raw})`;
  const normEnum = `regexp_replace(lower(${t}), '[\\s-]+', '_', 'g')`;
  if (spec.allowed) {
    value = mapLookup(normEnum, plan.valueMap);
  } else if (spec.catalog) {
    // A catalog id (directly or through a value map) is stored as the id; any other name as written.
    value = mapLookup(normEnum, plan.valueMap, `(CASE WHEN ${oneOf(normEnum, spec.catalog)} THEN ${normEnum} ELSE ${t} END)`);
  } else {
    switch (spec.type) {
      case 'string':
        value = plan.valueMap.size ? `coalesce(MAP {${[...plan.valueMap].map(([k, v]) => `${sqlString(k)}: ${sqlString(v)}`).join(', ')}}[lower(${t})], ${t})` : t;
        if (spec.normalise === 'upper') value = `upper(${value})`;
        break;
      // Text dates and timestamps may come out infinite ('infinity'); the unparseable check catches
      // that, because a finiteness guard here would evaluate the cast twice on every row.
      case 'date':
        value = plan.format ? `CAST(try_strptime(${t}, ${sqlString(plan.format)}) AS DATE)` : `TRY_CAST(${t} AS DATE)`;
        break;
      case 'timestamp':
        // A timestamp ending in an offset (+08:00, Z) goes through TIMESTAMPTZ and is converted to
        // UTC (the session is UTC); a plain TIMESTAMP cast would drop the offset. Only those pay
        // for the time-zone cast, which is 8x slower.
        value = plan.format
          ? `CAST(try_strptime(${t}, ${sqlString(plan.format)}) AS TIMESTAMP)`
          : `(CASE WHEN length(${t}) > 19 AND regexp_matches(${t}, '(Z|z|[+-]\\d\\d(:?\\d\\d)?)$') THEN CAST(TRY_CAST(${t} AS TIMESTAMPTZ) AS TIMESTAMP) ELSE TRY_CAST(${t} AS TIMESTAMP) END)`;
        break;
      case 'int': {
        // TRY_CAST('2.5' AS BIGINT) rounds to 3; an int with a fraction is unparseable, not rounded.
        const x = numberSql(t, plan.numberFormat);
        value = `(CASE WHEN ${x} = trunc(${x}) AND abs(${x}) < 9e15 THEN CAST(${x} AS BIGINT) END)`;
        break;
      }
      case 'number':
        value = scaled(finite(numberSql(t, plan.numberFormat)));
        break;
    }
  }
  // Exports mostly hold the contract's own spelling: that value skips trimming, regex and map (4x
  // faster); a plain 'YYYY-MM-DD HH:MM:SS' timestamp skips trimming and the offset test.
  const plainTimestamp = spec.type === 'timestamp' && !plan.format ? `WHEN length(${raw}) = 19 AND ${oneOf(`substr(${raw}, 11, 1)`, [' ', 'T'])} THEN TRY_CAST(${raw} AS TIMESTAMP) ` : '';
  const plainString = spec.type === 'string' && plan.valueMap.size === 0 ? `WHEN ${plainText(raw, missingValues)} THEN ${spec.normalise === 'upper' ? `upper(${raw})` : raw} ` : '';
  const known = enumValues(spec);
  const fast = known ? `WHEN ${oneOf(raw, known)} THEN ${raw} ` : plainTimestamp || plainString;
  let typed = `(CASE ${fast}WHEN ${blankExpr(raw, rawType, missingValues)} THEN NULL ELSE ${value} END)`;
  if (plan.normaliseId) typed = normalisedIdSql(typed);
  return plan.fill !== null ? `coalesce(${typed}, ${sqlString(plan.fill)})` : typed;
}

/** The SQL type of a typed contract column. */
export function typedSqlType(spec: ColumnSpec): string {
  return { string: 'VARCHAR', date: 'DATE', timestamp: 'TIMESTAMP', int: 'BIGINT', number: 'DOUBLE' }[spec.type];
}

/** One check: a condition on a row, the reason and the column it names. */
export interface Check {
  readonly when: string;
  readonly reason: string;
  readonly column: string;
  readonly detail: string;
  /** SQL of a detail that depends on the failing value, from the SQL of that value (text); `detail` otherwise. */
  readonly detailOf?: (value: string) => string;
}

/** The name of a column's "is blank" flag in the typed projection. */
export const blankFlag = (name: string): string => `__b_${name}`;

/** SQL select items: each typed column and its blank flag, read from `alias`'s raw columns. */
export function typedProjection(plans: readonly ColumnPlan[], missingValues: readonly string[], alias = 'r'): string {
  return plans
    .map((p) => {
      const raw = `${alias}.${sqlIdent(p.spec.name)}`;
      return `${typedExpr(p, raw, missingValues)} AS ${sqlIdent(p.spec.name)}, ${blankExpr(raw, p.rawType, missingValues)} AS ${sqlIdent(blankFlag(p.spec.name))}`;
    })
    .join(', ');
}

/**
 * The table-local checks of a table in the order they apply (a row gets the first reason that
 * fires): missing key, unparseable, bad enum, out of range, after the as-of date, end before start. Conditions
 * read the typed projection `alias` (typed columns and their blank flags).
 */
export function localChecks(table: TableName, plans: readonly ColumnPlan[], asOf: string, alias = 't'): Check[] {
  const typed = (p: ColumnPlan) => `${alias}.${sqlIdent(p.spec.name)}`;
  const blank = (p: ColumnPlan) => `${alias}.${sqlIdent(blankFlag(p.spec.name))}`;
  const checks: Check[] = [];
  for (const p of plans) if (p.spec.mandatoryValue) checks.push({ when: blank(p), reason: 'missing_key', column: p.spec.name, detail: `${p.spec.name} has no value` });
  for (const p of plans) {
    if (p.spec.type !== 'string') {
      const what = { date: 'a date', timestamp: 'a timestamp', int: 'an integer', number: 'a number', string: 'text' }[p.spec.type];
      const bad = p.spec.type === 'date' || p.spec.type === 'timestamp' ? `(${typed(p)} IS NULL OR NOT isfinite(${typed(p)}))` : `${typed(p)} IS NULL`;
      const detail = `${p.spec.name} is not ${what}${p.format ? ` in format ${p.format}` : ''}`;
      // A number written with separators says which setting reads it, or why the declared one does not.
      const detailOf = p.spec.type === 'number' || p.spec.type === 'int' ? (value: string) => numberDetailSql(value, detail, p.numberFormat) : undefined;
      checks.push({ when: `(NOT ${blank(p)} AND ${bad})`, reason: 'unparseable', column: p.spec.name, detail, ...(detailOf ? { detailOf } : {}) });
    }
  }
  for (const p of plans) {
    if (p.spec.allowed) {
      checks.push({ when: `(NOT ${blank(p)} AND NOT ${oneOf(typed(p), p.spec.allowed)})`, reason: 'bad_enum', column: p.spec.name, detail: `${p.spec.name} must be one of ${p.spec.allowed.join(', ')}` });
    }
    if (p.spec.pattern) {
      checks.push({ when: `(${typed(p)} IS NOT NULL AND NOT regexp_full_match(${typed(p)}, ${sqlString(p.spec.pattern)}))`, reason: 'bad_enum', column: p.spec.name, detail: `${p.spec.name} must match ${p.spec.pattern}` });
    }
    if (p.declared) {
      const listed = p.declared.length > 8 ? `${p.declared.slice(0, 8).join(', ')}, …` : p.declared.join(', ');
      checks.push({ when: `(NOT ${blank(p)} AND NOT ${oneOf(typed(p), p.declared)})`, reason: 'bad_enum', column: p.spec.name, detail: `${p.spec.name} is not one of the declared ingest.plans (${listed})` });
    }
  }
  for (const p of plans) {
    const range = rangeCheck(p, typed(p));
    if (range) checks.push(range);
  }
  const end = `(DATE ${sqlString(asOf)} + INTERVAL 1 DAY)`;
  for (const p of plans) {
    const timed = ((p.spec.type === 'timestamp' && table !== 'customers') || p.spec.type === 'date') && !p.spec.mayFollowAsOf;
    if (timed) checks.push({ when: `(${typed(p)} >= ${end})`, reason: 'after_as_of', column: p.spec.name, detail: `${p.spec.name} is after the as-of date ${asOf}` });
  }
  for (const p of plans) {
    const other = p.spec.notBefore ? plans.find((o) => o.spec.name === p.spec.notBefore) : undefined;
    if (other) checks.push({ when: `(${typed(p)} < ${typed(other)})`, reason: 'end_before_start', column: p.spec.name, detail: `${p.spec.name} is before ${other.spec.name}` });
  }
  return checks;
}

/**
 * The out-of-range check of a column with a minimum, a maximum or both: one check, as a row is
 * quarantined under one reason per column. With both bounds its detail names the bound the value
 * breaks (a founding year 2145 "must be at most 2100", not "at least 1800"), read again from the
 * value shown, which is the raw value as text.
 */
export function rangeCheck(p: ColumnPlan, typed: string): Check | null {
  const { name, min, max } = p.spec;
  const below = min === undefined ? null : `${typed} < ${min}`;
  const above = max === undefined ? null : `${typed} > ${max}`;
  const atLeast = `${name} must be at least ${min}`;
  const atMost = `${name} must be at most ${max}`;
  if (below === null && above === null) return null;
  const when = `(${[below, above].filter((c) => c !== null).join(' OR ')})`;
  if (above === null) return { when, reason: 'out_of_range', column: name, detail: atLeast };
  if (below === null) return { when, reason: 'out_of_range', column: name, detail: atMost };
  const detailOf = (value: string) => {
    // Parsed as the column's number, before its unit scale, as the typed value was.
    const parsed = p.rawType === 'VARCHAR' ? numberSql(`trim(${value})`, p.numberFormat) : `TRY_CAST(${value} AS DOUBLE)`;
    const number = p.scale === 1 ? parsed : `(${parsed} * ${p.scale})`;
    return `(CASE WHEN ${number} > ${max} THEN ${sqlString(atMost)} ELSE ${sqlString(atLeast)} END)`;
  };
  return { when, reason: 'out_of_range', column: name, detail: `${name} must be between ${min} and ${max}`, detailOf };
}

/** Common date layouts of exports, tried when a date column does not parse as ISO. */
export const DATE_FORMATS: readonly string[] = [
  '%m/%d/%Y',
  '%d/%m/%Y',
  '%d.%m.%Y',
  '%Y/%m/%d',
  '%d-%m-%Y',
  '%m-%d-%Y',
  '%Y%m%d',
  '%m/%d/%Y %H:%M',
  '%d/%m/%Y %H:%M',
  '%m/%d/%Y %H:%M:%S',
  '%d/%m/%Y %H:%M:%S',
  '%Y/%m/%d %H:%M:%S',
  '%d.%m.%Y %H:%M',
  '%Y年%m月%d日',
];
