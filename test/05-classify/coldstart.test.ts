import { beforeAll, describe, expect, it } from 'vitest';
import {
  applyColdStart,
  coldStartRows,
  defaultColdStartParams,
  encodeSignup,
  fitColdStart,
  fitColdStartEncoding,
  loadColdStartState,
  type ColdStartParams,
  type ColdStartState,
  type SignupAttributes,
} from '../../pipeline/05-classify/coldstart.ts';
import { initBackend } from '../../pipeline/05-classify/backend.ts';
import { InputError } from '../../pipeline/core/errors.ts';
import { quietLogger } from '../../pipeline/core/log.ts';
import { makeRng } from '../../pipeline/core/random.ts';

/** Signup attributes from rows; unset numbers are NaN, unset strings null. */
function signups(rows: Partial<Record<keyof SignupAttributes, string | number | null>>[]): SignupAttributes {
  const num = (k: keyof SignupAttributes) => Float64Array.from(rows, (r) => (r[k] as number | undefined) ?? Number.NaN);
  const str = (k: keyof SignupAttributes) => rows.map((r) => (r[k] as string | null | undefined) ?? null);
  return {
    industry: rows.map((r) => (r.industry as string | undefined) ?? 'unknown'),
    buyerRole: rows.map((r) => (r.buyerRole as string | undefined) ?? 'unknown'),
    region: str('region'),
    deployment: str('deployment'),
    edition: str('edition'),
    employees: num('employees'),
    annualRevenue: num('annualRevenue'),
    foundedYear: num('foundedYear'),
    signupDate: str('signupDate'),
  };
}

const four = signups([
  { employees: 9, foundedYear: 2020, signupDate: '2024-03-01', industry: 'retail', buyerRole: 'owner', region: 'East', deployment: 'cloud', edition: 'Starter' },
  { employees: 99, annualRevenue: 999, signupDate: '2024-03-01', industry: 'retail', buyerRole: 'finance', region: 'east ', deployment: 'On-Prem' },
  { annualRevenue: 99, foundedYear: 2000, signupDate: '2024-03-01', industry: 'manufacturing', region: 'North', edition: 'Starter' },
  { employees: 0, annualRevenue: 9, foundedYear: 2030, signupDate: '2024-03-01', industry: 'retail', buyerRole: 'owner', region: 'East', deployment: 'cloud', edition: 'Pro' },
]);

describe('cold-start encoding on four hand-checked customers', () => {
  const enc = fitColdStartEncoding(four, { minCategoryCount: 2 });
  const ln10 = Math.log(10);

  it('imputes the median and standardises the imputed column (log1p of head count and revenue, age at signup)', () => {
    // log1p(employees): ln10, ln100, missing → ln10, 0: mean ln10, sd ln10·√(2/3)
    expect(enc.numeric[0]!.name).toBe('log_employees');
    expect(enc.numeric[0]!.median).toBeCloseTo(ln10, 12);
    expect(enc.numeric[0]!.mean).toBeCloseTo(ln10, 12);
    expect(enc.numeric[0]!.sd).toBeCloseTo(ln10 * Math.sqrt(2 / 3), 12);
    // age at signup: 4, missing → 4, 24, 2030 after signup clipped to 0: mean 8, sd √(352 / 3)
    expect(enc.numeric[2]).toEqual({ name: 'age_at_signup_years', median: 4, mean: 8, sd: Math.sqrt(352 / 3) });
  });

  it('keeps levels seen at least minCategoryCount times, plus other and unknown, sorted', () => {
    expect(Object.fromEntries(enc.categorical.map((c) => [c.name, c.levels]))).toEqual({
      industry: ['other', 'retail', 'unknown'],
      buyer_role: ['other', 'owner', 'unknown'],
      region: ['east', 'other', 'unknown'],
      deployment: ['cloud', 'other', 'unknown'],
      edition: ['other', 'starter', 'unknown'],
    });
    expect(enc.columns.slice(0, 7)).toEqual(['log_employees', 'log_employees_missing', 'log_annual_revenue', 'log_annual_revenue_missing', 'age_at_signup_years', 'age_at_signup_years_missing', 'industry=other']);
    expect(enc.columns).toHaveLength(6 + 15);
  });

  it('encodes a row: scaled numbers with missing flags, then one hot per categorical', () => {
    const X = encodeSignup(enc, four);
    const row1 = Array.from(X.data.subarray(X.cols, 2 * X.cols));
    const s = Math.sqrt(3 / 2);
    expect(row1.slice(0, 6).map((x) => Number(x.toFixed(9)))).toEqual([Number(s.toFixed(9)), 0, Number(s.toFixed(9)), 0, Number(((4 - 8) / Math.sqrt(352 / 3)).toFixed(9)), 1]);
    // retail; finance is rare → other; 'east ' → east; On-Prem → on_prem, rare → other; no edition → unknown
    expect(row1.slice(6)).toEqual([0, 1, 0, 1, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1]);
  });

  it('sends values never seen in training to other and missing ones to unknown', () => {
    const X = encodeSignup(enc, signups([{ industry: 'construction', region: 'Mars', deployment: 'hybrid', edition: 'Starter', signupDate: null }]));
    const hot = enc.columns.filter((_, j) => j >= 6 && X.data[j] === 1);
    expect(hot).toEqual(['industry=other', 'buyer_role=unknown', 'region=other', 'deployment=other', 'edition=starter']);
    expect([X.data[1], X.data[3], X.data[5]]).toEqual([1, 1, 1]);
  });

  it('encodes only the listed customers, in the order listed, exactly as their rows of the full encoding', () => {
    const all = encodeSignup(enc, four);
    const listed = encodeSignup(enc, four, [3, 1]);
    expect(listed.rows).toBe(2);
    expect(listed.cols).toBe(all.cols);
    expect(Array.from(listed.data)).toEqual([...all.data.subarray(3 * all.cols, 4 * all.cols), ...all.data.subarray(all.cols, 2 * all.cols)]);
  });

  it('fits on the selected rows only', () => {
    const partial = fitColdStartEncoding(four, { minCategoryCount: 1 }, [true, true, false, false]);
    expect(partial.categorical.find((c) => c.name === 'region')!.levels).toEqual(['east', 'other', 'unknown']);
    expect(partial.numeric[0]!.median).toBeCloseTo((Math.log(10) + Math.log(100)) / 2, 12);
  });
});

describe('cold-start rows', () => {
  it('marks customers below the threshold as cold', () => {
    expect(coldStartRows([0, 2, 3, 10, Number.NaN], 3)).toEqual([true, true, false, false, true]);
  });
});

/**
 * 1,200 synthetic customers in 3 segments: industry and size say which segment with 85%
 * certainty, so signup attributes recover it well above the 50% majority class.
 */
function synthetic(): { attrs: SignupAttributes; labels: Int32Array; history: Float64Array } {
  const rng = makeRng(7);
  const rows: Partial<Record<keyof SignupAttributes, string | number | null>>[] = [];
  const labels = new Int32Array(1200);
  const history = new Float64Array(1200);
  const industries = ['retail', 'manufacturing', 'services'];
  for (let i = 0; i < 1200; i++) {
    const segment = i % 4 === 0 ? 1 : i % 4 === 1 ? 2 : 0; // shares 50% / 25% / 25%
    labels[i] = segment;
    const typical = rng.next() < 0.85;
    const industry = typical ? industries[segment]! : industries[rng.int(3)]!;
    rows.push({ industry, employees: Math.round(Math.exp(1 + 2 * segment + rng.normal())), signupDate: '2025-01-01', foundedYear: 2010, region: 'East', deployment: 'cloud', edition: 'Standard' });
    history[i] = i % 10 === 0 ? 1 : 50; // every tenth customer has too little history to train on
  }
  return { attrs: signups(rows), labels, history };
}

const PARAMS: ColdStartParams = { ...defaultColdStartParams, classifier: { ...defaultColdStartParams.classifier, epochs: 15 } };

describe('cold-start model', () => {
  const { attrs, labels, history } = synthetic();
  let state: ColdStartState;

  beforeAll(async () => {
    await initBackend(quietLogger);
    state = await fitColdStart(attrs, labels, 3, history, PARAMS, 11);
  });

  it('trains only on customers with enough history and beats the majority-class baseline', () => {
    expect(state.metrics.excludedLowHistory).toBe(120);
    expect(state.metrics.nTrain + state.metrics.nHeldOut).toBe(1080);
    // The held-out rows are stratified: 50% of them are segment 0.
    expect(state.metrics.majoritySegment).toBe(0);
    expect(state.metrics.majorityBaseline).toBeCloseTo(0.5, 2);
    expect(state.metrics.heldOutAccuracy).toBeGreaterThan(0.8);
    expect(state.minHistory).toBe(3);
  });

  it('is reproducible from its seed', async () => {
    const again = await fitColdStart(attrs, labels, 3, history, PARAMS, 11);
    expect(again.classifier.weightDataBase64).toBe(state.classifier.weightDataBase64);
    expect(again.encoding).toEqual(state.encoding);
  });

  it('re-scores only the cold rows, from their signup attributes, and says which', async () => {
    const n = 4;
    const idx = [0, 1, 2, 3]; // customers of segments 1, 2, 0, 0
    const sub = signups(idx.map(() => ({})));
    Object.assign(sub, {
      industry: idx.map((i) => attrs.industry[i]!),
      employees: Float64Array.from(idx, (i) => attrs.employees[i]!),
      signupDate: idx.map(() => '2025-01-01'),
    });
    const scores = {
      segment: Int32Array.from([2, 2, 2, 2]),
      distance: Float64Array.from([1, 2, 3, 4]),
      probabilities: { rows: n, cols: 3, data: Float64Array.from({ length: 12 }, (_, j) => (j % 3 === 2 ? 1 : 0)) },
      confidence: Float64Array.from([1, 1, 1, 1]),
    };
    const cold = await applyColdStart(state, scores, sub, [0, 50, 2, 3]);
    expect(cold).toEqual([true, false, true, false]);
    expect(Array.from(scores.distance)).toEqual([Number.NaN, 2, Number.NaN, 4]);
    expect(scores.segment[1]).toBe(2);
    expect(scores.segment[3]).toBe(2);
    for (const i of [0, 2]) {
      const row = Array.from(scores.probabilities.data.subarray(i * 3, i * 3 + 3));
      expect(row.reduce((s, x) => s + x, 0)).toBeCloseTo(1, 5);
      expect(scores.segment[i]).toBe(row.indexOf(Math.max(...row)));
      expect(scores.confidence[i]).toBe(Math.max(...row));
    }
  });

  it('round-trips through JSON and rejects a wrong kind, version or encoding', () => {
    const json = JSON.parse(JSON.stringify(state));
    expect(loadColdStartState(json)).toEqual(state);
    expect(() => loadColdStartState({ ...json, kind: 'finseg.classifier' })).toThrowError(InputError);
    expect(() => loadColdStartState({ ...json, version: 2 })).toThrowError(/format version 2, this finseg reads version 1/);
    const narrower = { ...json, encoding: { ...json.encoding, columns: json.encoding.columns.slice(1) } };
    const width = state.encoding.columns.length; // 6 numeric + 16 one-hot (5 industries, 2 roles, 3 regions, deployments, editions)
    expect(width).toBe(22);
    expect(() => loadColdStartState(narrower)).toThrowError(`encoding.columns lists ${width - 1} columns, the encoding makes ${width}`);
  });
});
