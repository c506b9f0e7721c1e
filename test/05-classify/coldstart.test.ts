import { beforeAll, describe, expect, it } from 'vitest';
import { parseState } from '../../pipeline/model/load.ts';
import { coldStartRows, encodeSignup, fitColdStart, fitColdStartEncoding, requiredMargin, type ColdStartState, type SignupAttributes } from '../../pipeline/05-classify/coldstart.ts';
import { defaultColdStartParams, type ColdStartParams } from '../../pipeline/05-classify/params.ts';
import { initBackend } from '../../pipeline/05-classify/backend.ts';
import { decideSegments, fitActivityProfile, NO_SEGMENT, type ActivityProfile } from '../../pipeline/05-classify/segment-rule.ts';
import { parseConfig } from '../../pipeline/config/config.ts';
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

describe('the margin cold start must beat the majority baseline by', () => {
  it('is minLift, or two standard errors of the baseline share when that is larger', () => {
    // baseline 0.5 on 100 held out: se = sqrt(0.25 / 100) = 0.05, so 2 se = 0.1 > 0.05
    expect(requiredMargin(0.5, 100, 0.05)).toBeCloseTo(0.1, 12);
    // on 10,000 held out 2 se = 0.01 < 0.05
    expect(requiredMargin(0.5, 10_000, 0.05)).toBe(0.05);
    // nothing held out: no lift can reach it
    expect(requiredMargin(0.5, 0, 0.05)).toBe(1);
  });
});

describe('cold-start settings', () => {
  it('rejects a share, lift or window outside its meaning, naming the key', () => {
    expect(() => parseConfig({ coldStart: { activeSegmentShare: 0 } }, 'c.json')).toThrowError('c.json: coldStart.activeSegmentShare: expected a number in (0, 1], got 0');
    expect(() => parseConfig({ coldStart: { minLift: 5 } }, 'c.json')).toThrowError('c.json: coldStart.minLift: expected a number in [0, 1], got 5');
    expect(() => parseConfig({ coldStart: { inactiveAfterDays: -1 } }, 'c.json')).toThrowError('c.json: coldStart.inactiveAfterDays: expected a number > 0, got -1');
    expect(parseConfig({ coldStart: { inactiveAfterDays: 180 } }).coldStart).toMatchObject({ inactiveAfterDays: 180, activeSegmentShare: 0.5, minLift: 0.05 });
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
/** No recency: every segment inactive-free, the activity rule never applies. */
const NO_ACTIVITY: ActivityProfile = fitActivityProfile(new Int32Array(0), 3, null, PARAMS);

describe('cold-start model', () => {
  const { attrs, labels, history } = synthetic();
  let state: ColdStartState;

  beforeAll(async () => {
    await initBackend(quietLogger);
    state = await fitColdStart(attrs, labels, 3, history, PARAMS, 11, NO_ACTIVITY);
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

  it('is used when its held-out lift over the baseline reaches the required margin, and records both', () => {
    const m = state.metrics;
    expect(m.marginRequired).toBe(requiredMargin(m.majorityBaseline, m.nHeldOut, PARAMS.minLift));
    expect(m.heldOutAccuracy - m.majorityBaseline).toBeGreaterThan(m.marginRequired);
    expect(m.used).toBe(true);
  });

  it('is not used when signup attributes say nothing of the segment (it can only match the baseline)', async () => {
    const blank = signups(Array.from({ length: 1200 }, () => ({ industry: 'retail', signupDate: '2025-01-01' })));
    const none = await fitColdStart(blank, labels, 3, history, PARAMS, 11, NO_ACTIVITY);
    expect(none.metrics.heldOutAccuracy).toBeLessThanOrEqual(none.metrics.majorityBaseline + 1e-9);
    expect(none.metrics.used).toBe(false);
  });

  it('is reproducible from its seed', async () => {
    const again = await fitColdStart(attrs, labels, 3, history, PARAMS, 11, NO_ACTIVITY);
    expect(again.classifier.weightDataBase64).toBe(state.classifier.weightDataBase64);
    expect(again.encoding).toEqual(state.encoding);
  });

  it('round-trips through JSON and rejects a wrong kind, version or encoding', () => {
    const json = JSON.parse(JSON.stringify(state));
    expect(parseState('coldstart.json', json)).toEqual(state);
    expect(() => parseState('coldstart.json', { ...json, kind: 'finseg.classifier' })).toThrowError(InputError);
    expect(() => parseState('coldstart.json', { ...json, version: 1 })).toThrowError(/format version 1, this finseg reads version 2/);
    expect(() => parseState('coldstart.json', { ...json, activity: undefined })).toThrowError(/^coldstart\.json: activity: missing$/);
    expect(() => parseState('coldstart.json', { ...json, activity: { ...json.activity, activeSegments: [true] } })).toThrowError(/^coldstart\.json: activity\.activeSegments: has 1 entries, expected 3$/);
    expect(() => parseState('coldstart.json', { ...json, metrics: { ...json.metrics, used: undefined } })).toThrowError(/metrics\.used/);
    const narrower = { ...json, encoding: { ...json.encoding, columns: json.encoding.columns.slice(1) } };
    const width = state.encoding.columns.length; // 6 numeric + 16 one-hot (5 industries, 2 roles, 3 regions, deployments, editions)
    expect(width).toBe(22);
    expect(() => parseState('coldstart.json', narrower)).toThrowError(`encoding.columns: lists ${width - 1} columns, the encoding makes ${width}`);
  });
});

describe('active segments, measured on the training customers', () => {
  it('marks a segment active when at least activeSegmentShare of its customers with a known recency were active in the window', () => {
    // segment 0: 10, 200, 30 days → 2 of 3 active; segment 1: 100, 150 → none; segment 2: recency unknown
    const profile = fitActivityProfile(Int32Array.from([0, 0, 0, 1, 1, 2]), 3, [10, 200, 30, 100, 150, Number.NaN], { inactiveAfterDays: 90, activeSegmentShare: 0.5 });
    expect(profile.segmentActiveShare).toEqual([2 / 3, 0, null]);
    expect(profile.activeSegments).toEqual([true, false, false]);
    expect(profile.recencyFeature).toBe('recency_days');
    // 90 days exactly is still active: inactive means beyond the window.
    expect(fitActivityProfile(Int32Array.from([0]), 1, [90], { inactiveAfterDays: 90, activeSegmentShare: 1 }).activeSegments).toEqual([true]);
  });

  it('measures nothing without a recency feature', () => {
    expect(fitActivityProfile(Int32Array.from([0, 1]), 2, null, { inactiveAfterDays: 90, activeSegmentShare: 0.5 })).toMatchObject({ recencyFeature: null, activeSegments: [false, false], segmentActiveShare: [null, null] });
  });
});

describe('the segment rule (one function for train and score)', () => {
  const { attrs, labels, history } = synthetic();
  let fitted: ColdStartState;
  // Centroids of segments 0, 1, 2 on a line; segment 0 is active, 1 and 2 are not.
  const centroids = [[0, 0], [10, 0], [-4, 0]];
  const activity: ActivityProfile = { recencyFeature: 'recency_days', inactiveAfterDays: 90, activeSegmentShare: 0.5, segmentActiveShare: [0.9, 0.1, 0.2], activeSegments: [true, false, false] };
  /** Six customers: position on the line, nearest segment, history, recency. */
  const rows = [
    { x: 1, nearest: 0, history: 50, recency: 5 }, // active, in the active segment: stays
    { x: 3, nearest: 0, history: 50, recency: 200 }, // inactive in the active segment: 1 and 2 are both 7 away, the tie goes to the lower id
    { x: 2, nearest: 0, history: 50, recency: 300 }, // inactive: 2 is 6 away, 1 is 8
    { x: 9, nearest: 1, history: 1, recency: 150 }, // low history and inactive: no cold-start guess, stays in non-active 1
    { x: 0.5, nearest: 0, history: 2, recency: 10 }, // low history, active: cold start when used
    { x: 0.2, nearest: 0, history: Number.NaN, recency: Number.NaN }, // history not counted, recency unknown: untouched
  ];
  const input = (attributes: SignupAttributes | null) => ({
    reduced: { rows: rows.length, cols: 2, data: Float64Array.from(rows.flatMap((r) => [r.x, 0])) },
    centroids,
    history: rows.map((r) => r.history),
    recencyDays: rows.map((r) => r.recency),
    attributes,
  });
  const batch = () => ({ segment: Int32Array.from(rows, (r) => r.nearest), distance: Float64Array.from(rows, (r) => Math.abs(r.x - centroids[r.nearest]![0]!)) });
  const someSignups = () => {
    const sub = signups(rows.map(() => ({})));
    Object.assign(sub, { industry: [0, 1, 2, 3, 1, 5].map((i) => attrs.industry[i]!), employees: Float64Array.from([0, 1, 2, 3, 1, 5], (i) => attrs.employees[i]!), signupDate: rows.map(() => '2025-01-01') });
    return sub;
  };

  beforeAll(async () => {
    await initBackend(quietLogger);
    fitted = await fitColdStart(attrs, labels, 3, history, PARAMS, 11, activity);
  });

  it('without an earned cold start: nearest centroid for little history, flagged; inactive customers moved to the nearest non-active segment', async () => {
    const notUsed: ColdStartState = { ...fitted, metrics: { ...fitted.metrics, used: false } };
    const scores = batch();
    const d = await decideSegments(notUsed, input(someSignups()), scores);
    expect(Array.from(scores.segment)).toEqual([0, 1, 2, 1, 0, 0]);
    expect(Array.from(scores.distance)).toEqual([1, 7, 6, 1, 0.5, 0.2]);
    expect(d.insufficientHistory).toEqual([false, false, false, true, true, false]);
    expect(d.coldStart).toEqual([false, false, false, false, false, false]);
    expect(d.inactive).toEqual([false, true, true, true, false, null]);
    expect(d.movedFromActive).toEqual([false, true, true, false, false, false]);
    expect(d.unplaced.some(Boolean)).toBe(false);
    expect(Array.from(d.nearest)).toEqual([0, 0, 0, 1, 0, 0]);
  });

  it('with an earned cold start: only the low-history customer that is not inactive is placed by it', async () => {
    expect(fitted.metrics.used).toBe(true);
    const k = 3;
    const scores = { ...batch(), probabilities: { rows: rows.length, cols: k, data: new Float64Array(rows.length * k).fill(1 / k) }, confidence: new Float64Array(rows.length).fill(1 / k) };
    const d = await decideSegments(fitted, input(someSignups()), scores);
    expect(d.coldStart).toEqual([false, false, false, false, true, false]);
    // The inactive low-history customer keeps its non-active nearest segment, with no guess.
    expect(scores.segment[3]).toBe(1);
    const p = Array.from(scores.probabilities.data.subarray(4 * k, 5 * k));
    expect(p.reduce((s, x) => s + x, 0)).toBeCloseTo(1, 5);
    expect(scores.segment[4]).toBe(p.indexOf(Math.max(...p)));
    expect(scores.confidence[4]).toBe(Math.max(...p));
    expect(scores.distance[4]).toBeNaN();
    // A moved customer's confidence is its new segment's probability.
    expect(scores.confidence[1]).toBe(1 / k);
  });

  it('gives an inactive customer no segment when every segment is active (each describes active customers)', async () => {
    const allActive: ColdStartState = { ...fitted, metrics: { ...fitted.metrics, used: false }, activity: { ...activity, activeSegments: [true, true, true] } };
    const scores = batch();
    const d = await decideSegments(allActive, input(null), scores);
    expect(Array.from(scores.segment)).toEqual([0, NO_SEGMENT, NO_SEGMENT, NO_SEGMENT, 0, 0]);
    expect(d.unplaced).toEqual([false, true, true, true, false, false]);
    expect(d.movedFromActive.some(Boolean)).toBe(false);
    expect(Number.isNaN(scores.distance[1]!)).toBe(true);
  });
});
