/**
 * The classify stage's settings: the segment classifier's hyper-parameters (config slice
 * `classify`) and the cold-start model's (slice `coldStart`, which holds its own classifier's).
 */
import { integer, listOf, number, settingsOf, type Rule } from '../core/settings.ts';

/** Hyper-parameters of the segment classifier: a softmax MLP trained with Adam on cross-entropy. */
export interface ClassifierParams {
  /** Units of each hidden ReLU layer, input side first; [] is multinomial logistic regression. */
  hidden: number[];
  /** Passes over the training rows. */
  epochs: number;
  /** Rows per Adam step. */
  batchSize: number;
  /** Adam step size in the first epoch; it decays linearly over the epochs, to learningRate / epochs in the last. */
  learningRate: number;
  /** Share of each segment held out (stratified) to measure accuracy, in (0, 1). */
  heldOutShare: number;
  /**
   * Training rows beyond this are subsampled (seeded). The MLP only has to reproduce nearest-centroid
   * segments: on the benchmark's 100k customers (k = 9) held-out agreement was 98.5% from 10k rows,
   * 98.8% from 20k and 99.0% from both 40k and all 80k (30 epochs then), while each row costs ~2.4 us an
   * epoch (backprop.ts; docs/performance.md). Default 40,000.
   */
  maxTrainRows: number;
}

/**
 * Default classifier settings. 8 epochs of 512 rows a step, the step size decaying from 0.005: an
 * epoch costs a fixed time per training row (~2.4 us with backprop.ts; ~10-14 us with tfjs's
 * optimizer), so epochs set the cost at any size. Held-out agreement with k-means, mean of three
 * seeds, on the benchmark's 100k customers (S, k = 9) and the demo's 20k: 99.08% and 99.16%,
 * against 98.77% and 98.82% with 30 epochs of 256 at a constant 0.003, for a quarter of its CPU time (8 epochs of 256 at a constant
 * 0.003 gave 98.79% on S). The decay settles the weights instead of leaving them wherever the
 * last full-size steps put them.
 */
export const defaultClassifierParams: ClassifierParams = {
  hidden: [64, 32],
  epochs: 8,
  batchSize: 512,
  learningRate: 0.005,
  heldOutShare: 0.2,
  maxTrainRows: 40_000,
};

/** Cold-start settings: the config slice `coldStart`. */
export interface ColdStartParams {
  /**
   * A customer with fewer usage events plus transactions than this in its whole history (up to
   * the as-of date) is scored by the cold-start model; training uses only customers at or above it.
   */
  minHistory: number;
  /** A region or edition seen on fewer training customers than this is encoded as `other`, so one-off spellings get no column. */
  minCategoryCount: number;
  /** The cold-start MLP's hyper-parameters (the same knobs as `classify`). */
  classifier: ClassifierParams;
  /**
   * The least lift over the majority-class baseline (accuracy points, 0-1) the model must show on
   * held-out customers to be used; the margin required is this or two standard errors of the
   * baseline on the held-out count, whichever is larger, so a small held-out set cannot pass by luck.
   */
  minLift: number;
  /** Days since last activity beyond which a customer is inactive (the features' 90-day window: no activity in it). */
  inactiveAfterDays: number;
  /** A segment is "active" when at least this share of its training customers was not inactive ("mostly": half). */
  activeSegmentShare: number;
}

/**
 * Default cold-start settings. minHistory 3 is measured (docs/lenses.md): on generated new customers
 * behaviour places a customer better than signup attributes from 3 history rows on, worse below.
 * The MLP is smaller than the behavioural one because its input is a few dozen one-hot columns.
 * Batches of 1024 from step size 0.01, decaying: for a net this small tfjs's cost is per Adam
 * step, so large batches halve an epoch's cost against batches of 256 at a constant 0.003.
 * Held-out agreement, mean of three seeds, on the demo's 20k customers and the benchmark's 100k
 * (S): 86.79% and 83.01%, against 86.87% and 83.14% with those small batches, inside the seeds' own spread (~1 and ~0.4 points); 10 epochs lose about a
 * point on the demo, 30 gain 0.1-0.2 for 1.5x the training time.
 */
export const defaultColdStartParams: ColdStartParams = {
  minHistory: 3,
  minCategoryCount: 20,
  classifier: { ...defaultClassifierParams, hidden: [32], epochs: 20, batchSize: 1024, learningRate: 0.01 },
  minLift: 0.05,
  inactiveAfterDays: 90,
  activeSegmentShare: 0.5,
};

/** A classifier slice's rules; `defaults` differ between `classify` and `coldStart.classifier`. */
function classifierRule(defaults: ClassifierParams): Rule<ClassifierParams> {
  return settingsOf(defaults, {
    hidden: listOf(integer(1), 'layer widths (integers >= 1)'),
    epochs: integer(1),
    batchSize: integer(1),
    learningRate: number({ min: 0, minOpen: true }),
    heldOutShare: number({ min: 0, max: 1, minOpen: true, maxOpen: true }),
    maxTrainRows: integer(1),
  });
}

/** The `classify` slice. */
export const classifierParamsRule: Rule<ClassifierParams> = classifierRule(defaultClassifierParams);

/** The `coldStart` slice. */
export const coldStartParamsRule: Rule<ColdStartParams> = settingsOf(defaultColdStartParams, {
  minHistory: number({ min: 0 }),
  // A level is kept when its count reaches this: 0 and 1 both keep every level seen.
  minCategoryCount: integer(0),
  classifier: classifierRule(defaultColdStartParams.classifier),
  // Accuracy points as a fraction.
  minLift: number({ min: 0, max: 1 }),
  inactiveAfterDays: number({ min: 0, minOpen: true }),
  activeSegmentShare: number({ min: 0, max: 1, minOpen: true }),
});
