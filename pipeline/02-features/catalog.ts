import { MODULES } from '../01-ingest/contract.ts';

/**
 * The behavioural feature catalog (DESIGN §4). Every feature is computed in SQL over the
 * as-of date (see features.ts); this list fixes their names and order, which the model
 * bundle records as `catalogVersion` + `featureNames`.
 */
export const CATALOG_VERSION = 2;

/** Window in days for "recent" aggregates; trends compare this window with the one before it. */
export const WINDOW_DAYS = 90;

export const ACTIVITY_FEATURES = [
  'active_days_90', // distinct days with any event in the window
  'events_90', // sum of event counts in the window
  'users_90', // distinct users in the window
  'events_per_user_90',
  'recency_days', // days from the last usage event or transaction (whichever is later) to the as-of date
  'tenure_days', // days from signup to the as-of date
  'module_breadth_90', // distinct modules used in the window, catalog and vendor modules alike
] as const;

/** Share of the window's event count spent in each catalog module. */
export const MODULE_SHARE_FEATURES = MODULES.map((m) => `share_${m}` as const);

/**
 * Share of the window's event count in vendor modules (module values outside the catalog) other
 * than the ones the model names (`vendorModules`, whose shares come last in the catalog).
 */
export const VENDOR_OTHER_FEATURE = 'share_vendor_other';

export const CHANNEL_FEATURES = ['device_mobile_share', 'device_api_share', 'device_desktop_share'] as const;

export const TRANSACTION_FEATURES = [
  'txn_count_90',
  'txn_volume_90', // sum of |amount| in the window
  'txn_avg_size', // mean |amount| in the window
  'small_ticket_share', // share of window transactions with |amount| < smallTicketAmount
  'currencies_90', // distinct currencies in the window
  'foreign_share', // share of window volume not in the customer's main currency
  'refund_share', // share of window transactions with a negative amount
  'kind_sale_share',
  'kind_purchase_share',
  'kind_payroll_share',
  'kind_transfer_share',
  'txn_recency_days', // days from the last transaction to the as-of date; from signup when none
  'txn_tenure_days', // days from the first transaction to the as-of date; undefined when none
  'txn_active_months', // distinct calendar months with a transaction, all history
  'txn_count_all', // transactions, all history
  'txn_volume_all', // sum of |amount|, all history
  'txn_avg_basket', // txn_volume_all / txn_count_all; undefined when none
] as const;

export const TREND_FEATURES = [
  'usage_trend', // ln((events in window + 1) / (events in previous window + 1))
  'volume_trend', // ln((volume in window + 1) / (volume in previous window + 1))
] as const;

/**
 * The fixed part of the catalog. A model's catalog is this followed by its vendor module shares
 * (featureCatalog), whose names depend on the data it was fitted on.
 */
export const FEATURE_NAMES: readonly string[] = [
  ...ACTIVITY_FEATURES,
  ...MODULE_SHARE_FEATURES,
  VENDOR_OTHER_FEATURE,
  ...CHANNEL_FEATURES,
  ...TRANSACTION_FEATURES,
  ...TREND_FEATURES,
];

/** How many vendor modules get a share feature of their own; the rest are pooled in `share_vendor_other`. */
export const VENDOR_MODULE_LIMIT = 8;

/** A vendor module (a usage module outside the catalog) with a share feature of its own. */
export interface VendorModule {
  /** The module as the vendor's export names it, e.g. "Bank feeds". */
  name: string;
  /** Its share feature, `share_vendor_<slug>`. */
  feature: string;
}

/** The catalog of a model: FEATURE_NAMES, then one share per named vendor module. */
export function featureCatalog(vendorModules: readonly VendorModule[]): string[] {
  return [...FEATURE_NAMES, ...vendorModules.map((v) => v.feature)];
}

/**
 * Share features for vendor modules, given most used first: `share_vendor_<slug>`, the slug the
 * name's ASCII letters and digits (accents stripped) joined by underscores, the 1-based rank when
 * nothing is left (e.g. a Chinese name), a `_2`, `_3` … suffix when taken (`other` is).
 */
export function vendorModuleFeatures(names: readonly string[]): VendorModule[] {
  const taken = new Set([VENDOR_OTHER_FEATURE, ...FEATURE_NAMES]);
  return names.map((name, i) => {
    const slug =
      name
        .normalize('NFKD')
        .replace(/[\u0300-\u036f]/g, '')
        .toLowerCase()
        .replace(/[^a-z0-9]+/g, '_')
        .replace(/^_+|_+$/g, '') || String(i + 1);
    let feature = `share_vendor_${slug}`;
    for (let n = 2; taken.has(feature); n++) feature = `share_vendor_${slug}_${n}`;
    taken.add(feature);
    return { name, feature };
  });
}

/**
 * The display label of a vendor module feature: the vendor's own name for `share_vendor_<slug>`
 * ("Bank feeds"), "other vendor modules" for `share_vendor_other`, the slug in words for a vendor
 * share the list does not name (a model trained from a feature table); null for any other feature.
 */
export function vendorModuleLabel(featureName: string, vendorModules: readonly VendorModule[]): string | null {
  const named = vendorModules.find((v) => v.feature === featureName);
  if (named) return named.name;
  if (featureName === VENDOR_OTHER_FEATURE) return 'other vendor modules';
  const slug = /^share_vendor_(.+)$/.exec(featureName);
  return slug ? slug[1]!.replace(/_/g, ' ') : null;
}

/** The label of a share feature: the catalog module id for `share_<module>`, the vendor's name for a vendor module share; null otherwise. */
export function moduleOfShareFeature(featureName: string, vendorModules: readonly VendorModule[]): { kind: 'catalog' | 'vendor'; label: string } | null {
  const vendor = vendorModuleLabel(featureName, vendorModules);
  if (vendor !== null) return { kind: 'vendor', label: vendor };
  const m = /^share_(.+)$/.exec(featureName);
  return m && (MODULES as readonly string[]).includes(m[1]!) ? { kind: 'catalog', label: m[1]! } : null;
}

/**
 * The table a feature is computed from, so a feature whose table is absent is left out:
 * `either` for recency_days (the later of the last usage event and the last transaction),
 * `customers` for tenure_days.
 */
export function featureSource(feature: string): 'usage_events' | 'transactions' | 'either' | 'customers' {
  if (feature === 'recency_days') return 'either';
  if (feature === 'tenure_days') return 'customers';
  if ((TRANSACTION_FEATURES as readonly string[]).includes(feature) || feature === 'volume_trend') return 'transactions';
  return 'usage_events';
}

/** Whether a feature needs a table the data does not have (see featureSource). */
export function needsAbsentTable(feature: string, absentTables: readonly string[]): boolean {
  const source = featureSource(feature);
  if (source === 'customers') return false;
  if (source === 'either') return absentTables.includes('usage_events') && absentTables.includes('transactions');
  return absentTables.includes(source);
}
