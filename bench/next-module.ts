/**
 * `npx tsx bench/next-module.ts [--customers 1000000] [--k 8]`: next best module's fit (peer
 * pools, adoption rates, each segment's most recommended modules) and scoring (the recommendation
 * of every customer) at vendor scale, on synthetic share features: each segment has its own
 * module profile and each customer a noisy draw of it, over the 14 catalog modules. Not a test:
 * the figures depend on the machine and its load.
 */
import { parseArgs } from 'node:util';
import { fitNextModule, nextModuleCatalog } from '../pipeline/07-map/next-module-fit.ts';
import { defaultNextModuleParams } from '../pipeline/07-map/next-module-params.ts';
import { adoptionMasks, recommendCustomerModules } from '../pipeline/07-map/next-module.ts';
import { makeRng } from '../pipeline/core/random.ts';

const { values } = parseArgs({ options: { customers: { type: 'string', default: '1000000' }, k: { type: 'string', default: '8' } } });
const n = Number(values.customers);
const k = Number(values.k);
const { features } = nextModuleCatalog([]);
const m = features.length;
const rng = makeRng(1);
const profiles = Array.from({ length: k }, () => Array.from({ length: m }, () => rng.next() ** 3));
const labels = new Int32Array(n);
const X = { rows: n, cols: m, data: new Float64Array(n * m) };
for (let i = 0; i < n; i++) {
  const s = rng.int(k);
  labels[i] = s;
  let total = 0;
  for (let j = 0; j < m; j++) total += X.data[i * m + j] = rng.next() < profiles[s]![j]! ? rng.next() : 0;
  for (let j = 0; j < m; j++) X.data[i * m + j] = total ? X.data[i * m + j]! / total : 0;
}
let t = performance.now();
const state = fitNextModule({ X, featureNames: features, labels, k, vendorModules: [], holdout: null }, defaultNextModuleParams, 7)!;
const fitMs = performance.now() - t;
t = performance.now();
const masks = adoptionMasks(X, features, state.features, state.params.minShare);
const recs = recommendCustomerModules(state, labels, masks);
const scoreMs = performance.now() - t;
const distinct = new Set(recs).size;
console.log(`${n} customers, k = ${k}, ${m} modules: fit ${(fitMs / 1000).toFixed(2)} s, score ${(scoreMs / 1000).toFixed(2)} s (${distinct} distinct recommendations computed)`);
