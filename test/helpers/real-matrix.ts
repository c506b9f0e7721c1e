import { createHash } from 'node:crypto';
import { applyPreprocess } from '../../pipeline/03-preprocess/preprocess.ts';
import type { FinsegConfig } from '../../pipeline/config/config.ts';
import { openDuck } from '../../pipeline/core/duck.ts';
import { quietLogger } from '../../pipeline/core/log.ts';
import type { Matrix } from '../../pipeline/core/matrix.ts';
import { scoringFeatures } from '../../pipeline/jobs/score.ts';
import { loadModel } from '../../pipeline/model/load.ts';

/** A bundle's final matrix (the PCA space its k-means ran in) over a data folder, and finseg's k-means objective on it. */
export interface FinalMatrix {
  /** Shape (customers, components). */
  X: Matrix;
  k: number;
  /** Sum over rows of the squared distance to the nearest of the bundle's centroids. */
  objective: number;
  /** sha256 of the values printed with 6 significant digits: says whether a recorded reference is of this matrix. */
  checksum: string;
}

/**
 * Rebuilds the matrix a bundle clustered from the same data folder, as `score` reads it (ingest
 * and the feature query, or a profile table, with the bundle's settings) and projects it (the
 * bundle's fitted preprocessing). The scikit-learn reference (bench/reference-real.py) is
 * computed on exactly this matrix.
 */
export async function finalMatrix(modelDir: string, dataDir: string, config?: FinsegConfig): Promise<FinalMatrix> {
  const model = loadModel(modelDir);
  const cfg = config ?? model.config;
  const conn = await openDuck();
  try {
    const { features } = await scoringFeatures(conn, model, cfg, { dataDir, featureFile: null, partition: null, asOf: null, quarantineDir: null, logger: quietLogger });
    const X = applyPreprocess(model.states['preprocess.json'], features.X);
    const { centroids, k } = model.states['cluster.json'];
    let objective = 0;
    for (let i = 0; i < X.rows; i++) {
      let best = Number.POSITIVE_INFINITY;
      for (const c of centroids) {
        let d = 0;
        for (let j = 0; j < X.cols; j++) d += (X.data[i * X.cols + j]! - c[j]!) ** 2;
        if (d < best) best = d;
      }
      objective += best;
    }
    return { X, k, objective, checksum: matrixChecksum(X) };
  } finally {
    conn.closeSync();
  }
}

/** sha256 over the values at 6 significant digits, row by row: stable across runs, changed by any real change of the matrix. */
export function matrixChecksum(X: Matrix): string {
  const h = createHash('sha256');
  for (let i = 0; i < X.rows; i++) {
    const row: string[] = [];
    for (let j = 0; j < X.cols; j++) row.push(Number(X.data[i * X.cols + j]!.toPrecision(6)).toString());
    h.update(row.join(',') + '\n');
  }
  return h.digest('hex');
}

/** The matrix as CSV text (full precision), for bench/reference-real.py. */
export function matrixCsv(X: Matrix): string {
  const lines: string[] = [];
  for (let i = 0; i < X.rows; i++) lines.push(Array.from(X.data.subarray(i * X.cols, (i + 1) * X.cols), (v) => String(v)).join(','));
  return lines.join('\n') + '\n';
}
