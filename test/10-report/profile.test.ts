import { describe, expect, it } from 'vitest';
import { MODULES } from '../../pipeline/01-ingest/contract.ts';
import { openDuck, registerCustomerIndex, startPerCustomer } from '../../pipeline/core/duck.ts';
import { fromRows } from '../../pipeline/core/matrix.ts';
import { feedbackFrom, feedbackQuery, moduleUseFrom, moduleUseQuery, segmentProfile } from '../../pipeline/10-report/profile.ts';

/**
 * The report profile on five hand-checkable customers: segment 0 = customers 0–1, segment 1 =
 * customers 2–4. Bit 0 of a module mask is general_ledger, bit 1 receivables_payables.
 */
const labels = Int32Array.from([0, 0, 1, 1, 1]);
const raw = fromRows([
  [1, 0.5],
  [3, Number.NaN],
  [2, 0],
  [4, 1],
  [6, 0.5],
]);
const scaled = fromRows([
  [-1, 0],
  [-0.5, 0],
  [0, -1],
  [0.5, 1],
  [1, 0.5],
]);
const reduced = fromRows([[-2], [-1], [0], [1], [2]]);
const moduleMasks = {
  // c0: GL+RP before, only GL now (RP abandoned); c1: GL before, silent now (churn, not abandonment);
  // c2: RP before and now; c3: GL now only; c4: GL before, RP now (GL abandoned).
  previousMask: Int32Array.from([0b11, 0b01, 0b10, 0b00, 0b01]),
  windowMask: Int32Array.from([0b01, 0b00, 0b10, 0b01, 0b10]),
};
const feedback = { latestNps: Float64Array.from([10, 3, Number.NaN, 9, 7]), tickets: Float64Array.from([1, 0, 2, 0, 4]) };

const profile = segmentProfile({
  labels,
  k: 2,
  featureNames: ['events_90', 'share_invoicing'],
  raw,
  scaled,
  reduced,
  centroids: [[-1.5], [1]],
  explainedVarianceRatio: [0.8],
  moduleUse: moduleMasks,
  feedback,
  seed: 1,
});

describe('segmentProfile', () => {
  it('averages standardised features per segment', () => {
    expect(profile.standardisedMeans).toEqual([
      [-0.75, 0],
      [0.5, 0.1667],
    ]);
  });

  it('averages raw features per segment, skipping undefined values', () => {
    expect(profile.means).toEqual([
      [2, 0.5],
      [4, 0.5],
    ]);
  });

  it('counts module adoption over every customer of the segment', () => {
    const gl = MODULES.indexOf('general_ledger');
    const rp = MODULES.indexOf('receivables_payables');
    expect(profile.moduleAdoption!.map((row) => [row[gl], row[rp]])).toEqual([
      [0.5, 0],
      [0.3333, 0.6667],
    ]);
    expect(profile.moduleAdoption![0]!.length).toBe(MODULES.length);
  });

  it('counts a module as abandoned only when the customer stayed active', () => {
    const a = profile.abandonment!;
    expect(a.previousUsers.map((row) => row.slice(0, 2))).toEqual([
      [2, 1],
      [1, 1],
    ]);
    expect(a.abandoned.map((row) => row.slice(0, 2))).toEqual([
      [0, 1],
      [1, 0],
    ]);
  });

  it('computes NPS from the latest answers and tickets per customer', () => {
    // Segment 0: one promoter (10), one detractor (3) → 0. Segment 1: 9 promoter, 7 passive → +50.
    expect(profile.feedback).toEqual({ respondents: [2, 2], nps: [0, 50], promoters: [1, 1], detractors: [1, 0], ticketsPerCustomer: [0.5, 2] });
  });

  it('stores every customer when the sample is larger than the base, with a flat second axis for one component', () => {
    expect(profile.projection.segment).toEqual([0, 0, 1, 1, 1]);
    expect(profile.projection.x).toEqual([-2, -1, 0, 1, 2]);
    expect(profile.projection.y).toEqual([0, 0, 0, 0, 0]);
    expect(profile.projection.centroids).toEqual([
      [-1.5, 0],
      [1, 0],
    ]);
    expect(profile.projection.explainedVariance).toEqual([0.8, 0]);
  });

  it('draws the same seeded sample twice and a different one with another seed', () => {
    const big = 400;
    const args = {
      labels: Int32Array.from({ length: big }, (_, i) => i % 3),
      k: 3,
      featureNames: ['events_90'],
      raw: fromRows(Array.from({ length: big }, (_, i) => [i])),
      scaled: fromRows(Array.from({ length: big }, (_, i) => [i / big])),
      reduced: fromRows(Array.from({ length: big }, (_, i) => [i, -i])),
      centroids: [
        [0, 0],
        [1, 1],
        [2, 2],
      ],
      explainedVarianceRatio: [0.6, 0.3],
      moduleUse: null,
      feedback: null,
      params: { projectionSample: 50 },
    };
    const a = segmentProfile({ ...args, seed: 5 }).projection;
    const b = segmentProfile({ ...args, seed: 5 }).projection;
    const c = segmentProfile({ ...args, seed: 6 }).projection;
    expect(a.x).toHaveLength(50);
    expect(a).toEqual(b);
    expect(c.x).not.toEqual(a.x);
    expect(segmentProfile({ ...args, seed: 5 }).moduleAdoption).toBeNull();
  });
});

describe('module use and feedback from DuckDB', () => {
  it('reads which modules each customer used in the last window and the one before', async () => {
    const conn = await openDuck();
    await conn.run(`CREATE TABLE usage_events AS SELECT * FROM (VALUES
      ('a', TIMESTAMP '2026-09-30 10:00:00', 'invoicing'),
      ('a', TIMESTAMP '2026-06-01 10:00:00', 'payroll'),
      ('a', TIMESTAMP '2026-07-02 10:00:00', 'invoicing'),
      ('b', TIMESTAMP '2026-05-01 10:00:00', 'tax'),
      ('b', TIMESTAMP '2025-01-01 10:00:00', 'api'),
      ('x', TIMESTAMP '2026-09-01 10:00:00', 'tax')
    ) AS t(customer_id, ts, module)`);
    // As of 2026-09-30: the window is 2026-07-03..09-30, the previous one 2026-04-04..07-02.
    const ids = ['a', 'b', 'c'];
    await registerCustomerIndex(conn, ids);
    const use = moduleUseFrom(await startPerCustomer(conn, ids, [moduleUseQuery('2026-09-30')]));
    conn.closeSync();
    const bit = (m: string) => 1 << MODULES.indexOf(m as (typeof MODULES)[number]);
    expect(Array.from(use.windowMask)).toEqual([bit('invoicing'), 0, 0]);
    expect(Array.from(use.previousMask)).toEqual([bit('payroll') | bit('invoicing'), bit('tax'), 0]);
  });

  it('takes each customer’s latest NPS answer and sums their tickets', async () => {
    const conn = await openDuck();
    await conn.run(`CREATE TABLE feedback AS SELECT * FROM (VALUES
      ('a', TIMESTAMP '2026-01-01 00:00:00', 2, 1),
      ('a', TIMESTAMP '2026-05-01 00:00:00', 9, NULL),
      ('a', TIMESTAMP '2026-06-01 00:00:00', NULL, 3),
      ('b', TIMESTAMP '2026-06-01 00:00:00', NULL, 2)
    ) AS t(customer_id, ts, nps, tickets)`);
    const ids = ['a', 'b', 'c'];
    await registerCustomerIndex(conn, ids);
    const fb = feedbackFrom(await startPerCustomer(conn, ids, [feedbackQuery]));
    conn.closeSync();
    expect(Array.from(fb.latestNps)).toEqual([9, Number.NaN, Number.NaN]);
    expect(Array.from(fb.tickets)).toEqual([4, 2, 0]);
  });
});
