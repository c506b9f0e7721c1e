import { describe, expect, it } from 'vitest';
import { MODULES } from '../../pipeline/01-ingest/contract.ts';
import { evaluateHoldout, fitNextModule, nextModuleCatalog } from '../../pipeline/07-map/next-module-fit.ts';
import { defaultNextModuleParams } from '../../pipeline/07-map/next-module-params.ts';
import { adoptionMasks, evidenceText, modulesText, popularModules, recommendCustomerModules, recommendModules, type NextModuleSegment } from '../../pipeline/07-map/next-module.ts';
import { toJson } from '../../pipeline/core/json.ts';
import { fromRows } from '../../pipeline/core/matrix.ts';

const bit = (...js: number[]) => js.reduce((m, j) => m | (1 << j), 0);
const segmentOf = (peers: number[], adoption: number[]): NextModuleSegment => ({ customers: peers.length, adoption, peers, recommended: [] });

describe('recommendModules (hand-made peers)', () => {
  it('recommends the module its peers adopted and it lacks, with the share of peers using it and the lift over the segment', () => {
    // Four peers: all use 0 and 1, three of them also 2. The customer uses 0 and 1.
    const seg = segmentOf([bit(0, 1, 2), bit(0, 1, 2), bit(0, 1, 2), bit(0, 1)], [1, 1, 0.5]);
    const rec = recommendModules(seg, bit(0, 1), 10, 3);
    expect(rec.modules).toEqual([2]);
    expect(rec.peerShare).toEqual([0.75]); // 3 of 4 peers
    expect(rec.lift).toEqual([1.5]); // 0.75 / 0.5
  });

  it('ranks by the nearest peers, not by the segment: the popularity baseline picks the other module', () => {
    // Modules: 0 shared by all; 1 and 2 mark two kinds of customers; 3 is used by the kind with 1, 4 (more popular) by the kind with 2.
    const likeMe = [bit(0, 1, 3), bit(0, 1, 3), bit(0, 1)];
    const others = [bit(0, 2, 4), bit(0, 2, 4), bit(0, 2, 4), bit(0, 2, 4), bit(0, 2, 4)];
    const peers = [...others, ...likeMe];
    const adoption = [1, 3 / 8, 5 / 8, 2 / 8, 5 / 8];
    const seg = segmentOf(peers, adoption);
    const rec = recommendModules(seg, bit(0, 1), 3, 1);
    // The 3 nearest by Jaccard are the three customers using 0 and 1 (J = 2/3, 2/3, 1), two of whom use module 3.
    expect(rec.modules).toEqual([3]);
    expect(rec.peerShare).toEqual([0.6667]);
    expect(popularModules(seg, bit(0, 1), 1)).toEqual([2]);
  });

  it('gives a customer without module use its segment’s popular modules, at the segment’s rates', () => {
    const seg = segmentOf([bit(0), bit(0, 1)], [1, 0.5, 0]);
    expect(recommendModules(seg, 0, 5, 3)).toEqual({ modules: [0, 1], peerShare: [1, 0.5], lift: [1, 1] });
  });

  it('never recommends a module nobody in the segment uses, nor one the customer has', () => {
    const seg = segmentOf([bit(0, 1)], [1, 1, 0]);
    expect(recommendModules(seg, bit(0, 1), 5, 3).modules).toEqual([]);
  });
});

describe('adoptionMasks', () => {
  it('sets a module when its share reaches minShare; a missing column or NaN is not adopted', () => {
    const X = fromRows([
      [0.5, 0.01, Number.NaN],
      [0, 0.02, 0.9],
    ]);
    expect(Array.from(adoptionMasks(X, ['share_a', 'share_b', 'share_c'], ['share_a', 'share_b', 'share_c', 'share_gone'], 0.02))).toEqual([bit(0), bit(1, 2)]);
  });
});

describe('fitNextModule', () => {
  const { features } = nextModuleCatalog([]);
  const inv = MODULES.indexOf('invoicing');
  const tax = MODULES.indexOf('tax');
  const gl = MODULES.indexOf('general_ledger');
  // 40 customers in one segment: all use the ledger, 30 also invoicing, 10 of those also tax.
  const rows = Array.from({ length: 40 }, (_, i) => features.map((f) => (f === 'share_general_ledger' ? 0.5 : f === 'share_invoicing' && i < 30 ? 0.3 : f === 'share_tax' && i < 10 ? 0.2 : 0)));
  const input = { X: fromRows(rows), featureNames: features, labels: new Int32Array(40), k: 1, vendorModules: [], holdout: null };

  it('stores the segment adoption rates and the peers, deterministically for a seed', () => {
    const state = fitNextModule(input, defaultNextModuleParams, 7)!;
    expect(state.segments[0]!.customers).toBe(40);
    expect(state.segments[0]!.adoption[gl]).toBe(1);
    expect(state.segments[0]!.adoption[inv]).toBe(0.75);
    expect(state.segments[0]!.adoption[tax]).toBe(0.25);
    expect(state.segments[0]!.peers).toHaveLength(40);
    expect(toJson(fitNextModule(input, defaultNextModuleParams, 7))).toBe(toJson(state));
  });

  it('caps the peer pool at sampleCap', () => {
    expect(fitNextModule(input, { ...defaultNextModuleParams, sampleCap: 12 }, 7)!.segments[0]!.peers).toHaveLength(12);
  });

  it('has no state without module use (a transactions-only export or a profile table has no share features)', () => {
    const txOnly = { ...input, X: fromRows([[5, 100], [2, 40]]), featureNames: ['txn_count_90', 'txn_volume_90'], labels: new Int32Array(2) };
    expect(fitNextModule(txOnly, defaultNextModuleParams, 7)).toBeNull();
  });

  it('writes score text as module;… and module:peer share:lift;…', () => {
    const state = fitNextModule(input, defaultNextModuleParams, 7)!;
    // A customer on the ledger alone: all 40 peers tie on similarity or not; with 25 neighbours the shares follow the sample.
    const [rec] = recommendCustomerModules(state, [0], [bit(gl)]);
    expect(modulesText(rec!, state.modules).split(';')[0]).toBe('invoicing');
    expect(evidenceText(rec!, state.modules)).toMatch(/^invoicing:\d\.\d\d:\d\.\d\d(;[a-z_]+:\d\.\d\d:\d\.\d\d)*$/);
  });
});

describe('evaluateHoldout', () => {
  it('counts a hit when a first adoption is among the first three recommended, for both methods', () => {
    // Segment of 4: three use {0,1} at T − h, one uses {0}; the one with {0} first adopts 1 (a hit for both),
    // a {0,1} customer first adopts 2, which nobody used (a miss for both).
    const earlyMask = Int32Array.from([bit(0, 1), bit(0, 1), bit(0, 1), bit(0)]);
    const everMask = Int32Array.from([bit(0, 1), bit(0, 1), bit(0, 1), bit(0)]);
    const lateMask = Int32Array.from([bit(0, 1), bit(0, 1), bit(0, 1, 2), bit(0, 1)]);
    const e = evaluateHoldout({ earlyMask, everMask, lateMask }, new Int32Array(4), 1, 3, defaultNextModuleParams, 1);
    expect(e).toEqual({ horizonDays: 90, at: 3, customers: 2, nextModule: { hits: 1, hitRate: 0.5 }, popularity: { hits: 1, hitRate: 0.5 } });
  });
});
