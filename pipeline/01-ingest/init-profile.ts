import { matchColumns } from './init-roles.ts';
import type { ColumnProfile, FileProfile } from './init-sample.ts';
import { nameKey } from './names.ts';

/**
 * `finseg init` on an export without event or transaction lines: a CRM or billing snapshot
 * with one row per customer and measures (the Telco churn table, a card issuer's CC GENERAL,
 * a company list). Such a file is proposed as a profile table (pipeline/02-features/profile-table.ts),
 * with every column sorted into key, feature, category or left out, and the reason for each.
 */

/** A text column with more distinct values than this is free text or a name, not a category. */
export const MAX_CATEGORIES = 30;

/** Column names that hold an outcome: compared with the segments afterwards, never used to make them. */
const OUTCOME = /^(churn|churned|churnflag|exited|attrited|attrition|cancelled|canceled|label|target|outcome|converted|lost|won)$/;
/** Outcome names that mean a customer left: proposed as the churn model's label (churn.labelColumn). */
const CHURN_OUTCOME = /^(churn|churned|churnflag|exited|attrited|attrition|cancelled|canceled)$/;

/** The first left-out column whose name says churn, proposed as `churn.labelColumn`; null when none. */
export function churnLabelOf(excluded: readonly string[]): string | null {
  return excluded.find((c) => CHURN_OUTCOME.test(nameKey(c))) ?? null;
}

/** Names of row numbers, ranks and codes: unique integers that measure nothing. */
const CODE_NAME = /(^|_)(id|num|number|no|rank|index|idx|row|key|code|resultnumber)$/i;
/** A profile table needs this many measure or category columns besides its key. */
const MIN_FEATURES = 2;

/** The profile-table proposal for one file: the config slice and one note per decision. */
export interface ProfileProposal {
  slice: { file: string; key: string; exclude: string[]; categorical: string[]; attributes: Record<string, string>; asOf: string };
  /** How many columns are numeric features and categories. */
  numeric: string[];
  notes: string[];
}

/** The id column of a snapshot: a customer-id name, else any id-like name, with one row per value. */
function keyOf(p: FileProfile): ColumnProfile | null {
  const unique = (c: ColumnProfile) => c.nonBlank > 0 && c.distinctNormalised === c.nonBlank && c.nonBlank === p.rows;
  const named = matchColumns('customers', p).get('customer_id');
  if (named && unique(named)) return named;
  return p.columns.find((c) => unique(c) && CODE_NAME.test(c.name.replace(/^_+/, ''))) ?? null;
}

/** Why a non-key column is left out, or null when it is a feature or a category. */
function leaveOut(c: ColumnProfile, rows: number): string | null {
  if (c.nonBlank === 0) return 'empty';
  if (c.distinct === 1) return 'one value only';
  if (OUTCOME.test(nameKey(c.name))) return 'an outcome: compare it with the segments afterwards, never segment on it';
  if (c.numberShare >= 0.9) {
    const code = c.intShare >= 0.999 && c.distinct === c.nonBlank && c.nonBlank === rows && CODE_NAME.test(c.name.replace(/^_+/, ''));
    return code ? 'a row number or code, not a measure' : null;
  }
  if (c.distinct > MAX_CATEGORIES) return `text with ${c.distinct} distinct values in the sample (a name, address or free text)`;
  return null;
}

/**
 * Proposes a file as a profile table, or null when it is not one (no unique key, fewer than
 * two usable columns). `today` is the as-of date proposed when the file has no date column to
 * take it from.
 */
export function proposeProfileTable(p: FileProfile, today: string): ProfileProposal | null {
  const key = keyOf(p);
  if (!key) return null;
  const exclude: string[] = [];
  const categorical: string[] = [];
  const numeric: string[] = [];
  const notes: string[] = [];
  // Columns that name a contract attribute (industry, head-count, revenue, region …) feed the lenses and cold start.
  const attributes: Record<string, string> = {};
  for (const [attribute, c] of matchColumns('customers', p)) if (attribute !== 'customer_id' && c !== key && c.distinct > 1) attributes[attribute] = c.name;
  const textAttributes = new Set(Object.values(attributes).filter((name) => p.columns.find((c) => c.name === name)!.numberShare < 0.9));
  for (const [attribute, name] of Object.entries(attributes)) notes.push(`"${name}" read as the customer attribute ${attribute}${textAttributes.has(name) ? '' : ' (and kept as a feature)'}`);
  for (const c of p.columns) {
    if (c === key || textAttributes.has(c.name)) continue;
    const why = leaveOut(c, p.rows);
    if (why) {
      exclude.push(c.name);
      notes.push(`"${c.name}" left out: ${why}`);
    } else if (c.numberShare >= 0.9) numeric.push(c.name);
    else categorical.push(c.name);
  }
  if (numeric.length + categorical.length < MIN_FEATURES) return null;
  return { slice: { file: p.rel, key: key.name, exclude, categorical, attributes, asOf: today }, numeric, notes };
}
