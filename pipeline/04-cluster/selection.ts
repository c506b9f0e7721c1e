/**
 * Choosing k: every candidate k is fitted on one seeded sample and scored by silhouette,
 * Calinski-Harabasz, Davies-Bouldin, inertia, its smallest segment's share and its bootstrap
 * stability; `chooseK` then applies the documented decision rule to those rows.
 */
import type { Matrix } from '../core/matrix.ts';
import { deriveSeed } from '../core/random.ts';
import { fitKMeansBest, type KMeansOptions } from './kmeans.ts';
import { calinskiHarabasz, daviesBouldin, silhouetteScores } from './metrics.ts';
import { bootstrapLabelings, meanAri } from './stability.ts';

/** Scores of one candidate k, measured on the selection sample. */
export interface KSelectionRow {
  k: number;
  /** Mean silhouette (higher is better). */
  silhouette: number;
  /** Calinski-Harabasz index (higher is better). */
  calinskiHarabasz: number;
  /** Davies-Bouldin index (lower is better). */
  daviesBouldin: number;
  /** Within-cluster sum of squares on the sample. */
  inertia: number;
  /** Share of the sample in the smallest cluster. */
  minShare: number;
  /** Mean adjusted Rand index of bootstrap refits against this k's fit on the sample (1 = always reproduced). */
  stability: number;
  /** minShare >= minSegmentShare, smallest segment >= minSegmentSize rows, stability >= minStability and the metrics are defined. */
  eligible: boolean;
}

/** The settings the decision rule reads. */
export interface SelectionRule {
  /** A k is eligible only if its smallest segment holds at least this share of the sample. */
  minSegmentShare: number;
  /** A k is eligible only if its smallest segment holds at least this many rows of the sample. */
  minSegmentSize: number;
  /** A k is eligible only if its bootstrap stability (mean ARI) reaches this. */
  minStability: number;
  /** Silhouettes within this of the best eligible one count as tied; the smallest tied k wins. */
  silhouetteTolerance: number;
}

/** How the selection rows were produced, for the rule's wording. */
export interface SelectionContext {
  kMin: number;
  kMax: number;
  sampleRows: number;
  resamples: number;
}

/** What selectK hands back: the rows, the choice, and the bootstrap labelings of the chosen k (reused for per-segment stability). */
export interface SelectionOutcome {
  k: number;
  selection: KSelectionRow[];
  selectionRule: string;
  /** Labels of the sample under each bootstrap refit at the chosen k: `resamples` arrays of shape (sampleRows). */
  bootstrap: Int32Array[];
}

/** Settings of selectK beyond the rule. */
export interface SelectionSettings extends SelectionRule {
  kMin: number;
  kMax: number;
  restarts: number;
  stabilityResamples: number;
  stabilityRestarts: number;
}

/**
 * The parts of fitting clusters, reported in order as each ends (fitClusters' onPhase): k
 * selection on the sample, the bootstrap stability refits, the final fit on every row. Train
 * times the stability refits on a line of their own: scikit-learn's KMeans has no counterpart.
 */
export type ClusterPhase = 'select' | 'stability' | 'final';

/** `done` of `total` k-means fits of choosing k (the candidates' fits and the bootstrap refits): a progress feed. */
export type ClusterProgress = (done: number, total: number) => void;

/**
 * Scores every k in kMin..kMax (kMax already capped by the caller) on the sample S (m, d): the
 * best of `restarts` seeded k-means++ fits per k (seed deriveSeed(seed, `selection-k${k}`)), its
 * silhouette / CH / DB / inertia / smallest share, and its stability over `stabilityResamples`
 * bootstrap refits (seeds derived from deriveSeed(seed, `bootstrap-k${k}`)); then applies chooseK.
 */
export function selectK(S: Matrix, settings: SelectionSettings, seed: number, options: KMeansOptions, onPhase?: (phase: ClusterPhase) => void, onProgress?: ClusterProgress): SelectionOutcome {
  const ks: number[] = [];
  for (let k = settings.kMin; k <= settings.kMax; k++) ks.push(k);
  const fitsDone = { done: 0, total: ks.length * (1 + settings.stabilityResamples) };
  const fitted = (): void => onProgress?.(++fitsDone.done, fitsDone.total);
  onProgress?.(0, fitsDone.total);
  const fits = ks.map((k) => {
    const fit = fitKMeansBest(S, k, settings.restarts, deriveSeed(seed, `selection-k${k}`), options);
    fitted();
    return fit;
  });
  // One pass over the sample's pairwise distances scores every candidate (the O(m^2) part).
  const silhouettes = silhouetteScores(S, fits.map((f) => f.labels), ks);
  onPhase?.('select');
  const bootstraps = ks.map((k) => bootstrapLabelings(S, k, settings.stabilityResamples, settings.stabilityRestarts, deriveSeed(seed, `bootstrap-k${k}`), options, fitted));
  onPhase?.('stability');
  const selection = fits.map((fit, i): KSelectionRow => {
    const k = ks[i]!;
    const minShare = Math.min(...fit.sizes) / S.rows;
    const silhouette = silhouettes[i]!;
    const stability = meanAri(fit.labels, bootstraps[i]!);
    return {
      k,
      silhouette,
      calinskiHarabasz: calinskiHarabasz(S, fit.labels, k),
      daviesBouldin: daviesBouldin(S, fit.labels, k),
      inertia: fit.inertia,
      minShare,
      stability,
      eligible: largeEnough(minShare, S.rows, settings) && stability >= settings.minStability && !Number.isNaN(silhouette),
    };
  });
  const { k, rule } = chooseK(selection, settings, { kMin: settings.kMin, kMax: settings.kMax, sampleRows: S.rows, resamples: settings.stabilityResamples });
  return { k, selection, selectionRule: rule, bootstrap: bootstraps[ks.indexOf(k)]! };
}

/**
 * The decision rule. Eligible k: smallest segment >= minSegmentShare and >= minSegmentSize rows, bootstrap stability >=
 * minStability, silhouette defined. Among them, take the best silhouette; every eligible k within
 * silhouetteTolerance of it is tied, and the smallest tied k wins (fewer segments are easier to act
 * on, and smaller silhouette differences are within the noise of a sampled silhouette). If no k is
 * stable enough: the most stable k among those whose segments are all large enough (ties: smaller
 * k). If no k keeps every segment large enough: the k whose smallest segment is largest (ties:
 * smaller k). Returns the k and the rule applied, in words.
 */
export function chooseK(rows: readonly KSelectionRow[], rule: SelectionRule, ctx: SelectionContext): { k: number; rule: string } {
  if (rows.length === 0) throw new Error('chooseK: no candidate k');
  const where = `k in ${ctx.kMin}..${ctx.kMax} on a ${ctx.sampleRows}-row sample`;
  const shareOk = `smallest segment >= ${rule.minSegmentShare} of it and >= ${rule.minSegmentSize} customers`;
  const stable = `bootstrap stability (mean ARI over ${ctx.resamples} resamples) >= ${rule.minStability}`;
  const eligible = rows.filter((r) => r.eligible);
  if (eligible.length > 0) {
    const best = Math.max(...eligible.map((r) => r.silhouette));
    const k = Math.min(...eligible.filter((r) => r.silhouette >= best - rule.silhouetteTolerance).map((r) => r.k));
    return {
      k,
      rule: `smallest k whose silhouette is within ${rule.silhouetteTolerance} of the best (${best.toFixed(3)}) among ${where} with ${shareOk} and ${stable}`,
    };
  }
  const bigEnough = rows.filter((r) => largeEnough(r.minShare, ctx.sampleRows, rule) && !Number.isNaN(r.silhouette) && !Number.isNaN(r.stability));
  if (bigEnough.length > 0) {
    const top = [...bigEnough].sort((a, b) => b.stability - a.stability || a.k - b.k)[0]!;
    return { k: top.k, rule: `no ${where} had ${stable}; took the most stable k among those with ${shareOk}` };
  }
  const fallback = [...rows].sort((a, b) => b.minShare - a.minShare || a.k - b.k)[0]!;
  return { k: fallback.k, rule: `no ${where} had ${shareOk}; fell back to the largest smallest-segment share` };
}

/** The smallest segment (minShare of `sampleRows`) meets both the share and the size in customers. */
function largeEnough(minShare: number, sampleRows: number, rule: Pick<SelectionRule, 'minSegmentShare' | 'minSegmentSize'>): boolean {
  // The size is recovered from the share: rounding guards against minShare * rows landing just below an integer.
  return minShare >= rule.minSegmentShare && Math.round(minShare * sampleRows) >= rule.minSegmentSize;
}
