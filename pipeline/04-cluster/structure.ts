/**
 * Is there segment structure at all? k-means always returns k groups, and the silhouette of the
 * best k is never 0 even on structureless data. The reference here is the same sample with each
 * column shuffled independently (a seeded permutation null): it keeps every column's own
 * distribution (skew, outliers, ties, a lumpy marginal) and destroys only how the columns go
 * together. A k shows structure when its silhouette on the data is above the highest the
 * shuffles give at that same k by more than `structureMargin`.
 */
import type { Matrix } from '../core/matrix.ts';
import { deriveSeed, makeRng } from '../core/random.ts';
import { fitKMeansBest, type KMeansOptions } from './kmeans.ts';
import { silhouetteScores } from './metrics.ts';

/** What the permutation null says of the candidate k (manifest metrics.structure). */
export interface StructureCheck {
  /** Independent column shuffles of the sample fitted at every k. */
  shuffles: number;
  /** How far above the null's highest silhouette at the same k a k's silhouette must be to count. */
  margin: number;
  /** Per candidate k: the silhouette on the sample and the highest over the shuffles (NaN when undefined, or when an earlier k already showed structure). */
  rows: { k: number; silhouette: number; nullMax: number }[];
  /** Some k has silhouette > nullMax + margin. */
  clear: boolean;
}

/** The settings the check reads. */
export interface StructureSettings {
  structureShuffles: number;
  structureMargin: number;
  /** k-means++ starts per fit on a shuffle, as on the data. */
  restarts: number;
}

/**
 * Where the null's columns come from. Clustering runs on principal components, whose columns are
 * already uncorrelated: shuffling them keeps a separation that lies along one component (two
 * groups differ on PC1 alone), so the null would copy the structure it should lack. The features
 * before the rotation are shuffled instead, then rotated as the data was.
 */
export interface NullSource {
  /** The sample's rows in the space whose columns are shuffled, shape (m, p). */
  columns: Matrix;
  /** Maps shuffled rows (m, p) into the clustering space (m, d). */
  project: (M: Matrix) => Matrix;
}

/** The words log, manifest and report use when no k shows structure. */
export const NO_CLEAR_STRUCTURE = 'no clear segment structure';

/**
 * Fits each k of `ks` (their silhouettes on S (m, d) given in the same order) on `shuffles`
 * copies of the sample whose columns (source.columns, S itself without a source) are permuted
 * independently (seeds deriveSeed(seed, `null-${s}`)), with the data's number of starts. The
 * comparison is k by k: the null's best k can differ from the data's (blobs whose centres differ
 * in one feature each shuffle into more, smaller blobs), so best against best would miss them;
 * the margin covers the chance that one of eleven k beats its null. An undefined silhouette never
 * shows structure; 0 shuffles turn the check off.
 */
export function checkStructure(
  S: Matrix,
  ks: readonly number[],
  silhouettes: readonly number[],
  settings: StructureSettings,
  seed: number,
  options: KMeansOptions,
  source: NullSource = { columns: S, project: (M) => M },
): StructureCheck {
  const nullMax = ks.map(() => Number.NaN);
  const shuffled: Matrix[] = [];
  const copy = (s: number) => (shuffled[s] ??= source.project(shuffleColumns(source.columns, deriveSeed(seed, `null-${s}`))));
  // The k with the highest silhouettes first, and stop at the first that beats its null: one k
  // showing structure settles "clear", so on structured data the check costs the shuffles' fits
  // at one k instead of at all of them; the rows of k never reached keep a NaN null.
  const order = ks.map((_, i) => i).sort((a, b) => (silhouettes[b]! || -Infinity) - (silhouettes[a]! || -Infinity) || a - b);
  let clear = settings.structureShuffles === 0;
  for (const i of order) {
    if (clear) break;
    const k = ks[i]!;
    let max = -Infinity;
    for (let s = 0; s < settings.structureShuffles; s++) {
      const M = copy(s);
      const fit = fitKMeansBest(M, k, settings.restarts, deriveSeed(seed, `null-${s}-k${k}`), options);
      const v = silhouetteScores(M, [fit.labels], [k])[0]!;
      if (v > max) max = v;
    }
    nullMax[i] = max === -Infinity ? Number.NaN : max;
    clear = silhouettes[i]! > (Number.isNaN(nullMax[i]!) ? -1 : nullMax[i]!) + settings.structureMargin;
  }
  const rows = ks.map((k, i) => ({ k, silhouette: silhouettes[i]!, nullMax: nullMax[i]! }));
  return { shuffles: settings.structureShuffles, margin: settings.structureMargin, rows, clear };
}

/** S (m, d) with each column permuted by its own seeded Fisher-Yates shuffle. */
export function shuffleColumns(S: Matrix, seed: number): Matrix {
  const { rows: m, cols: d } = S;
  const out = new Float64Array(m * d);
  const rng = makeRng(seed);
  const perm = new Int32Array(m);
  for (let j = 0; j < d; j++) {
    for (let i = 0; i < m; i++) perm[i] = i;
    for (let i = m - 1; i > 0; i--) {
      const r = rng.int(i + 1);
      const t = perm[i]!;
      perm[i] = perm[r]!;
      perm[r] = t;
    }
    for (let i = 0; i < m; i++) out[i * d + j] = S.data[perm[i]! * d + j]!;
  }
  return { rows: m, cols: d, data: out };
}
