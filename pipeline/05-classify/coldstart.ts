import { InputError } from '../core/errors.ts';
import type { Matrix } from '../core/matrix.ts';
import { perValue } from '../core/memo.ts';
import { fitClassifier, predictProba, type ClassifierState } from './mlp.ts';
import type { ColdStartParams } from './params.ts';
import type { SignupAttributes } from './signup.ts';

// Re-exported: train, score and the tests take the signup adapter from the cold-start module.
export { signupAttributes, type SignupAttributes, type SignupLensLabels } from './signup.ts';

/**
 * The cold-start classifier: a second MLP that predicts a customer's segment from what is known
 * at signup (size, industry, region, deployment, edition, buyer role, company age), for
 * customers with too little usage and transaction history for the behavioural features to mean
 * anything. Trained on the k-means labels of the customers that do have history; the fitted
 * encoding (vocabularies, medians, scales) lives in its state, never in code. It is used only
 * when it earns it: its held-out accuracy must beat always answering the largest segment by
 * `marginRequired` (segment-rule.ts applies it).
 */

/** Which segments are active, measured on the training customers: the `activity` part of the cold-start state. */
export interface ActivityProfile {
  /** The feature that holds days since last activity; null when the model has none (rule 2 then never applies). */
  recencyFeature: string | null;
  /** A customer whose recency exceeds this many days is inactive. */
  inactiveAfterDays: number;
  /** A segment is active when at least this share of its training customers with a known recency was not inactive. */
  activeSegmentShare: number;
  /** Per segment, shape (k): the share of its training customers that were recently active; null when none had a recency. */
  segmentActiveShare: (number | null)[];
  /** Per segment, shape (k): active by the rule above. */
  activeSegments: boolean[];
}


/** The numeric signup inputs, in encoding order. */
export const NUMERIC = ['log_employees', 'log_annual_revenue', 'age_at_signup_years'] as const;
/** The categorical signup inputs, in encoding order. */
export const CATEGORICAL = ['industry', 'buyer_role', 'region', 'deployment', 'edition'] as const;
/** Vocabulary slots every categorical has: values too rare to get a column, and missing ones. */
const OTHER = 'other';
const UNKNOWN = 'unknown';
/** Company ages beyond this are clipped: a 300-year-old founded_year is a typo, not a signal. */
const MAX_AGE_YEARS = 100;

/** A numeric input's fitted imputation and scaling. */
export interface NumericEncoding {
  name: (typeof NUMERIC)[number];
  /** Fills a missing value (before scaling); a `<name>_missing` 0/1 column says it was missing. */
  median: number;
  mean: number;
  /** 1 when the column does not vary, so scaling never divides by 0. */
  sd: number;
}

/** A categorical input's fitted vocabulary. */
export interface CategoricalEncoding {
  name: (typeof CATEGORICAL)[number];
  /** One one-hot column per level, sorted; always includes `other` and `unknown`. */
  levels: string[];
}

/** The fitted encoding from signup attributes to the cold-start MLP's input. */
export interface ColdStartEncoding {
  numeric: NumericEncoding[];
  categorical: CategoricalEncoding[];
  /** Names of the encoded columns in order: each numeric, its missing flag, then `<categorical>=<level>`. */
  columns: string[];
}

/** How well signup attributes alone recover the segments, next to the trivial baseline. */
export interface ColdStartMetrics {
  /** Accuracy on the held-out customers (stratified by segment, seeded). */
  heldOutAccuracy: number;
  /** Accuracy of always answering the most common segment, on the same held-out customers. */
  majorityBaseline: number;
  majoritySegment: number;
  nTrain: number;
  nHeldOut: number;
  /** Training customers left out for having less than `minHistory` history (their k-means labels rest on imputed features). */
  excludedLowHistory: number;
  /** The lift over majorityBaseline required to use the model: max(minLift, 2 standard errors of the baseline). */
  marginRequired: number;
  /** heldOutAccuracy - majorityBaseline >= marginRequired: whether score places low-history customers with this model. */
  used: boolean;
}

/** A fitted cold-start model: encoding, MLP and metrics, stored as `coldstart.json` in the bundle. */
export interface ColdStartState {
  kind: 'finseg.coldstart';
  version: 2;
  minHistory: number;
  encoding: ColdStartEncoding;
  classifier: ClassifierState;
  metrics: ColdStartMetrics;
  /** Which segments are active, for the rule that keeps long-inactive customers out of them (segment-rule.ts). */
  activity: ActivityProfile;
}

const KIND = 'finseg.coldstart';
const VERSION = 2;

/** Enum value as the ingest stage normalises it: trimmed, lower case, spaces and dashes as underscores. */
function normalise(value: string | null): string {
  if (value === null) return UNKNOWN;
  const v = value.trim().toLowerCase().replace(/[\s-]+/g, '_');
  return v === '' ? UNKNOWN : v;
}

function categoricalColumn(attrs: SignupAttributes, name: (typeof CATEGORICAL)[number]): (string | null)[] {
  switch (name) {
    case 'industry':
      return attrs.industry;
    case 'buyer_role':
      return attrs.buyerRole;
    case 'region':
      return attrs.region;
    case 'deployment':
      return attrs.deployment;
    case 'edition':
      return attrs.edition;
    default:
      return assertUnreachable(name);
  }
}

/** Company age at signup in years (signup year − founded year, clipped to [0, 100]); NaN when either is missing. */
function ageAtSignup(foundedYear: number, signupDate: string | null): number {
  const signupYear = signupDate === null ? Number.NaN : Number(signupDate.slice(0, 4));
  if (!Number.isFinite(foundedYear) || !Number.isFinite(signupYear)) return Number.NaN;
  return Math.min(MAX_AGE_YEARS, Math.max(0, signupYear - foundedYear));
}

const log1pOrNaN = (x: number): number => (Number.isFinite(x) && x >= 0 ? Math.log1p(x) : Number.NaN);

function numericColumn(attrs: SignupAttributes, name: (typeof NUMERIC)[number]): Float64Array {
  const n = attrs.employees.length;
  const out = new Float64Array(n);
  switch (name) {
    case 'log_employees':
      for (let i = 0; i < n; i++) out[i] = log1pOrNaN(attrs.employees[i]!);
      return out;
    case 'log_annual_revenue':
      for (let i = 0; i < n; i++) out[i] = log1pOrNaN(attrs.annualRevenue[i]!);
      return out;
    case 'age_at_signup_years':
      for (let i = 0; i < n; i++) out[i] = ageAtSignup(attrs.foundedYear[i]!, attrs.signupDate[i] ?? null);
      return out;
    default:
      return assertUnreachable(name);
  }
}

/**
 * f(normalise(value)) for each value of a categorical column, computed once per distinct raw
 * value: a million customers carry a few dozen spellings, and the normalising regex per value was
 * most of the encoding's time.
 */
function perDistinctValue<T>(f: (level: string) => T): (value: string | null | undefined) => T {
  const once = perValue((raw: string | null) => f(normalise(raw)));
  return (value) => once(value ?? null);
}

function checkLengths(attrs: SignupAttributes, where: string): number {
  const n = attrs.employees.length;
  for (const [name, column] of Object.entries(attrs)) {
    if ((column as { length: number }).length !== n) throw new Error(`${where}: ${name} has ${(column as { length: number }).length} values, employees has ${n}`);
  }
  return n;
}

/** Fits the encoding on the rows of `attrs` where `rows` is true (all rows when omitted). */
export function fitColdStartEncoding(attrs: SignupAttributes, params: Pick<ColdStartParams, 'minCategoryCount'>, rows?: ArrayLike<boolean>): ColdStartEncoding {
  const n = checkLengths(attrs, 'fitColdStartEncoding');
  const used: number[] = [];
  for (let i = 0; i < n; i++) if (rows === undefined || rows[i] === true) used.push(i);
  const numeric = NUMERIC.map((name): NumericEncoding => {
    const column = numericColumn(attrs, name);
    let nKnown = 0;
    for (const i of used) if (Number.isFinite(column[i]!)) nKnown++;
    // A typed array sorts numerically without a comparator call per comparison.
    const known = new Float64Array(nKnown);
    nKnown = 0;
    for (const i of used) if (Number.isFinite(column[i]!)) known[nKnown++] = column[i]!;
    known.sort();
    const median = known.length === 0 ? 0 : known.length % 2 ? known[(known.length - 1) / 2]! : (known[known.length / 2 - 1]! + known[known.length / 2]!) / 2;
    // Mean and sd of the imputed column, so an imputed value encodes exactly as the median does.
    const imputed = (i: number) => (Number.isFinite(column[i]!) ? column[i]! : median);
    let sum = 0;
    for (const i of used) sum += imputed(i);
    const mean = used.length === 0 ? 0 : sum / used.length;
    let ss = 0;
    for (const i of used) ss += (imputed(i) - mean) ** 2;
    const sd = used.length > 1 ? Math.sqrt(ss / (used.length - 1)) : 0;
    return { name, median, mean, sd: sd > 0 ? sd : 1 };
  });
  const categorical = CATEGORICAL.map((name): CategoricalEncoding => {
    const column = categoricalColumn(attrs, name);
    // Counted per raw spelling, then normalised once per spelling.
    const rawCounts = new Map<string | null, number>();
    for (const i of used) {
      const raw = column[i] ?? null;
      rawCounts.set(raw, (rawCounts.get(raw) ?? 0) + 1);
    }
    const counts = new Map<string, number>();
    for (const [raw, count] of rawCounts) {
      const level = normalise(raw);
      counts.set(level, (counts.get(level) ?? 0) + count);
    }
    const levels = new Set([OTHER, UNKNOWN]);
    for (const [level, count] of counts) if (count >= params.minCategoryCount) levels.add(level);
    return { name, levels: [...levels].sort() };
  });
  const columns = [...numeric.flatMap((e) => [e.name, `${e.name}_missing`]), ...categorical.flatMap((e) => e.levels.map((l) => `${e.name}=${l}`))];
  return { numeric, categorical, columns };
}

/**
 * The encoded signup attributes of the customers listed in `rows` (all when omitted), in that
 * order: shape (rows.length, encoding.columns.length), every value finite.
 */
export function encodeSignup(encoding: ColdStartEncoding, attrs: SignupAttributes, rows?: ArrayLike<number>): Matrix {
  const n = checkLengths(attrs, 'encodeSignup');
  const customers = rows ?? Int32Array.from({ length: n }, (_, i) => i);
  const m = customers.length;
  const p = encoding.columns.length;
  const data = new Float64Array(m * p);
  let j = 0;
  for (const e of encoding.numeric) {
    const column = numericColumn(attrs, e.name);
    for (let r = 0; r < m; r++) {
      const x = column[customers[r]!]!;
      const missing = !Number.isFinite(x);
      data[r * p + j] = ((missing ? e.median : x) - e.mean) / e.sd;
      data[r * p + j + 1] = missing ? 1 : 0;
    }
    j += 2;
  }
  for (const e of encoding.categorical) {
    const column = categoricalColumn(attrs, e.name);
    const index = new Map(e.levels.map((l, k) => [l, k]));
    const other = index.get(OTHER)!;
    const slotOf = perDistinctValue((level) => index.get(level) ?? other);
    for (let r = 0; r < m; r++) data[r * p + j + slotOf(column[customers[r]!])] = 1;
    j += e.levels.length;
  }
  return { rows: m, cols: p, data };
}

/** Customers below `minHistory` usage events plus transactions (length n, true = score cold). */
export function coldStartRows(history: ArrayLike<number>, minHistory: number): boolean[] {
  return Array.from(history, (h) => !(h >= minHistory));
}

/**
 * Fits the cold-start model: the encoding and an MLP from signup attributes to `labels` (the
 * k-means segments, length n), on the customers with at least `minHistory` history (all of them
 * when fewer than `k` qualify, so a tiny data set still gets a model), and judges it against the
 * majority-class baseline on its held-out customers. `activity` is stored with it (segment-rule.ts).
 */
export async function fitColdStart(
  attrs: SignupAttributes,
  labels: Int32Array,
  k: number,
  history: ArrayLike<number>,
  params: ColdStartParams,
  seed: number,
  activity: ActivityProfile,
): Promise<ColdStartState> {
  const n = checkLengths(attrs, 'fitColdStart');
  if (labels.length !== n || history.length !== n) throw new Error(`fitColdStart: ${labels.length} labels and ${history.length} history counts for ${n} customers`);
  const cold = coldStartRows(history, params.minHistory);
  let eligible = cold.map((c) => !c);
  if (eligible.filter(Boolean).length < k) eligible = eligible.map(() => true);
  const rows: number[] = [];
  for (let i = 0; i < n; i++) if (eligible[i]) rows.push(i);
  const encoding = fitColdStartEncoding(attrs, params, eligible);
  const X = encodeSignup(encoding, attrs, rows);
  const y = Int32Array.from(rows, (i) => labels[i]!);
  const classifier = await fitClassifier(X, y, k, params.classifier, seed);
  // The held-out confusion matrix's rows are the true segments of exactly the held-out customers.
  const heldOutPerSegment = classifier.metrics.confusion.map((row) => row.reduce((s, x) => s + x, 0));
  const majoritySegment = heldOutPerSegment.indexOf(Math.max(...heldOutPerSegment));
  const nHeldOut = classifier.metrics.nHeldOut;
  const heldOutAccuracy = classifier.metrics.heldOutAccuracy;
  const majorityBaseline = nHeldOut === 0 ? 0 : heldOutPerSegment[majoritySegment]! / nHeldOut;
  const marginRequired = requiredMargin(majorityBaseline, nHeldOut, params.minLift);
  return {
    kind: KIND,
    version: VERSION,
    minHistory: params.minHistory,
    encoding,
    classifier,
    metrics: {
      heldOutAccuracy,
      majorityBaseline,
      majoritySegment,
      nTrain: classifier.metrics.nTrain,
      nHeldOut,
      excludedLowHistory: n - rows.length,
      marginRequired,
      used: nHeldOut > 0 && heldOutAccuracy - majorityBaseline >= marginRequired,
    },
    activity,
  };
}

/**
 * The lift over a majority baseline `baseline` (a share) measured on `nHeldOut` customers that
 * counts as real: `minLift`, or two standard errors of the baseline share, whichever is larger
 * (1, more than any lift can be, with no held-out customers: nothing was measured).
 */
export function requiredMargin(baseline: number, nHeldOut: number, minLift: number): number {
  if (nHeldOut <= 0) return 1;
  return Math.max(minLift, 2 * Math.sqrt((baseline * (1 - baseline)) / nHeldOut));
}

/** Segment probabilities from signup attributes alone for the customers listed in `rows` (all when omitted): a Matrix (rows, k) whose rows sum to 1. */
export async function predictColdStart(state: ColdStartState, attrs: SignupAttributes, rows?: ArrayLike<number>): Promise<Matrix> {
  return predictProba(state.classifier, encodeSignup(state.encoding, attrs, rows));
}

function assertUnreachable(x: never): never {
  throw new Error(`unexpected value ${JSON.stringify(x)}`);
}
