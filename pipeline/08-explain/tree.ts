/**
 * A threshold tree that explains a k-means segmentation in the original feature units, in the
 * style of IMM (Moshkovitz, Dasgupta, Rashtchian and Frost, "Explainable k-Means and k-Medians
 * Clustering", ICML 2020) expanded as in ExKMC (Frost, Moshkovitz and Rashtchian, 2020): every
 * split is `feature <= threshold`. IMM first gives every segment exactly one leaf (k leaves, one
 * conjunction of thresholds per segment); then, while a leaf can be split so that at least
 * `minLeafGain` of the customers move to a leaf of their own segment, the best such split is added,
 * up to `maxLeaves`. k-means runs in PCA space; the tree runs on the raw catalog features, so its
 * rules are in units a product manager knows (shares, counts, amounts).
 */
import type { Matrix } from '../core/matrix.ts';
import { countCustomers, expand } from './expand.ts';
import { grow } from './imm.ts';
import type { GrowContext, TreeNode } from './tree-nodes.ts';

export { readableThreshold, treeLeaves, type TreeLeaf, type TreeNode, type TreeSplit } from './tree-nodes.ts';

/** Inputs of fitThresholdTree. */
export interface ThresholdTreeInput {
  /** Raw catalog features, shape (n, p); NaN = missing. */
  X: Matrix;
  /** Column names of X, shape (p). */
  featureNames: readonly string[];
  /** k-means segment per row, shape (n), ids in [0, k). */
  labels: Int32Array;
  k: number;
  /** The value a missing entry stands for, per feature, shape (p): the preprocess medians. */
  missingAs: readonly number[];
}

/** How far the tree may grow beyond IMM's one leaf per segment. */
export interface TreeGrowth {
  /** Leaf cap; at most k gives the plain IMM tree. */
  maxLeaves: number;
  /** A leaf beyond IMM's must move at least this share of the fitted customers to their own segment's leaf. */
  minLeafGain: number;
}

/** A fitted tree and the IMM tree it grew from (one leaf per segment), each with its node counts. */
export interface ThresholdTreeFit {
  tree: TreeNode;
  immTree: TreeNode;
}

/**
 * Fits the threshold tree on X (n, p) against the k-means labels (n) and fills in how many of
 * those customers reach each node. A segment's IMM reference point is its per-feature median: medians
 * commute with the monotone log1p / clip / standardise steps, so they sit where the segment sits
 * in what k-means saw, and a split keeps a segment on the side holding most of its customers.
 */
export function fitThresholdTree(input: ThresholdTreeInput, growth: TreeGrowth): ThresholdTreeFit {
  const { X, featureNames, labels, k, missingAs } = input;
  const { rows: n, cols: p } = X;
  if (featureNames.length !== p) throw new Error(`fitThresholdTree: ${featureNames.length} feature names for ${p} columns`);
  if (missingAs.length !== p) throw new Error(`fitThresholdTree: ${missingAs.length} missing-value stand-ins for ${p} columns`);
  if (labels.length !== n) throw new Error(`fitThresholdTree: ${labels.length} labels for ${n} rows`);
  const columns = imputedColumns(X, missingAs);
  const sizes = new Int32Array(k);
  for (let i = 0; i < n; i++) {
    const c = labels[i]!;
    if (!(c >= 0 && c < k)) throw new Error(`fitThresholdTree: label ${c} at row ${i} is outside [0, ${k})`);
    sizes[c]!++;
  }
  const segments = Array.from({ length: k }, (_, c) => c).filter((c) => sizes[c]! > 0);
  if (segments.length === 0) throw new Error('fitThresholdTree: no rows');
  const refs = segmentMedians(columns, labels, k, sizes);
  const scales = columns.map(robustScale);
  const ctx: GrowContext = { columns, labels, refs, scales, featureNames, missingAs, k };
  const immTree = grow(Int32Array.from({ length: n }, (_, i) => i), segments, ctx);
  // expand() shares untouched subtrees with its input, so it grows a copy and the IMM tree keeps its own counts.
  const tree = expand(structuredClone(immTree), ctx, growth.maxLeaves, Math.max(1, Math.ceil(growth.minLeafGain * n)));
  countCustomers(immTree, ctx);
  countCustomers(tree, ctx);
  return { tree, immTree };
}

/** The segment each row of X (n, p) lands in, shape (n); X's columns are `featureNames`, which must include the tree's features. */
export function applyThresholdTree(tree: TreeNode, X: Matrix, featureNames: readonly string[]): Int32Array {
  const index = new Map(featureNames.map((f, j) => [f, j]));
  // Resolve feature names once, not per row.
  const resolve = (node: TreeNode): ResolvedNode => {
    if (node.kind === 'leaf') return { leaf: node.segment };
    const j = index.get(node.feature);
    if (j === undefined) throw new Error(`applyThresholdTree: the tree splits on "${node.feature}", which the data does not have`);
    return { j, threshold: node.threshold, missingGoesLeft: node.missingGoesLeft, left: resolve(node.left), right: resolve(node.right) };
  };
  const root = resolve(tree);
  const out = new Int32Array(X.rows);
  const p = X.cols;
  for (let i = 0; i < X.rows; i++) {
    let node = root;
    while (node.leaf === undefined) {
      const v = X.data[i * p + node.j!]!;
      const left = Number.isNaN(v) ? node.missingGoesLeft! : v <= node.threshold!;
      node = left ? node.left! : node.right!;
    }
    out[i] = node.leaf;
  }
  return out;
}

interface ResolvedNode {
  leaf?: number;
  j?: number;
  threshold?: number;
  missingGoesLeft?: boolean;
  left?: ResolvedNode;
  right?: ResolvedNode;
}

/** Feature columns with missing values replaced by their stand-in, each shape (n). */
function imputedColumns(X: Matrix, missingAs: readonly number[]): Float64Array[] {
  const { rows: n, cols: p } = X;
  return Array.from({ length: p }, (_, j) => {
    const col = new Float64Array(n);
    const fill = missingAs[j]!;
    for (let i = 0; i < n; i++) {
      const v = X.data[i * p + j]!;
      col[i] = Number.isNaN(v) ? fill : v;
    }
    return col;
  });
}

/** refs[c][j] = median of feature j over segment c (lower middle of an even count); shape (k, p). */
function segmentMedians(columns: Float64Array[], labels: Int32Array, k: number, sizes: Int32Array): Float64Array[] {
  const refs = Array.from({ length: k }, () => new Float64Array(columns.length));
  const members = Array.from({ length: k }, (_, c) => new Float64Array(sizes[c]!));
  columns.forEach((col, j) => {
    const fill = new Int32Array(k);
    for (let i = 0; i < col.length; i++) members[labels[i]!]![fill[labels[i]!]!++] = col[i]!;
    for (let c = 0; c < k; c++) {
      if (sizes[c] === 0) continue;
      const sorted = members[c]!.sort();
      refs[c]![j] = sorted[(sorted.length - 1) >> 1]!;
    }
  });
  return refs;
}

/** Interquartile range of a column, else its full range, else 1: the unit a threshold gap is measured in. */
function robustScale(col: Float64Array): number {
  const sorted = Float64Array.from(col).sort();
  const n = sorted.length;
  const iqr = sorted[Math.floor(0.75 * (n - 1))]! - sorted[Math.floor(0.25 * (n - 1))]!;
  if (iqr > 0) return iqr;
  const range = sorted[n - 1]! - sorted[0]!;
  return range > 0 ? range : 1;
}
