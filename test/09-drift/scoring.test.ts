import { describe, expect, it } from 'vitest';
import { defaultDriftMonitorParams } from '../../pipeline/09-drift/params.ts';
import type { DriftReference } from '../../pipeline/09-drift/psi.ts';
import type { DriftInput } from '../../pipeline/09-drift/reference.ts';
import { DRIFT_SAMPLE, driftSummaryPath, scoringDrift, scoringDriftText, segmentShares, type ScoredBatch } from '../../pipeline/09-drift/scoring.ts';
import { parseConfig } from '../../pipeline/config/config.ts';

/**
 * Drift at scoring on tiny hand-checked batches: one numeric feature with one edge, two segments.
 * The expected numbers are worked out in the comments from PSI = Σ (a − e) ln(a / e).
 */
const limits = { ...defaultDriftMonitorParams.scoring, minCustomers: 1 };
const meta = { model: 'v1', scores: 'batch.csv', partition: null, noveltyQuantile: 0.99 };

/** A reference with one feature `x` split at 10 (half the training customers on each side), two segments of equal share. */
function reference(flagShares?: DriftReference['flagShares']): DriftReference {
  return {
    kind: 'finseg.drift-reference',
    version: 1,
    bins: 2,
    customers: 100,
    numeric: [{ name: 'x', source: 'feature', edges: [10], shares: [0.5, 0.5], missingShare: 0 }],
    categorical: [],
    segmentShares: [0.5, 0.5],
    ...(flagShares ? { flagShares } : {}),
  };
}

/** A batch of the x values, with nearest segments and flags (default: none flagged, all behaviour-scored). */
function batch(x: number[], nearest: number[], over: Partial<ScoredBatch> = {}): ScoredBatch {
  const n = x.length;
  // Only numeric feature references are read here: no attribute or lens is in the reference.
  const inputs = { X: { rows: n, cols: 1, data: Float64Array.from(x) }, featureNames: ['x'], attributes: {}, lenses: {} } as unknown as DriftInput;
  return { inputs, nearest: Int32Array.from(nearest), novel: new Uint8Array(n), ambiguous: new Uint8Array(n), coldStart: new Array(n).fill(false), noMargin: new Array(n).fill(false), ...over };
}

describe('drift of a scored batch', () => {
  it('computes PSI per feature and of the segment mix by hand', () => {
    // x: a quarter at or below 10, three quarters above, none missing:
    // (0.25 − 0.5) ln(0.25 / 0.5) + (0.75 − 0.5) ln(0.75 / 0.5) + (the missing bin: 1e-4 both sides, 0) = 0.25 ln 3 = 0.274653.
    // Segments 0, 0, 0, 1 against 0.5 / 0.5: the same shares, the same PSI.
    const d = scoringDrift(reference(), batch([5, 15, 15, 15], [0, 0, 0, 1]), limits, meta);
    expect(d.inputs).toHaveLength(1);
    expect(d.inputs[0]!.psi).toBeCloseTo(0.25 * Math.log(3), 9);
    expect(d.inputs[0]!.actual).toEqual([0.25, 0.75, 0]);
    expect(d.segmentMix.now).toEqual([0.75, 0.25]);
    expect(d.segmentMix.psi).toBeCloseTo(0.25 * Math.log(3), 9);
    expect(d.driftedInputs).toEqual(['x']);
    expect(d.checks.filter((c) => c.over).map((c) => c.check)).toEqual(['inputs', 'segmentMix']);
    expect(d.drifted).toBe(true);
  });

  it('finds no drift in a batch distributed as at training', () => {
    const d = scoringDrift(reference({ novel: 0.01, ambiguous: 0.05 }), batch([1, 2, 11, 12], [0, 1, 0, 1]), limits, meta);
    expect(d.inputs[0]!.psi).toBe(0);
    expect(d.segmentMix.psi).toBe(0);
    expect(d.drifted).toBe(false);
    expect(d.checks.every((c) => !c.over)).toBe(true);
  });

  it('counts novel and ambiguous shares over the behaviour-scored customers only, against training', () => {
    // Four customers: one cold start (no novelty, no margin), one moved out of an active segment (no margin).
    // Novel among the 3 behaviour-scored (rows 1–3): row 1 → 1/3. Ambiguous among the 2 with a margin (rows 1, 3): row 1 → 1/2,
    // a rise of 0.45 over 0.05; the flags of rows 0 and 2 do not count.
    const d = scoringDrift(
      reference({ novel: 0.01, ambiguous: 0.05 }),
      batch([1, 2, 11, 12], [0, 1, 0, 1], {
        novel: Uint8Array.from([1, 1, 0, 0]),
        ambiguous: Uint8Array.from([1, 1, 1, 0]),
        coldStart: [true, false, false, false],
        noMargin: [false, false, true, false],
      }),
      limits,
      meta,
    );
    expect(d.flags.novel).toBeCloseTo(1 / 3, 12);
    expect(d.flags.ambiguous).toBe(0.5);
    expect(d.flags.behaviourScored).toBe(3);
    expect(d.checks.find((c) => c.check === 'ambiguous')!.value).toBeCloseTo(0.45, 12);
    expect(d.checks.filter((c) => c.over).map((c) => c.check)).toEqual(['novel', 'ambiguous']);
  });

  it('falls back to 1 − the novelty quantile without recorded flag shares, and leaves the ambiguous rise unjudged', () => {
    const d = scoringDrift(reference(), batch([1, 2, 11, 12], [0, 1, 0, 1], { ambiguous: Uint8Array.from([1, 1, 1, 1]) }), limits, meta);
    expect(d.flags.trainingNovel).toBeCloseTo(0.01, 12);
    expect(d.flags.trainingAmbiguous).toBeNull();
    expect(d.checks.find((c) => c.check === 'ambiguous')).toMatchObject({ value: null, over: false });
    expect(d.drifted).toBe(false);
  });

  it('measures but never calls drifted a batch below minCustomers', () => {
    const d = scoringDrift(reference(), batch([5, 15, 15, 15], [0, 0, 0, 1]), { ...limits, minCustomers: 5 }, meta);
    expect(d.driftedInputs).toEqual(['x']);
    expect(d.judged).toBe(false);
    expect(d.drifted).toBe(false);
    expect(scoringDriftText(d)).toContain('not judged: 4 customers, fewer than drift.scoring.minCustomers (5)');
  });

  it('reads a feature the batch lacks as all missing', () => {
    const b = batch([5, 15], [0, 1]);
    b.inputs = { ...b.inputs, featureNames: ['y'] };
    // Everything moves to the missing bin: 2 · (1e-4 − 0.5) ln(1e-4 / 0.5) + (1 − 1e-4) ln(1 / 1e-4).
    const expected = 2 * (1e-4 - 0.5) * Math.log(1e-4 / 0.5) + (1 - 1e-4) * Math.log(1 / 1e-4);
    expect(scoringDrift(reference(), b, limits, meta).inputs[0]!.psi).toBeCloseTo(expected, 9);
  });

  it('measures the input PSIs on every stride-th customer above DRIFT_SAMPLE, the flags on all of them', () => {
    // 2.5 × DRIFT_SAMPLE customers alternating 5, 15 (half each side of the edge, as at training): stride 3 keeps
    // rows 0, 3, 6, … whose values still alternate, so the sample's shares are 1/2 ± one row and PSI ≈ 0.
    const n = 2.5 * DRIFT_SAMPLE;
    const x = Array.from({ length: n }, (_, i) => (i % 2 ? 15 : 5));
    const novel = new Uint8Array(n);
    novel[1] = 1; // a row outside the sample still counts
    const d = scoringDrift(reference(), batch(x, x.map((_, i) => i % 2), { novel }), limits, meta);
    expect(d.sampledCustomers).toBe(Math.ceil(n / 3));
    expect(d.inputs[0]!.psi).toBeLessThan(1e-8);
    expect(d.flags.novel).toBe(1 / n);
    expect(d.segmentMix.now).toEqual([0.5, 0.5]);
  });

  it('reports but does not judge an input the batch has no column for', () => {
    // x all above 10 would be PSI 0.25 ln 3 + … > 0.2; as an absent input it is listed, not judged.
    const d = scoringDrift(reference(), batch([15, 15, 15, 15], [0, 1, 0, 1], { absent: ['x'] }), limits, meta);
    expect(d.inputs[0]!.psi).toBeGreaterThan(0.2);
    expect(d.absentInputs).toEqual(['x']);
    expect(d.driftedInputs).toEqual([]);
    expect(d.drifted).toBe(false);
    expect(scoringDriftText(d)).toContain('not in the batch (not judged): x');
  });

  it('names the summary after the scores file, beside it', () => {
    expect(driftSummaryPath('out/scores.parquet')).toBe('out/scores.parquet.drift.json');
  });

  it('shares segment indices, ignoring customers with no segment', () => {
    expect(segmentShares(Int32Array.from([0, 2, 2, -1]), 3)).toEqual([1 / 3, 0, 2 / 3]);
  });
});

describe('drift.scoring settings', () => {
  it('defaults the limits and rejects values out of range', () => {
    expect(parseConfig({}).drift.scoring).toEqual({ psiWarn: 0.2, novelShareWarn: 0.05, ambiguousRiseWarn: 0.1, segmentMixPsiWarn: 0.2, minCustomers: 500 });
    expect(parseConfig({ drift: { scoring: { psiWarn: 0.3 } } }).drift.scoring.psiWarn).toBe(0.3);
    expect(() => parseConfig({ drift: { scoring: { novelShareWarn: 0 } } }, 'c.json')).toThrow('c.json: drift.scoring.novelShareWarn: expected a number in (0, 1], got 0');
    expect(() => parseConfig({ drift: { scoring: { minCustomers: 0 } } }, 'c.json')).toThrow('c.json: drift.scoring.minCustomers: expected an integer >= 1, got 0');
  });
});
