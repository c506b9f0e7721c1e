/**
 * IMM (Moshkovitz et al., ICML 2020): one leaf per segment, each split the threshold that
 * separates the segments' reference points with the fewest customers cut off from their own.
 */
import { leaf, readableThreshold, type GrowContext, type TreeNode } from './tree-nodes.ts';

interface Candidate {
  j: number;
  threshold: number;
  mistakes: number;
  /** Width of the threshold gap in units of the feature's spread: the wider, the safer for new customers. */
  gap: number;
}

/** IMM recursion: `rows` reach this node (mistakes of earlier splits already removed), `segments` are the references here. */
export function grow(rows: Int32Array, segments: number[], ctx: GrowContext): TreeNode {
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
