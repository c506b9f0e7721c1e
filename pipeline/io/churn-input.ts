/**
 * The churn model's training rows, read at the edge beside the training customers: from a
 * subscriptions table (features as of T − h, label churned in (T − h, T]) or from a profile
 * table's label column (the snapshot's features, its label). docs/churn.md defines both.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { hasAcceptedRows, type IngestResult } from '../01-ingest/ingest.ts';
import { computeFeatures } from '../02-features/features.ts';
import { alignLabels, daysBefore, profileChurnLabels, readPlantedChurn, subscriptionChurnLabels, type ChurnLabels } from '../05-classify/churn-labels.ts';
import type { FeatureTable } from '../02-features/features.ts';
import { churnUnfittable, type ChurnInput, type ChurnTraining } from '../05-classify/churn.ts';
import type { FinsegConfig } from '../config/config.ts';
import type { Logger } from '../core/log.ts';
import { takeRows, type Matrix } from '../core/matrix.ts';
import type { ModelInput } from '../model/fit.ts';

/** Where the churn labels may come from. */
export interface ChurnSource {
  conn: DuckDBConnection;
  dataDir: string;
  config: FinsegConfig;
  ingested: IngestResult;
  /** The training customers (the model's features, as of T). */
  model: ModelInput;
  /** True when the customers came from a profile table. */
  fromProfile: boolean;
  logger: Logger;
}

/** The feature rows of the labelled customers, in feature-table order, with their labels. */
function labelledRows(features: Pick<FeatureTable, 'X' | 'featureNames' | 'customerIds'>, labels: ChurnLabels, source: ChurnInput['source']): ChurnInput {
  const aligned = alignLabels(features.customerIds, labels);
  return { X: takeRows(features.X, aligned.rows), featureNames: features.featureNames, customerIds: aligned.rows.map((r) => features.customerIds[r]!), labels: aligned.labels, source };
}

/** The churn training rows, or null (said in the log) when the export has no churn label or too few of either class. */
export async function readChurnTraining(src: ChurnSource): Promise<ChurnTraining | null> {
  const { config, logger } = src;
  const params = config.churn;
  if (!params.enabled) return null;
  const read = src.fromProfile ? await profileRows(src) : hasAcceptedRows(src.ingested, 'subscriptions') ? await subscriptionRows(src) : null;
  if (!read) {
    if (!src.fromProfile && params.labelColumn !== null) logger.warn(`churn: churn.labelColumn "${params.labelColumn}" is read only from a profile table (profileTable.file); no subscriptions table either, so no churn model`);
    else logger.info('churn: no subscriptions table or churn.labelColumn, so no churn model');
    return null;
  }
  const why = churnUnfittable(read.input.labels, params);
  if (why) {
    logger.warn(`churn: no churn model: ${why}`);
    return null;
  }
  return read;
}

/** The profile table's own features and its label column. */
async function profileRows(src: ChurnSource): Promise<ChurnTraining | null> {
  const { config } = src;
  const column = config.churn.labelColumn;
  if (column === null) return null;
  const p = config.profileTable;
  const labels = await profileChurnLabels(src.conn, src.dataDir, p.file!, p.key!, column, config.churn.positiveValues);
  const input = labelledRows(src.model.features, labels, {
    kind: 'profileColumn',
    column,
    positiveValues: config.churn.positiveValues,
    asOf: src.model.features.asOf,
    definition: `"${column}" in ${p.file} is one of ${config.churn.positiveValues.join(' / ')} (any case): a snapshot, the features and the label measured at the same time`,
  });
  return { input, planted: null };
}

/** Features as of T − h over the same staged tables, labels churned in (T − h, T]. */
async function subscriptionRows(src: ChurnSource): Promise<ChurnTraining> {
  const { conn, config, model } = src;
  const asOf = src.ingested.asOf;
  const from = daysBefore(asOf, config.churn.horizonDays);
  const labels = await subscriptionChurnLabels(conn, from, asOf);
  // The model's own columns, so score measures the same ones on a batch as of its own date.
  const past = await computeFeatures(conn, from, { ...config.features, homeCurrency: model.homeCurrency, vendorModules: model.vendorModules }, src.ingested.absentTables, model.features.featureNames);
  const input = labelledRows(past, labels, {
    kind: 'subscriptions',
    horizonDays: config.churn.horizonDays,
    trainingAsOf: from,
    labelAsOf: asOf,
    definition: `customers with MRR > 0 on ${from}; churned = MRR 0 on ${asOf} (MRR at d = the summed mrr of the subscription rows active at d)`,
  });
  return { input, planted: await readPlantedChurn(conn, src.dataDir) };
}
