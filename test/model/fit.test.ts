import { beforeAll, describe, expect, it } from 'vitest';
import { MODULES } from '../../pipeline/01-ingest/contract.ts';
import type { FeatureTable } from '../../pipeline/02-features/features.ts';
import { assignClusters } from '../../pipeline/04-cluster/cluster.ts';
import { signupAttributes } from '../../pipeline/05-classify/coldstart.ts';
import { decideSegments } from '../../pipeline/05-classify/segment-rule.ts';
import { trendsFromCounts } from '../../pipeline/09-drift/trends.ts';
import { defaultConfig, type FinsegConfig } from '../../pipeline/config/config.ts';
import { makeRng } from '../../pipeline/core/random.ts';
import { fitModel, type FitSidecars, type FittedModel, type SegmentMonthlyCounts } from '../../pipeline/model/fit.ts';
import { withIdentities } from '../../pipeline/model/identities.ts';
import { assignmentsCsv } from '../../pipeline/model/write.ts';
import { STATE_FILES, toJson } from '../../pipeline/registry/bundle.ts';

const N = 240;
const FEATURES = ['events_90', 'recency_days', 'txn_count_90', 'txn_volume_90', 'tenure_days'];
/** Three planted groups, far apart in every feature: k-means has an easy, unambiguous answer. */
const CENTRES = [
  [5, 80, 2, 100, 200],
  [60, 3, 30, 5000, 900],
  [200, 1, 90, 20000, 1500],
];

/** A feature table of N customers in three groups (customer i in group i % 3); a tenth has little history. */
function plantedTable(): FeatureTable {
  const rng = makeRng(11);
  const p = FEATURES.length;
  const data = new Float64Array(N * p);
  for (let i = 0; i < N; i++) for (let j = 0; j < p; j++) data[i * p + j] = CENTRES[i % 3]![j]! * (1 + 0.1 * rng.normal());
  const pick = <T>(xs: readonly T[], i: number) => xs[i % xs.length]!;
  return {
    customerIds: Array.from({ length: N }, (_, i) => `C${String(i).padStart(4, '0')}`),
    featureNames: FEATURES,
    X: { rows: N, cols: p, data },
    history: Float64Array.from({ length: N }, (_, i) => (i % 10 === 0 ? 2 : 40 + (i % 7))),
    dropped: [],
    attributes: {
      industry: Array.from({ length: N }, (_, i) => pick(['retail', 'construction', 'professional_services'], i)),
      region: Array.from({ length: N }, (_, i) => pick(['East', 'West'], i)),
      edition: Array.from({ length: N }, (_, i) => pick(['Starter', 'Pro'], i)),
      deployment: Array.from({ length: N }, (_, i) => pick(['cloud', 'on_prem'], i)),
      buyerRole: Array.from({ length: N }, (_, i) => pick(['owner', 'finance'], i)),
      signupDate: Array.from({ length: N }, () => '2024-01-15'),
      employees: Float64Array.from({ length: N }, (_, i) => 5 + (i % 3) * 40),
      annualRevenue: Float64Array.from({ length: N }, (_, i) => 1e5 * (1 + (i % 3))),
      foundedYear: Float64Array.from({ length: N }, (_, i) => 2000 + (i % 20)),
    },
    asOf: '2025-06-30',
  };
}

/** Monthly counts as the DuckDB side read would give them: `active` (k, T), `used` (k, T, modules), every value known. */
function monthlyCounts(k: number): SegmentMonthlyCounts {
  const months = Array.from({ length: 8 }, (_, t) => 2024 * 12 + t);
  const T = months.length;
  const M = MODULES.length;
  const active = Float64Array.from({ length: k * T }, (_, i) => 20 + (i % 5));
  const used = Float64Array.from({ length: k * T * M }, (_, i) => (i * 7) % 19);
  return { counts: { active, used }, months };
}

function smallConfig(): FinsegConfig {
  const config = defaultConfig();
  config.cluster.kMin = 2;
  config.cluster.kMax = 4;
  config.cluster.stabilityResamples = 3;
  return config;
}

function sidecars(): FitSidecars & { counts: SegmentMonthlyCounts[] } {
  const counts: SegmentMonthlyCounts[] = [];
  return {
    counts,
    segmentReads: async (_labels, k) => {
      const c = monthlyCounts(k);
      counts.push(c);
      return { monthlyCounts: Promise.resolve(c), plantedTruthAri: Promise.resolve(null) };
    },
  };
}

describe('fitModel on an in-memory feature table', () => {
  const table = plantedTable();
  const config = smallConfig();
  let fitted: FittedModel;
  let again: FittedModel;

  beforeAll(async () => {
    fitted = await fitModel({ features: table, vendorModules: [], homeCurrency: null }, config, sidecars());
    again = await fitModel({ features: plantedTable(), vendorModules: [], homeCurrency: null }, smallConfig(), sidecars());
  }, 120_000);

  it('returns every state file a bundle stores, each of its own kind', () => {
    expect(Object.keys(fitted.states)).toEqual([...STATE_FILES]);
    const kinds = Object.values(fitted.states).map((s) => (s as { kind: string }).kind);
    expect(kinds).toEqual(['finseg.preprocess', 'finseg.cluster', 'finseg.classifier', 'finseg.segments', 'finseg.coldstart', 'finseg.explain', 'finseg.drift-reference', 'finseg.trends']);
  });

  it('finds the three planted groups, every label in [0, k)', () => {
    const k = fitted.states['cluster.json'].k;
    expect(k).toBe(3);
    expect(fitted.labels).toHaveLength(N);
    for (const l of fitted.labels) expect(l >= 0 && l < k).toBe(true);
    // One segment per planted group: customers of a group share a label, and groups differ.
    const groupLabel = [0, 1, 2].map((g) => fitted.labels[g]!);
    for (let i = 0; i < N; i++) expect(fitted.labels[i]).toBe(groupLabel[i % 3]);
    expect(new Set(groupLabel).size).toBe(3);
    expect(fitted.metrics.segmentSizes.reduce((s, x) => s + x, 0)).toBe(N);
    expect(fitted.metrics.customers).toBe(N);
    expect(fitted.metrics.k).toBe(k);
  });

  it('numbers cards, trends and seeds consistently', () => {
    const k = fitted.states['cluster.json'].k;
    expect(fitted.states['segments.json'].cards.map((c) => c.id)).toEqual(Array.from({ length: k }, (_, i) => i));
    expect(fitted.states['trends.json'].segments.map((s) => s.segmentId)).toEqual(Array.from({ length: k }, (_, i) => i));
    expect(fitted.states['trends.json'].months).toHaveLength(8);
    expect(fitted.seeds.run).toBe(config.seed);
    expect(fitted.states['cluster.json'].seed).toBe(fitted.seeds.cluster);
  });

  it('reports per customer what the segment rule gives, as score would apply it', async () => {
    const { states } = fitted;
    const cluster = states['cluster.json'];
    const assignment = assignClusters(cluster, fitted.reduced);
    const scores = { segment: assignment.labels.slice(), distance: assignment.distances.slice() };
    const recency = Float64Array.from({ length: N }, (_, i) => table.X.data[i * FEATURES.length + 1]!);
    await decideSegments(states['coldstart.json'], { reduced: fitted.reduced, centroids: cluster.centroids, history: table.history, recencyDays: recency, attributes: signupAttributes(table.attributes, fitted.lenses) }, scores);
    expect(Array.from(fitted.reported.segment)).toEqual(Array.from(scores.segment));
    expect(Array.from(fitted.reported.distance)).toEqual(Array.from(scores.distance));
    const differ = fitted.reported.segment.filter((s, i) => s !== fitted.labels[i]).length;
    expect(fitted.metrics.coldStart.trainingCustomers.differFromKMeans).toBe(differ);
    expect(fitted.metrics.coldStart.trainingCustomers.insufficientHistory).toBe(N / 10);
  });

  it('gives the same states for the same input and seed', () => {
    for (const name of STATE_FILES) expect(toJson(again.states[name]), name).toBe(toJson(fitted.states[name]));
  });
});

describe('withIdentities', () => {
  let fitted: FittedModel;
  let counts: SegmentMonthlyCounts;

  beforeAll(async () => {
    const side = sidecars();
    fitted = await fitModel({ features: plantedTable(), vendorModules: [], homeCurrency: null }, smallConfig(), side);
    counts = side.counts[0]!;
  }, 120_000);

  it('gives each segment index its public id and name, and the trends follow', () => {
    const cards = fitted.states['segments.json'].cards;
    const identities = cards.map((c, i) => ({ id: [7, 2, 11][i]!, name: { en: `Segment ${i} renamed`, zh: `细分 ${i}` } }));
    const renamed = withIdentities(fitted, identities);
    const after = renamed.states['segments.json'].cards;
    expect(after.map((c) => c.id)).toEqual([7, 2, 11]);
    expect(after.map((c) => c.name)).toEqual(identities.map((x) => x.name));
    // Everything else on a card is as fitted, in the same key order.
    after.forEach((c, i) => expect(toJson({ ...c, id: cards[i]!.id, name: cards[i]!.name })).toBe(toJson(cards[i])));
    // Trends as if built from the same counts under the new ids: byte for byte.
    const trends = fitted.config.drift.trends;
    expect(toJson(renamed.states['trends.json'])).toBe(toJson(trendsFromCounts(counts.counts, [7, 2, 11], counts.months, trends)));
    expect(renamed.states['trends.json'].segments.map((s) => s.segmentId)).toEqual([7, 2, 11]);
    // The assignments file reads the ids from the cards.
    const csv = assignmentsCsv(fitted.input.features.customerIds, renamed.labels, after.map((c) => c.id)).split('\n');
    expect(csv[1]).toBe(`C0000,${[7, 2, 11][fitted.labels[0]!]}`);
  });

  it('leaves the fitted model and every other state as they were', () => {
    const before = toJson(fitted.states['segments.json']);
    const renamed = withIdentities(fitted, fitted.states['segments.json'].cards.map((_, i) => ({ id: 100 + i, name: { en: 'x', zh: 'x' } })));
    expect(toJson(fitted.states['segments.json'])).toBe(before);
    for (const name of STATE_FILES) if (name !== 'segments.json' && name !== 'trends.json') expect(renamed.states[name]).toBe(fitted.states[name]);
  });

  it('changes nothing under the fit\'s own ids and names', () => {
    const same = withIdentities(fitted, fitted.states['segments.json'].cards.map((c) => ({ id: c.id, name: c.name })));
    for (const name of STATE_FILES) expect(toJson(same.states[name])).toBe(toJson(fitted.states[name]));
  });

  it('refuses a list of another length', () => {
    expect(() => withIdentities(fitted, [{ id: 1, name: { en: 'a', zh: 'a' } }])).toThrow(/1 identities for 3 segments/);
  });
});
