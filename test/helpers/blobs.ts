import { zeros, type Matrix } from '../../pipeline/core/matrix.ts';
import { makeRng } from '../../pipeline/core/random.ts';

/** Seeded isotropic Gaussian blobs: `counts[c]` rows around `centres[c]` with sd `sd`, and the true blob of every row. */
export function blobs(centres: number[][], counts: number[], sd: number, seed: number): { X: Matrix; truth: Int32Array } {
  const rng = makeRng(seed);
  const d = centres[0]!.length;
  const X = zeros(counts.reduce((a, b) => a + b, 0), d);
  const truth = new Int32Array(X.rows);
  let i = 0;
  centres.forEach((centre, c) => {
    for (let r = 0; r < counts[c]!; r++, i++) {
      truth[i] = c;
      for (let j = 0; j < d; j++) X.data[i * d + j] = centre[j]! + sd * rng.normal();
    }
  });
  return { X, truth };
}
