/**
 * Trains finseg on each real data set and writes its final matrix for the scikit-learn
 * reference (bench/reference-real.py), issue 14 item 9:
 *
 *     node --import tsx bench/real-matrices.ts
 *     /usr/bin/python3 bench/reference-real.py .finseg-cache/real/matrices.json test/fixtures/real/kmeans-reference.json
 *
 * The data sets in the repository (test/fixtures/real) always; those outside it only when
 * FINSEG_REAL_DATA names their folder. test/data-quality/real-samples.test.ts retrains the same
 * way and checks finseg's k-means objective against the recorded reference.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadConfig } from '../pipeline/config/config.ts';
import { finalMatrix, matrixCsv } from '../test/helpers/real-matrix.ts';
import { realDataSets } from '../test/helpers/real-data.ts';

const root = resolve(import.meta.dirname, '..');
const out = join(root, '.finseg-cache/real');
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const datasets: Record<string, { matrix: string; k: number; checksum: string; objective: number }> = {};
for (const ds of realDataSets()) {
  if (!ds.available) {
    console.error(`${ds.name}: skipped (${ds.why})`);
    continue;
  }
  // As a user would: init writes the config, train runs with it as written.
  const folder = ds.folder();
  const config = join(folder, 'finseg.config.json');
  const finseg = (...args: string[]) => execFileSync('node', [join(root, 'bin/finseg.mjs'), ...args, '--quiet'], { encoding: 'utf8', cwd: folder });
  finseg('init', '--data', folder, '--out', config);
  const bundle = finseg('train', '--config', config, '--out', join(out, ds.name, 'models')).trim().split('\n')[0]!;
  const m = await finalMatrix(bundle, folder, loadConfig(config));
  const matrix = join(out, ds.name, 'matrix.csv');
  writeFileSync(matrix, matrixCsv(m.X));
  datasets[ds.name] = { matrix, k: m.k, checksum: m.checksum, objective: m.objective };
  console.error(`${ds.name}: ${m.X.rows} x ${m.X.cols}, k = ${m.k}, finseg objective ${m.objective.toPrecision(6)}`);
}
writeFileSync(join(out, 'matrices.json'), JSON.stringify({ datasets }, null, 2));
console.error(`wrote ${join(out, 'matrices.json')}`);
