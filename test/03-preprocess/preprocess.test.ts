import { describe, expect, it } from 'vitest';
import { parseState } from '../../pipeline/model/load.ts';
import { InputError } from '../../pipeline/core/errors.ts';
import { fromRows, toRows, zeros, type Matrix } from '../../pipeline/core/matrix.ts';
import { makeRng } from '../../pipeline/core/random.ts';
import {
  applyPreprocess,
  applyScale,
  covarianceOf,
  fitPreprocess,
  scaleAndProjectRows,
  orderStatistics,
  quantiles,
  sampleSkewness,
} from '../../pipeline/03-preprocess/preprocess.ts';
import { defaultPreprocessParams, type PreprocessParams } from '../../pipeline/03-preprocess/params.ts';
import { CovarianceAccumulator, canonicalSign } from '../../pipeline/03-preprocess/pca.ts';

const column = (m: Matrix, j: number): number[] => toRows(m).map((r) => r[j]!);
const mean = (v: number[]): number => v.reduce((s, x) => s + x, 0) / v.length;
const popStd = (v: number[]): number => Math.sqrt(mean(v.map((x) => (x - mean(v)) ** 2)));

// Three features over six customers, NaN = missing:
//   events: non-negative and right-skewed (one heavy user)  -> log1p
//   share:  symmetric                                        -> kept linear
//   trend:  skewed but has a negative value                  -> kept linear
const names = ['events', 'share', 'trend'];
const X = fromRows([
  [0, 1, -1],
  [1, 2, 0],
  [2, NaN, 0],
  [3, 4, 0],
  [100, 5, 10],
  [NaN, 3, 0],
]);
// Clip at the 10th/90th percentiles so the few observed values per column give hand-checkable bounds.
const params: PreprocessParams = { ...defaultPreprocessParams, clipQuantiles: [0.1, 0.9] };

describe('helpers', () => {
  it('quantiles interpolate linearly between order statistics (numpy default)', () => {
    const q = (values: number[], qs: number[]) => quantiles(Float64Array.from(values), qs);
    expect(q([5, 1, 4, 2, 3], [0.5, 0, 1])).toEqual([3, 1, 5]);
    expect(q([4, 1, 3, 2], [0.5])).toEqual([2.5]);
    const [low, high] = q([1, 2, 3, 4, 5], [0.1, 0.9]);
    expect(low).toBeCloseTo(1.4, 12); // h = 0.4
    expect(high).toBeCloseTo(4.6, 12); // h = 3.6
    // A transform applies to the order statistics before interpolating: log1p space.
    expect(quantiles(Float64Array.from([0, 1, 3]), [0.25], [Math.log1p])[0]).toBeCloseTo(0.5 * Math.log(2), 12);
  });

  it('orderStatistics agrees with a full sort on large inputs with long runs of ties', () => {
    const rng = makeRng(17);
    const values = Float64Array.from({ length: 5000 }, () => (rng.next() < 0.6 ? 0 : Math.round(rng.normal() * 20)));
    const sorted = values.slice().sort();
    const ranks = [0, 1, 17, 2499, 2500, 3000, 4975, 4999];
    const stats = orderStatistics(values.slice(), ranks);
    for (const r of ranks) expect(stats.get(r)).toBe(sorted[r]);
    const ascending = Float64Array.from({ length: 1000 }, (_, i) => i);
    expect(orderStatistics(ascending, [5, 994]).get(994)).toBe(994);
  });

  it('sampleSkewness is the Fisher-Pearson g1', () => {
    // mean 2, deviations -1,-1,-1,-1,4: m2 = 20/5 = 4, m3 = 60/5 = 12, g1 = 12 / 4^1.5 = 1.5
    expect(sampleSkewness([1, 1, 1, 1, 6])).toBeCloseTo(1.5, 12);
    expect(sampleSkewness([1, 2, 3, 4, 5])).toBe(0);
    expect(sampleSkewness([7, 7, 7])).toBe(0);
  });

  it('canonicalSign makes the largest-magnitude entry positive; near-ties go to the first entry', () => {
    expect(canonicalSign([0.6, -0.8])).toEqual([-0.6, 0.8]);
    expect(canonicalSign([-Math.SQRT1_2, Math.SQRT1_2 * (1 + 1e-15)])).toEqual([Math.SQRT1_2, -Math.SQRT1_2 * (1 + 1e-15)]);
  });
});

describe('fitPreprocess on six hand-made customers', () => {
  const state = fitPreprocess(X, names, params).state;

  it('takes medians of the observed values only', () => {
    expect(state.medians).toEqual([2, 3, 0]);
  });

  it('log-transforms only the skewed non-negative column', () => {
    expect(sampleSkewness([0, 1, 2, 3, 100])).toBeGreaterThan(1);
    expect(state.logTransform).toEqual([true, false, false]);
    // The same column is left linear when the threshold is above its skewness.
    const strict = fitPreprocess(X, names, { ...params, logSkewThreshold: 10 }).state;
    expect(strict.logTransform).toEqual([false, false, false]);
  });

  it('puts clip bounds at the quantiles of the observed values, after the log', () => {
    // events, 5 observed, in log space: [0, ln 2, ln 3, ln 4, ln 101]; h = 0.4 and 3.6
    expect(state.clipLow[0]).toBeCloseTo(0.4 * Math.log(2), 12);
    expect(state.clipHigh[0]).toBeCloseTo(Math.log(4) + 0.6 * (Math.log(101) - Math.log(4)), 12);
    expect(state.clipLow[1]).toBeCloseTo(1.4, 12);
    expect(state.clipHigh[1]).toBeCloseTo(4.6, 12);
    // trend, 6 observed, sorted [-1, 0, 0, 0, 0, 10]; h = 0.5 and 4.5
    expect(state.clipLow[2]).toBeCloseTo(-0.5, 12);
    expect(state.clipHigh[2]).toBeCloseTo(5, 12);
  });

  it('standardises with the mean and population std after imputation and clipping', () => {
    // share after imputing 3 and clipping to [1.4, 4.6]: [1.4, 2, 3, 4, 4.6, 3]
    expect(state.means[1]).toBeCloseTo(3, 12);
    expect(state.stds[1]).toBeCloseTo(Math.sqrt(7.12 / 6), 12);
    const Z = applyScale(state, X);
    for (let j = 0; j < 3; j++) {
      expect(mean(column(Z, j))).toBeCloseTo(0, 12);
      expect(popStd(column(Z, j))).toBeCloseTo(1, 12);
    }
  });

  it('imputes a missing value with the median, so it lands at the median standardised', () => {
    const Z = applyScale(state, fromRows([[NaN, NaN, NaN]]));
    const med = applyScale(state, fromRows([[2, 3, 0]]));
    expect(Array.from(Z.data)).toEqual(Array.from(med.data));
    expect(Z.data[1]).toBeCloseTo(0, 12); // share: median 3 is also the mean
  });

  it('clips scoring values beyond the training bounds, including negatives in a log column', () => {
    const Z = applyScale(state, fromRows([[1e9, 1e9, -1e9], [-5, 0, 0]]));
    const bounds = applyScale(state, fromRows([[Math.expm1(state.clipHigh[0]!), 4.6, -0.5]]));
    expect(Z.data[0]).toBeCloseTo(bounds.data[0]!, 12);
    expect(Z.data[1]).toBeCloseTo(bounds.data[1]!, 12);
    expect(Z.data[2]).toBeCloseTo(bounds.data[2]!, 12);
    expect(Number.isFinite(Z.data[3]!)).toBe(true);
  });

  it('gives a constant column std 1 instead of dividing by zero', () => {
    const s = fitPreprocess(fromRows([[5, 1], [5, 2], [5, 3]]), ['flat', 'x'], params).state;
    expect(s.stds[0]).toBe(1);
    expect(column(applyScale(s, fromRows([[5, 1], [5, 2]])), 0)).toEqual([0, 0]);
  });

  it('rejects infinite values and mismatched names', () => {
    expect(() => fitPreprocess(fromRows([[1], [Infinity]]), ['x'], params)).toThrow(/infinite value/);
    expect(() => fitPreprocess(X, ['a'], params)).toThrow(/3 columns/);
    expect(() => applyScale(state, fromRows([[1, 2]]))).toThrow(InputError);
  });
});

describe('PCA on the standardised data', () => {
  const linear: PreprocessParams = { ...defaultPreprocessParams, clipQuantiles: [0, 1], logSkewThreshold: 100 };

  it('finds (1/√2, 1/√2) explaining everything for points on y = x, and projects a known point', () => {
    const line = fromRows([[1, 1], [2, 2], [3, 3], [4, 4]]);
    const s = fitPreprocess(line, ['a', 'b'], linear).state;
    // Standardised columns are identical: covariance [[1, 1], [1, 1]], eigenvalues 2 and 0.
    expect(s.pca.eigenvalues[0]).toBeCloseTo(2, 12);
    expect(s.pca.eigenvalues[1]).toBeCloseTo(0, 12);
    expect(s.pca.explainedVarianceRatio[0]).toBeCloseTo(1, 12);
    // The 0.9 target is met by one component, but at least two are kept.
    expect(s.pca.nComponents).toBe(2);
    expect(s.pca.components[0]![0]).toBeCloseTo(Math.SQRT1_2, 12);
    expect(s.pca.components[0]![1]).toBeCloseTo(Math.SQRT1_2, 12);
    // Sign rule on a tie: the first entry is made positive.
    expect(s.pca.components[1]![0]).toBeCloseTo(Math.SQRT1_2, 12);
    expect(s.pca.components[1]![1]).toBeCloseTo(-Math.SQRT1_2, 12);
    // (1, 1): mean 2.5, std √1.25, so z = -1.5/√1.25 on both axes and PC1 = √2 z = -1.5 √1.6.
    const P = applyPreprocess(s, fromRows([[1, 1]]));
    expect(P.cols).toBe(2);
    expect(P.data[0]).toBeCloseTo(-1.5 * Math.sqrt(1.6), 12);
    expect(P.data[1]).toBeCloseTo(0, 12);
  });

  it('orients an anti-correlated axis by the sign rule: (1/√2, -1/√2)', () => {
    const s = fitPreprocess(fromRows([[1, 4], [2, 3], [3, 2], [4, 1]]), ['a', 'b'], linear).state;
    expect(s.pca.components[0]![0]).toBeCloseTo(Math.SQRT1_2, 12);
    expect(s.pca.components[0]![1]).toBeCloseTo(-Math.SQRT1_2, 12);
  });

  // Columns: x, a copy of x, and two columns orthogonal to x and to each other, so the
  // covariance of the standardised data is [[1,1,0,0],[1,1,0,0],[0,0,1,0],[0,0,0,1]]:
  // eigenvalues 2, 1, 1, 0 and explained ratios 0.5, 0.25, 0.25, 0.
  const four = fromRows([
    [1, 1, 1, -1],
    [2, 2, -1, 3],
    [3, 3, -1, -3],
    [4, 4, 1, 1],
  ]);
  const fourNames = ['x', 'x_copy', 'u', 'v'];

  it('keeps the fewest components that reach the variance target', () => {
    const s = fitPreprocess(four, fourNames, { ...linear, pcaVarianceTarget: 0.9 }).state;
    expect(s.pca.eigenvalues.map((v) => Number(v.toFixed(12)))).toEqual([2, 1, 1]);
    expect(s.pca.explainedVarianceRatio.map((v) => Number(v.toFixed(12)))).toEqual([0.5, 0.25, 0.25]);
    expect(s.pca.nComponents).toBe(3);
    expect(fitPreprocess(four, fourNames, { ...linear, pcaVarianceTarget: 0.75 }).state.pca.nComponents).toBe(2);
    expect(fitPreprocess(four, fourNames, { ...linear, pcaVarianceTarget: 0.5 }).state.pca.nComponents).toBe(2);
  });

  it('caps the components at maxComponents', () => {
    const s = fitPreprocess(four, fourNames, { ...linear, pcaVarianceTarget: 1, maxComponents: 2 }).state;
    expect(s.pca.nComponents).toBe(2);
    expect(s.pca.components).toHaveLength(2);
    expect(applyPreprocess(s, four).cols).toBe(2);
  });
});

describe('state persistence', () => {
  const rng = makeRng(3);
  const big = zeros(200, 5);
  for (let i = 0; i < big.data.length; i++) {
    const j = i % 5;
    big.data[i] = rng.next() < 0.1 ? NaN : j === 0 ? Math.exp(3 * rng.normal()) : rng.normal() + j;
  }
  const names5 = ['a', 'b', 'c', 'd', 'e'];
  const state = fitPreprocess(big, names5, defaultPreprocessParams).state;

  it('round-trips through JSON and applies identically', () => {
    const loaded = parseState('preprocess.json', JSON.parse(JSON.stringify(state)));
    expect(loaded).toEqual(state);
    expect(applyPreprocess(loaded, big).data).toEqual(applyPreprocess(state, big).data);
    expect(applyScale(loaded, big).data).toEqual(applyScale(state, big).data);
  });

  it('is deterministic: the same input fits the same state', () => {
    expect(fitPreprocess(big, names5, defaultPreprocessParams).state).toEqual(state);
  });

  it('rejects another kind, another version or a malformed state with a clear message', () => {
    const json = JSON.parse(JSON.stringify(state));
    expect(() => parseState('preprocess.json', { ...json, kind: 'finseg.cluster' })).toThrow(/^preprocess\.json: kind "finseg\.cluster", expected "finseg\.preprocess"$/);
    expect(() => parseState('preprocess.json', { ...json, version: 2 })).toThrow(/finseg\.preprocess format version 2, this finseg reads version 1/);
    expect(() => parseState('preprocess.json', { ...json, medians: [1] })).toThrow(/^preprocess\.json: medians: has 1 entries, expected 5$/);
    expect(() => parseState('preprocess.json', { ...json, pca: { ...json.pca, components: [[0, 'x']] } })).toThrow(/^preprocess\.json: pca\.components\[0\]\[1\]: expected number, got "x"$/);
    expect(() => parseState('preprocess.json', 'nope')).toThrow(InputError);
  });
});

describe('the one-pass training path', () => {
  // 1100 rows (two covariance chunks plus a remainder) of 11 features (not a multiple of four or
  // of the column block), with missing values, a skewed column, a constant one and negatives.
  const rng = makeRng(5);
  const n = 1100;
  const p = 11;
  const X = zeros(n, p);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < p; j++) {
      const v = j === 0 ? Math.exp(2 * rng.normal()) : j === 1 ? 3 : j === 2 ? -0 : rng.normal() * (j + 1) + (j % 3);
      X.data[i * p + j] = rng.next() < 0.05 ? NaN : v;
    }
  }
  const names = Array.from({ length: p }, (_, j) => `f${j}`);
  const { state, scaled } = fitPreprocess(X, names, defaultPreprocessParams);

  it('returns the same state on a second fit, and the matrix applyScale gives, bit for bit', () => {
    expect(state).toEqual(fitPreprocess(X, names, defaultPreprocessParams).state);
    expect(Array.from(scaled.data)).toEqual(Array.from(applyScale(state, X).data));
  });

  it('applyPreprocess of the scaled matrix ({ scaled: true }) equals applyPreprocess of X bit for bit', () => {
    expect(Array.from(applyPreprocess(state, scaled, { scaled: true }).data)).toEqual(Array.from(applyPreprocess(state, X).data));
  });

  it('covarianceOf agrees with the row-by-row accumulator to 1e-12', () => {
    const acc = new CovarianceAccumulator(p);
    for (let i = 0; i < n; i++) acc.add(scaled.data, i * p);
    const expected = acc.covariance();
    const got = covarianceOf(scaled);
    for (let a = 0; a < p; a++) for (let b = 0; b < p; b++) expect(Math.abs(got[a]![b]! - expected[a]![b]!)).toBeLessThan(1e-12);
    expect(got[1]![1]).toBe(0);
  });
});

describe('the scoring path', () => {
  // 1101 rows: two full 512-row chunks, a remainder, and an odd last row (rows are projected in
  // pairs). Column 0 holds counts (whole numbers, some beyond the 65,536-entry log1p table),
  // column 1 skewed fractions, both log-transformed; the rest as in the training path above.
  const rng = makeRng(11);
  const n = 1101;
  const p = 9;
  const X = zeros(n, p);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < p; j++) {
      const v =
        j === 0 ? (i % 97 === 0 ? 70000 + i : Math.floor(Math.exp(2.5 * rng.normal()))) : j === 1 ? Math.exp(2 * rng.normal()) / 7 : rng.normal() * (j + 1) - (j % 2);
      X.data[i * p + j] = rng.next() < 0.05 ? NaN : v;
    }
  }
  const names = Array.from({ length: p }, (_, j) => `g${j}`);
  const state = fitPreprocess(X, names, defaultPreprocessParams).state;

  it('takes log1p of counts from a table that gives exactly Math.log1p', () => {
    expect(state.logTransform.slice(0, 2)).toEqual([true, true]);
    const scaled = applyScale(state, X);
    let checked = 0;
    for (let i = 0; i < n; i++) {
      for (const j of [0, 1]) {
        let v = X.data[i * p + j]!;
        if (Number.isNaN(v)) v = state.medians[j]!;
        v = Math.log1p(Math.max(v, 0));
        v = Math.min(Math.max(v, state.clipLow[j]!), state.clipHigh[j]!);
        expect(scaled.data[i * p + j]).toBe((v - state.means[j]!) / state.stds[j]!);
        checked++;
      }
    }
    expect(checked).toBe(2 * n);
  });

  it('the scoring kernel (scaleAndProjectRows) equals applyPreprocess of applyScale bit for bit, with the scaled rows in float32', () => {
    const scaled = applyScale(state, X);
    const reduced = zeros(n, state.pca.nComponents);
    const scaled32 = new Float32Array(n * p);
    // In two calls, as score's chunks run it, split at row 700, off the kernel's 512-row grid.
    const kernel = scaleAndProjectRows(state);
    kernel(X, 0, 700, reduced.data, scaled32);
    kernel(X, 700, n, reduced.data, scaled32);
    expect(Array.from(reduced.data)).toEqual(Array.from(applyPreprocess(state, scaled, { scaled: true }).data));
    const applied = applyPreprocess(state, X);
    expect(applied.rows).toBe(n);
    expect(applied.cols).toBe(state.pca.nComponents);
    expect(Array.from(reduced.data)).toEqual(Array.from(applied.data));
    expect(Array.from(scaled32)).toEqual(Array.from(Float32Array.from(scaled.data)));
    // Against the plain dot products, summed over the features in order (rows are projected in
    // pairs, the odd last one paired with itself: neither may change a bit).
    const nc = state.pca.nComponents;
    for (const i of [0, 1, 511, 512, 1099, 1100]) {
      for (let c = 0; c < nc; c++) {
        let sum = 0;
        for (let j = 0; j < p; j++) sum += state.pca.components[c]![j]! * scaled.data[i * p + j]!;
        expect(reduced.data[i * nc + c]).toBe(sum);
      }
    }
  });
});
