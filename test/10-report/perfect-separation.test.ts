import { describe, expect, it } from 'vitest';
import type { CustomerLenses } from '../../pipeline/06-categorize/lenses.ts';
import { mapSegments, PERFECT_SEPARATION, segmentDifferences, standardisedDifference } from '../../pipeline/07-map/segments.ts';
import { fromRows } from '../../pipeline/core/matrix.ts';
import type { SegmentsState } from '../../pipeline/model/types.ts';
import { segmentsCsv } from '../../pipeline/10-report/exports.ts';
import { reportHtml } from '../../pipeline/10-report/html.ts';
import { texts } from '../../pipeline/10-report/i18n.ts';
import { reportModel } from '../../pipeline/10-report/model.ts';
import { reportMarkdown, segmentsExport } from '../../pipeline/10-report/report.ts';
import { twoSegments } from './hand-model.ts';

/**
 * A feature on which neither the segment nor the rest varies but whose means differ separates
 * the segment perfectly: Cohen's d is unbounded there. It must be flagged, ranked first and
 * shown as such, never as 0.00 (what dividing by a zero pooled sd would print), and the exports stay finite.
 */

const ALL = { segmentsJson: true, segmentsCsv: true, assignmentsCsv: true, assignmentsParquet: true, reportMd: true };

describe('standardisedDifference with no spread in either group', () => {
  it('flags different means as a perfect separation, signed like segment − rest', () => {
    // Segment: 5, 5, 5; rest: 2, 2, 2, 2. Pooled sd 0, means 5 and 2.
    const up = standardisedDifference([5, 2, 5, 2, 5, 2, 2], [true, false, true, false, true, false, false]);
    expect(up).toEqual({ segmentMean: 5, restMean: 2, standardisedDifference: PERFECT_SEPARATION, perfect: true });
    const down = standardisedDifference([2, 5, 5, 5], [true, false, false, false]);
    expect(down).toEqual({ segmentMean: 2, restMean: 5, standardisedDifference: -PERFECT_SEPARATION, perfect: true });
    expect(Number.isFinite(up.standardisedDifference)).toBe(true);
  });

  it('keeps 0 (not perfect) when neither group varies and the means agree, rounding included', () => {
    // 0.1 three times averages to 0.10000000000000002 and leaves squared deviations of ~1e-35: still "no spread, same mean".
    const d = standardisedDifference([0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1], [true, true, true, false, false, false, false]);
    expect(d.standardisedDifference).toBe(0);
    expect(d.perfect).toBeUndefined();
  });

  it('sees a perfect separation through rounding of the means (0.1 three times against 0.3)', () => {
    const d = standardisedDifference([0.1, 0.1, 0.1, 0.3, 0.3], [true, true, true, false, false]);
    expect(d.perfect).toBe(true);
    expect(d.standardisedDifference).toBe(-PERFECT_SEPARATION);
  });

  it('leaves an ordinary spread alone: (1,2,3) against (4,5,6,7) is Cohen d −3.5/√1.4', () => {
    const d = standardisedDifference([1, 4, 2, 5, 3, 6, 7], [true, false, true, false, true, false, false]);
    // Segment mean 2, rest mean 5.5; pooled variance (2 + 5) / 5 = 1.4.
    expect(d.standardisedDifference).toBeCloseTo(-3.5 / Math.sqrt(1.4), 12);
    expect(d.perfect).toBeUndefined();
  });

  it('agrees with the one-pass segmentDifferences on a feature constant within each of three segments', () => {
    // Column 0 is 0.3 in segment 0 and 0.1 in segments 1 and 2: the rest of segment 0 is pooled from two
    // segments (with rounding in their means), and is constant. Column 1 varies.
    const rows = [
      [0.3, 0.5],
      [0.3, 0.7],
      [0.1, 0.1],
      [0.1, 0.4],
      [0.1, 0.2],
      [0.1, 0.9],
    ];
    const labels = Int32Array.from([0, 0, 1, 1, 1, 2]);
    const fast = segmentDifferences(fromRows(rows), labels, 3);
    const ref = [0, 1, 2].map((s) => standardisedDifference(rows.map((r) => r[0]!), Array.from(labels, (l) => l === s)));
    expect(fast[0]![0]).toEqual({ segmentMean: 0.3, restMean: ref[0]!.restMean, standardisedDifference: PERFECT_SEPARATION, perfect: true });
    expect(ref[0]!.perfect).toBe(true);
    // Segments 1 and 2 have 0.3 and 0.1 in their rest: a spread, so an ordinary (finite, negative) d.
    for (const s of [1, 2]) {
      expect(fast[s]![0]!.perfect).toBeUndefined();
      expect(fast[s]![0]!.standardisedDifference).toBeCloseTo(ref[s]!.standardisedDifference, 9);
      expect(fast[s]![0]!.standardisedDifference).toBeLessThan(0);
    }
    for (let s = 0; s < 3; s++) expect(fast[s]![1]!.perfect).toBeUndefined();
  });
});

/** Two segments of four: `txn_recency_days` is 200 in segment 0 and 10 in segment 1 without spread; the mobile share differs strongly but overlaps a little. */
function perfectModel(): { segments: SegmentsState; manifest: ReturnType<typeof twoSegments>['manifest'] } {
  const labels = Int32Array.from([0, 0, 0, 0, 1, 1, 1, 1]);
  const featureNames = ['device_mobile_share', 'txn_recency_days'];
  const raw = fromRows([
    [0.9, 200],
    [0.8, 200],
    [0.95, 200],
    [0.3, 200],
    [0.1, 10],
    [0.2, 10],
    [0.05, 10],
    [0.35, 10],
  ]);
  const lens = (v: string) => Array.from({ length: 8 }, () => v);
  const lenses = { size: lens('small'), industry: lens('retail'), lifecycle: lens('mature'), technology: lens('high'), buyerRole: lens('owner') } as CustomerLenses;
  const mapped = mapSegments({ labels, k: 2, lenses, features: raw, featureNames, customerIds: ['17850', 'a', 'b', 'c', 'd', 'e', 'f', 'g'] });
  const segments: SegmentsState = { kind: 'finseg.segments', version: 1, cards: mapped.cards, cramersV: mapped.cramersV };
  const { manifest } = twoSegments(false);
  (manifest as unknown as { features: { names: string[] } }).features.names = featureNames;
  return { segments, manifest };
}

describe('a perfectly separating feature on the segment cards and in the report', () => {
  const { segments, manifest } = perfectModel();

  it('ranks it first, ahead of a large finite difference', () => {
    for (const card of segments.cards) {
      expect(card.distinguishing.map((d) => d.feature)).toEqual(['txn_recency_days', 'device_mobile_share']);
      expect(card.distinguishing[0]!.perfect).toBe(true);
      expect(card.distinguishing[1]!.perfect).toBeUndefined();
    }
    expect(segments.cards[0]!.distinguishing[0]).toMatchObject({ segmentMean: 200, restMean: 10, standardisedDifference: PERFECT_SEPARATION });
  });

  it('shows "separates perfectly (segment x vs rest y)" in the HTML, in English and Chinese, never 0.00', () => {
    const model = reportModel(manifest, segments);
    const en = reportHtml(model, texts('en'), [], ALL);
    expect(en).toContain('separates perfectly (segment 200 vs rest 10.0)');
    expect(en).toContain('separates perfectly (segment 10.0 vs rest 200)');
    expect(en).toContain('<span class="feat-d up">perfect</span>');
    expect(en).not.toMatch(/feat-d[^>]*>[+−]?0\.00</);
    const zh = reportHtml(model, texts('zh'), [], ALL);
    expect(zh).toContain('完全区分（本群 200，其他 10.0）');
  });

  it('shows it in the Markdown in both languages', () => {
    const en = reportMarkdown(manifest, segments);
    expect(en).toContain('| Days since last transaction `txn_recency_days` | 200.000 | 10.000 | separates perfectly (segment 200.000 vs rest 10.000) |');
    const zh = reportMarkdown(manifest, segments, {}, 'zh');
    expect(zh).toContain('完全区分（本群 200.000，其他 10.000）');
  });

  it('keeps segments.json finite and valid, with perfect: true, and writes perfect± in segments.csv', () => {
    const text = JSON.stringify(segmentsExport(manifest, segments));
    expect(text).not.toMatch(/Infinity|NaN/);
    const back = JSON.parse(text) as { segments: { distinguishing: { feature: string; perfect?: boolean; standardisedDifference: number }[] }[] };
    expect(back.segments[0]!.distinguishing[0]).toMatchObject({ feature: 'txn_recency_days', perfect: true, standardisedDifference: PERFECT_SEPARATION });
    expect(back.segments[1]!.distinguishing[0]!.standardisedDifference).toBe(-PERFECT_SEPARATION);
    const csv = segmentsCsv(reportModel(manifest, segments).segments);
    expect(csv).toContain('txn_recency_days:perfect+;device_mobile_share:');
    expect(csv).toContain('txn_recency_days:perfect-;device_mobile_share:');
  });
});
