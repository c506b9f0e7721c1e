/**
 * The feature stage's settings: the features computed from event and transaction lines (config
 * slice `features`) and the profile table segmented instead of them (slice `profileTable`).
 */
import * as v from 'valibot';
import { crossCheck, isoDate, listOf, number, oneOf, orNull, settingsOf, text, userMap, type Problem, type Rule } from '../core/settings.ts';
import type { VendorModule } from './catalog.ts';
import { CONTRACT } from '../01-ingest/contract.ts';

/** Feature-stage settings. */
export interface FeatureParams {
  /** A transaction with |amount| below this counts as a small ticket (in the data's currency unit). */
  smallTicketAmount: number;
  /** The vendor's home currency for `foreign_share`; null = the most common currency in the data. */
  homeCurrency: string | null;
  /**
   * Fitted, not configured: the vendor modules with a share of their own, recorded in the bundle
   * (resolveVendorModules). Absent = none, every vendor module is pooled in `share_vendor_other`.
   */
  vendorModules?: readonly VendorModule[];
}

/** Default feature settings: small tickets below 100, the home currency from the data. */
export const defaultFeatureParams: FeatureParams = { smallTicketAmount: 100, homeCurrency: null };

/**
 * A profile table: the export a vendor has when its systems already keep one row per customer
 * with measures (balances, charges, tenure in months, counts, plan and service flags) and no
 * event or transaction lines — a CRM or billing snapshot such as the Telco churn table or a
 * card issuer's CC GENERAL. finseg segments it as a feature table (feature-file.ts): this
 * module turns the vendor's table into one, under the vendor's own column names:
 *
 * - the key column becomes `customer_id`;
 * - `exclude`d columns (an outcome such as `Churn`, free text, names) are left out, so an
 *   outcome never shapes the segments it is later compared with;
 * - each `categorical` text column becomes 0/1 indicator columns named `<column>=<value>`, one
 *   per value seen at training (a two-valued column keeps only its less common value, the other
 *   being its complement); a blank stays missing;
 * - every other column is a numeric feature (a blank or NA is missing);
 * - `as_of` is the configured date: a snapshot has no event dates to infer it from.
 */
export interface ProfileTableParams {
  /** The table's file (or folder), relative to the data folder; null = no profile table. */
  file: string | null;
  /** The vendor's customer id column. */
  key: string | null;
  /** Columns that are not features: outcomes (churn), names, free text. */
  exclude: string[];
  /** Text columns encoded as 0/1 indicators per value. */
  categorical: string[];
  /**
   * Contract customer attributes (industry, employees, annual_revenue, founded_year, region,
   * edition, deployment, buyer_role, signup_date) → the vendor's column, for the lenses and cold
   * start. A mapped text column is an attribute only; a mapped numeric column (revenue,
   * head-count) stays a feature too, since in a snapshot it is one of the measures.
   */
  attributes: Record<string, string>;
  /** Unit of the column mapped to annual_revenue (the contract holds thousands). */
  revenueUnit: 'units' | 'thousands' | 'millions';
  /** The date the snapshot describes, YYYY-MM-DD. */
  asOf: string | null;
}

/** No profile table. */
export const defaultProfileTableParams: ProfileTableParams = { file: null, key: null, exclude: [], categorical: [], attributes: {}, revenueUnit: 'units', asOf: null };

/** The `features` slice (`vendorModules` is fitted, not configured: not a setting). */
export const featureParamsRule: Rule<FeatureParams> = settingsOf(defaultFeatureParams, {
  // Compared with |amount|: a negative threshold would count no ticket as small.
  smallTicketAmount: number({ min: 0 }),
  homeCurrency: orNull(text('a currency code')),
});

/** The customer attributes a feature table carries: the customers table's columns but its id (feature-file.ts ATTRIBUTE_SPECS). */
const ATTRIBUTES = CONTRACT.customers.columns.map((c) => c.name).filter((name) => name !== 'customer_id');

/** What a profile table needs once a file is named: its key, its date, and lists that do not overlap. */
function profileTableProblems(p: ProfileTableParams): Problem[] {
  if (p.file === null) return [];
  const problems: Problem[] = [];
  if (!p.key) problems.push({ path: ['key'], message: `expected the customer id column of ${p.file}, got ${JSON.stringify(p.key)}` });
  if (p.asOf === null) problems.push({ path: ['asOf'], message: 'expected the date the table describes (YYYY-MM-DD), got null\na snapshot has no event dates to infer it from' });
  for (const a of Object.keys(p.attributes)) {
    if (!ATTRIBUTES.includes(a)) problems.push({ path: ['attributes', a], message: `expected a customer attribute, got ${JSON.stringify(a)}\nattributes: ${ATTRIBUTES.join(', ')}` });
  }
  const both = p.exclude.filter((c) => p.categorical.includes(c));
  if (both.length) problems.push({ path: ['exclude'], message: `expected no column both excluded and categorical, got ${both.map((c) => `"${c}"`).join(', ')}` });
  return problems;
}

/** The `profileTable` slice. */
export const profileTableParamsRule: Rule<ProfileTableParams> = v.pipe(
  settingsOf(defaultProfileTableParams, {
    file: orNull(text('a file or folder path', true)),
    key: orNull(text('a column name', true)),
    exclude: listOf(text(), 'column names'),
    categorical: listOf(text(), 'column names'),
    attributes: userMap(text('a column name', true)),
    revenueUnit: oneOf(['units', 'thousands', 'millions']),
    asOf: orNull(isoDate()),
  }),
  crossCheck(profileTableProblems),
);
