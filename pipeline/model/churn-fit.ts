/**
 * The churn model inside fitModel: fitted on the edge's training rows, then applied to the
 * training customers as of the bundle's as-of for the per-segment risk the report shows, and its
 * out-of-fold risk measured against planted churners when the folder has them.
 */
import type { FeatureTable } from '../02-features/features.ts';
import { plantedChurnAuc } from '../05-classify/churn-labels.ts';
import type { ChurnParams } from '../05-classify/churn-params.ts';
import { applyChurn, fitChurn, sampleChurnRows, segmentChurnRisk, type ChurnState, type ChurnTraining } from '../05-classify/churn.ts';
import type { Logger } from '../core/log.ts';
import { deriveSeed } from '../core/random.ts';

/** The manifest's `metrics.churn` block. */
export interface ChurnMetrics {
  source: ChurnState['source']['kind'];
  n: number;
  baseRate: number;
  auc: number;
  precisionTopDecile: number;
  brier: number;
  plantedAuc: number | null;
}

/** Fits churn.json; `labels` are the k-means segment indices of `features`' rows (shape (n)), indexing `segmentIds`. */
export function fitChurnState(training: ChurnTraining, features: FeatureTable, labels: Int32Array, segmentIds: readonly number[], params: ChurnParams, runSeed: number, logger: Logger): ChurnState {
  const input = sampleChurnRows(training.input, params.sampleSize, deriveSeed(runSeed, 'churn-sample'));
  const { state, outOfFoldRisk } = fitChurn(input, params, deriveSeed(runSeed, 'churn'));
  if (input !== training.input) {
    // In the schema's key order, so churn.json reads back as written.
    const { folds, seed, n, ...rest } = state.backtest;
    state.backtest = { folds, seed, n, sampledFrom: training.input.labels.length, ...rest };
  }
  const { threshold, segments } = segmentChurnRisk(applyChurn(state, features.X, features.featureNames), labels, segmentIds);
  state.topDecileThreshold = threshold;
  state.segments = segments;
  state.plantedAuc = training.planted ? plantedChurnAuc(input.customerIds, outOfFoldRisk, training.planted) : null;
  const b = state.backtest;
  logger.info(
    `churn: ${b.folds}-fold ROC AUC ${b.auc.toFixed(3)}, precision in the top decile ${(b.precisionTopDecile * 100).toFixed(1)}% (base rate ${(b.baseRate * 100).toFixed(1)}%), Brier ${b.brier.toFixed(4)} on ${b.n} customers${b.sampledFrom ? ` (a sample of ${b.sampledFrom})` : ''}` +
      (state.plantedAuc !== null ? `; AUC against planted churners ${state.plantedAuc.toFixed(3)}` : ''),
  );
  return state;
}

/** The manifest's summary of a churn model. */
export function churnMetrics(state: ChurnState): ChurnMetrics {
  const b = state.backtest;
  return { source: state.source.kind, n: b.n, baseRate: b.baseRate, auc: b.auc, precisionTopDecile: b.precisionTopDecile, brier: b.brier, plantedAuc: state.plantedAuc };
}
