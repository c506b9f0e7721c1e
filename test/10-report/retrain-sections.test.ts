import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MODULES } from '../../pipeline/01-ingest/contract.ts';
import type { Comparison } from '../../pipeline/09-drift/compare.ts';
import { fitTrends } from '../../pipeline/09-drift/trends.ts';
import { renderReportHtml, reportChartSpecs } from '../../pipeline/10-report/html.ts';
import { texts } from '../../pipeline/10-report/i18n.ts';
import { reportModel } from '../../pipeline/10-report/model.ts';
import { writeReport } from '../../pipeline/10-report/report.ts';
import { twoSegments } from './hand-model.ts';

/**
 * The sections a retrain adds (trends.json and comparison.json beside the states), built with
 * the drift stage's own functions and types, so a change of their shape shows up here.
 */
const ALL = { segmentsJson: true, segmentsCsv: true, assignmentsCsv: true, assignmentsParquet: true, reportMd: true };
const INVOICING = MODULES.indexOf('invoicing');

/** Twelve months of 27 customers: segment 0 (24 customers) adopts invoicing one customer a month, segment 1 (3) never does. */
function risingTrends() {
  const months = Array.from({ length: 12 }, (_, i) => 2025 * 12 + 9 + i); // 2025-10 .. 2026-09
  const customer: number[] = [];
  const month: number[] = [];
  const mask: number[] = [];
  months.forEach((m, t) => {
    for (let c = 0; c < 27; c++) {
      customer.push(c);
      month.push(m);
      // Customer c of segment 0 (c < 12) starts invoicing in month c; everyone uses the general ledger.
      mask.push(1 | (c < 12 && t >= c ? 1 << INVOICING : 0));
    }
  });
  return fitTrends(
    // Five usage events per customer and month: a flat volume of 5 events per active customer.
    { customer: Int32Array.from(customer), month: Int32Array.from(month), mask: Int32Array.from(mask), events: Int32Array.from(customer, () => 5) },
    Int32Array.from({ length: 27 }, (_, c) => (c < 24 ? 0 : 1)),
    [0, 1],
    months,
    { minMonths: 6, horizonMonths: 3, topModules: 3, minCoveredDays: 25, holdoutMonths: 3, seasonPeriod: 12 },
  );
}

const comparison: Comparison = {
  kind: 'finseg.comparison',
  version: 1,
  production: '20261001-030000-<b>"prod"',
  customers: { current: 6, productionTraining: 6 },
  drift: {
    threshold: 0.2,
    detected: true,
    inputs: [
      { name: 'device_mobile_share', source: 'feature', psi: 0.35, bins: [], expected: [], actual: [] },
      { name: 'txn_count_90', source: 'feature', psi: 0.04, bins: [], expected: [], actual: [] },
    ],
    drifted: ['device_mobile_share'],
    segmentSharePsi: 0.01,
  },
  shares: [],
  agreement: { ari: 0.87, customers: 6 },
  segments: [],
  vanished: [],
  nextSegmentId: 2,
  migration: {
    from: [0, 1, 'new'],
    to: [0, 1, 'gone'],
    counts: [
      [3, 0, 0],
      [1, 2, 0],
      [0, 0, 0],
    ],
    shares: [
      [1, 0, 0],
      [1 / 3, 2 / 3, 0],
      [0, 0, 0],
    ],
    sameId: 5,
    inBoth: 6,
  },
  metrics: { candidate: { silhouette: 0.6, stability: 0.9, heldOutAccuracy: 0.95 }, production: { heldOutAccuracy: 0.96 } },
  gates: [{ gate: 'agreement', value: 0.87, threshold: 0.8, status: 'pass', reason: 'ARI 0.87 >= 0.8 <ok>' }],
  decision: 'promote',
  reasons: [],
  // One Markov step by hand: (0.5, 0.5) × [[1, 0], [1/3, 2/3]] = (2/3, 1/3).
  mixForecast: { ids: [0, 1], now: [0.5, 0.5], next: [2 / 3, 1 / 3], transition: [[1, 0], [1 / 3, 2 / 3]] },
} as unknown as Comparison;

describe('retrain sections of the report', () => {
  const { manifest, segments } = twoSegments(true);
  const trends = risingTrends();

  it('reads the significant movers per segment position from trends.json', () => {
    const model = reportModel(manifest, segments, { trends: JSON.parse(JSON.stringify(trends)) });
    const rising = model.trends!.rising;
    expect([...rising.keys()]).toEqual([0]);
    expect(rising.get(0)!.map((r) => r.module)).toEqual(['invoicing']);
    expect(rising.get(0)![0]!.adoption).toEqual(trends.segments[0]!.modules[INVOICING]!.adoption);
    expect(rising.get(0)![0]!.forecast.months).toEqual(['2026-10', '2026-11', '2026-12']);
    // By hand: adoption is 0, 0, then 1/3 from month 2, 2/3 from month 5, 1 from month 8 (months 0..11).
    // By hand: adoption (t + 1) / 24, an exact line of 1/24 a month, which naive with drift forecasts exactly.
    expect(rising.get(0)![0]!.adoption).toEqual(Array.from({ length: 12 }, (_, t) => expect.closeTo((t + 1) / 24, 12)));
    expect(rising.get(0)![0]!.slopePerMonth).toBeCloseTo(1 / 24, 12);
    expect(rising.get(0)![0]!.model).toBe('naive_drift');
    expect(rising.get(0)![0]!.mase).toBe(0);
    expect(rising.get(0)![0]!.verdict).toBe('rising');
  });

  it('adds the trends, drift and migration charts, and the decision with its gates', async () => {
    const states = { trends: JSON.parse(JSON.stringify(trends)), comparison: JSON.parse(JSON.stringify(comparison)) };
    const model = reportModel(manifest, segments, states);
    expect(model.comparison!.sameIdShare).toBeCloseTo(5 / 6, 12);
    expect(model.comparison!.migration.find((c) => c.from === '1' && c.to === '0')).toEqual({ from: '1', to: '0', count: 1, share: 1 / 3 });
    const ids = reportChartSpecs(model, texts('en')).map((c) => c.id);
    expect(ids).toEqual(['sizes', 'projection', 'profile', 'lenses', 'adoption', 'abandonment', 'feedback', 'trends', 'drift', 'migration', 'k-selection']);

    const page = await renderReportHtml(model, 'en', ALL);
    expect(page.match(/<figure class="chart/g)).toHaveLength(11);
    expect(page).toContain('<section id="trends">');
    expect(page).toContain('<section id="drift">');
    expect(page).toContain('<code>20261001-030000-&lt;b&gt;&quot;prod&quot;</code>');
    expect(page).toContain('83.3% of customers kept their segment id');
    expect(page).toContain('<span class="gate pass">pass</span>ARI 0.87 &gt;= 0.8 &lt;ok&gt;');
    // The card of the rising segment names its module and the forecast.
    // 1/24 a month (the hand-computed slope above) is 4.2 percentage points; the model and its MASE follow the interval.
    expect(page).toContain('Significant changes</h4><p><span class="rise">Invoicing rising <strong>+4.2 pp/month</strong>');
    expect(page).toContain('naive with drift, MASE 0.00');
    // Usage volume: 5 events per active customer every month, flat, in a table of its own; a year of data has no seasonal models.
    expect(page).toContain('<h3>Usage volume</h3>');
    expect(page).toMatch(/<td class="num">5\.0<\/td><td>[^<]+<\/td><td class="num">[^<]+<\/td><td class="num">5\.0 \(5\.0–5\.0\)<\/td><td>flat<\/td>/);
    expect(page).toContain('only non-seasonal models');
    const zh = await renderReportHtml(model, 'zh', ALL);
    expect(zh).toContain('显著变化');
    expect(zh).toContain('带漂移的朴素');
    expect(zh).toContain('与上一版本模型的变化');
  });

  it('takes the comparison and the trends from its input, never from files in the bundle folder', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'finseg-report-input-'));
    try {
      // Files a reader of the folder would find: the report must not pick them up unverified.
      writeFileSync(join(dir, 'comparison.json'), JSON.stringify(comparison));
      writeFileSync(join(dir, 'trends.json'), JSON.stringify(trends));
      const bare = await writeReport(dir, { manifest, segments, states: {} }, { lang: 'en' });
      expect(readFileSync(bare.html, 'utf8')).not.toMatch(/<section id="(drift|trends)">/);
      expect(readFileSync(bare.markdown, 'utf8')).not.toMatch(/## (Comparison with production|Module adoption and usage trends)/);
      const full = await writeReport(dir, { manifest, segments, states: { comparison, trends } }, { lang: 'en' });
      const page = readFileSync(full.html, 'utf8');
      expect(page).toContain('<section id="drift">');
      expect(page).toContain('<section id="trends">');
      const md = readFileSync(full.markdown, 'utf8');
      expect(md).toContain('## Comparison with production 20261001-030000-<b>"prod"');
      expect(md).toContain('## Module adoption and usage trends');
      expect(md).toContain('### Segment mix forecast');
      expect(md).toMatch(/\| 0 [^|]*\| 50\.0% \| 66\.7% \| \+16\.7 pp \|/);
      expect(page).toContain('<td class="num">66.7%</td><td class="num">+16.7 pp</td>');
      const zh = await writeReport(join(dir, 'zh'), { manifest, segments, states: { comparison, trends } }, { lang: 'zh' });
      const zhMd = readFileSync(zh.markdown, 'utf8');
      expect(zhMd).toContain('## 模块采用率与使用量趋势');
      expect(zhMd).toContain('### 分群结构预测');
      expect(zhMd).toContain('上升');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('leaves the comparison out for a first model, which has no production to compare with', () => {
    const first = { ...comparison, production: null, drift: null, migration: null, agreement: null };
    const model = reportModel(manifest, segments, { comparison: first });
    expect(model.comparison).toBeNull();
    expect(reportChartSpecs(model, texts('en')).map((c) => c.id)).not.toContain('drift');
  });
});
