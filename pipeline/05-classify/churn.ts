/**
 * Churn propensity: P(a customer churns within the horizon) from its features, as a calibrated
 * L2 logistic regression on the generic feature expansion (churn-expand.ts). fitChurn measures
 * the model by seeded stratified cross-validation (out-of-fold scores), calibrates it by Platt
 * scaling fitted on those out-of-fold scores, then refits on every row; applyChurn scores a batch.
 */
import { makeRng } from '../core/random.ts';
import { takeRows, type Matrix } from '../core/matrix.ts';
import { quantile } from '../core/quantiles.ts';
import { applyExpansion, fitExpansion, type ChurnExpansion } from './churn-expand.ts';
import { applyPlatt, fitLogistic, fitPlatt, linearScores, type PlattFit } from './churn-logistic.ts';
import { brierScore, calibrationTable, rocAuc, stratifiedFolds, topDecile, type CalibrationBin } from './churn-metrics.ts';
import type { ChurnLabels } from './churn-labels.ts';
import type { ChurnParams } from './churn-params.ts';

/** Where the churn label came from: a subscriptions table (a forward backtest) or a profile table's column (a snapshot). */
export type ChurnLabelSource =
  | { kind: 'subscriptions'; horizonDays: number; trainingAsOf: string; labelAsOf: string; definition: string }
  | { kind: 'profileColumn'; column: string; positiveValues: string[]; asOf: string; definition: string };

/** What the churn model is fitted on. */
export interface ChurnInput {
  /** Shape (rows, featureNames.length); NaN = missing. */
  X: Matrix;
  featureNames: string[];
  customerIds: string[];
  /** 1 = churned, 0 = stayed, shape (rows). */
  labels: Uint8Array;
  source: ChurnLabelSource;
}

/** What the churn fit needs from the edge: its training rows, and a generated folder's planted churners. */
export interface ChurnTraining {
  input: ChurnInput;
  /** Planted churners (subscriptions_truth.csv) to measure the out-of-fold risk against; null outside generated data. */
  planted: ChurnLabels | null;
}

/** The backtest of a churn model: out-of-fold measures over every training row. */
export interface ChurnBacktest {
  folds: number;
  seed: number;
  n: number;
  /** The training rows the sample of `n` was drawn from; absent when every row was used. */
  sampledFrom?: number;
  positives: number;
  baseRate: number;
  /** ROC AUC of the out-of-fold scores. */
  auc: number;
  /** ROC AUC within each fold. */
  foldAuc: number[];
  /** Share of churners among the top 10% of calibrated out-of-fold risk. */
  precisionTopDecile: number;
  /** Brier score of the calibrated out-of-fold risk, and of always predicting the base rate. */
  brier: number;
  brierBaseRate: number;
  calibration: CalibrationBin[];
}

/** The churn risk of the training customers (as of the bundle's as-of) per segment. */
export interface SegmentChurnRisk {
  segmentId: number;
  customers: number;
  mean: number;
  p50: number;
  p90: number;
  /** Share of the segment at or above the training customers' 90th percentile of risk. */
  shareTopDecile: number;
}

/** The churn model stored as `churn.json`. */
export interface ChurnState {
  kind: 'finseg.churn';
  version: 1;
  source: ChurnLabelSource;
  expansion: ChurnExpansion;
  /** One coefficient per derived column of the expansion. */
  coef: number[];
  intercept: number;
  l2: number;
  platt: PlattFit;
  backtest: ChurnBacktest;
  /** The training customers' 90th percentile of risk as of the bundle's as-of. */
  topDecileThreshold: number | null;
  segments: SegmentChurnRisk[];
  /** AUC of the risk against a generated folder's planted churners; null without subscriptions_truth.csv. */
  plantedAuc: number | null;
}

/** Why no churn model was fitted, or null when there is enough to fit one. */
export function churnUnfittable(labels: Uint8Array, params: ChurnParams): string | null {
  let positives = 0;
  for (const l of labels) positives += l;
  const negatives = labels.length - positives;
  if (positives < params.minPositives || negatives < params.minPositives) {
    return `${positives} churned and ${negatives} stayed among ${labels.length} training customers; at least ${params.minPositives} of each are needed (churn.minPositives)`;
  }
  if (positives < params.folds || negatives < params.folds) return `too few churners or stayers for ${params.folds} folds`;
  return null;
}

/** Fits expansion and logistic regression on the rows `take` of the input. */
function fitOn(input: ChurnInput, take: number[], params: ChurnParams): { expansion: ChurnExpansion; coef: number[]; intercept: number } {
  const X = takeRows(input.X, take);
  const y = Uint8Array.from(take, (i) => input.labels[i]!);
  const expansion = fitExpansion(X, input.featureNames, y, params);
  const fit = fitLogistic(applyExpansion(expansion, X, input.featureNames), y, params.l2);
  return { expansion, coef: fit.coef, intercept: fit.intercept };
}

/**
 * At most `size` rows of `input` (all of them when size is 0 or not smaller): a seeded sample
 * stratified by the label, so the sample's churn rate is the data's, in the input's row order.
 */
export function sampleChurnRows(input: ChurnInput, size: number, seed: number): ChurnInput {
  const n = input.labels.length;
  if (size <= 0 || n <= size) return input;
  const rng = makeRng(seed);
  const keep: number[] = [];
  for (const label of [0, 1]) {
    const rows: number[] = [];
    for (let i = 0; i < n; i++) if (input.labels[i] === label) rows.push(i);
    const take = Math.round((size * rows.length) / n);
    // A partial Fisher-Yates shuffle: the first `take` places hold a uniform sample.
    for (let j = 0; j < take; j++) {
      const r = j + rng.int(rows.length - j);
      [rows[j], rows[r]] = [rows[r]!, rows[j]!];
      keep.push(rows[j]!);
    }
  }
  keep.sort((a, b) => a - b);
  return { ...input, X: takeRows(input.X, keep), customerIds: keep.map((r) => input.customerIds[r]!), labels: Uint8Array.from(keep, (r) => input.labels[r]!) };
}

/** Fits the churn model and its backtest (seeded folds); churnUnfittable must be null for the labels. Also returns the calibrated out-of-fold risk per training row, shape (rows). */
export function fitChurn(input: ChurnInput, params: ChurnParams, seed: number): { state: ChurnState; outOfFoldRisk: Float64Array } {
  const n = input.labels.length;
  const fold = stratifiedFolds(input.labels, params.folds, seed);
  const oof = new Float64Array(n);
  const foldAuc: number[] = [];
  for (let f = 0; f < params.folds; f++) {
    const train: number[] = [];
    const test: number[] = [];
    for (let i = 0; i < n; i++) (fold[i] === f ? test : train).push(i);
    const m = fitOn(input, train, params);
    const z = linearScores(applyExpansion(m.expansion, takeRows(input.X, test), input.featureNames), m.coef, m.intercept);
    test.forEach((r, t) => (oof[r] = z[t]!));
    foldAuc.push(rocAuc(z, Uint8Array.from(test, (r) => input.labels[r]!)));
  }
  const platt = fitPlatt(oof, input.labels);
  const risk = oof.map((z) => applyPlatt(platt, z));
  let positives = 0;
  for (const l of input.labels) positives += l;
  const baseRate = positives / n;
  const backtest: ChurnBacktest = {
    folds: params.folds,
    seed,
    n,
    positives,
    baseRate,
    auc: rocAuc(oof, input.labels),
    foldAuc,
    precisionTopDecile: topDecile(risk, input.labels).precision,
    brier: brierScore(risk, input.labels),
    brierBaseRate: baseRate * (1 - baseRate),
    calibration: calibrationTable(risk, input.labels, 10),
  };
  const all = fitOn(input, Array.from({ length: n }, (_, i) => i), params);
  const state: ChurnState = { kind: 'finseg.churn', version: 1, source: input.source, ...all, l2: params.l2, platt, backtest, topDecileThreshold: null, segments: [], plantedAuc: null };
  return { state, outOfFoldRisk: risk };
}

/** Calibrated churn risk per row of X (shape (rows, names.length)), shape (rows). */
export function applyChurn(state: ChurnState, X: Matrix, names: readonly string[]): Float64Array {
  const z = linearScores(applyExpansion(state.expansion, X, names), state.coef, state.intercept);
  return z.map((s) => applyPlatt(state.platt, s));
}

/** The risk distribution per segment (labels index `segmentIds`), and the overall 90th percentile it is measured against. */
export function segmentChurnRisk(risk: Float64Array, labels: Int32Array, segmentIds: readonly number[]): { threshold: number | null; segments: SegmentChurnRisk[] } {
  if (risk.length === 0) return { threshold: null, segments: [] };
  const threshold = quantile(risk, 0.9);
  const segments = segmentIds.map((segmentId, s) => {
    const own = risk.filter((_, i) => labels[i] === s);
    if (own.length === 0) return { segmentId, customers: 0, mean: 0, p50: 0, p90: 0, shareTopDecile: 0 };
    let sum = 0;
    let above = 0;
    for (const r of own) {
      sum += r;
      above += r >= threshold ? 1 : 0;
    }
    return { segmentId, customers: own.length, mean: sum / own.length, p50: quantile(own, 0.5), p90: quantile(own, 0.9), shareTopDecile: above / own.length };
  });
  return { threshold, segments };
}
