import { MODULES } from '../01-ingest/contract.ts';
import { WINDOW_DAYS } from '../02-features/catalog.ts';
import { sqlString, type PerCustomerQuery } from '../core/duck.ts';
import type { Matrix } from '../core/matrix.ts';
import { makeRng, sampleIndices } from '../core/random.ts';

/**
 * What the report draws that the model itself does not need: per-segment feature profiles,
 * module adoption and abandonment, feedback, and a seeded 2-D sample of the PCA space. It is
 * computed once at train time (the only moment the data is at hand) and stored in the
 * bundle's segments state, so `finseg report` never reads training data.
 */

/** Format version of the stored profile; the report ignores a profile of another version. */
export const PROFILE_VERSION = 1;

/** Report-profile settings. */
export interface ProfileParams {
  /** Customers in the seeded PCA scatter sample (all of them when fewer). */
  projectionSample: number;
  /** Decimals kept for stored coordinates and means: enough for a chart, small in JSON. */
  decimals: number;
}

/** Default report-profile settings. */
export const defaultProfileParams: ProfileParams = { projectionSample: 1500, decimals: 4 };

/** A seeded sample of customers in the plane of the first two principal components. */
export interface ProjectionSample {
  /** The seed the sample was drawn with (recorded so the plot can be reproduced). */
  seed: number;
  /** Share of the scaled features' variance on PC1 and PC2. */
  explainedVariance: [number, number];
  /** Per sampled customer, shape (m): segment id, PC1, PC2. */
  segment: number[];
  x: number[];
  y: number[];
  /** Each segment's centroid on PC1 and PC2, shape (k, 2). */
  centroids: [number, number][];
}

/** Per segment and catalog module: who used it in the window before last and who stopped. */
export interface ModuleAbandonment {
  windowDays: number;
  modules: string[];
  /** Customers of the segment who used the module in the previous window, shape (k, modules). */
  previousUsers: number[][];
  /** Of those, customers still active in the last window who no longer used the module, shape (k, modules). */
  abandoned: number[][];
}

/** Survey and support feedback per segment, from the optional feedback table. */
export interface SegmentFeedback {
  /** Customers whose latest answer gives an NPS score, per segment, shape (k). */
  respondents: number[];
  /** Net promoter score (−100..100) over each respondent's latest answer; null without respondents. */
  nps: (number | null)[];
  promoters: number[];
  detractors: number[];
  /** Support tickets over all feedback rows per customer of the segment (no row = no ticket), shape (k). */
  ticketsPerCustomer: number[];
}

/** The report's view of a trained segmentation, stored in segments.json as `profile`. */
export interface SegmentProfile {
  kind: 'finseg.segment-profile';
  version: typeof PROFILE_VERSION;
  featureNames: string[];
  /** Per segment, the mean of each feature after imputation, log, clipping and standardisation (base mean 0, sd 1); shape (k, p). */
  standardisedMeans: number[][];
  /** Per segment, the mean of each raw feature (undefined values skipped; null when none); shape (k, p). */
  means: (number | null)[][];
  /** Catalog modules, the columns of moduleAdoption. */
  modules: string[];
  /** Share of each segment's customers who used each module in the last window; shape (k, modules); null without usage data. */
  moduleAdoption: number[][] | null;
  abandonment: ModuleAbandonment | null;
  feedback: SegmentFeedback | null;
  projection: ProjectionSample;
}

/** Arguments of segmentProfile; every per-customer array has n entries in the same order. */
export interface SegmentProfileArgs {
  labels: Int32Array;
  k: number;
  featureNames: readonly string[];
  /** Raw features, shape (n, p); NaN = undefined. */
  raw: Matrix;
  /** The same features after preprocessing's scale step, shape (n, p). */
  scaled: Matrix;
  /** PCA scores, shape (n, nComponents ≥ 1). */
  reduced: Matrix;
  /** Cluster centroids in PCA space, shape (k, nComponents). */
  centroids: readonly (readonly number[])[];
  /** PCA explained variance ratio per component. */
  explainedVarianceRatio: readonly number[];
  /** Per-customer module use from `moduleUse`, or null without a usage table. */
  moduleUse: ModuleUse | null;
  /** Per-customer feedback from `customerFeedback`, or null without a feedback table. */
  feedback: CustomerFeedback | null;
  seed: number;
  params?: Partial<ProfileParams>;
}

/** Per customer (n), bit m set when catalog module m was used in the last window / the one before. */
export interface ModuleUse {
  windowMask: Int32Array;
  previousMask: Int32Array;
}

/** Per customer (n): the latest NPS answer (NaN = none) and the tickets of all feedback rows. */
export interface CustomerFeedback {
  latestNps: Float64Array;
  tickets: Float64Array;
}

const round = (x: number, decimals: number): number => {
  const f = 10 ** decimals;
  // `+ 0` turns -0 into 0 so JSON and equality checks stay plain.
  return Math.round(x * f) / f + 0;
};

/** The report profile of a segmentation: all per-segment aggregates the HTML report draws. */
export function segmentProfile(args: SegmentProfileArgs): SegmentProfile {
  const params: ProfileParams = { ...defaultProfileParams, ...args.params };
  const { labels, k, raw, scaled, reduced } = args;
  const n = labels.length;
  const p = args.featureNames.length;
  if (raw.rows !== n || scaled.rows !== n || reduced.rows !== n) throw new Error(`segmentProfile: matrices must have ${n} rows`);
  if (raw.cols !== p || scaled.cols !== p) throw new Error(`segmentProfile: feature matrices must have ${p} columns`);
  const sizes = new Float64Array(k);
  for (let i = 0; i < n; i++) sizes[labels[i]!]!++;

  const standardisedMeans: number[][] = [];
  const means: (number | null)[][] = [];
  const sum = new Float64Array(k * p);
  const rawSum = new Float64Array(k * p);
  const rawCount = new Float64Array(k * p);
  for (let i = 0; i < n; i++) {
    const s = labels[i]!;
    for (let j = 0; j < p; j++) {
      sum[s * p + j]! += scaled.data[i * p + j]!;
      const v = raw.data[i * p + j]!;
      if (Number.isFinite(v)) {
        rawSum[s * p + j]! += v;
        rawCount[s * p + j]!++;
      }
    }
  }
  for (let s = 0; s < k; s++) {
    standardisedMeans.push(Array.from({ length: p }, (_, j) => (sizes[s] ? round(sum[s * p + j]! / sizes[s]!, params.decimals) : 0)));
    means.push(Array.from({ length: p }, (_, j) => (rawCount[s * p + j] ? round(rawSum[s * p + j]! / rawCount[s * p + j]!, params.decimals) : null)));
  }

  return {
    kind: 'finseg.segment-profile',
    version: PROFILE_VERSION,
    featureNames: [...args.featureNames],
    standardisedMeans,
    means,
    modules: [...MODULES],
    moduleAdoption: args.moduleUse ? moduleAdoption(args.moduleUse.windowMask, labels, sizes) : null,
    abandonment: args.moduleUse ? moduleAbandonment(args.moduleUse, labels, k) : null,
    feedback: args.feedback ? segmentFeedback(args.feedback, labels, sizes, params.decimals) : null,
    projection: projectionSample(args, params),
  };
}

function moduleAdoption(windowMask: Int32Array, labels: Int32Array, sizes: Float64Array): number[][] {
  const k = sizes.length;
  const m = MODULES.length;
  const users = new Float64Array(k * m);
  for (let i = 0; i < labels.length; i++) {
    for (let j = 0; j < m; j++) if (windowMask[i]! & (1 << j)) users[labels[i]! * m + j]!++;
  }
  return Array.from({ length: k }, (_, s) => Array.from({ length: m }, (_, j) => (sizes[s] ? round(users[s * m + j]! / sizes[s]!, 4) : 0)));
}

function moduleAbandonment(use: ModuleUse, labels: Int32Array, k: number): ModuleAbandonment {
  const m = MODULES.length;
  const previousUsers = Array.from({ length: k }, () => new Array<number>(m).fill(0));
  const abandoned = Array.from({ length: k }, () => new Array<number>(m).fill(0));
  for (let i = 0; i < labels.length; i++) {
    const s = labels[i]!;
    const before = use.previousMask[i]!;
    const now = use.windowMask[i]!;
    for (let j = 0; j < m; j++) {
      if (!(before & (1 << j))) continue;
      previousUsers[s]![j]!++;
      // A customer silent in the last window has churned or paused: that is not abandoning a module.
      if (now !== 0 && !(now & (1 << j))) abandoned[s]![j]!++;
    }
  }
  return { windowDays: WINDOW_DAYS, modules: [...MODULES], previousUsers, abandoned };
}

function segmentFeedback(fb: CustomerFeedback, labels: Int32Array, sizes: Float64Array, decimals: number): SegmentFeedback {
  const k = sizes.length;
  const respondents = new Array<number>(k).fill(0);
  const promoters = new Array<number>(k).fill(0);
  const detractors = new Array<number>(k).fill(0);
  const tickets = new Array<number>(k).fill(0);
  for (let i = 0; i < labels.length; i++) {
    const s = labels[i]!;
    const nps = fb.latestNps[i]!;
    if (Number.isFinite(nps)) {
      respondents[s]!++;
      // The standard NPS bands: 9–10 promoters, 0–6 detractors.
      if (nps >= 9) promoters[s]!++;
      else if (nps <= 6) detractors[s]!++;
    }
    if (Number.isFinite(fb.tickets[i]!)) tickets[s]! += fb.tickets[i]!;
  }
  return {
    respondents,
    nps: respondents.map((r, s) => (r ? round((100 * (promoters[s]! - detractors[s]!)) / r, 2) : null)),
    promoters,
    detractors,
    ticketsPerCustomer: tickets.map((t, s) => (sizes[s] ? round(t / sizes[s]!, decimals) : 0)),
  };
}

function projectionSample(args: SegmentProfileArgs, params: ProfileParams): ProjectionSample {
  const { reduced, labels } = args;
  const idx = sampleIndices(reduced.rows, params.projectionSample, makeRng(args.seed));
  const d = reduced.cols;
  // With a single component the second axis is flat rather than missing.
  const pc = (i: number, c: number) => (c < d ? reduced.data[i * d + c]! : 0);
  return {
    seed: args.seed,
    explainedVariance: [round(args.explainedVarianceRatio[0] ?? 0, 6), round(args.explainedVarianceRatio[1] ?? 0, 6)],
    segment: Array.from(idx, (i) => labels[i]!),
    x: Array.from(idx, (i) => round(pc(i, 0), params.decimals)),
    y: Array.from(idx, (i) => round(pc(i, 1), params.decimals)),
    centroids: args.centroids.map((c) => [round(c[0] ?? 0, params.decimals), round(c[1] ?? 0, params.decimals)]),
  };
}

/** Per-customer SQL over the ingested usage_events: bit masks of the catalog modules used in the last window and the one before (moduleUseFrom reads them). */
export function moduleUseQuery(asOf: string): PerCustomerQuery {
  const end = `(DATE ${sqlString(asOf)} + INTERVAL 1 DAY)`;
  const start = `(${end} - INTERVAL ${WINDOW_DAYS} DAY)`;
  const prevStart = `(${end} - INTERVAL ${2 * WINDOW_DAYS} DAY)`;
  const catalog = `[${MODULES.map(sqlString).join(', ')}]`;
  const bit = `(1 << (list_position(${catalog}, module) - 1))`;
  return {
    sql: `SELECT customer_id,
            bit_or(CASE WHEN ts >= ${start} THEN ${bit} ELSE 0 END)::INTEGER AS window_mask,
            bit_or(CASE WHEN ts < ${start} THEN ${bit} ELSE 0 END)::INTEGER AS previous_mask
       FROM usage_events
      WHERE ts >= ${prevStart} AND ts < ${end} AND list_position(${catalog}, module) IS NOT NULL
      GROUP BY customer_id`,
    columns: ['window_mask', 'previous_mask'],
    fill: 0,
  };
}

/** ModuleUse from the columns of moduleUseQuery by row position. */
export function moduleUseFrom(cols: Record<string, Float64Array>): ModuleUse {
  return { windowMask: Int32Array.from(cols.window_mask!), previousMask: Int32Array.from(cols.previous_mask!) };
}

/** Per-customer SQL over the ingested feedback table: the latest NPS answer (NULL when none) and the sum of tickets (0 without feedback rows). */
export const feedbackQuery: PerCustomerQuery = {
  sql: `SELECT customer_id,
            arg_max(nps, ts) FILTER (WHERE nps IS NOT NULL) AS latest_nps,
            sum(coalesce(tickets, 0)) AS tickets
       FROM feedback GROUP BY customer_id`,
  columns: ['latest_nps', 'tickets'],
};

/** CustomerFeedback from the columns of feedbackQuery by row position: no answer is NaN, no rows 0 tickets. */
export function feedbackFrom(cols: Record<string, Float64Array>): CustomerFeedback {
  return { latestNps: cols.latest_nps!, tickets: cols.tickets!.map((t) => (Number.isNaN(t) ? 0 : t)) };
}

