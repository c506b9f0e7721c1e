/**
 * Promotion gates: the documented rule that decides whether a retrained candidate replaces
 * production. Every gate that applies must pass; the agreement gate is waived when drift is
 * detected, because a model retrained on a shifted population is expected to disagree with one
 * trained before the shift.
 */
import type { GateParams } from './params.ts';

/** The gates, in the order they are reported. */
export const GATE_NAMES = ['silhouette', 'stability', 'accuracyDrop', 'agreement'] as const;
export type GateName = (typeof GATE_NAMES)[number];

/** One gate's outcome. */
export interface GateResult {
  gate: GateName;
  /** The measured value (null when it could not be measured). */
  value: number | null;
  threshold: number;
  /** 'not-applicable' when there is no production to compare with. */
  status: 'pass' | 'fail' | 'waived' | 'not-applicable';
  /** One sentence: what was compared, and why it passed, failed or was waived. */
  reason: string;
}

/** What the gates read. */
export interface GateInput {
  silhouette: number | null;
  stability: number | null;
  candidateAccuracy: number;
  /** Null without a production model. */
  productionAccuracy: number | null;
  /** ARI of production's and the candidate's assignments of today's customers; null without production. */
  agreement: number | null;
  driftDetected: boolean;
  /** Inputs whose PSI reached the threshold, for the waiver's reason. */
  driftedInputs: readonly string[];
}

/** The decision: promote when every gate passes or is waived/not applicable. */
export interface GateDecision {
  gates: GateResult[];
  promote: boolean;
  /** The failing gates' reasons (empty when promoted). */
  reasons: string[];
}

const f3 = (x: number) => x.toFixed(3);

/** Applies the gates to a candidate. */
export function evaluateGates(input: GateInput, params: GateParams): GateDecision {
  const atLeast = (gate: GateName, what: string, value: number | null, threshold: number): GateResult => {
    if (value === null || Number.isNaN(value)) return { gate, value: null, threshold, status: 'fail', reason: `${what} could not be measured` };
    const pass = value >= threshold;
    return { gate, value, threshold, status: pass ? 'pass' : 'fail', reason: `${what} ${f3(value)} ${pass ? '>=' : '<'} ${f3(threshold)}` };
  };
  const gates: GateResult[] = [
    atLeast('silhouette', 'candidate silhouette', input.silhouette, params.minSilhouette),
    atLeast('stability', 'candidate bootstrap stability', input.stability, params.minStability),
  ];
  if (input.productionAccuracy === null) {
    gates.push({ gate: 'accuracyDrop', value: null, threshold: params.maxAccuracyDrop, status: 'not-applicable', reason: 'no production model to compare with' });
    gates.push({ gate: 'agreement', value: null, threshold: params.minAgreement, status: 'not-applicable', reason: 'no production model to compare with' });
  } else {
    const drop = input.productionAccuracy - input.candidateAccuracy;
    const ok = drop <= params.maxAccuracyDrop;
    gates.push({
      gate: 'accuracyDrop',
      value: drop,
      threshold: params.maxAccuracyDrop,
      status: ok ? 'pass' : 'fail',
      reason: `classifier held-out accuracy ${f3(input.candidateAccuracy)} vs production ${f3(input.productionAccuracy)}: drop ${f3(drop)} ${ok ? '<=' : '>'} ${f3(params.maxAccuracyDrop)}`,
    });
    const agreement = atLeast('agreement', 'agreement with production (ARI)', input.agreement, params.minAgreement);
    if (agreement.status === 'fail' && input.driftDetected) {
      agreement.status = 'waived';
      agreement.reason += `, waived: drift detected (${input.driftedInputs.slice(0, 5).join(', ')}${input.driftedInputs.length > 5 ? ', …' : ''})`;
    }
    gates.push(agreement);
  }
  const failed = gates.filter((g) => g.status === 'fail');
  return { gates, promote: failed.length === 0, reasons: failed.map((g) => g.reason) };
}
