/**
 * Cluster stage: choose k on a seeded sample (selection.ts), check that some k shows more
 * structure than the same data with its features shuffled (structure.ts), fit k-means on all rows, store the
 * centroids in a canonical order so segment ids are reproducible, and record how stable each
 * segment is under bootstrap refits (stability.ts) and how far training customers sit from their
 * centroid (for novelty). `assignClusters` and `assignmentFlags` are what scoring runs.
 */
import { InputError } from '../core/errors.ts';
import { fromRows, takeRows, type Matrix } from '../core/matrix.ts';
import { deriveSeed, makeRng, sampleIndices } from '../core/random.ts';
import { clusterSizes, fitKMeansBest, nearestCentroids, type KMeansOptions, type Nearest } from './kmeans.ts';
import { selectK, type ClusterPhase, type ClusterProgress, type KSelectionRow } from './selection.ts';
import { bootstrapLabelings, meanAri, segmentJaccard } from './stability.ts';
import { checkStructure, NO_CLEAR_STRUCTURE, type NullSource, type StructureCheck } from './structure.ts';
import { silhouetteScore } from './metrics.ts';
import { quantile } from '../core/quantiles.ts';
import type { ClusterParams } from './params.ts';

// Re-exported for callers that know it from the cluster stage.
export { quantile } from '../core/quantiles.ts';

export type { KSelectionRow } from './selection.ts';

/** How well the final segments reproduce under bootstrap refits on the selection sample. */
export interface SegmentStability {
  /** Bootstrap refits compared. */
  resamples: number;
  /** k-means++ starts per refit. */
  restarts: number;
  /** Rows of the selection sample the refits were drawn from and compared on. */
  sampleRows: number;
  /** Mean adjusted Rand index of the refits against the final segments on the sample. */
  meanAri: number;
  /** Per segment: mean Jaccard with its best-matching refit cluster, shape (k); NaN (null in JSON) if the sample has none of it. */
  jaccard: number[];
  /** Per segment: jaccard < unstableBelow, shape (k). */
  unstable: boolean[];
  /** The threshold used (cluster.unstableJaccard). */
  unstableBelow: number;
}

/** Learned clustering. */
export interface ClusterState {
  kind: 'finseg.cluster';
  version: 2;
  k: number;
  /** Canonical order: descending size, ties by first coordinate; shape (k, d). */
  centroids: number[][];
  /** Sum of squared distances of all training rows to their centroid. */
  inertia: number;
  /** Training rows per segment, shape (k). */
  sizes: number[];
  /** One row per candidate k; empty when k was fixed. */
  selection: KSelectionRow[];
  /** How k was chosen, in words, for the manifest and report. */
  selectionRule: string;
  /** The permutation null's verdict on the candidate k (structure.ts); absent in bundles made before it. */
  structure?: StructureCheck;
  /** Bootstrap stability of the final segments. */
  stability: SegmentStability;
  /** Novelty: `distance` is the `quantile` of the training customers' Euclidean distances to their centroid. */
  novelty: { quantile: number; distance: number };
  /** The run seed every random choice here was derived from. */
  seed: number;
  /** k-means iterations of the kept start. */
  iterations: number;
}

/** The columns the structure check shuffles (rows aligned with fitClusters' X) and how they map into X's space; absent: X's own columns. */
export interface NullColumns {
  /** Shape (n, p). */
  columns: Matrix;
  /** Rows (m, p) to rows (m, d) of X's space. */
  project: (M: Matrix) => Matrix;
}

export const CLUSTER_KIND = 'finseg.cluster';
export const CLUSTER_VERSION = 2;

/**
 * Refuses X with fewer distinct rows than the fixed k or kMin (InputError). Draws one seeded
 * sample (deriveSeed(seed, 'selection-sample')) and, unless params.k, chooses k on it by
 * chooseK's rule; judges the candidate k against column-shuffled copies (structure.ts, shuffling
 * `nullColumns` when given). Then fits k-means on ALL rows with `restarts` seeded starts, keeps
 * the lowest inertia, orders the centroids canonically, measures each segment's bootstrap Jaccard
 * on the sample, and records the novelty distance. No segment is empty. X: (n, d). `onProgress`
 * counts the k-means fits of choosing k (selectK), for a progress bar at the edge.
 */
export function fitClusters(X: Matrix, params: ClusterParams, seed: number, onPhase?: (phase: ClusterPhase) => void, nullColumns?: NullColumns, onProgress?: ClusterProgress): ClusterState {
  validateParams(params);
  const n = X.rows;
  const options: KMeansOptions = { maxIterations: params.maxIterations, tolerance: params.tolerance };
  checkDistinctCustomers(X, params.k ?? params.kMin);
  const picked = sampleIndices(n, params.selectionSample, makeRng(deriveSeed(seed, 'selection-sample')));
  const sample = takeRows(X, picked);
  const source: NullSource | undefined = nullColumns && { columns: takeRows(nullColumns.columns, picked), project: nullColumns.project };
  const { k, selection, selectionRule, bootstrap, structure } = chooseClusterCount(sample, params, seed, options, { onPhase, onProgress }, source);

  const best = fitKMeansBest(X, k, params.restarts, seed, { ...options, restartBudgetRows: params.restartBudgetRows, maxRestarts: params.maxRestarts });
  const centroids = canonicalOrder(best.centroids, best.sizes);
  // Relabel against the reordered centroids so an exact tie resolves as assignClusters will.
  const { labels, sqDistances } = nearestCentroids(X, centroids);
  let inertia = 0;
  for (let i = 0; i < n; i++) inertia += sqDistances[i]!;
  const sampleLabels = nearestCentroids(sample, centroids).labels;
  const jaccard = segmentJaccard(sampleLabels, k, bootstrap);
  const sizes = Array.from(clusterSizes(labels, k));
  // Distinct rows >= k and k-means' reseeding make this unreachable; a bundle must never hold an empty segment.
  if (sizes.includes(0)) throw new Error(`k-means left an empty segment (sizes ${sizes.join(' / ')})`);
  onPhase?.('final');
  return {
    kind: CLUSTER_KIND,
    version: CLUSTER_VERSION,
    k,
    // `+ 0` drops -0, which JSON would turn into 0 anyway.
    centroids: Array.from({ length: k }, (_, c) => Array.from(centroids.data.subarray(c * X.cols, (c + 1) * X.cols), (v) => v + 0)),
    inertia,
    sizes,
    selection,
    selectionRule,
    structure,
    stability: {
      resamples: params.stabilityResamples,
      restarts: params.stabilityRestarts,
      sampleRows: sample.rows,
      meanAri: meanAri(sampleLabels, bootstrap),
      jaccard,
      unstable: jaccard.map((j) => j < params.unstableJaccard),
      unstableBelow: params.unstableJaccard,
    },
    novelty: { quantile: params.noveltyQuantile, distance: quantile(Float64Array.from(sqDistances, Math.sqrt), params.noveltyQuantile) },
    seed,
    iterations: best.iterations,
  };
}

/** What chooseClusterCount hands fitClusters: the k, how it was chosen, its bootstrap labelings on the sample and the structure check. */
interface ClusterCount {
  k: number;
  selection: KSelectionRow[];
  selectionRule: string;
  bootstrap: Int32Array[];
  structure: StructureCheck;
}

/** The callbacks fitClusters passes on to choosing k. */
interface ClusterHooks {
  onPhase?: ((phase: ClusterPhase) => void) | undefined;
  onProgress?: ClusterProgress | undefined;
}

/**
 * The fixed k, or k chosen by chooseK's rule on the sample S (m, d); either way the candidate
 * silhouettes are judged against column-shuffled copies of S. With no clear structure, selection
 * takes the smallest eligible k: the silhouette differences that picked another are then noise.
 */
function chooseClusterCount(S: Matrix, params: ClusterParams, seed: number, options: KMeansOptions, hooks: ClusterHooks, source?: NullSource): ClusterCount {
  const { onPhase, onProgress } = hooks;
  const bootstrapAt = (k: number): Int32Array[] => {
    let done = 0;
    onProgress?.(0, params.stabilityResamples);
    return bootstrapLabelings(S, k, params.stabilityResamples, params.stabilityRestarts, deriveSeed(seed, `bootstrap-k${k}`), options, () => onProgress?.(++done, params.stabilityResamples));
  };
  // A k above the sample's distinct rows would leave a segment empty; silhouette needs k < rows.
  const kCap = Math.min(S.rows - 1, distinctRowsUpTo(S, Math.max(params.kMax, params.k ?? 0)));
  if (params.k !== null) {
    const k = params.k;
    onPhase?.('select');
    const bootstrap = bootstrapAt(k);
    onPhase?.('stability');
    // The fixed k's silhouette on the sample, fitted as selection would, is what the null is compared with.
    const sil = k >= 2 && k <= kCap ? silhouetteScore(S, fitKMeansBest(S, k, params.restarts, deriveSeed(seed, `selection-k${k}`), options).labels, k) : NaN;
    const structure = checkStructure(S, [k], [sil], params, seed, options, source);
    return { k, selection: [], selectionRule: `fixed k = ${k} (cluster.k)`, bootstrap, structure };
  }
  if (kCap < params.kMin) {
    throw new InputError(`cannot choose k in ${params.kMin}..${params.kMax} from ${S.rows} customers (${kCap + 1 < S.rows ? `${kCap} distinct; ` : ''}need at least ${params.kMin + 1})`);
  }
  // A k above rows / minSegmentSize can never be eligible: scoring it only adds chances for noise to pass the structure check.
  const kMax = Math.min(params.kMax, kCap, Math.max(params.kMin, Math.floor(S.rows / params.minSegmentSize)));
  const chosen = selectK(S, { ...params, kMax }, seed, options, onPhase, onProgress);
  const structure = checkStructure(S, chosen.selection.map((r) => r.k), chosen.selection.map((r) => r.silhouette), params, seed, options, source);
  const eligible = chosen.selection.filter((r) => r.eligible).map((r) => r.k);
  if (structure.clear || eligible.length === 0) return { ...chosen, structure };
  const k = Math.min(...eligible);
  const selectionRule = `${NO_CLEAR_STRUCTURE} (no k's silhouette above its column-shuffled copies' at that k by ${params.structureMargin}): the smallest eligible k, where the rule gave k = ${chosen.k} (${chosen.selectionRule})`;
  return { k, selection: chosen.selection, selectionRule, bootstrap: k === chosen.k ? chosen.bootstrap : bootstrapAt(k), structure };
}

/**
 * Refuses X (n, d) with fewer than `needed` distinct rows: constant features (one distinct row)
 * or too many duplicated customers cannot make `needed` non-empty segments.
 */
function checkDistinctCustomers(X: Matrix, needed: number): void {
  const distinct = distinctRowsUpTo(X, needed);
  if (distinct >= needed) return;
  if (distinct <= 1) {
    throw new InputError(`the ${X.rows} customers do not differ in any feature after preprocessing (every feature is constant): there is nothing to segment`);
  }
  throw new InputError(`only ${distinct} distinct customers (distinct feature rows after preprocessing) among ${X.rows}: at least ${needed} are needed for ${needed} segments`);
}

/** Distinct rows of X (n, d), counted up to `limit` (the scan stops there): O(n * limit * d) at worst. */
export function distinctRowsUpTo(X: Matrix, limit: number): number {
  const { rows: n, cols: d, data } = X;
  const found: number[] = [];
  for (let i = 0; i < n && found.length < limit; i++) {
    const seen = found.some((f) => {
      for (let j = 0; j < d; j++) if (data[f * d + j] !== data[i * d + j]) return false;
      return true;
    });
    if (!seen) found.push(i);
  }
  return found.length;
}

/**
 * Nearest centroid per row of X (n, d) (ties -> lowest id) and the Euclidean distance to it, plus
 * the second-nearest id and distance (-1 and Infinity when k = 1); every array has shape (n).
 */
export function assignClusters(
  state: ClusterState,
  X: Matrix,
): { labels: Int32Array; distances: Float64Array; second: Int32Array; secondDistances: Float64Array } {
  checkCentroidDimensions(state, X.cols);
  return assignmentOf(nearestCentroids(X, fromRows(state.centroids)));
}

/** Rejects data whose column count is not the centroids' dimension. */
export function checkCentroidDimensions(state: ClusterState, cols: number): void {
  const d = state.centroids[0]?.length ?? 0;
  if (cols !== d) throw new InputError(`cluster state has ${d}-dimensional centroids, data has ${cols} columns`);
}

/** assignClusters' result from nearestCentroids' (squared distances turned into distances). */
export function assignmentOf(near: Nearest): { labels: Int32Array; distances: Float64Array; second: Int32Array; secondDistances: Float64Array } {
  return {
    labels: near.labels,
    distances: near.sqDistances.map(Math.sqrt),
    second: near.second,
    secondDistances: near.secondSqDistances.map(Math.sqrt),
  };
}

/**
 * How clear-cut each assignment is, from assignClusters' distances (each shape (n)):
 * margin = (d2 - d1) / d2 in [0, 1] (0: as near the second-best centroid as the nearest; 1: on
 * the centroid, or k = 1), ambiguous = margin < ambiguousMargin, and novel = d1 beyond the
 * training `novelty.distance`. Each output has shape (n); the flags are 0/1.
 */
export function assignmentFlags(
  state: ClusterState,
  assignment: { distances: Float64Array; secondDistances: Float64Array },
  ambiguousMargin: number,
): { margin: Float64Array; ambiguous: Uint8Array; novel: Uint8Array } {
  const n = assignment.distances.length;
  const margin = new Float64Array(n);
  const ambiguous = new Uint8Array(n);
  const novel = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const d1 = assignment.distances[i]!;
    const d2 = assignment.secondDistances[i]!;
    // d2 = Infinity (k = 1) gives 1; d2 = 0 means two coincident centroids at the row: no margin at all.
    margin[i] = d2 === Infinity ? 1 : d2 > 0 ? (d2 - d1) / d2 : 0;
    ambiguous[i] = margin[i]! < ambiguousMargin ? 1 : 0;
    novel[i] = d1 > state.novelty.distance ? 1 : 0;
  }
  return { margin, ambiguous, novel };
}

/** Centroids (k, d) reordered by descending size, ties by first coordinate, then the next ones. */
function canonicalOrder(centroids: Matrix, sizes: Int32Array): Matrix {
  const { rows: k, cols: d } = centroids;
  const c = centroids.data;
  const order = Array.from({ length: k }, (_, i) => i).sort((a, b) => {
    if (sizes[a] !== sizes[b]) return sizes[b]! - sizes[a]!;
    for (let j = 0; j < d; j++) {
      const diff = c[a * d + j]! - c[b * d + j]!;
      if (diff !== 0) return diff;
    }
    return a - b;
  });
  return takeRows(centroids, order);
}

function validateParams(params: ClusterParams): void {
  const problems: string[] = [];
  const posInt = (v: number, name: string, min: number): void => {
    if (!(Number.isInteger(v) && v >= min)) problems.push(`${name} must be an integer >= ${min}, got ${v}`);
  };
  posInt(params.kMin, 'kMin', 2);
  posInt(params.kMax, 'kMax', 2);
  if (params.kMax < params.kMin) problems.push(`kMax (${params.kMax}) must be >= kMin (${params.kMin})`);
  if (params.k !== null) posInt(params.k, 'k', 1);
  posInt(params.restarts, 'restarts', 1);
  posInt(params.maxRestarts, 'maxRestarts', 1);
  posInt(params.restartBudgetRows, 'restartBudgetRows', 0);
  // ml-kmeans reads maxIterations 0 as "no limit".
  posInt(params.maxIterations, 'maxIterations', 1);
  if (!(params.tolerance >= 0)) problems.push(`tolerance must be >= 0, got ${params.tolerance}`);
  posInt(params.selectionSample, 'selectionSample', 3);
  const inUnit = (v: number, name: string, lowOpen = false, highOpen = true): void => {
    if (!((lowOpen ? v > 0 : v >= 0) && (highOpen ? v < 1 : v <= 1))) problems.push(`${name} must be in ${lowOpen ? '(' : '['}0, 1${highOpen ? ')' : ']'}, got ${v}`);
  };
  inUnit(params.minSegmentShare, 'minSegmentShare');
  posInt(params.minSegmentSize, 'minSegmentSize', 1);
  posInt(params.structureShuffles, 'structureShuffles', 0);
  if (!(params.structureMargin >= 0)) problems.push(`structureMargin must be >= 0, got ${params.structureMargin}`);
  // Mean ARI can dip below 0 (worse than chance), so any threshold up to 1 is meaningful.
  if (!(params.minStability >= -1 && params.minStability <= 1)) problems.push(`minStability must be in [-1, 1], got ${params.minStability}`);
  if (!(params.silhouetteTolerance >= 0)) problems.push(`silhouetteTolerance must be >= 0, got ${params.silhouetteTolerance}`);
  posInt(params.stabilityResamples, 'stabilityResamples', 1);
  posInt(params.stabilityRestarts, 'stabilityRestarts', 1);
  inUnit(params.unstableJaccard, 'unstableJaccard', false, false);
  inUnit(params.ambiguousMargin, 'ambiguousMargin', false, false);
  inUnit(params.noveltyQuantile, 'noveltyQuantile', false, false);
  if (problems.length > 0) throw new InputError('invalid cluster parameters', problems);
}
