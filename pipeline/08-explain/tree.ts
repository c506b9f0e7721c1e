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

interface ResolvedNode {
  leaf?: number;
  j?: number;
  threshold?: number;
  missingGoesLeft?: boolean;
  left?: ResolvedNode;
  right?: ResolvedNode;
}

interface GrowContext {
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

interface Candidate {
  j: number;
  threshold: number;
  mistakes: number;
  /** Width of the threshold gap in units of the feature's spread: the wider, the safer for new customers. */
  gap: number;
}

/** A leaf to replace with a split, and how many customers that would move to their own segment. */
interface LeafSplit {
  gain: number;
  j: number;
  threshold: number;
  leftSegment: number;
  rightSegment: number;
}

/** Rows of the fitted data reaching each leaf of a tree (imputed columns, so no missing values). */
function routeRows(tree: TreeNode, ctx: GrowContext): Map<TreeLeaf, number[]> {
  const byLeaf = new Map<TreeLeaf, number[]>();
  const index = new Map(ctx.featureNames.map((f, j) => [f, j]));
  const n = ctx.labels.length;
  for (let i = 0; i < n; i++) {
    let node = tree;
    while (node.kind === 'split') node = ctx.columns[index.get(node.feature)!]![i]! <= node.threshold ? node.left : node.right;
    let rows = byLeaf.get(node);
    if (!rows) byLeaf.set(node, (rows = []));
    rows.push(i);
  }
  return byLeaf;
}

/** Fills `customers` of every node and `agreeing` of every leaf from the fitted rows. */
function countCustomers(tree: TreeNode, ctx: GrowContext): void {
  const byLeaf = routeRows(tree, ctx);
  const fill = (node: TreeNode): number => {
    if (node.kind === 'leaf') {
      const rows = byLeaf.get(node) ?? [];
      node.customers = rows.length;
      node.agreeing = rows.filter((i) => ctx.labels[i] === node.segment).length;
      return node.customers;
    }
    node.customers = fill(node.left) + fill(node.right);
    return node.customers;
  };
  fill(tree);
}

/**
 * ExKMC-style growth: repeatedly replaces the leaf whose best split moves the most customers to a
 * leaf of their own segment, until `maxLeaves` or until no split gains `minGain` customers.
 */
function expand(tree: TreeNode, ctx: GrowContext, maxLeaves: number, minGain: number): TreeNode {
  let leaves = treeLeaves(tree).length;
  if (leaves >= maxLeaves) return tree;
  const byLeaf = routeRows(tree, ctx);
  const best = new Map<TreeLeaf, LeafSplit | null>();
  for (const [leafNode, rows] of byLeaf) best.set(leafNode, bestLeafSplit(rows, leafNode.segment, ctx));
  let root = tree;
  while (leaves < maxLeaves) {
    let target: TreeLeaf | null = null;
    let split: LeafSplit | null = null;
    for (const [leafNode, s] of best) {
      if (s && s.gain >= minGain && (split === null || s.gain > split.gain)) {
        target = leafNode;
        split = s;
      }
    }
    if (target === null || split === null) break;
    const rows = byLeaf.get(target)!;
    const col = ctx.columns[split.j]!;
    const left = leaf(split.leftSegment);
    const right = leaf(split.rightSegment);
    const node: TreeSplit = {
      kind: 'split',
      feature: ctx.featureNames[split.j]!,
      threshold: split.threshold,
      missingGoesLeft: ctx.missingAs[split.j]! <= split.threshold,
      customers: 0,
      left,
      right,
    };
    root = replaceLeaf(root, target, node);
    best.delete(target);
    byLeaf.delete(target);
    const leftRows = rows.filter((i) => col[i]! <= split.threshold);
    const rightRows = rows.filter((i) => col[i]! > split.threshold);
    byLeaf.set(left, leftRows);
    byLeaf.set(right, rightRows);
    best.set(left, bestLeafSplit(leftRows, left.segment, ctx));
    best.set(right, bestLeafSplit(rightRows, right.segment, ctx));
    leaves++;
  }
  return root;
}

function replaceLeaf(node: TreeNode, target: TreeLeaf, replacement: TreeNode): TreeNode {
  if (node === target) return replacement;
  if (node.kind === 'leaf') return node;
  return { ...node, left: replaceLeaf(node.left, target, replacement), right: replaceLeaf(node.right, target, replacement) };
}

/**
 * The split of one leaf's rows that most increases the customers reaching a leaf of their own
 * segment. One side keeps the leaf's segment, so no segment ever loses its last rule; the other
 * takes its most common other segment (ties: lowest id). Null when no split gains anything.
 */
function bestLeafSplit(rows: readonly number[], current: number, ctx: GrowContext): LeafSplit | null {
  const m = rows.length;
  if (m < 2) return null;
  const k = ctx.k;
  const total = new Int32Array(k);
  for (const i of rows) total[ctx.labels[i]!]!++;
  const base = total[current]!;
  const topOther = (counts: Int32Array): number => {
    let top = -1;
    for (let c = 0; c < k; c++) if (c !== current && (top === -1 || counts[c]! > counts[top]!)) top = c;
    return top;
  };
  if (k < 2) return null;
  let best: LeafSplit | null = null;
  const order = Int32Array.from(rows);
  const left = new Int32Array(k);
  const right = new Int32Array(k);
  for (let j = 0; j < ctx.columns.length; j++) {
    const col = ctx.columns[j]!;
    order.sort((a, b) => col[a]! - col[b]! || a - b);
    left.fill(0);
    right.set(total);
    for (let r = 0; r < m - 1; r++) {
      const c = ctx.labels[order[r]!]!;
      left[c]!++;
      right[c]!--;
      const v = col[order[r]!]!;
      const next = col[order[r + 1]!]!;
      if (v === next) continue;
      const rOther = topOther(right);
      const lOther = topOther(left);
      // Either the left keeps the leaf's segment and the right takes another, or the reverse.
      const keepLeft = left[current]! + right[rOther]! - base;
      const keepRight = left[lOther]! + right[current]! - base;
      const gain = Math.max(keepLeft, keepRight);
      if (gain > 0 && (best === null || gain > best.gain)) {
        const threshold = readableThreshold(v, next);
        best = keepLeft >= keepRight ? { gain, j, threshold, leftSegment: current, rightSegment: rOther } : { gain, j, threshold, leftSegment: lOther, rightSegment: current };
      }
    }
  }
  return best;
}

/** IMM recursion: `rows` reach this node (mistakes of earlier splits already removed), `segments` are the references here. */
function grow(rows: Int32Array, segments: number[], ctx: GrowContext): TreeNode {
  if (segments.length === 1) return leaf(segments[0]!);
  let best: Candidate | null = null;
  for (let j = 0; j < ctx.columns.length; j++) {
    const cand = bestThreshold(rows, segments, j, ctx);
    if (cand === null) continue;
    if (best === null || cand.mistakes < best.mistakes || (cand.mistakes === best.mistakes && cand.gap > best.gap)) best = cand;
  }
  if (best === null) {
    // No feature tells these references apart (identical medians everywhere): the largest segment takes the leaf.
    const counts = new Map<number, number>(segments.map((s) => [s, 0]));
    for (const i of rows) counts.set(ctx.labels[i]!, (counts.get(ctx.labels[i]!) ?? 0) + 1);
    return leaf([...counts.entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0]![0]);
  }
  const { j, threshold } = best;
  const col = ctx.columns[j]!;
  const left: number[] = [];
  const right: number[] = [];
  for (const i of rows) {
    const goesLeft = col[i]! <= threshold;
    // A customer separated from its own segment's reference is a mistake and leaves the recursion (as in IMM).
    if (goesLeft === ctx.refs[ctx.labels[i]!]![j]! <= threshold) (goesLeft ? left : right).push(i);
  }
  return {
    kind: 'split',
    feature: ctx.featureNames[j]!,
    threshold,
    missingGoesLeft: ctx.missingAs[j]! <= threshold,
    customers: 0,
    left: grow(Int32Array.from(left), segments.filter((s) => ctx.refs[s]![j]! <= threshold), ctx),
    right: grow(Int32Array.from(right), segments.filter((s) => ctx.refs[s]![j]! > threshold), ctx),
  };
}

function leaf(segment: number): TreeLeaf {
  return { kind: 'leaf', segment, customers: 0, agreeing: 0 };
}

/**
 * The threshold on feature j with the fewest mistakes that puts at least one reference on each
 * side. A customer at value v whose reference sits at r is a mistake exactly for thresholds in
 * [min(v, r), max(v, r)), so mistakes(t) = #{lo <= t} - #{hi <= t} over those intervals: two sorted
 * arrays and one sweep. Ties: the first (lowest) run of best thresholds; the threshold is a
 * readable number inside that run.
 */
function bestThreshold(rows: Int32Array, segments: number[], j: number, ctx: GrowContext): Candidate | null {
  const col = ctx.columns[j]!;
  let rMin = Infinity;
  let rMax = -Infinity;
  for (const s of segments) {
    const r = ctx.refs[s]![j]!;
    if (r < rMin) rMin = r;
    if (r > rMax) rMax = r;
  }
  if (!(rMin < rMax)) return null;
  const lo = new Float64Array(rows.length);
  const hi = new Float64Array(rows.length);
  let m = 0;
  for (const i of rows) {
    const v = col[i]!;
    const r = ctx.refs[ctx.labels[i]!]![j]!;
    if (v === r) continue;
    lo[m] = v < r ? v : r;
    hi[m] = v < r ? r : v;
    m++;
  }
  const los = lo.subarray(0, m).sort();
  const his = hi.subarray(0, m).sort();
  const refs = Float64Array.from(segments, (s) => ctx.refs[s]![j]!).sort();
  // Every value where mistakes(t) or the partition of customers can change: interval ends and references.
  let a = 0;
  let b = 0;
  let c = 0;
  let bestMistakes = Infinity;
  let runStart = NaN;
  let runEnd = NaN;
  let inBestRun = false;
  let bestFound = false;
  for (;;) {
    const next = Math.min(a < m ? los[a]! : Infinity, b < m ? his[b]! : Infinity, c < refs.length ? refs[c]! : Infinity);
    if (next === Infinity) break;
    if (inBestRun) {
      // `next` ends the current constant piece; the run goes on only while mistakes stay at the best.
      runEnd = next;
    }
    while (a < m && los[a] === next) a++;
    while (b < m && his[b] === next) b++;
    while (c < refs.length && refs[c] === next) c++;
    if (next >= rMax) break;
    if (next < rMin) continue;
    const mistakes = a - b;
    if (mistakes < bestMistakes) {
      bestMistakes = mistakes;
      runStart = next;
      inBestRun = true;
      bestFound = true;
    } else if (mistakes > bestMistakes) {
      inBestRun = false;
    }
  }
  if (!bestFound) return null;
  // runEnd is the first event value after the best run: any threshold in [runStart, runEnd) splits alike.
  const threshold = readableThreshold(runStart, runEnd);
  return { j, threshold, mistakes: bestMistakes, gap: (runEnd - runStart) / ctx.scales[j]! };
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
