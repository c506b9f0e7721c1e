/**
 * A threshold tree as rules people read and SQL a warehouse runs: each leaf's path becomes one
 * conjunction with at most one interval per feature ("0.2 < device_mobile_share <= 0.35"), and the
 * whole tree becomes a DuckDB `CASE` expression over a table whose columns are the catalog
 * features. A missing value (NULL) follows the side each split sends missing values to, exactly
 * as applyThresholdTree reads NaN.
 */
import { sqlIdent } from '../core/duck.ts';
import type { TreeLeaf, TreeNode } from './tree.ts';

/** One feature's interval on a leaf's path: lower < feature <= upper, either side optional. */
export interface RuleCondition {
  feature: string;
  /** Exclusive lower bound; null when the path never went right on this feature. */
  above: number | null;
  /** Inclusive upper bound; null when the path never went left on this feature. */
  atMost: number | null;
  /** Whether a customer with no value for the feature satisfies the condition. */
  missingIncluded: boolean;
}

/** The rule of one leaf. */
export interface LeafRule {
  segment: number;
  conditions: RuleCondition[];
  /** "0.2 < device_mobile_share <= 0.35 AND tenure_days > 180"; "every customer" for a one-leaf tree. Missing values are in `conditions` and `sql`, not here. */
  text: string;
  /** A DuckDB boolean expression, true exactly for the customers reaching this leaf. */
  sql: string;
  /** Training customers reaching the leaf, and those of them k-means put in `segment`. */
  customers: number;
  agreeing: number;
}

/** The rule of every leaf, left to right. */
export function leafRules(tree: TreeNode): LeafRule[] {
  const out: LeafRule[] = [];
  const walk = (node: TreeNode, path: { feature: string; threshold: number; left: boolean; missingFollows: boolean }[]): void => {
    if (node.kind === 'leaf') {
      out.push(ruleOf(node, path));
      return;
    }
    walk(node.left, [...path, { feature: node.feature, threshold: node.threshold, left: true, missingFollows: node.missingGoesLeft }]);
    walk(node.right, [...path, { feature: node.feature, threshold: node.threshold, left: false, missingFollows: !node.missingGoesLeft }]);
  };
  walk(tree, []);
  return out;
}

/**
 * The tree as one DuckDB expression giving the segment id: `CASE WHEN <leaf rule> THEN <segment> …
 * END`. The leaves partition every row (NULLs included), so exactly one WHEN matches.
 */
export function treeSql(tree: TreeNode): string {
  const rules = leafRules(tree);
  if (rules.length === 1) return String(rules[0]!.segment);
  return `CASE\n${rules.map((r) => `  WHEN ${r.sql} THEN ${r.segment}`).join('\n')}\nEND`;
}

/** A segment's predicate: the OR of its leaves' rules; FALSE when the tree gives it no leaf. */
export function segmentSql(rules: readonly LeafRule[], segment: number): string {
  const own = rules.filter((r) => r.segment === segment);
  if (own.length === 0) return 'FALSE';
  if (own.length === 1) return own[0]!.sql;
  return own.map((r) => `(${r.sql})`).join(' OR ');
}

/**
 * A number as a DuckDB literal that parses to the same double: short decimals stay as written
 * (DuckDB reads them as exact DECIMALs, compared with DOUBLE columns exactly); anything longer or
 * in exponent form is cast from its shortest round-trip string.
 */
export function sqlNumber(x: number): string {
  if (!Number.isFinite(x)) throw new Error(`sqlNumber: ${x} has no SQL literal`);
  const s = String(x);
  const digits = s.replace(/^-/, '').replace('.', '').replace(/^0+/, '').length;
  return /e/i.test(s) || digits > 15 ? `CAST('${s}' AS DOUBLE)` : s;
}

function ruleOf(node: TreeLeaf, path: readonly { feature: string; threshold: number; left: boolean; missingFollows: boolean }[]): LeafRule {
  const byFeature = new Map<string, RuleCondition>();
  for (const step of path) {
    let c = byFeature.get(step.feature);
    if (!c) byFeature.set(step.feature, (c = { feature: step.feature, above: null, atMost: null, missingIncluded: true }));
    // Intersecting half-lines is exact: x <= a AND x <= b is x <= min(a, b).
    if (step.left) c.atMost = c.atMost === null ? step.threshold : Math.min(c.atMost, step.threshold);
    else c.above = c.above === null ? step.threshold : Math.max(c.above, step.threshold);
    c.missingIncluded &&= step.missingFollows;
  }
  const conditions = [...byFeature.values()];
  return {
    segment: node.segment,
    conditions,
    text: conditions.length === 0 ? 'every customer' : conditions.map(conditionText).join(' AND '),
    sql: conditions.length === 0 ? 'TRUE' : conditions.map(conditionSql).join(' AND '),
    customers: node.customers,
    agreeing: node.agreeing,
  };
}

/** The interval in words; missing values are left out of the text (they read as the training median, said once in the report) but not out of the SQL. */
function conditionText(c: RuleCondition): string {
  if (c.above !== null && c.atMost !== null) return `${c.above} < ${c.feature} <= ${c.atMost}`;
  return c.above !== null ? `${c.feature} > ${c.above}` : `${c.feature} <= ${c.atMost}`;
}

function conditionSql(c: RuleCondition): string {
  const col = sqlIdent(c.feature);
  const parts: string[] = [];
  if (c.above !== null) parts.push(`${col} > ${sqlNumber(c.above)}`);
  if (c.atMost !== null) parts.push(`${col} <= ${sqlNumber(c.atMost)}`);
  const interval = parts.join(' AND ');
  // Without the IS NULL branch a NULL makes the comparison NULL, which CASE treats as not matched.
  return c.missingIncluded ? `(${col} IS NULL OR ${parts.length > 1 ? `(${interval})` : interval})` : parts.length > 1 ? `(${interval})` : interval;
}
