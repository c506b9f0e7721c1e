import type { NumberFormat } from './params.ts';
import { sqlString } from '../core/duck.ts';

/**
 * Numbers written with a thousands separator and a decimal mark (`1,234.50`, `1.234,50`,
 * `1 234,50`, `1'234.50`), read under the export's declared `ingest.numberFormat`. One regular
 * expression per format serves DuckDB (RE2: what ingest reads and init counts) and JavaScript
 * (parseNumber), so both decide by the same text.
 */

/** Every format init weighs: no separator or one of the four, with either decimal mark (never the same character). */
export const NUMBER_FORMATS: readonly NumberFormat[] = ([null, ',', '.', ' ', "'"] as const).flatMap((thousands) =>
  (['.', ','] as const).filter((decimal) => decimal !== thousands).map((decimal) => ({ thousands, decimal })),
);

/** The characters a declared separator stands for: a space also as the no-break spaces French exports write, an apostrophe also as ’. */
const GROUP_CLASS: Readonly<Record<string, string>> = { ',': ',', '.': '\\.', ' ': ' \u00A0\u202F', "'": "'\u2019" };

/** A value written with digits and separators only (and a sign): a number whose marks decide how it reads. */
export const SEPARATED_NUMBER = `[+-]?[0-9.,'\u2019 \u00A0\u202F]*[0-9][0-9.,'\u2019 \u00A0\u202F]*`;

/** Whether a format is the default: plain numbers, read as DuckDB casts text to DOUBLE. */
export function isPlain(f: NumberFormat): boolean {
  return f.thousands === null && f.decimal === '.';
}

/**
 * The whole-value pattern of a format: a sign, digits grouped by three with the thousands
 * separator or not grouped at all, one decimal mark, an exponent. `1,23,4.5` fits no format.
 */
export function numberPattern(f: NumberFormat): string {
  const d = f.decimal === '.' ? '\\.' : ',';
  const int = f.thousands === null ? '[0-9]+' : `([0-9]{1,3}([${GROUP_CLASS[f.thousands]}][0-9]{3})+|[0-9]+)`;
  return `[+-]?(${int}(${d}[0-9]*)?|${d}[0-9]+)([eE][+-]?[0-9]+)?`;
}

/** The value of a text under a format, or null when it does not fit it: numberSql in JavaScript (plain numbers by the pattern, without DuckDB's extras such as `1_000`). */
export function parseNumber(text: string, f: NumberFormat): number | null {
  const t = text.trim();
  if (!new RegExp(`^(?:${numberPattern(f)})$`).test(t)) return null;
  const plain = (f.thousands === null ? t : t.replace(new RegExp(`[${GROUP_CLASS[f.thousands]}]`, 'g'), '')).replace(',', '.');
  const x = Number(plain.endsWith('.') ? plain.slice(0, -1) : plain);
  return Number.isNaN(x) ? null : x;
}

/**
 * SQL: the DOUBLE of trimmed text `t` under a format, NULL when it does not fit. Plain numbers
 * keep DuckDB's own cast, so an export without a declared format is read exactly as before.
 */
export function numberSql(t: string, f: NumberFormat): string {
  if (isPlain(f)) return `TRY_CAST(${t} AS DOUBLE)`;
  // replace() per separator character: cheaper than a regexp_replace on every value.
  const chars = f.thousands === null ? [] : [...GROUP_CLASS[f.thousands]!.replace('\\', '')];
  const stripped = chars.reduce((x, c) => `replace(${x}, ${sqlString(c)}, '')`, t);
  const dotted = f.decimal === ',' ? `replace(${stripped}, ',', '.')` : stripped;
  return `(CASE WHEN regexp_full_match(${t}, ${sqlString(numberPattern(f))}) THEN TRY_CAST(${dotted} AS DOUBLE) END)`;
}

/** How a format reads in a message: `thousands ",", decimal "."`. */
export function formatLabel(f: NumberFormat): string {
  return `thousands ${f.thousands === null ? 'none' : JSON.stringify(f.thousands)}, decimal ${JSON.stringify(f.decimal)}`;
}

/** The setting as a config line: `"ingest": {"numberFormat": {...}}`. */
export function formatSetting(f: NumberFormat): string {
  return `"ingest": {"numberFormat": ${JSON.stringify(f)}}`;
}

/**
 * SQL: the quarantine detail of a numeric column's unparseable value `value`. A value of digits
 * and separators that the format does not read says why: under plain numbers, that its marks
 * need the setting; under a declared format, that its marks do not fit it and so are ambiguous.
 */
export function numberDetailSql(value: string, plainDetail: string, f: NumberFormat): string {
  const t = `trim(${value})`;
  const separated = isPlain(f)
    ? `${plainDetail}: it is written with a thousands separator or a decimal comma (1,234.50, 1.234,50), read only when the export's format is declared: ${formatSetting({ thousands: ',', decimal: '.' })} or the export's own marks (finseg init proposes them)`
    : `${plainDetail}: its separators do not fit ingest.numberFormat (${formatLabel(f)}: digits grouped by three, one decimal mark), so which mark is which is ambiguous and it is not read`;
  return `(CASE WHEN ${numberSql(t, f)} IS NULL AND regexp_full_match(${t}, ${sqlString(SEPARATED_NUMBER)}) THEN ${sqlString(separated)} ELSE ${sqlString(plainDetail)} END)`;
}

/** Per format of NUMBER_FORMATS, how many sampled numeric values it reads; `numeric` counts the values some format reads. */
export interface FormatCounts {
  numeric: number;
  byFormat: number[];
}

/** The number format init proposes, or none with the reason. */
export type FormatProposal = { format: NumberFormat; note: string } | { format: null; note: string | null };

/**
 * The format a sample's numeric values call for: none when plain numbers read them all; else the
 * one format that reads every value, preferring no thousands separator when the sample shows
 * none; no proposal when formats tie (`1,234` alone: a thousands comma or a decimal comma) or
 * none reads every value (mixed marks).
 */
export function proposeNumberFormat(counts: FormatCounts, examples: readonly string[]): FormatProposal {
  const all = NUMBER_FORMATS.map((f, i) => ({ f, n: counts.byFormat[i] ?? 0 })).filter((x) => x.n === counts.numeric);
  const shown = examples.slice(0, 3).map((x) => JSON.stringify(x)).join(', ');
  if (counts.numeric === 0 || all.some((x) => isPlain(x.f))) return { format: null, note: null };
  if (all.length === 0) return { format: null, note: `numbers: the sample's numeric columns mix number formats (e.g. ${shown}); no ingest.numberFormat is proposed: declare the export's format by hand, the values that do not fit it are quarantined` };
  const decimals = new Set(all.map((x) => x.f.decimal));
  const chosen = decimals.size > 1 ? null : (all.find((x) => x.f.thousands === null) ?? (all.length === 1 ? all[0]! : null));
  if (!chosen) return { format: null, note: `numbers: the sample's numbers fit ${all.map((x) => `(${formatLabel(x.f)})`).join(' and ')} alike (e.g. ${shown}); no ingest.numberFormat is proposed: declare it by hand` };
  return { format: chosen.f, note: `numbers: every sampled numeric value reads as ${formatLabel(chosen.f)} (e.g. ${shown}), not as plain numbers: numberFormat is set to it` };
}
