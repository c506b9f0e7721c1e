import { MODULES } from '../01-ingest/contract.ts';

/**
 * The behavioural feature catalog (DESIGN §4). Every feature is computed in SQL over the
 * as-of date (see features.ts); this list fixes their names and order, which the model
 * bundle records as `catalogVersion` + `featureNames`.
 */
export const CATALOG_VERSION = 1;

/** Window in days for "recent" aggregates; trends compare this window with the one before it. */
export const WINDOW_DAYS = 90;

export const ACTIVITY_FEATURES = [
  'active_days_90', // distinct days with any event in the window
  'events_90', // sum of event counts in the window
  'users_90', // distinct users in the window
  'events_per_user_90',
  'recency_days', // days from the last event to the as-of date
  'tenure_days', // days from signup to the as-of date
  'module_breadth_90', // distinct modules used in the window
] as const;

/** Share of the window's event count spent in each catalog module. */
export const MODULE_SHARE_FEATURES = MODULES.map((m) => `share_${m}` as const);

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
] as const;

export const TREND_FEATURES = [
  'usage_trend', // ln((events in window + 1) / (events in previous window + 1))
  'volume_trend', // ln((volume in window + 1) / (volume in previous window + 1))
] as const;

export const FEATURE_NAMES: readonly string[] = [
  ...ACTIVITY_FEATURES,
  ...MODULE_SHARE_FEATURES,
  ...CHANNEL_FEATURES,
  ...TRANSACTION_FEATURES,
  ...TREND_FEATURES,
];
