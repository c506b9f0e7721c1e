/**
 * The shape of every file a bundle stores, as valibot schemas: one per state file (what each
 * stage's fit returns, `BundleStates`) plus a retrain's comparison. The stage types stay the
 * source of truth: each schema is declared `satisfies v.GenericSchema<unknown, StageType>`, so
 * a schema that lets through less than its stage's type fails to compile. Keys are listed in the
 * order the stages write them, so a validated state serialises back to the same bytes (tested).
 * JSON writes NaN as null: fields a stage documents as possibly NaN read null back as NaN.
 * Cross-field checks (dimensions agree) are in state-checks.ts; loading in load.ts.
 */
import * as v from 'valibot';
import { DEPLOYMENTS, DEVICES, MODULES } from '../01-ingest/contract.ts';
import type { PreprocessState } from '../03-preprocess/preprocess.ts';
import type { ClusterState } from '../04-cluster/cluster.ts';
import type { ClassifierState } from '../05-classify/mlp.ts';
import { CATEGORICAL, NUMERIC, type ColdStartState } from '../05-classify/coldstart.ts';
import { LENS_NAMES } from '../06-categorize/labels.ts';
import type { ExplainState } from '../08-explain/explain.ts';
import type { TreeNode } from '../08-explain/tree.ts';
import type { DriftReference } from '../09-drift/psi.ts';
import { trendsSchema } from './schema-trends.ts';
import type { Comparison } from '../09-drift/compare.ts';
import type { SegmentProfile } from '../10-report/profile.ts';
import type { SegmentsState } from './types.ts';
import { segmentValueSchema, valueBasisSchema } from './schema-value.ts';
import { bilingual, displayObject, finite, integer, isRecord, nanable, nullableNumber, numbers, positive, strings } from './schema-kit.ts';
import { nextModuleSchema } from './schema-nextmodule.ts';
import { churnSchema } from './schema-churn.ts';

export { finite, integer, nanable } from './schema-kit.ts';
export { manifestSchema, type Manifest, type ManifestHead } from './schema-manifest.ts';

/** preprocess.json: every per-feature array has featureNames.length entries (state-checks.ts). */
export const preprocessSchema = v.object({
  kind: v.literal('finseg.preprocess'),
  version: v.literal(1),
  featureNames: strings,
  medians: numbers,
  logTransform: v.array(v.boolean()),
  clipLow: numbers,
  clipHigh: numbers,
  means: numbers,
  stds: numbers,
  pca: v.object({
    components: v.array(numbers),
    eigenvalues: numbers,
    explainedVarianceRatio: numbers,
    varianceTarget: finite,
    nComponents: integer(0),
  }),
}) satisfies v.GenericSchema<unknown, PreprocessState>;

const kSelectionRow = v.object({
  k: positive,
  silhouette: nanable,
  calinskiHarabasz: nanable,
  daviesBouldin: nanable,
  inertia: nanable,
  minShare: finite,
  stability: nanable,
  eligible: v.boolean(),
});

/** The permutation null's verdict (cluster.json `structure`, manifest metrics.structure). */
const structureCheck = v.object({
  shuffles: integer(0),
  margin: finite,
  rows: v.array(v.object({ k: positive, silhouette: nanable, nullMax: nanable })),
  clear: v.boolean(),
});

/** cluster.json: k centroids of one dimension, k sizes, k stability entries. */
export const clusterSchema = v.object({
  kind: v.literal('finseg.cluster'),
  version: v.literal(2),
  k: positive,
  centroids: v.array(numbers),
  inertia: finite,
  sizes: v.array(integer(0)),
  selection: v.array(kSelectionRow),
  selectionRule: v.string(),
  structure: v.optional(structureCheck),
  stability: v.object({
    resamples: integer(0),
    restarts: positive,
    sampleRows: integer(0),
    meanAri: nanable,
    jaccard: v.array(nanable),
    unstable: v.array(v.boolean()),
    unstableBelow: finite,
  }),
  novelty: v.object({ quantile: finite, distance: finite }),
  seed: integer(0),
  iterations: integer(0),
}) satisfies v.GenericSchema<unknown, ClusterState>;

/** The MLP settings a classifier was trained with (fitClassifier's own checks, as data). */
const classifierParams = v.object({
  hidden: v.array(positive),
  epochs: positive,
  batchSize: positive,
  learningRate: v.pipe(finite, v.gtValue(0, 'expected a positive number')),
  heldOutShare: v.pipe(finite, v.gtValue(0, 'expected a share in (0, 1)'), v.ltValue(1, 'expected a share in (0, 1)')),
  maxTrainRows: positive,
});

/** classifier.json (and coldstart.json's MLP): the tfjs topology as written, weights in base64. */
export const classifierSchema = v.object({
  kind: v.literal('finseg.classifier'),
  version: v.literal(1),
  inputDim: positive,
  classes: integer(2),
  params: classifierParams,
  seed: finite,
  modelTopology: v.custom<unknown>(isRecord, 'expected the tfjs model topology object'),
  weightSpecs: v.array(v.object({ name: v.string(), shape: v.array(integer(0)), dtype: v.literal('float32') })),
  weightDataBase64: v.string(),
  metrics: v.object({
    heldOutAccuracy: v.number(),
    trainAccuracy: v.number(),
    nTrain: v.number(),
    nHeldOut: v.number(),
    confusion: v.array(v.array(v.number())),
    finalLoss: v.number(),
    epochs: v.number(),
  }),
}) satisfies v.GenericSchema<unknown, ClassifierState>;

/** coldstart.json: the signup-attribute encoding, its MLP and the activity profile. */
export const coldStartSchema = v.object({
  kind: v.literal('finseg.coldstart'),
  version: v.literal(2),
  minHistory: v.number(),
  encoding: v.object({
    numeric: v.array(v.object({ name: v.picklist(NUMERIC), median: finite, mean: finite, sd: v.pipe(finite, v.gtValue(0, 'expected a positive sd')) })),
    categorical: v.array(v.object({ name: v.picklist(CATEGORICAL), levels: strings })),
    columns: strings,
  }),
  classifier: classifierSchema,
  metrics: v.object({
    heldOutAccuracy: v.number(),
    majorityBaseline: v.number(),
    majoritySegment: v.number(),
    nTrain: v.number(),
    nHeldOut: v.number(),
    excludedLowHistory: v.number(),
    marginRequired: v.number(),
    used: v.boolean(),
  }),
  activity: v.object({
    recencyFeature: v.nullable(v.string()),
    inactiveAfterDays: v.number(),
    activeSegmentShare: v.number(),
    segmentActiveShare: v.array(nullableNumber),
    activeSegments: v.array(v.boolean()),
  }),
}) satisfies v.GenericSchema<unknown, ColdStartState>;

const lensComposition = v.object({
  lens: v.picklist(LENS_NAMES),
  counts: v.record(v.string(), v.number()),
  shares: v.record(v.string(), nanable),
  plurality: v.string(),
  dominant: v.string(),
  dominantShare: nanable,
  lift: nanable,
  cramersV: nanable,
});

const playbook = v.looseObject({
  editionId: v.string(),
  edition: v.string(),
  deployment: v.picklist(DEPLOYMENTS),
  leadModules: v.array(v.picklist(MODULES)),
  channels: v.array(v.picklist(DEVICES)),
  service: v.string(),
  message: v.string(),
  rationale: v.string(),
  zh: v.object({ edition: v.string(), deployment: v.string(), service: v.string(), message: v.string(), rationale: v.string() }),
  play: v.optional(v.picklist(['win_back', 'retain', 'onboard', 'expand', 'deepen'])),
  actions: v.optional(v.array(v.object({ rule: v.string(), en: v.string(), zh: v.string(), evidence: v.array(bilingual), sells: v.boolean() }))),
});

const segmentCard = v.object({
  id: integer(0),
  size: integer(0),
  share: nanable,
  lenses: v.array(lensComposition),
  distinguishing: v.array(v.looseObject({ feature: v.string(), segmentMean: nanable, restMean: nanable, standardisedDifference: nanable, perfect: v.optional(v.boolean()) })),
  name: bilingual,
  playbook,
  behaviour: displayObject<SegmentsState['cards'][number]['behaviour']>(),
  exampleCustomerIds: strings,
  // Where the fit puts it (lenses and map, before explain adds stability and rules): a bundle read back is the bundle as written.
  value: v.optional(segmentValueSchema),
  stability: v.optional(v.object({ jaccard: nanable, unstable: v.boolean() })),
  explanation: v.optional(v.object({ rules: strings, sql: v.string(), recall: nanable, precision: nanable })),
});

const profileSchema = v.object({
  kind: v.literal('finseg.segment-profile'),
  version: v.literal(1),
  featureNames: strings,
  standardisedMeans: v.array(v.array(nanable)),
  means: v.array(v.array(nullableNumber)),
  modules: strings,
  moduleAdoption: v.nullable(v.array(v.array(nanable))),
  abandonment: v.nullable(displayObject<NonNullable<SegmentProfile['abandonment']>>()),
  feedback: v.nullable(displayObject<NonNullable<SegmentProfile['feedback']>>()),
  projection: displayObject<SegmentProfile['projection']>(),
}) satisfies v.GenericSchema<unknown, SegmentProfile>;

const lensMeasure = v.object({ measurable: v.boolean(), unknownShare: v.number(), needs: v.string() });

/** segments.json: the cards (one per segment) and what the report draws. */
export const segmentsSchema = v.object({
  kind: v.literal('finseg.segments'),
  version: v.literal(1),
  cards: v.array(segmentCard),
  cramersV: v.record(v.string(), nanable),
  lensMeasurability: v.optional(v.object({ size: lensMeasure, industry: lensMeasure, lifecycle: lensMeasure, technology: lensMeasure, buyerRole: lensMeasure })),
  lifecycleFit: v.optional(v.object({ spanDays: nullableNumber })),
  profile: v.optional(profileSchema),
  value: v.optional(valueBasisSchema),
}) satisfies v.GenericSchema<unknown, SegmentsState>;

const treeLeaf = v.object({ kind: v.literal('leaf'), segment: integer(0), customers: v.number(), agreeing: v.number() });
/** A threshold-tree node: a leaf, or a split with two child nodes. */
const treeNode: v.GenericSchema<unknown, TreeNode> = v.variant('kind', [
  treeLeaf,
  v.object({
    kind: v.literal('split'),
    feature: v.string(),
    threshold: finite,
    missingGoesLeft: v.boolean(),
    customers: v.number(),
    left: v.lazy(() => treeNode),
    right: v.lazy(() => treeNode),
  }),
]);

/** explain.json: the threshold tree, its rules and per-segment explanations. */
export const explainSchema = v.object({
  kind: v.literal('finseg.explain'),
  version: v.literal(1),
  method: v.string(),
  params: v.object({ maxLeavesPerSegment: positive, minLeafGain: v.number(), fitSample: positive }),
  featureNames: strings,
  k: positive,
  tree: treeNode,
  leaves: integer(1),
  fidelity: nanable,
  immFidelity: nanable,
  rules: v.array(
    v.object({
      segment: integer(0),
      conditions: v.array(v.object({ feature: v.string(), above: nullableNumber, atMost: nullableNumber, missingIncluded: v.boolean() })),
      text: v.string(),
      sql: v.string(),
      customers: v.number(),
      agreeing: v.number(),
    }),
  ),
  segments: v.array(v.object({ id: integer(0), rules: strings, sql: v.string(), recall: nanable, precision: nanable })),
  sql: v.string(),
  fittedOn: integer(0),
  seed: v.number(),
}) satisfies v.GenericSchema<unknown, ExplainState>;

/** reference.json: production's bins and shares, the baseline drift is measured against. */
export const referenceSchema = v.object({
  kind: v.literal('finseg.drift-reference'),
  version: v.literal(1),
  bins: positive,
  customers: integer(0),
  numeric: v.array(v.object({ name: v.string(), source: v.picklist(['feature', 'attribute']), edges: numbers, shares: numbers, missingShare: finite })),
  categorical: v.array(v.object({ name: v.string(), source: v.picklist(['attribute', 'lens']), shares: v.record(v.string(), finite) })),
  segmentShares: numbers,
  flagShares: v.optional(v.object({ novel: finite, ambiguous: finite })),
}) satisfies v.GenericSchema<unknown, DriftReference>;

/** comparison.json (a retrain's extra file): the decision and what it rests on; drift, migration and gates are display data. */
export const comparisonSchema = v.object({
  kind: v.literal('finseg.comparison'),
  version: v.literal(1),
  production: v.nullable(v.string()),
  customers: v.object({ current: v.number(), productionTraining: nullableNumber }),
  drift: v.nullable(displayObject<NonNullable<Comparison['drift']>>()),
  shares: v.array(v.object({ id: v.number(), name: bilingual, before: nullableNumber, productionNow: nullableNumber, after: nullableNumber })),
  agreement: v.nullable(v.object({ ari: v.number(), customers: v.number() })),
  segments: v.array(
    v.object({ candidateIndex: v.number(), id: v.number(), name: bilingual, status: v.picklist(['kept', 'new']), matchedId: nullableNumber, overlap: v.number(), jaccard: v.number(), ownName: bilingual }),
  ),
  vanished: v.array(v.object({ id: v.number(), name: bilingual, customers: v.number() })),
  nextSegmentId: v.number(),
  migration: v.nullable(displayObject<NonNullable<Comparison['migration']>>()),
  metrics: v.object({
    candidate: v.object({ silhouette: nullableNumber, stability: nullableNumber, heldOutAccuracy: v.number() }),
    production: v.nullable(v.object({ heldOutAccuracy: v.number() })),
  }),
  gates: v.array(displayObject<Comparison['gates'][number]>()),
  decision: v.picklist(['promote', 'hold']),
  reasons: strings,
  // Optional: comparisons written before the mix forecast have none.
  mixForecast: v.optional(v.nullable(v.object({ ids: numbers, now: numbers, next: numbers, transition: v.array(numbers) })), null),
}) satisfies v.GenericSchema<unknown, Comparison>;

/** The schema of each state file, by file name. */
export const STATE_SCHEMAS = {
  'preprocess.json': preprocessSchema,
  'cluster.json': clusterSchema,
  'classifier.json': classifierSchema,
  'segments.json': segmentsSchema,
  'coldstart.json': coldStartSchema,
  'explain.json': explainSchema,
  'reference.json': referenceSchema,
  'trends.json': trendsSchema,
  'churn.json': churnSchema,
  'nextmodule.json': nextModuleSchema,
} as const;

/** The states a bundle may leave out (a model the export could not fit): written and read as checksummed extra files. */
export const OPTIONAL_STATES = ['nextmodule.json', 'churn.json'] as const;
