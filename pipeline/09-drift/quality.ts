/**
 * The candidate's own quality figures the gates read: silhouette and bootstrap stability. The
 * cluster stage records both when it selects k (and stability for a fixed k too); when a figure
 * is missing (a fixed k has no selection table) it is measured here the same way, on a seeded
 * sample, so the gates always judge a number.
 */
import { nearestCentroids } from '../04-cluster/kmeans.ts';
import { silhouetteScore } from '../04-cluster/metrics.ts';
import { bootstrapLabelings, meanAri } from '../04-cluster/stability.ts';
import { fromRows, takeRows, type Matrix } from '../core/matrix.ts';
import { deriveSeed, makeRng, sampleIndices } from '../core/random.ts';
import type { StabilityParams } from './params.ts';

/** The parts of a cluster state read here (older states lack `stability`). */
export interface ClusterView {
  k: number;
  /** Shape (k, d). */
  centroids: number[][];
  selection: { k: number; silhouette: number | null }[];
  stability?: { meanAri?: number | null };
  maxIterations?: number;
}

const finiteOrNull = (x: number | null | undefined): number | null => (typeof x === 'number' && Number.isFinite(x) ? x : null);

/** Silhouette and stability of a fitted clustering of `reduced` (n, d); measured on a seeded sample when not recorded. */
export function candidateQuality(reduced: Matrix, cluster: ClusterView, params: StabilityParams, seed: number): { silhouette: number | null; stability: number | null } {
  let silhouette = finiteOrNull(cluster.selection.find((r) => r.k === cluster.k)?.silhouette);
  let stability = finiteOrNull(cluster.stability?.meanAri);
  if (silhouette !== null && stability !== null) return { silhouette, stability };
  const sample = takeRows(reduced, sampleIndices(reduced.rows, params.sample, makeRng(deriveSeed(seed, 'quality-sample'))));
  const labels = nearestCentroids(sample, fromRows(cluster.centroids)).labels;
  if (silhouette === null) silhouette = finiteOrNull(silhouetteScore(sample, labels, cluster.k));
  if (stability === null) {
    const refits = bootstrapLabelings(sample, cluster.k, params.resamples, params.restarts, deriveSeed(seed, 'quality-bootstrap'), { maxIterations: 300, tolerance: 1e-6 });
    stability = finiteOrNull(meanAri(labels, refits));
  }
  return { silhouette, stability };
}
