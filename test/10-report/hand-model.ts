import type { CustomerLenses } from '../../pipeline/06-categorize/lenses.ts';
import { mapSegments } from '../../pipeline/07-map/segments.ts';
import { fromRows } from '../../pipeline/core/matrix.ts';
import type { SegmentsState } from '../../pipeline/model/types.ts';
import type { ManifestView } from '../../pipeline/10-report/input.ts';
import { segmentProfile } from '../../pipeline/10-report/profile.ts';

/** A hand-built two-segment bundle (manifest + segments state) for the report's unit tests. */

/** Markup and quotes that every data-derived string in the hand-built model carries. */
export const EVIL = `<script>alert("x")</script>'`;

function lensesOf(n: number): CustomerLenses {
  const half = (a: string, b: string) => Array.from({ length: n }, (_, i) => (i < n / 2 ? a : b));
  return {
    size: half('micro', 'large'),
    industry: half('retail', 'manufacturing'),
    lifecycle: half('startup', 'mature'),
    technology: half('high', 'low'),
    buyerRole: half('owner', 'finance'),
  } as CustomerLenses;
}

/** Six customers, two clean segments; the second feature has a name from no catalog, with markup in it. */
export function twoSegments(withProfile: boolean): { manifest: ManifestView; segments: SegmentsState } {
  const n = 6;
  const labels = Int32Array.from([0, 0, 0, 1, 1, 1]);
  const featureNames = ['device_mobile_share', `<img src=x onerror=alert(1)>`];
  const raw = fromRows([
    [0.9, 1],
    [0.8, 2],
    [0.7, 1],
    [0.1, 9],
    [0.2, 8],
    [0.1, 9],
  ]);
  const mapped = mapSegments({ labels, k: 2, lenses: lensesOf(n), features: raw, featureNames, customerIds: [`${EVIL}1`, 'b', 'c', 'd', 'e', 'f'] });
  const segments: SegmentsState = { kind: 'finseg.segments', version: 1, cards: mapped.cards, cramersV: mapped.cramersV };
  segments.cards[0]!.name = { en: `Retail ${EVIL}`, zh: `零售 ${EVIL}` };
  if (withProfile) {
    segments.profile = segmentProfile({
      labels,
      k: 2,
      featureNames,
      raw,
      scaled: raw,
      reduced: fromRows([[1, 0], [1, 1], [2, 0], [-1, 0], [-2, 1], [-1, -1]]),
      centroids: [
        [1.3, 0.3],
        [-1.3, 0],
      ],
      explainedVarianceRatio: [0.7, 0.2],
      moduleUse: { windowMask: Int32Array.from([1, 1, 3, 2, 2, 0]), previousMask: Int32Array.from([3, 3, 3, 3, 3, 3]) },
      feedback: { latestNps: Float64Array.from([10, 9, 2, 5, 6, 10]), tickets: Float64Array.from([0, 1, 0, 3, 2, 1]) },
      seed: 3,
    });
  }
  const manifest = {
    kind: 'finseg.bundle',
    formatVersion: 1,
    version: '20261127-080000-abcdef12',
    createdAt: '2026-11-27T08:00:00.000Z',
    finsegVersion: '0.1.0',
    parentVersion: null,
    files: {},
    seeds: { run: 42 },
    input: { dataDir: `/data/${EVIL}`, asOf: '2026-09-30', tables: { customers: { read: 7, accepted: 6, quarantined: 1, byReason: { [`dup${EVIL}`]: 1 } } }, absentTables: ['feedback'] },
    features: { names: featureNames, dropped: [{ feature: `x${EVIL}`, reason: `r${EVIL}` }] },
    metrics: {
      customers: n,
      k: 2,
      silhouette: 0.61,
      kSelection: [
        { k: 2, silhouette: 0.61, calinskiHarabasz: 40.5, daviesBouldin: 0.5, inertia: 3.2, minShare: 0.5, eligible: true },
        { k: 3, silhouette: 0.4, calinskiHarabasz: 30, daviesBouldin: 0.8, inertia: 2.1, minShare: 0.17, eligible: true },
      ],
      classifier: { heldOutAccuracy: 0.95, nHeldOut: 2 },
      plantedArchetypeAri: null,
      pcaComponents: 2,
      pcaExplainedVariance: 0.9,
      cramersV: mapped.cramersV,
    },
  } as unknown as ManifestView;
  return { manifest, segments };
}

