import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { ingest } from '../../pipeline/01-ingest/ingest.ts';
import { computeFeatures, featureSql, type FeatureTable } from '../../pipeline/02-features/features.ts';
import { applyPreprocess, fitPreprocess } from '../../pipeline/03-preprocess/preprocess.ts';
import { assignClusters, fitClusters, type ClusterState } from '../../pipeline/04-cluster/cluster.ts';
import { applyExplain, fitExplain, segmentEvidence, type ExplainState } from '../../pipeline/08-explain/explain.ts';
import { defaultExplainParams } from '../../pipeline/08-explain/params.ts';
import { parseState } from '../../pipeline/model/load.ts';
import { defaultConfig } from '../../pipeline/config/config.ts';
import { openDuck, queryRows, readColumns, sqlIdent } from '../../pipeline/core/duck.ts';
import { quietLogger } from '../../pipeline/core/log.ts';
import { defaultGenerateParams, generateDataset } from '../../pipeline/generate/generate.ts';

/**
 * The explain stage on generated data with planted archetypes, through the real pipeline up to
 * the cluster stage: the tree must agree with k-means on >= 90% of customers, and its SQL, run
 * in DuckDB on the catalog's own feature query, must reproduce the tree's assignment exactly.
 */
const config = defaultConfig();
let conn: DuckDBConnection;
let features: FeatureTable;
let cluster: ClusterState;
let labels: Int32Array;
let state: ExplainState;
let asOf: string;
let medians: number[];

beforeAll(async () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'finseg-explain-')), 'data');
  await generateDataset(dir, { ...defaultGenerateParams, customers: 3000, seed: 17 }, 'parquet', quietLogger);
  conn = await openDuck();
  const ingested = await ingest(conn, dir, config.ingest, null, quietLogger);
  asOf = ingested.asOf;
  features = await computeFeatures(conn, asOf, config.features, ingested.absentTables);
  const { state: preprocess } = fitPreprocess(features.X, features.featureNames, config.preprocess);
  medians = preprocess.medians;
  const reduced = applyPreprocess(preprocess, features.X);
  cluster = fitClusters(reduced, config.cluster, 42);
  labels = assignClusters(cluster, reduced).labels;
  state = fitExplain({ X: features.X, featureNames: features.featureNames, labels, k: cluster.k, missingAs: medians }, config.explain, 7);
  await conn.run(`CREATE TABLE features AS ${featureSql(asOf, config.features)}`);
}, 120_000);
afterAll(() => conn?.closeSync());

describe('threshold tree on generated data', () => {
  it('agrees with k-means on at least 90% of customers, with at most two leaves per segment', () => {
    expect(state.fidelity).toBeGreaterThanOrEqual(0.9);
    expect(state.leaves).toBeGreaterThanOrEqual(cluster.k);
    expect(state.leaves).toBeLessThanOrEqual(2 * cluster.k);
    // Growing beyond one leaf per segment never loses agreement.
    expect(state.fidelity).toBeGreaterThanOrEqual(state.immFidelity);
    const agree = applyExplain(state, features.X, features.featureNames).filter((s, i) => s === labels[i]).length;
    expect(state.fidelity).toBe(agree / labels.length);
  });

  it('gives every segment at least one rule, with recall and precision from the same assignment', () => {
    expect(state.segments).toHaveLength(cluster.k);
    for (const s of state.segments) {
      expect(s.rules.length).toBeGreaterThanOrEqual(1);
      expect(s.recall).toBeGreaterThan(0.5);
      expect(s.precision).toBeGreaterThan(0.5);
    }
  });

  it('exports SQL that DuckDB runs on the catalog feature table and that reproduces the tree exactly', async () => {
    const sqlRows = await readColumns(conn, `SELECT customer_id, (${state.sql}) AS segment FROM features ORDER BY customer_id`, ['customer_id']);
    expect(sqlRows.text.customer_id).toEqual(features.customerIds);
    expect(Array.from(sqlRows.numeric.segment!)).toEqual(Array.from(applyExplain(state, features.X, features.featureNames)));
  });

  it('exercises missing values: customers with a NULL in a split feature land where the tree puts them', async () => {
    const used = [...new Set(state.rules.flatMap((r) => r.conditions.map((c) => c.feature)))];
    const rows = await queryRows(conn, `SELECT count(*) AS n FROM features WHERE ${used.map((f) => `${sqlIdent(f)} IS NULL`).join(' OR ')}`);
    // The exact match above covers these rows too; make sure there are some.
    expect(Number(rows[0]!.n)).toBeGreaterThan(0);
  });

  it('exports a per-segment predicate that selects exactly the tree\'s customers of that segment', async () => {
    const tree = applyExplain(state, features.X, features.featureNames);
    const counts = await queryRows(conn, `SELECT ${state.segments.map((s) => `count(*) FILTER (WHERE ${s.sql}) AS s${s.id}`).join(', ')} FROM features`);
    expect(state.segments.map((s) => Number(counts[0]![`s${s.id}`]))).toEqual(state.segments.map((s) => tree.filter((t) => t === s.id).length));
  });

  it('is deterministic and round-trips through JSON', () => {
    const again = fitExplain({ X: features.X, featureNames: features.featureNames, labels, k: cluster.k, missingAs: medians }, config.explain, 7);
    expect(again).toEqual(state);
    const loaded = parseState('explain.json', JSON.parse(JSON.stringify(state)));
    expect(Array.from(applyExplain(loaded, features.X, features.featureNames))).toEqual(Array.from(applyExplain(state, features.X, features.featureNames)));
  });

  it('puts each segment\'s stability and rules on its card evidence', () => {
    const evidence = segmentEvidence(cluster.stability, state);
    expect(evidence).toHaveLength(cluster.k);
    expect(evidence[0]).toEqual({
      stability: { jaccard: cluster.stability.jaccard[0], unstable: cluster.stability.unstable[0] },
      explanation: { rules: state.segments[0]!.rules, sql: state.segments[0]!.sql, recall: state.segments[0]!.recall, precision: state.segments[0]!.precision },
    });
  });
});

describe('fitExplain parameters and loading', () => {
  it('fits on a seeded sample when there are more customers than fitSample, and measures fidelity on all', () => {
    const small = fitExplain({ X: features.X, featureNames: features.featureNames, labels, k: cluster.k, missingAs: new Array(features.X.cols).fill(0) }, { ...defaultExplainParams, fitSample: 500 }, 7);
    expect(small.fittedOn).toBe(500);
    expect(small.fidelity).toBe(applyExplain(small, features.X, features.featureNames).filter((s, i) => s === labels[i]).length / labels.length);
  });

  it('rejects invalid parameters and a state of another kind, version or with a broken tree', () => {
    const input = { X: features.X, featureNames: features.featureNames, labels, k: cluster.k, missingAs: new Array(features.X.cols).fill(0) };
    expect(() => fitExplain(input, { ...defaultExplainParams, maxLeavesPerSegment: 0 }, 7)).toThrow(/invalid explain parameters/);
    const json = JSON.parse(JSON.stringify(state));
    expect(() => parseState('explain.json', { ...json, kind: 'finseg.cluster' })).toThrow(/expected "finseg\.explain"/);
    expect(() => parseState('explain.json', { ...json, version: 2 })).toThrow(/finseg\.explain format version 2, this finseg reads version 1/);
    const leaf = (segment: number) => ({ kind: 'leaf', segment, customers: 1, agreeing: 1 });
    expect(() => parseState('explain.json', { ...json, tree: { kind: 'split', feature: 'nope', threshold: 1, missingGoesLeft: true, customers: 2, left: leaf(0), right: leaf(1) } })).toThrow(/unknown feature "nope"/);
    expect(() => parseState('explain.json', { ...json, tree: { kind: 'split', feature: 'nope', threshold: 1, missingGoesLeft: true, left: null, right: null } })).toThrow(/^explain\.json: tree\.customers: missing$/);
    expect(() => parseState('explain.json', { ...json, tree: leaf(cluster.k) })).toThrow(/outside \[0, /);
  });
});
