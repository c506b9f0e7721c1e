import { describe, expect, it } from 'vitest';
import { compareActions, effectOf, isControl, Z95, type ActionMember } from '../../pipeline/09-drift/evaluate.ts';
import { actionModule } from '../../pipeline/09-drift/evaluate-sql.ts';

describe('effectOf: treatment − control with a 95% normal interval, hand-computed', () => {
  it('difference of proportions: 3/4 against 1/4', () => {
    // se = sqrt(.75·.25/4 + .25·.75/4) = sqrt(0.09375) = 0.3061862
    const e = effectOf([1, 1, 1, 0], [1, 0, 0, 0], 'proportion', 2);
    expect(e.treatment).toBe(0.75);
    expect(e.control).toBe(0.25);
    expect(e.difference).toBeCloseTo(0.5, 12);
    expect(e.low).toBeCloseTo(0.5 - 1.959964 * 0.3061862, 5);
    expect(e.high).toBeCloseTo(0.5 + 1.959964 * 0.3061862, 5);
    expect(e.verdict).toBeNull();
  });

  it('Welch difference of means: [2,4,6] against [1,1,4]', () => {
    // means 4 and 2; sample variances 4 and 3; se = sqrt(4/3 + 3/3) = 1.5275252
    const e = effectOf([2, 4, 6], [1, 1, 4], 'mean', 2);
    expect(e.difference).toBeCloseTo(2, 12);
    expect(e.low).toBeCloseTo(2 - 1.959964 * 1.5275252, 5);
    expect(e.high).toBeCloseTo(2 + 1.959964 * 1.5275252, 5);
  });

  it('a verdict only when the interval excludes 0, and none below the minimum per arm', () => {
    const up = effectOf(Array(100).fill(1).map((x, i) => (i < 60 ? x : 0)), Array(100).fill(1).map((x, i) => (i < 20 ? x : 0)), 'proportion', 5);
    expect(up.verdict).toBe('higher');
    expect(up.low! > 0).toBe(true);
    const down = effectOf([0, 0, 0, 0, 0, 0, 0, 0, 0, 1], [1, 1, 1, 1, 1, 1, 1, 1, 1, 0], 'proportion', 5);
    expect(down.verdict).toBe('lower');
    const few = effectOf([1, 1], [0, 0, 0, 0, 0], 'proportion', 5);
    expect(few).toMatchObject({ nTreatment: 2, nControl: 5, treatment: 1, control: 0, difference: null, low: null, verdict: null });
    expect(Z95).toBeCloseTo(1.959964, 6);
  });
});

describe('compareActions', () => {
  const m = (action: string, variant: string, segment: number | null, adopted: boolean | null, npsChange: number | null = null): ActionMember => ({ action, variant, segment, adopted, churned: null, npsChange });
  const members = [
    m('upsell', 'treatment', 0, true, 2),
    m('upsell', 'treatment', 1, true, 1),
    m('upsell', 'Treatment', 1, false),
    m('upsell', 'Control', 0, false, 0),
    m('upsell', 'control', null, true, 1),
    m('no_holdout', 'treatment', 0, true),
  ];
  const available = { adoption: null, churn: 'no subscriptions table', nps: null };

  it('compares each non-control variant with the control arm, overall then per segment; members without a segment count overall only', () => {
    const { comparisons, noControl } = compareActions(members, available, { controlVariants: ['control'], minPerArm: 1 });
    expect(noControl).toEqual(['no_holdout']);
    expect(comparisons.map((c) => [c.action, c.variant, c.segment])).toEqual([
      ['upsell', 'Treatment', null],
      ['upsell', 'Treatment', 0],
      ['upsell', 'Treatment', 1],
      ['upsell', 'treatment', null],
      ['upsell', 'treatment', 0],
      ['upsell', 'treatment', 1],
    ]);
    const overall = comparisons[3]!;
    expect(overall.adoption).toMatchObject({ nTreatment: 2, nControl: 2, treatment: 1, control: 0.5 });
    expect(overall.nps).toMatchObject({ nTreatment: 2, nControl: 2, treatment: 1.5, control: 0.5 });
    expect(overall.churn).toBeNull();
    expect(comparisons[5]!.adoption).toMatchObject({ nTreatment: 1, nControl: 0, difference: null });
  });

  it('control variants match trimmed and case-insensitively', () => {
    expect(isControl(' Control ', ['control'])).toBe(true);
    expect(isControl('对照组', ['control', '对照组'])).toBe(true);
    expect(isControl('treatment', ['control'])).toBe(false);
  });
});

describe('actionModule', () => {
  it('config first ("" = none), then the catalog module the name names, then a vendor module it contains', () => {
    expect(actionModule('invoicing_upsell', {}, [])).toBe('invoicing');
    expect(actionModule('Payroll onboarding', {}, [])).toBe('payroll');
    expect(actionModule('发票推广', {}, [])).toBe('invoicing');
    expect(actionModule('newsletter', {}, ['invoicing'])).toBeNull();
    expect(actionModule('bank feeds promo', {}, ['Bank feeds', 'api'])).toBe('Bank feeds');
    expect(actionModule('invoicing_upsell', { invoicing_upsell: '' }, [])).toBeNull();
    expect(actionModule('mobile_app_onboarding', { mobile_app_onboarding: 'invoicing' }, [])).toBe('invoicing');
  });
});
