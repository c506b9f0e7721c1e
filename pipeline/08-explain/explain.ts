/**
 * Explain stage: a threshold tree over the raw catalog features that reproduces the k-means
 * segments (tree.ts), its rules as text and DuckDB SQL (rules.ts), and how faithful it is. What
 * sets each segment apart feature by feature (standardised differences) is the map stage's
 * `distinguishing` list on every segment card; this stage adds the rules that say who is in it.
 */
import { InputError } from '../core/errors.ts';
import { takeRows, type Matrix } from '../core/matrix.ts';
import { deriveSeed, makeRng, sampleIndices } from '../core/random.ts';
import { leafRules, segmentSql, treeSql, type LeafRule } from './rules.ts';
import { applyThresholdTree, fitThresholdTree, treeLeaves, type TreeNode } from './tree.ts';
import type { ExplainParams } from './params.ts';

/** A segment as the tree sees it. */
export interface SegmentExplanation {
  id: number;
  /** One readable rule per leaf of the segment (usually one). */
  rules: string[];
  /** DuckDB predicate over the catalog feature columns: true exactly for the customers the tree puts in this segment. */
  sql: string;
  /** Share of the segment's training customers the rules capture; NaN (null in JSON) for an empty segment. */
  recall: number;
  /** Share of the customers the rules capture that k-means put in the segment; NaN when the rules capture nobody. */
  precision: number;
}

/** Learned explanation, stored in the bundle as explain.json. */
export interface ExplainState {
  kind: 'finseg.explain';
  version: 1;
  method: string;
  params: ExplainParams;
  /** Features the tree may split on, in the model's order, shape (p). */
  featureNames: string[];
  k: number;
  tree: TreeNode;
  leaves: number;
  /** Share of all training customers the tree puts in their k-means segment. */
  fidelity: number;
  /** The same for IMM's tree before it grew beyond one leaf per segment. */
  immFidelity: number;
  /** One rule per leaf, left to right. */
  rules: LeafRule[];
  /** Per segment, shape (k). */
  segments: SegmentExplanation[];
  /** `CASE WHEN … THEN <segment> … END` over a table with the catalog feature columns. */
  sql: string;
  /** Customers the tree was fitted on (a seeded sample when there are more than params.fitSample). */
  fittedOn: number;
  /** Seed of that sample: deriveSeed(the stage seed, manifest `seeds.explain`, 'explain-sample'). */
  seed: number;
}

export const EXPLAIN_KIND = 'finseg.explain';
export const EXPLAIN_VERSION = 1;

/** Inputs of fitExplain; per-customer arrays have length n. */
export interface ExplainInput {
  /** Raw catalog features, shape (n, p); NaN = missing. */
  X: Matrix;
  featureNames: readonly string[];
  /** k-means segment per customer, shape (n). */
  labels: Int32Array;
  k: number;
  /** What the preprocess stage imputes a missing value with, shape (p): the tree reads missing values the same way. */
  missingAs: readonly number[];
}

/** Fits the threshold tree, measures its fidelity on every customer and writes its rules and SQL. */
export function fitExplain(input: ExplainInput, params: ExplainParams, seed: number): ExplainState {
  validateParams(params);
  const { X, featureNames, labels, k } = input;
  const n = X.rows;
  if (labels.length !== n) throw new Error(`fitExplain: ${labels.length} labels for ${n} customers`);
  const sampleSeed = deriveSeed(seed, 'explain-sample');
  const idx = sampleIndices(n, params.fitSample, makeRng(sampleSeed));
  const fitX = idx.length === n ? X : takeRows(X, idx);
  const fitLabels = idx.length === n ? labels : Int32Array.from(idx, (i) => labels[i]!);
  const { tree, immTree } = fitThresholdTree(
    { X: fitX, featureNames, labels: fitLabels, k, missingAs: input.missingAs },
    { maxLeaves: params.maxLeavesPerSegment * k, minLeafGain: params.minLeafGain },
  );
  const explained = applyThresholdTree(tree, X, featureNames);
  const rules = leafRules(tree);
  const segments = Array.from({ length: k }, (_, s): SegmentExplanation => {
    let inSegment = 0;
    let captured = 0;
    let both = 0;
    for (let i = 0; i < n; i++) {
      const a = labels[i] === s;
      const b = explained[i] === s;
      if (a) inSegment++;
      if (b) captured++;
      if (a && b) both++;
    }
    return {
      id: s,
      rules: rules.filter((r) => r.segment === s).map((r) => r.text),
      sql: segmentSql(rules, s),
      recall: inSegment === 0 ? Number.NaN : both / inSegment,
      precision: captured === 0 ? Number.NaN : both / captured,
    };
  });
  return {
    kind: EXPLAIN_KIND,
    version: EXPLAIN_VERSION,
    method: 'IMM threshold tree (one leaf per segment) grown ExKMC-style on the raw catalog features',
    params: { ...params },
    featureNames: [...featureNames],
    k,
    tree,
    leaves: treeLeaves(tree).length,
    fidelity: agreement(explained, labels),
    immFidelity: agreement(applyThresholdTree(immTree, X, featureNames), labels),
    rules,
    segments,
    sql: treeSql(tree),
    fittedOn: idx.length,
    seed: sampleSeed,
  };
}

/** The segment the tree gives each row of X (n, featureNames.length), shape (n). */
export function applyExplain(state: ExplainState, X: Matrix, featureNames: readonly string[]): Int32Array {
  return applyThresholdTree(state.tree, X, featureNames);
}

function agreement(a: Int32Array, b: Int32Array): number {
  let same = 0;
  for (let i = 0; i < a.length; i++) if (a[i] === b[i]) same++;
  return a.length === 0 ? Number.NaN : same / a.length;
}

function validateParams(params: ExplainParams): void {
  const problems: string[] = [];
  if (!(Number.isInteger(params.maxLeavesPerSegment) && params.maxLeavesPerSegment >= 1)) problems.push(`maxLeavesPerSegment must be an integer >= 1, got ${params.maxLeavesPerSegment}`);
  if (!(params.minLeafGain > 0 && params.minLeafGain <= 1)) problems.push(`minLeafGain must be in (0, 1], got ${params.minLeafGain}`);
  if (!(Number.isInteger(params.fitSample) && params.fitSample >= 2)) problems.push(`fitSample must be an integer >= 2, got ${params.fitSample}`);
  if (problems.length > 0) throw new InputError('invalid explain parameters', problems);
}

/** What a segment card says about its stability and its rules (train adds it from the cluster and explain states). */
export interface SegmentEvidence {
  /** Mean bootstrap Jaccard of the segment (NaN, null in JSON, when the stability sample had none of it) and whether it is below the flag threshold. */
  stability: { jaccard: number; unstable: boolean };
  /** The segment's rules, SQL predicate, recall and precision from the threshold tree. */
  explanation: Omit<SegmentExplanation, 'id'>;
}

/** Per segment, shape (k): stability from the cluster state's `stability`, rules from the explain state. */
export function segmentEvidence(stability: { jaccard: readonly number[]; unstable: readonly boolean[] }, explain: ExplainState): SegmentEvidence[] {
  return explain.segments.map(({ id, ...explanation }) => ({
    stability: { jaccard: stability.jaccard[id]!, unstable: stability.unstable[id]! },
    explanation,
  }));
}
