/**
 * What a schema cannot say about a bundle's states: that the dimensions inside a file and across
 * files agree (p features everywhere, k segments everywhere, the MLP's weights fit its layers).
 * A state that passes its schema but fails here would score garbage or crash mid-run, so
 * loadModel refuses it up front. Each check returns problems as "path: message".
 */
import { nextModuleProblems } from './schema-nextmodule.ts';
import { expectedWeightSpecs } from '../05-classify/network.ts';
import type { ClassifierState } from '../05-classify/mlp.ts';
import { CATEGORICAL, NUMERIC, type ColdStartState } from '../05-classify/coldstart.ts';
import type { ExplainState } from '../08-explain/explain.ts';
import type { TreeNode } from '../08-explain/tree.ts';
import type { BundleStates } from './types.ts';
import { churnProblems } from './schema-churn.ts';

/** One problem of one file. */
export interface StateProblem {
  file: keyof BundleStates;
  problem: string;
}

const lengthIs = (problems: string[], what: string, xs: readonly unknown[], n: number): void => {
  if (xs.length !== n) problems.push(`${what}: has ${xs.length} entries, expected ${n}`);
};

/** preprocess.json: every per-feature array has p entries, the PCA basis is (nComponents, p). */
export function preprocessProblems(s: BundleStates['preprocess.json']): string[] {
  const problems: string[] = [];
  const p = s.featureNames.length;
  for (const key of ['medians', 'logTransform', 'clipLow', 'clipHigh', 'means', 'stds'] as const) lengthIs(problems, key, s[key], p);
  const nc = s.pca.nComponents;
  if (nc > p) problems.push(`pca.nComponents: ${nc} components of ${p} features`);
  lengthIs(problems, 'pca.components', s.pca.components, nc);
  s.pca.components.forEach((row, c) => lengthIs(problems, `pca.components[${c}]`, row, p));
  lengthIs(problems, 'pca.eigenvalues', s.pca.eigenvalues, nc);
  lengthIs(problems, 'pca.explainedVarianceRatio', s.pca.explainedVarianceRatio, nc);
  return problems;
}

/** cluster.json: k centroids of one dimension, k sizes, k stability entries. */
export function clusterProblems(s: BundleStates['cluster.json']): string[] {
  const problems: string[] = [];
  lengthIs(problems, 'centroids', s.centroids, s.k);
  const d = s.centroids[0]?.length ?? 0;
  s.centroids.forEach((row, c) => lengthIs(problems, `centroids[${c}]`, row, d));
  lengthIs(problems, 'sizes', s.sizes, s.k);
  lengthIs(problems, 'stability.jaccard', s.stability.jaccard, s.k);
  lengthIs(problems, 'stability.unstable', s.stability.unstable, s.k);
  return problems;
}

/** A classifier's weights fit its layers: tensor names and shapes, and the bytes of float32 data they need; a classes x classes confusion. */
export function classifierProblems(s: ClassifierState, at = ''): string[] {
  const problems: string[] = [];
  const expected = expectedWeightSpecs(s.inputDim, s.params.hidden, s.classes);
  if (s.weightSpecs.length !== expected.length) problems.push(`${at}weightSpecs: ${s.weightSpecs.length} weight tensors, expected ${expected.length}`);
  else {
    expected.forEach((want, i) => {
      const got = s.weightSpecs[i] as { name: string; shape: number[] };
      if (got.name !== want.name || got.shape.join() !== want.shape.join()) problems.push(`${at}weightSpecs[${i}]: is ${got.name} [${got.shape.join(', ')}], expected ${want.name} float32 [${want.shape.join(', ')}]`);
    });
    const wantBytes = 4 * expected.reduce((sum, w) => sum + w.shape.reduce((a, b) => a * b, 1), 0);
    const gotBytes = Buffer.from(s.weightDataBase64, 'base64').byteLength;
    if (gotBytes !== wantBytes) problems.push(`${at}weightDataBase64: holds ${gotBytes} bytes, the weight specs need ${wantBytes} (truncated or corrupt)`);
  }
  lengthIs(problems, `${at}metrics.confusion`, s.metrics.confusion, s.classes);
  s.metrics.confusion.forEach((row, c) => lengthIs(problems, `${at}metrics.confusion[${c}]`, row, s.classes));
  return problems;
}

/** coldstart.json: the encoding's inputs in order, with their "other" and "unknown" levels, make as many columns as the MLP takes. */
export function coldStartProblems(s: ColdStartState): string[] {
  const problems: string[] = [];
  if (s.encoding.numeric.map((e) => e.name).join() !== NUMERIC.join()) problems.push(`encoding.numeric: must encode ${NUMERIC.join(', ')} in that order`);
  if (s.encoding.categorical.map((e) => e.name).join() !== CATEGORICAL.join()) problems.push(`encoding.categorical: must encode ${CATEGORICAL.join(', ')} in that order`);
  s.encoding.categorical.forEach((e, i) => {
    if (!e.levels.includes('other') || !e.levels.includes('unknown')) problems.push(`encoding.categorical[${i}].levels: needs "other" and "unknown"`);
  });
  const width = 2 * s.encoding.numeric.length + s.encoding.categorical.reduce((sum, e) => sum + e.levels.length, 0);
  if (s.encoding.columns.length !== width) problems.push(`encoding.columns: lists ${s.encoding.columns.length} columns, the encoding makes ${width}`);
  if (s.classifier.inputDim !== width) problems.push(`classifier.inputDim: the classifier takes ${s.classifier.inputDim} inputs, the encoding makes ${width}`);
  problems.push(...classifierProblems(s.classifier, 'classifier.'));
  lengthIs(problems, 'activity.activeSegments', s.activity.activeSegments, s.classifier.classes);
  return problems;
}

/** explain.json: splits on the state's own features, leaves in [0, k). */
export function explainProblems(s: ExplainState): string[] {
  const problems: string[] = [];
  const known = new Set(s.featureNames);
  const walk = (node: TreeNode, where: string): void => {
    if (node.kind === 'leaf') {
      if (node.segment >= s.k) problems.push(`${where}.segment: ${node.segment} is outside [0, ${s.k})`);
      return;
    }
    if (!known.has(node.feature)) problems.push(`${where}.feature: splits on unknown feature ${JSON.stringify(node.feature)}`);
    walk(node.left, `${where}.left`);
    walk(node.right, `${where}.right`);
  };
  walk(s.tree, 'tree');
  return problems;
}

/** The problems of one state file on its own (none for files whose schema says all). */
export function fileProblems<N extends keyof BundleStates>(name: N, state: BundleStates[N]): string[] {
  const states = { [name]: state } as Partial<BundleStates>;
  if (states['preprocess.json']) return preprocessProblems(states['preprocess.json']);
  if (states['cluster.json']) return clusterProblems(states['cluster.json']);
  if (states['classifier.json']) return classifierProblems(states['classifier.json']);
  if (states['coldstart.json']) return coldStartProblems(states['coldstart.json']);
  if (states['explain.json']) return explainProblems(states['explain.json']);
  if (states['churn.json']) return churnProblems(states['churn.json']);
  return [];
}

/** The files against each other: p features, k segments and the PCA dimension agree everywhere. */
export function crossProblems(states: BundleStates, featureNames: readonly string[]): StateProblem[] {
  const out: StateProblem[] = [];
  const add = (file: keyof BundleStates, problem: string) => out.push({ file, problem });
  const pre = states['preprocess.json'];
  const k = states['cluster.json'].k;
  if (pre.featureNames.join() !== featureNames.join()) add('preprocess.json', `featureNames: differ from the manifest's features.names`);
  const d = states['cluster.json'].centroids[0]?.length ?? 0;
  if (d !== pre.pca.nComponents) add('cluster.json', `centroids: have ${d} dimensions, preprocess.json keeps ${pre.pca.nComponents} principal components`);
  const classifier = states['classifier.json'];
  if (classifier.inputDim !== pre.featureNames.length) add('classifier.json', `inputDim: ${classifier.inputDim}, preprocess.json has ${pre.featureNames.length} features`);
  const perSegment: [keyof BundleStates, string, number][] = [
    ['classifier.json', 'classes', classifier.classes],
    ['coldstart.json', 'classifier.classes', states['coldstart.json'].classifier.classes],
    ['segments.json', 'cards', states['segments.json'].cards.length],
    ['explain.json', 'k', states['explain.json'].k],
    ['reference.json', 'segmentShares', states['reference.json'].segmentShares.length],
  ];
  for (const [file, what, n] of perSegment) if (n !== k) add(file, `${what}: ${n} segments, cluster.json has k = ${k}`);
  if (states['nextmodule.json']) for (const problem of nextModuleProblems(states['nextmodule.json'], k)) add('nextmodule.json', problem);
  return out;
}
