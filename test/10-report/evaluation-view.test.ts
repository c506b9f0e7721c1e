import { describe, expect, it } from 'vitest';
import { effectOf, EVALUATION_KIND, EVALUATION_METHOD, type Evaluation } from '../../pipeline/09-drift/evaluate.ts';
import { evaluationMarkdown, evaluationOf, evaluationSection } from '../../pipeline/10-report/evaluation-view.ts';

const adoption = effectOf([1, 1, 1, 0, 1, 1], [0, 0, 1, 0, 0, 0], 'proportion', 5);
const evaluation: Evaluation = {
  kind: EVALUATION_KIND,
  formatVersion: 1,
  model: 'v1',
  dataDir: '/data',
  asOf: '2026-09-30',
  windowDays: 90,
  churnDays: 60,
  controlVariants: ['control'],
  method: EVALUATION_METHOD,
  unavailable: { adoption: null, churn: 'no subscriptions table', nps: 'no feedback table' },
  segmentSource: 'train assignments',
  membersWithoutSegment: 0,
  segments: [{ id: 0, name: { en: 'Retailers', zh: '零售商' } }],
  actions: [{ action: 'invoicing_upsell', module: 'invoicing', firstDate: '2026-05-01', lastDate: '2026-05-01', membersByVariant: { treatment: 6, control: 6 }, conflicts: 0 }],
  noControl: ['webinar'],
  comparisons: [{ action: 'invoicing_upsell', variant: 'treatment', segment: 0, adoption, churn: null, nps: null }],
};

describe('the evaluation in the report', () => {
  it('reads only an evaluation of its kind and version', () => {
    expect(evaluationOf(evaluation)).toBe(evaluation);
    expect(evaluationOf({ ...evaluation, formatVersion: 2 })).toBeNull();
    expect(evaluationOf({ kind: 'finseg.segments-export' })).toBeNull();
    expect(evaluationOf(null)).toBeNull();
  });

  it('shows each measured outcome with n per arm and its interval, and names what was not measured, in both languages', () => {
    // 5/6 against 1/6: +66.7 pp
    const en = evaluationMarkdown(evaluation, 'en').join('\n');
    expect(en).toContain('| 0 · Retailers | Adoption | 83.3% (n=6) | 16.7% (n=6) | +66.7 pp [');
    expect(en).toContain('Churn: not measured (no subscriptions table)');
    expect(en).toContain('Not compared (no control variant): webinar');
    expect(en).toContain('within 60 days');
    const zh = evaluationMarkdown(evaluation, 'zh').join('\n');
    expect(zh).toContain('| 0 · 零售商 | 采用率 |');
    expect(zh).toContain('流失率：未测量（无订阅表）');
    const section = evaluationSection(evaluation, 'zh');
    expect(section.title).toBe('行动效果评估');
    expect(section.body.toString()).toContain('零售商');
  });
});
