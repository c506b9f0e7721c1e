/**
 * The comparison of a retrained candidate with production on the same current customers: drift
 * of every input against production's reference bins, segment shares before and after,
 * agreement (ARI), stable ids (matching.ts), the migration matrix and the promotion gates. Pure:
 * both models' assignments of today's customers come in as arrays, the result is plain data,
 * stored in the candidate's bundle as `comparison.json`.
 */
import { adjustedRandIndex } from '../04-cluster/metrics.ts';
import type { Bilingual } from '../07-map/playbooks.ts';
import { evaluateGates, type GateResult } from './gates.ts';
import { carryOverIds, type IdCarryOver, type KnownSegment, type SegmentIdentity } from './matching.ts';
import { markovMixForecast, type MixForecast } from './forecast-mix.ts';
import { migrationMatrix, type MigrationMatrix } from './migration.ts';
import type { DriftMonitorParams, RetrainParams } from './params.ts';
import { psi, type DriftReference, type InputDrift } from './psi.ts';
import { measureDrift, type DriftInput } from './reference.ts';

/** Production as the comparison reads it. */
export interface ProductionModel {
  version: string;
  reference: DriftReference;
  /** Id and name of each production segment, by production index. */
  segments: KnownSegment[];
  /** The next segment id never used in production's lineage. */
  nextId: number;
  /** Production's training customers and their segment ids when it was trained. */
  trainingAssignments: ReadonlyMap<string, number>;
  heldOutAccuracy: number;
  /** Production's segment index of each current customer (its own preprocessing and centroids), shape (n). */
  labelsNow: Int32Array;
}

/** The candidate as the comparison reads it; arrays have one entry per current customer. */
export interface CandidateModel {
  customerIds: readonly string[];
  /** Segment index per customer, in [0, names.length). */
  labels: Int32Array;
  /** The candidate's own segment names, by index. */
  names: Bilingual[];
  /** Today's inputs, for drift. */
  inputs: DriftInput;
  silhouette: number | null;
  stability: number | null;
  heldOutAccuracy: number;
}

/** Everything `comparison.json` holds (documented in docs/retraining.md). */
export interface Comparison {
  kind: 'finseg.comparison';
  version: 1;
  /** The production version compared with; null for the first model of a registry. */
  production: string | null;
  customers: { current: number; productionTraining: number | null };
  drift: {
    /** PSI at or above which an input counts as drifted. */
    threshold: number;
    detected: boolean;
    /** Every input, largest PSI first. */
    inputs: InputDrift[];
    /** Names of the drifted inputs. */
    drifted: string[];
    /** PSI of production's segment shares today against its training shares. */
    segmentSharePsi: number | null;
  } | null;
  /** Per segment id: production's training share, production's share of today's customers, the candidate's share. */
  shares: { id: number; name: Bilingual; before: number | null; productionNow: number | null; after: number | null }[];
  agreement: { ari: number; customers: number } | null;
  /** How each candidate segment got its id and name, by candidate index. */
  segments: SegmentIdentity[];
  vanished: IdCarryOver['vanished'];
  nextSegmentId: number;
  migration: MigrationMatrix | null;
  metrics: {
    candidate: { silhouette: number | null; stability: number | null; heldOutAccuracy: number };
    production: { heldOutAccuracy: number } | null;
  };
  gates: GateResult[];
  /** The gates' decision; whether the registry's production pointer moved is recorded by the registry. */
  decision: 'promote' | 'hold';
  reasons: string[];
  /** The segment mix one retrain interval ahead from the migration matrix (forecast-mix.ts); null for a first model. */
  mixForecast: MixForecast | null;
}

/** The kind of comparison.json. */
export const COMPARISON_KIND = 'finseg.comparison';

function shares(labels: Int32Array, k: number): number[] {
  const counts = new Float64Array(k);
  for (const l of labels) counts[l]!++;
  return Array.from(counts, (c) => c / (labels.length || 1));
}

/**
 * Compares the candidate with production on today's customers (production null: the first
 * model, which only the absolute gates judge and whose ids are its indices).
 */
export function compareWithProduction(production: ProductionModel | null, candidate: CandidateModel, params: { retrain: RetrainParams; drift: DriftMonitorParams }): Comparison {
  const candidateShares = shares(candidate.labels, candidate.names.length);
  const metrics = { candidate: { silhouette: candidate.silhouette, stability: candidate.stability, heldOutAccuracy: candidate.heldOutAccuracy }, production: production ? { heldOutAccuracy: production.heldOutAccuracy } : null };
  if (production === null) return firstModel(candidate, candidateShares, metrics, params.retrain);

  const kp = production.segments.length;
  const inputs = measureDrift(production.reference, candidate.inputs).sort((a, b) => b.psi - a.psi || a.name.localeCompare(b.name));
  const threshold = params.drift.psiThreshold;
  const productionNow = shares(production.labelsNow, kp);
  const segmentSharePsi = psi(production.reference.segmentShares, productionNow);
  const drifted = inputs.filter((d) => d.psi >= threshold).map((d) => d.name);
  const detected = drifted.length > 0 || segmentSharePsi >= threshold;

  const carry = carryOverIds(production.labelsNow, production.segments, candidate.labels, candidate.names, production.nextId, params.retrain.matching);
  const idOf = carry.segments.map((s) => s.id);
  const ari = adjustedRandIndex(production.labelsNow, candidate.labels);
  const migration = migrationMatrix(
    production.trainingAssignments,
    candidate.customerIds,
    Int32Array.from(candidate.labels, (l) => idOf[l]!),
    production.segments.map((s) => s.id),
    idOf,
  );

  const decision = evaluateGates(
    {
      silhouette: candidate.silhouette,
      stability: candidate.stability,
      candidateAccuracy: candidate.heldOutAccuracy,
      productionAccuracy: production.heldOutAccuracy,
      agreement: ari,
      driftDetected: detected,
      driftedInputs: segmentSharePsi >= threshold ? [...drifted, 'segment shares'] : drifted,
    },
    params.retrain.gates,
  );
  return {
    kind: COMPARISON_KIND,
    version: 1,
    production: production.version,
    customers: { current: candidate.customerIds.length, productionTraining: production.trainingAssignments.size },
    drift: { threshold, detected, inputs, drifted, segmentSharePsi },
    shares: shareRows(production, productionNow, carry.segments, candidateShares),
    agreement: { ari, customers: candidate.customerIds.length },
    segments: carry.segments,
    vanished: carry.vanished,
    nextSegmentId: carry.nextId,
    migration,
    metrics,
    gates: decision.gates,
    decision: decision.promote ? 'promote' : 'hold',
    reasons: decision.reasons,
    mixForecast: productionMixForecast(production, candidate.customerIds, productionNow),
  };
}

/**
 * The Markov forecast in production's segmentation: P from the movement of customers between
 * production's training assignments and production's assignment of them today (one model on both
 * sides, so P is customer movement only; the candidate's migration matrix also holds the change of
 * model, which a second step would apply again), `now` production's share of today's customers.
 */
function productionMixForecast(production: ProductionModel, customerIds: readonly string[], productionNow: number[]): MixForecast {
  const ids = production.segments.map((s) => s.id);
  const movement = migrationMatrix(production.trainingAssignments, customerIds, Int32Array.from(production.labelsNow, (l) => ids[l]!), ids, ids);
  return markovMixForecast(movement, new Map(ids.map((id, p) => [id, productionNow[p]!])));
}

/** The first model of a registry: judged by the absolute gates alone, its ids its indices. */
function firstModel(candidate: CandidateModel, candidateShares: number[], metrics: Comparison['metrics'], params: RetrainParams): Comparison {
  const decision = evaluateGates(
    { silhouette: candidate.silhouette, stability: candidate.stability, candidateAccuracy: candidate.heldOutAccuracy, productionAccuracy: null, agreement: null, driftDetected: false, driftedInputs: [] },
    params.gates,
  );
  const segments: SegmentIdentity[] = candidate.names.map((name, c) => ({ candidateIndex: c, id: c, name, status: 'new', matchedId: null, overlap: 0, jaccard: 0, ownName: name }));
  return {
    kind: COMPARISON_KIND,
    version: 1,
    production: null,
    customers: { current: candidate.customerIds.length, productionTraining: null },
    drift: null,
    shares: segments.map((s) => ({ id: s.id, name: s.name, before: null, productionNow: null, after: candidateShares[s.candidateIndex]! })),
    agreement: null,
    segments,
    vanished: [],
    nextSegmentId: candidate.names.length,
    migration: null,
    metrics,
    gates: decision.gates,
    decision: decision.promote ? 'promote' : 'hold',
    reasons: decision.reasons,
    mixForecast: null,
  };
}

/** Per segment id, in id order: production's training share and share today, the candidate's share (under the carried-over ids and names). */
function shareRows(production: ProductionModel, productionNow: number[], carried: readonly SegmentIdentity[], candidateShares: number[]): Comparison['shares'] {
  const byId = new Map<number, Comparison['shares'][number]>();
  production.segments.forEach((s, p) => byId.set(s.id, { id: s.id, name: s.name, before: production.reference.segmentShares[p] ?? null, productionNow: productionNow[p]!, after: null }));
  for (const s of carried) {
    const row = byId.get(s.id) ?? { id: s.id, name: s.name, before: null, productionNow: null, after: null };
    row.name = s.name;
    row.after = candidateShares[s.candidateIndex]!;
    byId.set(s.id, row);
  }
  return [...byId.values()].sort((a, b) => a.id - b.id);
}
