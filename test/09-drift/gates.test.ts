import { describe, expect, it } from 'vitest';
import { evaluateGates, type GateInput } from '../../pipeline/09-drift/gates.ts';
import { defaultRetrainParams } from '../../pipeline/09-drift/params.ts';

const gates = defaultRetrainParams.gates; // silhouette >= 0.15, stability >= 0.6, accuracy drop <= 0.05, agreement >= 0.7
const good: GateInput = { silhouette: 0.28, stability: 0.9, candidateAccuracy: 0.97, productionAccuracy: 0.98, agreement: 0.95, driftDetected: false, driftedInputs: [] };

describe('promotion gates', () => {
  it('promotes when every gate passes', () => {
    const d = evaluateGates(good, gates);
    expect(d.promote).toBe(true);
    expect(d.gates.map((g) => [g.gate, g.status])).toEqual([
      ['silhouette', 'pass'],
      ['stability', 'pass'],
      ['accuracyDrop', 'pass'],
      ['agreement', 'pass'],
    ]);
    expect(d.gates[2]!.value).toBeCloseTo(0.01, 12);
  });

  it('holds a candidate that disagrees with production when nothing drifted, saying why', () => {
    const d = evaluateGates({ ...good, agreement: 0.5 }, gates);
    expect(d.promote).toBe(false);
    expect(d.reasons).toEqual(['agreement with production (ARI) 0.500 < 0.700']);
  });

  it('waives the agreement gate when drift is detected', () => {
    const d = evaluateGates({ ...good, agreement: 0.5, driftDetected: true, driftedInputs: ['device_mobile_share'] }, gates);
    expect(d.promote).toBe(true);
    expect(d.gates[3]).toMatchObject({ status: 'waived', reason: 'agreement with production (ARI) 0.500 < 0.700, waived: drift detected (device_mobile_share)' });
  });

  it('holds on a classifier accuracy drop, a weak silhouette or an unmeasured stability', () => {
    expect(evaluateGates({ ...good, candidateAccuracy: 0.9 }, gates).reasons).toEqual(['classifier held-out accuracy 0.900 vs production 0.980: drop 0.080 > 0.050']);
    expect(evaluateGates({ ...good, silhouette: 0.1 }, gates).reasons).toEqual(['candidate silhouette 0.100 < 0.150']);
    expect(evaluateGates({ ...good, stability: null }, gates).reasons).toEqual(['candidate bootstrap stability could not be measured']);
  });

  it('judges a first model on its own quality only', () => {
    const d = evaluateGates({ ...good, productionAccuracy: null, agreement: null }, gates);
    expect(d.promote).toBe(true);
    expect(d.gates.slice(2).map((g) => g.status)).toEqual(['not-applicable', 'not-applicable']);
  });
});
