import type { PreprocessState } from '../03-preprocess/preprocess.ts';
import type { fitClusters } from '../04-cluster/cluster.ts';
import type { fitClassifier } from '../05-classify/mlp.ts';
import type { fitColdStart } from '../05-classify/coldstart.ts';
import type { LifecycleFit } from '../06-categorize/lifecycle.ts';
import type { LensMeasurability } from '../06-categorize/measurability.ts';
import type { mapSegments } from '../07-map/segments.ts';
import type { SegmentValue, ValueBasis } from '../07-map/value.ts';
import type { fitExplain, SegmentEvidence } from '../08-explain/explain.ts';
import type { fitDriftReference } from '../09-drift/reference.ts';
import type { TrendsState } from '../09-drift/trends.ts';
import type { SegmentProfile } from '../10-report/profile.ts';
import type { NextModuleState } from '../07-map/next-module.ts';
import type { ChurnState } from '../05-classify/churn.ts';

/** The segments state stored in a bundle: the cards and the lens association. */
export interface SegmentsState {
  kind: 'finseg.segments';
  version: 1;
  /** The map stage's cards plus each segment's bootstrap stability and threshold-tree rules (absent in states built without them). */
  cards: (ReturnType<typeof mapSegments>['cards'][number] & Partial<SegmentEvidence> & { value?: SegmentValue })[];
  cramersV: Record<string, number>;
  /** Per lens, whether the training customers' labels say anything (≥ 90% unknown = not measurable from this export). */
  lensMeasurability?: LensMeasurability;
  /** The lifecycle rule's training state (the data's span), so scoring calls the same customers startups. */
  lifecycleFit?: LifecycleFit;
  /** What the HTML report draws (profiles, module use, PCA sample), computed here because report never reads data. */
  profile?: SegmentProfile;
  /** Value of all customers and what it was measured on (07-map/value.ts); absent without a subscriptions table. */
  value?: ValueBasis;
}

/** Every fitted state a bundle stores, by file name: what fitModel returns and loadModel reads back. */
export interface BundleStates {
  'preprocess.json': PreprocessState;
  'cluster.json': ReturnType<typeof fitClusters>;
  'classifier.json': Awaited<ReturnType<typeof fitClassifier>>;
  'segments.json': SegmentsState;
  'coldstart.json': Awaited<ReturnType<typeof fitColdStart>>;
  'explain.json': ReturnType<typeof fitExplain>;
  'reference.json': ReturnType<typeof fitDriftReference>;
  'trends.json': TrendsState;
  /** Next best module (07-map/next-module.ts); absent when the training customers show no module use. */
  'nextmodule.json'?: NextModuleState;
  /** The churn propensity model, when the export had a churn label (docs/churn.md). */
  'churn.json'?: ChurnState;
}
