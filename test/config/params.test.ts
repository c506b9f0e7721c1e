import { describe, expect, it } from 'vitest';
import { defaultIngestParams, ingestParamsRule } from '../../pipeline/01-ingest/params.ts';
import { defaultFeatureParams, defaultProfileTableParams, featureParamsRule, profileTableParamsRule } from '../../pipeline/02-features/params.ts';
import { defaultPreprocessParams, preprocessParamsRule } from '../../pipeline/03-preprocess/params.ts';
import { clusterParamsRule, defaultClusterParams } from '../../pipeline/04-cluster/params.ts';
import { classifierParamsRule, coldStartParamsRule, defaultClassifierParams, defaultColdStartParams } from '../../pipeline/05-classify/params.ts';
import { defaultLensParams, lensParamsRule } from '../../pipeline/06-categorize/params.ts';
import { playbookTableRule } from '../../pipeline/07-map/params.ts';
import { PLAYBOOK_TABLE } from '../../pipeline/07-map/playbooks.ts';
import { defaultExplainParams, explainParamsRule } from '../../pipeline/08-explain/params.ts';
import { defaultDriftMonitorParams, defaultRetrainParams, driftMonitorParamsRule, retrainParamsRule } from '../../pipeline/09-drift/params.ts';
import { defaultConfig, parseConfig } from '../../pipeline/config/config.ts';
import { InputError } from '../../pipeline/core/errors.ts';
import { parseSettings, type Rule } from '../../pipeline/core/settings.ts';

const SLICES: [string, Rule<unknown>, unknown][] = [
  ['ingest', ingestParamsRule, defaultIngestParams],
  ['profileTable', profileTableParamsRule, defaultProfileTableParams],
  ['features', featureParamsRule, defaultFeatureParams],
  ['preprocess', preprocessParamsRule, defaultPreprocessParams],
  ['cluster', clusterParamsRule, defaultClusterParams],
  ['classify', classifierParamsRule, defaultClassifierParams],
  ['coldStart', coldStartParamsRule, defaultColdStartParams],
  ['lenses', lensParamsRule, defaultLensParams],
  ['playbooks', playbookTableRule, PLAYBOOK_TABLE],
  ['explain', explainParamsRule, defaultExplainParams],
  ['drift', driftMonitorParamsRule, defaultDriftMonitorParams],
  ['retrain', retrainParamsRule, defaultRetrainParams],
];

/** The message of the InputError a slice's JSON raises, under source "c.json". */
function problem(json: unknown): string {
  try {
    parseConfig(json, 'c.json');
  } catch (e) {
    if (e instanceof InputError) return e.message;
    throw e;
  }
  return 'accepted';
}

describe('each stage slice', () => {
  for (const [name, rule, defaults] of SLICES) {
    it(`${name}: an empty object gives the stage defaults, key for key and in their order`, () => {
      const out = parseSettings(rule, {}, 'c.json', name);
      expect(JSON.stringify(out)).toBe(JSON.stringify(defaults));
      expect(out).not.toBe(defaults);
      // The defaults pass their own rule: a stage never ships a default its config would refuse.
      expect(JSON.stringify(parseSettings(rule, defaults, 'c.json', name))).toBe(JSON.stringify(defaults));
    });
  }

  it('a set key lands where the default was: the config records keys in one order whatever the file', () => {
    const expected = defaultConfig();
    expected.cluster.kMax = 6;
    expected.seed = 7;
    expected.classify.hidden = [8];
    expected.drift.trends.minMonths = 4;
    expect(JSON.stringify(parseConfig({ drift: { trends: { minMonths: 4 } }, classify: { hidden: [8] }, cluster: { kMax: 6 }, seed: 7 }))).toBe(JSON.stringify(expected));
    expect(parseConfig({})).toEqual(defaultConfig());
  });

  it('cluster: k needs two clusters to compare, counts are whole, kMin <= kMax', () => {
    expect(problem({ cluster: { kMin: 1 } })).toBe('c.json: cluster.kMin: expected an integer >= 2, got 1');
    expect(problem({ cluster: { kMin: 8, kMax: 6 } })).toBe('c.json: cluster.kMax: expected kMax >= kMin (8), got 6');
    expect(problem({ cluster: { k: 0 } })).toBe('c.json: cluster.k: expected an integer >= 1, got 0');
    expect(problem({ cluster: { restarts: 2.5 } })).toBe('c.json: cluster.restarts: expected an integer >= 1, got 2.5');
    expect(problem({ cluster: { selectionSample: 2 } })).toBe('c.json: cluster.selectionSample: expected an integer >= 3, got 2');
    expect(problem({ cluster: { minSegmentShare: 1 } })).toBe('c.json: cluster.minSegmentShare: expected a number in [0, 1), got 1');
    expect(problem({ cluster: { minStability: -1.5 } })).toBe('c.json: cluster.minStability: expected a number in [-1, 1], got -1.5');
    expect(problem({ cluster: { noveltyQuantile: 1.01 } })).toBe('c.json: cluster.noveltyQuantile: expected a number in [0, 1], got 1.01');
    expect(parseConfig({ cluster: { k: 4, kMin: 3, kMax: 3 } }).cluster).toMatchObject({ k: 4, kMin: 3, kMax: 3 });
  });

  it('preprocess: quantiles in [0, 1] and ordered, a variance share, a whole component cap', () => {
    expect(problem({ preprocess: { clipQuantiles: [0.9, 0.1] } })).toBe('c.json: preprocess.clipQuantiles: expected low <= high, got [0.9, 0.1]');
    expect(problem({ preprocess: { clipQuantiles: [0.1] } })).toBe('c.json: preprocess.clipQuantiles[1]: expected a number in [0, 1], got undefined');
    expect(problem({ preprocess: { clipQuantiles: [0.1, 0.9, 0.5] } })).toBe('c.json: preprocess.clipQuantiles[2]: expected [low, high] quantiles in [0, 1], got 0.5');
    expect(problem({ preprocess: { clipQuantiles: 0.1 } })).toBe('c.json: preprocess.clipQuantiles: expected [low, high] quantiles in [0, 1], got 0.1');
    expect(problem({ preprocess: { clipQuantiles: [0, 1.5] } })).toBe('c.json: preprocess.clipQuantiles[1]: expected a number in [0, 1], got 1.5');
    expect(problem({ preprocess: { pcaVarianceTarget: 0 } })).toBe('c.json: preprocess.pcaVarianceTarget: expected a number in (0, 1], got 0');
    expect(problem({ preprocess: { maxComponents: 0 } })).toBe('c.json: preprocess.maxComponents: expected an integer >= 1, got 0');
  });

  it('classify and the cold-start classifier: whole layer widths and counts, a positive step, a held-out share strictly inside (0, 1)', () => {
    expect(problem({ classify: { hidden: 64 } })).toBe('c.json: classify.hidden: expected a list of layer widths (integers >= 1), got 64');
    expect(problem({ classify: { epochs: 0 } })).toBe('c.json: classify.epochs: expected an integer >= 1, got 0');
    expect(problem({ classify: { learningRate: 0 } })).toBe('c.json: classify.learningRate: expected a number > 0, got 0');
    expect(problem({ classify: { heldOutShare: 0 } })).toBe('c.json: classify.heldOutShare: expected a number in (0, 1), got 0');
    expect(problem({ coldStart: { classifier: { batchSize: -1 } } })).toBe('c.json: coldStart.classifier.batchSize: expected an integer >= 1, got -1');
    expect(problem({ coldStart: { minCategoryCount: 2.5 } })).toBe('c.json: coldStart.minCategoryCount: expected an integer >= 0, got 2.5');
    // The cold-start classifier keeps its own defaults under a partial override.
    expect(parseConfig({ coldStart: { classifier: { epochs: 3 } } }).coldStart.classifier).toEqual({ ...defaultColdStartParams.classifier, epochs: 3 });
  });

  it('explain, features, drift and retrain: counts, shares and bounds', () => {
    expect(problem({ explain: { minLeafGain: 0 } })).toBe('c.json: explain.minLeafGain: expected a number in (0, 1], got 0');
    expect(problem({ explain: { fitSample: 1 } })).toBe('c.json: explain.fitSample: expected an integer >= 2, got 1');
    expect(problem({ features: { smallTicketAmount: -5 } })).toBe('c.json: features.smallTicketAmount: expected a number >= 0, got -5');
    expect(problem({ features: { homeCurrency: 3 } })).toBe('c.json: features.homeCurrency: expected a currency code or null, got 3');
    expect(problem({ features: { vendorModules: [] } })).toBe('c.json: features.vendorModules: unknown setting');
    expect(problem({ drift: { bins: 1 } })).toBe('c.json: drift.bins: expected an integer >= 2, got 1');
    expect(problem({ drift: { psiThreshold: 0 } })).toBe('c.json: drift.psiThreshold: expected a number > 0, got 0');
    expect(problem({ drift: { trends: { minMonths: 2 } } })).toBe('c.json: drift.trends.minMonths: expected an integer >= 3, got 2');
    expect(problem({ retrain: { gates: { maxAccuracyDrop: 2 } } })).toBe('c.json: retrain.gates.maxAccuracyDrop: expected a number in [0, 1], got 2');
    expect(problem({ retrain: { matching: { minJaccard: 0 } } })).toBe('c.json: retrain.matching.minJaccard: expected a number in (0, 1], got 0');
    expect(problem({ retrain: { stability: { sample: 5 } } })).toBe('c.json: retrain.stability.sample: expected an integer >= 10, got 5');
    expect(problem({ retrain: { retention: 0 } })).toBe('c.json: retrain.retention: expected an integer >= 1, got 0');
  });

  it('ingest: enums, units, dates and the maps against the contract', () => {
    expect(problem({ ingest: { quarantineLimit: 1.5 } })).toBe('c.json: ingest.quarantineLimit: expected a number in [0, 1], got 1.5');
    expect(problem({ ingest: { asOf: '2026-9-30' } })).toBe('c.json: ingest.asOf: expected a date "YYYY-MM-DD", got "2026-9-30"');
    expect(problem({ ingest: { csv: { delimiter: ';;' } } })).toBe('c.json: ingest.csv.delimiter: expected one character, got ";;"');
    expect(problem({ ingest: { csv: { encoding: 'klingon' } } })).toBe('c.json: ingest.csv.encoding: unknown encoding "klingon"');
    expect(problem({ ingest: { deriveCustomers: { from: 'orders' } } })).toBe('c.json: ingest.deriveCustomers.from: expected one of transactions, usage_events or null, got "orders"');
    expect(problem({ ingest: { files: { customer: 'c.csv' } } })).toBe('c.json: ingest.files.customer: expected a table of the contract, got "customer"');
    expect(problem({ ingest: { missingValues: ['NA', 0] } })).toBe('c.json: ingest.missingValues[1]: expected a string, got 0');
    expect(problem({ ingest: { normaliseIds: 'yes' } })).toBe('c.json: ingest.normaliseIds: expected true or false, got "yes"');
  });

  it('profileTable: a named file needs its key and its date; attributes are customer attributes', () => {
    expect(problem({ profileTable: { file: 'p.csv', asOf: '2026-01-01' } })).toBe('c.json: profileTable.key: expected the customer id column of p.csv, got null');
    expect(problem({ profileTable: { file: 'p.csv', key: 'id' } })).toBe('c.json: profileTable.asOf: expected the date the table describes (YYYY-MM-DD), got null');
    expect(problem({ profileTable: { revenueUnit: 'lakh' } })).toBe('c.json: profileTable.revenueUnit: expected one of units, thousands, millions, got "lakh"');
    expect(parseConfig({ profileTable: { file: 'p.csv', key: 'id', asOf: '2026-01-01', attributes: { $comment: 'x', industry: 'Sector' } } }).profileTable.attributes).toEqual({ industry: 'Sector' });
  });

  it('the seed is an integer', () => {
    expect(problem({ seed: 1.5 })).toBe('c.json: seed: expected an integer, got 1.5');
    expect(parseConfig({ seed: 0 }).seed).toBe(0);
  });
});
