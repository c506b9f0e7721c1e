/**
 * The nodes of a threshold tree (plain JSON) and what growing one needs: the fitted columns and
 * references (GrowContext), leaf construction, and readable thresholds.
 */

/** A node of a fitted tree: plain JSON. */
export type TreeNode = TreeLeaf | TreeSplit;

/** A leaf: every customer reaching it is explained as `segment`. */
export interface TreeLeaf {
  kind: 'leaf';
  segment: number;
  /** Training customers reaching this leaf. */
  customers: number;
  /** Of those, the ones k-means put in `segment`. */
  agreeing: number;
}

/** A split: customers with `feature <= threshold` go left, the others right. */
export interface TreeSplit {
  kind: 'split';
  feature: string;
  threshold: number;
  /**
   * Where a customer with no value goes: the side of the feature's training median, which is what
   * the k-means input imputes a missing value with, so the tree reads missing values as k-means does.
   */
  missingGoesLeft: boolean;
  /** Training customers reaching this node. */
  customers: number;
  left: TreeNode;
  right: TreeNode;
}

/** What IMM growth and ExKMC expansion read: the fitted data and the segments' reference points. */
export interface GrowContext {
  /** Imputed feature columns, each shape (n). */
  columns: Float64Array[];
  labels: Int32Array;
  /** refs[c][j]: segment c's median of feature j. */
  refs: Float64Array[];
  /** Robust spread of each feature, for breaking ties between equally good splits. */
  scales: number[];
  featureNames: readonly string[];
  missingAs: readonly number[];
  k: number;
}

/** A fresh leaf for `segment`, its counts filled in after growth. */
export function leaf(segment: number): TreeLeaf {
  return { kind: 'leaf', segment, customers: 0, agreeing: 0 };
}

/** The leaves of a tree, left to right. */
export function treeLeaves(tree: TreeNode): TreeLeaf[] {
  return tree.kind === 'leaf' ? [tree] : [...treeLeaves(tree.left), ...treeLeaves(tree.right)];
}

/**
 * The shortest decimal in [low, high), nearest the middle: thresholds people can read ("0.35",
 * "12000") that split the training customers exactly as any other value in the gap would.
 */
export function readableThreshold(low: number, high: number): number {
  if (!(low < high)) throw new Error(`readableThreshold: empty interval [${low}, ${high})`);
  const mid = low + (high - low) / 2;
  // The p-digit number nearest the middle is in the interval if any p-digit number is (the interval is centred on mid).
  for (let digits = 1; digits <= 17; digits++) {
    const candidate = Number(mid.toPrecision(digits)) + 0;
    if (candidate >= low && candidate < high) return candidate;
  }
  return low;
}

