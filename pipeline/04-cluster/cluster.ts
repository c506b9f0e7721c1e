/**
 * Cluster stage: choose k on a seeded sample, fit k-means on all rows, and store the centroids in
 * a canonical order so segment ids are reproducible. `assignClusters` is what scoring runs.
 */
import { InputError } from '../core/errors.ts';
import { fromRows, takeRows, toRows, type Matrix } from '../core/matrix.ts';
import { deriveSeed, makeRng, sampleIndices } from '../core/random.ts';
import { clusterSizes, fitKMeansBest, nearestCentroids, type KMeansOptions } from './kmeans.ts';
import { calinskiHarabasz, daviesBouldin, silhouetteScores } from './metrics.ts';

export interface ClusterParams {
  /** Smallest k tried in selection. Default 2. */
  kMin: number;
  /** Largest k tried (capped at the sample size - 1). Default 10. */
  kMax: number;
  /** A fixed k skips selection. Default null (select). */
  k: number | null;
  /** Seeded k-means++ starts per fit; the lowest inertia wins. Default 8. */
  restarts: number;
  /** ml-kmeans iteration cap per start. Default 300. */
  maxIterations: number;
  /** Convergence: no centroid moves more than this (squared Euclidean). Default 1e-6. */
  tolerance: number;
  /** Rows in the seeded sample k selection runs on (silhouette is O(n^2)). Default 4000. */
  selectionSample: number;
  /** A k is eligible only if its smallest segment holds at least this share of the sample. Default 0.03. */
  minSegmentShare: number;
}

export const defaultClusterParams: ClusterParams = {
  kMin: 2,
  kMax: 10,
  k: null,
  restarts: 8,
  maxIterations: 300,
  tolerance: 1e-6,
  selectionSample: 4000,
  minSegmentShare: 0.03,
};

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
  /** minShare >= minSegmentShare (and the metrics are defined). */
  eligible: boolean;
}

/** Learned clustering. */
export interface ClusterState {
  kind: 'finseg.cluster';
  version: 1;
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
  /** The run seed every random choice here was derived from. */
  seed: number;
  /** ml-kmeans iterations of the kept start. */
  iterations: number;
}

export const CLUSTER_KIND = 'finseg.cluster';
export const CLUSTER_VERSION = 1;

/**
 * Chooses k (unless params.k) on a seeded sample: for each k in kMin..kMax, best-of-restarts
 * k-means++ on the sample, scored by silhouette, CH, DB, inertia and smallest share; picks the
 * eligible k (min share >= minSegmentShare) with the highest silhouette (ties: smaller k). Then fits
 * k-means on ALL rows with `restarts` seeded starts, keeps the lowest inertia, and orders the
 * centroids canonically. X: (n, d).
 */
export function fitClusters(X: Matrix, params: ClusterParams, seed: number): ClusterState {
  validateParams(params);
  const n = X.rows;
  const options: KMeansOptions = { maxIterations: params.maxIterations, tolerance: params.tolerance };

  let k: number;
  let selection: KSelectionRow[] = [];
  let selectionRule: string;
  if (params.k !== null) {
    if (params.k > n) throw new InputError(`cannot make ${params.k} segments from ${n} customers`);
    k = params.k;
    selectionRule = `fixed k = ${k} (cluster.k)`;
  } else {
    ({ k, selection, selectionRule } = selectK(X, params, seed, options));
  }

  const best = fitKMeansBest(X, k, params.restarts, seed, options, toRows(X));
  const centroids = canonicalOrder(best.centroids, best.sizes);
  // Relabel against the reordered centroids so an exact tie resolves as assignClusters will.
  const { labels, sqDistances } = nearestCentroids(X, centroids);
  let inertia = 0;
  for (let i = 0; i < n; i++) inertia += sqDistances[i]!;
  return {
    kind: CLUSTER_KIND,
    version: CLUSTER_VERSION,
    k,
    // `+ 0` drops -0, which JSON would turn into 0 anyway.
    centroids: Array.from({ length: k }, (_, c) => Array.from(centroids.data.subarray(c * X.cols, (c + 1) * X.cols), (v) => v + 0)),
    inertia,
    sizes: Array.from(clusterSizes(labels, k)),
    selection,
    selectionRule,
    seed,
    iterations: best.iterations,
  };
}

/**
 * Nearest centroid per row of X (n, d) (ties -> lowest id) and the Euclidean distance to it, plus
 * the second-nearest id and distance (-1 and Infinity when k = 1); every array has shape (n).
 */
export function assignClusters(
  state: ClusterState,
  X: Matrix,
): { labels: Int32Array; distances: Float64Array; second: Int32Array; secondDistances: Float64Array } {
  const d = state.centroids[0]?.length ?? 0;
  if (X.cols !== d) throw new InputError(`cluster state has ${d}-dimensional centroids, data has ${X.cols} columns`);
  const near = nearestCentroids(X, fromRows(state.centroids));
  return {
    labels: near.labels,
    distances: near.sqDistances.map(Math.sqrt),
    second: near.second,
    secondDistances: near.secondSqDistances.map(Math.sqrt),
  };
}

/** Validates parsed JSON as a ClusterState; rejects another kind or version with a clear message. */
export function loadClusterState(json: unknown): ClusterState {
  const obj = record(json, 'cluster state');
  if (obj.kind !== CLUSTER_KIND) {
    throw new InputError(`expected a "${CLUSTER_KIND}" state, got kind ${JSON.stringify(obj.kind ?? null)}`);
  }
  if (obj.version !== CLUSTER_VERSION) {
    throw new InputError(
      `unsupported ${CLUSTER_KIND} version ${JSON.stringify(obj.version ?? null)}; this finseg reads version ${CLUSTER_VERSION}`,
    );
  }
  const k = integer(obj.k, 'k', 1);
  const centroidRows = array(obj.centroids, 'centroids', k);
  const d = Array.isArray(centroidRows[0]) ? centroidRows[0].length : 0;
  const centroids = centroidRows.map((row, c) => array(row, `centroids[${c}]`, d).map((v, j) => finite(v, `centroids[${c}][${j}]`)));
  const selection = array(obj.selection, 'selection').map((row, i): KSelectionRow => {
    const r = record(row, `selection[${i}]`);
    if (typeof r.eligible !== 'boolean') throw new InputError(`cluster state: selection[${i}].eligible must be true or false`);
    return {
      k: integer(r.k, `selection[${i}].k`, 1),
      // Metrics are NaN (stored as null by JSON) when undefined for a candidate.
      silhouette: numberOrNaN(r.silhouette, `selection[${i}].silhouette`),
      calinskiHarabasz: numberOrNaN(r.calinskiHarabasz, `selection[${i}].calinskiHarabasz`),
      daviesBouldin: numberOrNaN(r.daviesBouldin, `selection[${i}].daviesBouldin`),
      inertia: numberOrNaN(r.inertia, `selection[${i}].inertia`),
      minShare: finite(r.minShare, `selection[${i}].minShare`),
      eligible: r.eligible,
    };
  });
  if (typeof obj.selectionRule !== 'string') throw new InputError('cluster state: selectionRule must be a string');
  return {
    kind: CLUSTER_KIND,
    version: CLUSTER_VERSION,
    k,
    centroids,
    inertia: finite(obj.inertia, 'inertia'),
    sizes: array(obj.sizes, 'sizes', k).map((v, c) => integer(v, `sizes[${c}]`, 0)),
    selection,
    selectionRule: obj.selectionRule,
    seed: integer(obj.seed, 'seed', 0),
    iterations: integer(obj.iterations, 'iterations', 0),
  };
}

/** Scores every candidate k on one seeded sample and applies the selection rule. */
function selectK(X: Matrix, params: ClusterParams, seed: number, options: KMeansOptions): { k: number; selection: KSelectionRow[]; selectionRule: string } {
  const sampleIdx = sampleIndices(X.rows, params.selectionSample, makeRng(deriveSeed(seed, 'selection-sample')));
  const sample = takeRows(X, sampleIdx);
  const rows = toRows(sample);
  const kMax = Math.min(params.kMax, sample.rows - 1);
  if (kMax < params.kMin) {
    throw new InputError(`cannot choose k in ${params.kMin}..${params.kMax} from ${sample.rows} customers (need at least ${params.kMin + 1})`);
  }
  const ks: number[] = [];
  for (let k = params.kMin; k <= kMax; k++) ks.push(k);
  const fits = ks.map((k) => fitKMeansBest(sample, k, params.restarts, deriveSeed(seed, `selection-k${k}`), options, rows));
  // One pass over the sample's pairwise distances scores every candidate (the O(n^2) part).
  const silhouettes = silhouetteScores(sample, fits.map((f) => f.labels), ks);
  const selection = fits.map((fit, i): KSelectionRow => {
    const k = ks[i]!;
    const minShare = Math.min(...fit.sizes) / sample.rows;
    const silhouette = silhouettes[i]!;
    return {
      k,
      silhouette,
      calinskiHarabasz: calinskiHarabasz(sample, fit.labels, k),
      daviesBouldin: daviesBouldin(sample, fit.labels, k),
      inertia: fit.inertia,
      minShare,
      eligible: minShare >= params.minSegmentShare && !Number.isNaN(silhouette),
    };
  });
  const where = `k in ${params.kMin}..${kMax} on a ${sample.rows}-row sample`;
  const bySilhouette = (a: KSelectionRow, b: KSelectionRow): number => b.silhouette - a.silhouette || a.k - b.k;
  const eligible = selection.filter((r) => r.eligible).sort(bySilhouette);
  if (eligible.length > 0) {
    return {
      k: eligible[0]!.k,
      selection,
      selectionRule: `highest silhouette among ${where} whose smallest segment holds >= ${params.minSegmentShare} of it`,
    };
  }
  // No k keeps every segment large enough: take the one whose smallest segment is largest.
  const fallback = [...selection].sort((a, b) => b.minShare - a.minShare || a.k - b.k)[0]!;
  return {
    k: fallback.k,
    selection,
    selectionRule: `no ${where} had every segment >= ${params.minSegmentShare}; fell back to the largest smallest-segment share`,
  };
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
  // ml-kmeans reads maxIterations 0 as "no limit".
  posInt(params.maxIterations, 'maxIterations', 1);
  if (!(params.tolerance >= 0)) problems.push(`tolerance must be >= 0, got ${params.tolerance}`);
  posInt(params.selectionSample, 'selectionSample', 3);
  if (!(params.minSegmentShare >= 0 && params.minSegmentShare < 1)) {
    problems.push(`minSegmentShare must be in [0, 1), got ${params.minSegmentShare}`);
  }
  if (problems.length > 0) throw new InputError('invalid cluster parameters', problems);
}

// Small validators for loading state from JSON.

function record(x: unknown, what: string): Record<string, unknown> {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) throw new InputError(`${what} must be a JSON object`);
  return x as Record<string, unknown>;
}

function array(x: unknown, what: string, length?: number): unknown[] {
  if (!Array.isArray(x)) throw new InputError(`cluster state: ${what} must be an array`);
  if (length !== undefined && x.length !== length) throw new InputError(`cluster state: ${what} has ${x.length} entries, expected ${length}`);
  return x;
}

function finite(x: unknown, what: string): number {
  if (typeof x !== 'number' || !Number.isFinite(x)) throw new InputError(`cluster state: ${what} must be a finite number`);
  return x;
}

function numberOrNaN(x: unknown, what: string): number {
  return x === null ? NaN : finite(x, what);
}

function integer(x: unknown, what: string, min: number): number {
  if (typeof x !== 'number' || !Number.isInteger(x) || x < min) {
    throw new InputError(`cluster state: ${what} must be an integer >= ${min}, got ${JSON.stringify(x ?? null)}`);
  }
  return x;
}
