/**
 * The drift reference a bundle keeps (`reference.json`): production's bins for every numeric
 * input, the categories of every categorical input and the segment shares, learned from the
 * training customers. `measureDrift` reads today's customers against it.
 */
import type { CustomerAttributes } from '../02-features/features.ts';
import { LENS_NAMES, type CustomerLenses } from '../06-categorize/lenses.ts';
import { columnsOf, type Matrix } from '../core/matrix.ts';
import {
  categoricalDrift,
  DRIFT_REFERENCE_KIND,
  DRIFT_REFERENCE_VERSION,
  fitCategoricalReference,
  fitNumericReference,
  numericDrift,
  type DriftReference,
  type InputDrift,
} from './psi.ts';

/** Drift-reference settings. */
export interface ReferenceParams {
  /** Quantile bins per numeric input (deciles by default, the usual PSI binning). */
  bins: number;
}

/** Deciles, the usual PSI binning. */
export const defaultReferenceParams: ReferenceParams = { bins: 10 };

/** The customers a reference is learned from or drift is measured on; arrays have one entry per customer. */
export interface DriftInput {
  /** Raw catalog features, shape (n, featureNames.length); NaN = undefined. */
  X: Matrix;
  featureNames: readonly string[];
  attributes: CustomerAttributes;
  lenses: CustomerLenses;
}

/** Numeric customers columns that are model-relevant inputs (the size and lifecycle lenses read them). */
const NUMERIC_ATTRIBUTES = [
  ['employees', 'employees'],
  ['annual_revenue', 'annualRevenue'],
  ['founded_year', 'foundedYear'],
] as const;
/** Categorical customers columns. */
const CATEGORICAL_ATTRIBUTES = [
  ['industry', 'industry'],
  ['region', 'region'],
  ['edition', 'edition'],
  ['deployment', 'deployment'],
  ['buyer_role', 'buyerRole'],
] as const;


/** f applied to every column of X, the columns copied out eight at a time (columnsOf). */
function mapColumns<T>(X: Matrix, f: (values: Float64Array, j: number) => T): T[] {
  const out: T[] = [];
  for (let from = 0; from < X.cols; from += 8) columnsOf(X, from, Math.min(X.cols, from + 8)).forEach((values, k) => out.push(f(values, from + k)));
  return out;
}

/**
 * Learns the reference from the training customers, their segment indices (labels in [0, k)) and,
 * when given, their novel and ambiguous flags (each shape (n), 0/1), so scoring can compare a
 * batch's flag shares with training's.
 */
export function fitDriftReference(
  input: DriftInput,
  labels: Int32Array,
  k: number,
  params: ReferenceParams = defaultReferenceParams,
  flags?: { novel: Uint8Array; ambiguous: Uint8Array },
): DriftReference {
  const n = input.X.rows;
  const numeric = [
    ...mapColumns(input.X, (values, j) => fitNumericReference(input.featureNames[j]!, 'feature', values, params.bins)),
    ...NUMERIC_ATTRIBUTES.map(([name, key]) => fitNumericReference(name, 'attribute', input.attributes[key], params.bins)),
  ];
  const categorical = [
    ...CATEGORICAL_ATTRIBUTES.map(([name, key]) => fitCategoricalReference(name, 'attribute', input.attributes[key])),
    ...LENS_NAMES.map((lens) => fitCategoricalReference(`lens:${lens}`, 'lens', input.lenses[lens] as readonly (string | null)[])),
  ];
  const counts = new Float64Array(k);
  for (const l of labels) counts[l]!++;
  return {
    kind: DRIFT_REFERENCE_KIND,
    version: DRIFT_REFERENCE_VERSION,
    bins: params.bins,
    customers: n,
    numeric,
    categorical,
    segmentShares: Array.from(counts, (c) => c / (n || 1)),
    ...(flags ? { flagShares: { novel: flagShare(flags.novel), ambiguous: flagShare(flags.ambiguous) } } : {}),
  };
}

/** Share of 1s in a 0/1 flag array (0 when empty). */
export function flagShare(flags: ArrayLike<number>): number {
  let ones = 0;
  for (let i = 0; i < flags.length; i++) ones += flags[i]!;
  return ones / (flags.length || 1);
}

/** PSI of every input in the reference, measured on today's customers; a feature today's data lacks reads as all missing. */
export function measureDrift(ref: DriftReference, input: DriftInput): InputDrift[] {
  const missing = new Float64Array(input.X.rows).fill(Number.NaN);
  // Each feature's drift as its column is copied out, so only a few columns exist at a time.
  const wanted = new Map(ref.numeric.filter((r) => r.source === 'feature').map((r) => [r.name, r]));
  const featureDrift = new Map<string, ReturnType<typeof numericDrift>>();
  mapColumns(input.X, (values, j) => {
    const r = wanted.get(input.featureNames[j]!);
    if (r) featureDrift.set(r.name, numericDrift(r, values));
  });
  const numeric = ref.numeric.map((r) => {
    if (r.source === 'attribute') {
      const key = NUMERIC_ATTRIBUTES.find(([name]) => name === r.name)![1];
      return numericDrift(r, input.attributes[key]);
    }
    return featureDrift.get(r.name) ?? numericDrift(r, missing);
  });
  const categorical = ref.categorical.map((r) => {
    if (r.source === 'lens') return categoricalDrift(r, input.lenses[r.name.slice('lens:'.length) as (typeof LENS_NAMES)[number]] as readonly (string | null)[]);
    const key = CATEGORICAL_ATTRIBUTES.find(([name]) => name === r.name)![1];
    return categoricalDrift(r, input.attributes[key]);
  });
  return [...numeric, ...categorical];
}
