/**
 * The lenses' label sets and the inputs of their rules: shared by the rule files (lenses.ts,
 * lifecycle.ts, industries.ts), which import them from here rather than from each other.
 */

/** Size bands (EU SME style), plus `unknown` when head count and revenue are both missing. */
export const SIZE_LABELS = ['micro', 'small', 'medium', 'large', 'unknown'] as const;
/** The seed's industries; `other` = a known code outside them, `unknown` = no code. */
export const INDUSTRY_LABELS = ['manufacturing', 'retail', 'construction', 'healthcare', 'services', 'platform_economy', 'other', 'unknown'] as const;
/** The seed's lifecycle stages (startup = its exploration stage), plus `unknown`. */
export const LIFECYCLE_LABELS = ['startup', 'growth', 'mature', 'decline', 'unknown'] as const;
/** Technology acceptance levels, plus `unknown` when no signal is known. */
export const TECHNOLOGY_LABELS = ['low', 'medium', 'high', 'unknown'] as const;
/** The contract's buyer roles, plus `unknown` when missing or unrecognised. */
export const BUYER_ROLE_LABELS = ['finance', 'it', 'executive', 'owner', 'other', 'unknown'] as const;

/** One label of its lens. */
export type SizeLabel = (typeof SIZE_LABELS)[number];
export type IndustryLabel = (typeof INDUSTRY_LABELS)[number];
export type LifecycleLabel = (typeof LIFECYCLE_LABELS)[number];
export type TechnologyLabel = (typeof TECHNOLOGY_LABELS)[number];
export type BuyerRoleLabel = (typeof BUYER_ROLE_LABELS)[number];

/** The lenses in report order; also the keys of `CustomerLenses`. */
export const LENS_NAMES = ['size', 'industry', 'lifecycle', 'technology', 'buyerRole'] as const;
/** The name of one lens. */
export type LensName = (typeof LENS_NAMES)[number];

/** Every label of every lens in canonical order (compositions list them in this order, ties break by it). */
export const LENS_LABELS: { readonly [L in LensName]: readonly string[] } = {
  size: SIZE_LABELS,
  industry: INDUSTRY_LABELS,
  lifecycle: LIFECYCLE_LABELS,
  technology: TECHNOLOGY_LABELS,
  buyerRole: BUYER_ROLE_LABELS,
};

/** Per-customer inputs of the lens rules, columnar, all of length n; NaN or null = missing. */
export interface LensInput {
  /** The as-of date, YYYY-MM-DD. */
  asOf: string;
  industry: (string | null)[];
  employees: Float64Array;
  /** In `LensParams.size.revenueUnit`. */
  annualRevenue: Float64Array;
  foundedYear: Float64Array;
  deployment: (string | null)[];
  buyerRole: (string | null)[];
  tenureDays: Float64Array;
  usageTrend: Float64Array;
  volumeTrend: Float64Array;
  /** Usage events in the last 90 days (events_90). */
  events90: Float64Array;
  /** Days since the last activity, counted from signup when there is none (recency_days). */
  recencyDays: Float64Array;
  /** Days since the last transaction, from signup when none (txn_recency_days); absent or NaN = unknown. */
  txnRecencyDays?: Float64Array;
  /** Transactions and their summed |amount| in the last 90 days (txn_count_90, txn_volume_90); absent = unknown. */
  txnCount90?: Float64Array;
  txnVolume90?: Float64Array;
  /** Transactions in all history (txn_count_all); absent or NaN = unknown. */
  txnCountAll?: Float64Array;
  /** Days from the customer's first usage event or transaction to the end of the as-of date, NaN when none (FeatureTable.activity). */
  firstSeenDays?: Float64Array;
  /** Days from the earliest activity in the data to the end of the as-of date; absent = unknown, and lifecycle falls back to tenure. */
  spanDays?: number;
  mobileShare: Float64Array;
  apiShare: Float64Array;
  moduleBreadth: Float64Array;
}

/** The five lens labels per customer, columnar, each of length n. */
export interface CustomerLenses {
  size: SizeLabel[];
  industry: IndustryLabel[];
  lifecycle: LifecycleLabel[];
  technology: TechnologyLabel[];
  buyerRole: BuyerRoleLabel[];
}
