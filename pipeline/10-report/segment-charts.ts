import { INK, MUTED, SEGMENT_PALETTE, segmentScale, withConfig, type ChartSpec, type SegmentKey } from './charts.ts';
import type { Texts } from './i18n.ts';

/** The charts of what the segments are: sizes, the PCA projection, feature profiles, lens composition, module use and feedback. */

/** Horizontal bars of segment sizes with count and share at the bar end. */
export function segmentSizesSpec(segments: readonly (SegmentKey & { size: number; share: number })[], t: Texts): ChartSpec {
  const values = segments.map((s) => ({ segment: s.label, size: s.size, text: `${t.fmt.integer(s.size)} · ${t.fmt.percent(s.share)}` }));
  const max = Math.max(1, ...segments.map((s) => s.size));
  const y = { field: 'segment', type: 'nominal', sort: segments.map((s) => s.label), title: null, axis: { labelLimit: 330, labelFontSize: 11.5, ticks: false, domain: false, labelPadding: 6 } };
  return {
    id: 'sizes',
    title: t.ui('sizesChart'),
    wide: false,
    spec: withConfig(
      {
        width: 200,
        height: { step: 32 },
        data: { values },
        encoding: { y },
        layer: [
          {
            mark: { type: 'bar', cornerRadiusEnd: 3, height: { band: 0.72 } },
            encoding: {
              x: { field: 'size', type: 'quantitative', title: t.ui('customers'), scale: { domain: [0, max * 1.45] }, axis: { format: ',d', grid: true, tickCount: 4 } },
              color: { field: 'segment', type: 'nominal', scale: segmentScale(segments), legend: null },
            },
          },
          { mark: { type: 'text', align: 'left', dx: 5, fontSize: 11, color: MUTED }, encoding: { x: { field: 'size', type: 'quantitative' }, text: { field: 'text' } } },
        ],
      },
      t.ui('sizesChart'),
    ),
  };
}

/** Scatter of a seeded sample on PC1 × PC2, coloured by segment, with the centres marked and labelled. */
export function projectionSpec(
  segments: readonly SegmentKey[],
  points: { segment: number[]; x: number[]; y: number[]; centroids: [number, number][]; explainedVariance: [number, number] },
  t: Texts,
): ChartSpec {
  // Stored points and centres carry the segment's position, which indexes `segments` (ids may differ after a retrain).
  const values = points.segment.map((s, i) => ({ segment: segments[s]?.label ?? String(s), x: points.x[i], y: points.y[i] }));
  const centres = points.centroids.map(([x, y], s) => ({ segment: segments[s]?.label ?? String(s), tag: `#${segments[s]?.id ?? s}`, x, y }));
  const axisTitle = (pc: number) => `PC${pc + 1} (${t.fmt.percent(points.explainedVariance[pc], 1)})`;
  const color = { field: 'segment', type: 'nominal', scale: segmentScale(segments), legend: null };
  return {
    id: 'projection',
    title: t.ui('projectionChart'),
    caption: t.ui('projectionCaption', { n: t.fmt.integer(values.length) }),
    wide: false,
    spec: withConfig(
      {
        width: 420,
        height: 330,
        layer: [
          {
            data: { values },
            mark: { type: 'circle', size: 16, opacity: 0.55 },
            encoding: {
              x: { field: 'x', type: 'quantitative', title: axisTitle(0), scale: { zero: false, nice: true }, axis: { tickCount: 6 } },
              y: { field: 'y', type: 'quantitative', title: axisTitle(1), scale: { zero: false, nice: true }, axis: { tickCount: 6 } },
              color,
            },
          },
          {
            data: { values: centres },
            mark: { type: 'point', shape: 'cross', size: 170, filled: true, stroke: 'white', strokeWidth: 1 },
            encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'y', type: 'quantitative' }, color },
          },
          {
            data: { values: centres },
            mark: { type: 'text', dx: 9, dy: -9, fontSize: 11, fontWeight: 700, stroke: 'white', strokeWidth: 3, strokeOpacity: 0.9 },
            encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'y', type: 'quantitative' }, text: { field: 'tag' } },
          },
          {
            data: { values: centres },
            mark: { type: 'text', dx: 9, dy: -9, fontSize: 11, fontWeight: 700, color: INK },
            encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'y', type: 'quantitative' }, text: { field: 'tag' } },
          },
        ],
      },
      t.ui('projectionChart'),
    ),
  };
}

/** Heatmap of standardised feature means: segments down, features across, diverging around the base average. */
export function profileHeatmapSpec(segments: readonly SegmentKey[], featureLabels: readonly string[], means: readonly (readonly number[])[], t: Texts): ChartSpec {
  const values = segments.flatMap((s, r) =>
    featureLabels.map((f, j) => {
      const v = means[r]?.[j] ?? 0;
      return { segment: s.label, feature: f, value: v, shown: Math.max(-2, Math.min(2, v)) };
    }),
  );
  return {
    id: 'profile',
    title: t.ui('heatmapChart'),
    wide: true,
    spec: withConfig(
      {
        data: { values },
        width: { step: 19 },
        height: { step: 22 },
        mark: { type: 'rect', stroke: 'white', strokeWidth: 1 },
        encoding: {
          x: { field: 'feature', type: 'nominal', sort: [...featureLabels], title: null, axis: { labelAngle: -55, labelLimit: 150, ticks: false, domain: false, labelFontSize: 10.5 } },
          y: { field: 'segment', type: 'nominal', sort: segments.map((s) => s.label), title: null, axis: { labelLimit: 380, ticks: false, domain: false } },
          color: {
            field: 'shown',
            type: 'quantitative',
            // Clipped at ±2 sd so one extreme segment does not wash out every other contrast.
            scale: { scheme: 'redblue', reverse: true, domain: [-2, 2], domainMid: 0 },
            legend: { title: t.ui('stdDiff'), orient: 'right', gradientLength: 140, format: '+.1f' },
          },
        },
      },
      t.ui('heatmapChart'),
    ),
  };
}

/** One colour ramp per lens so neighbouring panels do not look like the same variable. */
const LENS_SCHEMES: Record<string, string[]> = {
  size: ['#c6dbef', '#6baed6', '#2171b5', '#08306b'],
  lifecycle: ['#a1d99b', '#31a354', '#fdae6b', '#d94801'],
  technology: ['#fcbba1', '#fb6a4a', '#a50f15'],
  industry: ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#b07aa1', '#9c755f'],
  buyerRole: ['#8dd3c7', '#bebada', '#fb8072', '#80b1d3', '#fdb462'],
};
const UNKNOWN_GREY = '#d1d5db';

/** Composition of every lens inside every segment: one 100% stacked bar panel per lens, the segments sharing one axis. */
export function lensCompositionSpec(
  segments: readonly SegmentKey[],
  lenses: readonly { lens: string; labels: readonly string[]; shares: readonly (Record<string, number> | undefined)[] }[],
  t: Texts,
): ChartSpec {
  const panels = lenses.map((l, i) => {
    const labelText = l.labels.map((label) => t.lensLabel(l.lens, label));
    const ramp = LENS_SCHEMES[l.lens] ?? SEGMENT_PALETTE;
    const range = l.labels.map((label, j) => (label === 'unknown' ? UNKNOWN_GREY : ramp[j % ramp.length]!));
    const values = segments.flatMap((s, r) =>
      l.labels.map((label, j) => ({ segment: s.label, label: labelText[j], order: j, share: l.shares[r]?.[label] ?? 0 })),
    );
    return {
      title: t.lensName(l.lens),
      width: 128,
      height: { step: 20 },
      data: { values },
      mark: { type: 'bar', height: { band: 0.78 } },
      encoding: {
        y: {
          field: 'segment',
          type: 'nominal',
          sort: segments.map((s) => s.label),
          title: null,
          // Only the first panel names the segments; the others line up with it.
          axis: i === 0 ? { labelLimit: 330, ticks: false, domain: false } : null,
        },
        x: { field: 'share', type: 'quantitative', stack: 'normalize', title: null, axis: { format: '.0%', tickCount: 2, grid: false } },
        color: {
          field: 'label',
          type: 'nominal',
          scale: { domain: labelText, range },
          legend: { title: null, orient: 'bottom', direction: 'vertical', labelLimit: 130, symbolType: 'square' },
        },
        order: { field: 'order', type: 'quantitative' },
      },
    };
  });
  return {
    id: 'lenses',
    title: t.ui('lensesSection'),
    wide: true,
    spec: withConfig({ hconcat: panels, spacing: 14, resolve: { scale: { color: 'independent' } } }, t.ui('lensesSection')),
  };
}

/** A segments × modules heatmap with the value printed in each cell; null cells stay blank. */
export function moduleHeatmapSpec(
  id: string,
  title: string,
  caption: string | undefined,
  segments: readonly SegmentKey[],
  moduleLabels: readonly string[],
  values: readonly (readonly (number | null)[])[],
  scheme: 'blues' | 'orangered',
  t: Texts,
): ChartSpec {
  const max = Math.max(0.05, ...values.flat().filter((v): v is number => v !== null));
  const rows = segments.flatMap((s, r) =>
    moduleLabels.map((m, j) => {
      const v = values[r]?.[j] ?? null;
      return { segment: s.label, module: m, value: v, text: v === null ? '' : t.fmt.percent(v, 0), dark: v !== null && v > max * 0.6 };
    }),
  );
  const domain = scheme === 'blues' ? [0, 1] : [0, max];
  return {
    id,
    title,
    caption,
    wide: true,
    spec: withConfig(
      {
        data: { values: rows },
        width: { step: 50 },
        height: { step: 24 },
        encoding: {
          x: { field: 'module', type: 'nominal', sort: [...moduleLabels], title: null, axis: { orient: 'top', labelAngle: -35, labelLimit: 140, ticks: false, domain: false } },
          y: { field: 'segment', type: 'nominal', sort: segments.map((s) => s.label), title: null, axis: { labelLimit: 290, ticks: false, domain: false } },
        },
        layer: [
          {
            mark: { type: 'rect', stroke: 'white', strokeWidth: 1.5 },
            encoding: { color: { field: 'value', type: 'quantitative', scale: { scheme, domain }, legend: { title: null, format: '.0%', gradientLength: 120 } } },
          },
          {
            mark: { type: 'text', fontSize: 10.5 },
            encoding: {
              text: { field: 'text' },
              color: { condition: { test: 'datum.dark', value: 'white' }, value: INK },
            },
          },
        ],
      },
      title,
    ),
  };
}

/** NPS per segment (diverging around 0) beside support tickets per customer. */
export function feedbackSpec(segments: readonly SegmentKey[], nps: readonly (number | null)[], tickets: readonly number[], t: Texts): ChartSpec {
  const values = segments.map((s, r) => ({ segment: s.label, nps: nps[r], tickets: tickets[r] ?? 0, sign: (nps[r] ?? 0) >= 0 ? 'pos' : 'neg' }));
  const y = { field: 'segment', type: 'nominal', sort: segments.map((s) => s.label), title: null };
  return {
    id: 'feedback',
    title: t.ui('npsChart'),
    wide: true,
    spec: withConfig(
      {
        data: { values },
        hconcat: [
          {
            width: 260,
            height: { step: 22 },
            transform: [{ filter: 'datum.nps !== null' }],
            mark: { type: 'bar', height: { band: 0.7 } },
            encoding: {
              y: { ...y, axis: { labelLimit: 290, ticks: false, domain: false } },
              x: { field: 'nps', type: 'quantitative', title: t.ui('nps'), scale: { domain: [-100, 100] } },
              color: { field: 'sign', type: 'nominal', scale: { domain: ['pos', 'neg'], range: ['#59a14f', '#e15759'] }, legend: null },
            },
          },
          {
            width: 200,
            height: { step: 22 },
            mark: { type: 'bar', height: { band: 0.7 }, color: '#9c755f' },
            encoding: { y: { ...y, axis: null }, x: { field: 'tickets', type: 'quantitative', title: t.ui('tickets') } },
          },
        ],
      },
      t.ui('npsChart'),
    ),
  };
}

