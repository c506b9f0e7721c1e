import { featureColumn, type FeatureTable } from '../02-features/features.ts';
import type { LensInput } from '../06-categorize/lenses.ts';

/** Lens inputs from the feature table; a dropped behavioural feature reads as NaN, which the lens rules treat as unknown. */
export function lensInputFrom(table: FeatureTable): LensInput {
  const col = (name: string) => featureColumn(table, name) ?? new Float64Array(table.X.rows).fill(Number.NaN);
  const a = table.attributes;
  // Activity dates (not features): absent from a feature file, and then lifecycle falls back to tenure.
  const activity = (table as { activity?: { firstSeenDays: Float64Array; spanDays: number } }).activity;
  return {
    firstSeenDays: activity?.firstSeenDays,
    spanDays: activity?.spanDays,
    txnRecencyDays: col('txn_recency_days'),
    txnCount90: col('txn_count_90'),
    txnVolume90: col('txn_volume_90'),
    txnCountAll: col('txn_count_all'),
    asOf: table.asOf,
    industry: a.industry,
    employees: a.employees,
    annualRevenue: a.annualRevenue,
    foundedYear: a.foundedYear,
    deployment: a.deployment,
    buyerRole: a.buyerRole,
    tenureDays: col('tenure_days'),
    usageTrend: col('usage_trend'),
    volumeTrend: col('volume_trend'),
    events90: col('events_90'),
    recencyDays: col('recency_days'),
    mobileShare: col('device_mobile_share'),
    apiShare: col('device_api_share'),
    moduleBreadth: col('module_breadth_90'),
  };
}

