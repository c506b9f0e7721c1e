/**
 * ExKMC-style expansion of an IMM tree (Frost, Moshkovitz and Rashtchian, 2020), and the customer
 * counts of a grown tree's nodes.
 */
import { leaf, readableThreshold, treeLeaves, type GrowContext, type TreeLeaf, type TreeNode, type TreeSplit } from './tree-nodes.ts';

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
export function countCustomers(tree: TreeNode, ctx: GrowContext): void {
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
export function expand(tree: TreeNode, ctx: GrowContext, maxLeaves: number, minGain: number): TreeNode {
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
