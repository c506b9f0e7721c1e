import { describe, expect, it } from 'vitest';
import { valueBySegment, type CustomerRevenue } from '../../pipeline/07-map/value.ts';
import { segmentsCsv } from '../../pipeline/10-report/exports.ts';
import { reportChartSpecs, reportHtml } from '../../pipeline/10-report/html.ts';
import { texts } from '../../pipeline/10-report/i18n.ts';
import { reportMarkdown } from '../../pipeline/10-report/markdown.ts';
import { reportModel } from '../../pipeline/10-report/model.ts';
import { VALUE_CSV_COLUMNS, valueCsvFields } from '../../pipeline/10-report/value-view.ts';
import { twoSegments } from './hand-model.ts';

/**
 * The report's value per segment on the hand-built two-segment bundle: segment 0 holds MRR 250
 * (a churned, one expanded), segment 1 MRR 50 (one new customer), so the shares are 250/300 and
 * 50/300 of MRR against 1/2 and 1/2 of customers.
 */
const ALL = { segmentsJson: true, segmentsCsv: true, assignmentsCsv: true, assignmentsParquet: true, reportMd: true };
const revenue: CustomerRevenue = {
  mrrNow: Float64Array.from([100, 0, 150, 50, 0, 0]),
  mrrBefore: Float64Array.from([100, 200, 100, 0, 0, 0]),
  seats: Float64Array.from([1, NaN, 2, 3, NaN, NaN]),
  active: Uint8Array.from([1, 0, 1, 1, 0, 0]),
  leftOutRows: new Float64Array(6),
};

function valued() {
  const { manifest, segments } = twoSegments(false);
  const value = valueBySegment(Int32Array.from([0, 0, 0, 1, 1, 1]), 2, revenue, { asOf: '2026-09-30', currency: 'USD' });
  segments.cards = segments.cards.map((c, i) => ({ ...c, value: value.segments[i]! }));
  segments.value = value.basis;
  return { manifest, segments };
}

describe('value per segment in the report', () => {
  it('adds the value columns to segments.csv, in the documented order', () => {
    const { manifest, segments } = valued();
    const [header, first] = segmentsCsv(reportModel(manifest, segments).segments).split('\n');
    expect(header!.split(',').slice(-VALUE_CSV_COLUMNS.length)).toEqual([...VALUE_CSV_COLUMNS]);
    const fields = first!.split(',').slice(-VALUE_CSV_COLUMNS.length);
    // active 2, paying 2, MRR 250, ARR 3000, share 250/300, customers 1/2, ARPC 125, seats 3, start 3 / 400, churned 1 / 200, rates.
    expect(fields.slice(0, 4)).toEqual(['2', '2', '250', '3000']);
    expect(Number(fields[4])).toBeCloseTo(250 / 300, 12);
    expect(fields.slice(5)).toEqual(['0.5', '125', '3', '3', '400', '1', '200', '0.5', String(1 / 3), '0.625', '0.125', '0']);
    expect(valueCsvFields(undefined)).toHaveLength(VALUE_CSV_COLUMNS.length);
  });

  it('leaves segments.csv as it was without value', () => {
    const { manifest, segments } = twoSegments(false);
    expect(segmentsCsv(reportModel(manifest, segments).segments).split('\n')[0]).not.toContain('mrr');
  });

  it('writes a value section and a line per card in both Markdown languages', () => {
    const { manifest, segments } = valued();
    const md = reportMarkdown(manifest, segments);
    expect(md).toContain('## Value per segment');
    expect(md).toContain('**Value.** MRR 250 USD (83.3% of all), ARR 3,000 USD; 2 paying customers, 125 USD each; 12 months: gross MRR churn 50.0%, logo churn 33.3%, NRR 62.5%, expansion 12.5%.');
    expect(md).toMatch(/\| All customers \| 6 \| 3 \| 300 \(100\.0%\) \|/);
    const zh = reportMarkdown(manifest, segments, {}, 'zh');
    expect(zh).toContain('## 各分群价值');
    expect(zh).toContain('**价值。** MRR 250 USD（占全部 83.3%）');
  });

  it('says there is no subscriptions table only when ingest listed it as absent', () => {
    const { manifest, segments } = twoSegments(false);
    expect(reportMarkdown(manifest, segments)).not.toContain('subscriptions');
    const absent = { ...manifest, input: { ...manifest.input, absentTables: [...manifest.input.absentTables, 'subscriptions'] } };
    expect(reportMarkdown(absent, segments)).toContain('Value per segment: no subscriptions table in this export.');
    expect(reportMarkdown(absent, segments, {}, 'zh')).toContain('各分群价值：本次导出没有订阅表。');
  });

  it('charts each segment at its share of customers and of MRR, and puts the section and card rows on the page', () => {
    const { manifest, segments } = valued();
    const model = reportModel(manifest, segments);
    const t = texts('en');
    const spec = reportChartSpecs(model, t).find((s) => s.id === 'value')!;
    const points = (spec.spec as unknown as { layer: { data: { values: { customers?: number; revenue?: number }[] } }[] }).layer[1]!.data.values;
    expect(points.map((p) => p.customers)).toEqual([0.5, 0.5]);
    expect(points[0]!.revenue).toBeCloseTo(250 / 300, 12);
    expect(points[1]!.revenue).toBeCloseTo(50 / 300, 12);
    const page = reportHtml(model, t, [{ id: 'value', title: spec.title, wide: false, svg: '<svg></svg>' }], ALL);
    expect(page).toContain('<section id="value"><h2>Value per segment</h2>');
    expect(page).toContain('id="chart-value"');
    expect(page.match(/<h4>Value<\/h4>/g)).toHaveLength(2);
  });
});
