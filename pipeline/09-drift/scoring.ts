/**
 * Drift at scoring: a scored batch against the bundle's reference (reference.json). PSI of every
 * input the reference holds (measureDrift, as retrain measures it), the shares of novel and
 * ambiguous customers against training's, and the nearest-centroid segment mix against training's.
 * Pure: the batch and its flags come in as arrays, the summary (`<scores file>.drift.json`) goes out.
 */
import type { ScoringDriftParams } from './params.ts';
import { psi, type DriftReference, type InputDrift } from './psi.ts';
import { measureDrift, type DriftInput } from './reference.ts';

/** What the check reads of a scored batch; each array has one entry per customer (shape (n)). */
export interface ScoredBatch {
  inputs: DriftInput;
  /** Nearest-centroid segment index before the segment rule, in [0, k). */
  nearest: Int32Array;
  /** 0/1 flags as applyModel gives them. */
  novel: Uint8Array;
  ambiguous: Uint8Array;
  /** Rows placed by cold start (no behaviour, so no novelty or margin). */
  coldStart: readonly boolean[];
  /** Rows the segment rule moved out of an active segment or left unplaced (no margin). */
  noMargin: readonly boolean[];
  /** Inputs the batch has no column for at all (a feature table without the customers columns): measured, reported, not judged. */
  absent?: readonly string[];
}

/** One limit of the check: the measured value, its limit, and whether it was reached. */
export interface DriftCheck {
  check: 'inputs' | 'novel' | 'ambiguous' | 'segmentMix';
  /** The value compared with the limit (the largest PSI for `inputs`); null when it could not be measured. */
  value: number | null;
  limit: number;
  over: boolean;
  /** One sentence saying what was measured. */
  text: string;
}

/** The drift summary written beside the scores (documented in docs/retraining.md). */
export interface ScoringDrift {
  kind: 'finseg.scoring-drift';
  version: 1;
  /** The bundle version the batch was scored with. */
  model: string;
  /** The scores file this summary belongs to (its base name). */
  scores: string;
  /** The partition scored (`i/n`), or null for the whole batch. */
  partition: string | null;
  customers: number;
  /** Customers the input PSIs were measured on (all, or an evenly spaced DRIFT_SAMPLE of them). */
  sampledCustomers: number;
  /** Training customers of the reference. */
  referenceCustomers: number;
  /** True when the batch had at least `limits.minCustomers` customers; a smaller one is measured but never drifted. */
  judged: boolean;
  /** True when judged and over at least one limit. */
  drifted: boolean;
  limits: ScoringDriftParams;
  checks: DriftCheck[];
  /** Inputs at or over `limits.psiWarn`, largest PSI first (absent inputs excluded). */
  driftedInputs: string[];
  /** Inputs the batch has no column for: their PSI (all missing) says nothing of the population, so no limit reads it. */
  absentInputs: string[];
  /** Every input the reference holds, largest PSI first. */
  inputs: InputDrift[];
  /** Share of the behaviour-scored customers flagged novel / ambiguous now, and at training (null when the bundle does not record it). */
  flags: { novel: number; ambiguous: number; trainingNovel: number | null; trainingAmbiguous: number | null; behaviourScored: number };
  /** Nearest-centroid share of each segment, by segment index: at training and now; psi of the two. */
  segmentMix: { training: number[]; now: number[]; psi: number };
}

/**
 * Customers the input PSIs are measured on at most: above it, every stride-th customer in batch
 * order (no randomness). PSI of a sample this size is about (bins − 1) / 100,000 = 0.0001 by
 * chance, far below any limit, where binning all of a million customers' 56 inputs took 18 s here.
 * The flag shares and the segment mix are counted on every customer.
 */
export const DRIFT_SAMPLE = 100_000;

/** The kind of the scoring drift summary. */
export const SCORING_DRIFT_KIND = 'finseg.scoring-drift';

/** The drift summary's file: beside the scores, named after them (`scores.parquet` → `scores.parquet.drift.json`). */
export function driftSummaryPath(scoresFile: string): string {
  return `${scoresFile}.drift.json`;
}

/** Share of rows with flag 1 among the rows `counted` keeps. */
function shareAmong(flags: Uint8Array, counted: (i: number) => boolean): { share: number; rows: number } {
  let rows = 0;
  let ones = 0;
  for (let i = 0; i < flags.length; i++) {
    if (!counted(i)) continue;
    rows++;
    ones += flags[i]!;
  }
  return { share: rows ? ones / rows : 0, rows };
}

/** Every stride-th customer of a batch's inputs (stride 1: the inputs themselves). */
function everyNth(input: DriftInput, stride: number): DriftInput {
  if (stride === 1) return input;
  const { rows, cols, data } = input.X;
  const m = Math.ceil(rows / stride);
  const X = new Float64Array(m * cols);
  for (let r = 0; r < m; r++) X.set(data.subarray(r * stride * cols, (r * stride + 1) * cols), r * cols);
  const keep = (_: unknown, i: number) => i % stride === 0;
  // Every attribute and lens is one array per customer (a Float64Array or a plain array; both filter).
  const take = <T extends object>(columns: T): T => Object.fromEntries(Object.entries(columns).map(([k, v]) => [k, (v as { filter: (f: typeof keep) => unknown }).filter(keep)])) as T;
  return { X: { rows: m, cols, data: X }, featureNames: input.featureNames, attributes: take(input.attributes), lenses: take(input.lenses) };
}

/** Share of each segment index in [0, k) among the labels; shape (k). */
export function segmentShares(labels: Int32Array, k: number): number[] {
  const counts = new Float64Array(k);
  let n = 0;
  for (const l of labels) {
    if (l < 0 || l >= k) continue;
    counts[l]!++;
    n++;
  }
  return Array.from(counts, (c) => c / (n || 1));
}

/**
 * The batch against the reference, judged by `limits`. `noveltyQuantile` gives training's novel
 * share (1 − quantile, by construction) when the reference does not record it.
 */
export function scoringDrift(
  ref: DriftReference,
  batch: ScoredBatch,
  limits: ScoringDriftParams,
  meta: { model: string; scores: string; partition: string | null; noveltyQuantile: number },
): ScoringDrift {
  const n = batch.nearest.length;
  const sampled = everyNth(batch.inputs, Math.max(1, Math.ceil(n / DRIFT_SAMPLE)));
  const inputs = measureDrift(ref, sampled).sort((a, b) => b.psi - a.psi || a.name.localeCompare(b.name));
  const absentInputs = inputs.filter((d) => batch.absent?.includes(d.name)).map((d) => d.name);
  const driftedInputs = inputs.filter((d) => d.psi >= limits.psiWarn && !absentInputs.includes(d.name)).map((d) => d.name);
  // Flags exist only for behaviour-scored rows, as in the scores file (cold start has no novelty or margin).
  const novel = shareAmong(batch.novel, (i) => !batch.coldStart[i]);
  const ambiguous = shareAmong(batch.ambiguous, (i) => !batch.coldStart[i] && !batch.noMargin[i]);
  const trainingNovel = ref.flagShares?.novel ?? 1 - meta.noveltyQuantile;
  const trainingAmbiguous = ref.flagShares?.ambiguous ?? null;
  const now = segmentShares(batch.nearest, ref.segmentShares.length);
  const mixPsi = psi(ref.segmentShares, now);
  const judged = n >= limits.minCustomers;
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  const maxPsi = inputs[0]?.psi ?? null;
  const checks: DriftCheck[] = [
    {
      check: 'inputs',
      value: maxPsi,
      limit: limits.psiWarn,
      over: driftedInputs.length > 0,
      text: driftedInputs.length ? `PSI ≥ ${limits.psiWarn} on ${driftedInputs.length} of ${inputs.length} inputs: ${driftedInputs.join(', ')}` : `largest PSI ${maxPsi?.toFixed(3) ?? 'n/a'} (${inputs[0]?.name ?? 'no inputs'})`,
    },
    { check: 'novel', value: novel.share, limit: limits.novelShareWarn, over: novel.share >= limits.novelShareWarn, text: `novel customers ${pct(novel.share)} (training ${pct(trainingNovel)})` },
    {
      check: 'ambiguous',
      value: trainingAmbiguous === null ? null : ambiguous.share - trainingAmbiguous,
      limit: limits.ambiguousRiseWarn,
      over: trainingAmbiguous !== null && ambiguous.share - trainingAmbiguous >= limits.ambiguousRiseWarn,
      text: `ambiguous customers ${pct(ambiguous.share)} (training ${trainingAmbiguous === null ? 'not recorded in this bundle' : pct(trainingAmbiguous)})`,
    },
    { check: 'segmentMix', value: mixPsi, limit: limits.segmentMixPsiWarn, over: mixPsi >= limits.segmentMixPsiWarn, text: `segment mix PSI ${mixPsi.toFixed(3)} against training` },
  ];
  return {
    kind: SCORING_DRIFT_KIND,
    version: 1,
    model: meta.model,
    scores: meta.scores,
    partition: meta.partition,
    customers: n,
    sampledCustomers: sampled.X.rows,
    referenceCustomers: ref.customers,
    judged,
    drifted: judged && checks.some((c) => c.over),
    limits,
    checks,
    driftedInputs,
    absentInputs,
    inputs,
    flags: { novel: novel.share, ambiguous: ambiguous.share, trainingNovel, trainingAmbiguous, behaviourScored: novel.rows },
    segmentMix: { training: ref.segmentShares, now, psi: mixPsi },
  };
}

/** The summary as a few lines of text: the verdict, each check, the ten largest PSIs. */
export function scoringDriftText(d: ScoringDrift): string {
  const verdict = !d.judged
    ? `not judged: ${d.customers} customers, fewer than drift.scoring.minCustomers (${d.limits.minCustomers})`
    : d.drifted
      ? `DRIFTED: over ${d.checks.filter((c) => c.over).map((c) => c.check).join(', ')}`
      : 'no drift over the limits';
  const lines = [
    `drift of ${d.scores} (${d.customers} customers${d.partition ? `, partition ${d.partition}` : ''}) against ${d.model} (${d.referenceCustomers} training customers): ${verdict}`,
    ...d.checks.map((c) => `  ${c.over ? 'over ' : 'ok   '} ${c.check.padEnd(10)} ${c.text}`),
    ...(d.absentInputs.length ? [`  not in the batch (not judged): ${d.absentInputs.join(', ')}`] : []),
    '  largest PSI:',
    ...d.inputs.slice(0, 10).map((i) => `    ${i.psi.toFixed(3).padStart(7)}  ${i.name} (${i.source})`),
  ];
  return `${lines.join('\n')}\n`;
}
