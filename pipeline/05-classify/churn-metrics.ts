/**
 * Backtest measures of a churn model: ROC AUC, precision in the top decile, Brier score, a
 * calibration table, and the seeded stratified folds they are measured on.
 */
import { makeRng } from '../core/random.ts';

/**
 * ROC AUC of scores (shape (n)) against 0/1 labels: the probability that a random churner scores
 * above a random non-churner, ties counting one half (the Mann-Whitney statistic, as scikit-learn's
 * roc_auc_score). NaN when one class is absent.
 */
export function rocAuc(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  const n = scores.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[a]! - scores[b]!);
  let positives = 0;
  let rankSum = 0;
  for (let start = 0; start < n; ) {
    let end = start;
    while (end + 1 < n && scores[order[end + 1]!] === scores[order[start]!]) end++;
    // Tied scores share the mean of their ranks (1-based).
    const rank = (start + end + 2) / 2;
    for (let t = start; t <= end; t++) {
      if (labels[order[t]!]! > 0) {
        positives++;
        rankSum += rank;
      }
    }
    start = end + 1;
  }
  const negatives = n - positives;
  if (positives === 0 || negatives === 0) return Number.NaN;
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

/** Mean squared difference between probabilities (shape (n)) and 0/1 labels. */
export function brierScore(probabilities: ArrayLike<number>, labels: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < probabilities.length; i++) s += (probabilities[i]! - (labels[i]! > 0 ? 1 : 0)) ** 2;
  return s / probabilities.length;
}

/**
 * The share of churners among the ceil(n / 10) highest scores (ties at the cut broken by row
 * order, first rows first), and the lowest score inside that decile (the top-decile threshold).
 */
export function topDecile(scores: ArrayLike<number>, labels: ArrayLike<number>): { precision: number; threshold: number } {
  const n = scores.length;
  const take = Math.ceil(n / 10);
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[b]! - scores[a]! || a - b);
  let hits = 0;
  for (let t = 0; t < take; t++) hits += labels[order[t]!]! > 0 ? 1 : 0;
  return { precision: take ? hits / take : Number.NaN, threshold: take ? scores[order[take - 1]!]! : Number.NaN };
}

/** One bin of a calibration table: predictions in [lower, upper). */
export interface CalibrationBin {
  lower: number;
  upper: number;
  count: number;
  /** Mean predicted probability in the bin; null when it is empty. */
  meanPredicted: number | null;
  /** Share of churners in the bin; null when it is empty. */
  observedRate: number | null;
}

/** `bins` equal-width bins of predicted probability on [0, 1] (the last one closed), as scikit-learn's calibration_curve(strategy='uniform'). */
export function calibrationTable(probabilities: ArrayLike<number>, labels: ArrayLike<number>, bins = 10): CalibrationBin[] {
  const count = new Array<number>(bins).fill(0);
  const predicted = new Array<number>(bins).fill(0);
  const observed = new Array<number>(bins).fill(0);
  for (let i = 0; i < probabilities.length; i++) {
    const p = probabilities[i]!;
    const b = Math.min(bins - 1, Math.max(0, Math.floor(p * bins)));
    count[b]!++;
    predicted[b]! += p;
    observed[b]! += labels[i]! > 0 ? 1 : 0;
  }
  return count.map((c, b) => ({ lower: b / bins, upper: (b + 1) / bins, count: c, meanPredicted: c ? predicted[b]! / c : null, observedRate: c ? observed[b]! / c : null }));
}

/**
 * Fold index (0 .. folds - 1) per row, stratified: the churners and the others are each shuffled
 * (seeded) and dealt round-robin, so every fold holds nearly the same share of churners. Shape (n).
 */
export function stratifiedFolds(labels: ArrayLike<number>, folds: number, seed: number): Int32Array {
  const rng = makeRng(seed);
  const fold = new Int32Array(labels.length);
  let dealt = 0;
  for (const cls of [1, 0]) {
    const rows: number[] = [];
    for (let i = 0; i < labels.length; i++) if ((labels[i]! > 0 ? 1 : 0) === cls) rows.push(i);
    for (let i = rows.length - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [rows[i], rows[j]] = [rows[j]!, rows[i]!];
    }
    // The negatives continue the deal where the positives stopped, so fold sizes differ by at most one.
    for (const r of rows) fold[r] = dealt++ % folds;
  }
  return fold;
}
